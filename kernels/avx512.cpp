// The AVX-512 level (F, BW, VL): the small-M NK product (rows of B against 16-wide vectors,
// and with int8 activations the AVX512-VNNI kernel), the small-M product against panels in
// pairs (decode steps), the large-M product's 8x32 register kernel in the blocked driver of
// kernels/common.h, and the attention's register blocks. Everything else is the AVX2 level's.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "kernels/attention.h"
#include "kernels/common.h"
#include "kernels/exp_avx512.h"
#include "kernels/int8_gemm.h"
#include "kernels/panel_avx512.h"

#define AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))

// GCC 12 reports its own _mm512_undefined_*() (used inside the AVX-512 intrinsics) as
// "may be used uninitialized"; the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace docling::kernels::detail {

namespace {

// 8 rows x 32 columns.
AVX512_FN void micro_avx512(const float* const* xr, int kc, const float* bp, float* c, int64_t ldc) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_load_ps(bp + k * 32), b1 = _mm512_load_ps(bp + k * 32 + 16);
    for (int r = 0; r < 8; ++r) {  // unrolled by the compiler; acc stays in registers
      __m512 a = _mm512_set1_ps(xr[r][k]);
      acc[2 * r] = _mm512_fmadd_ps(a, b0, acc[2 * r]);
      acc[2 * r + 1] = _mm512_fmadd_ps(a, b1, acc[2 * r + 1]);
    }
  }
  for (int r = 0; r < 8; ++r)
    for (int h = 0; h < 2; ++h) {
      float* p = c + r * ldc + h * 16;
      _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[r * 2 + h]));
    }
}

// --- small M (decode) ------------------------------------------------------------------------


AVX512_FN inline __m512 load16_bf16(const uint16_t* p) {
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

template <bool BF16>
AVX512_FN __m512 load16_b(const Gemm& g, int64_t off) {
  if constexpr (BF16) return load16_bf16(static_cast<const uint16_t*>(g.b) + off);
  else return _mm512_loadu_ps(static_cast<const float*>(g.b) + off);
}

template <bool BF16>
AVX512_FN void gemv_row_avx512(const float* x, const Gemm& g, int n0, int n1, float* out) {
  const int K = g.K;
  int n = n0;
  for (; n + 4 <= n1; n += 4) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t off = int64_t(n) * g.ldb;
    int k = 0;
    for (; k + 16 <= K; k += 16) {
      __m512 a = _mm512_loadu_ps(x + k);
      s0 = _mm512_fmadd_ps(a, load16_b<BF16>(g, off + k), s0);
      s1 = _mm512_fmadd_ps(a, load16_b<BF16>(g, off + g.ldb + k), s1);
      s2 = _mm512_fmadd_ps(a, load16_b<BF16>(g, off + 2 * g.ldb + k), s2);
      s3 = _mm512_fmadd_ps(a, load16_b<BF16>(g, off + 3 * g.ldb + k), s3);
    }
    float r[4] = {_mm512_reduce_add_ps(s0), _mm512_reduce_add_ps(s1), _mm512_reduce_add_ps(s2),
                  _mm512_reduce_add_ps(s3)};
    for (int i = 0; i < 4; ++i)
      if (k < K) r[i] += dot_scalar(x, g, n + i, k, K);
    for (int i = 0; i < 4; ++i) out[n + i - n0] = r[i];
  }
  for (; n < n1; ++n) {
    __m512 s = _mm512_setzero_ps();
    int64_t off = int64_t(n) * g.ldb;
    int k = 0;
    for (; k + 16 <= K; k += 16) s = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), load16_b<BF16>(g, off + k), s);
    out[n - n0] = _mm512_reduce_add_ps(s) + (k < K ? dot_scalar(x, g, n, k, K) : 0.0f);
  }
}

