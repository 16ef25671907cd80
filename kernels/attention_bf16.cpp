// Unmasked self-attention in bf16 products (vdpbf16ps): see self_attention_bf16 in kernels/kernels.h.
//
// The vision encoder's attention (1,024 patches attending to each other, 12 heads of 64) is a
// quarter of a tile's time once its matrix products run in bf16; in f32 it would cap the bf16
// precision's gain. Per head:
//  - K is packed into blocks of 16 keys, [hd / 2][16] dwords each, a dword holding dimensions
//    2d and 2d + 1 of one key (the operand order of vdpbf16ps): q . K for 16 keys is then one
//    broadcast of a q pair and one vdpbf16ps per pair, no horizontal sums.
//  - V is packed by pairs of keys, [n / 2][hd] dwords, a dword holding keys 2j and 2j + 1 of
//    one dimension: P . V takes a broadcast pair of probabilities per row.
// A task takes RB query rows of one head: all scores of those rows (f32), a softmax over each
// row (f32, its exp to 3.3e-6 on the native paths; the probabilities are rounded to bf16 pairs),
// then P . V divided by the sum.
// With AMX (has_amx_bf16) the same packed K and V are the tiles' B operands as they are: a task
// takes 64 rows (four row tiles per B tile) and the score and P . V sums run as tdpbf16ps.
// The portable kernels compute the same roundings with f32 sums, for tests on any CPU.

// GCC 12 reports its own _mm512_undefined_*() inside the intrinsics as maybe uninitialized (also
// where the kernels' headers inline them, hence before the includes).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "core/half.h"  // bf16_to_f32, f32_to_bf16
#include "kernels/amx.h"
#include "kernels/kernels.h"
#include "kernels/transpose_avx512.h"
#include "kernels/parallel.h"

#define BF16_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

