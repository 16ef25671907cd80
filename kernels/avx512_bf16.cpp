// AVX512-BF16 matrix products (vdpbf16ps): see gemm_avx512_bf16 in kernels/kernels.h.
//
// Blocked like BLIS, with bf16 on both sides and f32 accumulation:
//  - B (already bf16) is packed once per call (per column block when K x N is large) into
//    panels of NR = 32 columns, [k block][panel][kc/2 pairs][32] dwords: each dword holds
//    B(k, n) in its low half and B(k + 1, n) in its high half, the operand order of
//    vdpbf16ps (lane j += a.lo * b.lo + a.hi * b.hi). Odd K and columns past N are zero.
//  - A task owns up to MC rows x NG columns of y. Per k block it rounds its rows of x to
//    bf16 (nearest even, as vcvtne2ps2bf16) into a thread-local buffer, one row per
//    KCP-dword line, so the pair k, k+1 of row r is one dword that the kernel broadcasts.
//  - The MR x 32 register kernel keeps 2 * MR zmm accumulators; the first k block writes
//    y = acc + bias (+ y with `accumulate`), later ones add, as in the f32 paths.
// The same driver runs with a portable kernel (gemm_bf16_emulated) so that the packing and
// blocking are tested on every CPU; on AVX512-BF16 hardware the two give identical results.
// Off by default (KernelSettings::bf16_dot turns it on): the oracle tests fail at their tolerances
// with x in bf16, and on an Emerald Rapids core (the device machine) vdpbf16ps retires half
// the flops of zmm FMA: this kernel reaches ~93% of the instruction's peak, 0.56x the f32 path.
// The level is the AVX-512 one with its large products through this path where it applies.
// Where has_amx_bf16(), products with B in rows go to the AMX tiles instead (amx.cpp).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kernels/common.h"
#include "kernels/panel_avx512.h"
#include "kernels/transpose_avx512.h"
#include "core/half.h"  // f32_to_bf16

#define BF16_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

// GCC 12 reports its own _mm512_undefined_*() inside the intrinsics as maybe uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace docling::kernels {

namespace {

constexpr int MR = 14, NR = 32;  // register tile: 28 accumulators + 2 B vectors
constexpr int KC = 256;          // most k values per block (even)
constexpr int KCP = KC / 2;      // dwords per row of the packed-x buffer
constexpr int MCP = 4;           // most row panels per task (MC = 56 rows)
constexpr int NGP = 8;           // most column panels per task (NG = 256 columns)
constexpr int64_t kMaxPackedB = int64_t(4) << 20;  // dwords of packed B per column block (16 MB)

// --- kernels: x rows -> bf16 pairs, and the MR x 32 product ---------------------------

// Rows [0, rows) of x (k0 already applied) to bf16 in dst (row i at dst + i * KCP dwords);
// rows [rows, rows_pad) are zero. kc <= KC; the pair past an odd kc gets a zero high half.
using ConvertFn = void (*)(const float* x, int64_t ldx, int rows, int rows_pad, int kc, uint32_t* dst);
// c[r][j] = sum_kp a[r * KCP + kp] . b[kp * 32 + j] (+ c if add_c) (+ bias[j] if bias).
using MicroFn = void (*)(int kcp, const uint32_t* a, const uint32_t* b, float* c, int64_t ldc, bool add_c,
                         const float* bias);

BF16_FN void convert_avx512(const float* x, int64_t ldx, int rows, int rows_pad, int kc, uint32_t* dst) {
  const int kc32 = (kc + 31) / 32 * 32;  // <= KC: the zero-filled tail stays in the row
  for (int i = 0; i < rows; ++i)
    detail::round_to_bf16(x + int64_t(i) * ldx, kc, kc32, reinterpret_cast<uint16_t*>(dst + int64_t(i) * KCP));
  for (int i = rows; i < rows_pad; ++i) std::memset(dst + int64_t(i) * KCP, 0, sizeof(uint32_t) * KCP);
}

BF16_FN void micro_avx512(int kcp, const uint32_t* a, const uint32_t* b, float* c, int64_t ldc, bool add_c,
                          const float* bias) {
  for (int r = 0; r < MR; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
  __m512 acc[2 * MR];
#pragma GCC unroll 28
  for (int i = 0; i < 2 * MR; ++i) acc[i] = _mm512_setzero_ps();
  for (int kp = 0; kp < kcp; ++kp) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(b + kp * NR);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(b + kp * NR + 16);
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(int(a[r * KCP + kp]));
      acc[2 * r] = _mm512_dpbf16_ps(acc[2 * r], av, b0);
      acc[2 * r + 1] = _mm512_dpbf16_ps(acc[2 * r + 1], av, b1);
    }
  }
  const __m512 z = _mm512_setzero_ps();
  const __m512 bias0 = bias ? _mm512_loadu_ps(bias) : z, bias1 = bias ? _mm512_loadu_ps(bias + 16) : z;
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r) {
    float* p = c + r * ldc;
    __m512 v0 = _mm512_add_ps(acc[2 * r], bias0), v1 = _mm512_add_ps(acc[2 * r + 1], bias1);
    if (add_c) v0 = _mm512_add_ps(v0, _mm512_loadu_ps(p)), v1 = _mm512_add_ps(v1, _mm512_loadu_ps(p + 16));
    _mm512_storeu_ps(p, v0);
    _mm512_storeu_ps(p + 16, v1);
  }
}