// --- few rows against the decoder's panels (decode steps), f32 activations ----------------
//
// For the PanelPairs layout (the Panel layout takes AVX2's kernels). With 32 registers every
// row of a decode batch (up to 14) keeps its sums in registers for all of K, so each row of B
// is widened to f32 once for all rows (AVX2's 16 registers take 7+ rows in turns, widening
// each row of B once per turn). A pair of panels goes at once: row k of both is one 64-byte
// line whose dwords hold two bf16 each (panel_slot: columns j and j + 8), so one load, a shift
// and a mask widen 32 columns (in L1 nearly the FMA peak, where widening each panel with
// vpmovzxwd cost 12%), and the pass reads one sequential stream. Per sum: k in order, as the
// AVX2 kernels, so the two levels agree bit for bit.

// Rows [0, MR) x the pair of panels from p (even), all of K, into sums[r][0] (columns 0-7 of
// panels p and p + 1, as lanes 0-7 and 8-15) and sums[r][1] (columns 8-15); `ahead`: prefetch
// distance in elements. Halves: 3 for both; 1 or 2 for [0] or [1] alone, for more rows than
// registers hold sums of both.
template <int MR, int Halves>
AVX512_FN void panel_pair_sums(const float* const* xr, const Gemm& g, int p, int ahead, __m512 (*sums)[2]) {
  constexpr bool kLo = Halves & 1, kHi = Halves & 2;
  const uint16_t* b = panel_ptr(g, p);
  const __m512i high = _mm512_set1_epi32(int32_t(0xffff0000u));
  __m512 acc[MR][2];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int k = 0; k < g.K; ++k) {
    const uint16_t* line = b + int64_t(k) * 2 * kPanel;
    _mm_prefetch(reinterpret_cast<const char*>(line + ahead), _MM_HINT_T1);
    const __m512i v = _mm512_loadu_si512(line);
    const __m512 lo = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
    const __m512 hi = _mm512_castsi512_ps(_mm512_and_si512(v, high));
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(xr[r][k]);
      if constexpr (kLo) acc[r][0] = _mm512_fmadd_ps(a, lo, acc[r][0]);
      if constexpr (kHi) acc[r][1] = _mm512_fmadd_ps(a, hi, acc[r][1]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    if constexpr (kLo) sums[r][0] = acc[r][0];
    if constexpr (kHi) sums[r][1] = acc[r][1];
  }
}

// Rows [0, MR) x the pair of panels from p (even): up to 14 rows in one pass (2 MR sums, 2
// vectors of B, a broadcast), more in two passes of one half each (the second finds the lines
// in L2); then out in column order (`stream`: see put_panel_avx512).
template <int MR>
AVX512_FN void panel_pair_rows(const float* const* xr, const Gemm& g, int p, int ahead, bool stream) {
  __m512 sums[MR][2];
  if constexpr (MR <= 14) {
    panel_pair_sums<MR, 3>(xr, g, p, ahead, sums);
  } else {
    panel_pair_sums<MR, 1>(xr, g, p, ahead, sums);
    panel_pair_sums<MR, 2>(xr, g, p, ahead, sums);
  }
  // Panel p: lanes 0-7 of both; panel p + 1: lanes 8-15 of both.
  const __m512i first = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(8));
  for (int r = 0; r < MR; ++r) {
    put_panel_avx512(g, r, p, _mm512_permutex2var_ps(sums[r][0], first, sums[r][1]), stream);
    if ((p + 1) * kPanel < g.N)
      put_panel_avx512(g, r, p + 1, _mm512_permutex2var_ps(sums[r][0], second, sums[r][1]), stream);
  }
}

// Rows [0, MR) x panel p alone (a chunk that starts or ends inside a pair).
template <int MR>
AVX512_FN void panel_single_sums(const float* const* xr, const Gemm& g, int p, int ahead) {
  const uint16_t* b = panel_ptr(g, p);
  __m512 acc[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) acc[r] = _mm512_setzero_ps();
  for (int k = 0; k < g.K; ++k) {
    _mm_prefetch(reinterpret_cast<const char*>(b + int64_t(k) * 2 * kPanel + ahead), _MM_HINT_T1);
    const __m512 w = load16_bf16(b + int64_t(k) * 2 * kPanel);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(xr[r][k]), w, acc[r]);
  }
  for (int r = 0; r < MR; ++r) put_panel_avx512(g, r, p, slots_to_columns(acc[r]));
}

