// The bf16 x bf16 -> f32 product path (vdpbf16ps) against the double reference.
// Two bounds per element, with S = sum_k |x_k| |B(k, n)|:
//  - against the reference on x rounded to bf16 the way the path rounds it (nearest even),
//    only f32 accumulation error remains: (K + 8) * 2^-24 * S (+ the bias/y term);
//  - against the reference on x itself, rounding adds at most 2^-8 * S (bf16 keeps 8 significant bits).
// The portable driver (same packing and blocking) runs everywhere; the AVX512-BF16 one only
// where the CPU has it (GTEST_SKIP otherwise).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "vision/safetensors.h"

using namespace docling::vision;
using namespace docling::kernels;
using docling::bf16_to_f32;
using docling::f32_to_bf16;
using docling::f16_to_f32;

namespace {

struct Case {
  int M, N, K;
  BLayout layout;
  bool bias, accumulate;
};

std::string describe(const Case& c) {
  return "M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
         (c.layout == BLayout::KN ? " KN" : " NK") + (c.bias ? " bias" : "") + (c.accumulate ? " acc" : "");
}

// Random operands with padded strides, and the two references.
struct Problem {
  Case c;
  int64_t ldx, ldb, ldy;
  std::vector<float> x, xr, bias, y0, ref, ref_rounded, sum_abs;
  std::vector<uint16_t> b;

  Problem(const Case& cs, std::mt19937& rng) : c(cs) {
    ldx = c.K + 3;
    ldb = (c.layout == BLayout::NK ? c.K : c.N) + 5;
    ldy = c.N + 2;
    std::normal_distribution<float> nd(0.0f, 1.0f);
    x.resize(size_t(c.M) * ldx);
    for (auto& v : x) v = nd(rng);
    xr.resize(x.size());
    for (size_t i = 0; i < x.size(); ++i) xr[i] = bf16_to_f32(f32_to_bf16(x[i]));
    b.resize(size_t(c.layout == BLayout::NK ? c.N : c.K) * ldb);
    for (auto& v : b) v = f32_to_bf16(nd(rng));
    bias.resize(size_t(c.N));
    for (auto& v : bias) v = nd(rng);
    y0.resize(size_t(c.M) * ldy);
    for (auto& v : y0) v = nd(rng);
    ref = y0;
    gemm_reference(gemm(x.data(), ref.data()));
    ref_rounded = y0;
    gemm_reference(gemm(xr.data(), ref_rounded.data()));
    sum_abs.assign(size_t(c.M) * c.N, 0.0f);
    for (int m = 0; m < c.M; ++m)
      for (int n = 0; n < c.N; ++n) {
        double s = 0;
        for (int k = 0; k < c.K; ++k) s += std::fabs(double(x[size_t(m * ldx + k)]) * b_at(n, k));
        sum_abs[size_t(m) * c.N + n] = float(s);
      }
  }

  float b_at(int n, int k) const {
    return bf16_to_f32(c.layout == BLayout::NK ? b[size_t(n * ldb + k)] : b[size_t(k * ldb + n)]);
  }

  Gemm gemm(const float* xp, float* y) const {
    Gemm g;
    g.M = c.M; g.N = c.N; g.K = c.K; g.x = xp; g.ldx = ldx; g.b = b.data(); g.btype = BType::BF16;
    g.layout = c.layout; g.ldb = ldb; g.bias = c.bias ? bias.data() : nullptr; g.y = y; g.ldy = ldy;
    g.accumulate = c.accumulate;
    return g;
  }