// Portable stand-ins with the same arithmetic: round to nearest even, and per pair
// acc += a.hi * b.hi, then acc += a.lo * b.lo (products of two bf16 are exact in f32).
float lo_f(uint32_t v) {
  const uint32_t u = v << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

float hi_f(uint32_t v) {
  const uint32_t u = v & 0xffff0000u;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

void convert_portable(const float* x, int64_t ldx, int rows, int rows_pad, int kc, uint32_t* dst) {
  for (int i = 0; i < rows_pad; ++i) {
    uint16_t* d = reinterpret_cast<uint16_t*>(dst + int64_t(i) * KCP);
    std::memset(d, 0, sizeof(uint32_t) * KCP);
    if (i < rows)
      for (int k = 0; k < kc; ++k) d[k] = f32_to_bf16(x[int64_t(i) * ldx + k]);
  }
}

void micro_portable(int kcp, const uint32_t* a, const uint32_t* b, float* c, int64_t ldc, bool add_c,
                    const float* bias) {
  float acc[MR][NR] = {};
  for (int kp = 0; kp < kcp; ++kp)
    for (int r = 0; r < MR; ++r) {
      const float ah = hi_f(a[r * KCP + kp]), al = lo_f(a[r * KCP + kp]);
      for (int j = 0; j < NR; ++j) {
        acc[r][j] += ah * hi_f(b[kp * NR + j]);
        acc[r][j] += al * lo_f(b[kp * NR + j]);
      }
    }
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NR; ++j) {
      float v = acc[r][j] + (bias ? bias[j] : 0.0f);
      float& out = c[r * ldc + j];
      out = add_c ? v + out : v;
    }
}

// --- packing B ---------------------------------------------------------------------------

// Columns [n0, n0 + 32) of B, k in [k0, k0 + kc), as (kc + 1) / 2 rows of 32 dwords.
void pack_b_panel(const Gemm& g, int k0, int kc, int n0, uint32_t* dst) {
  const uint16_t* B = static_cast<const uint16_t*>(g.b);
  const int nr = std::min(NR, g.N - n0), kp2 = kc / 2, kcp = (kc + 1) / 2;
  if (g.layout == BLayout::NK) {  // a column's k values are contiguous: pairs are ready-made
    for (int j = 0; j < nr; ++j) {
      const uint16_t* s = B + int64_t(n0 + j) * g.ldb + k0;
      for (int kp = 0; kp < kp2; ++kp) dst[kp * NR + j] = uint32_t(s[2 * kp]) | uint32_t(s[2 * kp + 1]) << 16;
      if (kc & 1) dst[kp2 * NR + j] = s[kc - 1];
    }
  } else {  // KN: interleave rows k and k + 1
    for (int kp = 0; kp < kcp; ++kp) {
      const uint16_t* s0 = B + int64_t(k0 + 2 * kp) * g.ldb + n0;
      const uint16_t* s1 = 2 * kp + 1 < kc ? s0 + g.ldb : nullptr;
      for (int j = 0; j < nr; ++j) dst[kp * NR + j] = uint32_t(s0[j]) | (s1 ? uint32_t(s1[j]) << 16 : 0u);
    }
  }
  for (int kp = 0; kp < kcp; ++kp)
    for (int j = nr; j < NR; ++j) dst[kp * NR + j] = 0;
}

// --- driver ------------------------------------------------------------------------------

void gemm_bf16_blocked(const Gemm& g, bool parallel, ConvertFn convert, MicroFn micro) {
  const int kcb = block_size(g.K, KC, 2), kcbp = kcb / 2, nkb = (g.K + kcb - 1) / kcb;
  const int ncb = block_size(g.N, std::max(NR, int(kMaxPackedB / (int64_t(nkb) * kcbp)) / NR * NR), NR);
  thread_local ThreadScratch<uint32_t> tls;
  ThreadScratch<uint32_t> own;
  ScratchHold<uint32_t> hold(tls, own);
  uint32_t* const B = hold.get(size_t(nkb) * kcbp * ncb);
  const int mpan = (g.M + MR - 1) / MR, QP = block_size(mpan, MCP, 1), mt = (mpan + QP - 1) / QP;
  for (int n0 = 0; n0 < g.N; n0 += ncb) {
    const int nc = std::min(ncb, g.N - n0), npan = (nc + NR - 1) / NR;
    // Panel p of k block kb (kcp pairs in that block).
    auto panel = [&](int kb, int p) {
      const int kcp = (std::min(kcb, g.K - kb * kcb) + 1) / 2;
      return B + (int64_t(kb) * kcbp * npan + int64_t(p) * kcp) * NR;
    };
    const int bgroups = (npan + 3) / 4;
    run_tasks(nkb * bgroups, parallel, [&](int t) {
      const int kb = t / bgroups, p0 = t % bgroups * 4, k0 = kb * kcb, kc = std::min(kcb, g.K - k0);
      for (int p = p0; p < std::min(npan, p0 + 4); ++p) pack_b_panel(g, k0, kc, n0 + p * NR, panel(kb, p));
    });
    const int PP = block_size(npan, NGP, 1), nt = (npan + PP - 1) / PP;
    run_tasks(mt * nt, parallel, [&](int t) {
      const int q0 = t / nt * QP, q1 = std::min(mpan, q0 + QP), p0 = t % nt * PP, p1 = std::min(npan, p0 + PP);
      const int row0 = q0 * MR, rows = std::min(g.M, q1 * MR) - row0;
      thread_local ThreadScratch<uint32_t> xs;  // the task calls nothing that could reenter
      uint32_t* const A = xs.get(size_t(MCP) * MR * KCP);
      for (int kb = 0; kb < nkb; ++kb) {
        const int k0 = kb * kcb, kc = std::min(kcb, g.K - k0), kcp = (kc + 1) / 2;
        const bool add_c = k0 > 0 || g.accumulate;
        const float* bias = k0 == 0 && g.bias ? g.bias + n0 : nullptr;
        convert(g.x + int64_t(row0) * g.ldx + k0, g.ldx, rows, (q1 - q0) * MR, kc, A);
        for (int q = q0; q < q1; ++q) {
          const uint32_t* a = A + int64_t(q - q0) * MR * KCP;
          const int row = q * MR, mr = std::min(MR, g.M - row);
          for (int p = p0; p < p1; ++p) {
            const int col = n0 + p * NR, nr = std::min(NR, g.N - col);
            const float* bb = bias ? bias + p * NR : nullptr;
            float* y = g.y + int64_t(row) * g.ldy + col;
            if (mr == MR && nr == NR) {
              micro(kcp, a, panel(kb, p), y, g.ldy, add_c, bb);
              continue;
            }
            alignas(64) float tile[MR * NR];
            micro(kcp, a, panel(kb, p), tile, NR, false, nullptr);
            for (int i = 0; i < mr; ++i)
              for (int j = 0; j < nr; ++j) {
                const float v = tile[i * NR + j] + (bb ? bb[j] : 0.0f);
                float& out = y[int64_t(i) * g.ldy + j];
                out = add_c ? out + v : v;
              }
          }
        }
      }
    });
  }
}

bool applies(const Gemm& g) {
  return g.btype == BType::BF16 && !is_panel(g.layout) && g.M > 0 && g.N > 0 && g.K > 0;
}

// --- few rows against the decoder's panels (decode steps) ---------------------------------
//
// A panel keeps 16 columns per k as 32 bytes; one vpermw turns rows k and k + 1 (side by
// side) into 16 dwords (B(k, n), B(k + 1, n)), lane j holding the column in slot j
// (panel_slot), the operand vdpbf16ps wants. Each row of x is rounded to bf16 pairs once per
// product (by the dispatcher, before the column chunks); MR rows x NP panels of sums stay in
// registers for all of K, then go out in column order (+ bias, + y). Per sum: the pairs in k
// order, as the portable twin below.

constexpr int kPanelMaxRows = detail::kSmallM;

void pairs_portable(const Gemm& g, int kpairs, uint32_t* xp) {
  for (int r = 0; r < g.M; ++r) {
    uint16_t* d = reinterpret_cast<uint16_t*>(xp + int64_t(r) * kpairs);
    for (int k = 0; k < g.K; ++k) d[k] = f32_to_bf16(g.x[int64_t(r) * g.ldx + k]);
    if (g.K & 1) d[g.K] = 0;
  }
}

// Rows [0, MR) x panels [p0, p0 + NP), all of K.
template <int MR, int NP>
BF16_FN void panel_sums(const Gemm& g, const uint32_t* xp, int kpairs, int p0, int ahead) {
  // Word 2j of the result: row k, slot j; word 2j + 1: row k + 1, slot j. Picked from the rows
  // side by side (Panel: one line; kPick[0]), or in PanelPairs from the lines of rows k and
  // k + 1, which hold a pair's panels side by side (kPick[1]: the first, kPick[2]: the second).
  alignas(64) static const uint16_t kPick[3][32] = {
      {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31},
      {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39, 8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47},
      {16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55,
       24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63}};
  const int rs = panel_row_stride(g.layout);
  const bool pair_lines = g.layout == BLayout::PanelPairs;
  const uint16_t* b[NP];  // row 0 of the panel (Panel) or of its pair (PanelPairs)
  __m512i pick[NP];
  bool fetch[NP];
#pragma GCC unroll 2
  for (int q = 0; q < NP; ++q) {
    const int p = p0 + q;
    b[q] = detail::panel_ptr(g, p) - (pair_lines ? (p % 2) * kPanel : 0);
    pick[q] = _mm512_load_si512(kPick[pair_lines ? 1 + p % 2 : 0]);
    fetch[q] = detail::starts_stream(g, p0, q);
  }
  __m512 acc[MR][NP];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int q = 0; q < NP; ++q) acc[r][q] = _mm512_setzero_ps();
  const int full = g.K / 2;
  for (int kp = 0; kp < kpairs; ++kp) {
    __m512bh bv[NP];
#pragma GCC unroll 2
    for (int q = 0; q < NP; ++q) {
      const uint16_t* row = b[q] + int64_t(2 * kp) * rs;
      if (fetch[q]) {  // into L2 (as avx2.cpp)
        _mm_prefetch(reinterpret_cast<const char*>(row + ahead), _MM_HINT_T1);
        if (pair_lines) _mm_prefetch(reinterpret_cast<const char*>(row + rs + ahead), _MM_HINT_T1);
      }
      // An odd K's last row stands alone: its partner is zero (and may not exist).
      if (pair_lines) {
        const __m512i a = _mm512_loadu_si512(row);
        const __m512i c = kp < full ? _mm512_loadu_si512(row + rs) : _mm512_setzero_si512();
        bv[q] = (__m512bh)_mm512_permutex2var_epi16(a, pick[q], c);
      } else {
        const __m512i raw = kp < full ? _mm512_loadu_si512(row) : _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)));
        bv[q] = (__m512bh)_mm512_permutexvar_epi16(pick[q], raw);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512bh xv = (__m512bh)_mm512_set1_epi32(int(xp[int64_t(r) * kpairs + kp]));
#pragma GCC unroll 2
      for (int q = 0; q < NP; ++q) acc[r][q] = _mm512_dpbf16_ps(acc[r][q], xv, bv[q]);
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int q = 0; q < NP; ++q) detail::put_panel_avx512(g, r, p0 + q, detail::slots_to_columns(acc[r][q]));
}