// Panels [p0, p1) of MR rows, whole pairs where they can.
template <int MR>
AVX512_FN void panel_rows_f32(const float* const* xr, const Gemm& g, int p0, int p1, int ahead, bool stream) {
  int p = p0;
  if (p % 2) panel_single_sums<MR>(xr, g, p++, ahead);
  for (; p + 2 <= p1; p += 2) panel_pair_rows<MR>(xr, g, p, ahead, stream);
  if (p < p1) panel_single_sums<MR>(xr, g, p, ahead);
}

template <int... R>
AVX512_FN void panel_dispatch_f32(std::integer_sequence<int, R...>, const float* const* xr, const Gemm& g, int p0,
                                  int p1, int ahead, bool stream) {
  ((g.M == R + 1 ? panel_rows_f32<R + 1>(xr, g, p0, p1, ahead, stream) : void()), ...);
}

// Columns [n0, n1) (n0 on a panel boundary) of every row (M <= kSmallM).
AVX512_FN void gemv_panel_avx512(const Gemm& g, int n0, int n1) {
  if (g.layout != BLayout::PanelPairs) {
    gemv_panel_avx2(g, n0, n1);
    return;
  }
  const float* xr[kSmallM];
  for (int r = 0; r < g.M; ++r) xr[r] = g.x + int64_t(r) * g.ldx;
  const DecodeParams d = decode_params();
  const bool stream = d.stream_outputs && g.M >= 4 && !g.accumulate;
  panel_dispatch_f32(std::make_integer_sequence<int, kSmallM>{}, xr, g, n0 / kPanel, (n1 + kPanel - 1) / kPanel,
                     d.prefetch_rows * kPanel, stream);
  if (stream) _mm_sfence();  // the streamed lines are visible before the chunk counts as done
}

// --- AVX512-VNNI int8 x int8 (small M) ---
// The row of x is quantized per call: xq = round(x / xs) + 128 (u8), xs = max|x| / 127.
// vpdpbusd(u8 xq, s8 w) sums 4 products into int32 without saturation; the +128 offset is
// removed with sum(w) of the same group (a second vpdpbusd against ones).
#define VNNI_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))

bool vnni_usable(const Gemm& g) {
  const int G = group_of(g);
  return g.K % 64 == 0 && G % 64 == 0;
}

float quantize_row_u8(const float* x, int K, uint8_t* xq) {
  float mx = 0.0f;
  for (int k = 0; k < K; ++k) mx = std::max(mx, std::fabs(x[k]));
  const float xs = mx > 0.0f ? mx / 127.0f : 1.0f, inv = 1.0f / xs;
  for (int k = 0; k < K; ++k) xq[k] = uint8_t(int(std::nearbyint(x[k] * inv)) + 128);
  return xs;
}

