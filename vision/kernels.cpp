#include "vision/kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#define AVX2_FN __attribute__((target("avx2,fma")))
#define AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))

// GCC 12 reports its own _mm512_undefined_*() (used inside the AVX-512 intrinsics) as
// "may be used uninitialized"; the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace docling::vision {

// --- instruction-set selection ---------------------------------------------------------

namespace {

Isa detect() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::Scalar;
}

Isa initial_isa() {
  Isa best = detect();
  // DOCLING_ISA=scalar|avx2|avx512 caps the level (for comparisons and debugging).
  if (const char* env = std::getenv("DOCLING_ISA")) {
    std::string s(env);
    Isa want = s == "scalar" ? Isa::Scalar : s == "avx2" ? Isa::Avx2 : Isa::Avx512;
    if (want < best) best = want;
  }
  return best;
}

std::atomic<Isa> g_isa{initial_isa()};

}  // namespace

Isa detected_isa() { return detect(); }
Isa active_isa() { return g_isa.load(std::memory_order_relaxed); }

void set_isa(Isa isa) {
  if (isa > detect())
    throw std::runtime_error(std::string("kernels: this CPU does not support ") + isa_name(isa));
  g_isa.store(isa);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

// --- GEMM ------------------------------------------------------------------------------
//
// Blocked like BLIS: a task owns rows [m0, m1) x columns [n0, n0 + NB) of y. y is first set
// to the bias (or kept, with `accumulate`); then for each KC slice of K the task packs that
// B block once into f32 panels of NR columns ([kc][NR], zero-padded) and sweeps its rows
// with an MR x NR register kernel that adds into y. x is read in place.

namespace {

constexpr int MCHUNK = 256, NB = 128, KC = 256;  // NB is a multiple of every NR
constexpr int kMaxMR = 8, kMaxNR = 32;

inline float bf16f(uint16_t v) {
  uint32_t u = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float load_b(const Gemm& g, int64_t idx) {
  return g.btype == BType::BF16 ? bf16f(static_cast<const uint16_t*>(g.b)[idx])
                                : static_cast<const float*>(g.b)[idx];
}

// Packs B(k0..k0+kc, n0..n0+NR) into dst[k][j]; columns >= N become 0.
template <int NR>
void pack_b(const Gemm& g, int k0, int kc, int n0, float* dst) {
  int nv = std::min(NR, g.N - n0);
  if (g.layout == BLayout::NK) {
    for (int j = 0; j < nv; ++j) {
      int64_t base = int64_t(n0 + j) * g.ldb + k0;
      if (g.btype == BType::BF16) {
        const uint16_t* src = static_cast<const uint16_t*>(g.b) + base;
        for (int k = 0; k < kc; ++k) dst[k * NR + j] = bf16f(src[k]);
      } else {
        const float* src = static_cast<const float*>(g.b) + base;
        for (int k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
      }
    }
    for (int j = nv; j < NR; ++j)
      for (int k = 0; k < kc; ++k) dst[k * NR + j] = 0.0f;
  } else {
    for (int k = 0; k < kc; ++k) {
      int64_t base = int64_t(k0 + k) * g.ldb + n0;
      float* d = dst + k * NR;
      if (g.btype == BType::BF16) {
        const uint16_t* src = static_cast<const uint16_t*>(g.b) + base;
        for (int j = 0; j < nv; ++j) d[j] = bf16f(src[j]);
      } else {
        std::memcpy(d, static_cast<const float*>(g.b) + base, sizeof(float) * size_t(nv));
      }
      for (int j = nv; j < NR; ++j) d[j] = 0.0f;
    }
  }
}

// Transposes the 8x8 block in r[0..8) (r[i][j] -> r[j][i]).
AVX2_FN inline void transpose8(__m256* r) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

AVX2_FN inline __m256 load8_bf16(const uint16_t* p) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

// pack_b for the NK layout with 8x8 transposes: full groups of 8 columns, 8 k at a time.
// Returns how many leading columns it packed (the caller packs the rest).
template <int NR>
AVX2_FN int pack_nk_avx2(const Gemm& g, int k0, int kc, int n0, float* dst) {
  const int nv = std::min(NR, g.N - n0), groups = nv / 8, k8 = kc / 8 * 8;
  for (int grp = 0; grp < groups; ++grp) {
    const int64_t row0 = int64_t(n0 + grp * 8) * g.ldb + k0;
    for (int k = 0; k < kc; k += 8) {
      if (k == k8) {  // k tail: scalar
        for (int i = 0; i < 8; ++i)
          for (int kk = k; kk < kc; ++kk) dst[kk * NR + grp * 8 + i] = load_b(g, row0 + i * g.ldb + kk);
        break;
      }
      __m256 r[8];
      for (int i = 0; i < 8; ++i) {
        int64_t off = row0 + i * g.ldb + k;
        r[i] = g.btype == BType::BF16 ? load8_bf16(static_cast<const uint16_t*>(g.b) + off)
                                      : _mm256_loadu_ps(static_cast<const float*>(g.b) + off);
      }
      transpose8(r);
      for (int j = 0; j < 8; ++j) _mm256_store_ps(dst + (k + j) * NR + grp * 8, r[j]);
    }
  }
  return groups * 8;
}

// Packs with the fastest routine the level allows.
template <int NR>
void pack(const Gemm& g, int k0, int kc, int n0, float* dst, Isa isa) {
  if (g.layout == BLayout::NK && isa >= Isa::Avx2 && g.N - n0 >= 8) {
    int done = pack_nk_avx2<NR>(g, k0, kc, n0, dst);
    if (done == NR) return;
    // remaining columns: scalar, into a shifted view
    int nv = std::min(NR, g.N - n0);
    for (int j = done; j < NR; ++j)
      for (int k = 0; k < kc; ++k)
        dst[k * NR + j] = j < nv ? load_b(g, int64_t(n0 + j) * g.ldb + k0 + k) : 0.0f;
    return;
  }
  pack_b<NR>(g, k0, kc, n0, dst);
}

using MicroFn = void (*)(const float* const*, int, const float*, float*, int64_t);

// c[r][0..16) += sum_k x[r][k] * bp[k][0..16), r < 6.
void micro_scalar(const float* const* xr, int kc, const float* bp, float* c, int64_t ldc) {
  float acc[6][16] = {};
  for (int k = 0; k < kc; ++k) {
    const float* b = bp + k * 16;
    for (int r = 0; r < 6; ++r) {
      float a = xr[r][k];
      for (int j = 0; j < 16; ++j) acc[r][j] += a * b[j];
    }
  }
  for (int r = 0; r < 6; ++r)
    for (int j = 0; j < 16; ++j) c[r * ldc + j] += acc[r][j];
}

AVX2_FN void micro_avx2(const float* const* xr, int kc, const float* bp, float* c, int64_t ldc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3], *x4 = xr[4], *x5 = xr[5];
  for (int k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_load_ps(bp + k * 16), b1 = _mm256_load_ps(bp + k * 16 + 8);
    __m256 a = _mm256_broadcast_ss(x0 + k);
    c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(x1 + k);
    c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(x2 + k);
    c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(x3 + k);
    c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(x4 + k);
    c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(x5 + k);
    c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
  }
  __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  for (int r = 0; r < 6; ++r)
    for (int h = 0; h < 2; ++h) {
      float* p = c + r * ldc + h * 8;
      _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), acc[r * 2 + h]));
    }
}

