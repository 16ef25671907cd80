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

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/exp_avx2.h"
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

// --- the output head's int8 screen on AVX-VNNI (kernels/head_screen.h) ---
// The AVX512-VNNI pass (int8_avx512.cpp) on 256 bits: a 16-column panel row is two halves of
// 8 columns, so each row and plane of x takes two sums; the rows go in groups of 4 (one plane)
// or 2 (two), 8 sums and the two halves of B in the 16 registers.
namespace docling::kernels::detail {

namespace {

constexpr int kThresholdEveryYmm = 16;  // panels between updates of a row's threshold

// A horizontal max / sum of 8 lanes.
AVX2_FN inline float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}
AVX2_FN inline float hsum8(__m256 v) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_add_ss(m, _mm_movehdup_ps(m)));
}

// Rows [r0, r0 + R) of the pass over panels [p0, p1), x in P planes (R * P <= 4).
template <int R, int P>
AVX_VNNI_FN void screen_rows_ymm(ScreenPass& ps, int r0, int p0, int p1) {
  const HeadScreen& s = *ps.screen;
  const int kq = s.kq;
  __m256 low[R], sum[R], top[R];
  float thr[R];
  for (int r = 0; r < R; ++r) {
    low[r] = _mm256_set1_ps(ps.low[r0 + r]);
    sum[r] = _mm256_setzero_ps();
    top[r] = _mm256_set1_ps(-__builtin_inff());
    thr[r] = ps.low[r0 + r];
  }
  const uint8_t* xq = ps.xq + int64_t(r0) * P * kq * 4;
  for (int p = p0; p < p1; ++p) {
    const int8_t* q = s.q.data() + int64_t(p) * kq * 64;
    __m256i acc[R][P][2];
    for (int r = 0; r < R; ++r)
      for (int i = 0; i < P; ++i) acc[r][i][0] = acc[r][i][1] = _mm256_setzero_si256();
    for (int g = 0; g < kq; ++g) {
      _mm_prefetch(reinterpret_cast<const char*>(q + int64_t(g) * 64 + 8192), _MM_HINT_T1);
      const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(q + int64_t(g) * 64));
      const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(q + int64_t(g) * 64 + 32));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int i = 0; i < P; ++i) {
          int32_t v;
          std::memcpy(&v, xq + (int64_t(r) * P + i) * kq * 4 + 4 * g, 4);
          const __m256i a = _mm256_set1_epi32(v);
          dpbusd(acc[r][i][0], a, w0);
          dpbusd(acc[r][i][1], a, w1);
        }
    }
    const int valid = std::min(16, s.N - p * 16);
    for (int h = 0; h < 2; ++h) {
      const int n0 = p * 16 + 8 * h, in = std::clamp(valid - 8 * h, 0, 8);
      if (in == 0) continue;
      const __m256 inside = _mm256_castsi256_ps(
          _mm256_cmpgt_epi32(_mm256_set1_epi32(in), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
      const __m256 sc = _mm256_load_ps(s.scale.data() + n0);
      const __m256i corr = _mm256_slli_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(s.sum.data() + n0)), 7);
      const __m256 l1q = _mm256_cvtepi32_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(s.abs_sum.data() + n0)));
      const __m256 neg = _mm256_set1_ps(-__builtin_inff());
      for (int r = 0; r < R; ++r) {
        __m256 a = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[r][0][h], corr)), _mm256_set1_ps(ps.t[r0 + r]));
        if constexpr (P == 2)
          a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[r][1][h], corr)), _mm256_set1_ps(ps.t2[r0 + r]), a);
        a = _mm256_mul_ps(a, sc);
        const float last = P == 2 ? ps.t2[r0 + r] : ps.t[r0 + r];
        const __m256 b =
            _mm256_mul_ps(sc, _mm256_fmadd_ps(l1q, _mm256_set1_ps(0.5f * last), _mm256_set1_ps(ps.half_l1[r0 + r])));
        const __m256 up = _mm256_add_ps(a, b);
        low[r] = _mm256_max_ps(low[r], _mm256_blendv_ps(neg, _mm256_sub_ps(a, b), inside));
        top[r] = _mm256_max_ps(top[r], _mm256_blendv_ps(neg, a, inside));
        if (!ps.started[r0 + r]) {  // the sum's reference: this half's largest A
          ps.ref[r0 + r] = hmax8(_mm256_blendv_ps(neg, a, inside));
          ps.started[r0 + r] = 1;
        }
        const __m256 e = exp_avx2(_mm256_sub_ps(a, _mm256_set1_ps(ps.ref[r0 + r])));
        sum[r] = _mm256_add_ps(sum[r], _mm256_and_ps(e, inside));
        int hit = _mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps(up, _mm256_set1_ps(thr[r]), _CMP_GE_OQ), inside));
        if (hit) {
          alignas(32) float av[8], uv[8];
          _mm256_store_ps(av, a);
          _mm256_store_ps(uv, up);
          append_hits(*ps.hits, ps.row0 + r0 + r, n0, unsigned(hit), av, uv);
        }
      }
    }
    if ((p - p0) % kThresholdEveryYmm == kThresholdEveryYmm - 1 || p + 1 == p1)
      for (int r = 0; r < R; ++r) thr[r] = std::max(thr[r], hmax8(low[r]));
  }
  for (int r = 0; r < R; ++r) {
    ps.low[r0 + r] = std::max(ps.low[r0 + r], hmax8(low[r]));
    ps.sum[r0 + r] += hsum8(sum[r]);
    if (hmax8(top[r]) - ps.ref[r0 + r] > 80.0f) ps.sum[r0 + r] = __builtin_nanf("");  // exp clamps at 88.3
  }
}

template <int P>
void screen_planes_ymm(ScreenPass& ps, int p0, int p1) {
  constexpr int kRows = 4 / P;
  for (int r = 0; r < ps.rows; r += kRows) switch (std::min(kRows, ps.rows - r)) {
      case 1: screen_rows_ymm<1, P>(ps, r, p0, p1); break;
      case 2: screen_rows_ymm<2, P>(ps, r, p0, p1); break;
      case 3: screen_rows_ymm<3, P>(ps, r, p0, p1); break;
      default: screen_rows_ymm<kRows, P>(ps, r, p0, p1); break;
    }
}

}  // namespace

void screen_panels_avx_vnni(ScreenPass& ps, int p0, int p1) {
  ps.planes == 2 ? screen_planes_ymm<2>(ps, p0, p1) : screen_planes_ymm<1>(ps, p0, p1);
}

}  // namespace docling::kernels::detail