namespace docling::kernels {

namespace {

constexpr int kKeys = 16;  // keys per packed K block (one zmm of scores)
constexpr int kKeyPad = 32;  // keys padded to this (an AMX tile step: 16 pairs)
constexpr int RB = 48;     // query rows per task (AVX512-BF16)
constexpr int kAmxRows = 64;  // query rows per task (AMX: four row tiles)
constexpr int SR = 8;      // rows per score register block (x 2 key blocks = 16 accumulators)
constexpr int PR = 6;      // rows per P . V register block (x 4 vectors of 16 dims = 24 accumulators)

uint32_t pair(float lo, float hi) { return uint32_t(f32_to_bf16(lo)) | uint32_t(f32_to_bf16(hi)) << 16; }

// The two bf16 halves of a packed pair.
float lo_f(uint32_t v) { return bf16_to_f32(uint16_t(v & 0xffffu)); }
float hi_f(uint32_t v) { return bf16_to_f32(uint16_t(v >> 16)); }

// Shapes of one call: n keys padded to kKeyPad (npad, zeros past n), npad / 2 pairs of them.
struct Shape {
  int n, hd, hp, npad, n2;  // hp = hd / 2
  Shape(int n_, int hd_) : n(n_), hd(hd_), hp(hd_ / 2), npad((n_ + kKeyPad - 1) / kKeyPad * kKeyPad), n2(npad / 2) {}
  int64_t k_size() const { return int64_t(npad) * hp; }  // dwords of packed K per head
  int64_t v_size() const { return int64_t(n2) * hd; }    // dwords of packed V per head
};

// Head h of k and v ([n][ld], head at column h * hd) into its packed K and V (zero padded).
void pack_head(const float* k, const float* v, int64_t ld, int h, const Shape& s, uint32_t* kp, uint32_t* vp) {
  const float* kh = k + int64_t(h) * s.hd;
  const float* vh = v + int64_t(h) * s.hd;
  std::memset(kp, 0, sizeof(uint32_t) * size_t(s.k_size()));
  for (int p = 0; p < s.n; ++p) {
    const float* kr = kh + int64_t(p) * ld;
    uint32_t* blk = kp + int64_t(p / kKeys) * s.hp * kKeys + p % kKeys;
    for (int d = 0; d < s.hp; ++d) blk[int64_t(d) * kKeys] = pair(kr[2 * d], kr[2 * d + 1]);
  }
  for (int j = 0; j < s.n2; ++j) {
    const float* v0 = 2 * j < s.n ? vh + int64_t(2 * j) * ld : nullptr;
    const float* v1 = 2 * j + 1 < s.n ? v0 + ld : nullptr;
    uint32_t* row = vp + int64_t(j) * s.hd;
    for (int d = 0; d < s.hd; ++d) row[d] = pair(v0 ? v0[d] : 0.0f, v1 ? v1[d] : 0.0f);
  }
}

// n floats (n even) to n / 2 bf16 pairs: out[j] = (x[2j], x[2j + 1]).
void pairs_portable(const float* x, int n, uint32_t* out) {
  for (int j = 0; j < n / 2; ++j) out[j] = pair(x[2 * j], x[2 * j + 1]);
}

// --- portable kernels -----------------------------------------------------------------------

// s[r][key] for rows [0, rows) and all npad keys.
void scores_portable(const uint32_t* qp, int rows, const uint32_t* kp, const Shape& sh, float* s) {
  for (int r = 0; r < rows; ++r)
    for (int key = 0; key < sh.npad; ++key) {
      const uint32_t* blk = kp + int64_t(key / kKeys) * sh.hp * kKeys + key % kKeys;
      float acc = 0.0f;
      for (int d = 0; d < sh.hp; ++d) {
        const uint32_t a = qp[r * sh.hp + d], b = blk[int64_t(d) * kKeys];
        acc += hi_f(a) * hi_f(b);
        acc += lo_f(a) * lo_f(b);
      }
      s[int64_t(r) * sh.npad + key] = acc;
    }
}

// out[r][d] = sum over key pairs of p . V, scaled by inv[r].
void pv_portable(const uint32_t* pp, int rows, const uint32_t* vp, const Shape& sh, const float* inv, float* out,
                 int64_t ldo) {
  for (int r = 0; r < rows; ++r)
    for (int d = 0; d < sh.hd; ++d) {
      float acc = 0.0f;
      for (int j = 0; j < sh.n2; ++j) {
        const uint32_t a = pp[int64_t(r) * sh.n2 + j], b = vp[int64_t(j) * sh.hd + d];
        acc += hi_f(a) * hi_f(b);
        acc += lo_f(a) * lo_f(b);
      }
      out[r * ldo + d] = acc * inv[r];
    }
}

// --- AVX512-BF16 kernels ----------------------------------------------------------------------

// R rows x 32 keys (two K blocks) from key block kb.
template <int R>
BF16_FN inline void scores_block(const uint32_t* qp, const uint32_t* kp, const Shape& sh, int kb, float* s) {
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const uint32_t* b0 = kp + int64_t(kb) * sh.hp * kKeys;
  const uint32_t* b1 = b0 + int64_t(sh.hp) * kKeys;
  for (int d = 0; d < sh.hp; ++d) {
    const __m512bh k0 = (__m512bh)_mm512_load_si512(b0 + d * kKeys);
    const __m512bh k1 = (__m512bh)_mm512_load_si512(b1 + d * kKeys);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(int(qp[r * sh.hp + d]));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, k0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, k1);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(s + int64_t(r) * sh.npad + kb * kKeys, acc[r][0]);
    _mm512_storeu_ps(s + int64_t(r) * sh.npad + kb * kKeys + kKeys, acc[r][1]);
  }
}

// One key block (16 keys) for R rows: the odd block at the end.
template <int R>
BF16_FN inline void scores_single(const uint32_t* qp, const uint32_t* kp, const Shape& sh, int kb, float* s) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  const uint32_t* b0 = kp + int64_t(kb) * sh.hp * kKeys;
  for (int d = 0; d < sh.hp; ++d) {
    const __m512bh k0 = (__m512bh)_mm512_load_si512(b0 + d * kKeys);
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_set1_epi32(int(qp[r * sh.hp + d])), k0);
  }
  for (int r = 0; r < R; ++r) _mm512_storeu_ps(s + int64_t(r) * sh.npad + kb * kKeys, acc[r]);
}