// 8 rows x 32 columns.
AVX512_FN void micro_avx512(const float* const* xr, int kc, const float* bp, float* c, int64_t ldc) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_load_ps(bp + k * 32), b1 = _mm512_load_ps(bp + k * 32 + 16);
    for (int r = 0; r < 8; ++r) {  // unrolled by the compiler; acc stays in registers
      __m512 a = _mm512_set1_ps(xr[r][k]);
      acc[2 * r] = _mm512_fmadd_ps(a, b0, acc[2 * r]);
      acc[2 * r + 1] = _mm512_fmadd_ps(a, b1, acc[2 * r + 1]);
    }
  }
  for (int r = 0; r < 8; ++r)
    for (int h = 0; h < 2; ++h) {
      float* p = c + r * ldc + h * 16;
      _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[r * 2 + h]));
    }
}

// Packed-B scratch of the calling thread, 64-byte aligned, KC x NB floats.
float* pack_buffer() {
  thread_local std::vector<float> buf(size_t(KC) * NB + 16);
  uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

template <int MR, int NR>
void gemm_task(const Gemm& g, int m0, int m1, int n0, int n1, MicroFn micro, Isa isa) {
  static_assert(MR <= kMaxMR && NR <= kMaxNR && NB % NR == 0);
  float* bp = pack_buffer();
  const int ncols = n1 - n0;
  for (int m = m0; m < m1; ++m) {  // y = bias (+ y)
    float* y = g.y + int64_t(m) * g.ldy + n0;
    for (int j = 0; j < ncols; ++j) {
      float b = g.bias ? g.bias[n0 + j] : 0.0f;
      y[j] = g.accumulate ? y[j] + b : b;
    }
  }
  for (int k0 = 0; k0 < g.K; k0 += KC) {
    const int kc = std::min(KC, g.K - k0);
    for (int p0 = 0; p0 < ncols; p0 += NR) pack<NR>(g, k0, kc, n0 + p0, bp + p0 * kc, isa);
    for (int r0 = m0; r0 < m1; r0 += MR) {
      const int mr = std::min(MR, m1 - r0);
      const float* xr[MR];
      // Rows past the end repeat the last row; only the edge path below sees their results.
      for (int i = 0; i < MR; ++i) xr[i] = g.x + int64_t(r0 + std::min(i, mr - 1)) * g.ldx + k0;
      for (int p0 = 0; p0 < ncols; p0 += NR) {
        const int nr = std::min(NR, ncols - p0);
        float* y = g.y + int64_t(r0) * g.ldy + n0 + p0;
        if (mr == MR && nr == NR) {
          micro(xr, kc, bp + p0 * kc, y, g.ldy);
          continue;
        }
        alignas(64) float tile[kMaxMR * kMaxNR] = {};
        for (int i = 0; i < mr; ++i) std::memcpy(tile + i * NR, y + i * g.ldy, sizeof(float) * size_t(nr));
        micro(xr, kc, bp + p0 * kc, tile, NR);
        for (int i = 0; i < mr; ++i) std::memcpy(y + i * g.ldy, tile + i * NR, sizeof(float) * size_t(nr));
      }
    }
  }
}

// --- small M (decode): dot products against rows of B (NK) or axpy over rows of B (KN) ---

float dot_scalar(const float* x, const Gemm& g, int64_t off, int K) {
  float s = 0.0f;
  for (int k = 0; k < K; ++k) s += x[k] * load_b(g, off + k);
  return s;
}

AVX2_FN inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// y[n0..n1) of one row: four B rows at a time.
template <bool BF16>
AVX2_FN void gemv_row_avx2(const float* x, const Gemm& g, int n0, int n1, float* out) {
  const int K = g.K;
  int n = n0;
  for (; n + 4 <= n1; n += 4) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int k = 0;
    for (; k + 8 <= K; k += 8) {
      __m256 a = _mm256_loadu_ps(x + k);
      if constexpr (BF16) {
        const uint16_t* b = static_cast<const uint16_t*>(g.b) + int64_t(n) * g.ldb + k;
        s0 = _mm256_fmadd_ps(a, load8_bf16(b), s0);
        s1 = _mm256_fmadd_ps(a, load8_bf16(b + g.ldb), s1);
        s2 = _mm256_fmadd_ps(a, load8_bf16(b + 2 * g.ldb), s2);
        s3 = _mm256_fmadd_ps(a, load8_bf16(b + 3 * g.ldb), s3);
      } else {
        const float* b = static_cast<const float*>(g.b) + int64_t(n) * g.ldb + k;
        s0 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b), s0);
        s1 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + g.ldb), s1);
        s2 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 2 * g.ldb), s2);
        s3 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 3 * g.ldb), s3);
      }
    }
    float r[4] = {hsum256(s0), hsum256(s1), hsum256(s2), hsum256(s3)};
    for (int i = 0; i < 4; ++i)
      if (k < K) r[i] += dot_scalar(x + k, g, int64_t(n + i) * g.ldb + k, K - k);
    for (int i = 0; i < 4; ++i) out[n + i - n0] = r[i];
  }
  for (; n < n1; ++n) {
    __m256 s = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= K; k += 8) {
      __m256 b;
      if constexpr (BF16) b = load8_bf16(static_cast<const uint16_t*>(g.b) + int64_t(n) * g.ldb + k);
      else b = _mm256_loadu_ps(static_cast<const float*>(g.b) + int64_t(n) * g.ldb + k);
      s = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), b, s);
    }
    out[n - n0] = hsum256(s) + (k < K ? dot_scalar(x + k, g, int64_t(n) * g.ldb + k, K - k) : 0.0f);
  }
}

