#include "vision/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/head_screen.h"
#include "kernels/kernels.h"

namespace docling::vision {

using namespace kernels;

KVCache::KVCache(const TextConfig& cfg, int slots_, int capacity_, KvType type_)
    : layers(cfg.layers), kv_heads(cfg.kv_heads), head_dim(cfg.head_dim), kv_dim(cfg.kv_heads * cfg.head_dim),
      capacity(capacity_), slots(slots_), type(type_) {
  if (slots <= 0 || capacity <= 0) throw std::invalid_argument("KVCache: slots and capacity must be positive");
  if (head_dim % 16 || head_dim > 1024) throw std::invalid_argument("KVCache: head_dim must be a multiple of 16, at most 1024");
  head_stride = int64_t((capacity + kKvKeys - 1) / kKvKeys * kKvKeys) * head_dim;
  size_t bytes = offset(slots, 0);
  k_ = kernels::make_large<char>(bytes);
  v_ = kernels::make_large<char>(bytes);
  len.assign(size_t(slots), 0);
}

void KVCache::copy_slot(int dst, int src) {
  const int n = len[size_t(src)];
  const size_t head = size_t(head_stride) * element_size(), kn = k_bytes(n), vn = v_bytes(n);
  for (int l = 0; l < layers; ++l)
    for (int g = 0; g < kv_heads; ++g) {
      const size_t from = offset(src, l) + size_t(g) * head, to = offset(dst, l) + size_t(g) * head;
      std::memcpy(k_.get() + to, k_.get() + from, kn);
      std::memcpy(v_.get() + to, v_.get() + from, vn);
    }
  len[size_t(dst)] = n;
}

void DecoderWorkspace::reserve(const TextConfig& c, int n, int logit_rows) {
  if (n > rows) {
    size_t r = size_t(n), H = size_t(c.hidden), qd = size_t(c.heads * c.head_dim);
    size_t kvd = size_t(c.kv_heads * c.head_dim), I = size_t(c.intermediate);
    x.resize(r * H); xn.resize(r * H); q.resize(r * qd); k.resize(r * kvd); v.resize(r * kvd);
    attn.resize(r * qd); gate.resize(r * I); up.resize(r * I);
    pos.resize(r);
    runs.resize(3 * r);
    att.resize(r);
    rows = n;
  }
  if (sel.size() < size_t(logit_rows) * size_t(c.hidden)) sel.resize(size_t(logit_rows) * size_t(c.hidden));
}

Decoder::Decoder(const ModelConfig& cfg, const Weights& w, KvType kv) : cfg_(&cfg), w_(&w), kv_(kv) {
  const TextConfig& t = cfg.text;
  rope_.resize(size_t(t.max_positions) * size_t(t.head_dim));
  rope_table(t.max_positions, t.head_dim, t.rope_theta, rope_.data());
}

void Decoder::embed(const int32_t* ids, int n, const float* image_features, int n_image_rows, float* out) const {
  const int H = cfg_->text.hidden;
  int used = 0;
  for (int i = 0; i < n; ++i) {
    float* dst = out + int64_t(i) * H;
    if (ids[i] == cfg_->image_token_id) {
      if (used >= n_image_rows)
        throw std::runtime_error("decoder: prompt has more <image> tokens than image feature rows (" +
                                 std::to_string(n_image_rows) + ")");
      std::memcpy(dst, image_features + int64_t(used++) * H, sizeof(float) * H);
      continue;
    }
    embed_ids(ids + i, 1, dst);
  }
  if (used != n_image_rows)
    throw std::runtime_error("decoder: " + std::to_string(n_image_rows) + " image feature rows but " +
                             std::to_string(used) + " <image> tokens in the prompt");
}

void Decoder::embed_ids(const int32_t* ids, int n, float* out) const {
  const int H = cfg_->text.hidden, vocab = cfg_->text.vocab;
  for (int i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab)
      throw std::runtime_error("decoder: token id " + std::to_string(ids[i]) + " outside the vocabulary (" +
                               std::to_string(vocab) + ")");
    const uint16_t* src = w_->embed.w + int64_t(ids[i]) * H;
    float* dst = out + int64_t(i) * H;
    for (int j = 0; j < H; ++j) dst[j] = bf16_to_f32(src[j]);
  }
}