// Four B rows at a time (independent dot products for the pipeline).
VNNI_FN void gemv_row_i8_vnni(const uint8_t* xq, float xs, const Gemm& g, int n0, int n1, float* out) {
  const int G = group_of(g), ng = groups_of(g);
  const int8_t* B = static_cast<const int8_t*>(g.b);
  const __m512i ones = _mm512_set1_epi8(1);
  int n = n0;
  for (; n + 4 <= n1; n += 4) {
    const int8_t* b = B + int64_t(n) * g.ldb;
    const float* sc = g.bscale + int64_t(n) * ng;
    __m512 t[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int gi = 0; gi < ng; ++gi) {
      __m512i d[4], ws[4];
      for (int i = 0; i < 4; ++i) d[i] = ws[i] = _mm512_setzero_si512();
      for (int k = gi * G; k < (gi + 1) * G; k += 64) {
        const __m512i a = _mm512_loadu_si512(xq + k);
        for (int i = 0; i < 4; ++i) {
          const __m512i w = _mm512_loadu_si512(b + int64_t(i) * g.ldb + k);
          d[i] = _mm512_dpbusd_epi32(d[i], a, w);
          ws[i] = _mm512_dpbusd_epi32(ws[i], ones, w);
        }
      }
      for (int i = 0; i < 4; ++i)
        t[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(d[i], _mm512_slli_epi32(ws[i], 7))),
                               _mm512_set1_ps(sc[int64_t(i) * ng + gi]), t[i]);
    }
    for (int i = 0; i < 4; ++i) out[n + i - n0] = _mm512_reduce_add_ps(t[i]) * xs;
  }
  for (; n < n1; ++n) {
    const int8_t* b = B + int64_t(n) * g.ldb;
    __m512 t = _mm512_setzero_ps();
    for (int gi = 0; gi < ng; ++gi) {
      __m512i d = _mm512_setzero_si512(), ws = d;
      for (int k = gi * G; k < (gi + 1) * G; k += 64) {
        __m512i w = _mm512_loadu_si512(b + k);
        d = _mm512_dpbusd_epi32(d, _mm512_loadu_si512(xq + k), w);
        ws = _mm512_dpbusd_epi32(ws, ones, w);
      }
      d = _mm512_sub_epi32(d, _mm512_slli_epi32(ws, 7));
      t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_set1_ps(g.bscale[int64_t(n) * ng + gi]), t);
    }
    out[n - n0] = _mm512_reduce_add_ps(t) * xs;
  }
}

// Small M, NK layout, one row of x at a time. Int8 weights take the VNNI kernel with
// Act (int8 activations) where the shape allows, else the AVX2 loops (f32 activations).
template <bool Act>
void gemv_nk_avx512(const Gemm& g, int n0, int n1) {
  const bool bf = g.btype == BType::BF16, i8 = g.btype == BType::I8;
  const bool vnni = i8 && Act && vnni_usable(g);
  if (i8 && !vnni) {
    gemv_nk_avx2(g, n0, n1);
    return;
  }
  float tmp[kGemvChunk];
  thread_local std::vector<uint8_t> xq;
  float xs[kSmallM] = {};
  if (vnni) {  // quantize the (few) rows once for all chunks
    if (xq.size() < size_t(g.M) * size_t(g.K) + 64) xq.resize(size_t(g.M) * size_t(g.K) + 64);
    for (int m = 0; m < g.M; ++m) xs[m] = quantize_row_u8(g.x + int64_t(m) * g.ldx, g.K, xq.data() + int64_t(m) * g.K);
  }
  for (int c0 = n0; c0 < n1; c0 += kGemvChunk) {
    const int c1 = std::min(n1, c0 + kGemvChunk);
    for (int m = 0; m < g.M; ++m) {
      const float* x = g.x + int64_t(m) * g.ldx;
      if (vnni) gemv_row_i8_vnni(xq.data() + int64_t(m) * g.K, xs[m], g, c0, c1, tmp);
      else bf ? gemv_row_avx512<true>(x, g, c0, c1, tmp) : gemv_row_avx512<false>(x, g, c0, c1, tmp);
      write_out(g, m, c0, c1, tmp);
    }
  }
}

// --- attention (kernels/attention.h) ----------------------------------------------------------
//
// A decode step's attention has few rows (3: one query, the group's three heads), and the
// AVX2 kernel's 3 x 16 block has only 6 sums: FMA latency, not throughput, bounds it. Here a
// pass covers 4 panels of keys (scores) or 64 dimensions (outputs): 12 independent sums of 16
// lanes for 3 rows, up to 24 for 6.

