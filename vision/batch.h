// Continuous batching of greedy decoding: several sequences (pages) share each decoder
// forward. One KV cache holds `slots` sequences of up to `capacity` tokens each. Every
// step() runs ONE Decoder::forward over
//   - one row per decoding sequence (its last token), or 1 + k rows when its drafter
//     proposes k draft tokens (speculative verification, greedy-exact), and
//   - a chunk of the prompt of sequences still being prefilled (at most max_step_rows rows
//     in all, so a long prompt cannot stall the pages that are decoding).
// A sequence that finishes (eos / stop id / caller's stop test / max tokens / loop guard /
// KV capacity) leaves at once and frees its slot for the next waiting sequence.
// Each sequence's tokens, stop reason and warning are those generate_greedy gives it on
// its own (same stop rules, same order of checks). Numerically, a row's logits are
// bit-identical to a solo run only while the kernels' result for a row does not depend on
// how many rows share the product; today vision/kernels.cpp picks its path (and summation
// order) by row count, which moves the tiny model's logits by a few 1e-6, so greedy ids
// can only differ where the top two logits are that close. The same holds for the 1 + k
// rows of a speculative verification.
//
// Threads: submit(), take_finished(), pending() may be called from any thread; step() and
// run() from one driver thread at a time. Callbacks in GenerateOptions (on_token,
// on_logits, stop_when) and drafters run on the driver thread, inside step(). Decoder::forward
// itself parallelizes with TBB.
//
// Takes: a Decoder (read-only weights, shared), requests. Gives: BatchResult per request.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kernels/aligned.h"
#include "vision/decoder.h"
#include "vision/generate.h"
#include "vision/speculative.h"

namespace docling::vision {

struct BatchOptions {
  int slots = 4;            // sequences decoded together
  int capacity = 4096;      // KV tokens per slot (prompt + generated); fixed for the decoder's life
  int max_step_rows = 256;  // rows per forward (decode + draft + prefill rows)
  int max_draft = 8;        // draft tokens per sequence per step (0: no speculation)
  // KV cache precision; unset: the decoder's (the model's LoadOptions::kv), which options() then shows.
  std::optional<KvType> kv;
};

struct BatchRequest {
  std::vector<int32_t> prompt;        // expanded prompt ids
  std::vector<float> image_features;  // [rows][hidden] for the prompt's <image> ids (may be empty)
  GenerateOptions opt;
  std::unique_ptr<Drafter> drafter;   // optional: speculative drafts for this sequence
};

struct BatchResult {
  uint64_t id = 0;
  GenerateResult result;
  SpecStats spec;
  std::string error;  // non-empty when a callback or drafter threw (tokens so far are kept)
};

struct BatchStats {
  int64_t forwards = 0, rows = 0, prefill_rows = 0, draft_rows = 0, accepted = 0, tokens = 0;
};

class BatchDecoder {
 public:
  BatchDecoder(const Decoder& dec, const BatchOptions& opt);
  ~BatchDecoder();
  BatchDecoder(const BatchDecoder&) = delete;
  BatchDecoder& operator=(const BatchDecoder&) = delete;

  // Queues a sequence; returns its id (1, 2, ...). Throws std::invalid_argument when the
  // prompt is empty, does not fit a slot (prompt > capacity), or its <image> ids do not
  // match the feature rows. A sequence that would outgrow its slot stops there with
  // StopReason::MaxTokens and a warning, as generate_greedy does at its cache's end.
  uint64_t submit(BatchRequest req);

  // One forward for all active sequences (admitting waiting ones into free slots first).
  // Returns false when there was nothing to do.
  bool step();
  // step() until every submitted sequence has finished.
  void run();

  // Finished sequences since the last call (in finishing order).
  std::vector<BatchResult> take_finished();
  // Sequences submitted and not yet finished.
  int pending() const;

  const BatchStats& stats() const { return stats_; }  // driver thread
  const BatchOptions& options() const { return opt_; }

 private:
  struct Seq;
  void admit();
  // Logits row r of this step (its token and log-probability chosen beforehand); false once the
  // sequence has finished.
  bool emit(Seq& s, int r);
  void finish(Seq& s);
  void finish_error(Seq& s, const std::string& what);

  const Decoder* dec_;
  BatchOptions opt_;
  int limit_;  // usable tokens per slot: min(capacity, max positions)
  KVCache cache_;
  DecoderWorkspace ws_;
  std::vector<float> embeds_;
  kernels::aligned_vector<float> logits_;  // line-aligned rows: the output head may stream them
  std::vector<int32_t> chosen_;            // per logits row: its argmax
  std::vector<float> logprob_;             // and that token's log-probability
  std::vector<int32_t> row_slot_, logit_rows_, ids_;
  std::vector<std::unique_ptr<Seq>> active_;  // by slot; null = free

  mutable std::mutex mu_;  // guards the members below
  std::deque<std::unique_ptr<Seq>> waiting_;
  std::vector<BatchResult> finished_;
  uint64_t next_id_ = 1;
  int pending_ = 0;

  BatchStats stats_;
};

// One sequence with speculative decoding (a 1-slot BatchDecoder, prompt prefilled in one
// forward as generate_greedy does). The tokens equal generate_greedy's.
GenerateResult generate_speculative(const Decoder& dec, const std::vector<int32_t>& prompt,
                                    const float* image_features, int n_image_rows, const GenerateOptions& opt,
                                    std::unique_ptr<Drafter> drafter, int max_draft = 8, SpecStats* stats = nullptr);

}  // namespace docling::vision