template <int R>
BF16_FN void scores_rows(const uint32_t* qp, const uint32_t* kp, const Shape& sh, float* s) {
  const int nb = sh.npad / kKeys;
  int kb = 0;
  for (; kb + 2 <= nb; kb += 2) scores_block<R>(qp, kp, sh, kb, s);
  if (kb < nb) scores_single<R>(qp, kp, sh, kb, s);
}

BF16_FN void scores_avx512(const uint32_t* qp, int rows, const uint32_t* kp, const Shape& sh, float* s) {
  int r = 0;
  for (; r + SR <= rows; r += SR) scores_rows<SR>(qp + r * sh.hp, kp, sh, s + int64_t(r) * sh.npad);
  for (; r < rows; ++r) scores_rows<1>(qp + r * sh.hp, kp, sh, s + int64_t(r) * sh.npad);
}

// R rows x 64 dimensions (4 vectors) at dimension d0.
template <int R>
BF16_FN inline void pv_block(const uint32_t* pp, const uint32_t* vp, const Shape& sh, int d0, const float* inv,
                             float* out, int64_t ldo) {
  __m512 acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int j = 0; j < sh.n2; ++j) {
    const uint32_t* vr = vp + int64_t(j) * sh.hd + d0;
    __m512bh v[4];
    for (int c = 0; c < 4; ++c) v[c] = (__m512bh)_mm512_loadu_si512(vr + 16 * c);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(int(pp[int64_t(r) * sh.n2 + j]));
      for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], a, v[c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    const __m512 f = _mm512_set1_ps(inv[r]);
    for (int c = 0; c < 4; ++c) _mm512_storeu_ps(out + r * ldo + d0 + 16 * c, _mm512_mul_ps(acc[r][c], f));
  }
}

BF16_FN void pv_avx512(const uint32_t* pp, int rows, const uint32_t* vp, const Shape& sh, const float* inv,
                       float* out, int64_t ldo) {
  for (int d0 = 0; d0 < sh.hd; d0 += 64) {
    int r = 0;
    for (; r + PR <= rows; r += PR) pv_block<PR>(pp + int64_t(r) * sh.n2, vp, sh, d0, inv + r, out + r * ldo, ldo);
    for (; r < rows; ++r) pv_block<1>(pp + int64_t(r) * sh.n2, vp, sh, d0, inv + r, out + r * ldo, ldo);
  }
}

// The packers: rounding as vcvtne2ps2bf16 (nearest even), as the portable ones.
BF16_FN void pairs_avx512(const float* x, int n, uint32_t* out) {  // n: hd or npad, multiples of 32
  detail::round_to_bf16(x, n, n, reinterpret_cast<uint16_t*>(out));
}

// K: 16 keys x 16 pairs rounded, then transposed into the block's [pair][key] order. V: rows
// 2j and 2j + 1 rounded and interleaved into one dword per dimension.
BF16_FN void pack_head_avx512(const float* k, const float* v, int64_t ld, int h, const Shape& s, uint32_t* kp,
                              uint32_t* vp) {
  const float* kh = k + int64_t(h) * s.hd;
  const float* vh = v + int64_t(h) * s.hd;
  for (int p0 = 0; p0 < s.npad; p0 += kKeys) {
    uint32_t* blk = kp + int64_t(p0 / kKeys) * s.hp * kKeys;
    for (int d0 = 0; d0 < s.hp; d0 += 16) {
      __m512i r[16];
      for (int j = 0; j < 16; ++j) {
        const float* kr = kh + int64_t(p0 + j) * ld + 2 * d0;
        r[j] = p0 + j < s.n ? (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(kr + 16), _mm512_loadu_ps(kr))
                            : _mm512_setzero_si512();
      }
      detail::transpose16_epi32(r);
      for (int i = 0; i < 16; ++i) _mm512_store_si512(blk + int64_t(d0 + i) * kKeys, r[i]);
    }
  }
  for (int j = 0; j < s.n2; ++j) {
    const float* v0 = vh + int64_t(2 * j) * ld;
    const bool has0 = 2 * j < s.n, has1 = 2 * j + 1 < s.n;
    uint32_t* row = vp + int64_t(j) * s.hd;
    for (int d = 0; d < s.hd; d += 16) {
      const __m512 a = has0 ? _mm512_loadu_ps(v0 + d) : _mm512_setzero_ps();
      const __m512 b = has1 ? _mm512_loadu_ps(v0 + ld + d) : _mm512_setzero_ps();
      const __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(a));
      const __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(b));
      _mm512_storeu_si512(row + d, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
  }
}

