// Private to kernels/: how the AVX-512 products against the decoder's panels (avx512.cpp with
// f32 activations, avx512_bf16.cpp with bf16 ones) hand their sums to y.
//
// Takes: a vector of 16 sums for one panel and row. Gives: them added into y.
#pragma once

#include <immintrin.h>

#include "kernels/common.h"
#include "kernels/transpose_avx512.h"

namespace docling::kernels::detail {

#define PANEL_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))

// A vector whose lane j holds the column in slot j (panel_slot) into column order.
PANEL_AVX512_FN inline __m512 slots_to_columns(__m512 v) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15), v);
}

// y (+)= v (+ bias) for the 16 columns of panel p (lane i: column p * 16 + i), those inside N.
// `stream` (never with accumulate): a whole panel that starts a cache line goes out with a
// non-temporal store (DecodeParams::stream_outputs; the caller fences).
PANEL_AVX512_FN inline void put_panel_avx512(const Gemm& g, int row, int p, __m512 v, bool stream = false) {
  const int col = p * kPanel;
  const __mmask16 m = first_lanes(g.N - col);
  float* y = g.y + int64_t(row) * g.ldy + col;
  if (g.bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, g.bias + col));
  if (g.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, y));
  if (stream && col + kPanel <= g.N && reinterpret_cast<uintptr_t>(y) % 64 == 0) _mm512_stream_ps(y, v);
  else _mm512_mask_storeu_ps(y, m, v);
}

#undef PANEL_AVX512_FN

}  // namespace docling::kernels::detail