AVX512_FN inline __m512 load16_bf16(const uint16_t* p) {
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

template <bool BF16>
AVX512_FN __m512 load16_b(const Gemm& g, int64_t off) {
  if constexpr (BF16) return load16_bf16(static_cast<const uint16_t*>(g.b) + off);
  else return _mm512_loadu_ps(static_cast<const float*>(g.b) + off);
}

template <bool BF16>
AVX512_FN void gemv_row_avx512(const float* x, const Gemm& g, int n0, int n1, float* out) {
  const int K = g.K;
  int n = n0;
  for (; n + 4 <= n1; n += 4) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t off = int64_t(n) * g.ldb;
    int k = 0;
    for (; k + 16 <= K; k += 16) {
      __m512 a = _mm512_loadu_ps(x + k);
      s0 = _mm512_fmadd_ps(a, load16_b<BF16>(g, off + k), s0);
      s1 = _mm512_fmadd_ps(a, load16_b<BF16>(g, off + g.ldb + k), s1);
      s2 = _mm512_fmadd_ps(a, load16_b<BF16>(g, off + 2 * g.ldb + k), s2);
      s3 = _mm512_fmadd_ps(a, load16_b<BF16>(g, off + 3 * g.ldb + k), s3);
    }
    float r[4] = {_mm512_reduce_add_ps(s0), _mm512_reduce_add_ps(s1), _mm512_reduce_add_ps(s2),
                  _mm512_reduce_add_ps(s3)};
    for (int i = 0; i < 4; ++i)
      if (k < K) r[i] += dot_scalar(x + k, g, off + i * g.ldb + k, K - k);
    for (int i = 0; i < 4; ++i) out[n + i - n0] = r[i];
  }
  for (; n < n1; ++n) {
    __m512 s = _mm512_setzero_ps();
    int64_t off = int64_t(n) * g.ldb;
    int k = 0;
    for (; k + 16 <= K; k += 16) s = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), load16_b<BF16>(g, off + k), s);
    out[n - n0] = _mm512_reduce_add_ps(s) + (k < K ? dot_scalar(x + k, g, off + k, K - k) : 0.0f);
  }
}