constexpr float kLog2e = 1.44269504088896341f;
// Coefficients of exp2_for_bf16's polynomial in f, highest degree first: (ln 2)^k / k!, k = 5..0.
// The vector kernel and its portable twin both read them, so they stay the same bits.
constexpr float kExp2Poly[] = {1.333355815e-3f, 9.618129108e-3f, 5.550410866e-2f,
                               2.402265070e-1f, 6.931471806e-1f, 1.0f};

// 2^t for t <= 0 (and a little above), to 3.3e-6 relative: 2^n 2^f with n = round(t), f in
// [-1/2, 1/2] by the degree-5 Taylor polynomial of e^(f ln 2), vscalefps for 2^n (0 far
// below). Half the operations of exp_avx512, whose last bits P does not keep: it is rounded to
// bf16 (2^-9) next.
BF16_FN inline __m512 exp2_for_bf16(__m512 t) {
  const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(t, n);
  __m512 p = _mm512_set1_ps(kExp2Poly[0]);
#pragma GCC unroll 8
  for (size_t i = 1; i < std::size(kExp2Poly); ++i) p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(kExp2Poly[i]));
  return _mm512_scalef_ps(p, n);
}

// One row's softmax for the native paths in two passes: the max of s * scale over the n keys, then
// exp(s * scale - max) (0 past n, as 2^((s * scale - max) log2 e), exp2_for_bf16), its sum and
// the bf16 pairs of all npad keys together. Returns 1 / sum. The portable twin's values but for
// the order of the sum.
BF16_FN float softmax_pairs_avx512(float* s, int n, int npad, float scale, uint32_t* out) {
  const __m512 sc = _mm512_set1_ps(scale), ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 mv = ninf;
  for (int j = 0; j < n; j += 16) {
    const __mmask16 m = detail::first_lanes(n - j);
    mv = _mm512_max_ps(mv, _mm512_mask_mul_ps(ninf, m, _mm512_maskz_loadu_ps(m, s + j), sc));
  }
  const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(mv) * kLog2e), sc2 = _mm512_set1_ps(scale * kLog2e);
  __m512 sum = _mm512_setzero_ps();
  uint16_t* d = reinterpret_cast<uint16_t*>(out);
  for (int j = 0; j < npad; j += 32) {
    const __mmask16 m0 = detail::first_lanes(n - j), m1 = detail::first_lanes(n - j - 16);
    const __m512 e0 = _mm512_maskz_mov_ps(m0, exp2_for_bf16(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m0, s + j), sc2, mx)));
    const __m512 e1 = _mm512_maskz_mov_ps(m1, exp2_for_bf16(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(m1, s + j + 16), sc2, mx)));
    sum = _mm512_add_ps(sum, _mm512_add_ps(e0, e1));
    _mm512_storeu_si512(d + j, (__m512i)_mm512_cvtne2ps_pbh(e1, e0));
  }
  const float l = _mm512_reduce_add_ps(sum);
  return l > 0.0f ? 1.0f / l : 0.0f;
}

// exp2_for_bf16 for one value: std::nearbyint, std::fma and std::ldexp give the vector's bits.
float exp2_for_bf16_portable(float t) {
  const float n = std::nearbyint(t), f = t - n;
  float p = kExp2Poly[0];
  for (size_t i = 1; i < std::size(kExp2Poly); ++i) p = std::fma(p, f, kExp2Poly[i]);
  return std::ldexp(p, int(std::clamp(n, -300.0f, 300.0f)));  // 0 (or p) well past either end, as vscalefps
}

