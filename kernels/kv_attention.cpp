// Attention against the KV cache (see KvAttention in vision/kernels.h).
//
// Decoding is memory-bound: every step reads the whole cache of every sequence in the
// batch. Keeping K/V in f16 halves that traffic (and the cache's memory) against f32, and
// F16C widens 8 values per instruction; f32 is kept for exact comparisons (and serves the
// vision encoder's keys). K is stored transposed in blocks of 16 keys so that q·K for 16 keys
// is a register kernel with no horizontal sums; V is stored by position, which is already
// the layout P·V wants.
//
// A task takes one kv head of one attention and a block of its query rows, all q heads of
// the group together (GQA: the cache is read once per group), and walks the keys in blocks
// of kBlock with an online softmax (running max and sum per row).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <limits>
#include <stdexcept>
#include <vector>


#include "kernels/aligned.h"
#include "kernels/kernels.h"
#include "kernels/micro.h"
#include "kernels/parallel.h"
#include "kernels/convert.h"  // f16_to_f32


namespace docling::kernels {

// --- f16 conversion ------------------------------------------------------------------

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) {
    u = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    u = sign;
  } else {  // subnormal: normalize
    int e = -1;
    do { man <<= 1; ++e; } while (!(man & 0x400));
    u = sign | uint32_t(112 - e) << 23 | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float x) {
  x = std::clamp(x, -65504.0f, 65504.0f);  // NaN passes through clamp unchanged
  uint32_t f;
  std::memcpy(&f, &x, 4);
  const uint32_t sign = (f >> 16) & 0x8000u, abs = f & 0x7fffffffu;
  if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
  if (abs >= 0x38800000u) {                                // normal half
    uint32_t m = abs - 0x38000000u;                         // rebias exponent 127 -> 15
    m += 0x0fffu + ((m >> 13) & 1u);                        // round to nearest even
    return uint16_t(sign | (m >> 13));
  }
  // Subnormal half (or zero): value = abs * 2^24 in units of the half's smallest step.
  float a;
  std::memcpy(&a, &abs, 4);
  return uint16_t(sign | uint32_t(std::nearbyint(a * 16777216.0f)));  // ties to even (default mode)
}

KvType kv_type_from_env() {
  const char* e = std::getenv("DOCLING_KV");
  return e && std::string(e) == "f32" ? KvType::F32 : KvType::F16;
}

namespace {

bool use_f16c() { return active_isa() >= Isa::Avx2; }  // every AVX2 CPU has F16C

F16_FN void f32_to_f16_row_f16c(const float* x, int n, uint16_t* out) {
  const __m256 hi = _mm256_set1_ps(65504.0f), lo = _mm256_set1_ps(-65504.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    // max/min with the value as the second operand return it when it is NaN.
    __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_loadu_ps(x + i)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) out[i] = f32_to_f16(x[i]);
}

}  // namespace

void f32_to_f16_row(const float* x, int n, uint16_t* out) {
  if (use_f16c()) {
    f32_to_f16_row_f16c(x, n, out);
    return;
  }
  for (int i = 0; i < n; ++i) out[i] = f32_to_f16(x[i]);
}

// --- register kernels ------------------------------------------------------------------

