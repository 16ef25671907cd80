// Measurements shared by the model benchmarks (bench_model_bench, bench_decode_roofline):
// timing and memory, the peak of the instruction the products run on, the memory bandwidth,
// FLOP and byte counts from the config, and batched decoding.
// Takes: a ModelConfig, a Decoder with its cache. Gives: seconds, GFLOP/s, GB/s, the roofline.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/aligned.h"
#include "kernels/kernels.h"
#include "vision/config.h"
#include "vision/decoder.h"
#include "vision/generate.h"

namespace docling::bench {

using vision::Decoder;
using vision::DecoderWorkspace;
using vision::KVCache;
using vision::ModelConfig;
using vision::TextConfig;
using vision::VisionConfig;
using kernels::argmax;

double now_s();
double cpu_s();
double peak_rss_mb();    // VmHWM in MB
std::string cpu_model();  // /proc/cpuinfo's model name and cpuid's family and model
std::string loadavg();
std::string utc_now();

// A stage: wall seconds and process CPU seconds between start() and stop().
struct Stage {
  double wall = 0, cpu = 0, t0 = 0, c0 = 0;
  void start() { t0 = now_s(), c0 = cpu_s(); }
  void stop() { wall += now_s() - t0, cpu += cpu_s() - c0; }
  double util(int threads) const { return wall > 0 ? cpu / (wall * threads) : 0.0; }
};

using PeakLoop = float (*)(int64_t iters);
struct PeakKernel {
  const char* name;
  const char* what;
  PeakLoop fn;
  double flops_per_iter;
};

// Register-only loops of the instructions the products may run on at the active kernel level
// (DOCLING_ISA=avx2 on an AVX-512 CPU measures the AVX2 FMA), best first. vdpbf16ps by
// default only when the decoder's products use it (DOCLING_BF16_DOT=1): otherwise they widen
// bf16 to f32 and use FMA, and on the Xeons measured vdpbf16ps has half the FMA flops. with_amx:
// the AMX tile loop first where the CPU has it (the bf16 products with many rows use the tiles).
std::vector<PeakKernel> peak_kernels(bool with_vdpbf16ps = kernels::bf16_dot(), bool with_amx = false);
// GFLOP/s of `k` on `threads` threads started together; best of `trials` runs of ~`seconds`.
double measure_peak(const PeakKernel& k, int threads, int trials, double seconds);

// Read bandwidth from memory in GB/s: `threads` threads summing their parts of a buffer far
// larger than the caches (`mib` MiB), best of `trials`. What a decode step's weights and K/V
// stream at.
double measure_read_bandwidth(int threads, int mib, int trials);

// The middle value (the mean of the two middle ones for an even count); 0 for none.
double median(std::vector<double> v);

// "1,4,8" -> {1, 4, 8}; entries that are not positive numbers are skipped.
std::vector<int> positive_list(const std::string& csv);

// ---------------------------------------------------------------------------------------------
// FLOP counts from the config (multiply-add = 2 FLOPs; matrix products and attention only:
// norms, activations, softmax and RoPE are a fraction of a percent and not counted).

struct FlopModel {
  double encoder_tile = 0;    // patch embedding + layers, one 512x512 tile
  double connector_tile = 0;  // pixel-shuffle projection, one tile
  double text_linear = 0;     // decoder projections + MLP, one token (no output head)
  double attn_per_key = 0;    // decoder attention, one token, per key attended
  double lm_head = 0;         // output head, one row of logits