  // Checks y against both bounds and the untouched padding; returns the largest error
  // relative to S seen against the rounded-x reference.
  double check(const std::vector<float>& y, const std::string& what) const {
    double worst = 0;
    for (int m = 0; m < c.M; ++m) {
      for (int n = 0; n < c.N; ++n) {
        const size_t i = size_t(m * ldy + n);
        const double s = sum_abs[size_t(m) * c.N + n];
        const double other = (c.bias ? std::fabs(bias[size_t(n)]) : 0.0) + (c.accumulate ? std::fabs(y0[i]) : 0.0);
        const double acc_tol = (c.K + 8) * std::ldexp(s + other, -24) + 1e-30;
        const double e1 = std::fabs(double(y[i]) - ref_rounded[i]), e2 = std::fabs(double(y[i]) - ref[i]);
        EXPECT_LE(e1, acc_tol) << what << " m=" << m << " n=" << n;
        EXPECT_LE(e2, std::ldexp(s, -8) + acc_tol) << what << " m=" << m << " n=" << n;
        if (e1 > acc_tol || e2 > std::ldexp(s, -8) + acc_tol) return 1e30;  // one report per case
        worst = std::max(worst, e1 / (s + other + 1e-30));
      }
      for (int64_t j = c.N; j < ldy; ++j) EXPECT_EQ(y[size_t(m * ldy + j)], y0[size_t(m * ldy + j)]) << what;
    }
    return worst;
  }
};

// Shapes: tails in every dimension (MR = 14 rows, 32 columns, k blocks of up to 256 and
// odd K), several row tasks and column panels, one column panel, one row.
std::vector<Case> cases() {
  const int shapes[][3] = {{17, 33, 9},    {30, 64, 256},  {1, 5, 3},      {100, 150, 600},
                           {29, 32, 513},  {113, 300, 77}, {260, 40, 1024}, {14, 257, 2}};
  std::vector<Case> v;
  int i = 0;
  for (auto& s : shapes)
    for (BLayout lay : {BLayout::NK, BLayout::KN}) {
      v.push_back({s[0], s[1], s[2], lay, i % 2 == 0, i % 3 == 0});
      v.push_back({s[0], s[1], s[2], lay, i % 2 != 0, i % 3 != 0});
      ++i;
    }
  return v;
}

struct Bf16Guard {
  Isa isa = active_isa();
  bool on = bf16_dot();
  bool amx = current_settings().amx;
  ~Bf16Guard() {
    set_isa(isa);
    set_bf16_dot(on);
    set_amx(amx);
  }
};

}  // namespace

TEST(KernelsBf16, PortableDriverMatchesReference) {
  std::mt19937 rng(7);
  double worst = 0;
  for (const Case& c : cases()) {
    Problem p(c, rng);
    for (bool par : {true, false}) {
      std::vector<float> y = p.y0;
      gemm_bf16_emulated(p.gemm(p.x.data(), y.data()), par);
      worst = std::max(worst, p.check(y, "portable " + describe(c) + (par ? " parallel" : " serial")));
    }
  }
  std::printf("portable: largest error / sum|x b| against the rounded-x reference: %.3g\n", worst);
}

TEST(KernelsBf16, RejectsOtherTypes) {
  std::vector<float> x(64, 1.0f), b(64, 1.0f), y(64, 0.0f);
  Gemm g;
  g.M = 8; g.N = 8; g.K = 8; g.x = x.data(); g.ldx = 8; g.b = b.data(); g.btype = BType::F32; g.ldb = 8;
  g.y = y.data(); g.ldy = 8;
  EXPECT_FALSE(gemm_avx512_bf16(g, true));
  EXPECT_THROW(gemm_bf16_emulated(g, true), std::invalid_argument);
  EXPECT_EQ(y, std::vector<float>(64, 0.0f));
}