void gemv_row_scalar(const float* x, const Gemm& g, int n0, int n1, float* out) {
  for (int n = n0; n < n1; ++n) out[n - n0] = dot_scalar(x, g, int64_t(n) * g.ldb, g.K);
}

void write_out(const Gemm& g, int m, int n0, int n1, const float* v) {
  float* y = g.y + int64_t(m) * g.ldy;
  for (int n = n0; n < n1; ++n) {
    float r = g.bias ? v[n - n0] + g.bias[n] : v[n - n0];
    y[n] = g.accumulate ? y[n] + r : r;
  }
}

constexpr int kGemvChunk = 64;

// Rows of x inside the column chunk loop: a chunk of B is read from memory once and
// reused from cache by every row (batched decode).
void gemv_nk(const Gemm& g, int n0, int n1, Isa isa) {
  float tmp[kGemvChunk];
  const bool bf = g.btype == BType::BF16;
  for (int c0 = n0; c0 < n1; c0 += kGemvChunk) {
    const int c1 = std::min(n1, c0 + kGemvChunk);
    for (int m = 0; m < g.M; ++m) {
      const float* x = g.x + int64_t(m) * g.ldx;
      if (isa == Isa::Avx512) bf ? gemv_row_avx512<true>(x, g, c0, c1, tmp) : gemv_row_avx512<false>(x, g, c0, c1, tmp);
      else if (isa == Isa::Avx2) bf ? gemv_row_avx2<true>(x, g, c0, c1, tmp) : gemv_row_avx2<false>(x, g, c0, c1, tmp);
      else gemv_row_scalar(x, g, c0, c1, tmp);
      write_out(g, m, c0, c1, tmp);
    }
  }
}

// KN layout, small M: y[m, n] = sum_k x[m, k] B[k, n]; axpy over contiguous B rows
// (plain loops: the compiler vectorizes them for the build's base ISA).
void gemv_kn(const Gemm& g, int n0, int n1) {
  float acc[kGemvChunk];
  for (int c0 = n0; c0 < n1; c0 += kGemvChunk) {
    const int w = std::min(n1, c0 + kGemvChunk) - c0;
    for (int m = 0; m < g.M; ++m) {
      const float* x = g.x + int64_t(m) * g.ldx;
      std::fill(acc, acc + w, 0.0f);
      for (int k = 0; k < g.K; ++k) {
        float a = x[k];
        int64_t off = int64_t(k) * g.ldb + c0;
        if (g.btype == BType::BF16) {
          const uint16_t* b = static_cast<const uint16_t*>(g.b) + off;
          for (int j = 0; j < w; ++j) acc[j] += a * bf16f(b[j]);
        } else {
          const float* b = static_cast<const float*>(g.b) + off;
          for (int j = 0; j < w; ++j) acc[j] += a * b[j];
        }
      }
      write_out(g, m, c0, c0 + w, acc);
    }
  }
}

