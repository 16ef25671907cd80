// The kernels with one portable form at every level: layouts (panels, the f32 attention
// layout, rows into the KV cache), the reference product, the norms, RoPE, argmax and the
// greedy choice per row.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/common.h"
#include "kernels/parallel.h"

namespace docling::kernels {

using detail::b_at;
using detail::for_rows;

void to_panels(const uint16_t* w, int N, int K, int64_t ldw, uint16_t* out, BLayout l) {
  std::fill(out, out + panel_elems(N, K, l), uint16_t(0));
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) out[panel_index(n, k, K, l)] = w[int64_t(n) * ldw + k];
}

void gemm_reference(const Gemm& g) {
  for (int m = 0; m < g.M; ++m)
    for (int n = 0; n < g.N; ++n) {
      double s = 0.0;
      for (int k = 0; k < g.K; ++k) s += double(g.x[int64_t(m) * g.ldx + k]) * double(b_at(g, n, k));
      if (g.bias) s += g.bias[n];
      float* y = g.y + int64_t(m) * g.ldy + n;
      *y = g.accumulate ? float(*y + s) : float(s);
    }
}

namespace {

void to_row(const float* x, int n, float* out) { std::memcpy(out, x, sizeof(float) * size_t(n)); }
void to_row(const float* x, int n, uint16_t* out) { f32_to_f16_row(x, n, out); }

template <class T>
void put_rows(int head_dim, int pos, int n, const float* k, const float* v, int64_t ld, T* kh, T* vh) {
  constexpr int kChunk = 64;  // K converted a chunk at a time, then scattered into its block
  T tmp[kChunk];
  for (int i = 0; i < n; ++i) {
    const int p = pos + i;
    for (int d0 = 0; d0 < head_dim; d0 += kChunk) {
      const int m = std::min(kChunk, head_dim - d0);
      to_row(k + int64_t(i) * ld + d0, m, tmp);
      for (int d = 0; d < m; ++d) kh[kv_key_index(p, d0 + d, head_dim)] = tmp[d];
    }
    to_row(v + int64_t(i) * ld, head_dim, vh + int64_t(p) * head_dim);
  }
}

}  // namespace

void kv_store_head(KvType type, int head_dim, int pos, int n, const float* k, const float* v, int64_t ld, void* kh,
                   void* vh) {
  if (type == KvType::F32)
    put_rows(head_dim, pos, n, k, v, ld, static_cast<float*>(kh), static_cast<float*>(vh));
  else
    put_rows(head_dim, pos, n, k, v, ld, static_cast<uint16_t*>(kh), static_cast<uint16_t*>(vh));
}

void kv_layout(const float* k, const float* v, int n, int64_t ld, int heads, int head_dim, float* kt, float* vt) {
  const int64_t stride = int64_t((n + kKvKeys - 1) / kKvKeys * kKvKeys) * head_dim;
  for (int h = 0; h < heads; ++h)
    kv_store_head(KvType::F32, head_dim, 0, n, k + int64_t(h) * head_dim, v + int64_t(h) * head_dim, ld,
                  kt + h * stride, vt + h * stride);
}

namespace {

// The sum of f(x[i]) in double over 8 chains, added pairwise at the end: a row's norm no longer
// waits on one add after another (768 of them a row in the vision encoder), and the sum stays
// as accurate as one chain's.
template <class F>
double sum_double(const float* x, int n, F f) {
  double s[8] = {};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += f(x[i + j]);
  for (int j = 0; i < n; ++i, ++j) s[j] += f(x[i]);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

}  // namespace

void layernorm(const float* x, int rows, int n, const float* w, const float* b, float eps, float* out) {
  for_rows(rows, n, [&](int r) {
    const float* xi = x + int64_t(r) * n;
    float* yi = out + int64_t(r) * n;
    const float mean = float(sum_double(xi, n, [](float v) { return double(v); }) / n);
    const double ss = sum_double(xi, n, [mean](float v) {
      const double d = double(v) - mean;
      return d * d;
    });
    float rstd = 1.0f / std::sqrt(float(ss / n) + eps);
    for (int i = 0; i < n; ++i) yi[i] = (xi[i] - mean) * rstd * w[i] + (b ? b[i] : 0.0f);
  });
}

void rmsnorm(const float* x, int rows, int n, const float* w, float eps, float* out) {
  for_rows(rows, n, [&](int r) {
    const float* xi = x + int64_t(r) * n;
    float* yi = out + int64_t(r) * n;
    const double ss = sum_double(xi, n, [](float v) { return double(v) * v; });
    float rs = 1.0f / std::sqrt(float(ss / n) + eps);
    for (int i = 0; i < n; ++i) yi[i] = w[i] * (xi[i] * rs);
  });
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

int argmax(const float* x, int n) { return n <= 1 ? 0 : detail::active_kernels().argmax(x, n); }

void greedy_rows(const float* logits, int rows, int vocab, int32_t* tokens, float* logprobs, bool parallel) {
  const detail::KernelTable& t = detail::active_kernels();
  run_tasks(rows, parallel, [&](int r) {
    const float* x = logits + int64_t(r) * vocab;
    const int best = argmax(x, vocab);
    // log(exp(x[best] - max) / sum) with x[best] the max: no copy of the row, one pass of exps.
    tokens[r] = best;
    logprobs[r] = -std::log(t.sum_exp(x, vocab, x[best]));
  });
}

}  // namespace docling::kernels