namespace {

using micro::micro_rows;
inline float value(const uint16_t* p) { return f16_to_f32(*p); }
inline float value(const float* p) { return *p; }

template <class T>
void micro_kv_scalar(int mr, int nc, int kc, const float* const* xr, const T* b, int64_t ldb, float* c,
                     int64_t ldc, bool add_c) {
  for (int r = 0; r < mr; ++r) {
    float acc[32] = {};
    for (int k = 0; k < kc; ++k)
      for (int j = 0; j < nc; ++j) acc[j] += xr[r][k] * value(b + int64_t(k) * ldb + j);
    for (int j = 0; j < nc; ++j) c[r * ldc + j] = add_c ? c[r * ldc + j] + acc[j] : acc[j];
  }
}

// Rows [0, rows) of x (row stride ldx) times `cols` (16 or 32) columns of B: 6 rows x 16
// or 3 rows x 32 columns per register block.
template <class T>
void rows_kv(int rows, int cols, int kc, const float* x, int64_t ldx, const T* b, int64_t ldb, float* c, int64_t ldc,
             bool add_c) {
  const bool vec = use_f16c();
  const int step = cols == 32 ? 3 : 6;
  for (int r0 = 0; r0 < rows; r0 += step) {
    const int mr = std::min(step, rows - r0);
    const float* xr[6];
    for (int i = 0; i < mr; ++i) xr[i] = x + int64_t(r0 + i) * ldx;
    float* cr = c + int64_t(r0) * ldc;
    if (!vec) micro_kv_scalar(mr, cols, kc, xr, b, ldb, cr, ldc, add_c);
    else if (cols == 32) micro_rows<4>(mr, kc, xr, b, ldb, cr, ldc, add_c);
    else micro_rows<2>(mr, kc, xr, b, ldb, cr, ldc, add_c);
  }
}

// --- the attention task ----------------------------------------------------------------

// Asks for [p, p + bytes) in L1 ahead of use (past the cache's stored part is harmless).
inline void prefetch_bytes(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}

constexpr int kBlock = 256;     // keys per softmax block (a multiple of kKvKeys)
constexpr int kPvKeys = 16;     // keys per P · V sub-block (2 KB of f16 V at head_dim 64)
constexpr int kTaskRows = 96;   // rows (query x head of the group) per task

struct Scratch {
  aligned_vector<float> q, s, o, m, l;
  std::vector<int> vis;
  void reserve(int rows, int hd) {  // each buffer on its own: rows and head_dim vary per call
    const size_t r = size_t(rows), rh = r * size_t(hd), rs = r * kBlock;
    if (q.size() < rh) q.resize(rh), o.resize(rh);
    if (m.size() < r) m.resize(r), l.resize(r), vis.resize(r);
    if (s.size() < rs) s.resize(rs);
  }
};

template <class T>
void task(const KvAttention& a, int g, int i0, int i1) {
  thread_local Scratch fs;
  const int gs = a.heads / a.kv_heads, hd = a.head_dim, R = (i1 - i0) * gs;
  fs.reserve(R, hd);
  int kv_end = 0;
  for (int i = i0; i < i1; ++i) {
    const int vis = a.causal ? std::min(a.n_kv, a.q_pos0 + i + 1) : a.n_kv;
    kv_end = std::max(kv_end, vis);
    for (int j = 0; j < gs; ++j) {
      const int r = (i - i0) * gs + j;  // row r is query i of head g * gs + j
      std::memcpy(fs.q.data() + int64_t(r) * hd, a.q + int64_t(i) * a.ldq + int64_t(g * gs + j) * hd,
                  sizeof(float) * size_t(hd));
      fs.vis[size_t(r)] = vis;
      fs.m[size_t(r)] = -std::numeric_limits<float>::infinity();
      fs.l[size_t(r)] = 0.0f;
    }
  }
  std::fill(fs.o.begin(), fs.o.begin() + int64_t(R) * hd, 0.0f);
  const T* kh = static_cast<const T*>(a.k) + int64_t(g) * a.kv_stride;
  const T* vh = static_cast<const T*>(a.v) + int64_t(g) * a.kv_stride;
  for (int j0 = 0; j0 < kv_end; j0 += kBlock) {
    const int bk = std::min(kBlock, kv_end - j0), panels = (bk + kKvKeys - 1) / kKvKeys;
    // Scores of 16 keys at a time; keys past n_kv in the last panel are never read back.
    for (int p = 0; p < panels; ++p)
      rows_kv(R, kKvKeys, hd, fs.q.data(), hd, kh + int64_t(j0 / kKvKeys + p) * hd * kKvKeys, kKvKeys,
               fs.s.data() + p * kKvKeys, kBlock, false);
    for (int r = 0; r < R; ++r) {
      const int n = std::clamp(fs.vis[size_t(r)] - j0, 0, bk);
      float* srow = fs.s.data() + int64_t(r) * kBlock;
      if (n == 0) {
        std::fill(srow, srow + bk, 0.0f);
        continue;
      }
      online_softmax_row(srow, n, bk, a.scale, fs.m[size_t(r)], fs.l[size_t(r)], fs.o.data() + int64_t(r) * hd, hd);
    }
    // O += P · V over the bk keys (all stored): few rows take 32 output dimensions per pass
    // (a whole cache line of each V row), many take 16 (more rows per register block). The
    // passes go over kPvKeys keys at a time, the next keys' V rows fetched meanwhile: a pass
    // after the first then reads from L1 while memory keeps streaming (whole-block passes
    // left it idle during the later ones: batch-8 steps 3-6% slower).
    const int cols = R <= 3 && hd % 32 == 0 ? 32 : 16;
    for (int s0 = 0; s0 < bk; s0 += kPvKeys) {
      const int n = std::min(kPvKeys, bk - s0);
      const T* vs = vh + int64_t(j0 + s0) * hd;
      prefetch_bytes(vs + int64_t(n) * hd, size_t(n) * size_t(hd) * sizeof(T));
      for (int d0 = 0; d0 < hd; d0 += cols)
        rows_kv(R, cols, n, fs.s.data() + s0, kBlock, vs + d0, hd, fs.o.data() + d0, hd, true);
    }
  }
  for (int i = i0; i < i1; ++i)
    for (int j = 0; j < gs; ++j) {
      const int r = (i - i0) * gs + j;
      const float l = fs.l[size_t(r)], inv = l > 0.0f ? 1.0f / l : 0.0f;
      const float* src = fs.o.data() + int64_t(r) * hd;
      float* dst = a.out + int64_t(i) * a.ldo + int64_t(g * gs + j) * hd;
      for (int d = 0; d < hd; ++d) dst[d] = src[d] * inv;
    }
}

int rows_per_task(const KvAttention& a) { return std::max(1, kTaskRows / (a.heads / a.kv_heads)); }
int tasks_of(const KvAttention& a) { return a.kv_heads * ((a.n_q + rows_per_task(a) - 1) / rows_per_task(a)); }

}  // namespace

