// Private to kernels/: exp(x) in 8 lanes (Cephes-style: e^x = 2^n * e^r, |r| <= ln2/2,
// degree-7 polynomial; about 1 ulp), shared by the AVX2 element-wise ops (avx2.cpp) and the
// AVX-VNNI head screen (int8_avx2.cpp); exp_avx512.h is the same arithmetic in 16 lanes.
//
// Takes: 8 floats. Gives: their exp. Inputs are clamped to [-87.3, 88.3], so tiny results come
// out as ~1e-38 instead of 0 and huge ones as ~2e38 instead of inf; all callers tolerate that.
#pragma once

#include <immintrin.h>

#define EXP_AVX2_FN __attribute__((target("avx2,fma")))

namespace docling::kernels::detail {

EXP_AVX2_FN inline __m256 exp_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

}  // namespace docling::kernels::detail
