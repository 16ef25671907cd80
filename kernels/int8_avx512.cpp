// The XType::I8 product with AVX512-VNNI (kernels/int8_gemm.h): 14 x 32 register kernel of
// vpdpbusd (28 accumulators + 2 B vectors; x's dword broadcast from memory). vpdpbusd takes
// unsigned activations: x goes in as xq + 128 and each k block's result is corrected by
// 128 * the block's column sums of B (packed with it), in integers, before the scales.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/exp_avx512.h"
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

// --- the output head's int8 screen (kernels/head_screen.h) ---
namespace docling::kernels::detail {

namespace {

constexpr int kThresholdEvery = 16;  // panels between updates of a row's threshold and reference

// Rows [0, R) of the pass over panels [p0, p1), x in P planes.
template <int R, int P>
VNNI_FN void screen_rows(ScreenPass& ps, int p0, int p1) {
  const HeadScreen& s = *ps.screen;
  const int kq = s.kq;
  __m512 low[R], sum[R], top[R];  // top: the largest A, to check the sum's reference
  float thr[R];  // the threshold hits are kept against: `low` as of the last update
  for (int r = 0; r < R; ++r) {
    low[r] = _mm512_set1_ps(ps.low[r]);
    sum[r] = _mm512_setzero_ps();
    top[r] = _mm512_set1_ps(-__builtin_inff());
    thr[r] = ps.low[r];
  }
  for (int p = p0; p < p1; ++p) {
    const int8_t* q = s.q.data() + int64_t(p) * kq * 64;
    __m512i acc[R][P];  // the sums of x's planes
    for (int r = 0; r < R; ++r)
      for (int i = 0; i < P; ++i) acc[r][i] = _mm512_setzero_si512();
    for (int g = 0; g < kq; ++g) {
      _mm_prefetch(reinterpret_cast<const char*>(q + int64_t(g) * 64 + 8192), _MM_HINT_T1);
      const __m512i w = _mm512_load_si512(q + int64_t(g) * 64);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int i = 0; i < P; ++i) {
          int32_t v;
          std::memcpy(&v, ps.xq + (int64_t(r) * P + i) * kq * 4 + 4 * g, 4);
          dpbusd(acc[r][i], _mm512_set1_epi32(v), w);
        }
    }
    const __m512 sc = _mm512_load_ps(s.scale.data() + p * 16);
    const __m512i corr = _mm512_slli_epi32(_mm512_load_si512(s.sum.data() + p * 16), 7);
    const __m512 l1q = _mm512_cvtepi32_ps(_mm512_load_si512(s.abs_sum.data() + p * 16));
    const int valid = std::min(16, s.N - p * 16);
    const __mmask16 inside = valid >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid) - 1);
    for (int r = 0; r < R; ++r) {
      __m512 a = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][0], corr)), _mm512_set1_ps(ps.t[r]));
      if constexpr (P == 2)
        a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][1], corr)), _mm512_set1_ps(ps.t2[r]), a);
      a = _mm512_mul_ps(a, sc);
      const float last = P == 2 ? ps.t2[r] : ps.t[r];  // the scale of x's last plane
      const __m512 b = _mm512_mul_ps(sc, _mm512_fmadd_ps(l1q, _mm512_set1_ps(0.5f * last), _mm512_set1_ps(ps.half_l1[r])));
      const __m512 up = _mm512_add_ps(a, b);
      low[r] = _mm512_mask_max_ps(low[r], inside, low[r], _mm512_sub_ps(a, b));
      top[r] = _mm512_mask_max_ps(top[r], inside, top[r], a);
      if (!ps.started[r]) {  // the sum's reference: this panel's largest A
        ps.ref[r] = _mm512_mask_reduce_max_ps(inside, a);
        ps.started[r] = 1;
      }
      sum[r] = _mm512_add_ps(sum[r], _mm512_maskz_mov_ps(inside, exp_avx512(_mm512_sub_ps(a, _mm512_set1_ps(ps.ref[r])))));
      __mmask16 hit = _mm512_mask_cmp_ps_mask(inside, up, _mm512_set1_ps(thr[r]), _CMP_GE_OQ);
      if (hit) {
        alignas(64) float av[16], uv[16];
        _mm512_store_ps(av, a);
        _mm512_store_ps(uv, up);
        append_hits(*ps.hits, ps.row0 + r, p * 16, hit, av, uv);
      }
    }
    if ((p - p0) % kThresholdEvery == kThresholdEvery - 1 || p + 1 == p1)
      for (int r = 0; r < R; ++r) thr[r] = std::max(thr[r], _mm512_reduce_max_ps(low[r]));
  }
  for (int r = 0; r < R; ++r) {
    ps.low[r] = std::max(ps.low[r], _mm512_reduce_max_ps(low[r]));
    ps.sum[r] += _mm512_reduce_add_ps(sum[r]);
    // exp clamps at 88.3: a column far above the reference would be summed wrong, so the
    // sum is given up (the caller then takes the full product).
    if (_mm512_reduce_max_ps(top[r]) - ps.ref[r] > 80.0f) ps.sum[r] = __builtin_nanf("");
  }
}

}  // namespace

template <int P>
void screen_planes(ScreenPass& ps, int p0, int p1) {
  switch (ps.rows) {
    case 1: screen_rows<1, P>(ps, p0, p1); break;
    case 2: screen_rows<2, P>(ps, p0, p1); break;
    case 3: screen_rows<3, P>(ps, p0, p1); break;
    case 4: screen_rows<4, P>(ps, p0, p1); break;
    case 5: screen_rows<5, P>(ps, p0, p1); break;
    case 6: screen_rows<6, P>(ps, p0, p1); break;
    case 7: screen_rows<7, P>(ps, p0, p1); break;
    default: screen_rows<8, P>(ps, p0, p1); break;
  }
}

void screen_panels_vnni(ScreenPass& ps, int p0, int p1) {
  ps.planes == 2 ? screen_planes<2>(ps, p0, p1) : screen_planes<1>(ps, p0, p1);
}

}  // namespace docling::kernels::detail
