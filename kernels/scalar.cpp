// The portable level: every kernel in plain C++ (the reference the vector levels are
// tested against, and what runs on a CPU without AVX2 + FMA), and the f16 conversions.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/attention.h"
#include "kernels/common.h"
#include "kernels/int8_gemm.h"

namespace docling::kernels {



namespace detail {

namespace {

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

void gemm_large_scalar(const Gemm& g, bool parallel) { gemm_chunks<6, 16, pack_b<16>>(g, parallel, micro_scalar); }

// Small M, any layout (b_at reads each).
void gemv_scalar(const Gemm& g, int n0, int n1) {
  float tmp[kGemvChunk];
  for (int c0 = n0; c0 < n1; c0 += kGemvChunk) {
    const int c1 = std::min(n1, c0 + kGemvChunk);
    for (int m = 0; m < g.M; ++m) {
      gemv_row_scalar(g.x + int64_t(m) * g.ldx, g, c0, c1, tmp);  // b_at reads any layout
      write_out(g, m, c0, c1, tmp);
    }
  }
}

void gemv_kn_scalar(const Gemm& g, int n0, int n1) { gemv_kn_body(g, n0, n1); }

// --- attention ---------------------------------------------------------------------------

inline float value(const uint16_t* p) { return f16_to_f32(*p); }
inline float value(const float* p) { return *p; }

template <class T>
void micro_kv_scalar(int mr, int kc, const float* const* xr, const T* b, int64_t ldb, float* c, int64_t ldc,
                     bool add_c) {
  for (int r = 0; r < mr; ++r) {
    float acc[kKvCols] = {};
    for (int k = 0; k < kc; ++k)
      for (int j = 0; j < kKvCols; ++j) acc[j] += xr[r][k] * value(b + int64_t(k) * ldb + j);
    for (int j = 0; j < kKvCols; ++j) c[r * ldc + j] = add_c ? c[r * ldc + j] + acc[j] : acc[j];
  }
}

struct ScalarOps : KvPasses<ScalarOps> {
  static constexpr bool kVec = false;
  template <class T>
  static void micro(int mr, int kc, const float* const* xr, const T* b, int64_t ldb, float* c, int64_t ldc,
                    bool add_c) {
    micro_kv_scalar(mr, kc, xr, b, ldb, c, ldc, add_c);
  }
};

void attend_f16(const KvAttention& a, int g, int i0, int i1) { attend<ScalarOps, uint16_t>(a, g, i0, i1); }
void attend_f32(const KvAttention& a, int g, int i0, int i1) { attend<ScalarOps, float>(a, g, i0, i1); }
float online_softmax_row_scalar(float* s, int n, int bk, float scale, float& m, float& l, float* o, int hd) {
  return softmax_step<ScalarOps>(s, n, bk, scale, m, l, o, hd);
}

void f32_to_f16_row_scalar(const float* x, int n, uint16_t* out) {
  for (int i = 0; i < n; ++i) out[i] = f32_to_f16(x[i]);
}

// --- element-wise --------------------------------------------------------------------------

void gelu_scalar(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    x[i] = 0.5f * v * (1.0f + std::tanh(inner));
  }
}

void silu_mul_scalar(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float v = gate[i];
    gate[i] = v / (1.0f + std::exp(-v)) * up[i];
  }
}

void softmax_scalar(float* x, int n) {
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

// The first index of the largest value, as torch.argmax; a NaN never wins (unless at 0).
int argmax_scalar(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

float sum_exp_scalar(const float* x, int n, float m) {
  double sum = 0.0;  // one chain over a whole vocabulary: f32 would lose 1e-4 of it
  for (int i = 0; i < n; ++i) sum += std::exp(x[i] - m);
  return float(sum);
}

}  // namespace

KernelTable scalar_kernels() {
  KernelTable t;
  t.isa = Isa::Scalar;
  t.gemv_nk = gemv_scalar;
  t.gemv_panel = gemv_scalar;
  t.gemv_kn = gemv_kn_scalar;
  t.gemm_large = gemm_large_scalar;
  t.attend_f16 = attend_f16;
  t.attend_f32 = attend_f32;
  t.online_softmax_row = online_softmax_row_scalar;
  t.f32_to_f16_row = f32_to_f16_row_scalar;
  t.gelu_tanh = gelu_scalar;
  t.silu_mul = silu_mul_scalar;
  t.softmax = softmax_scalar;
  t.argmax = argmax_scalar;
  t.sum_exp = sum_exp_scalar;
  t.gemm_i8 = gemm_i8_scalar;
  return t;
}

}  // namespace detail
}  // namespace docling::kernels