void Decoder::layer(DecoderWorkspace& ws, KVCache& cache, int l, int n) const {
  const TextConfig& c = cfg_->text;
  const TextLayerWeights& L = w_->text_layers[size_t(l)];
  const int H = c.hidden, hd = c.head_dim, qd = c.heads * hd, kvd = c.kv_heads * hd, I = c.intermediate;
  rmsnorm(ws.x.data(), n, H, L.input_norm.data(), c.rms_norm_eps, ws.xn.data());
  const Gemm qkv[3] = {linear_gemm(ws.xn.data(), n, L.q, nullptr, ws.q.data()),
                       linear_gemm(ws.xn.data(), n, L.k, nullptr, ws.k.data()),
                       linear_gemm(ws.xn.data(), n, L.v, nullptr, ws.v.data())};
  gemm_group(qkv, 3);
  rope(ws.q.data(), n, qd, c.heads, hd, ws.pos.data(), rope_.data());
  rope(ws.k.data(), n, kvd, c.kv_heads, hd, ws.pos.data(), rope_.data());
  const float scale = float(std::pow(double(hd), -0.5));
  // One attention pass over every sequence; it stores each sequence's new K/V rows first.
  for (int r = 0; r < ws.nruns; ++r) {
    const int slot = ws.runs[size_t(3 * r)], r0 = ws.runs[size_t(3 * r + 1)], r1 = ws.runs[size_t(3 * r + 2)];
    const int past = cache.len[size_t(slot)];
    KvAttention& a = ws.att[size_t(r)];
    a.n_q = r1 - r0; a.q_pos0 = past; a.n_kv = past + (r1 - r0);
    a.heads = c.heads; a.kv_heads = c.kv_heads; a.head_dim = hd;
    a.q = ws.q.data() + int64_t(r0) * qd; a.ldq = qd;
    a.type = cache.type; a.k = cache.k_at(slot, l); a.v = cache.v_at(slot, l); a.kv_stride = cache.head_stride;
    a.new_k = ws.k.data() + int64_t(r0) * kvd; a.new_v = ws.v.data() + int64_t(r0) * kvd; a.ld_new = kvd;
    a.out = ws.attn.data() + int64_t(r0) * qd; a.ldo = qd;
    a.scale = scale;
  }
  kv_attention(ws.att.data(), ws.nruns);
  linear(ws.attn.data(), n, L.o, nullptr, ws.x.data(), /*accumulate=*/true);
  rmsnorm(ws.x.data(), n, H, L.post_attention_norm.data(), c.rms_norm_eps, ws.xn.data());
  const Gemm gate_up[2] = {linear_gemm(ws.xn.data(), n, L.gate, nullptr, ws.gate.data()),
                           linear_gemm(ws.xn.data(), n, L.up, nullptr, ws.up.data())};
  gemm_group(gate_up, 2);
  silu_mul(ws.gate.data(), ws.up.data(), int64_t(n) * I);
  linear(ws.gate.data(), n, L.down, nullptr, ws.x.data(), /*accumulate=*/true);
}

void Decoder::forward(DecoderWorkspace& ws, KVCache& cache, const float* embeds, const int32_t* slots, int n,
                      const int32_t* logit_rows, int n_logits, float* logits, const Tap* tap) const {
  if (run(ws, cache, embeds, slots, n, logit_rows, n_logits, tap))
    linear(ws.sel.data(), n_logits, w_->lm_head, nullptr, logits);
}

bool Decoder::screens_head() const { return !w_->head_screen.empty() && kernels::head_screen_usable(); }