  explicit FlopModel(const ModelConfig& c) {
    const VisionConfig& v = c.vision;
    double N = v.num_patches(), D = v.hidden, I = v.intermediate;
    double patch = 2 * N * D * (v.channels * v.patch_size * v.patch_size);
    double layer = 2 * N * (4 * D * D + 2 * D * I) + 4 * N * N * D;
    encoder_tile = patch + v.layers * layer;
    connector_tile = 2.0 * c.image_seq_len * c.connector_in() * c.text.hidden;
    const TextConfig& t = c.text;
    double H = t.hidden, qd = double(t.heads) * t.head_dim, kvd = double(t.kv_heads) * t.head_dim;
    text_linear = t.layers * 2 * (H * (qd + 2 * kvd) + qd * H + 3 * H * t.intermediate);
    attn_per_key = t.layers * 4 * qd;
    lm_head = 2 * H * t.vocab;
  }
  double vision_tile() const { return encoder_tile + connector_tile; }
  // Prompt of P tokens in one causal forward, logits for the last row only.
  double prefill(int P) const { return P * text_linear + attn_per_key * 0.5 * P * (P + 1.0) + lm_head; }
  // One decode step of one sequence that already holds `ctx` tokens.
  double decode_step(int ctx) const { return text_linear + attn_per_key * (ctx + 1.0) + lm_head; }
};

// Bytes of decoder weights one decode step streams (bf16 matrices + output head; with
// screened_head the head's int8 screen instead, kernels/head_screen.h).
double decoder_weight_bytes(const ModelConfig& c, bool screened_head = false);
// Bytes of K and V one decode step reads per sequence holding `ctx` tokens.
double kv_bytes_per_step(const ModelConfig& c, int ctx, int bytes_per_value);

// Decoding B sequences at once: slots 0..B-1 each continue from `ctx` prompt tokens already
// in the cache; one Decoder::forward_greedy of B rows per step (as BatchDecoder's). Batch sizes are measured in
// interleaved rounds (run() continues where the last round stopped) so that other load on
// the machine hits all of them alike; slots are shared between batch sizes, which changes
// the K/V values but not the work (lengths are restored per batch size).
struct BatchDecode {
  int B = 0, ctx = 0, done = 0;  // steps done so far
  Stage stage;
  double flops = 0, bytes = 0;  // over the steps run; bytes: decoder weights + the K/V read
  std::vector<int32_t> ids, slots;
  std::vector<float> embeds, logprobs;

  BatchDecode(const Decoder& dec, DecoderWorkspace& ws, KVCache& cache, int b, int context,
              const std::vector<int32_t>& seed_tokens)
      : B(b), ctx(context), ids(static_cast<size_t>(b)), slots(ids.size()) {
    const TextConfig& t = dec.config().text;
    embeds.resize(size_t(B) * t.hidden), logprobs.resize(size_t(B));
    for (int s = 0; s < B; ++s) slots[s] = s, ids[s] = seed_tokens[size_t(s) % seed_tokens.size()];
    set_len(cache, ctx);
    step(dec, ws, cache);  // warm-up: grows the workspace to B rows
  }
  void set_len(KVCache& cache, int len) const {
    for (int s = 0; s < B; ++s) cache.len[size_t(s)] = len;
  }
  void step(const Decoder& dec, DecoderWorkspace& ws, KVCache& cache) {
    const int V = dec.config().text.vocab;
    dec.embed_ids(ids.data(), B, embeds.data());
    (void)V;
    dec.forward_greedy(ws, cache, embeds.data(), slots.data(), B, slots.data(), B, ids.data(), logprobs.data());
  }
  void run(const Decoder& dec, DecoderWorkspace& ws, KVCache& cache, int steps) {
    FlopModel fm(dec.config());
    set_len(cache, ctx + done);
    stage.start();
    for (int i = 0; i < steps; ++i) step(dec, ws, cache);
    stage.stop();
    bytes += steps * decoder_weight_bytes(dec.config(), dec.screens_head());
    for (int i = 0; i < steps; ++i) {
      flops += B * fm.decode_step(ctx + done + i);
      bytes += B * kv_bytes_per_step(dec.config(), ctx + done + i, int(cache.element_size()));
    }
    done += steps;
  }
  // The roofline of the steps run: the larger of their FLOPs at `peak_gflops` and their bytes
  // at `gb_per_s`; compute_bound() says which.
  double roofline_seconds(double peak_gflops, double gb_per_s) const {
    return std::max(flops / (peak_gflops * 1e9), bytes / (gb_per_s * 1e9));
  }
  bool compute_bound(double peak_gflops, double gb_per_s) const {
    return flops / (peak_gflops * 1e9) > bytes / (gb_per_s * 1e9);
  }
};

}  // namespace docling::bench
