// Llama text decoder of Idefics3: token embeddings (image features scattered into
// <image> positions), RMSNorm, RoPE, grouped-query attention with a KV cache, SiLU MLP,
// final norm, tied output head.
//
// Takes: embedding rows for a batch of tokens, each tagged with the sequence (KV-cache
// slot) it continues. Gives: logits for the rows asked for, and the cache advanced.
// One forward serves a prompt prefill (many rows of one slot), a decode step (one row),
// or several sequences at once (rows of each slot contiguous and in order) — the shape
// continuous batching needs. Buffers are preallocated; a decode step allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/aligned.h"
#include "vision/config.h"
#include "kernels/kernels.h"
#include "vision/tap.h"
#include "vision/weights.h"

namespace docling::vision {

// The KV cache's number format (kernels/kernels.h) is one of this module's options.
using kernels::KvType;

// K and V of every layer for `slots` sequences of up to `capacity` tokens each, in f16
// (default: half the memory and the per-step traffic) or f32 (exact); see KvAttention in
// kernels.h. Region of (slot, layer, kv head): `head_stride` elements; K in blocks of
// kKvKeys positions, each [head_dim][kKvKeys]; V as [position][head_dim].
// Memory is reserved up front but left untouched (so unused capacity costs no RAM).
struct KVCache {
  int layers = 0, kv_heads = 0, head_dim = 0, kv_dim = 0, capacity = 0, slots = 0;
  KvType type = KvType::F16;
  int64_t head_stride = 0;  // capacity (rounded up to kKvKeys) * head_dim
  std::vector<int> len;     // tokens stored per slot

  KVCache() = default;
  KVCache(const TextConfig& cfg, int slots, int capacity, KvType type = KvType::F16);
  // The region of (slot, layer); the decoder's attention writes new rows there (KvAttention::new_k).
  const void* k_at(int slot, int layer) const { return k_.get() + offset(slot, layer); }
  const void* v_at(int slot, int layer) const { return v_.get() + offset(slot, layer); }
  // Makes slot dst a copy of slot src (its stored tokens and length).
  void copy_slot(int dst, int src);
  // Bytes n tokens take in one kv head's region: K (whole blocks of kKvKeys) and V.
  size_t k_bytes(int n) const {
    return size_t((n + kernels::kKvKeys - 1) / kernels::kKvKeys) * kernels::kKvKeys * size_t(head_dim) * element_size();
  }
  size_t v_bytes(int n) const { return size_t(n) * size_t(head_dim) * element_size(); }
  void reset(int slot) { len[size_t(slot)] = 0; }
  size_t element_size() const { return kernels::kv_element_size(type); }

 private:
  size_t offset(int slot, int layer) const {  // in bytes
    return (size_t(slot) * size_t(layers) + size_t(layer)) * size_t(kv_heads) * size_t(head_stride) * element_size();
  }
  kernels::large_ptr<char> k_, v_;  // untouched until written
};

// Scratch for forward(); grows to the largest batch seen, then is reused.
struct DecoderWorkspace {
  int rows = 0;  // capacity in rows
  kernels::aligned_vector<float> x, xn, q, k, v, attn, gate, up, sel;
  kernels::aligned_vector<float> logits;  // forward_greedy's, where it takes the full product
  std::vector<int32_t> pos;
  std::vector<int32_t> runs;  // [slot, first row, end row] per run of rows of one slot
  std::vector<kernels::KvAttention> att;  // one per run
  int nruns = 0;
  void reserve(const TextConfig& cfg, int rows, int logit_rows);
};

class Decoder {
 public:
  // kv: the precision of the KV caches made for this decoder (Model: LoadOptions::kv).
  Decoder(const ModelConfig& cfg, const Weights& w, KvType kv = KvType::F16);

  const ModelConfig& config() const { return *cfg_; }
  KvType kv_type() const { return kv_; }
  // Whether forward_greedy goes through the output head's int8 screen at the active level.
  bool screens_head() const;

  // out[n][hidden] = embedding of ids[i]; rows whose id is the image token take the next
  // row of image_features ([n_image_rows][hidden], in order). Throws if the counts differ.
  void embed(const int32_t* ids, int n, const float* image_features, int n_image_rows, float* out) const;
  // Table lookup only (image token ids included): out[n][hidden].
  void embed_ids(const int32_t* ids, int n, float* out) const;

  // Runs n rows. Row r continues sequence slots[r] at position cache.len[slot] + (its
  // index among that slot's rows); rows of one slot must be contiguous. Writes logits
  // [n_logits][vocab] for the rows listed in logit_rows (may be 0). Advances cache.len.
  void forward(DecoderWorkspace& ws, KVCache& cache, const float* embeds, const int32_t* slots, int n,
               const int32_t* logit_rows, int n_logits, float* logits, const Tap* tap = nullptr) const;
  // forward, then for each logit row its greedy token (the argmax of its logits, first index on
  // ties) and that token's log-probability, without the logits: through the output head's int8
  // screen where the weights have one (the same tokens; Weights::head_screen), else the full
  // product and kernels::greedy_rows.
  void forward_greedy(DecoderWorkspace& ws, KVCache& cache, const float* embeds, const int32_t* slots, int n,
                      const int32_t* logit_rows, int n_logits, int32_t* tokens, float* logprobs,
                      const Tap* tap = nullptr) const;

 private:
  void layer(DecoderWorkspace& ws, KVCache& cache, int l, int n) const;
  // forward up to the final norm of the logit rows (into ws.sel); false when there is no head
  // to run.
  bool run(DecoderWorkspace& ws, KVCache& cache, const float* embeds, const int32_t* slots, int n,
           const int32_t* logit_rows, int n_logits, const Tap* tap) const;

  const ModelConfig* cfg_;
  const Weights* w_;
  KvType kv_;
  std::vector<float> rope_;  // [max_positions][head_dim]: cos | sin
};

}  // namespace docling::vision
