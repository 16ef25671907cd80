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
// Blocked like BLIS: a task owns an MB x NB block of y. For each KC slice of K it packs B
// into f32 panels of NR columns ([kc][NR], zero-padded) and runs an MR x NR register
// kernel over the rows, accumulating into a task-local C block (so `accumulate` and the
// bias are applied once, at write-out). x is read in place.

namespace {

constexpr int MB = 96, NB = 128, KC = 256;  // MB is a multiple of every MR, NB of every NR
constexpr int kMaxNR = 32;

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

// c[r][0..16) += sum_k x[r][k] * bp[k][0..16), r < 6.
void micro_scalar(const float* const* xr, int kc, const float* bp, float* c, int ldc) {
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

AVX2_FN void micro_avx2(const float* const* xr, int kc, const float* bp, float* c, int ldc) {
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
AVX512_FN void micro_avx512(const float* const* xr, int kc, const float* bp, float* c, int ldc) {
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

template <int MR, int NR>
void gemm_block(const Gemm& g, int m0, int m1, int n0, int n1,
                void (*micro)(const float* const*, int, const float*, float*, int)) {
  alignas(64) float cbuf[MB * NB];
  alignas(64) float bp[KC * NR];
  int mrows = m1 - m0, ncols = n1 - n0;
  int mpad = (mrows + MR - 1) / MR * MR;
  for (int r = 0; r < mpad; ++r) std::memset(cbuf + r * NB, 0, sizeof(float) * NB);
  for (int k0 = 0; k0 < g.K; k0 += KC) {
    int kc = std::min(KC, g.K - k0);
    for (int p0 = 0; p0 < ncols; p0 += NR) {
      pack_b<NR>(g, k0, kc, n0 + p0, bp);
      for (int r0 = 0; r0 < mrows; r0 += MR) {
        const float* xr[MR];
        // Rows past the block end repeat the last row; their results land in unused cbuf rows.
        for (int i = 0; i < MR; ++i) xr[i] = g.x + int64_t(m0 + std::min(r0 + i, mrows - 1)) * g.ldx + k0;
        micro(xr, kc, bp, cbuf + r0 * NB + p0, NB);
      }
    }
  }
  for (int r = 0; r < mrows; ++r) {
    float* y = g.y + int64_t(m0 + r) * g.ldy + n0;
    const float* c = cbuf + r * NB;
    for (int j = 0; j < ncols; ++j) {
      float v = g.bias ? c[j] + g.bias[n0 + j] : c[j];
      y[j] = g.accumulate ? y[j] + v : v;
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

AVX2_FN inline __m256 load8_bf16(const uint16_t* p) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
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

void gemv_nk(const Gemm& g, int n0, int n1, Isa isa) {
  float tmp[kGemvChunk];
  for (int m = 0; m < g.M; ++m) {
    const float* x = g.x + int64_t(m) * g.ldx;
    for (int c0 = n0; c0 < n1; c0 += kGemvChunk) {
      int c1 = std::min(n1, c0 + kGemvChunk);
      bool bf = g.btype == BType::BF16;
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
  for (int m = 0; m < g.M; ++m) {
    const float* x = g.x + int64_t(m) * g.ldx;
    for (int c0 = n0; c0 < n1; c0 += kGemvChunk) {
      int w = std::min(n1, c0 + kGemvChunk) - c0;
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

void run_block(const Gemm& g, int m0, int m1, int n0, int n1, Isa isa) {
  if (isa == Isa::Avx512) gemm_block<8, 32>(g, m0, m1, n0, n1, micro_avx512);
  else if (isa == Isa::Avx2) gemm_block<6, 16>(g, m0, m1, n0, n1, micro_avx2);
  else gemm_block<6, 16>(g, m0, m1, n0, n1, micro_scalar);
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
  int mb = (g.M + MB - 1) / MB, nb = (g.N + NB - 1) / NB;
  auto task = [&](int t) {
    int mi = t / nb, ni = t % nb;
    run_block(g, mi * MB, std::min(g.M, (mi + 1) * MB), ni * NB, std::min(g.N, (ni + 1) * NB), isa);
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

constexpr int kQBlock = 64;

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

void gelu_tanh(float* x, int64_t n) {
  constexpr int64_t kChunk = 4096;
  int chunks = int((n + kChunk - 1) / kChunk);
  for_rows(chunks, kChunk * 8, [&](int c) {
    int64_t e = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < e; ++i) {
      float v = x[i];
      float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
      x[i] = 0.5f * v * (1.0f + std::tanh(inner));
    }
  });
}

void silu_mul(float* gate, const float* up, int64_t n) {
  constexpr int64_t kChunk = 4096;
  int chunks = int((n + kChunk - 1) / kChunk);
  for_rows(chunks, kChunk * 8, [&](int c) {
    int64_t e = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < e; ++i) {
      float v = gate[i];
      gate[i] = v / (1.0f + std::exp(-v)) * up[i];
    }
  });
}

void softmax(float* x, int n) {
  if (n <= 0) return;
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