void kv_attention(const KvAttention* list, int n, bool parallel) {
  int total = 0;
  for (int i = 0; i < n; ++i) {
    const KvAttention& a = list[i];
    if (a.heads <= 0 || a.kv_heads <= 0 || a.heads % a.kv_heads || a.head_dim % 16)
      throw std::invalid_argument("kv_attention: heads must be a multiple of kv_heads, head_dim of 16");
    if (a.causal && a.n_kv != a.q_pos0 + a.n_q) throw std::invalid_argument("kv_attention: n_kv must be q_pos0 + n_q");
    total += tasks_of(a);
  }
  // Task t: the attention it falls in, then kv head u % kv_heads of query block u / kv_heads.
  auto run = [&](int t) {
    int i = 0;
    while (t >= tasks_of(list[i])) t -= tasks_of(list[i++]);
    const KvAttention& a = list[i];
    const int rows = rows_per_task(a), g = t % a.kv_heads, b = t / a.kv_heads;
    const int i0 = b * rows, i1 = std::min(a.n_q, (b + 1) * rows);
    if (a.type == KvType::F32) task<float>(a, g, i0, i1);
    else task<uint16_t>(a, g, i0, i1);
  };
  run_tasks(total, parallel, run);
}

void kv_layout(const float* k, const float* v, int n, int64_t ld, int heads, int head_dim, float* kt, float* vt) {
  const int64_t stride = int64_t((n + kKvKeys - 1) / kKvKeys * kKvKeys) * head_dim;
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < n; ++j) {
      const float* kr = k + int64_t(j) * ld + int64_t(h) * head_dim;
      for (int d = 0; d < head_dim; ++d) kt[h * stride + kv_key_index(j, d, head_dim)] = kr[d];
      std::memcpy(vt + h * stride + int64_t(j) * head_dim, v + int64_t(j) * ld + int64_t(h) * head_dim,
                  sizeof(float) * size_t(head_dim));
    }
}

}  // namespace docling::kernels
