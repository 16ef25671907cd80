// AMX-BF16 matrix products (tile registers, tdpbf16ps): the bf16 products with many rows on
// CPUs with AMX (Intel Sapphire Rapids and later); see has_amx_bf16 in kernels/kernels.h.
//
// tdpbf16ps adds a 16 x 32 bf16 tile of x times a tile of B pairs (row kp: B(2kp, n) and
// B(2kp + 1, n) side by side for 16 columns) into a 16 x 16 tile of f32 sums. Blocking:
//  - B is packed once per call into panels of 32 columns, [kp][32] dwords over all of K (rounded
//    up to kTileK with zeros, as are the columns past N): a panel's two 16-column halves are two
//    tiles read at a 128-byte stride. NK weights are transposed 16 x 16 dwords at a time.
//  - x is rounded to bf16 once per call (nearest even, as vcvtne2ps2bf16; zeros past K and past
//    M to a multiple of 32 rows). A task owns kRowBlock rows x up to kColBlock columns: per panel
//    and 32 rows it keeps 2 x 2 tiles of sums for all of K and writes them out with the bias
//    (and + y with `accumulate`, or through GELU with `gelu`: the element-wise pass's arithmetic
//    while the block is in L1, instead of a pass over the whole output).
// Products of two bf16 are exact in f32; the sums' order inside a tile instruction is the
// hardware's, so results differ from the vdpbf16ps path in the last bits (tests compare both
// against a double reference).
//
// The same blocking serves f32 activations against the decoder's PanelPairs weights (a
// prompt's prefill) at f32 accuracy: each value of x is split into three bf16 parts, x = hi +
// mid + lo exactly (8 bits of its 24-bit significand each, split_value), and each part's
// products with the bf16 weights are exact in f32, so the tiles add the f32 kernels' exact
// products, each as three exact terms, in another order (three tile instructions a step, not one).

// GCC 12 reports its own _mm512_undefined_*() inside the intrinsics as maybe uninitialized (also
// where the kernels' headers inline them, hence before the includes).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cpuid.h>

#include <algorithm>
#include <cstring>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "kernels/amx.h"
#include "kernels/common.h"
#include "kernels/exp_avx512.h"
#include "kernels/transpose_avx512.h"

