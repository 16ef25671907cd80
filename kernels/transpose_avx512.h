// Private to kernels/: what the AVX-512 packers share (amx.cpp, attention_bf16.cpp,
// avx512_bf16.cpp): masks of a row's first lanes, f32 rows rounded to bf16, and a 16 x 16
// transpose of 32-bit elements that turns rows of bf16 pairs into columns.
#pragma once

#include <immintrin.h>

#include <cstdint>

#define TRANSPOSE_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
#define ROUND_BF16_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

namespace docling::kernels::detail {

// The first `left` of 16 lanes (none for left <= 0, all for left >= 16).
TRANSPOSE_AVX512_FN inline __mmask16 first_lanes(int left) {
  return left >= 16 ? __mmask16(0xffff) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
}

// x[0, n) rounded to bf16 (nearest even, vcvtne2ps2bf16) into d[0, n_pad), zeros past n; n_pad is a
// multiple of 32. Nothing past x[n) is read.
ROUND_BF16_AVX512_FN inline void round_to_bf16(const float* x, int n, int n_pad, uint16_t* d) {
  for (int k = 0; k < n_pad; k += 32) {
    const __mmask16 lo = first_lanes(n - k), hi = first_lanes(n - k - 16);
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, x + k + 16), _mm512_maskz_loadu_ps(lo, x + k));
    _mm512_storeu_si512(d + k, (__m512i)v);
  }
}

// In place: r[i] (row i, 16 dwords) becomes column i (dword i of every row).
TRANSPOSE_AVX512_FN inline void transpose16_epi32(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  // u[4i + j], 128-bit lane L: column 4L + j of rows 4i..4i+3.
  for (int j = 0; j < 4; ++j) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x88), w0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xdd);
    const __m512i v1 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x88),
                  w1 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xdd);
    r[j] = _mm512_shuffle_i32x4(v0, v1, 0x88);
    r[8 + j] = _mm512_shuffle_i32x4(v0, v1, 0xdd);
    r[4 + j] = _mm512_shuffle_i32x4(w0, w1, 0x88);
    r[12 + j] = _mm512_shuffle_i32x4(w0, w1, 0xdd);
  }
}

}  // namespace docling::kernels::detail