constexpr int kSmallM = 4;

void run_task(const Gemm& g, int m0, int m1, int n0, int n1, Isa isa) {
  if (isa == Isa::Avx512) gemm_task<8, 32>(g, m0, m1, n0, n1, micro_avx512, isa);
  else if (isa == Isa::Avx2) gemm_task<6, 16>(g, m0, m1, n0, n1, micro_avx2, isa);
  else gemm_task<6, 16>(g, m0, m1, n0, n1, micro_scalar, isa);
}

}  // namespace

void gemm(const Gemm& g, bool parallel) {
  if (g.M <= 0 || g.N <= 0) return;
  if (g.K <= 0) {  // empty sum: y = bias (+ y)
    std::vector<float> zero(size_t(g.N), 0.0f);
    for (int m = 0; m < g.M; ++m) write_out(g, m, 0, g.N, zero.data());
    return;
  }
  const Isa isa = active_isa();
  if (g.M <= kSmallM) {
    auto body = [&](int n0, int n1) {
      if (g.layout == BLayout::NK) gemv_nk(g, n0, n1, isa);
      else gemv_kn(g, n0, n1);
    };
    if (!parallel || g.N <= kGemvChunk) {
      body(0, g.N);
    } else {
      int chunks = (g.N + kGemvChunk - 1) / kGemvChunk;
      tbb::parallel_for(tbb::blocked_range<int>(0, chunks), [&](const tbb::blocked_range<int>& r) {
        body(r.begin() * kGemvChunk, std::min(g.N, r.end() * kGemvChunk));
      });
    }
    return;
  }
  int mb = (g.M + MCHUNK - 1) / MCHUNK, nb = (g.N + NB - 1) / NB;
  auto task = [&](int t) {
    int mi = t / nb, ni = t % nb;
    run_task(g, mi * MCHUNK, std::min(g.M, (mi + 1) * MCHUNK), ni * NB, std::min(g.N, (ni + 1) * NB), isa);
  };
  if (!parallel || mb * nb == 1) {
    for (int t = 0; t < mb * nb; ++t) task(t);
  } else {
    tbb::parallel_for(tbb::blocked_range<int>(0, mb * nb, 1), [&](const tbb::blocked_range<int>& r) {
      for (int t = r.begin(); t < r.end(); ++t) task(t);
    });
  }
}

void gemm_reference(const Gemm& g) {
  for (int m = 0; m < g.M; ++m)
    for (int n = 0; n < g.N; ++n) {
      double s = 0.0;
      for (int k = 0; k < g.K; ++k) {
        int64_t idx = g.layout == BLayout::NK ? int64_t(n) * g.ldb + k : int64_t(k) * g.ldb + n;
        s += double(g.x[int64_t(m) * g.ldx + k]) * double(load_b(g, idx));
      }
      if (g.bias) s += g.bias[n];
      float* y = g.y + int64_t(m) * g.ldy + n;
      *y = g.accumulate ? float(*y + s) : float(s);
    }
}

// --- attention -------------------------------------------------------------------------

