// Private to kernels/: the attention task (see KvAttention in kernels/kernels.h), compiled
// once per level: scalar.cpp and avx2.cpp instantiate attend<Ops, T> with their register
// kernel (Ops::micro) and softmax step (Ops::kVec: vector max and exp, Ops::max, Ops::exp_scaled).
//
// Decoding is memory-bound: every step reads the whole cache of every sequence in the
// batch. Keeping K/V in f16 halves that traffic (and the cache's memory) against f32, and
// F16C widens 8 values per instruction; f32 is kept for exact comparisons (and serves the
// vision encoder's keys). K is stored transposed in blocks of 16 keys so that q·K for 16 keys
// is a register kernel with no horizontal sums; V is stored by position, which is already
// the layout P·V wants.
//
// A task takes one kv head of one attention and a block of its query rows, all q heads of
// the group together (GQA: the cache is read once per group), and walks the keys in blocks
// of kBlock (kFewRowsBlock for decode steps) with an online softmax (running max and sum per row).
//
// The two products of a block go through Ops::scores and Ops::accumulate: KvPasses below
// gives the register kernel's 16 columns at a time (scalar, AVX2); AVX-512 covers 64 keys or
// 64 dimensions per pass with its own kernels (kernels/avx512.cpp). Every level sums each
// score over the dimensions in order, and each output over 16-key sub-blocks added in order,
// so the levels agree bit for bit where they use FMA.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/aligned.h"
#include "kernels/kernels.h"