namespace docling::kernels::detail {

namespace {

constexpr int kTileRows = 16;   // rows of x (and of sums) per tile
constexpr int kTileK = 32;      // k values per tile step (16 pairs, 64 bytes a row)
constexpr int kNR = 32;         // columns per packed panel (two tiles)
constexpr int kMR = 32;         // rows per block of sums (two tiles)
constexpr int kRowBlock = 128;  // rows of x per task
constexpr int kColBlock = 256;  // most columns per task
constexpr int64_t kMaxPackedB = int64_t(8) << 20;  // dwords of packed B per column block (32 MB)

// --- the CPU and the OS ---------------------------------------------------------------------

bool cpu_has_amx_bf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool tile = (d >> 24) & 1, bf16 = (d >> 22) & 1;
  return tile && bf16;
}

// Linux hands out the 8 KB of tile state per process on request (arch_prctl
// ARCH_REQ_XCOMP_PERM for XTILEDATA); without it the first tile instruction faults.
bool os_grants_tiles() {
#if defined(__linux__)
  constexpr long kReqXcompPerm = 0x1023, kXtileData = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
#else
  return false;
#endif
}

// --- packing ------------------------------------------------------------------------------

// PanelPairs keeps row k of 32 columns (two panels, panel_slot order) in one 64-byte line.
// Lines k and k + 1 interleaved by 16-bit words (vpunpcklwd: words 0-3 of each 128-bit lane,
// vpunpckhwd: words 4-7) are the pairs of all 32 columns in two vectors, lo and hi; lane j of
// pair_columns(h) picks (0-15 from lo, 16-31 from hi) column 16 h + j.
constexpr int pair_column(int h, int j) {
  const int w = 16 * h + (j < 8 ? 2 * j : 2 * (j - 8) + 1), lane = w / 8, i = w % 8;
  return i < 4 ? 4 * lane + i : 16 + 4 * lane + i - 4;
}

AMX_FN __m512i pair_columns(int h) {
  alignas(64) int32_t idx[16];
  for (int j = 0; j < 16; ++j) idx[j] = pair_column(h, j);
  return _mm512_load_si512(idx);
}

// PanelPairs: columns [n0, n0 + 32) (n0 a multiple of 32: one stored pair of panels, padded
// with zero columns past N) as kpairs rows of 32 dwords; lines past K are zero.
AMX_FN void pack_pairs(const Gemm& g, int n0, int kpairs, uint32_t* dst) {
  const uint16_t* b = panel_ptr(g, n0 / kPanel);
  const __m512i first = pair_columns(0), second = pair_columns(1);
  for (int kp = 0; kp < kpairs; ++kp) {
    const int k = 2 * kp;
    const __m512i even = k < g.K ? _mm512_loadu_si512(b + int64_t(k) * 2 * kPanel) : _mm512_setzero_si512();
    const __m512i odd = k + 1 < g.K ? _mm512_loadu_si512(b + int64_t(k + 1) * 2 * kPanel) : _mm512_setzero_si512();
    const __m512i lo = _mm512_unpacklo_epi16(even, odd), hi = _mm512_unpackhi_epi16(even, odd);
    _mm512_store_si512(dst + int64_t(kp) * kNR, _mm512_permutex2var_epi32(lo, first, hi));
    _mm512_store_si512(dst + int64_t(kp) * kNR + 16, _mm512_permutex2var_epi32(lo, second, hi));
  }
}

// NK: columns [n0, n0 + 32) of B, as kpairs rows of 32 dwords (kpairs a multiple of 16).
// Column n's k values are contiguous, so its pairs are its dwords: 16 columns x 16 pairs
// transposed at a time, loads masked at the end of K (an odd K's last pair gets a zero half).
AMX_FN void pack_nk(const Gemm& g, int n0, int kpairs, uint32_t* dst) {
  const uint16_t* B = static_cast<const uint16_t*>(g.b);
  for (int h = 0; h < 2; ++h)
    for (int kp = 0; kp < kpairs; kp += 16) {
      const int left = std::clamp(g.K - 2 * kp, 0, 32);
      const __mmask32 m = left == 32 ? ~__mmask32(0) : (__mmask32(1) << left) - 1;
      __m512i r[16];
      for (int j = 0; j < 16; ++j) {
        const int n = n0 + 16 * h + j;
        r[j] = n < g.N && left ? _mm512_maskz_loadu_epi16(m, B + int64_t(n) * g.ldb + 2 * kp) : _mm512_setzero_si512();
      }
      transpose16_epi32(r);
      for (int i = 0; i < 16; ++i) _mm512_store_si512(dst + int64_t(kp + i) * kNR + 16 * h, r[i]);
    }
}

// KN: row k of B is contiguous over n; pairs interleave rows k and k + 1.
void pack_kn(const Gemm& g, int n0, int kpairs, uint32_t* dst) {
  const uint16_t* B = static_cast<const uint16_t*>(g.b);
  const int nr = std::min(kNR, g.N - n0);
  for (int kp = 0; kp < kpairs; ++kp) {
    uint32_t* d = dst + int64_t(kp) * kNR;
    std::memset(d, 0, sizeof(uint32_t) * kNR);
    for (int half = 0; half < 2; ++half) {
      const int k = 2 * kp + half;
      if (k >= g.K) break;
      const uint16_t* s = B + int64_t(k) * g.ldb + n0;
      for (int j = 0; j < nr; ++j) d[j] |= uint32_t(s[j]) << (16 * half);
    }
  }
}

// Rows [row0, row0 + rows) of x to bf16, row i at a + i * lda (lda >= kp2 = 2 * kpairs); k past
// K and rows [rows, rows_pad) are zero.
void round_rows(const Gemm& g, int row0, int rows, int rows_pad, int kp2, uint16_t* a, int64_t lda) {
  for (int i = 0; i < rows_pad; ++i)
    round_to_bf16(g.x + int64_t(row0 + i) * g.ldx, i < rows ? g.K : 0, kp2, a + int64_t(i) * lda);
}

// x = hi + mid + lo, each the nearest bf16 to what is left: the remainders are exact in f32 and
// the last fits 8 bits. An infinite or NaN x keeps hi alone (its remainder would be NaN).
AMX_FN inline void split_value(__m512 x, __m256bh& hi, __m256bh& mid, __m256bh& lo) {
  hi = _mm512_cvtneps_pbh(x);
  __m512 rest = _mm512_sub_ps(x, _mm512_cvtpbh_ps(hi));
  rest = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(rest, rest, _CMP_ORD_Q), rest);
  mid = _mm512_cvtneps_pbh(rest);
  lo = _mm512_cvtneps_pbh(_mm512_sub_ps(rest, _mm512_cvtpbh_ps(mid)));
}