// The portable twin: the same max, exponent and polynomial, then the pairs.
float softmax_pairs_portable(float* s, int n, int npad, float scale, uint32_t* out) {
  float mx = -std::numeric_limits<float>::infinity(), l = 0.0f;
  for (int j = 0; j < n; ++j) mx = std::max(mx, s[j] * scale);
  const float m2 = mx * kLog2e, sc2 = scale * kLog2e;
  for (int j = 0; j < npad; ++j) {
    s[j] = j < n ? exp2_for_bf16_portable(std::fma(s[j], sc2, -m2)) : 0.0f;
    l += s[j];
  }
  pairs_portable(s, npad, out);
  return l > 0.0f ? 1.0f / l : 0.0f;
}

// --- AMX kernels (kAmxRows rows; rows past `rows` are computed from stale scratch and dropped) --

// Tiles 0-3 = rows 0-15, 16-31, 32-47, 48-63 of A (bf16 pairs, a row every sa bytes, rows 16
// apart at a + i * rows16) times `steps` B tiles (a row every sb bytes), step i at a + i * 16
// and b + i * b_step: each B tile is loaded once for the four row tiles.
AMX_FN inline void four_row_tiles(const uint32_t* a, int64_t rows16, int64_t sa, const uint32_t* b, int64_t sb,
                                  int64_t b_step, int steps) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int i = 0; i < steps; ++i) {
    const uint32_t* ai = a + 16 * i;
    _tile_loadd(6, b + i * b_step, sb);
    _tile_loadd(4, ai, sa);
    _tile_dpbf16ps(0, 4, 6);
    _tile_loadd(5, ai + rows16, sa);
    _tile_dpbf16ps(1, 5, 6);
    _tile_loadd(4, ai + 2 * rows16, sa);
    _tile_dpbf16ps(2, 4, 6);
    _tile_loadd(5, ai + 3 * rows16, sa);
    _tile_dpbf16ps(3, 5, 6);
  }
}

// Scores of 64 rows, one K block (16 keys) at a time over hd / 32 tile steps.
AMX_FN void scores_amx(const uint32_t* qp, int, const uint32_t* kp, const Shape& sh, float* s) {
  const int64_t ss = int64_t(sh.npad) * 4, rows16 = int64_t(16) * sh.npad;
  detail::load_tile_config();
  for (int kb = 0; kb < sh.npad / kKeys; ++kb) {
    four_row_tiles(qp, 16 * sh.hp, sh.hp * 4, kp + int64_t(kb) * sh.hp * kKeys, kKeys * 4, 16 * kKeys, sh.hp / 16);
    float* c = s + kb * kKeys;
    _tile_stored(0, c, ss);
    _tile_stored(1, c + rows16, ss);
    _tile_stored(2, c + 2 * rows16, ss);
    _tile_stored(3, c + 3 * rows16, ss);
  }
  _tile_release();
}

// P . V for 64 rows, 16 dimensions at a time over n2 / 16 tile steps of key pairs; the sums
// scaled by 1 / (row sum) on the way out.
AMX_FN void pv_amx(const uint32_t* pp, int rows, const uint32_t* vp, const Shape& sh, const float* inv, float* out,
                   int64_t ldo) {
  alignas(64) float c[kAmxRows * 16];
  detail::load_tile_config();
  for (int d0 = 0; d0 < sh.hd; d0 += 16) {
    four_row_tiles(pp, 16 * int64_t(sh.n2), int64_t(sh.n2) * 4, vp + d0, int64_t(sh.hd) * 4, 16 * int64_t(sh.hd),
                   sh.n2 / 16);
    _tile_stored(0, c, 64);
    _tile_stored(1, c + 256, 64);
    _tile_stored(2, c + 512, 64);
    _tile_stored(3, c + 768, 64);
    for (int r = 0; r < rows; ++r)
      _mm512_storeu_ps(out + r * ldo + d0, _mm512_mul_ps(_mm512_load_ps(c + 16 * r), _mm512_set1_ps(inv[r])));
  }
  _tile_release();
}

// --- driver -----------------------------------------------------------------------------------

using ScoresFn = void (*)(const uint32_t* qp, int rows, const uint32_t* kp, const Shape& sh, float* s);
using PvFn = void (*)(const uint32_t* pp, int rows, const uint32_t* vp, const Shape& sh, const float* inv,
                      float* out, int64_t ldo);
using PackHeadFn = void (*)(const float* k, const float* v, int64_t ld, int h, const Shape& s, uint32_t* kp,
                            uint32_t* vp);