namespace docling::kernels::detail {

// See online_softmax_row in kernels/kernels.h.
template <class Ops>
inline float softmax_step(float* s, int n, int bk, float scale, float& m, float& l, float* o, int hd) {
  float mx = m;
  if constexpr (Ops::kVec) {
    if (scale > 0.0f) mx = std::max(mx, Ops::max(s, n) * scale);
    else
      for (int j = 0; j < n; ++j) mx = std::max(mx, s[j] * scale);
  } else {
    for (int j = 0; j < n; ++j) mx = std::max(mx, s[j] * scale);
  }
  // exp(-inf) = 0 on the first block; an unchanged max (most blocks of a long row) needs no exp.
  const float alpha = mx == m ? 1.0f : std::exp(m - mx);
  float sum = 0.0f;
  if constexpr (Ops::kVec) {
    sum = Ops::exp_scaled(s, n, scale, mx);
  } else {
    for (int j = 0; j < n; ++j) sum += (s[j] = std::exp(s[j] * scale - mx));
  }
  for (int j = n; j < bk; ++j) s[j] = 0.0f;
  if (alpha != 1.0f)
    for (int d = 0; d < hd; ++d) o[d] *= alpha;
  m = mx;
  l = l * alpha + sum;
  return l;
}

// Columns a register block of the attention covers: 16 keys of K, or 16 dimensions of V.
// (Three rows by 32 need 12 sums, 4 B loads and a broadcast: one register more than AVX2 has,
// and the spilled sum made a decode step's attention ~10% slower from cache.)
constexpr int kKvCols = 16;

// Rows [0, rows) of x (row stride ldx) times kKvCols columns of B, 6 rows per register
// block (Ops::micro).
template <class Ops, class T>
void rows_kv(int rows, int kc, const float* x, int64_t ldx, const T* b, int64_t ldb, float* c, int64_t ldc,
             bool add_c) {
  for (int r0 = 0; r0 < rows; r0 += 6) {
    const int mr = std::min(6, rows - r0);
    const float* xr[6];
    for (int i = 0; i < mr; ++i) xr[i] = x + int64_t(r0 + i) * ldx;
    Ops::micro(mr, kc, xr, b, ldb, c + int64_t(r0) * ldc, ldc, add_c);
  }
}

// Bytes the attention asks the memory for while it works on something else: into L2, at the
// pace the current pass reads its own operand (see attend).
struct Ahead {
  const char* p = nullptr;
  size_t size = 0;
  Ahead() = default;
  template <class T>
  Ahead(const T* from, const T* to)
      : p(reinterpret_cast<const char*>(from)), size(to > from ? size_t(to - from) * sizeof(T) : 0) {}
  Ahead from(size_t offset) const { return offset < size ? Ahead(p + offset, p + size) : Ahead(); }
  // The lines of [offset, offset + Bytes) that are inside.
  template <size_t Bytes>
  void fetch(size_t offset) const {
#pragma GCC unroll 8
    for (size_t b = 0; b < Bytes; b += 64)
      if (offset + b < size) _mm_prefetch(p + offset + b, _MM_HINT_T1);
  }
  // The same for a length known at run time.
  void fetch(size_t offset, size_t bytes) const {
    for (size_t b = 0; b < bytes && offset + b < size; b += 64) _mm_prefetch(p + offset + b, _MM_HINT_T1);
  }
};

constexpr int kBlock = 256;     // keys per softmax block (a multiple of kKvKeys); the scores' row stride
// Keys per block for tasks of at most kFewRows rows (a decode step: one query row per sequence,
// times the group's heads). With so few rows a block's work is short next to its memory time,
// and blocks of 64 keys (8 KB of K and 8 KB of V at head_dim 64 in f16) keep the stream ahead
// close to its use. Measured on an AVX-512 Xeon (bench/README.md): a batch-8 step's attention
// 6-10% faster (batch 4 ~10%, the AVX2 level 2-8%), 4 query rows of a group of 3 4% faster,
// 8 rows 2%, 16 rows 5% slower, the vision encoder's 96-row tasks 6% slower.
constexpr int kFewRowsBlock = 64, kFewRows = 12;
constexpr int kPvKeys = 16;     // keys per P · V sub-block (2 KB of f16 V at head_dim 64)
constexpr int kTaskRows = 96;   // rows (query x head of the group) per task

// Ops::scores and Ops::accumulate through the register kernel Ops::micro, 16 columns a pass.
template <class Ops>
struct KvPasses {
  // s[r][16 p + j] = q_r · key j of panel p, for rows r < R (q: [R][hd], s: [R][kBlock]) and
  // the `panels` panels of 16 keys from k ([hd][kKvKeys] each). Meanwhile `v`, the values of
  // the same keys, goes to L2, a panel's worth before each panel.
  template <class T>
  static void scores(int R, int hd, const float* q, const T* k, int panels, float* s, const Ahead& v) {
    const size_t panel_bytes = size_t(kKvKeys) * size_t(hd) * sizeof(T);
    for (int p = 0; p < panels; ++p) {
      v.fetch(size_t(p) * panel_bytes, panel_bytes);
      rows_kv<Ops>(R, hd, q, hd, k + int64_t(p) * hd * kKvKeys, kKvKeys, s + p * kKvKeys, kBlock, false);
    }
  }
  // o[r] += sum over keys j < n of s[r][j] v[j] (s: [R][kBlock], v and o: [.][hd]); n <= kPvKeys.
  // `next` is not asked for here: run at the AVX2 level (on an AVX-512 Xeon), a batch-8 step's
  // attention took 7% longer with it in a burst before each sub-block, and was no faster with it
  // spread over the sub-block's passes.
  template <class T>
  static void accumulate(int R, int n, const float* s, const T* v, int hd, float* o, const Ahead& /*next*/) {
    for (int d0 = 0; d0 < hd; d0 += kKvCols) rows_kv<Ops>(R, n, s, kBlock, v + d0, hd, o + d0, hd, true);
  }
};

struct Scratch {
  aligned_vector<float> q, s, o, m, l;
  std::vector<int> vis;
  void reserve(int rows, int hd) {  // each buffer on its own: rows and head_dim vary per call
    const size_t r = size_t(rows), rh = r * size_t(hd), rs = r * kBlock;
    if (q.size() < rh) q.resize(rh), o.resize(rh);
    if (m.size() < r) m.resize(r), l.resize(r), vis.resize(r);
    if (s.size() < rs) s.resize(rs);
  }
};

// Kv head g of `a`, query rows [i0, i1).
template <class Ops, class T>
void attend(const KvAttention& a, int g, int i0, int i1) {
  thread_local Scratch fs;
  const int gs = a.heads / a.kv_heads, hd = a.head_dim, R = (i1 - i0) * gs;
  fs.reserve(R, hd);
  int kv_end = 0;
  for (int i = i0; i < i1; ++i) {
    const int vis = a.causal ? std::min(a.n_kv, a.q_pos0 + i + 1) : a.n_kv;
    kv_end = std::max(kv_end, vis);
    for (int j = 0; j < gs; ++j) {
      const int r = (i - i0) * gs + j;  // row r is query i of head g * gs + j
      std::memcpy(fs.q.data() + int64_t(r) * hd, a.q + int64_t(i) * a.ldq + int64_t(g * gs + j) * hd,
                  sizeof(float) * size_t(hd));
      fs.vis[size_t(r)] = vis;
      fs.m[size_t(r)] = -std::numeric_limits<float>::infinity();
      fs.l[size_t(r)] = 0.0f;
    }
  }
  std::fill(fs.o.begin(), fs.o.begin() + int64_t(R) * hd, 0.0f);
  const T* kh = static_cast<const T*>(a.k) + int64_t(g) * a.kv_stride;
  const T* vh = static_cast<const T*>(a.v) + int64_t(g) * a.kv_stride;
  const T* k_end = kh + int64_t((kv_end + kKvKeys - 1) / kKvKeys) * kKvKeys * hd;
  const T* v_end = vh + int64_t(kv_end) * hd;
  // The memory is kept busy with one stream, a block ahead of its use: while a block's keys
  // are scored (K found in L2), its values go to L2; while P · V reads those, the next block's
  // keys do (AVX-512; see KvPasses). Each pass asks at the pace it reads, so the stream does not
  // stop for the softmax or at a switch between K and V. With K and V each prefetched ahead
  // within itself, a batch-8 step's attention took 10-15% longer.
  const int block = R <= kFewRows ? kFewRowsBlock : kBlock;
  for (int j0 = 0; j0 < kv_end; j0 += block) {
    const int bk = std::min(block, kv_end - j0), panels = (bk + kKvKeys - 1) / kKvKeys;
    const T* kb = kh + int64_t(j0 / kKvKeys) * hd * kKvKeys;  // this block's keys
    // Keys past n_kv in the last panel are scored but never read back.
    Ops::scores(R, hd, fs.q.data(), kb, panels, fs.s.data(), Ahead(vh + int64_t(j0) * hd, v_end));
    for (int r = 0; r < R; ++r) {
      const int n = std::clamp(fs.vis[size_t(r)] - j0, 0, bk);
      float* srow = fs.s.data() + int64_t(r) * kBlock;
      if (n == 0) {
        std::fill(srow, srow + bk, 0.0f);
        continue;
      }
      softmax_step<Ops>(srow, n, bk, a.scale, fs.m[size_t(r)], fs.l[size_t(r)], fs.o.data() + int64_t(r) * hd, hd);
    }
    // O += P · V over the bk keys (all stored), kPvKeys keys at a time.
    const Ahead next_k = j0 + block < kv_end ? Ahead(kb + int64_t(block) * hd, k_end) : Ahead();
    for (int s0 = 0; s0 < bk; s0 += kPvKeys) {
      const int n = std::min(kPvKeys, bk - s0);
      Ops::accumulate(R, n, fs.s.data() + s0, vh + int64_t(j0 + s0) * hd, hd, fs.o.data(),
                      next_k.from(size_t(s0) * size_t(hd) * sizeof(T)));
    }
  }
  for (int i = i0; i < i1; ++i)
    for (int j = 0; j < gs; ++j) {
      const int r = (i - i0) * gs + j;
      const float l = fs.l[size_t(r)], inv = l > 0.0f ? 1.0f / l : 0.0f;
      const float* src = fs.o.data() + int64_t(r) * hd;
      float* dst = a.out + int64_t(i) * a.ldo + int64_t(g * gs + j) * hd;
      for (int d = 0; d < hd; ++d) dst[d] = src[d] * inv;
    }
}

inline int rows_per_task(const KvAttention& a) { return std::max(1, kTaskRows / (a.heads / a.kv_heads)); }
inline int tasks_of(const KvAttention& a) { return a.kv_heads * ((a.n_q + rows_per_task(a) - 1) / rows_per_task(a)); }

}  // namespace docling::kernels::detail