AVX512_FN inline __m512 load16_kv(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
AVX512_FN inline __m512 load16_kv(const float* p) { return _mm512_loadu_ps(p); }

// out[r][16 c + l] (+)= sum over i < n of x[r * ldx + i] * b[i * ldb + c * ldv + l], for MR rows
// and N vectors of 16 columns. Scores: i runs over the dimensions, a vector is a panel of 16
// keys. Outputs: i runs over the keys, a vector is 16 dimensions of V. Each step i also asks
// for the next kAheadStep bytes of `ahead` (see attend): the other operand's stream keeps
// pace with this one.
template <class T>
constexpr size_t kAheadStep = 64 * sizeof(T);  // a block's values for a dimension; a key's K at head_dim 64

template <int MR, int N, class T>
AVX512_FN void rows_vectors(int n, const float* x, int64_t ldx, const T* b, int64_t ldb, int64_t ldv, float* out,
                            int64_t ldo, bool add, Ahead ahead) {
  __m512 acc[MR][N];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < N; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int i = 0; i < n; ++i) {
    ahead.fetch<kAheadStep<T>>(size_t(i) * kAheadStep<T>);
    __m512 bv[N];
#pragma GCC unroll 4
    for (int c = 0; c < N; ++c) bv[c] = load16_kv(b + int64_t(i) * ldb + c * ldv);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m512 xv = _mm512_set1_ps(x[r * ldx + i]);
#pragma GCC unroll 4
      for (int c = 0; c < N; ++c) acc[r][c] = _mm512_fmadd_ps(xv, bv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < N; ++c) {
      float* p = out + r * ldo + 16 * c;
      _mm512_storeu_ps(p, add ? _mm512_add_ps(acc[r][c], _mm512_loadu_ps(p)) : acc[r][c]);
    }
}

// rows_vectors with mr <= 6 rows and n <= 4 vectors, both chosen at compile time.
template <class T, int MR = 6, int N = 4, class... A>
AVX512_FN inline void rows_vectors_of(int mr, int n, A... args) {
  if constexpr (MR > 1) {
    if (mr < MR) return rows_vectors_of<T, MR - 1, N>(mr, n, args...);
  }
  if constexpr (N > 1) {
    if (n < N) return rows_vectors_of<T, MR, N - 1>(mr, n, args...);
  }
  rows_vectors<MR, N, T>(args...);
}

// The attention's softmax step in 16 lanes, bit for bit the AVX2 kernels' (max is order-free;
// exp_avx512 is exp_avx2 lane for lane, and the sum keeps 8 lanes added chunk by chunk as
// there). A decode step's softmax was ~30% of its attention's work with 8 lanes.
AVX512_FN float max_avx512(const float* s, int n) {
  __m512 m16 = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  int i = 0;
  for (; i + 16 <= n; i += 16) m16 = _mm512_max_ps(m16, _mm512_loadu_ps(s + i));
  float mx = _mm512_reduce_max_ps(m16);
  for (; i < n; ++i) mx = std::max(mx, s[i]);
  return mx;
}

AVX512_FN float exp_scaled_avx512(float* s, int n, float scale, float mx) {
  const __m512 sc = _mm512_set1_ps(scale), m = _mm512_set1_ps(mx);
  __m256 sum8 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp_avx512(_mm512_fmsub_ps(_mm512_loadu_ps(s + i), sc, m));
    _mm512_storeu_ps(s + i, e);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1));
    sum8 = _mm256_add_ps(_mm256_add_ps(sum8, _mm512_castps512_ps256(e)), hi);
  }
  alignas(32) float sums[8];
  _mm256_store_ps(sums, sum8);
  return exp_scaled_avx2_from(s + i, n - i, scale, mx, sums);
}

struct Avx512Softmax {
  static constexpr bool kVec = true;
  static float max(const float* s, int n) { return max_avx512(s, n); }
  static float exp_scaled(float* s, int n, float scale, float mx) { return exp_scaled_avx512(s, n, scale, mx); }
};

