#include "vision/encoder.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "vision/kernels.h"

namespace docling::vision {

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

struct Buffers {
  std::vector<float> cols, x, xn, q, k, v, attn, mlp, kt, vt;
  explicit Buffers(const VisionConfig& c) {
    size_t T = size_t(c.num_patches()), D = size_t(c.hidden);
    size_t Tp = (T + kKvKeys - 1) / kKvKeys * kKvKeys;
    kt.resize(Tp * D); vt.resize(Tp * D);
    cols.resize(T * size_t(c.channels * c.patch_size * c.patch_size));
    x.resize(T * D); xn.resize(T * D); q.resize(T * D); k.resize(T * D); v.resize(T * D); attn.resize(T * D);
    mlp.resize(T * size_t(c.intermediate));
  }
};

void layer_forward(const VisionConfig& c, const VisionLayerWeights& L, Buffers& b) {
  const int T = c.num_patches(), D = c.hidden;
  layernorm(b.x.data(), T, D, L.ln1_w.data(), L.ln1_b.data(), c.layer_norm_eps, b.xn.data());
  linear(b.xn.data(), T, L.q, L.q_b.data(), b.q.data());
  linear(b.xn.data(), T, L.k, L.k_b.data(), b.k.data());
  linear(b.xn.data(), T, L.v, L.v_b.data(), b.v.data());
  // Keys in the transposed 16-key blocks of the KV-cache kernel (no packing per block).
  kv_layout(b.k.data(), b.v.data(), T, D, c.heads, c.head_dim, b.kt.data(), b.vt.data());
  KvAttention a;
  a.n_q = T; a.n_kv = T; a.heads = c.heads; a.kv_heads = c.heads; a.head_dim = c.head_dim;
  a.causal = false; a.type = KvType::F32;
  a.q = b.q.data(); a.ldq = D; a.k = b.kt.data(); a.v = b.vt.data();
  a.kv_stride = int64_t((T + kKvKeys - 1) / kKvKeys * kKvKeys) * c.head_dim;
  a.out = b.attn.data(); a.ldo = D;
  a.scale = float(std::pow(double(c.head_dim), -0.5));
  kv_attention(&a, 1);
  linear(b.attn.data(), T, L.o, L.o_b.data(), b.x.data(), /*accumulate=*/true);
  layernorm(b.x.data(), T, D, L.ln2_w.data(), L.ln2_b.data(), c.layer_norm_eps, b.xn.data());
  linear(b.xn.data(), T, L.fc1, L.fc1_b.data(), b.mlp.data());
  gelu_tanh(b.mlp.data(), int64_t(T) * c.intermediate);
  linear(b.mlp.data(), T, L.fc2, L.fc2_b.data(), b.x.data(), /*accumulate=*/true);
}

}  // namespace

void encode_vision(const ModelConfig& cfg, const Weights& w, const float* tiles, int n_tiles, float* out,
                   const Tap* tap) {
  const VisionConfig& c = cfg.vision;
  const int T = c.num_patches(), D = c.hidden;
  const int64_t tile_size = int64_t(c.channels) * c.image_size * c.image_size;
  Buffers b(c);
  for (int t = 0; t < n_tiles; ++t) {
    patchify(tiles + t * tile_size, c, b.cols.data());
    linear(b.cols.data(), T, w.patch, w.patch_b.data(), b.x.data());
    for (int64_t i = 0; i < int64_t(T) * D; ++i) b.x[size_t(i)] += w.pos_embed[size_t(i)];
    if (tap && *tap) (*tap)("vision.embeddings", t, -1, b.x.data(), T, D);
    for (int l = 0; l < c.layers; ++l) {
      layer_forward(c, w.vision_layers[size_t(l)], b);
      if (tap && *tap) (*tap)("vision.layer", t, l, b.x.data(), T, D);
    }
    float* o = out + int64_t(t) * T * D;
    layernorm(b.x.data(), T, D, w.post_ln_w.data(), w.post_ln_b.data(), c.layer_norm_eps, o);
    if (tap && *tap) (*tap)("vision.last_hidden", t, -1, o, T, D);
  }
}

}  // namespace docling::vision