// round_rows for f32 accuracy: the three parts of each value, hi at a, mid at a + part, lo at
// a + 2 part (same row layout each).
AMX_FN void split_rows(const Gemm& g, int row0, int rows, int rows_pad, int kp2, uint16_t* a, int64_t lda,
                       int64_t part) {
  for (int i = 0; i < rows_pad; ++i) {
    const float* x = g.x + int64_t(row0 + i) * g.ldx;
    uint16_t* d = a + int64_t(i) * lda;
    for (int k = 0; k < kp2; k += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(first_lanes(i < rows ? g.K - k : 0), x + k);
      __m256bh hi, mid, lo;
      split_value(v, hi, mid, lo);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + k), (__m256i)hi);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + part + k), (__m256i)mid);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 2 * part + k), (__m256i)lo);
    }
  }
}

// --- the product ------------------------------------------------------------------------------

// 32 rows of x (a, stride lda elements; `parts` of them, `part` elements apart, all added)
// times one packed panel, all kpairs: sums into c[32][32].
AMX_FN void block_sums(const uint16_t* a, int64_t lda, int parts, int64_t part, const uint32_t* b, int kpairs,
                       float* c) {
  const int64_t sa = lda * 2;  // bytes
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int kp = 0; kp < kpairs; kp += 16) {
    _tile_loadd(6, b + int64_t(kp) * kNR, kNR * 4);
    _tile_loadd(7, b + int64_t(kp) * kNR + 16, kNR * 4);
    for (int q = 0; q < parts; ++q) {
      _tile_loadd(4, a + q * part + 2 * kp, sa);
      _tile_loadd(5, a + q * part + kTileRows * lda + 2 * kp, sa);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  _tile_stored(0, c, kNR * 4);
  _tile_stored(1, c + 16, kNR * 4);
  _tile_stored(2, c + kTileRows * kNR, kNR * 4);
  _tile_stored(3, c + kTileRows * kNR + 16, kNR * 4);
}

// y[row .. row + mr, col .. col + nr) = c (+ bias) (+ y), or gelu(c + bias) (Gemm::gelu).
AMX_FN void put_block(const Gemm& g, int row, int mr, int col, int nr, const float* c) {
  const __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16);
  const __m512 b0 = g.bias ? _mm512_maskz_loadu_ps(m0, g.bias + col) : _mm512_setzero_ps();
  const __m512 b1 = g.bias ? _mm512_maskz_loadu_ps(m1, g.bias + col + 16) : _mm512_setzero_ps();
  for (int i = 0; i < mr; ++i) {
    float* y = g.y + int64_t(row + i) * g.ldy + col;
    __m512 v0 = _mm512_add_ps(_mm512_load_ps(c + i * kNR), b0);
    __m512 v1 = _mm512_add_ps(_mm512_load_ps(c + i * kNR + 16), b1);
    if (g.accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, y));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, y + 16));
    }
    if (g.gelu) {
      v0 = gelu_avx512_lanes(v0);
      v1 = gelu_avx512_lanes(v1);
    }
    _mm512_mask_storeu_ps(y, m0, v0);
    _mm512_mask_storeu_ps(y + 16, m1, v1);
  }
}

// Rows [row0, row0 + rows) of the rounded x (A, rows_pad(M) rows at stride lda) x panels
// [p0, p1) of the packed B (column n0 + p * kNR on).
AMX_FN void rows_task(const Gemm& g, const uint16_t* A, int64_t lda, int parts, int64_t part, const uint32_t* B,
                      int n0, int kpairs, int row0, int rows, int p0, int p1) {
  const int64_t panel_dwords = int64_t(kpairs) * kNR;
  alignas(64) float c[kMR * kNR];
  load_tile_config();
  for (int p = p0; p < p1; ++p) {
    const int col = n0 + p * kNR, nr = std::min(kNR, g.N - col);
    for (int r = 0; r < rows; r += kMR) {
      block_sums(A + (row0 + r) * lda, lda, parts, part, B + p * panel_dwords, kpairs, c);
      put_block(g, row0 + r, std::min(kMR, rows - r), col, nr, c);
    }
  }
  _tile_release();
}

