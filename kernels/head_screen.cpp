// The output head's int8 screen (kernels/head_screen.h): the screen's layout, the pass over
// it on the threads (the per-level kernels: int8_avx512.cpp, int8_avx2.cpp), then the
// candidates' exact logits from the head's own product, restricted to the panels that hold them.
#include "kernels/head_screen.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "kernels/int8_gemm.h"

namespace docling::kernels {

namespace {

constexpr int kScreenCols = 16;       // columns per panel of the screen
constexpr int kBlockPanels = 32;      // panels a thread screens for every block of rows (~300 KB: L2)
constexpr size_t kMostCandidates = 4096;  // per row; past it the screen gains nothing
constexpr double kOnePlaneMost = 4.0;     // see quantize_rows
// B's margin for float rounding, as a part of s |x|_1 (|x|_1 max|w| = 127 s |x|_1 bounds the sum
// of the |terms|): the exact product adds K terms (3K on AMX tiles, x in three bf16 parts), off
// by at most 3K 2^-24 of that sum; twice that, and 1e-6 for the screen's own few roundings.
float rounding_margin(int K) { return 127.0f * (6.0f * float(K) * 0x1p-24f + 1e-6f); }

}  // namespace

HeadScreen make_head_screen(const uint16_t* w, int N, int K, int64_t ldw) {
  HeadScreen s;
  if (N <= 0 || K <= 0) return s;
  s.N = N, s.K = K, s.kq = (K + 3) / 4, s.panels = (N + kScreenCols - 1) / kScreenCols;
  const size_t cols = size_t(s.panels) * kScreenCols;
  s.q.assign(cols * size_t(s.kq) * 4, 0);
  s.scale.assign(cols, 1.0f);
  s.sum.assign(cols, 0);
  s.abs_sum.assign(cols, 0);
  tbb::parallel_for(0, N, [&](int n) {
    const uint16_t* row = w + int64_t(n) * ldw;
    float mx = 0.0f;
    for (int k = 0; k < K; ++k) mx = std::max(mx, std::fabs(bf16_to_f32(row[k])));
    float sc = 0.0f, inv = 0.0f;
    if (!detail::i8_scales(mx, sc, inv)) sc = mx == 0.0f ? 0.0f : std::numeric_limits<float>::quiet_NaN();
    s.scale[size_t(n)] = sc;
    int8_t* panel = s.q.data() + size_t(n / kScreenCols) * size_t(s.kq) * 64;
    int32_t sum = 0, abs_sum = 0;
    for (int k = 0; k < K; ++k) {
      const int8_t q = detail::i8_round(bf16_to_f32(row[k]), inv);
      panel[(k / 4) * 64 + (n % kScreenCols) * 4 + k % 4] = q;
      sum += q, abs_sum += q < 0 ? -q : q;
    }
    s.sum[size_t(n)] = sum, s.abs_sum[size_t(n)] = abs_sum;
  });
  double total = 0.0;
  for (int n = 0; n < N; ++n) total += s.abs_sum[size_t(n)];
  s.mean_abs_q = total / (double(N) * K);
  return s;
}

bool head_screen_usable() { return has_avx512_vnni() || (active_isa() == Isa::Avx2 && detail::avx_vnni_enabled()); }

namespace {

// The rows of x as int8 planes for vpdpbusd: x1 = round(x / t), and where one plane would
// leave x's rounding the larger part of B, also x2 = round((x - t x1) / t2) with t2 = t / 254
// (so |x2| <= 127); each as u8 = v + 128. Two planes leave x off by t / 508 at most, so B is
// the weights' rounding almost alone: a row with an outlier (a large t) screens as well as
// any; one plane halves the pass's work. Returns the planes (1 or 2), or 0 for a row with a
// non-finite value.
int quantize_rows(const Gemm& g, const HeadScreen& s, std::vector<uint8_t>& xq, std::vector<float>& t,
                  std::vector<float>& t2, std::vector<float>& half_l1) {
  const int kq = s.kq;
  t.assign(size_t(g.M), 0.0f);
  t2.assign(size_t(g.M), 0.0f);
  half_l1.assign(size_t(g.M), 0.0f);
  std::vector<float> mxs(size_t(g.M));
  std::vector<double> l1s(size_t(g.M));
  int planes = 1;
  for (int r = 0; r < g.M; ++r) {
    const float* x = g.x + int64_t(r) * g.ldx;
    float mx = 0.0f;
    double l1 = 0.0;
    for (int k = 0; k < g.K; ++k) mx = std::max(mx, std::fabs(x[k])), l1 += std::fabs(x[k]);
    if (!std::isfinite(mx) || !std::isfinite(l1)) return 0;
    mxs[size_t(r)] = mx, l1s[size_t(r)] = l1;
    // One plane's x term of B for an average column, s t |q|_1 / 2, against the weights' s |x|_1 / 2:
    // up to 4 times as large, one plane's pass (half the work) outweighs its extra candidates.
    if (double(mx) / 127.0 * s.mean_abs_q * g.K > kOnePlaneMost * l1) planes = 2;
  }
  xq.assign(size_t(g.M) * size_t(planes) * size_t(kq) * 4, 128);
  for (int r = 0; r < g.M; ++r) {
    const float* x = g.x + int64_t(r) * g.ldx;
    const double l1 = l1s[size_t(r)];
    float inv = 0.0f;
    detail::i8_scales(mxs[size_t(r)], t[size_t(r)], inv);
    // |x|_1 is summed in double and widened by one part in 1e6 before its float rounding.
    half_l1[size_t(r)] = float(l1 * (1.0 + 1e-6)) * (0.5f + rounding_margin(g.K)) * (1.0f + 1e-6f);
    t2[size_t(r)] = t[size_t(r)] / 254.0f;
    const float inv2 = inv * 254.0f;
    uint8_t* q1 = xq.data() + size_t(r) * size_t(planes) * size_t(kq) * 4;
    uint8_t* q2 = q1 + size_t(kq) * 4;
    for (int k = 0; k < g.K; ++k) {
      const int8_t v = detail::i8_round(x[k], inv);
      q1[k] = uint8_t(int(v) + 128);
      if (planes == 2) q2[k] = uint8_t(int(detail::i8_round(x[k] - t[size_t(r)] * float(v), inv2)) + 128);
    }
  }
  return planes;
}

// What one thread's share of the pass found, over all rows.
struct Share {
  std::vector<detail::ScreenHit> hits;
  std::vector<float> low, ref, sum;
  std::vector<uint8_t> started;
};

// Panels [p0, p1) for every row, in blocks of panels so that each block's weights come from
// memory once for all the row blocks.
void screen_share(const HeadScreen& s, int planes, const std::vector<uint8_t>& xq, const std::vector<float>& t,
                  const std::vector<float>& t2, const std::vector<float>& half_l1, int rows, int p0, int p1,
                  Share& out) {
  out.low.assign(size_t(rows), -std::numeric_limits<float>::infinity());
  out.ref.assign(size_t(rows), 0.0f);
  out.sum.assign(size_t(rows), 0.0f);
  out.started.assign(size_t(rows), 0);
  for (int b0 = p0; b0 < p1; b0 += kBlockPanels) {
    const int b1 = std::min(p1, b0 + kBlockPanels);
    for (int r0 = 0; r0 < rows; r0 += detail::kScreenRows) {
      detail::ScreenPass ps;
      ps.screen = &s;
      ps.rows = std::min(detail::kScreenRows, rows - r0);
      ps.planes = planes;
      ps.xq = xq.data() + size_t(r0) * size_t(planes) * size_t(s.kq) * 4;
      ps.t = t.data() + r0;
      ps.t2 = t2.data() + r0;
      ps.half_l1 = half_l1.data() + r0;
      ps.low = out.low.data() + r0, ps.ref = out.ref.data() + r0, ps.sum = out.sum.data() + r0;
      ps.started = out.started.data() + r0;
      ps.row0 = r0;
      ps.hits = &out.hits;
      has_avx512_vnni() ? detail::screen_panels_vnni(ps, b0, b1) : detail::screen_panels_avx_vnni(ps, b0, b1);
    }
  }
}

// The head's product for the columns of unit u (unit_cols wide, on a panel boundary) of every
// row, into y [M][unit_cols]: the same kernel, rows and order of sums as the whole product.
void unit_product(const Gemm& head, int u, int unit_cols, float* y) {
  Gemm g = head;
  const int n0 = u * unit_cols;
  g.N = std::min(unit_cols, head.N - n0);
  const uint16_t* b = static_cast<const uint16_t*>(head.b);
  g.b = is_panel(head.layout) ? b + panel_start(n0 / kPanel, head.ldb, head.layout) : b + int64_t(n0) * head.ldb;
  g.y = y;
  g.ldy = unit_cols;
  gemm(g, false);
}

// What the threads' shares found, per row: the largest A - B (the bar a column's A + B must
// reach), the sum over all columns of exp(A - ref) and its reference, and the candidates.
struct Findings {
  std::vector<float> low;
  std::vector<double> ref, sum_a;
  std::vector<std::vector<detail::ScreenHit>> cands;
};

Findings merge(const std::vector<Share>& shares, int M) {
  Findings f{std::vector<float>(size_t(M), -std::numeric_limits<float>::infinity()),
             std::vector<double>(size_t(M), -std::numeric_limits<double>::infinity()), std::vector<double>(size_t(M), 0.0),
             std::vector<std::vector<detail::ScreenHit>>(size_t(M))};
  for (const Share& sh : shares)
    for (size_t r = 0; r < size_t(M); ++r) {
      f.low[r] = std::max(f.low[r], sh.low[r]);
      if (sh.started[r]) f.ref[r] = std::max(f.ref[r], double(sh.ref[r]));
    }
  for (const Share& sh : shares)
    for (size_t r = 0; r < size_t(M); ++r)
      if (sh.started[r]) f.sum_a[r] += double(sh.sum[r]) * std::exp(double(sh.ref[r]) - f.ref[r]);
  for (const Share& sh : shares)
    for (const detail::ScreenHit& h : sh.hits)
      if (h.upper >= f.low[size_t(h.row)]) f.cands[size_t(h.row)].push_back(h);
  return f;
}

// The candidates' exact logits: the head's product over the units (pairs or panels of the
// head) that hold them, for every row. logit(r, col) reads one.
struct ExactLogits {
  int M = 0, unit_cols = 0;
  std::vector<int> units;  // sorted
  aligned_vector<float> y;  // [unit][M][unit_cols]
  float logit(int r, int col) const {
    const size_t u = size_t(std::lower_bound(units.begin(), units.end(), col / unit_cols) - units.begin());
    return y[(u * size_t(M) + size_t(r)) * size_t(unit_cols) + size_t(col % unit_cols)];
  }
};

ExactLogits exact_logits(const Gemm& head, const Findings& f) {
  ExactLogits e;
  e.M = head.M;
  e.unit_cols = head.layout == BLayout::PanelPairs ? 2 * kPanel : kPanel;
  for (const auto& c : f.cands)
    for (const detail::ScreenHit& h : c) e.units.push_back(h.col / e.unit_cols);
  std::sort(e.units.begin(), e.units.end());
  e.units.erase(std::unique(e.units.begin(), e.units.end()), e.units.end());
  e.y.resize(e.units.size() * size_t(e.M) * size_t(e.unit_cols));
  tbb::parallel_for(size_t(0), e.units.size(), [&](size_t i) {
    unit_product(head, e.units[i], e.unit_cols, e.y.data() + i * size_t(e.M) * size_t(e.unit_cols));
  });
  return e;
}

// Row r's token (its candidates' largest exact logit, the first index among equals, as argmax)
// and log-probability: the sum over all columns of exp(logit - best) takes the candidates'
// exact logits, and the screen's A for the others (the whole sum of exp(A) less the
// candidates' share of it).
void choose(const Findings& f, const ExactLogits& e, int r, int32_t& token, float& logprob) {
  const std::vector<detail::ScreenHit>& cands = f.cands[size_t(r)];
  std::vector<float> exact(cands.size());
  int best = -1;
  float best_v = 0.0f;
  for (size_t i = 0; i < cands.size(); ++i) {
    const float v = exact[i] = e.logit(r, cands[i].col);
    if (best < 0 || v > best_v || (v == best_v && cands[i].col < best)) best = cands[i].col, best_v = v;
  }
  double exact_part = 0.0, screened_part = 0.0;
  for (size_t i = 0; i < cands.size(); ++i) {
    exact_part += std::exp(double(exact[i]) - best_v);
    screened_part += std::exp(double(cands[i].a) - best_v);
  }
  const double others = std::max(0.0, f.sum_a[size_t(r)] * std::exp(f.ref[size_t(r)] - best_v) - screened_part);
  token = best;
  logprob = float(-std::log(exact_part + others));
}

}  // namespace

bool screened_greedy(const HeadScreen& s, const Gemm& head, int32_t* tokens, float* logprobs) {
  if (s.empty() || !head_screen_usable() || head.M <= 0 || head.N != s.N || head.K != s.K ||
      head.btype != BType::BF16 || head.xtype != XType::F32 || head.bias || head.accumulate || head.gelu)
    return false;
  const int M = head.M;
  std::vector<uint8_t> xq;
  std::vector<float> t, t2, half_l1;
  const int planes = quantize_rows(head, s, xq, t, t2, half_l1);
  if (planes == 0) return false;
  // The pass: each thread one contiguous range of panels (one stream from memory).
  const int threads = std::max(1, std::min(tbb::this_task_arena::max_concurrency(), s.panels / kBlockPanels + 1));
  std::vector<Share> shares(static_cast<size_t>(threads));
  tbb::parallel_for(
      tbb::blocked_range<int>(0, threads, 1),
      [&](const tbb::blocked_range<int>& r) {
        for (int i = r.begin(); i < r.end(); ++i)
          screen_share(s, planes, xq, t, t2, half_l1, M, int(int64_t(s.panels) * i / threads),
                       int(int64_t(s.panels) * (i + 1) / threads), shares[size_t(i)]);
      },
      tbb::static_partitioner());
  const Findings f = merge(shares, M);
  for (int r = 0; r < M; ++r)
    if (f.cands[size_t(r)].empty() || f.cands[size_t(r)].size() > kMostCandidates || !std::isfinite(f.sum_a[size_t(r)]))
      return false;
  const ExactLogits e = exact_logits(head, f);
  for (int r = 0; r < M; ++r) choose(f, e, r, tokens[r], logprobs[r]);
  return true;
}

}  // namespace docling::kernels
