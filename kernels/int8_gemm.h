// Private to kernels/: the XType::I8 product (see XType in kernels/kernels.h). One driver
// (int8_gemm.cpp) and, per level, a row quantizer and an MR x NR register kernel
// (int8_gemm.cpp: portable; int8_avx2.cpp: vpmaddubsw/vpmaddwd, or vpdpbusd on 256 bits with
// AVX-VNNI; int8_avx512.cpp: vpdpbusd).
//
// Per call the driver
//  - quantizes every row of x once (xq, xs as quantize_row_i8): int8, or u8 = xq + 128 for a
//    level with `offset` (vpdpbusd multiplies unsigned by signed bytes), laid out per panel
//    of MR rows and k block: [row panel][k block][MR][kI8Block] bytes (K rounded up to 4,
//    zero-padded), so the kernel's rows are a constant stride apart;
//  - packs B per column block into panels of NR columns, [k block][panel][kq][NR] dwords,
//    dword (kq, j) = B(4kq .. 4kq+3, n0 + j), the NK layout's bytes as they are (k past K
//    and columns past N are zero); for `offset` levels also each block's column sums;
//  - runs tasks of up to MCP row panels x NGP column panels; per k block of kI8Block values
//    the kernel sums the integer products and adds fma(float(sum) * xs[r], ws[j], bias[j])
//    to y (the first block writes, unless accumulate). The integer sums are exact and every
//    level rounds the same float operations in the same order: the levels agree bit for bit.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/common.h"
#include "kernels/head_screen.h"

namespace docling::kernels::detail {

// c[r * ldc + j], r < mr, j < nr: with s = sum over kq < kcq of the 4 byte products of
// a[r * kI8Block + 4 kq ..] and dword b[kq * nr + j], less 128 * csum[j] when csum is given:
//   v = fma(float(s) * xs[r], ws[j], bias[j] (0 without bias)); c = add_c ? c + v : v
// (an explicit fma: no level leaves the compiler a multiply-add to contract or not).
using I8Micro = void (*)(int kcq, const uint8_t* a, const uint32_t* b, const int32_t* csum,
                         const float* xs, const float* ws, const float* bias, float* c, int64_t ldc, bool add_c);
// A row of K floats into q[0..ldq) (quantize_row_i8's values, + 128 as u8 with offset; zeros
// past K: 128 with offset). Returns xs.
using I8Quantize = float (*)(const float* x, int K, int ldq, uint8_t* q);

struct I8Level {
  int mr = 0, nr = 0;  // nr <= 32, mr <= 16
  bool offset = false;
  I8Quantize quantize = nullptr;
  I8Micro micro = nullptr;
};

void gemm_i8_driver(const Gemm& g, bool parallel, const I8Level& level);

// The levels' products (the KernelTable's gemm_i8).
void gemm_i8_scalar(const Gemm& g, bool parallel);  // int8_gemm.cpp
void gemm_i8_avx2(const Gemm& g, bool parallel);    // int8_avx2.cpp
void gemm_i8_vnni(const Gemm& g, bool parallel);    // int8_avx512.cpp (AVX512-VNNI)
bool cpu_has_vnni();                                // dispatch.cpp: AVX512-VNNI present
// The CPU has AVX-VNNI and KernelSettings::avx_vnni is on (dispatch.cpp): gemm_i8_avx2 then
// runs its vpdpbusd kernel.
bool avx_vnni_enabled();

// The output head's int8 screen (kernels/head_screen.h): one level's pass over panels
// [p0, p1) of the screen for up to kScreenRows rows, x in one or two int8 planes (x ~ t x1, or
// t x1 + t2 x2). Per row r and column n it forms A = s (t sum(x1 q) [+ t2 sum(x2 q)]) (each sum
// of u8 = x + 128 less 128 sum(q)) and its bound B = s (t' |q|_1 / 2 + half_l1[r]), t' the last
// plane's scale; keeps the largest A - B seen (`low`), appends the columns whose A + B reach
// `low` as it was (a superset of the final candidates) and sums exp(A - ref) for the
// log-probability.
constexpr int kScreenRows = 8;
struct ScreenHit {
  int32_t row, col;
  float a, upper;  // A and A + B
};
struct ScreenPass {
  const HeadScreen* screen = nullptr;
  int rows = 0;               // <= kScreenRows
  int planes = 1;             // 1 or 2
  const uint8_t* xq = nullptr;  // [rows][planes][kq * 4] u8 (x1 + 128, then x2 + 128)
  const float* t = nullptr;      // [rows] the planes' scales
  const float* t2 = nullptr;
  const float* half_l1 = nullptr;  // [rows] |x|_1 (1/2 + the rounding margin)
  // [rows] per row, carried across calls (the caller's arrays): the largest A - B so far (-inf
  // to start), the reference of the sum (set at the first panel, when `started` turns 1) and
  // the sum over the columns seen of exp(A - ref)
  float *low = nullptr, *ref = nullptr, *sum = nullptr;
  uint8_t* started = nullptr;
  int row0 = 0;  // the number of the pass's first row, for its hits
  std::vector<ScreenHit>* hits = nullptr;
};
// Appends the columns n0 + j whose bit j is set in `mask`, with their A and A + B.
inline void append_hits(std::vector<ScreenHit>& hits, int row, int n0, unsigned mask, const float* a,
                        const float* upper) {
  for (; mask; mask &= mask - 1) {
    const int j = __builtin_ctz(mask);
    hits.push_back({row, n0 + j, a[j], upper[j]});
  }
}
void screen_panels_vnni(ScreenPass& pass, int p0, int p1);      // int8_avx512.cpp
void screen_panels_avx_vnni(ScreenPass& pass, int p0, int p1);  // int8_avx2.cpp (AVX-VNNI)

// The row maximum that quantize_row_i8 scales by, and the scales it derives from it: a row
// of zeros (or non-finite values) gets xs = 0 (or NaN) and q = 0.
inline bool i8_scales(float mx, float& xs, float& inv) {
  if (!(mx > 0.0f) || !(mx <= 3.4e38f)) {
    xs = mx == 0.0f ? 0.0f : __builtin_nanf("");
    inv = 0.0f;
    return false;
  }
  xs = mx / 127.0f;
  inv = 127.0f / mx;
  return true;
}

// One value as quantize_row_i8 rounds it (nearest even; a NaN becomes 0; the vector
// quantizers, whose conversions round the same way, use it for their tails).
inline int8_t i8_round(float x, float inv) {
  const float v = __builtin_nearbyintf(x * inv);
  return v == v ? int8_t(v < -127.0f ? -127.0f : v > 127.0f ? 127.0f : v) : int8_t(0);
}

}  // namespace docling::kernels::detail