// A scoring pass covers 4 panels (64 keys), an output pass 64 dimensions; only the first row block of a
// pass asks for `ahead` (the others find their operand cached).
struct Avx512Ops : Avx512Softmax {
  template <class T>
  static void scores(int R, int hd, const float* q, const T* k, int panels, float* s, const Ahead& v) {
    const int64_t pstride = int64_t(hd) * kKvKeys;
    for (int p = 0; p < panels; p += 4) {
      const Ahead pass_v = v.from(size_t(p) * size_t(pstride) * sizeof(T));  // the same keys' values
      for (int r0 = 0; r0 < R; r0 += 6)
        rows_vectors_of<T>(std::min(6, R - r0), std::min(4, panels - p), hd, q + int64_t(r0) * hd, int64_t(hd),
                           k + p * pstride, int64_t(kKvKeys), pstride,
                           s + int64_t(r0) * kBlock + p * kKvKeys, int64_t(kBlock), false,
                           r0 == 0 ? pass_v : Ahead());
    }
  }
  template <class T>
  static void accumulate(int R, int n, const float* s, const T* v, int hd, float* o, const Ahead& next) {
    for (int d0 = 0; d0 < hd; d0 += 64)
      for (int r0 = 0; r0 < R; r0 += 6)
        rows_vectors_of<T>(std::min(6, R - r0), std::min(4, (hd - d0) / 16), n, s + int64_t(r0) * kBlock,
                           int64_t(kBlock), v + d0, int64_t(hd), int64_t(16), o + int64_t(r0) * hd + d0, int64_t(hd),
                           true, d0 == 0 && r0 == 0 ? next : Ahead());
  }
};

// --- element-wise ---------------------------------------------------------------------------
//
// gelu_avx2 and silu_mul_avx2 16 lanes at a time, the same operations lane for lane (exp_avx512
// is exp_avx2's arithmetic), so the levels agree bit for bit; the last n % 16 values go to the
// AVX2 kernels, which split them as they would have.

AVX512_FN void gelu_avx512(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, gelu_avx512_lanes(_mm512_loadu_ps(x + i)));
  gelu_avx2(x + i, n - i);
}

AVX512_FN void silu_mul_avx512(float* gate, const float* up, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(gate + i);
    const __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, exp_avx512(_mm512_sub_ps(zero, v))));
    _mm512_storeu_ps(gate + i, _mm512_mul_ps(s, _mm512_loadu_ps(up + i)));
  }
  silu_mul_avx2(gate + i, up + i, n - i);
}

// sum_exp_avx2 16 lanes at a time (the order of the sums differs: it is not held to AVX2's).
AVX512_FN float sum_exp_avx512(const float* x, int n, float mx) {
  const __m512 m = _mm512_set1_ps(mx);
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_add_ps(s0, exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(x + i), m)));
    s1 = _mm512_add_ps(s1, exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), m)));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) + sum_exp_avx2(x + i, n - i, mx);
}

void attend_f16_avx512(const KvAttention& a, int g, int i0, int i1) { attend<Avx512Ops, uint16_t>(a, g, i0, i1); }
void attend_f32_avx512(const KvAttention& a, int g, int i0, int i1) { attend<Avx512Ops, float>(a, g, i0, i1); }

}  // namespace

void gemm_large_avx512(const Gemm& g, bool parallel) { gemm_chunks<8, 32, pack_avx2<32>>(g, parallel, micro_avx512); }

KernelTable avx512_kernels(bool int8_act) {
  KernelTable t = avx2_kernels();
  t.isa = Isa::Avx512;
  t.gemv_nk = int8_act ? gemv_nk_avx512<true> : gemv_nk_avx512<false>;
  t.gemv_panel = gemv_panel_avx512;
  t.gemm_large = gemm_large_avx512;
  t.attend_f16 = attend_f16_avx512;
  t.attend_f32 = attend_f32_avx512;
  t.gelu_tanh = gelu_avx512;
  t.silu_mul = silu_mul_avx512;
  t.sum_exp = sum_exp_avx512;
  if (cpu_has_vnni()) t.gemm_i8 = gemm_i8_vnni;  // else AVX2's
  return t;
}

}  // namespace docling::kernels::detail