template <int MR>
BF16_FN void panel_rows(const Gemm& g, const uint32_t* xp, int kpairs, int p0, int p1, int ahead) {
  constexpr int NP = MR <= 8 ? 2 : 1;  // at most 16 sums, 2 B vectors and a broadcast
  int p = p0;
  for (; p + NP <= p1; p += NP) panel_sums<MR, NP>(g, xp, kpairs, p, ahead / detail::streams_of(g, p, NP));
  for (; p < p1; ++p) panel_sums<MR, 1>(g, xp, kpairs, p, ahead);
}

template <int... R>
BF16_FN void panel_dispatch(std::integer_sequence<int, R...>, const Gemm& g, const uint32_t* xp, int kpairs, int p0,
                            int p1, int ahead) {
  ((g.M == R + 1 ? panel_rows<R + 1>(g, xp, kpairs, p0, p1, ahead) : void()), ...);
}

}  // namespace

namespace detail {

// An odd K's last pair has a zero high half.
BF16_FN void bf16_pairs_avx512(const Gemm& g, uint32_t* xp) {
  const int kpairs = (g.K + 1) / 2;
  for (int r = 0; r < g.M; ++r) {
    const float* s = g.x + int64_t(r) * g.ldx;
    uint16_t* d = reinterpret_cast<uint16_t*>(xp + int64_t(r) * kpairs);
    int k = 0;
    for (; k + 32 <= g.K; k += 32)
      _mm512_storeu_si512(d + k, (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + k + 16), _mm512_loadu_ps(s + k)));
    for (; k < g.K; ++k) d[k] = f32_to_bf16(s[k]);
    if (g.K & 1) d[g.K] = 0;
  }
}

