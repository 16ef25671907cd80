// The per-call activation precisions of the vision products (kernels::XType): the int8
// product at every kernel level against the portable level (bit for bit) and against a
// double-precision reference of the same quantized values; the quantizer's rule; the BF16
// per-call path against its portable emulation, and its F32 fallback below AVX-512.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/kernels.h"
#include "vision/quant.h"

using namespace docling::kernels;

namespace {

struct IsaGuard {  // the settings (level included) as they were
  KernelSettings saved = current_settings();
  ~IsaGuard() { configure(saved); }
};

void set_avx_vnni(bool on) {
  KernelSettings s = current_settings();
  s.avx_vnni = on;
  configure(s);
}

std::vector<Isa> levels() {
  std::vector<Isa> v;
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (i <= detected_isa()) v.push_back(i);
  return v;
}

// A product of x [M, K] with int8 weights [N, K] (one scale per row), from random data.
struct Case {
  int M, N, K;
  bool bias, accumulate;
  std::vector<float> x, b, y0, scale;
  std::vector<int8_t> w;
  explicit Case(int m, int n, int k, bool with_bias, bool acc, uint32_t seed)
      : M(m), N(n), K(k), bias(with_bias), accumulate(acc) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    x.resize(size_t(M) * K);
    for (float& v : x) v = nd(rng);
    for (int r = 0; r < M; r += 7) x[size_t(r) * K] = 0;  // a few exact zeros
    if (M > 3) std::fill(x.begin() + 3 * K, x.begin() + 4 * K, 0.0f);  // a row of zeros: xs = 0
    std::vector<uint16_t> wb(size_t(N) * K);
    for (auto& v : wb) v = docling::f32_to_bf16(nd(rng) * 0.05f);
    w.resize(wb.size());
    scale.resize(size_t(N));
    docling::vision::quantize_rows_int8(wb.data(), N, K, 0, w.data(), scale.data());
    b.resize(size_t(N));
    for (float& v : b) v = nd(rng);
    y0.resize(size_t(M) * N);
    for (float& v : y0) v = nd(rng);
  }
  Gemm gemm(std::vector<float>& y) const {
    y = y0;
    Gemm g;
    g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = K; g.b = w.data(); g.btype = BType::I8;
    g.layout = BLayout::NK; g.ldb = K; g.bscale = scale.data(); g.group = 0;
    g.bias = bias ? b.data() : nullptr; g.y = y.data(); g.ldy = N; g.accumulate = accumulate;
    g.xtype = XType::I8;
    return g;
  }
  std::vector<float> run(bool parallel = true) const {
    std::vector<float> y;
    const Gemm g = gemm(y);
    docling::kernels::gemm(g, parallel);
    return y;
  }
};

const Case kCases[] = {
    Case(37, 70, 1030, true, false, 1),   // edges everywhere: rows, columns, K % 4, two k blocks
    Case(64, 64, 512, false, true, 2),    // exactly one block, accumulate
    Case(1, 33, 9, true, true, 3),        // one row (the decode-sized case)
    Case(150, 96, 768, true, false, 4),   // vision-like: K of the patch embedding
};

TEST(Int8Vision, QuantizerRule) {
  std::vector<float> x = {0.5f, -2.0f, 1.0f, 0.0f, 1.9921875f, -0.0078125f};
  std::vector<int8_t> q(x.size());
  const float xs = quantize_row_i8(x.data(), int(x.size()), q.data());
  EXPECT_FLOAT_EQ(xs, 2.0f / 127.0f);
  EXPECT_EQ(q[1], -127);                                  // the largest magnitude maps to 127
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::abs(int(q[i])), 127);
    EXPECT_LE(std::fabs(q[i] * xs - x[i]), xs / 2 + 1e-7f) << i;  // round to nearest
  }
  std::vector<float> zeros(5, 0.0f);
  EXPECT_EQ(quantize_row_i8(zeros.data(), 5, q.data()), 0.0f);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q[size_t(i)], 0);
}

// Every level gives the portable level's floats exactly (integer sums, the same float ops).
TEST(Int8Vision, EveryLevelMatchesScalarBitForBit) {
  IsaGuard guard;
  for (const Case& c : kCases) {
    set_isa(Isa::Scalar);
    const std::vector<float> want = c.run();
    for (Isa level : levels())
      for (bool avx_vnni : {true, false}) {  // AVX-VNNI's kernel where the CPU has it, and vpmaddubsw
        set_avx_vnni(avx_vnni);
        set_isa(level);
        for (bool parallel : {true, false}) {
          const std::vector<float> got = c.run(parallel);
          int diff = 0;
          for (size_t i = 0; i < want.size(); ++i) diff += !(got[i] == want[i]);
          EXPECT_EQ(diff, 0) << isa_name(level) << " M=" << c.M << " N=" << c.N << " K=" << c.K
                             << (parallel ? "" : " serial") << (i8_uses_vnni() ? " (vnni)" : "")
                             << (i8_uses_avx_vnni() ? " (avx-vnni)" : "");
        }
      }
  }
}

// Where the CPU has AVX-VNNI, the AVX2 level's int8 products take it unless switched off (the
// test above then covers both kernels).
TEST(Int8Vision, AvxVnniKernelInUseWhereTheCpuHasIt) {
  if (detected_isa() < Isa::Avx2) GTEST_SKIP() << "no AVX2";
  IsaGuard guard;
  __builtin_cpu_init();
  const bool cpu = __builtin_cpu_supports("avxvnni") != 0;
  set_avx_vnni(true);
  set_isa(Isa::Avx2);
  EXPECT_EQ(i8_uses_avx_vnni(), cpu);
  EXPECT_FALSE(i8_uses_vnni());
  set_avx_vnni(false);
  set_isa(Isa::Avx2);
  EXPECT_FALSE(i8_uses_avx_vnni());
}