void Decoder::forward_greedy(DecoderWorkspace& ws, KVCache& cache, const float* embeds, const int32_t* slots, int n,
                             const int32_t* logit_rows, int n_logits, int32_t* tokens, float* logprobs,
                             const Tap* tap) const {
  if (!run(ws, cache, embeds, slots, n, logit_rows, n_logits, tap)) return;
  const Gemm head = linear_gemm(ws.sel.data(), n_logits, w_->lm_head, nullptr, nullptr);
  if (kernels::screened_greedy(w_->head_screen, head, tokens, logprobs)) return;
  const size_t size = size_t(n_logits) * size_t(cfg_->text.vocab);
  if (ws.logits.size() < size) ws.logits.resize(size);
  linear(ws.sel.data(), n_logits, w_->lm_head, nullptr, ws.logits.data());
  kernels::greedy_rows(ws.logits.data(), n_logits, cfg_->text.vocab, tokens, logprobs);
}

bool Decoder::run(DecoderWorkspace& ws, KVCache& cache, const float* embeds, const int32_t* slots, int n,
                  const int32_t* logit_rows, int n_logits, const Tap* tap) const {
  if (n <= 0) return false;
  const TextConfig& c = cfg_->text;
  if (cache.layers != c.layers || cache.kv_heads != c.kv_heads || cache.head_dim != c.head_dim)
    throw std::invalid_argument("decoder: KV cache was made for another model");
  ws.reserve(c, n, n_logits);
  // Split rows into runs of one slot and give each row its position.
  int nruns = 0;
  for (int r = 0; r < n;) {
    int slot = slots[r], e = r;
    if (slot < 0 || slot >= cache.slots) throw std::invalid_argument("decoder: bad KV cache slot");
    for (int q = 0; q < nruns; ++q)
      if (ws.runs[size_t(3 * q)] == slot)
        throw std::invalid_argument("decoder: rows of one sequence must be contiguous in a batch");
    while (e < n && slots[e] == slot) ++e;
    int past = cache.len[size_t(slot)];
    if (past + (e - r) > cache.capacity || past + (e - r) > c.max_positions)
      throw std::runtime_error("decoder: sequence longer than the KV cache (" + std::to_string(cache.capacity) +
                               " tokens) or max_position_embeddings (" + std::to_string(c.max_positions) + ")");
    for (int i = r; i < e; ++i) ws.pos[size_t(i)] = past + (i - r);
    ws.runs[size_t(3 * nruns)] = slot;
    ws.runs[size_t(3 * nruns + 1)] = r;
    ws.runs[size_t(3 * nruns + 2)] = e;
    ++nruns;
    r = e;
  }
  ws.nruns = nruns;
  const int H = c.hidden;
  std::memcpy(ws.x.data(), embeds, sizeof(float) * size_t(n) * H);
  for (int l = 0; l < c.layers; ++l) {
    layer(ws, cache, l, n);
    if (tap && *tap) (*tap)("decoder.layer", 0, l, ws.x.data(), n, H);
  }
  for (int q = 0; q < nruns; ++q)
    cache.len[size_t(ws.runs[size_t(3 * q)])] += ws.runs[size_t(3 * q + 2)] - ws.runs[size_t(3 * q + 1)];
  if (n_logits == 0 && !(tap && *tap)) return false;
  // Final norm only for the rows that need it (all rows when tapped).
  if (tap && *tap) {
    rmsnorm(ws.x.data(), n, H, w_->final_norm.data(), c.rms_norm_eps, ws.xn.data());
    (*tap)("decoder.final_norm", 0, -1, ws.xn.data(), n, H);
  }
  for (int i = 0; i < n_logits; ++i) {
    int r = logit_rows[i];
    if (r < 0 || r >= n) throw std::invalid_argument("decoder: logit row out of range");
    rmsnorm(ws.x.data() + int64_t(r) * H, 1, H, w_->final_norm.data(), c.rms_norm_eps, ws.sel.data() + int64_t(i) * H);
  }
  return n_logits > 0;
}

}  // namespace docling::vision
