// Greedy generation on top of the decoder: prefill the prompt, then one token per step
// until a stop token, a caller's stop test, the token limit, or the loop guard.
//
// Takes: prompt ids, the image features for its <image> positions, options (stops,
// limits, streaming callback). Gives: the generated ids (the stopping token included) and
// why generation stopped. Output produced before a loop is detected is kept.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vision/decoder.h"

namespace docling::vision {

// Loop guard: the tail of the output is a block of `period` tokens (1..max_period)
// repeated at least `min_repeats` times over at least `min_span` tokens.
struct LoopGuard {
  bool enabled = true;
  int max_period = 128;
  int min_repeats = 8;
  int min_span = 256;
};

class RepetitionDetector {
 public:
  explicit RepetitionDetector(const LoopGuard& g);
  // Adds a token; true once the tail repeats as the guard describes.
  bool push(int32_t token);
  int period() const { return period_; }  // of the detected loop
  int span() const { return span_; }      // tokens covered by the repeating tail

 private:
  LoopGuard g_;
  std::vector<int32_t> hist_;
  std::vector<int> run_;  // run_[p]: trailing tokens equal to the token p places earlier
  int period_ = 0, span_ = 0;
};

enum class StopReason { Eos, StopToken, StopCallback, MaxTokens, Loop };
const char* stop_reason_name(StopReason r);

struct GenerateOptions {
  int max_new_tokens = 4096;
  std::vector<int32_t> stop_ids;  // e.g. <|end_of_text|>, </doctag>; the eos id always stops
  bool stop_at_eos = true;
  // Called after each token with all generated ids; true ends generation (e.g. decoded
  // text ends with "</doctag>").
  std::function<bool(const std::vector<int32_t>&)> stop_when;
  std::function<void(int32_t)> on_token;                  // streaming, after each token
  std::function<void(int step, const float* logits, int vocab)> on_logits;  // before argmax
  LoopGuard loop;
  // KV cache precision where the call makes the cache (Model::generate, generate_speculative);
  // unset: the model's (LoadOptions::kv).
  std::optional<KvType> kv;
};

struct GenerateResult {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;  // natural log-probability of each token as chosen (softmax of its logits)
  StopReason stop = StopReason::MaxTokens;
  std::string warning;  // non-empty when the loop guard fired
  int prompt_tokens = 0;
};

// Uses `slot` of `cache` (reset first); the cache must hold prompt + max_new_tokens.
GenerateResult generate_greedy(const Decoder& dec, DecoderWorkspace& ws, KVCache& cache, int slot,
                               const int32_t* prompt, int n_prompt, const float* image_features,
                               int n_image_rows, const GenerateOptions& opt, const Tap* tap = nullptr);

}  // namespace docling::vision
