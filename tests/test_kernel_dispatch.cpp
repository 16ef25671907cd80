// The dispatch of kernels/: the settings choose the table (level and options), and every level
// this CPU has, selected through configure(), gives the reference product on every path
// (small-M NK / KN / panel rows, int8 weights, the large-M drivers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernels.h"

using namespace docling::kernels;
using docling::bf16_to_f32;
using docling::f32_to_bf16;
using docling::f16_to_f32;
using docling::f32_to_bf16;

namespace {

// Restores what the process had (the other tests in this program expect the defaults).
struct SettingsGuard {
  KernelSettings saved = current_settings();
  ~SettingsGuard() { configure(saved); }
};

std::vector<Isa> levels() {
  std::vector<Isa> v;
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (i <= detected_isa()) v.push_back(i);
  return v;
}

std::vector<float> randn(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace

TEST(KernelDispatch, ConfigureCapsTheLevelAndSetsTheOptions) {
  SettingsGuard guard;
  for (Isa isa : levels()) {
    KernelSettings s;
    s.max_isa = isa;
    s.int8_activations = true;
    s.bf16_dot = true;
    configure(s);
    EXPECT_EQ(active_isa(), isa) << isa_name(isa);
    EXPECT_EQ(current_settings().max_isa, isa);
    // The options act at the Avx512 level only, where the CPU has the instructions.
    EXPECT_EQ(int8_activations(), isa == Isa::Avx512 && has_avx512_vnni()) << isa_name(isa);
    EXPECT_EQ(bf16_dot(), isa == Isa::Avx512 && has_avx512_bf16()) << isa_name(isa);
  }
  configure(KernelSettings{});  // defaults: the CPU's best level, both options off
  EXPECT_EQ(active_isa(), detected_isa());
  EXPECT_FALSE(int8_activations());
  EXPECT_FALSE(bf16_dot());
  // A cap above the CPU is the CPU's best; set_isa asks for exactly a level.
  KernelSettings top;
  top.max_isa = Isa::Avx512;
  configure(top);
  EXPECT_EQ(active_isa(), detected_isa());
  if (detected_isa() < Isa::Avx512) {
    EXPECT_THROW(set_isa(Isa::Avx512), std::runtime_error);
  }
}

TEST(KernelDispatch, EveryLevelGivesTheReferenceProduct) {
  SettingsGuard guard;
  std::mt19937 rng(5);
  struct Case {
    int M, N, K;
    BType bt;
    BLayout layout;
  };
  // M <= 16 takes the small-M paths, M > 16 the blocked drivers; N and K off the block sizes.
  const Case cases[] = {{1, 70, 96, BType::BF16, BLayout::NK},    {8, 70, 96, BType::BF16, BLayout::Panel},
                        {3, 40, 64, BType::F32, BLayout::KN},     {5, 33, 128, BType::I8, BLayout::NK},
                        {12, 100, 64, BType::BF16, BLayout::Panel}, {40, 70, 300, BType::BF16, BLayout::NK},
                        {40, 50, 72, BType::BF16, BLayout::Panel},  {33, 65, 64, BType::I8, BLayout::NK},
                        {20, 48, 80, BType::F32, BLayout::KN},      {8, 70, 96, BType::BF16, BLayout::PanelPairs},
                        {3, 100, 37, BType::BF16, BLayout::PanelPairs}, {40, 50, 72, BType::BF16, BLayout::PanelPairs}};
  for (const Case& c : cases) {
    auto x = randn(size_t(c.M) * c.K, rng), bf = randn(size_t(c.N) * c.K, rng), bias = randn(size_t(c.N), rng);
    std::vector<uint16_t> bh(bf.size()), panels;
    for (size_t i = 0; i < bf.size(); ++i) bh[i] = f32_to_bf16(bf[i]);
    std::vector<int8_t> q(bf.size());
    for (size_t i = 0; i < q.size(); ++i) q[i] = int8_t(std::clamp(std::lround(bf[i] * 40.0f), -127L, 127L));
    std::vector<float> scale(size_t(c.N) * size_t((c.K + 31) / 32), 0.02f);
    Gemm g;
    g.M = c.M; g.N = c.N; g.K = c.K; g.x = x.data(); g.ldx = c.K; g.btype = c.bt; g.layout = c.layout;
    g.ldb = c.layout == BLayout::KN ? c.N : c.K; g.bias = bias.data(); g.ldy = c.N;
    if (c.bt == BType::F32) {
      g.b = bf.data();  // read as [K][N] for KN: any matrix will do
    } else if (c.bt == BType::I8) {
      g.b = q.data(), g.bscale = scale.data(), g.group = 32;
    } else if (is_panel(c.layout)) {
      panels.resize(size_t(panel_elems(c.N, c.K, c.layout)));
      to_panels(bh.data(), c.N, c.K, c.K, panels.data(), c.layout);
      g.b = panels.data();
    } else {
      g.b = bh.data();
    }
    std::vector<float> want(size_t(c.M) * c.N);
    g.y = want.data();
    gemm_reference(g);
    for (Isa isa : levels()) {
      KernelSettings s;
      s.max_isa = isa;
      configure(s);
      ASSERT_EQ(active_isa(), isa);
      std::vector<float> got(want.size(), 1e30f);
      g.y = got.data();
      gemm(g);
      float err = 0;
      for (size_t i = 0; i < got.size(); ++i) err = std::max(err, std::fabs(got[i] - want[i]));
      EXPECT_LT(err, 2e-6f * c.K + 1e-5f) << isa_name(isa) << " M=" << c.M << " N=" << c.N << " K=" << c.K
                                          << " btype=" << int(c.bt) << " layout=" << int(c.layout);
    }
  }
}
