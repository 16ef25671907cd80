// self_attention_bf16 (the vision encoder's attention at the bf16 precision): the portable
// kernels against attention in double, and the AVX512-BF16 kernels against the portable ones.
#include <gtest/gtest.h>

#include <cstdio>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "kernels/kernels.h"

using namespace docling::kernels;

namespace {

struct Case {
  int n, heads, hd;
  std::vector<float> q, k, v;
  int64_t ld() const { return int64_t(heads) * hd; }
  Case(int n_, int heads_, int hd_, unsigned seed) : n(n_), heads(heads_), hd(hd_) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto* m : {&q, &k, &v}) {
      m->resize(size_t(n) * size_t(ld()));
      for (float& x : *m) x = nd(rng);
    }
  }
};

std::vector<double> reference(const Case& c, float scale) {
  std::vector<double> out(size_t(c.n) * size_t(c.ld()));
  std::vector<double> s(size_t(c.n));
  for (int h = 0; h < c.heads; ++h)
    for (int i = 0; i < c.n; ++i) {
      double mx = -1e300, sum = 0;
      for (int j = 0; j < c.n; ++j) {
        double d = 0;
        for (int e = 0; e < c.hd; ++e) d += double(c.q[i * c.ld() + h * c.hd + e]) * c.k[j * c.ld() + h * c.hd + e];
        s[size_t(j)] = d * scale;
        mx = std::max(mx, s[size_t(j)]);
      }
      for (int j = 0; j < c.n; ++j) sum += (s[size_t(j)] = std::exp(s[size_t(j)] - mx));
      for (int e = 0; e < c.hd; ++e) {
        double o = 0;
        for (int j = 0; j < c.n; ++j) o += s[size_t(j)] * c.v[j * c.ld() + h * c.hd + e];
        out[size_t(i * c.ld() + h * c.hd + e)] = o / sum;
      }
    }
  return out;
}

using Fn = void (*)(const float*, const float*, const float*, int, int64_t, int, int, float, float*, int64_t, bool);

std::vector<float> run(const Case& c, float scale, Fn f, bool parallel = true) {
  std::vector<float> out(size_t(c.n) * size_t(c.ld()), -7.0f);
  f(c.q.data(), c.k.data(), c.v.data(), c.n, c.ld(), c.heads, c.hd, scale, out.data(), c.ld(), parallel);
  return out;
}

void emulated(const float* q, const float* k, const float* v, int n, int64_t ld, int heads, int hd, float scale,
              float* out, int64_t ldo, bool parallel) {
  self_attention_bf16_emulated(q, k, v, n, ld, heads, hd, scale, out, ldo, parallel);
}

void native(const float* q, const float* k, const float* v, int n, int64_t ld, int heads, int hd, float scale,
            float* out, int64_t ldo, bool parallel) {
  ASSERT_TRUE(self_attention_bf16(q, k, v, n, ld, heads, hd, scale, out, ldo, parallel));
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

}  // namespace

// bf16 rounding of q, k, v and the probabilities: outputs (values ~N(0,1) averaged) within a few
// bf16 steps of the exact result; shapes that are not whole blocks (odd n, n < 16) included.
TEST(AttentionBf16, EmulatedMatchesDoubleWithinBf16Rounding) {
  for (int n : {1, 2, 17, 37, 100, 203}) {
    Case c(n, 3, 64, unsigned(n));
    const float scale = 0.125f;
    std::vector<float> got = run(c, scale, emulated);
    std::vector<double> want = reference(c, scale);
    EXPECT_LT(max_abs_diff(got, want), 0.03) << "n=" << n;
    double mean = 0;
    for (size_t i = 0; i < got.size(); ++i) mean += std::abs(got[i] - want[i]);
    EXPECT_LT(mean / double(got.size()), 0.004) << "n=" << n;
  }
}

// Sharp attention (large scale): the softmax is dominated by one key; still close.
TEST(AttentionBf16, SharpSoftmax) {
  Case c(64, 2, 128, 9);
  std::vector<float> got = run(c, 1.0f, emulated);
  EXPECT_LT(max_abs_diff(got, reference(c, 1.0f)), 0.1);
}

// Both native paths: vdpbf16ps, and AMX tiles where the CPU has them.
TEST(AttentionBf16, NativeMatchesEmulated) {
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 at the active level";
  const bool saved = current_settings().amx;
  for (bool amx : {false, true}) {
    set_amx(amx);
    if (amx && !has_amx_bf16()) break;
    for (int n : {1, 15, 16, 33, 48, 97, 1024}) {
      Case c(n, 2, 64, unsigned(100 + n));
      std::vector<float> a = run(c, 0.125f, native), b = run(c, 0.125f, emulated, false);
      double m = 0;
      for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
      // The same roundings; only the order of f32 sums differs (AMX: the tiles' own order, over
      // 32 products at a time), and both stay as close to the double reference.
      EXPECT_LT(m, amx ? 5e-4 : 1e-4) << "n=" << n << (amx ? " amx" : "");
      const std::vector<double> want = reference(c, 0.125f);
      const double ea = max_abs_diff(a, want), eb = max_abs_diff(b, want);
      EXPECT_LT(ea, eb * 1.25 + 1e-4) << "n=" << n << (amx ? " amx" : "");
      std::printf("%s n=%d: native vs emulated %.3g; against double: native %.3g, emulated %.3g\n",
                  amx ? "amx" : "vdpbf16ps", n, m, ea, eb);
    }
  }
  set_amx(saved);
}

TEST(AttentionBf16, RefusesHeadDimNotMultipleOf64) {
  Case c(8, 1, 32, 1);
  std::vector<float> out(c.q.size());
  EXPECT_THROW(self_attention_bf16_emulated(c.q.data(), c.k.data(), c.v.data(), 8, 32, 1, 32, 1.0f, out.data(), 32),
               std::invalid_argument);
}

TEST(AttentionBf16, AbsentWithoutTheInstructionSet) {
  if (has_avx512_bf16()) GTEST_SKIP() << "this CPU has AVX512-BF16";
  Case c(8, 1, 64, 1);
  std::vector<float> out(c.q.size(), 5.0f);
  EXPECT_FALSE(self_attention_bf16(c.q.data(), c.k.data(), c.v.data(), 8, 64, 1, 64, 1.0f, out.data(), 64));
  EXPECT_EQ(out[0], 5.0f);
}
