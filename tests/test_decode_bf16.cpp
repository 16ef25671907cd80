// Decode-step products with bf16 activations against the decoder's panels (XType::BF16, at most
// 16 rows): on AVX512-BF16 CPUs the vdpbf16ps kernel gives the portable twin's results bit for
// bit; both give x-rounded-to-bf16 times B up to f32 rounding; elsewhere the product runs as
// f32. Every row count, a column tail, odd and even K, a bias and accumulation.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/half.h"
#include "docling/docling.hpp"
#include "kernels/kernels.h"

using namespace docling::kernels;

namespace {

struct Case {
  int M, N, K;
  std::vector<float> x, bias, y0;
  std::vector<uint16_t> w, panels;
  BLayout layout = BLayout::Panel;
};

Case make_case(int M, int N, int K, unsigned seed, BLayout layout = BLayout::Panel) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Case c{M, N, K, std::vector<float>(size_t(M) * K), std::vector<float>(size_t(N)), std::vector<float>(size_t(M) * N), {}, {}};
  for (float& v : c.x) v = u(rng) * 3.0f;
  for (float& v : c.bias) v = u(rng);
  for (float& v : c.y0) v = u(rng);
  c.w.resize(size_t(N) * K);
  for (uint16_t& v : c.w) v = docling::f32_to_bf16(u(rng));
  c.layout = layout;
  c.panels.resize(size_t(panel_elems(N, K, layout)));
  to_panels(c.w.data(), N, K, K, c.panels.data(), layout);
  return c;
}

Gemm panel_gemm(const Case& c, std::vector<float>& y, bool bias, bool accumulate) {
  y = c.y0;
  Gemm g;
  g.M = c.M; g.N = c.N; g.K = c.K; g.x = c.x.data(); g.ldx = c.K;
  g.b = c.panels.data(); g.btype = BType::BF16; g.layout = c.layout; g.ldb = c.K;
  g.y = y.data(); g.ldy = c.N; g.bias = bias ? c.bias.data() : nullptr; g.accumulate = accumulate;
  g.xtype = XType::BF16;
  return g;
}

}  // namespace

TEST(DecodeBf16, NativeMatchesPortableAndTheRoundedProduct) {
  const bool native = has_avx512_bf16();
  for (BLayout layout : {BLayout::Panel, BLayout::PanelPairs})
  for (int K : {64, 301})
    for (int M = 1; M <= 16; ++M) {
      const Case c = make_case(M, 100, K, unsigned(M * 1000 + K), layout);
      const bool bias = M % 2 == 1, acc = M % 3 == 0;
      std::vector<float> got, twin, ref;
      gemm(panel_gemm(c, got, bias, acc));
      gemm_bf16_emulated(panel_gemm(c, twin, bias, acc), true);
      if (native) {
        ASSERT_EQ(got, twin) << "M=" << M << " K=" << K << (layout == BLayout::PanelPairs ? " pairs" : "");
      }
      // The product of x rounded to bf16, in double.
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < c.N; ++n) {
          double s = 0;
          for (int k = 0; k < K; ++k)
            s += double(docling::bf16_to_f32(docling::f32_to_bf16(c.x[size_t(m) * K + k]))) *
                 docling::bf16_to_f32(c.w[size_t(n) * K + k]);
          if (bias) s += c.bias[size_t(n)];
          if (acc) s += c.y0[size_t(m) * c.N + n];
          ASSERT_NEAR(twin[size_t(m) * c.N + n], s, 1e-4 * (1.0 + std::abs(s))) << "M=" << M << " n=" << n;
          if (!native) {  // runs as f32: x not rounded
            double f = 0;
            for (int k = 0; k < K; ++k) f += double(c.x[size_t(m) * K + k]) * docling::bf16_to_f32(c.w[size_t(n) * K + k]);
            if (bias) f += c.bias[size_t(n)];
            if (acc) f += c.y0[size_t(m) * c.N + n];
            ASSERT_NEAR(got[size_t(m) * c.N + n], f, 1e-4 * (1.0 + std::abs(f)));
          }
        }
    }
}

// The engine option reaches the decoder: the load is logged with the decode precision, and a
// page converts (the tiny model's text is nonsense either way).
TEST(DecodeBf16, EngineOption) {
  docling::EngineOptions o = docling::engine_defaults();
  o.model_dir = DOCLING_TEST_DATA "/oracle/tiny-idefics3";
  o.threads = 2;
  o.decode_precision = docling::DecodePrecision::Bf16;
  std::string loaded;
  o.log = [&](docling::LogLevel, const std::string& m) {
    if (m.rfind("model loaded", 0) == 0) loaded = m;
  };
  docling::Engine e(o);
  EXPECT_NE(loaded.find(has_avx512_bf16() ? "decode precision bf16)" : "decode precision bf16 (no AVX512-BF16"),
            std::string::npos) << loaded;
  EXPECT_EQ(e.options().decode_precision, docling::DecodePrecision::Bf16);
  docling::ConvertOptions c = docling::convert_defaults();
  c.pipeline = docling::Pipeline::Vlm;
  c.max_new_tokens = 8;
  c.pages = "1";
  const docling::ConvertResult r = e.convert(DOCLING_TEST_DATA "/pdfs/multi_page.pdf", c);
  EXPECT_NE(r.status, docling::Status::Failure);
  EXPECT_GT(r.generated_tokens, 0);
}

// Rounding x really happens on the native path: a value that bf16 cannot hold changes the sum.
TEST(DecodeBf16, ActivationsAreRounded) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 at the active level";
  Case c = make_case(1, 16, 2, 7);
  c.x = {1.0f + 1.0f / 1024, 0.0f};  // bf16 keeps 8 bits: 1 + 2^-10 rounds to 1
  std::fill(c.w.begin(), c.w.end(), docling::f32_to_bf16(1.0f));
  to_panels(c.w.data(), c.N, c.K, c.K, c.panels.data());
  std::vector<float> y;
  gemm(panel_gemm(c, y, false, false));
  for (float v : y) EXPECT_EQ(v, 1.0f);
  Gemm f32 = panel_gemm(c, y, false, false);
  f32.xtype = XType::F32;
  gemm(f32);
  for (float v : y) EXPECT_EQ(v, 1.0f + 1.0f / 1024);
}
