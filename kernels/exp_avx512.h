// Private to kernels/: exp(x) in 16 lanes with the AVX2 kernels' arithmetic (exp_avx2.h:
// exp_avx2, the same clamp, reduction and polynomial lane for lane), so that a 16-lane kernel
// built on it gives the 8-lane one's results bit for bit. Used by the AVX-512 element-wise ops
// (avx512.cpp) and the AMX products' GELU (amx.cpp).
//
// Takes: 16 floats. Gives: their exp (inputs clamped to [-87.3, 88.3], as there), or their
// gelu_tanh.
#pragma once

#include <immintrin.h>

#define EXP_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))

namespace docling::kernels::detail {

EXP_AVX512_FN inline __m512 exp_avx512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

// gelu_tanh (kernels/kernels.h) of 16 lanes, gelu_avx2's operations lane for lane: x *
// sigmoid(2u) as x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3). The AVX-512
// element-wise pass and the AMX products' fused output writes both use it, so the two agree.
EXP_AVX512_FN inline __m512 gelu_avx512_lanes(__m512 v) {
  const __m512 inner = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), v), _mm512_mul_ps(v, v), v);
  const __m512 e = exp_avx512(_mm512_mul_ps(_mm512_set1_ps(-2.0f * 0.7978845608028654f), inner));
  return _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

}  // namespace docling::kernels::detail

#undef EXP_AVX512_FN
