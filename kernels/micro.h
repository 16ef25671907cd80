// The attention's register kernel at the AVX2 level (kernels/avx2.cpp, through
// kernels/attention.h): MR rows of x against 8 * NV columns of a B whose rows are
// contiguous (a row of the transposed K cache, a row of V), f32 or f16 B.
// Private to kernels/; compiled with AVX2 + FMA + F16C target attributes.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#define F16_FN __attribute__((target("avx2,fma,f16c")))

namespace docling::kernels::micro {

F16_FN inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
F16_FN inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }

// c[r][0..8 NV) (+)= sum_k xr[r][k] * B(k, 0..8 NV), B(k, j) = b[k * ldb + j] (f16 or f32),
// r < MR; MR * NV accumulators stay in registers (the unroll pragmas keep GCC from
// spilling the arrays). B is fetched about 1 KB ahead: the cache streams are short.
template <int MR, int NV, class T>
F16_FN inline void micro_kv(int kc, const float* const* xr, const T* b, int64_t ldb, float* c, int64_t ldc, bool add_c) {
  static_assert(MR * NV <= 12);
  const int64_t ahead = std::max<int64_t>(1, 1024 / (ldb * int64_t(sizeof(T)))) * ldb;
  __m256 acc[MR][NV];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const T* bk = b + int64_t(k) * ldb;
    _mm_prefetch(reinterpret_cast<const char*>(bk + ahead), _MM_HINT_T0);
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = load8(bk + 8 * v);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const __m256 x = _mm256_broadcast_ss(xr[r] + k);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(x, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* p = c + r * ldc + 8 * v;
      _mm256_storeu_ps(p, add_c ? _mm256_add_ps(acc[r][v], _mm256_loadu_ps(p)) : acc[r][v]);
    }
}

// MR = mr (at most 12 / NV) rows, chosen at compile time.
template <int NV, int MR = 12 / NV, class T>
inline void micro_rows(int mr, int kc, const float* const* xr, const T* b, int64_t ldb, float* c, int64_t ldc, bool add_c) {
  if constexpr (MR > 1) {
    if (mr < MR) return micro_rows<NV, MR - 1>(mr, kc, xr, b, ldb, c, ldc, add_c);
  }
  micro_kv<MR, NV>(kc, xr, b, ldb, c, ldc, add_c);
}

}  // namespace docling::kernels::micro
