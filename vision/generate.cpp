#include "vision/generate.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "kernels/kernels.h"

namespace docling::vision {

using namespace kernels;

RepetitionDetector::RepetitionDetector(const LoopGuard& g) : g_(g) {
  run_.assign(size_t(std::max(g.max_period, 0) + 1), 0);
}

bool RepetitionDetector::push(int32_t token) {
  hist_.push_back(token);
  if (!g_.enabled) return false;
  const int n = int(hist_.size()) - 1;  // index of the new token
  bool hit = false;
  for (int p = 1; p <= g_.max_period; ++p) {
    int& r = run_[size_t(p)];
    r = (p <= n && hist_[size_t(n - p)] == token) ? r + 1 : 0;
    int span = r + p, reps = span / p;
    if (!hit && r > 0 && span >= g_.min_span && reps >= g_.min_repeats) {
      hit = true;
      period_ = p;
      span_ = span;
    }
  }
  return hit;
}

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Eos: return "eos";
    case StopReason::StopToken: return "stop_token";
    case StopReason::StopCallback: return "stop_callback";
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::Loop: return "loop";
  }
  return "?";
}

GenerateResult generate_greedy(const Decoder& dec, DecoderWorkspace& ws, KVCache& cache, int slot,
                               const int32_t* prompt, int n_prompt, const float* image_features,
                               int n_image_rows, const GenerateOptions& opt, const Tap* tap) {
  const ModelConfig& cfg = dec.config();
  const int H = cfg.text.hidden, V = cfg.text.vocab;
  if (n_prompt <= 0) throw std::invalid_argument("generate: empty prompt");
  if (slot < 0 || slot >= cache.slots) throw std::invalid_argument("generate: bad KV cache slot");
  cache.reset(slot);
  GenerateResult res;
  res.prompt_tokens = n_prompt;
  res.tokens.reserve(size_t(std::max(opt.max_new_tokens, 0)));

  std::vector<float> embeds(size_t(n_prompt) * H);
  std::vector<float> logits(opt.on_logits ? static_cast<size_t>(V) : 0);
  dec.embed(prompt, n_prompt, image_features, n_image_rows, embeds.data());
  std::vector<int32_t> slots(size_t(n_prompt), slot);
  int32_t last = n_prompt - 1;
  if (opt.max_new_tokens <= 0) return res;
  if (n_prompt >= std::min(cache.capacity, cfg.text.max_positions) + 1)
    throw std::runtime_error("generate: prompt of " + std::to_string(n_prompt) + " tokens does not fit the KV cache");
  // One forward and the greedy choice for its last row: without logits to show, through the
  // head's screen (forward_greedy); with them, the full product.
  int32_t tok = 0;
  float logprob = 0.0f;
  auto choose = [&](const int32_t* rows_slots, int rows, const int32_t* logit_row, const Tap* t, int step) {
    if (!opt.on_logits) {
      dec.forward_greedy(ws, cache, embeds.data(), rows_slots, rows, logit_row, 1, &tok, &logprob, t);
      return;
    }
    dec.forward(ws, cache, embeds.data(), rows_slots, rows, logit_row, 1, logits.data(), t);
    opt.on_logits(step, logits.data(), V);
    kernels::greedy_rows(logits.data(), 1, V, &tok, &logprob, /*parallel=*/false);
  };
  choose(slots.data(), n_prompt, &last, tap, 0);

  RepetitionDetector guard(opt.loop);
  const int32_t zero = 0;
  for (int step = 0;; ++step) {
    res.tokens.push_back(tok);
    res.logprobs.push_back(logprob);
    if (opt.on_token) opt.on_token(tok);
    if (opt.stop_at_eos && tok == cfg.eos_token_id) { res.stop = StopReason::Eos; break; }
    if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), tok) != opt.stop_ids.end()) {
      res.stop = tok == cfg.eos_token_id ? StopReason::Eos : StopReason::StopToken;
      break;
    }
    if (opt.stop_when && opt.stop_when(res.tokens)) { res.stop = StopReason::StopCallback; break; }
    if (guard.push(tok)) {
      res.stop = StopReason::Loop;
      res.warning = "generation stopped: the output repeats a block of " + std::to_string(guard.period()) +
                    " tokens over its last " + std::to_string(guard.span()) + " tokens";
      break;
    }
    if (int(res.tokens.size()) >= opt.max_new_tokens) { res.stop = StopReason::MaxTokens; break; }
    int limit = std::min(cache.capacity, cfg.text.max_positions);
    if (cache.len[size_t(slot)] >= limit) {
      res.stop = StopReason::MaxTokens;
      res.warning = "generation stopped: sequence reached " + std::to_string(limit) + " tokens";
      break;
    }
    dec.embed_ids(&tok, 1, embeds.data());
    choose(&slot, 1, &zero, nullptr, step + 1);
  }
  return res;
}

}  // namespace docling::vision