namespace {

constexpr int kQBlock = 128;

void attention_task(const Attention& a, int h, int i0, int i1) {
  thread_local std::vector<float> scores;
  const int g = h / (a.heads / a.kv_heads), hd = a.head_dim, nq = i1 - i0;
  int n_kv = a.causal ? std::min(a.n_kv, a.q_pos0 + i1) : a.n_kv;
  if (n_kv <= 0) {  // nothing visible: output zeros (cannot happen for a valid causal prompt)
    for (int i = i0; i < i1; ++i) std::memset(a.out + int64_t(i) * a.ldo + h * hd, 0, sizeof(float) * hd);
    return;
  }
  if (scores.size() < size_t(nq) * size_t(n_kv)) scores.resize(size_t(nq) * size_t(n_kv));
  Gemm s;
  s.M = nq; s.N = n_kv; s.K = hd;
  s.x = a.q + int64_t(i0) * a.ldq + h * hd; s.ldx = a.ldq;
  s.b = a.k + g * hd; s.btype = BType::F32; s.layout = BLayout::NK; s.ldb = a.ld_kv;
  s.y = scores.data(); s.ldy = n_kv;
  gemm(s, false);
  for (int i = 0; i < nq; ++i) {
    float* row = scores.data() + int64_t(i) * n_kv;
    int visible = a.causal ? std::min(n_kv, a.q_pos0 + i0 + i + 1) : n_kv;
    for (int j = 0; j < visible; ++j) row[j] *= a.scale;
    softmax(row, visible);
    for (int j = visible; j < n_kv; ++j) row[j] = 0.0f;
  }
  Gemm o;
  o.M = nq; o.N = hd; o.K = n_kv;
  o.x = scores.data(); o.ldx = n_kv;
  o.b = a.v + g * hd; o.btype = BType::F32; o.layout = BLayout::KN; o.ldb = a.ld_kv;
  o.y = a.out + int64_t(i0) * a.ldo + h * hd; o.ldy = a.ldo;
  gemm(o, false);
}

}  // namespace

void attention(const Attention& a, bool parallel) {
  if (a.n_q <= 0) return;
  if (a.heads <= 0 || a.kv_heads <= 0 || a.heads % a.kv_heads)
    throw std::invalid_argument("attention: heads must be a positive multiple of kv_heads");
  int qb = (a.n_q + kQBlock - 1) / kQBlock, tasks = a.heads * qb;
  auto run = [&](int t) {
    int h = t % a.heads, b = t / a.heads;
    attention_task(a, h, b * kQBlock, std::min(a.n_q, (b + 1) * kQBlock));
  };
  if (!parallel || tasks == 1) {
    for (int t = 0; t < tasks; ++t) run(t);
  } else {
    tbb::parallel_for(tbb::blocked_range<int>(0, tasks, 1), [&](const tbb::blocked_range<int>& r) {
      for (int t = r.begin(); t < r.end(); ++t) run(t);
    });
  }
}

// --- element-wise ----------------------------------------------------------------------

namespace {

template <class F>
void for_rows(int rows, int64_t row_cost, F&& f) {
  // Split only when there is enough work to pay for the threads.
  int grain = int(std::max<int64_t>(1, 16384 / std::max<int64_t>(row_cost, 1)));
  if (rows <= grain) {
    for (int r = 0; r < rows; ++r) f(r);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int>(0, rows, grain), [&](const tbb::blocked_range<int>& br) {
    for (int r = br.begin(); r < br.end(); ++r) f(r);
  });
}

}  // namespace

void layernorm(const float* x, int rows, int n, const float* w, const float* b, float eps, float* out) {
  for_rows(rows, n, [&](int r) {
    const float* xi = x + int64_t(r) * n;
    float* yi = out + int64_t(r) * n;
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; ++i) s += xi[i];
    float mean = float(s / n);
    for (int i = 0; i < n; ++i) {
      double d = double(xi[i]) - mean;
      ss += d * d;
    }
    float rstd = 1.0f / std::sqrt(float(ss / n) + eps);
    for (int i = 0; i < n; ++i) yi[i] = (xi[i] - mean) * rstd * w[i] + (b ? b[i] : 0.0f);
  });
}

void rmsnorm(const float* x, int rows, int n, const float* w, float eps, float* out) {
  for_rows(rows, n, [&](int r) {
    const float* xi = x + int64_t(r) * n;
    float* yi = out + int64_t(r) * n;
    double ss = 0.0;
    for (int i = 0; i < n; ++i) ss += double(xi[i]) * xi[i];
    float rs = 1.0f / std::sqrt(float(ss / n) + eps);
    for (int i = 0; i < n; ++i) yi[i] = w[i] * (xi[i] * rs);
  });
}

