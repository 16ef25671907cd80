#include "kernels/tune.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <stdexcept>

#include "kernels/aligned.h"

namespace docling::kernels {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The weights: copies of the layer's matrices in the panel layout, filled with small bf16
// values (the products' speed does not depend on them; subnormals are avoided).
struct Bench {
  std::vector<ProductShape> shapes;
  std::vector<int64_t> offsets;  // of each product's panels, copy after copy
  BLayout layout = preferred_panel_layout();  // as the decoder's weights
  aligned_vector<uint16_t> panels;
  aligned_vector<float> x, y;

  explicit Bench(const TuneOptions& o) : shapes(o.shapes) {
    int64_t layer = 0, max_n = 0, max_k = 0;
    for (const ProductShape& s : shapes) {
      layer += panel_elems(s.n, s.k, layout);
      max_n = std::max<int64_t>(max_n, s.n);
      max_k = std::max<int64_t>(max_k, s.k);
    }
    const int64_t copies = std::max<int64_t>(1, (int64_t(o.weight_mib) << 20) / (2 * layer));
    int64_t at = 0;
    for (int64_t c = 0; c < copies; ++c)
      for (const ProductShape& s : shapes) {
        offsets.push_back(at);
        at += panel_elems(s.n, s.k, layout);
      }
    panels.resize(size_t(at));
    for (int64_t i = 0; i < at; ++i) panels[size_t(i)] = uint16_t(0x3c00 + (i * 7919) % 256);  // ~[0.0078, 0.0156]
    x.assign(size_t(16 * max_k), 0.5f);
    y.resize(size_t(16 * max_n));
  }

  // One pass over every copy at `rows` rows.
  void run(int rows) {
    for (size_t i = 0; i < offsets.size(); ++i) {
      const ProductShape& s = shapes[i % shapes.size()];
      Gemm g;
      g.M = rows; g.N = s.n; g.K = s.k;
      g.x = x.data(); g.ldx = s.k;
      g.b = panels.data() + offsets[i]; g.btype = BType::BF16; g.layout = layout; g.ldb = s.k;
      g.y = y.data(); g.ldy = s.n;
      gemm(g);
    }
  }
};

double measure(Bench& b, const TuneOptions& o, const DecodeParams& p) {
  KernelSettings s = current_settings();
  s.decode = p;
  configure(s);
  double total = 0;
  for (int rows : o.batches) {
    double best = std::numeric_limits<double>::infinity();
    for (int r = 0; r < o.repeats; ++r) {
      const double t0 = now_s();
      b.run(rows);
      best = std::min(best, now_s() - t0);
    }
    total += best;
  }
  return total;
}

// A candidate replaces the best only when this much faster: run-to-run noise on a busy
// machine is a few percent, and a change for noise would make the choice flap between runs.
constexpr double kMargin = 0.97;

// The values each parameter may take in the search. The ways of sharing passes between rows
// apply to AVX2's kernels only: the AVX-512 ones keep every row's sums in registers.
struct Axis {
  int DecodeParams::*field;
  std::vector<int> values;
  bool rows = false;
};

const std::vector<Axis>& axes() {
  static const std::vector<Axis> all = {
      {&DecodeParams::prefetch_rows, {0, 64, 128, 256, 512}},
      {&DecodeParams::turn_rows, {2, 3, 4, 6}, true},
      {&DecodeParams::turn_k, {16, 32, 64, 128, 256}, true},
      {&DecodeParams::single_pass_rows, {2, 3, 4, 6}, true},
  };
  return all;
}

}  // namespace

TuneResult tune_decode_params(const TuneOptions& o) {
  if (o.shapes.empty()) throw std::invalid_argument("tune_decode_params: no product shapes");
  for (int b : o.batches)
    if (b < 1 || b > 16) throw std::invalid_argument("tune_decode_params: batch sizes must be in [1, 16]");
  for (const ProductShape& s : o.shapes)
    if (s.n < 1 || s.k < 1) throw std::invalid_argument("tune_decode_params: empty product shape");
  if (std::string e = decode_params_error(o.start); !e.empty()) throw std::invalid_argument("tune_decode_params: " + e);
  const KernelSettings saved = current_settings();
  TuneResult r;
  try {
    Bench bench(o);
    measure(bench, o, o.start);  // warm-up: pages touched, threads started
    r.best = o.start;
    r.best_seconds = r.start_seconds = measure(bench, o, o.start);
    r.trials.push_back({o.start, r.start_seconds});
    for (const Axis& axis : axes()) {
      if (axis.rows && active_isa() == Isa::Avx512) continue;
      const DecodeParams base = r.best;
      for (int v : axis.values) {
        DecodeParams p = base;
        p.*axis.field = v;
        if (p == base) continue;
        const double t = measure(bench, o, p);
        r.trials.push_back({p, t});
        if (t < r.best_seconds * kMargin) r.best = p, r.best_seconds = t;
      }
    }
    // The winner against the start in alternating runs: it must be faster in most of them and
    // by the margin at its best, so that a lucky run or a busy moment does not decide alone
    // (the choice is kept in a cache file for good).
    if (!(r.best == o.start)) {
      int wins = 0;
      for (int i = 0; i < 3; ++i) {
        const double b = measure(bench, o, r.best), s = measure(bench, o, o.start);
        wins += b < s;
        r.best_seconds = std::min(r.best_seconds, b);
        r.start_seconds = std::min(r.start_seconds, s);
      }
      if (wins < 2 || r.best_seconds > r.start_seconds * kMargin) r.best = o.start, r.best_seconds = r.start_seconds;
    }
  } catch (...) {
    configure(saved);
    throw;
  }
  configure(saved);
  return r;
}

}  // namespace docling::kernels
