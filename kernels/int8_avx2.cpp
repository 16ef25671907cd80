// The XType::I8 product at the AVX2 level (kernels/int8_gemm.h), two register kernels:
//  - AVX2: 4 x 16. vpmaddubsw multiplies unsigned by signed bytes and saturates its 16-bit pair
//    sums, so the activations go in as |xq| (<= 127) and the weights carry xq's sign (vpsignb):
//    a pair sum is at most 2 * 127 * 127 = 32258, never saturated; vpmaddwd against ones widens
//    to int32 (three operations per 32 products).
//  - AVX-VNNI (where the CPU has it and KernelSettings::avx_vnni): 6 x 16 of vpdpbusd on 256
//    bits, one operation per 32 products, no saturation: as the AVX512-VNNI level, x goes in as
//    xq + 128 and each k block's sums lose 128 * the block's column sums of B.
// Both give the portable level's results bit for bit (exact integer sums, the same float
// operations in the same order).
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/int8_gemm.h"

#define AVX2_FN __attribute__((target("avx2,fma")))
#define AVX_VNNI_FN __attribute__((target("avx2,fma,avxvnni")))

namespace docling::kernels::detail {

namespace {

constexpr int MR = 4, NR = 16;

AVX2_FN float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

// Offset: u8 = xq + 128 (vpdpbusd's unsigned operand), the padding 128 (a zero).
template <bool Offset>
AVX2_FN float quantize_avx2(const float* x, int K, int ldq, uint8_t* q) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 m = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= K; k += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + k), abs_mask));
  float mx = hmax(m);
  for (; k < K; ++k) mx = std::max(mx, std::fabs(x[k]));
  constexpr uint8_t kOff = Offset ? 0x80 : 0;
  float xs, inv;
  std::memset(q, kOff, size_t(ldq));
  if (!i8_scales(mx, xs, inv)) return xs;
  const __m256 vi = _mm256_set1_ps(inv);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), off = _mm256_set1_epi8(char(kOff));
  k = 0;
  for (; k + 32 <= K; k += 32) {
    const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k), vi));
    const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8), vi));
    const __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 16), vi));
    const __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 24), vi));
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k), _mm256_xor_si256(_mm256_permutevar8x32_epi32(p, order), off));
  }
  for (; k < K; ++k) q[k] = uint8_t(i8_round(x[k], inv)) ^ kOff;
  return xs;
}

// c (+)= fma(float(s - 128 csum) * xs[r], ws[j], bias[j]) for MR rows of two 8-column sums
// (csum: null without the offset).
template <int MR>
AVX2_FN inline void put_rows(const __m256i* acc, const int32_t* csum, const float* xs, const float* ws,
                             const float* bias, float* c, int64_t ldc, bool add_c) {
  const __m256 z = _mm256_setzero_ps();
  const __m256 w0 = _mm256_loadu_ps(ws), w1 = _mm256_loadu_ps(ws + 8);
  const __m256 bi0 = bias ? _mm256_loadu_ps(bias) : z, bi1 = bias ? _mm256_loadu_ps(bias + 8) : z;
  const __m256i zi = _mm256_setzero_si256();
  const __m256i cs0 = csum ? _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(csum)), 7) : zi;
  const __m256i cs1 = csum ? _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(csum + 8)), 7) : zi;
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    const __m256 sx = _mm256_set1_ps(xs[r]);
    float* p = c + r * ldc;
    __m256 v0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[2 * r], cs0)), sx), w0, bi0);
    __m256 v1 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[2 * r + 1], cs1)), sx), w1, bi1);
    if (add_c) v0 = _mm256_add_ps(_mm256_loadu_ps(p), v0), v1 = _mm256_add_ps(_mm256_loadu_ps(p + 8), v1);
    _mm256_storeu_ps(p, v0);
    _mm256_storeu_ps(p + 8, v1);
  }
}

AVX2_FN void micro_avx2(int kcq, const uint8_t* a, const uint32_t* b, const int32_t* csum, const float* xs,
                        const float* ws, const float* bias, float* c, int64_t ldc, bool add_c) {
  __m256i acc[2 * MR];
#pragma GCC unroll 8
  for (int i = 0; i < 2 * MR; ++i) acc[i] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int kq = 0; kq < kcq; ++kq) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + kq * NR));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + kq * NR + 8));
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      int32_t v;
      std::memcpy(&v, a + r * kI8Block + 4 * kq, 4);
      const __m256i xb = _mm256_set1_epi32(v), ax = _mm256_abs_epi8(xb);
      acc[2 * r] = _mm256_add_epi32(acc[2 * r], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(b0, xb)), ones));
      acc[2 * r + 1] =
          _mm256_add_epi32(acc[2 * r + 1], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(b1, xb)), ones));
    }
  }
  put_rows<MR>(acc, csum, xs, ws, bias, c, ldc, add_c);
}

constexpr int kVnniMR = 6;

// acc += vpdpbusd(a, b) (VEX). As at the AVX512-VNNI level, the asm keeps GCC from copying the
// accumulator around the intrinsic.
AVX_VNNI_FN inline void dpbusd(__m256i& acc, __m256i a, __m256i b) {
  asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));
}

AVX_VNNI_FN void micro_avx_vnni(int kcq, const uint8_t* a, const uint32_t* b, const int32_t* csum, const float* xs,
                                const float* ws, const float* bias, float* c, int64_t ldc, bool add_c) {
  __m256i acc[2 * kVnniMR];
#pragma GCC unroll 12
  for (int i = 0; i < 2 * kVnniMR; ++i) acc[i] = _mm256_setzero_si256();
  for (int kq = 0; kq < kcq; ++kq) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + kq * NR));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + kq * NR + 8));
#pragma GCC unroll 6
    for (int r = 0; r < kVnniMR; ++r) {
      int32_t v;
      std::memcpy(&v, a + r * kI8Block + 4 * kq, 4);
      const __m256i av = _mm256_set1_epi32(v);
      dpbusd(acc[2 * r], av, b0);
      dpbusd(acc[2 * r + 1], av, b1);
    }
  }
  put_rows<kVnniMR>(acc, csum, xs, ws, bias, c, ldc, add_c);
}

}  // namespace

void gemm_i8_avx2(const Gemm& g, bool parallel) {
  I8Level L;
  L.nr = NR;
  if (avx_vnni_enabled()) {
    L.mr = kVnniMR;
    L.offset = true;
    L.quantize = quantize_avx2<true>;
    L.micro = micro_avx_vnni;
  } else {
    L.mr = MR;
    L.quantize = quantize_avx2<false>;
    L.micro = micro_avx2;
  }
  gemm_i8_driver(g, parallel, L);
}

}  // namespace docling::kernels::detail