using PairsFn = void (*)(const float* x, int n, uint32_t* out);
using SoftmaxFn = float (*)(float* s, int n, int npad, float scale, uint32_t* out);

// One implementation of the attention: its packers, products and query rows per task (the
// products' block; scratch holds that many rows whatever the last task has).
struct Impl {
  PackHeadFn pack_head;
  PairsFn pairs;
  SoftmaxFn softmax;
  ScoresFn scores;
  PvFn pv;
  int rows;
};

constexpr Impl kPortable{pack_head, pairs_portable, softmax_pairs_portable, scores_portable, pv_portable, RB};
constexpr Impl kAvx512{pack_head_avx512, pairs_avx512, softmax_pairs_avx512, scores_avx512, pv_avx512, RB};
constexpr Impl kAmx{pack_head_avx512, pairs_avx512, softmax_pairs_avx512, scores_amx, pv_amx, kAmxRows};

void attention_driver(const float* q, const float* k, const float* v, int n, int64_t ld, int heads, int hd,
                      float scale, float* out, int64_t ldo, bool parallel, const Impl& im) {
  if (hd % 64 != 0 || n <= 0 || heads <= 0)
    throw std::invalid_argument("self_attention_bf16: head_dim must be a multiple of 64, n and heads positive");
  const Shape sh(n, hd);
  // Packed K and V of every head in this thread's scratch (the encoder calls this per layer
  // and tile: no allocation after the first); K first, so its blocks stay 64-byte aligned.
  thread_local ThreadScratch<uint32_t> tls;
  ThreadScratch<uint32_t> own;
  ScratchHold<uint32_t> hold(tls, own);
  uint32_t* const kp = hold.get(size_t((sh.k_size() + sh.v_size()) * heads));
  uint32_t* const vp = kp + sh.k_size() * heads;
  run_tasks(heads, parallel, [&](int h) { im.pack_head(k, v, ld, h, sh, kp + h * sh.k_size(), vp + h * sh.v_size()); });
  const int rb = im.rows, blocks = (n + rb - 1) / rb;
  run_tasks(heads * blocks, parallel, [&](int t) {
    const int h = t / blocks, r0 = t % blocks * rb, rows = std::min(rb, n - r0);
    thread_local ThreadScratch<float> s_buf, inv_buf;
    thread_local ThreadScratch<uint32_t> q_buf, p_buf;
    float* s = s_buf.get(size_t(rb) * sh.npad);
    float* inv = inv_buf.get(size_t(rb));
    uint32_t* qp = q_buf.get(size_t(rb) * sh.hp);
    uint32_t* pp = p_buf.get(size_t(rb) * sh.n2);
    for (int r = 0; r < rows; ++r) im.pairs(q + int64_t(r0 + r) * ld + int64_t(h) * hd, hd, qp + r * sh.hp);
    im.scores(qp, rows, kp + h * sh.k_size(), sh, s);
    for (int r = 0; r < rows; ++r)  // probabilities as bf16 pairs (n2 dwords a row), 1 / sum
      inv[r] = im.softmax(s + int64_t(r) * sh.npad, sh.n, sh.npad, scale, pp + int64_t(r) * sh.n2);
    im.pv(pp, rows, vp + h * sh.v_size(), sh, inv, out + int64_t(r0) * ldo + int64_t(h) * hd, ldo);
  });
}

}  // namespace

bool self_attention_bf16(const float* q, const float* k, const float* v, int n, int64_t ld, int heads, int head_dim,
                         float scale, float* out, int64_t ldo, bool parallel) {
  if (!has_avx512_bf16()) return false;
  attention_driver(q, k, v, n, ld, heads, head_dim, scale, out, ldo, parallel, has_amx_bf16() ? kAmx : kAvx512);
  return true;
}

void self_attention_bf16_emulated(const float* q, const float* k, const float* v, int n, int64_t ld, int heads,
                                  int head_dim, float scale, float* out, int64_t ldo, bool parallel) {
  attention_driver(q, k, v, n, ld, heads, head_dim, scale, out, ldo, parallel, kPortable);
}

}  // namespace docling::kernels