TEST(KernelsBf16, Avx512MatchesReference) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 at the active level";
  Bf16Guard guard;
  set_bf16_dot(true);
  set_amx(false);  // vdpbf16ps itself (AmxMatchesReference takes the tiles)
  ASSERT_TRUE(bf16_dot());
  std::mt19937 rng(7);
  double worst = 0;
  float hw_vs_portable = 0;
  for (const Case& c : cases()) {
    Problem p(c, rng);
    std::vector<float> y1 = p.y0, y2 = p.y0, y3 = p.y0;
    ASSERT_TRUE(gemm_avx512_bf16(p.gemm(p.x.data(), y1.data()), true));
    ASSERT_TRUE(gemm_avx512_bf16(p.gemm(p.x.data(), y2.data()), false));
    worst = std::max(worst, p.check(y1, "avx512 " + describe(c)));
    EXPECT_EQ(y1, y2) << describe(c) << ": serial and parallel differ (same blocking, same order)";
    gemm_bf16_emulated(p.gemm(p.x.data(), y3.data()), false);
    for (size_t i = 0; i < y1.size(); ++i) hw_vs_portable = std::max(hw_vs_portable, std::fabs(y1[i] - y3[i]));
  }
  // Informational: how close the portable arithmetic is to the instruction's.
  std::printf("avx512-bf16: largest error / sum|x b| %.3g; largest |hardware - portable| %.3g\n", worst,
              double(hw_vs_portable));
}

// The AMX tiles: the same bounds; serial and parallel runs equal (same blocks, same order).
// Extra shapes: row blocks of 128 with a tail, a K that is not a multiple of the tiles' 32,
// and B too large for one packed column block (over 32 MB of pairs).
TEST(KernelsBf16, AmxMatchesReference) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 at the active level";
  Bf16Guard guard;
  set_amx(true);
  if (!has_amx_bf16()) GTEST_SKIP() << "no AMX-BF16 (or the OS did not grant the tiles)";
  set_bf16_dot(true);
  std::vector<Case> all = cases();
  all.push_back({300, 70, 100, BLayout::NK, true, true});
  all.push_back({33, 4100, 4100, BLayout::NK, false, true});
  std::mt19937 rng(11);
  double worst = 0;
  float amx_vs_vdp = 0;
  for (const Case& c : all) {
    Problem p(c, rng);
    std::vector<float> y1 = p.y0, y2 = p.y0, y3 = p.y0;
    ASSERT_TRUE(gemm_avx512_bf16(p.gemm(p.x.data(), y1.data()), true));
    ASSERT_TRUE(gemm_avx512_bf16(p.gemm(p.x.data(), y2.data()), false));
    worst = std::max(worst, p.check(y1, "amx " + describe(c)));
    EXPECT_EQ(y1, y2) << describe(c) << ": serial and parallel differ";
    set_amx(false);
    ASSERT_TRUE(gemm_avx512_bf16(p.gemm(p.x.data(), y3.data()), true));
    set_amx(true);
    for (size_t i = 0; i < y1.size(); ++i) amx_vs_vdp = std::max(amx_vs_vdp, std::fabs(y1[i] - y3[i]));
  }
  std::printf("amx-bf16: largest error / sum|x b| %.3g; largest |amx - vdpbf16ps| %.3g\n", worst, double(amx_vs_vdp));
}

// gemm() takes the path for M > 16 when it is on, and not when it is off or below Avx512.
TEST(KernelsBf16, GemmDispatch) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 at the active level";
  Bf16Guard guard;
  std::mt19937 rng(9);
  Problem p({64, 96, 200, BLayout::NK, true, false}, rng);
  std::vector<float> direct = p.y0, on = p.y0, off = p.y0, avx2 = p.y0;
  set_bf16_dot(true);
  ASSERT_TRUE(gemm_avx512_bf16(p.gemm(p.x.data(), direct.data()), true));
  gemm(p.gemm(p.x.data(), on.data()));
  EXPECT_EQ(on, direct);
  set_bf16_dot(false);
  EXPECT_FALSE(gemm_avx512_bf16(p.gemm(p.x.data(), off.data()), true));
  gemm(p.gemm(p.x.data(), off.data()));
  EXPECT_NE(off, direct);  // the f32 path does not round x
  set_bf16_dot(true);
  set_isa(Isa::Avx2);
  EXPECT_FALSE(has_avx512_bf16());
  EXPECT_FALSE(gemm_avx512_bf16(p.gemm(p.x.data(), avx2.data()), true));
}

