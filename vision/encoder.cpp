#include "vision/encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/aligned.h"
#include "kernels/kernels.h"

namespace docling::vision {

using namespace kernels;

namespace {

// im2col: row p = patch (r, c), columns in conv-weight order (channel, y, x).
void patchify(const float* tile, const VisionConfig& v, float* cols) {
  const int P = v.patch_size, side = v.patches_per_side(), S = v.image_size;
  const int kdim = v.channels * P * P;
  for (int r = 0; r < side; ++r)
    for (int c = 0; c < side; ++c) {
      float* dst = cols + int64_t(r * side + c) * kdim;
      for (int ch = 0; ch < v.channels; ++ch)
        for (int y = 0; y < P; ++y) {
          const float* src = tile + (int64_t(ch) * S + r * P + y) * S + c * P;
          std::memcpy(dst + (ch * P + y) * P, src, sizeof(float) * P);
        }
    }
}

// Tiles encoded together: their rows share every matrix product (B is packed once per
// product for all of them, and the larger M keeps both cores busy on long row blocks).
constexpr int kTileBatch = 2;

// Activations of up to kTileBatch tiles, rows of tile t at [t * T, (t + 1) * T).
struct Buffers {
  aligned_vector<float> cols, x, xn, q, k, v, attn, mlp, kt, vt;
  std::vector<KvAttention> att;
  int64_t kv_stride = 0;  // per head, in the KV-attention layout
  // f32_attention: the KV-attention layout (kt, vt) is needed; the bf16 attention packs its own.
  Buffers(const VisionConfig& c, bool f32_attention) {
    const size_t T = size_t(c.num_patches()), D = size_t(c.hidden), B = kTileBatch;
    const size_t Tp = (T + kKvKeys - 1) / kKvKeys * kKvKeys;
    kv_stride = int64_t(Tp) * c.head_dim;
    cols.resize(T * size_t(c.channels * c.patch_size * c.patch_size));
    for (auto* b : {&x, &xn, &q, &k, &v, &attn}) b->resize(B * T * D);
    if (f32_attention) kt.resize(B * Tp * D), vt.resize(B * Tp * D);
    mlp.resize(B * T * size_t(c.intermediate));
    // Tile t attends within itself; the buffers never move, so its descriptor is fixed.
    att.resize(B);
    for (size_t t = 0; t < B; ++t) {
      const int64_t row = int64_t(t * T * D), kv = int64_t(t) * c.heads * kv_stride;
      KvAttention& a = att[t];
      a.n_q = int(T); a.n_kv = int(T); a.heads = c.heads; a.kv_heads = c.heads; a.head_dim = c.head_dim;
      a.causal = false; a.type = KvType::F32;
      a.q = q.data() + row; a.ldq = int64_t(D); a.k = kt.data() + kv; a.v = vt.data() + kv; a.kv_stride = kv_stride;
      a.out = attn.data() + row; a.ldo = int64_t(D);
      a.scale = float(std::pow(double(c.head_dim), -0.5));
    }
  }
};

// Keys go to the transposed 16-key blocks of the KV-attention kernel; all tiles' heads run as
// one parallel loop.
void attention_f32(const VisionConfig& c, Buffers& b, int n) {
  const int T = c.num_patches(), D = c.hidden;
  for (int t = 0; t < n; ++t) {
    const int64_t row = int64_t(t) * T * D, kv = int64_t(t) * c.heads * b.kv_stride;
    kv_layout(b.k.data() + row, b.v.data() + row, T, D, c.heads, c.head_dim, b.kt.data() + kv, b.vt.data() + kv);
  }
  kv_attention(b.att.data(), n);
}

// One layer for n tiles (n <= kTileBatch). bf16_attention: the bf16 precision on a CPU with
// AVX512-BF16 (elsewhere that precision's attention stays f32, as its products do).
void layer_forward(const VisionConfig& c, const VisionLayerWeights& L, Buffers& b, int n, bool bf16_attention) {
  const int T = c.num_patches(), D = c.hidden, R = n * T;
  layernorm(b.x.data(), R, D, L.ln1_w.data(), L.ln1_b.data(), c.layer_norm_eps, b.xn.data());
  linear(b.xn.data(), R, L.q, L.q_b.data(), b.q.data());
  linear(b.xn.data(), R, L.k, L.k_b.data(), b.k.data());
  linear(b.xn.data(), R, L.v, L.v_b.data(), b.v.data());
  if (bf16_attention) {  // bf16 products straight from the q, k, v rows
    for (int t = 0; t < n; ++t) {
      const int64_t row = int64_t(t) * T * D;
      self_attention_bf16(b.q.data() + row, b.k.data() + row, b.v.data() + row, T, D, c.heads, c.head_dim,
                          b.att[0].scale, b.attn.data() + row, D);
    }
  } else {
    attention_f32(c, b, n);
  }
  linear(b.attn.data(), R, L.o, L.o_b.data(), b.x.data(), /*accumulate=*/true);
  layernorm(b.x.data(), R, D, L.ln2_w.data(), L.ln2_b.data(), c.layer_norm_eps, b.xn.data());
  Gemm fc1 = linear_gemm(b.xn.data(), R, L.fc1, L.fc1_b.data(), b.mlp.data());
  fc1.gelu = true;
  gemm(fc1);
  linear(b.mlp.data(), R, L.fc2, L.fc2_b.data(), b.x.data(), /*accumulate=*/true);
}

}  // namespace

void encode_vision(const ModelConfig& cfg, const Weights& w, const float* tiles, int n_tiles, float* out,
                   const Tap* tap) {
  const VisionConfig& c = cfg.vision;
  const int T = c.num_patches(), D = c.hidden;
  const int64_t tile_size = int64_t(c.channels) * c.image_size * c.image_size;
  const bool bf16_attention = w.vision == Precision::BF16 && has_avx512_bf16() && c.head_dim % 64 == 0;
  Buffers b(c, !bf16_attention);
  for (int t0 = 0; t0 < n_tiles; t0 += kTileBatch) {
    const int n = std::min(kTileBatch, n_tiles - t0);
    for (int t = 0; t < n; ++t) {
      float* x = b.x.data() + int64_t(t) * T * D;
      patchify(tiles + (t0 + t) * tile_size, c, b.cols.data());
      linear(b.cols.data(), T, w.patch, w.patch_b.data(), x);
      for (int64_t i = 0; i < int64_t(T) * D; ++i) x[i] += w.pos_embed[size_t(i)];
      if (tap && *tap) (*tap)("vision.embeddings", t0 + t, -1, x, T, D);
    }
    for (int l = 0; l < c.layers; ++l) {
      layer_forward(c, w.vision_layers[size_t(l)], b, n, bf16_attention);
      if (tap && *tap)
        for (int t = 0; t < n; ++t) (*tap)("vision.layer", t0 + t, l, b.x.data() + int64_t(t) * T * D, T, D);
    }
    for (int t = 0; t < n; ++t) {
      float* o = out + int64_t(t0 + t) * T * D;
      layernorm(b.x.data() + int64_t(t) * T * D, T, D, w.post_ln_w.data(), w.post_ln_b.data(), c.layer_norm_eps, o);
      if (tap && *tap) (*tap)("vision.last_hidden", t0 + t, -1, o, T, D);
    }
  }
}

}  // namespace docling::vision