void gemv_panel_avx512_bf16(const Gemm& g, const uint32_t* xp, int n0, int n1) {
  const int kpairs = (g.K + 1) / 2;
  panel_dispatch(std::make_integer_sequence<int, kPanelMaxRows>{}, g, xp, kpairs, n0 / kPanel,
                 (n1 + kPanel - 1) / kPanel, decode_params().prefetch_rows * kPanel);
}

}  // namespace detail

namespace {

// The same sums in portable code: per column, the pairs in k order (high half, then low).
void gemv_panel_bf16_portable(const Gemm& g) {
  const int kpairs = (g.K + 1) / 2;
  std::vector<uint32_t> xp(size_t(g.M) * kpairs);
  pairs_portable(g, kpairs, xp.data());
  const uint16_t* b = static_cast<const uint16_t*>(g.b);
  for (int r = 0; r < g.M; ++r)
    for (int n = 0; n < g.N; ++n) {
      float acc = 0.0f;
      for (int kp = 0; kp < kpairs; ++kp) {
        const uint32_t x = xp[size_t(r) * kpairs + kp];
        const uint32_t lo = b[panel_index(n, 2 * kp, g.ldb, g.layout)];
        const uint32_t hi = 2 * kp + 1 < g.K ? b[panel_index(n, 2 * kp + 1, g.ldb, g.layout)] : 0u;
        acc += hi_f(x) * hi_f(hi << 16);
        acc += lo_f(x) * lo_f(lo);
      }
      float v = acc + (g.bias ? g.bias[n] : 0.0f);
      float& out = g.y[int64_t(r) * g.ldy + n];
      out = g.accumulate ? out + v : v;
    }
}

}  // namespace