// F32 x against the decoder's PanelPairs with more than 16 rows (a prompt's prefill) on the
// tiles: x split into three bf16 parts keeps f32 accuracy. Each term is added three times (one
// per part), so the bound is (3K + 8) * 2^-24 * (S + bias/y); the f32 FMA path meets K + 8.
// Values span many binades (the split must hold every bit); serial equals parallel; gemm()
// takes the tiles with the switch on and the FMA kernels with it off.
TEST(KernelsBf16, AmxF32PanelPairsMatchReference) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 at the active level";
  Bf16Guard guard;
  set_bf16_dot(false);
  set_amx(true);
  if (!has_amx_bf16()) GTEST_SKIP() << "no AMX-BF16 (or the OS did not grant the tiles)";
  std::mt19937 rng(23);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> binade(-40, 40);
  const int shapes[][3] = {{17, 33, 37}, {40, 90, 300}, {130, 70, 577}, {300, 100, 64}, {33, 577, 1536}};
  int i = 0;
  for (auto& s : shapes)
    for (int variant = 0; variant < 2; ++variant, ++i) {
      const int M = s[0], N = s[1], K = s[2];
      const bool bias_on = i % 2 == 0, acc = i % 3 == 0;
      const int64_t ldx = K + 3, ldy = N + 2;
      std::vector<float> x(size_t(M) * ldx), bias(static_cast<size_t>(N)), y0(size_t(M) * ldy);
      for (size_t j = 0; j < x.size(); ++j) x[j] = variant ? std::ldexp(nd(rng), binade(rng)) : nd(rng);
      for (float& v : bias) v = nd(rng);
      for (float& v : y0) v = nd(rng);
      std::vector<uint16_t> nk(size_t(N) * K), panels(size_t(panel_elems(N, K, BLayout::PanelPairs)));
      for (uint16_t& v : nk) v = f32_to_bf16(nd(rng));
      to_panels(nk.data(), N, K, K, panels.data(), BLayout::PanelPairs);
      auto product = [&](const void* b, BLayout layout, float* y) {
        Gemm g;
        g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = ldx; g.b = b; g.btype = BType::BF16; g.layout = layout;
        g.ldb = K; g.bias = bias_on ? bias.data() : nullptr; g.accumulate = acc; g.y = y; g.ldy = ldy;
        return g;
      };
      std::vector<float> ref = y0, tiles = y0, serial = y0, fma = y0;
      gemm_reference(product(nk.data(), BLayout::NK, ref.data()));
      gemm(product(panels.data(), BLayout::PanelPairs, tiles.data()));
      gemm(product(panels.data(), BLayout::PanelPairs, serial.data()), false);
      EXPECT_EQ(tiles, serial) << "M=" << M << " N=" << N << " K=" << K;
      set_amx(false);
      gemm(product(panels.data(), BLayout::PanelPairs, fma.data()));
      set_amx(true);
      EXPECT_NE(tiles, fma) << "the switch chooses the kernels (M=" << M << ")";
      for (int m = 0; m < M; ++m) {
        for (int n = 0; n < N; ++n) {
          double sum = (bias_on ? std::fabs(bias[size_t(n)]) : 0.0) + (acc ? std::fabs(y0[size_t(m * ldy + n)]) : 0.0);
          for (int k = 0; k < K; ++k)
            sum += std::fabs(double(x[size_t(m * ldx + k)]) * bf16_to_f32(nk[size_t(n) * K + k]));
          const size_t j = size_t(m * ldy + n);
          ASSERT_LE(std::fabs(double(tiles[j]) - ref[j]), (3.0 * K + 8) * std::ldexp(sum, -24) + 1e-30)
              << "M=" << M << " N=" << N << " K=" << K << " m=" << m << " n=" << n << (variant ? " binades" : "");
          ASSERT_LE(std::fabs(double(fma[j]) - ref[j]), (K + 8.0) * std::ldexp(sum, -24) + 1e-30);
        }
        for (int64_t n = N; n < ldy; ++n) ASSERT_EQ(tiles[size_t(m * ldy + n)], y0[size_t(m * ldy + n)]);
      }
    }
  // One term per output against powers of two: x * 2^e is exact, so the parts must add up to
  // every bit of x (the bound above would not notice a missing low part).
  const int M = 20, N = 40, K = 1;
  std::vector<float> x(static_cast<size_t>(M)), y(static_cast<size_t>(M) * N);
  for (float& v : x) v = std::ldexp(nd(rng), binade(rng));
  std::vector<uint16_t> nk(static_cast<size_t>(N)), panels(static_cast<size_t>(panel_elems(N, K, BLayout::PanelPairs)));
  for (int n = 0; n < N; ++n) nk[size_t(n)] = f32_to_bf16(std::ldexp(n % 2 ? -1.0f : 1.0f, n % 9 - 4));
  to_panels(nk.data(), N, K, K, panels.data(), BLayout::PanelPairs);
  Gemm g;
  g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = K; g.b = panels.data(); g.btype = BType::BF16;
  g.layout = BLayout::PanelPairs; g.ldb = K; g.y = y.data(); g.ldy = N;
  gemm(g);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n)
      ASSERT_EQ(y[size_t(m) * N + n], x[size_t(m)] * bf16_to_f32(nk[size_t(n)])) << "m=" << m << " n=" << n;
}