// The portable level against the math it promises: sum of xq * wq, scaled, in double.
TEST(Int8Vision, ScalarMatchesQuantizedReference) {
  IsaGuard guard;
  set_isa(Isa::Scalar);
  for (const Case& c : kCases) {
    const std::vector<float> got = c.run();
    std::vector<int8_t> xq(size_t(c.K));
    double worst = 0;
    for (int m = 0; m < c.M; ++m) {
      const float xs = quantize_row_i8(c.x.data() + size_t(m) * c.K, c.K, xq.data());
      for (int n = 0; n < c.N; ++n) {
        int64_t s = 0, a = 0;
        for (int k = 0; k < c.K; ++k) {
          const int p = int(xq[size_t(k)]) * int(c.w[size_t(n) * c.K + k]);
          s += p;
          a += std::abs(p);
        }
        double ref = double(s) * xs * c.scale[size_t(n)] + (c.bias ? c.b[size_t(n)] : 0.0);
        if (c.accumulate) ref += c.y0[size_t(m) * c.N + n];
        const double mag = double(a) * xs * c.scale[size_t(n)] + std::fabs(ref) + 1e-30;
        worst = std::max(worst, std::fabs(got[size_t(m) * c.N + n] - ref) / mag);
      }
    }
    EXPECT_LT(worst, 1e-6) << "M=" << c.M << " N=" << c.N << " K=" << c.K;
  }
}

// Against the exact product of the same int8 weights with f32 x: the activations' rounding only.
TEST(Int8Vision, CloseToTheF32Product) {
  const Case& c = kCases[3];
  const std::vector<float> got = c.run();
  std::vector<float> want;
  Gemm g = c.gemm(want);
  g.xtype = XType::F32;
  gemm_reference(g);
  double dot = 0, n1 = 0, n2 = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    dot += double(got[i]) * want[i];
    n1 += double(got[i]) * got[i];
    n2 += double(want[i]) * want[i];
  }
  EXPECT_GT(dot / std::sqrt(n1 * n2), 0.9999);
}

TEST(Int8Vision, RejectsGroupedScalesAndOtherB) {
  const Case& c = kCases[1];
  std::vector<float> y;
  Gemm g = c.gemm(y);
  g.group = 64;  // int8 activations need one scale per output channel
  EXPECT_THROW(gemm(g), std::invalid_argument);
  std::vector<uint16_t> wb(size_t(c.N) * c.K, 0);
  g = c.gemm(y);
  g.b = wb.data();
  g.btype = BType::BF16;
  EXPECT_THROW(gemm(g), std::invalid_argument);
}

// XType::BF16: vdpbf16ps for this call alone where the CPU has it (the same floats as the
// portable emulation of that arithmetic), the F32 path otherwise; the process-wide switch
// stays off throughout.
TEST(Int8Vision, Bf16PerCallPath) {
  IsaGuard guard;
  ASSERT_FALSE(current_settings().bf16_dot);
  const int M = 45, N = 70, K = 300;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(size_t(M) * K), bias(static_cast<size_t>(N));
  std::vector<uint16_t> w(size_t(N) * K);
  for (float& v : x) v = nd(rng);
  for (float& v : bias) v = nd(rng);
  for (auto& v : w) v = docling::f32_to_bf16(nd(rng) * 0.05f);
  auto run = [&](XType xt, bool emulate) {
    std::vector<float> y(size_t(M) * N, 0.0f);
    Gemm g;
    g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = K; g.b = w.data(); g.btype = BType::BF16;
    g.layout = BLayout::NK; g.ldb = K; g.bias = bias.data(); g.y = y.data(); g.ldy = N; g.xtype = xt;
    if (emulate) gemm_bf16_emulated(g, true);
    else gemm(g);
    return y;
  };
  for (Isa level : levels()) {
    set_isa(level);
    set_amx(false);  // vdpbf16ps: the same arithmetic as the emulation, bit for bit
    const std::vector<float> f32 = run(XType::F32, false), bf = run(XType::BF16, false);
    const std::vector<float> want = has_avx512_bf16() ? run(XType::BF16, true) : f32;
    int diff = 0, moved = 0;
    for (size_t i = 0; i < bf.size(); ++i) diff += !(bf[i] == want[i]), moved += !(bf[i] == f32[i]);
    EXPECT_EQ(diff, 0) << isa_name(level);
    if (has_avx512_bf16()) {
      EXPECT_GT(moved, 0) << "x was not rounded to bf16";
    }
    set_amx(true);
    if (!has_amx_bf16()) continue;
    // AMX tiles add in their own order: the same rounded products, sums within f32 rounding.
    const std::vector<float> amx = run(XType::BF16, false);
    float worst = 0;
    moved = 0;
    for (size_t i = 0; i < amx.size(); ++i) worst = std::max(worst, std::fabs(amx[i] - want[i])), moved += !(amx[i] == f32[i]);
    EXPECT_LT(worst, 1e-4f) << isa_name(level);
    EXPECT_GT(moved, 0) << "x was not rounded to bf16 (amx)";
  }
  EXPECT_FALSE(current_settings().bf16_dot);
}

}  // namespace