bool gemm_avx512_bf16(const Gemm& g, bool parallel) {
  if (!applies(g) || !(g.xtype == XType::BF16 ? has_avx512_bf16() : bf16_dot())) return false;
  if (has_amx_bf16() && detail::gemm_amx_bf16(g, parallel)) return true;
  gemm_bf16_blocked(g, parallel, convert_avx512, micro_avx512);
  return true;
}

void gemm_bf16_emulated(const Gemm& g, bool parallel) {
  if (g.btype != BType::BF16) throw std::invalid_argument("gemm_bf16_emulated: B must be bf16");
  if (is_panel(g.layout) && g.M <= kPanelMaxRows && g.M > 0 && g.N > 0 && g.K > 0) gemv_panel_bf16_portable(g);
  else if (applies(g)) gemm_bf16_blocked(g, parallel, convert_portable, micro_portable);
}

namespace detail {

namespace {

void gemm_large_avx512_bf16(const Gemm& g, bool parallel) {
  if (!applies(g)) gemm_large_avx512(g, parallel);
  else if (!has_amx_bf16() || !gemm_amx_bf16(g, parallel)) gemm_bf16_blocked(g, parallel, convert_avx512, micro_avx512);
}

}  // namespace

KernelTable avx512_bf16_kernels(bool int8_act) {
  KernelTable t = avx512_kernels(int8_act);
  t.gemm_large = gemm_large_avx512_bf16;
  return t;
}

}  // namespace detail

}  // namespace docling::kernels