// Gemm::gelu gives what the product and then gelu_tanh over each row give, bit for bit: fused
// into the AMX tiles' output writes for bf16 activations (where the tiles are granted), a pass
// after the product elsewhere (f32 and bf16 activations, AMX on and off, the AVX2 level, rows
// with padding past N and N off the 32-column panels), in parallel and serially; one GELU
// product in a group as alone; with accumulate it is refused.
TEST(KernelsBf16, GemmWithGeluIsTheProductThenGelu) {
  Bf16Guard guard;
  std::mt19937 rng(23);
  const Case shapes[] = {{64, 96, 200, BLayout::NK, true, false},
                         {150, 70, 100, BLayout::KN, false, false},
                         {3, 50, 64, BLayout::NK, true, false}};
  int runs = 0;
  for (const Case& c : shapes) {
    Problem p(c, rng);
    for (Isa isa : {Isa::Avx2, Isa::Avx512})
      for (bool amx : {false, true})
        for (XType xt : {XType::F32, XType::BF16}) {
          if (isa > detected_isa()) continue;
          set_isa(isa);
          set_amx(amx);
          std::vector<float> want = p.y0, got = p.y0;
          Gemm plain = p.gemm(p.x.data(), want.data());
          plain.xtype = xt;
          gemm(plain);
          for (int m = 0; m < c.M; ++m) gelu_tanh(want.data() + int64_t(m) * p.ldy, c.N);
          Gemm fused = p.gemm(p.x.data(), got.data());
          fused.xtype = xt;
          fused.gelu = true;
          gemm(fused);
          ASSERT_EQ(got, want) << describe(c) << " " << isa_name(isa) << (amx ? " amx" : "")
                               << (xt == XType::BF16 ? " bf16" : " f32");
          std::vector<float> serial = p.y0;
          fused.y = serial.data();
          gemm(fused, /*parallel=*/false);
          ASSERT_EQ(serial, want) << describe(c) << " serial";
          ++runs;
        }
  }
  EXPECT_EQ(runs, 12 * (int(detected_isa() >= Isa::Avx2) + int(detected_isa() >= Isa::Avx512)));
  set_isa(detected_isa());
  set_amx(true);
  Problem p({5, 40, 32, BLayout::NK, true, false}, rng);
  std::vector<float> alone = p.y0, grouped = p.y0, other = p.y0;
  Gemm a = p.gemm(p.x.data(), alone.data());
  a.gelu = true;
  gemm(a);
  Gemm g[2] = {p.gemm(p.x.data(), grouped.data()), p.gemm(p.x.data(), other.data())};
  g[0].gelu = true;
  gemm_group(g, 2);
  EXPECT_EQ(grouped, alone);
  a.accumulate = true;
  EXPECT_THROW(gemm(a), std::invalid_argument);
}
