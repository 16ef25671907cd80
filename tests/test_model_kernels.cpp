// Kernels against plain reference loops, at every instruction-set level this CPU has.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "vision/generate.h"
#include "kernels/kernels.h"
#include "vision/safetensors.h"

using namespace docling::vision;
using namespace docling::kernels;
using docling::bf16_to_f32;
using docling::f32_to_bf16;
using docling::f16_to_f32;
using docling::f32_to_f16;

namespace {

std::vector<Isa> levels() {
  std::vector<Isa> v;
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (i <= detected_isa()) v.push_back(i);
  return v;
}

struct IsaGuard {
  Isa saved = active_isa();
  ~IsaGuard() { set_isa(saved); }
};

std::vector<float> randn(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST(Kernels, GemmMatchesReferenceAllShapes) {
  IsaGuard guard;
  std::mt19937 rng(1);
  // Shapes cover the small-M path, row/column tails, several K blocks and odd strides.
  const int shapes[][3] = {{1, 1, 1},    {1, 37, 19},  {3, 100, 64}, {4, 64, 300}, {5, 17, 9},
                           {7, 33, 257}, {97, 129, 65}, {100, 150, 600}, {13, 16, 512}};
  for (Isa isa : levels()) {
    set_isa(isa);
    for (auto& s : shapes) {
      int M = s[0], N = s[1], K = s[2];
      for (BType bt : {BType::F32, BType::BF16})
        for (BLayout lay : {BLayout::NK, BLayout::KN})
          for (bool acc : {false, true}) {
            int64_t ldx = K + 3, ldb = (lay == BLayout::NK ? K : N) + 5, ldy = N + 2;
            auto x = randn(size_t(M) * ldx, rng);
            auto bf = randn(size_t(lay == BLayout::NK ? N : K) * ldb, rng);
            std::vector<uint16_t> bh(bf.size());
            for (size_t i = 0; i < bf.size(); ++i) bh[i] = f32_to_bf16(bf[i]);
            auto bias = randn(size_t(N), rng);
            auto y0 = randn(size_t(M) * ldy, rng);
            std::vector<float> y1 = y0, y2 = y0;
            Gemm g;
            g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = ldx;
            g.b = bt == BType::F32 ? static_cast<const void*>(bf.data()) : bh.data();
            g.btype = bt; g.layout = lay; g.ldb = ldb;
            g.bias = (N % 2) ? bias.data() : nullptr;
            g.accumulate = acc; g.ldy = ldy;
            g.y = y1.data();
            gemm(g);
            g.y = y2.data();
            gemm_reference(g);
            // f32 accumulation of K products of N(0,1) values: error grows like sqrt(K) ulps
            float tol = 2e-6f * K + 1e-5f;
            ASSERT_LT(max_diff(y1, y2), tol) << isa_name(isa) << " M=" << M << " N=" << N << " K=" << K
                                            << " bf16=" << (bt == BType::BF16) << " KN=" << (lay == BLayout::KN)
                                            << " acc=" << acc;
            // padding columns beyond N must be untouched
            for (int m = 0; m < M; ++m)
              for (int64_t j = N; j < ldy; ++j) ASSERT_EQ(y1[size_t(m * ldy + j)], y0[size_t(m * ldy + j)]);
          }
    }
  }
}

// The panel forms (to_panels, single panels and pairs) hold the same matrix: every product
// path (decode rows 1..16, prefill packing at M > 16, scalar) against the reference on the NK
// original, with N and K that are not multiples of 16 and panels split across tasks.
TEST(Kernels, PanelLayoutMatchesNk) {
  IsaGuard guard;
  std::mt19937 rng(11);
  const int shapes[][3] = {{1, 16, 8},   {1, 100, 37}, {2, 70, 64},   {3, 33, 129}, {5, 40, 70},   {6, 200, 96},
                           {7, 64, 20},  {8, 300, 576}, {9, 50, 65},  {12, 129, 50}, {13, 20, 33}, {16, 48, 31},
                           {40, 90, 300}};
  for (Isa isa : levels())
  for (BLayout layout : {BLayout::Panel, BLayout::PanelPairs}) {
    set_isa(isa);
    const int width = layout == BLayout::PanelPairs ? 2 * kPanel : kPanel;
    for (auto& s : shapes) {
      const int M = s[0], N = s[1], K = s[2];
      auto x = randn(size_t(M) * (K + 3), rng), bf = randn(size_t(N) * K, rng), bias = randn(size_t(N), rng);
      std::vector<uint16_t> nk(bf.size()), panels(size_t(panel_elems(N, K, layout)), 0xffff);
      for (size_t i = 0; i < bf.size(); ++i) nk[i] = f32_to_bf16(bf[i]);
      to_panels(nk.data(), N, K, K, panels.data(), layout);
      // Every element lands where panel_index says, each once; the padding is zero.
      std::vector<int> hits(panels.size());
      for (int n = 0; n < N; ++n)
        for (int k = 0; k < K; ++k) {
          const size_t i = size_t(panel_index(n, k, K, layout));
          ASSERT_EQ(panels[i], nk[size_t(n) * K + k]);
          ASSERT_EQ(++hits[i], 1);
        }
      for (int n = N; n % width; ++n) ASSERT_EQ(panels[size_t(panel_index(n, K - 1, K, layout))], 0);
      for (bool acc : {false, true}) {
        const int64_t ldy = N + 3;
        auto y0 = randn(size_t(M) * ldy, rng);
        std::vector<float> y1 = y0, y2 = y0;
        Gemm g;
        g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = K + 3; g.btype = BType::BF16;
        g.bias = acc ? nullptr : bias.data(); g.accumulate = acc; g.ldy = ldy;
        g.b = nk.data(); g.layout = BLayout::NK; g.ldb = K; g.y = y2.data();
        gemm_reference(g);
        g.b = panels.data(); g.layout = layout; g.ldb = K; g.y = y1.data();
        gemm(g);
        ASSERT_LT(max_diff(y1, y2), 2e-6f * K + 1e-5f)
            << isa_name(isa) << (layout == BLayout::PanelPairs ? " pairs" : "") << " M=" << M << " N=" << N << " K=" << K;
        for (int m = 0; m < M; ++m)
          for (int64_t j = N; j < ldy; ++j) ASSERT_EQ(y1[size_t(m * ldy + j)], y0[size_t(m * ldy + j)]);
      }
    }
  }
  Gemm bad;  // panels hold BF16 only
  bad.M = bad.N = bad.K = 1;
  bad.btype = BType::F32;
  for (BLayout layout : {BLayout::Panel, BLayout::PanelPairs}) {
    bad.layout = layout;
    EXPECT_THROW(gemm(bad), std::invalid_argument);
  }
  // The decoder's weights take pairs where the AVX-512 kernels run.
  for (Isa isa : levels()) {
    set_isa(isa);
    EXPECT_EQ(preferred_panel_layout(), isa == Isa::Avx512 ? BLayout::PanelPairs : BLayout::Panel);
  }
}

TEST(Kernels, PanelProductsAvx512AgreeWithAvx2BitForBit) {
  // Both levels sum each output over k in order with FMA; the AVX-512 kernels (PanelPairs)
  // take a pair of panels per load and every row in one pass (15-16 rows: one half of the
  // pair at a time), which must not change a bit. Every row count, N ending inside a pair or
  // a panel, odd K, bias and accumulation, the serial path (one chunk) and the parallel one.
  if (detected_isa() < Isa::Avx512) GTEST_SKIP() << "no AVX-512";
  IsaGuard guard;
  std::mt19937 rng(21);
  for (int M = 1; M <= 16; ++M)
    for (auto [N, K] : {std::pair{100, 301}, std::pair{48, 64}, std::pair{200, 1}, std::pair{7, 37}}) {
      auto x = randn(size_t(M) * K, rng), bf = randn(size_t(N) * K, rng), bias = randn(size_t(N), rng);
      std::vector<uint16_t> nk(bf.size()), panels(size_t(panel_elems(N, K, BLayout::PanelPairs)));
      for (size_t i = 0; i < bf.size(); ++i) nk[i] = f32_to_bf16(bf[i]);
      to_panels(nk.data(), N, K, K, panels.data(), BLayout::PanelPairs);
      auto y0 = randn(size_t(M) * N, rng);
      for (bool parallel : {false, true})
        for (bool acc : {false, true}) {
          std::vector<float> out[2];
          for (int level = 0; level < 2; ++level) {
            set_isa(level == 0 ? Isa::Avx2 : Isa::Avx512);
            out[level] = y0;
            Gemm g;
            g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = K; g.b = panels.data(); g.btype = BType::BF16;
            g.layout = BLayout::PanelPairs; g.ldb = K; g.y = out[level].data(); g.ldy = N;
            g.bias = acc ? nullptr : bias.data(); g.accumulate = acc;
            gemm(g, parallel);
          }
          ASSERT_EQ(0, std::memcmp(out[0].data(), out[1].data(), out[0].size() * sizeof(float)))
              << "M=" << M << " N=" << N << " K=" << K << (parallel ? " parallel" : " serial") << (acc ? " +=" : "");
        }
    }
}

TEST(Kernels, SerialAndParallelAgree) {
  std::mt19937 rng(2);
  int M = 150, N = 260, K = 70;
  auto x = randn(size_t(M) * K, rng), b = randn(size_t(N) * K, rng);
  std::vector<float> y1(size_t(M) * N), y2(size_t(M) * N);
  Gemm g;
  g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = K; g.b = b.data(); g.btype = BType::F32;
  g.ldb = K; g.ldy = N;
  g.y = y1.data();
  gemm(g, true);
  g.y = y2.data();
  gemm(g, false);
  EXPECT_EQ(y1, y2);  // same blocking, same summation order
}

// The large-M path (M > 16): several row tasks, column groups and k blocks with uneven
// tails, a K x N big enough to be packed in two column blocks, int8 weights, bias and
// accumulate; serial and parallel runs must agree exactly (same blocking, same order).
TEST(Kernels, GemmLargeMBlocking) {
  IsaGuard guard;
  std::mt19937 rng(3);
  const int shapes[][3] = {{530, 290, 333}, {263, 40, 48}, {17, 2050, 2000}, {300, 16, 9}};
  for (Isa isa : levels()) {
    set_isa(isa);
    for (auto& s : shapes) {
      const int M = s[0], N = s[1], K = s[2];
      const bool big = int64_t(N) * K > 4'000'000;
      const int64_t ldx = K + 1, ldb = K + 3, ldy = N + 5;
      auto x = randn(size_t(M) * ldx, rng);
      auto bf = randn(size_t(N) * ldb, rng);
      std::vector<uint16_t> bh(bf.size());
      for (size_t i = 0; i < bf.size(); ++i) bh[i] = f32_to_bf16(bf[i]);
      std::vector<int8_t> bq(bf.size());
      std::uniform_int_distribution<int> qd(-127, 127);
      for (auto& v : bq) v = int8_t(qd(rng));
      const int group = 64, groups = (K + group - 1) / group;
      std::vector<float> sc(size_t(N) * groups);
      for (auto& v : sc) v = 0.5f / 64 + std::uniform_real_distribution<float>(0, 1.0f / 64)(rng);
      auto bias = randn(size_t(N), rng);
      for (BType bt : {BType::F32, BType::BF16, BType::I8}) {
        if (big && bt != BType::BF16) continue;  // the reference is slow; one type is enough
        for (bool acc : {false, true}) {
          if (big && !acc) continue;
          auto y0 = randn(size_t(M) * ldy, rng);
          std::vector<float> y1 = y0, y2 = y0, y3 = y0;
          Gemm g;
          g.M = M; g.N = N; g.K = K; g.x = x.data(); g.ldx = ldx; g.ldb = ldb; g.ldy = ldy;
          g.btype = bt;
          g.b = bt == BType::F32 ? static_cast<const void*>(bf.data())
                : bt == BType::BF16 ? static_cast<const void*>(bh.data()) : static_cast<const void*>(bq.data());
          if (bt == BType::I8) g.bscale = sc.data(), g.group = group;
          g.bias = acc ? bias.data() : nullptr;
          g.accumulate = acc;
          g.y = y1.data();
          gemm(g, true);
          g.y = y2.data();
          gemm(g, false);
          g.y = y3.data();
          gemm_reference(g);
          const std::string what = std::string(isa_name(isa)) + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
                                   " K=" + std::to_string(K) + " type=" + std::to_string(int(bt)) +
                                   " acc=" + std::to_string(acc);
          ASSERT_EQ(y1, y2) << what;
          ASSERT_LT(max_diff(y1, y3), 2e-6f * K + 1e-5f) << what;
          for (int m = 0; m < M; ++m)  // columns past N untouched
            for (int64_t j = N; j < ldy; ++j) ASSERT_EQ(y1[size_t(m * ldy + j)], y0[size_t(m * ldy + j)]) << what;
        }
      }
    }
  }
}

namespace {

// Naive attention for comparison: double accumulation, explicit mask. K and V rows
// [n_kv][ld_kv], head g at column g * head_dim.
struct RefAttention {
  int n_q = 0, n_kv = 0, heads = 0, kv_heads = 0, head_dim = 0;
  const float* q = nullptr;
  int64_t ldq = 0;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t ld_kv = 0;
  float* out = nullptr;
  int64_t ldo = 0;
  float scale = 1.0f;
  bool causal = false;
  int q_pos0 = 0;
};

void naive_attention(const RefAttention& a) {
  int group = a.heads / a.kv_heads;
  for (int h = 0; h < a.heads; ++h)
    for (int i = 0; i < a.n_q; ++i) {
      int g = h / group;
      int vis = a.causal ? std::min(a.n_kv, a.q_pos0 + i + 1) : a.n_kv;
      std::vector<double> s(static_cast<size_t>(vis));
      double mx = -1e300;
      for (int j = 0; j < vis; ++j) {
        double d = 0;
        for (int c = 0; c < a.head_dim; ++c)
          d += double(a.q[i * a.ldq + h * a.head_dim + c]) * a.k[j * a.ld_kv + g * a.head_dim + c];
        s[size_t(j)] = d * a.scale;
        mx = std::max(mx, s[size_t(j)]);
      }
      double sum = 0;
      for (auto& v : s) sum += (v = std::exp(v - mx));
      for (int c = 0; c < a.head_dim; ++c) {
        double o = 0;
        for (int j = 0; j < vis; ++j) o += s[size_t(j)] / sum * a.v[j * a.ld_kv + g * a.head_dim + c];
        a.out[i * a.ldo + h * a.head_dim + c] = float(o);
      }
    }
}

}  // namespace

TEST(Kernels, F32AttentionMatchesNaive) {
  // The vision encoder's use: f32 keys laid out by kv_layout, causal or not.
  IsaGuard guard;
  std::mt19937 rng(3);
  struct Case { int nq, nkv, heads, hd, pos0; bool causal; };
  const Case cases[] = {{70, 70, 4, 16, 0, false}, {130, 130, 3, 64, 0, true}, {1, 40, 2, 16, 39, true},
                        {5, 25, 2, 32, 20, true}, {300, 270, 2, 16, 0, false}};
  for (Isa isa : levels()) {
    set_isa(isa);
    for (const Case& c : cases) {
      RefAttention r;
      r.n_q = c.nq; r.n_kv = c.nkv; r.heads = c.heads; r.kv_heads = c.heads; r.head_dim = c.hd;
      r.ldq = c.heads * c.hd + 1; r.ld_kv = c.heads * c.hd + 2; r.ldo = c.heads * c.hd;
      auto q = randn(size_t(c.nq) * r.ldq, rng), k = randn(size_t(c.nkv) * r.ld_kv, rng);
      auto v = randn(size_t(c.nkv) * r.ld_kv, rng);
      std::vector<float> o1(size_t(c.nq) * r.ldo), o2(o1.size());
      r.q = q.data(); r.k = k.data(); r.v = v.data(); r.scale = 1.0f / std::sqrt(float(c.hd));
      r.causal = c.causal; r.q_pos0 = c.pos0; r.out = o2.data();
      naive_attention(r);
      const int64_t stride = int64_t((c.nkv + kKvKeys - 1) / kKvKeys * kKvKeys) * c.hd;
      std::vector<float> kt(size_t(stride) * c.heads), vt(kt.size());
      kv_layout(k.data(), v.data(), c.nkv, r.ld_kv, c.heads, c.hd, kt.data(), vt.data());
      KvAttention a;
      a.n_q = c.nq; a.n_kv = c.nkv; a.q_pos0 = c.pos0; a.heads = c.heads; a.kv_heads = c.heads; a.head_dim = c.hd;
      a.type = KvType::F32; a.causal = c.causal; a.q = q.data(); a.ldq = r.ldq; a.k = kt.data(); a.v = vt.data();
      a.kv_stride = stride; a.out = o1.data(); a.ldo = r.ldo; a.scale = r.scale;
      kv_attention(&a, 1);
      EXPECT_LT(max_diff(o1, o2), 1e-5f) << isa_name(isa) << " nq=" << c.nq << " hd=" << c.hd;
    }
  }
}

TEST(Kernels, KvAttentionAvx512AgreesWithAvx2BitForBit) {
  // Both levels sum each score over the dimensions in order and each output over 16-key
  // sub-blocks in order, with FMA: the AVX-512 register blocks (64 keys or dimensions a pass)
  // must not change a bit. Decode (1 query, long cache), prefill and odd head sizes.
  if (detected_isa() < Isa::Avx512) GTEST_SKIP() << "no AVX-512";
  IsaGuard guard;
  std::mt19937 rng(12);
  struct Case { int nq, past, heads, kvh, hd; };
  for (const Case c : {Case{1, 941, 9, 3, 64}, Case{7, 300, 9, 3, 64}, Case{40, 17, 4, 4, 32}, Case{5, 100, 6, 2, 48},
                       Case{33, 0, 2, 1, 16}}) {
    const int nkv = c.past + c.nq, kvd = c.kvh * c.hd, qd = c.heads * c.hd;
    const int64_t stride = int64_t((nkv + kKvKeys - 1) / kKvKeys * kKvKeys) * c.hd;
    auto k = randn(size_t(nkv) * kvd, rng), v = randn(size_t(nkv) * kvd, rng), q = randn(size_t(c.nq) * qd, rng);
    std::vector<float> kt(size_t(stride) * c.kvh), vt(kt.size());
    kv_layout(k.data(), v.data(), nkv, kvd, c.kvh, c.hd, kt.data(), vt.data());
    std::vector<uint16_t> kh(kt.size()), vh(vt.size());
    f32_to_f16_row(kt.data(), int(kt.size()), kh.data());
    f32_to_f16_row(vt.data(), int(vt.size()), vh.data());
    for (KvType type : {KvType::F16, KvType::F32}) {
      std::vector<float> out[2];
      for (int level = 0; level < 2; ++level) {
        set_isa(level == 0 ? Isa::Avx2 : Isa::Avx512);
        KvAttention a;
        a.n_q = c.nq; a.n_kv = nkv; a.q_pos0 = c.past; a.heads = c.heads; a.kv_heads = c.kvh; a.head_dim = c.hd;
        a.q = q.data(); a.ldq = qd; a.type = type; a.kv_stride = stride;
        a.k = type == KvType::F16 ? static_cast<const void*>(kh.data()) : kt.data();
        a.v = type == KvType::F16 ? static_cast<const void*>(vh.data()) : vt.data();
        a.scale = 1.0f / std::sqrt(float(c.hd)); a.ldo = qd;
        out[level].assign(size_t(c.nq) * qd, -1.0f);
        a.out = out[level].data();
        kv_attention(&a, 1);
      }
      ASSERT_EQ(0, std::memcmp(out[0].data(), out[1].data(), out[0].size() * sizeof(float)))
          << "nq=" << c.nq << " past=" << c.past << " hd=" << c.hd << (type == KvType::F16 ? " f16" : " f32");
    }
  }
}

TEST(Kernels, KvAttentionScratchFollowsRowsAndHeadDim) {
  // On one thread: few rows with a wide head, then more rows with a narrow head (same
  // rows x head_dim): per-row scratch must grow although the per-element one need not.
  // (Under ASan a shared size check overflowed here; on a 16-core Xeon it gave wrong output.)
  std::mt19937 rng(9);
  for (auto [nq, hd] : {std::pair{4, 64}, std::pair{16, 16}, std::pair{64, 16}}) {
    const int64_t stride = int64_t((nq + kKvKeys - 1) / kKvKeys * kKvKeys) * hd;
    auto q = randn(size_t(nq) * hd, rng), k = randn(size_t(nq) * hd, rng), v = randn(size_t(nq) * hd, rng);
    std::vector<float> kt(static_cast<size_t>(stride)), vt(kt.size()), o1(size_t(nq) * hd), o2(o1.size());
    kv_layout(k.data(), v.data(), nq, hd, 1, hd, kt.data(), vt.data());
    KvAttention a;
    a.n_q = nq; a.n_kv = nq; a.heads = 1; a.kv_heads = 1; a.head_dim = hd; a.type = KvType::F32;
    a.q = q.data(); a.ldq = hd; a.k = kt.data(); a.v = vt.data(); a.kv_stride = stride;
    a.out = o1.data(); a.ldo = hd; a.scale = 0.25f;
    kv_attention(&a, 1, /*parallel=*/false);
    RefAttention r;
    r.n_q = nq; r.n_kv = nq; r.heads = 1; r.kv_heads = 1; r.head_dim = hd; r.q = q.data(); r.ldq = hd;
    r.k = k.data(); r.v = v.data(); r.ld_kv = hd; r.out = o2.data(); r.ldo = hd; r.scale = 0.25f; r.causal = true;
    naive_attention(r);
    EXPECT_LT(max_diff(o1, o2), 1e-5f) << "nq=" << nq << " hd=" << hd;
  }
}

TEST(Kernels, F16ConversionRoundsToNearestEven) {
  IsaGuard guard;
  std::mt19937 rng(5);
  std::vector<float> x = randn(4099, rng, 30.0f);
  const float specials[] = {0.0f, -0.0f, 1.0f, 65504.0f, 70000.0f, -1e9f, 6.1035156e-05f, 5.9604645e-08f,
                            2.9802322e-08f, 1e-10f, 1.0009765625f /* exactly between two halves */, 2049.0f};
  x.insert(x.end(), std::begin(specials), std::end(specials));
  for (Isa isa : levels()) {
    set_isa(isa);
    std::vector<uint16_t> h(x.size());
    f32_to_f16_row(x.data(), int(x.size()), h.data());
    for (size_t i = 0; i < x.size(); ++i) {
      const float back = f16_to_f32(h[i]), want = std::clamp(x[i], -65504.0f, 65504.0f);
      // Nearest representable: no other half is closer (ties: the even mantissa).
      const float up = f16_to_f32(uint16_t(h[i] + 1)), down = f16_to_f32(uint16_t(h[i] - 1));
      const float err = std::fabs(back - want);
      ASSERT_LE(err, std::fabs(up - want)) << isa_name(isa) << " x=" << x[i];
      if ((h[i] & 0x7fff) != 0) {
        ASSERT_LE(err, std::fabs(down - want)) << isa_name(isa) << " x=" << x[i];
      }
      if (err == std::fabs(up - want) && up != back) {
        ASSERT_EQ(h[i] & 1, 0) << "tie not to even, x=" << x[i];
      }
      ASSERT_EQ(h[i], f32_to_f16(x[i])) << isa_name(isa) << " x=" << x[i];
    }
  }
}

TEST(Kernels, KvAttentionMatchesNaive) {
  IsaGuard guard;
  std::mt19937 rng(4);
  struct Case { int nq, past, heads, kvh, hd; };
  // Decode tasks of up to 12 rows walk the keys in 64-key blocks, larger ones in 256-key blocks:
  // {4, 500, 9, 3, 64} is 12 rows over 504 keys (a partial last block), {5, ...} 15 rows.
  const Case cases[] = {{1, 0, 4, 2, 16}, {1, 39, 9, 3, 64}, {7, 300, 9, 3, 64}, {130, 0, 9, 3, 64},
                        {40, 17, 4, 4, 32}, {3, 600, 2, 1, 16}, {4, 500, 9, 3, 64}, {5, 500, 9, 3, 64}};
  for (Isa isa : levels()) {
    set_isa(isa);
    for (const Case& c : cases) {
      const int nkv = c.past + c.nq, kvd = c.kvh * c.hd, qd = c.heads * c.hd;
      const int64_t stride = int64_t((nkv + kKvKeys - 1) / kKvKeys * kKvKeys) * c.hd;
      auto kf = randn(size_t(nkv) * kvd, rng), vf = randn(size_t(nkv) * kvd, rng);
      auto q = randn(size_t(c.nq) * qd, rng);
      // The cache layout of KvAttention, and the same values rounded to f16 for the reference.
      std::vector<uint16_t> kc(size_t(stride) * c.kvh, 0x7e00 /* NaN: unwritten slots must not leak */),
          vc(kc.size(), 0x7e00);
      for (int j = 0; j < nkv; ++j)
        for (int g = 0; g < c.kvh; ++g)
          for (int d = 0; d < c.hd; ++d) {
            float& kx = kf[size_t(j) * kvd + size_t(g) * c.hd + d];
            float& vx = vf[size_t(j) * kvd + size_t(g) * c.hd + d];
            const uint16_t kh = f32_to_f16(kx), vh = f32_to_f16(vx);
            kx = f16_to_f32(kh), vx = f16_to_f32(vh);
            kc[size_t(g * stride + int64_t(j / kKvKeys) * c.hd * kKvKeys + d * kKvKeys + j % kKvKeys)] = kh;
            vc[size_t(g * stride + int64_t(j) * c.hd + d)] = vh;
          }
      KvAttention a;
      a.n_q = c.nq; a.n_kv = nkv; a.q_pos0 = c.past; a.heads = c.heads; a.kv_heads = c.kvh; a.head_dim = c.hd;
      a.q = q.data(); a.ldq = qd; a.k = kc.data(); a.v = vc.data(); a.kv_stride = stride;
      a.scale = 1.0f / std::sqrt(float(c.hd)); a.ldo = qd;
      std::vector<float> o1(size_t(c.nq) * qd), o2(o1.size());
      a.out = o1.data();
      kv_attention(&a, 1);
      RefAttention r;
      r.n_q = c.nq; r.n_kv = nkv; r.heads = c.heads; r.kv_heads = c.kvh; r.head_dim = c.hd;
      r.q = q.data(); r.ldq = qd; r.k = kf.data(); r.v = vf.data(); r.ld_kv = kvd; r.out = o2.data(); r.ldo = qd;
      r.scale = a.scale; r.causal = true; r.q_pos0 = c.past;
      naive_attention(r);
      EXPECT_LT(max_diff(o1, o2), 1e-5f) << isa_name(isa) << " nq=" << c.nq << " past=" << c.past;
    }
  }
}

// An attention given its queries' own K/V rows (KvAttention::new_k) writes them into the cache
// and gives what storing them first (kv_store_head), then attending, gives: bit for bit, for a
// decode step (one task per kv head, which writes its own rows) and a prompt (a head's rows
// over several tasks, written before any reads), f16 and f32 caches.
TEST(Kernels, KvAttentionStoresItsNewRows) {
  IsaGuard guard;
  std::mt19937 rng(9);
  struct Case { int nq, past; };
  const Case cases[] = {{1, 0}, {1, 77}, {2, 31}, {200, 0}, {100, 45}};
  const int heads = 9, kvh = 3, hd = 64, kvd = kvh * hd, qd = heads * hd;
  for (Isa isa : levels()) {
    set_isa(isa);
    for (KvType type : {KvType::F16, KvType::F32})
      for (const Case& c : cases) {
        const int nkv = c.past + c.nq;
        const int64_t stride = int64_t((nkv + kKvKeys - 1) / kKvKeys * kKvKeys) * hd;
        const size_t bytes = size_t(stride) * kvh * (type == KvType::F32 ? 4 : 2);
        auto past_k = randn(size_t(std::max(c.past, 1)) * kvd, rng), past_v = randn(past_k.size(), rng);
        auto new_k = randn(size_t(c.nq) * kvd, rng), new_v = randn(new_k.size(), rng);
        auto q = randn(size_t(c.nq) * qd, rng);
        std::vector<char> k1(bytes), v1(bytes);
        for (int g = 0; g < kvh; ++g)  // the same past in both caches
          kv_store_head(type, hd, 0, c.past, past_k.data() + g * hd, past_v.data() + g * hd, kvd,
                        k1.data() + g * (bytes / kvh), v1.data() + g * (bytes / kvh));
        std::vector<char> k2 = k1, v2 = v1;
        KvAttention a;
        a.n_q = c.nq; a.n_kv = nkv; a.q_pos0 = c.past; a.heads = heads; a.kv_heads = kvh; a.head_dim = hd;
        a.q = q.data(); a.ldq = qd; a.type = type; a.kv_stride = stride; a.scale = 0.125f; a.ldo = qd;
        std::vector<float> o1(size_t(c.nq) * qd), o2(o1.size());
        for (int g = 0; g < kvh; ++g)
          kv_store_head(type, hd, c.past, c.nq, new_k.data() + g * hd, new_v.data() + g * hd, kvd,
                        k1.data() + g * (bytes / kvh), v1.data() + g * (bytes / kvh));
        a.k = k1.data(); a.v = v1.data(); a.out = o1.data();
        kv_attention(&a, 1);
        a.k = k2.data(); a.v = v2.data(); a.out = o2.data();
        a.new_k = new_k.data(); a.new_v = new_v.data(); a.ld_new = kvd;
        kv_attention(&a, 1);
        const std::string what = std::string(isa_name(isa)) + (type == KvType::F32 ? " f32" : " f16") +
                                 " nq=" + std::to_string(c.nq) + " past=" + std::to_string(c.past);
        EXPECT_EQ(k1, k2) << what;
        EXPECT_EQ(v1, v2) << what;
        EXPECT_EQ(0, std::memcmp(o1.data(), o2.data(), sizeof(float) * o1.size())) << what;
      }
  }
  KvAttention bad;  // new rows of a non-causal attention are refused
  bad.n_q = 1; bad.n_kv = 1; bad.heads = 1; bad.kv_heads = 1; bad.head_dim = 16; bad.causal = false;
  std::vector<float> row(16), out(16);
  std::vector<uint16_t> kc(256), vc(256);
  bad.q = row.data(); bad.k = kc.data(); bad.v = vc.data(); bad.kv_stride = 256; bad.out = out.data();
  bad.new_k = row.data(); bad.new_v = row.data(); bad.ld_new = 16;
  EXPECT_THROW(kv_attention(&bad, 1), std::invalid_argument);
}

TEST(Kernels, RopeInvFreqBitExactWithTorch) {
  // Bit patterns of torch's CPU inv_freq for head_dim 64, theta 1e5 (idefics3-reference.md §6),
  // read back from the table: cos/sin at position 1 of angle inv_freq[i].
  const uint32_t torch_bits[32] = {
      0x3f800000, 0x3f32a506, 0x3ef953cf, 0x3eadfcff, 0x3e72d423, 0x3e297409, 0x3dec7fd6, 0x3da50956,
      0x3d6655c2, 0x3d20bc1d, 0x3ce054d2, 0x3c9c8b97, 0x3c5a7bf2, 0x3c187705, 0x3bd4ca15, 0x3b947dae,
      0x3b4f3e38, 0x3b109edb, 0x3ac9d75c, 0x3a8cd9db, 0x3a44948c, 0x3a092e02, 0x39bf74d7, 0x39859aa9,
      0x393a7753, 0x39021f2b, 0x38b59b1b, 0x387d75d4, 0x3830df52, 0x37f6da96, 0x37ac431d, 0x37706b6d};
  const int hd = 64, n_pos = 1000;
  std::vector<float> cs(size_t(n_pos) * hd);
  rope_table(n_pos, hd, 100000.0, cs.data());
  for (int i = 0; i < 32; ++i) {
    float inv;
    std::memcpy(&inv, &torch_bits[i], 4);
    for (int p : {1, 7, 500, 999}) {
      float ang = float(p) * inv;
      ASSERT_EQ(cs[size_t(p * hd + i)], std::cos(ang)) << "i=" << i << " pos=" << p;
      ASSERT_EQ(cs[size_t(p * hd + 32 + i)], std::sin(ang)) << "i=" << i << " pos=" << p;
    }
  }
  // rotate_half form: position 0 is the identity; a pair rotates by its angle.
  std::vector<float> v(hd), w(hd);
  for (int i = 0; i < hd; ++i) v[size_t(i)] = float(i + 1);
  w = v;
  int32_t pos0 = 0, pos5 = 5;
  rope(w.data(), 1, hd, 1, hd, &pos0, cs.data());
  EXPECT_EQ(w, v);
  rope(w.data(), 1, hd, 1, hd, &pos5, cs.data());
  float c = cs[5 * hd + 3], s = cs[5 * hd + 32 + 3];
  EXPECT_FLOAT_EQ(w[3], v[3] * c - v[35] * s);
  EXPECT_FLOAT_EQ(w[35], v[35] * c + v[3] * s);
}

TEST(Kernels, NormsAndActivations) {
  std::mt19937 rng(4);
  for (int n : {77, 768, 5}) {  // a tail past the sums' 8 chains; the vision width; fewer than 8
  const int rows = 300;
  auto x = randn(size_t(rows) * n, rng, 3.0f), w = randn(size_t(n), rng), b = randn(size_t(n), rng);
  for (int i = 0; i < n; ++i) x[size_t(7 * n + i)] += 100.0f;  // a row far from 0: the mean must cancel
  std::vector<float> y(x.size());
  layernorm(x.data(), rows, n, w.data(), b.data(), 1e-6f, y.data());
  rmsnorm(x.data(), rows, n, w.data(), 1e-5f, y.data());
  // both, naively in double
  std::vector<float> ln(x.size()), rms(x.size());
  for (int r = 0; r < rows; ++r) {
    const float* xi = &x[size_t(r * n)];
    double mean = 0, var = 0, ss = 0;
    for (int i = 0; i < n; ++i) mean += xi[i];
    mean /= n;
    for (int i = 0; i < n; ++i) var += (xi[i] - mean) * (xi[i] - mean), ss += double(xi[i]) * xi[i];
    var /= n;
    for (int i = 0; i < n; ++i) {
      ln[size_t(r * n + i)] = float((xi[i] - mean) / std::sqrt(var + 1e-6) * w[size_t(i)] + b[size_t(i)]);
      rms[size_t(r * n + i)] = float(xi[i] / std::sqrt(ss / n + 1e-5) * w[size_t(i)]);
    }
  }
  EXPECT_LT(max_diff(y, rms), 1e-5f) << "n=" << n;
  layernorm(x.data(), rows, n, w.data(), b.data(), 1e-6f, y.data());
  EXPECT_LT(max_diff(y, ln), 1e-5f) << "n=" << n;
  }
}

// The AVX-512 element-wise ops are the AVX2 ones 16 lanes at a time: the same bits, tails included.
TEST(Kernels, Avx512ActivationsAgreeWithAvx2BitForBit) {
  if (detected_isa() < Isa::Avx512) GTEST_SKIP() << "no AVX-512";
  IsaGuard guard;
  std::mt19937 rng(31);
  for (int n : {5, 16, 23, 2003, 9000}) {
    auto x = randn(size_t(n), rng, 4.0f), up = randn(size_t(n), rng);
    std::vector<float> gelu[2], silu[2];
    for (int level = 0; level < 2; ++level) {
      set_isa(level == 0 ? Isa::Avx2 : Isa::Avx512);
      gelu[level] = x;
      silu[level] = x;
      gelu_tanh(gelu[level].data(), n);
      silu_mul(silu[level].data(), up.data(), n);
    }
    EXPECT_EQ(0, std::memcmp(gelu[0].data(), gelu[1].data(), sizeof(float) * size_t(n))) << "gelu n=" << n;
    EXPECT_EQ(0, std::memcmp(silu[0].data(), silu[1].data(), sizeof(float) * size_t(n))) << "silu n=" << n;
  }
}

// At the AVX2 and AVX-512 levels every value goes through the same GELU arithmetic, the last
// n % 8 of an array too, so a value's GELU does not depend on where it lies (the AMX products'
// fused GELU relies on it).
TEST(Kernels, GeluOfAValueDoesNotDependOnItsPlace) {
  IsaGuard guard;
  std::vector<float> x;
  for (int i = 0; i < 37; ++i) x.push_back(-6.0f + 0.33f * float(i));
  for (Isa isa : levels()) {
    if (isa == Isa::Scalar) continue;  // the portable level takes std::tanh
    set_isa(isa);
    std::vector<float> all = x;
    gelu_tanh(all.data(), int64_t(all.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      float one = x[i];
      gelu_tanh(&one, 1);
      ASSERT_EQ(one, all[i]) << isa_name(isa) << " x=" << x[i];
    }
  }
}

TEST(Kernels, ActivationsAndSoftmaxAllLevels) {
  IsaGuard guard;
  std::vector<float> g;
  for (int i = 0; i <= 2000; ++i) g.push_back(-40.0f + 0.04f * float(i));  // includes 0 and tails
  g.push_back(-100.0f);
  g.push_back(100.0f);
  std::vector<float> up(g.size());
  for (size_t i = 0; i < up.size(); ++i) up[i] = 0.5f + 0.001f * float(i);
  for (Isa isa : levels()) {
    set_isa(isa);
    std::vector<float> gg = g, sg = g;
    gelu_tanh(gg.data(), int64_t(gg.size()));
    silu_mul(sg.data(), up.data(), int64_t(sg.size()));
    for (size_t i = 0; i < g.size(); ++i) {
      double v = g[i];
      double gelu = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
      double silu = v / (1 + std::exp(-v)) * up[i];
      ASSERT_NEAR(gg[i], gelu, 1e-6 + 3e-7 * std::fabs(gelu)) << isa_name(isa) << " x=" << v;
      ASSERT_NEAR(sg[i], silu, 1e-6 + 3e-7 * std::fabs(silu)) << isa_name(isa) << " x=" << v;
    }
    for (int n : {1, 4, 8, 37, 1000}) {
      std::vector<float> sm(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) sm[size_t(i)] = float((i * 37) % 23) * 1.7f - 20.0f;
      std::vector<double> ref(sm.begin(), sm.end());
      double mx = *std::max_element(ref.begin(), ref.end()), z = 0;
      for (auto& v : ref) z += (v = std::exp(v - mx));
      softmax(sm.data(), n);
      for (int i = 0; i < n; ++i) ASSERT_NEAR(sm[size_t(i)], ref[size_t(i)] / z, 1e-7 + 1e-6 * ref[size_t(i)] / z) << n;
    }
  }
  std::vector<float> sm = {1.0f, 2.0f, 3.0f, -1e30f};
  softmax(sm.data(), 4);
  EXPECT_EQ(sm[3], 0.0f);
  std::vector<float> am = {1, 5, 2, 5};
  EXPECT_EQ(argmax(am.data(), 4), 1);
}

namespace {
// The sequential definition: the first index of the largest value, a NaN never taking over.
int argmax_sequential(const std::vector<float>& x) {
  int best = 0;
  for (int i = 1; i < int(x.size()); ++i)
    if (x[size_t(i)] > x[size_t(best)]) best = i;
  return best;
}
}  // namespace

TEST(Kernels, ArgmaxIsTheFirstLargestAtEveryLevel) {
  IsaGuard guard;
  std::mt19937 rng(17);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // Values from a small set so that ties are common, with NaNs, signed zeros and infinities.
  const float pool[] = {-3.0f, -1.0f, -0.0f, 0.0f, 0.5f, 2.0f, 2.0f, nan, -inf, inf};
  std::uniform_int_distribution<int> pick(0, 9), rare(0, 499);
  for (Isa isa : levels()) {
    set_isa(isa);
    for (int n : {1, 2, 7, 8, 9, 255, 256, 257, 1000, 100352})
      for (int trial = 0; trial < 40; ++trial) {
        std::vector<float> x(static_cast<size_t>(n));
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (float& v : x) v = trial % 2 ? pool[pick(rng)] : (rare(rng) ? nd(rng) : pool[pick(rng)]);
        if (trial % 5 == 0) x[0] = nan;                  // nothing takes over from a NaN at 0
        if (trial % 7 == 3) x[size_t(n - 1)] = 1e30f;    // the last value wins
        ASSERT_EQ(argmax(x.data(), n), argmax_sequential(x)) << isa_name(isa) << " n=" << n << " trial " << trial;
      }
  }
}

// greedy_rows: each row's first largest value and its log-softmax, against double arithmetic,
// at every level, for rows of logit-like spread, ties and a vocabulary that is not a multiple
// of the vector width; the same on one thread and on all.
TEST(Kernels, GreedyRowsGiveTheArgmaxAndItsLogProbability) {
  IsaGuard guard;
  std::mt19937 rng(23);
  for (Isa isa : levels()) {
    set_isa(isa);
    for (int vocab : {1, 3, 17, 1000, 100352}) {
      const int rows = 5;
      std::vector<float> x(size_t(rows) * vocab);
      std::normal_distribution<float> nd(0.0f, 4.0f);
      for (float& v : x) v = nd(rng);
      x[size_t(vocab) - 1] = 30.0f;  // row 0: the last value is far ahead (log-probability near 0)
      if (vocab > 2) x[size_t(vocab) + 1] = x[size_t(vocab) + 2] = 25.0f;  // row 1: a tie, the first wins
      for (int j = 0; j < vocab; ++j) x[size_t(2 * vocab + j)] = 1.0f;    // row 2: flat, log(1 / vocab)
      std::vector<int32_t> tok(rows), tok1(rows);
      std::vector<float> lp(rows), lp1(rows);
      greedy_rows(x.data(), rows, vocab, tok.data(), lp.data());
      greedy_rows(x.data(), rows, vocab, tok1.data(), lp1.data(), /*parallel=*/false);
      for (int r = 0; r < rows; ++r) {
        const float* row = x.data() + int64_t(r) * vocab;
        const int best = int(std::max_element(row, row + vocab) - row);  // the first largest
        double sum = 0;
        for (int j = 0; j < vocab; ++j) sum += std::exp(double(row[j]) - double(row[best]));
        const std::string what = std::string(isa_name(isa)) + " vocab=" + std::to_string(vocab) + " row " +
                                 std::to_string(r);
        EXPECT_EQ(tok[size_t(r)], best) << what;
        EXPECT_NEAR(lp[size_t(r)], -std::log(sum), 1e-5 * (1 + std::log(sum))) << what;
        EXPECT_LE(lp[size_t(r)], 0.0f) << what;
        EXPECT_EQ(tok1[size_t(r)], tok[size_t(r)]) << what;
        EXPECT_EQ(lp1[size_t(r)], lp[size_t(r)]) << what;
      }
      if (vocab > 2) {
        EXPECT_EQ(tok[1], 1) << isa_name(isa);
      }
      EXPECT_NEAR(lp[2], -std::log(double(vocab)), 1e-4) << isa_name(isa);
    }
  }
}

TEST(Kernels, Bf16AndF16Conversion) {
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
}

TEST(LoopGuard, DetectsRepeatingBlockOnly) {
  LoopGuard g;
  g.max_period = 16;
  g.min_repeats = 6;
  g.min_span = 30;
  {  // 5-token block repeated: fires once 30 tokens repeat, not before
    RepetitionDetector d(g);
    std::vector<int32_t> prefix = {9, 8, 7, 6, 100, 101};
    for (int32_t t : prefix) ASSERT_FALSE(d.push(t));
    int n = 0;
    bool fired = false;
    while (!fired && n < 100) fired = d.push(int32_t(n++ % 5));
    ASSERT_TRUE(fired);
    EXPECT_EQ(d.period(), 5);
    EXPECT_EQ(d.span(), 30);
    EXPECT_EQ(n, 30);
  }
  {  // varied text never fires
    RepetitionDetector d(g);
    std::mt19937 rng(5);
    for (int i = 0; i < 2000; ++i) ASSERT_FALSE(d.push(int32_t(rng() % 50)));
  }
  {  // a long period beyond max_period is not reported
    RepetitionDetector d(g);
    for (int i = 0; i < 200; ++i) ASSERT_FALSE(d.push(int32_t(i % 20)));
  }
  {  // disabled
    LoopGuard off = g;
    off.enabled = false;
    RepetitionDetector d(off);
    for (int i = 0; i < 200; ++i) ASSERT_FALSE(d.push(1));
  }
}