namespace {

// --- vectorized exp (Cephes-style: e^x = 2^n * e^r, |r| <= ln2/2, degree-7 polynomial;
// about 1 ulp). Inputs are clamped to [-87.3, 88.3], so tiny results come out as ~1e-38
// instead of 0 and huge ones as ~2e38 instead of inf; all callers tolerate that.

AVX2_FN inline __m256 exp_avx2(__m256 x) {
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

// gelu_tanh(x) = 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3):
// the sigmoid form has no cancellation near 0.
AVX2_FN void gelu_avx2(float* x, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), c = _mm256_set1_ps(-2.0f * 0.7978845608028654f);
  const __m256 k = _mm256_set1_ps(0.044715f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256 inner = _mm256_fmadd_ps(_mm256_mul_ps(k, v), _mm256_mul_ps(v, v), v);
    __m256 e = exp_avx2(_mm256_mul_ps(c, inner));
    _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
  }
  for (; i < n; ++i) {
    float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
  }
}

AVX2_FN void silu_mul_avx2(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(gate + i);
    __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, exp_avx2(_mm256_sub_ps(zero, v))));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

AVX2_FN void softmax_avx2(float* x, int n) {
  __m256 mx8 = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int i = 0;
  for (; i + 8 <= n; i += 8) mx8 = _mm256_max_ps(mx8, _mm256_loadu_ps(x + i));
  float buf[8];
  _mm256_storeu_ps(buf, mx8);
  float mx = buf[0];
  for (int j = 1; j < 8; ++j) mx = std::max(mx, buf[j]);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  const __m256 m = _mm256_set1_ps(mx);
  __m256 sum8 = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(x + i, e);
    sum8 = _mm256_add_ps(sum8, e);
  }
  float sum = hsum256(sum8);
  for (; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  for (; i < n; ++i) x[i] *= 1.0f / sum;
}

}  // namespace

void gelu_tanh(float* x, int64_t n) {
  constexpr int64_t kChunk = 4096;
  const bool vec = active_isa() >= Isa::Avx2;
  int chunks = int((n + kChunk - 1) / kChunk);
  for_rows(chunks, kChunk * 8, [&](int c) {
    int64_t b = c * kChunk, e = std::min(n, b + kChunk);
    if (vec) {
      gelu_avx2(x + b, e - b);
      return;
    }
    for (int64_t i = b; i < e; ++i) {
      float v = x[i];
      float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
      x[i] = 0.5f * v * (1.0f + std::tanh(inner));
    }
  });
}

void silu_mul(float* gate, const float* up, int64_t n) {
  constexpr int64_t kChunk = 4096;
  const bool vec = active_isa() >= Isa::Avx2;
  int chunks = int((n + kChunk - 1) / kChunk);
  for_rows(chunks, kChunk * 8, [&](int c) {
    int64_t b = c * kChunk, e = std::min(n, b + kChunk);
    if (vec) {
      silu_mul_avx2(gate + b, up + b, e - b);
      return;
    }
    for (int64_t i = b; i < e; ++i) {
      float v = gate[i];
      gate[i] = v / (1.0f + std::exp(-v)) * up[i];
    }
  });
}

void softmax(float* x, int n) {
  if (n <= 0) return;
  if (active_isa() >= Isa::Avx2) {
    softmax_avx2(x, n);
    return;
  }
  float mx = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  float inv = 1.0f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void rope_table(int n_pos, int head_dim, double theta, float* cs) {
  int half = head_dim / 2;
  std::vector<float> inv(size_t(half > 0 ? half : 0));
  for (int i = 0; i < half; ++i) {
    float e = float(2 * i) / float(head_dim);
    inv[size_t(i)] = 1.0f / float(std::pow(theta, double(e)));
  }
  for (int p = 0; p < n_pos; ++p)
    for (int i = 0; i < half; ++i) {
      float ang = float(p) * inv[size_t(i)];
      cs[int64_t(p) * head_dim + i] = std::cos(ang);
      cs[int64_t(p) * head_dim + half + i] = std::sin(ang);
    }
}

void rope(float* x, int rows, int64_t ld, int heads, int head_dim, const int32_t* pos, const float* cs) {
  int half = head_dim / 2;
  for (int r = 0; r < rows; ++r) {
    const float* c = cs + int64_t(pos[r]) * head_dim;
    const float* s = c + half;
    for (int h = 0; h < heads; ++h) {
      float* v = x + int64_t(r) * ld + h * head_dim;
      for (int i = 0; i < half; ++i) {
        float a = v[i], b = v[i + half];
        // q*cos + rotate_half(q)*sin, each product rounded as torch does
        float a_cos = a * c[i], b_sin = b * s[i], b_cos = b * c[i], a_sin = a * s[i];
        v[i] = a_cos - b_sin;
        v[i + half] = b_cos + a_sin;
      }
    }
  }
}

int argmax(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

}  // namespace docling::vision
