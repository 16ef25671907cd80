// The XType::I8 product with AVX512-VNNI (kernels/int8_gemm.h): 14 x 32 register kernel of
// vpdpbusd (28 accumulators + 2 B vectors; x's dword broadcast from memory). vpdpbusd takes
// unsigned activations: x goes in as xq + 128 and each k block's result is corrected by
// 128 * the block's column sums of B (packed with it), in integers, before the scales.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/int8_gemm.h"

#define VNNI_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))

// GCC 12 reports its own _mm512_undefined_*() inside the intrinsics as maybe uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace docling::kernels::detail {

namespace {

constexpr int MR = 14, NR = 32;

// acc += vpdpbusd(a, b). GCC 12's intrinsic copies the accumulator around the instruction
// and spills (the loop ran at half speed); the asm keeps it in its register.
VNNI_FN inline void dpbusd(__m512i& acc, __m512i a, __m512i b) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
}

VNNI_FN float quantize_vnni(const float* x, int K, int ldq, uint8_t* q) {
  __m512 m = _mm512_setzero_ps();
  int k = 0;
  for (; k + 16 <= K; k += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + k)));
  float mx = _mm512_reduce_max_ps(m);
  for (; k < K; ++k) mx = std::max(mx, std::fabs(x[k]));
  float xs, inv;
  std::memset(q, 0x80, size_t(ldq));
  if (!i8_scales(mx, xs, inv)) return xs;
  const __m512 vi = _mm512_set1_ps(inv);
  const __m128i off = _mm_set1_epi8(char(0x80));
  k = 0;
  for (; k + 16 <= K; k += 16) {
    const __m128i b = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + k), vi)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k), _mm_xor_si128(b, off));
  }
  for (; k < K; ++k) q[k] = uint8_t(i8_round(x[k], inv)) ^ 0x80u;
  return xs;
}

VNNI_FN void micro_vnni(int kcq, const uint8_t* a, const uint32_t* b, const int32_t* csum, const float* xs,
                        const float* ws, const float* bias, float* c, int64_t ldc, bool add_c) {
  for (int r = 0; r < MR; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
  __m512i acc[2 * MR];
#pragma GCC unroll 28
  for (int i = 0; i < 2 * MR; ++i) acc[i] = _mm512_setzero_si512();
  for (int kq = 0; kq < kcq; ++kq) {
    const __m512i b0 = _mm512_load_si512(b + kq * NR), b1 = _mm512_load_si512(b + kq * NR + 16);
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      int32_t v;
      std::memcpy(&v, a + r * kI8Block + 4 * kq, 4);
      const __m512i av = _mm512_set1_epi32(v);
      dpbusd(acc[2 * r], av, b0);
      dpbusd(acc[2 * r + 1], av, b1);
    }
  }
  const __m512 z = _mm512_setzero_ps();
  const __m512 w0 = _mm512_loadu_ps(ws), w1 = _mm512_loadu_ps(ws + 16);
  const __m512 bi0 = bias ? _mm512_loadu_ps(bias) : z, bi1 = bias ? _mm512_loadu_ps(bias + 16) : z;
  const __m512i cs0 = _mm512_slli_epi32(_mm512_loadu_si512(csum), 7);
  const __m512i cs1 = _mm512_slli_epi32(_mm512_loadu_si512(csum + 16), 7);
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r) {
    const __m512 sx = _mm512_set1_ps(xs[r]);
    float* p = c + r * ldc;
    __m512 v0 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[2 * r], cs0)), sx), w0, bi0);
    __m512 v1 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[2 * r + 1], cs1)), sx), w1, bi1);
    if (add_c) v0 = _mm512_add_ps(_mm512_loadu_ps(p), v0), v1 = _mm512_add_ps(_mm512_loadu_ps(p + 16), v1);
    _mm512_storeu_ps(p, v0);
    _mm512_storeu_ps(p + 16, v1);
  }
}

}  // namespace

void gemm_i8_vnni(const Gemm& g, bool parallel) {
  I8Level L;
  L.mr = MR;
  L.nr = NR;
  L.offset = true;
  L.quantize = quantize_vnni;
  L.micro = micro_vnni;
  gemm_i8_driver(g, parallel, L);
}

}  // namespace docling::kernels::detail