// parts: 1 (x rounded to bf16) or 3 (x split for f32 accuracy).
void gemm_amx(const Gemm& g, int parts, bool parallel) {
  const int kpairs = (g.K + kTileK - 1) / kTileK * (kTileK / 2);
  const int64_t panel_dwords = int64_t(kpairs) * kNR;
  const int64_t lda = 2 * kpairs + 32;  // a row's stride: 64 bytes past a multiple of 64, off the cache's sets
  const int rows_pad = (g.M + kMR - 1) / kMR * kMR;
  const int ncb = block_size(g.N, int(std::max<int64_t>(kNR, kMaxPackedB / panel_dwords / kNR * kNR)), kNR);
  // x rounded once for all column tasks, and B packed per column block: this thread's scratch.
  thread_local ThreadScratch<uint32_t> tls_b;
  thread_local ThreadScratch<uint16_t> tls_a;
  ThreadScratch<uint32_t> own_b;
  ThreadScratch<uint16_t> own_a;
  ScratchHold<uint32_t> hold_b(tls_b, own_b);
  ScratchHold<uint16_t> hold_a(tls_a, own_a);
  uint32_t* const B = hold_b.get(size_t((ncb + kNR - 1) / kNR) * panel_dwords);
  const int64_t part = int64_t(rows_pad) * lda;
  uint16_t* const A = hold_a.get(size_t(parts) * size_t(part));
  const int mblocks = (g.M + kRowBlock - 1) / kRowBlock;
  run_tasks(rows_pad / kMR, parallel, [&](int t) {
    const int row0 = t * kMR, rows = std::min(kMR, g.M - row0);
    if (parts == 1) round_rows(g, row0, rows, kMR, 2 * kpairs, A + row0 * lda, lda);
    else split_rows(g, row0, rows, kMR, 2 * kpairs, A + row0 * lda, lda, part);
  });
  for (int n0 = 0; n0 < g.N; n0 += ncb) {
    const int nc = std::min(ncb, g.N - n0), npan = (nc + kNR - 1) / kNR;
    run_tasks(npan, parallel, [&](int p) {
      uint32_t* d = B + p * panel_dwords;
      if (g.layout == BLayout::NK) pack_nk(g, n0 + p * kNR, kpairs, d);
      else if (g.layout == BLayout::KN) pack_kn(g, n0 + p * kNR, kpairs, d);
      else pack_pairs(g, n0 + p * kNR, kpairs, d);
    });
    const int PP = block_size(npan, kColBlock / kNR, 1), nt = (npan + PP - 1) / PP;
    run_tasks(mblocks * nt, parallel, [&](int t) {
      const int row0 = t / nt * kRowBlock, p0 = t % nt * PP;
      rows_task(g, A, lda, parts, part, B, n0, kpairs, row0, std::min(kRowBlock, g.M - row0), p0,
                std::min(npan, p0 + PP));
    });
  }
}

}  // namespace

bool amx_bf16_usable() {
  static const bool granted = cpu_has_amx_bf16() && os_grants_tiles();  // asked once per process
  return granted;
}

namespace {

// gemm_amx with `parts` where B is bf16, the product not empty and the tiles granted.
bool on_tiles(const Gemm& g, int parts, bool parallel) {
  if (g.btype != BType::BF16 || g.M <= 0 || g.N <= 0 || g.K <= 0 || !amx_bf16_usable()) return false;
  gemm_amx(g, parts, parallel);
  return true;
}

}  // namespace

bool gemm_amx_bf16(const Gemm& g, bool parallel) {
  return (g.layout == BLayout::NK || g.layout == BLayout::KN) && on_tiles(g, 1, parallel);
}

bool gemm_amx_f32(const Gemm& g, bool parallel) {
  return g.xtype == XType::F32 && g.layout == BLayout::PanelPairs && on_tiles(g, 3, parallel);
}

}  // namespace docling::kernels::detail
