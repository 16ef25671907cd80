#include "vision/batch.h"

#include <algorithm>
#include <stdexcept>

#include "kernels/kernels.h"

namespace docling::vision {

using namespace kernels;

struct BatchDecoder::Seq {
  uint64_t id = 0;
  BatchRequest req;
  int slot = -1;
  int prefilled = 0;   // prompt rows already in the cache
  int image_used = 0;  // image feature rows consumed by those
  bool decoding = false;
  bool done = false;
  int32_t last = 0;    // newest token, not yet in the cache
  GenerateResult res;
  RepetitionDetector guard;
  SpecStats spec;
  std::string error;
  // This step's rows: [row0, row0 + nrows) of the forward; logits from logit0 when decoding.
  std::vector<int32_t> drafts;
  int row0 = 0, nrows = 0, logit0 = -1;

  explicit Seq(BatchRequest r) : req(std::move(r)), guard(req.opt.loop) {}
};

BatchDecoder::BatchDecoder(const Decoder& dec, const BatchOptions& opt) : dec_(&dec), opt_(opt) {
  const TextConfig& t = dec.config().text;
  if (opt_.slots <= 0 || opt_.capacity <= 0) throw std::invalid_argument("BatchDecoder: slots and capacity must be positive");
  if (opt_.max_step_rows < opt_.slots + 1)
    throw std::invalid_argument("BatchDecoder: max_step_rows must exceed the number of slots (" +
                                std::to_string(opt_.slots) + ") so a prefill can always progress");
  opt_.max_draft = std::max(opt_.max_draft, 0);
  limit_ = std::min(opt_.capacity, t.max_positions);
  if (!opt_.kv) opt_.kv = dec.kv_type();
  cache_ = KVCache(t, opt_.slots, opt_.capacity, *opt_.kv);
  active_.resize(size_t(opt_.slots));
  embeds_.resize(size_t(opt_.max_step_rows) * size_t(t.hidden));
  row_slot_.resize(size_t(opt_.max_step_rows));
  ids_.resize(size_t(opt_.max_step_rows));
  logit_rows_.resize(size_t(opt_.max_step_rows));
}

BatchDecoder::~BatchDecoder() = default;

uint64_t BatchDecoder::submit(BatchRequest req) {
  const ModelConfig& cfg = dec_->config();
  const int H = cfg.text.hidden;
  const int n = int(req.prompt.size());
  if (n == 0) throw std::invalid_argument("BatchDecoder: empty prompt");
  if (n > limit_)
    throw std::invalid_argument("BatchDecoder: prompt of " + std::to_string(n) + " tokens does not fit a slot of " +
                                std::to_string(limit_) + " tokens");
  int images = 0;
  for (int32_t id : req.prompt) {
    if (id < 0 || id >= cfg.text.vocab)
      throw std::invalid_argument("BatchDecoder: prompt token id " + std::to_string(id) + " outside the vocabulary");
    images += id == cfg.image_token_id;
  }
  if (req.image_features.size() != size_t(images) * size_t(H))
    throw std::invalid_argument("BatchDecoder: " + std::to_string(images) + " <image> tokens but " +
                                std::to_string(req.image_features.size() / size_t(H)) + " image feature rows");
  auto s = std::make_unique<Seq>(std::move(req));
  s->res.prompt_tokens = n;
  std::lock_guard<std::mutex> lock(mu_);
  s->id = next_id_++;
  ++pending_;
  uint64_t id = s->id;
  if (s->req.opt.max_new_tokens <= 0) {  // as generate_greedy: nothing to run
    finished_.push_back(BatchResult{id, std::move(s->res), s->spec, {}});
    --pending_;
    return id;
  }
  waiting_.push_back(std::move(s));
  return id;
}

void BatchDecoder::admit() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int slot = 0; slot < opt_.slots && !waiting_.empty(); ++slot) {
    if (active_[size_t(slot)]) continue;
    auto s = std::move(waiting_.front());
    waiting_.pop_front();
    s->slot = slot;
    cache_.reset(slot);
    active_[size_t(slot)] = std::move(s);
  }
}

int BatchDecoder::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

std::vector<BatchResult> BatchDecoder::take_finished() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<BatchResult> out;
  out.swap(finished_);
  return out;
}

void BatchDecoder::finish(Seq& s) {
  const int slot = s.slot;
  cache_.reset(slot);
  BatchResult r{s.id, std::move(s.res), s.spec, std::move(s.error)};
  std::unique_ptr<Seq> hold = std::move(active_[size_t(slot)]);  // freed on return
  std::lock_guard<std::mutex> lock(mu_);
  finished_.push_back(std::move(r));
  --pending_;
}

void BatchDecoder::finish_error(Seq& s, const std::string& what) {
  s.error = what;
  s.done = true;
}

// The body of generate_greedy's loop for one token: same checks, same order.
bool BatchDecoder::emit(Seq& s, int r) {
  const ModelConfig& cfg = dec_->config();
  const GenerateOptions& opt = s.req.opt;
  GenerateResult& res = s.res;
  const int V = cfg.text.vocab;
  try {
    if (opt.on_logits) opt.on_logits(int(res.tokens.size()), logits_.data() + int64_t(r) * V, V);
    const int32_t tok = chosen_[size_t(r)];
    res.tokens.push_back(tok);
    res.logprobs.push_back(logprob_[size_t(r)]);
    s.last = tok;
    ++stats_.tokens;
    if (s.req.drafter) s.req.drafter->push(tok);
    if (opt.on_token) opt.on_token(tok);
    if (opt.stop_at_eos && tok == cfg.eos_token_id) {
      res.stop = StopReason::Eos;
      return !(s.done = true);
    }
    if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), tok) != opt.stop_ids.end()) {
      res.stop = tok == cfg.eos_token_id ? StopReason::Eos : StopReason::StopToken;
      return !(s.done = true);
    }
    if (opt.stop_when && opt.stop_when(res.tokens)) {
      res.stop = StopReason::StopCallback;
      return !(s.done = true);
    }
    if (s.guard.push(tok)) {
      res.stop = StopReason::Loop;
      res.warning = "generation stopped: the output repeats a block of " + std::to_string(s.guard.period()) +
                    " tokens over its last " + std::to_string(s.guard.span()) + " tokens";
      return !(s.done = true);
    }
    if (int(res.tokens.size()) >= opt.max_new_tokens) {
      res.stop = StopReason::MaxTokens;
      return !(s.done = true);
    }
    // Tokens in the cache once every earlier token is fed (the newest one is not).
    if (res.prompt_tokens + int(res.tokens.size()) - 1 >= limit_) {
      res.stop = StopReason::MaxTokens;
      res.warning = "generation stopped: sequence reached " + std::to_string(limit_) + " tokens";
      return !(s.done = true);
    }
  } catch (const std::exception& e) {
    finish_error(s, e.what());
    return false;
  }
  return true;
}

bool BatchDecoder::step() {
  admit();
  const ModelConfig& cfg = dec_->config();
  const int H = cfg.text.hidden, V = cfg.text.vocab;
  int decoding = 0, any = 0;
  for (auto& p : active_)
    if (p) ++any, decoding += p->decoding;
  if (any == 0) return false;

  // Plan: decode rows (with drafts) first, then prefill chunks with the rows left.
  int n = 0, nl = 0;
  int spare = opt_.max_step_rows - decoding;  // rows for drafts and prefill
  int32_t buf[256];
  for (auto& p : active_) {
    if (!p || !p->decoding) continue;
    Seq& s = *p;
    s.drafts.clear();
    int len = cache_.len[size_t(s.slot)];
    int maxk = std::min({opt_.max_draft, spare - 1, limit_ - len - 1,
                         s.req.opt.max_new_tokens - int(s.res.tokens.size()) - 1, int(sizeof buf / sizeof buf[0])});
    if (s.req.drafter && maxk > 0) {
      int k = 0;
      try {
        k = s.req.drafter->propose(buf, maxk);
      } catch (const std::exception&) {
        k = 0;  // a failing drafter only costs speed
      }
      for (int i = 0; i < std::min(k, maxk) && buf[i] >= 0 && buf[i] < V; ++i) s.drafts.push_back(buf[i]);
    }
    spare -= int(s.drafts.size());
    s.row0 = n;
    s.nrows = 1 + int(s.drafts.size());
    s.logit0 = nl;
    ids_[size_t(n)] = s.last;
    std::copy(s.drafts.begin(), s.drafts.end(), ids_.begin() + n + 1);
    dec_->embed_ids(ids_.data() + n, s.nrows, embeds_.data() + int64_t(n) * H);
    for (int i = 0; i < s.nrows; ++i) {
      row_slot_[size_t(n + i)] = s.slot;
      logit_rows_[size_t(nl + i)] = n + i;
    }
    n += s.nrows;
    nl += s.nrows;
    stats_.draft_rows += int64_t(s.drafts.size());
  }
  for (auto& p : active_) {
    if (!p || p->decoding) continue;
    Seq& s = *p;
    const int total = int(s.req.prompt.size());
    int chunk = std::min(total - s.prefilled, opt_.max_step_rows - n);
    s.nrows = 0;
    s.logit0 = -1;
    if (chunk <= 0) continue;
    const int32_t* ids = s.req.prompt.data() + s.prefilled;
    int images = int(std::count(ids, ids + chunk, cfg.image_token_id));
    dec_->embed(ids, chunk, s.req.image_features.data() + int64_t(s.image_used) * H, images,
                embeds_.data() + int64_t(n) * H);
    s.image_used += images;
    s.row0 = n;
    s.nrows = chunk;
    for (int i = 0; i < chunk; ++i) row_slot_[size_t(n + i)] = s.slot;
    n += chunk;
    s.prefilled += chunk;
    stats_.prefill_rows += chunk;
    if (s.prefilled == total) {
      s.logit0 = nl;
      logit_rows_[size_t(nl++)] = n - 1;
    }
  }
  // Every row's greedy token at once, on all threads: a vocabulary-wide pass or two per row is
  // too much to leave to this thread alone at batch 8. Rows of rejected drafts are done too.
  // Without a sequence that looks at its logits, through the output head's screen.
  chosen_.resize(size_t(nl)), logprob_.resize(size_t(nl));
  const bool show_logits = std::any_of(active_.begin(), active_.end(), [](const auto& p) {
    return p && p->logit0 >= 0 && p->req.opt.on_logits;
  });
  if (show_logits) {
    if (logits_.size() < size_t(nl) * size_t(V)) logits_.resize(size_t(nl) * size_t(V));
    dec_->forward(ws_, cache_, embeds_.data(), row_slot_.data(), n, logit_rows_.data(), nl, logits_.data());
    kernels::greedy_rows(logits_.data(), nl, V, chosen_.data(), logprob_.data());
  } else {
    dec_->forward_greedy(ws_, cache_, embeds_.data(), row_slot_.data(), n, logit_rows_.data(), nl, chosen_.data(),
                         logprob_.data());
  }
  ++stats_.forwards;
  stats_.rows += n;

  // Emit: a decoding sequence takes its first row's token, then one more row per draft
  // the model agreed with; rows after the first disagreement are dropped from the cache.
  for (auto& p : active_) {
    if (!p || p->logit0 < 0) continue;
    Seq& s = *p;
    ++s.spec.steps;
    if (!s.decoding) {  // prefill finished: the first generated token
      s.decoding = true;
      emit(s, s.logit0);
    } else {
      const int len0 = cache_.len[size_t(s.slot)] - s.nrows;
      int i = 0;
      for (;; ++i) {
        if (!emit(s, s.logit0 + i)) break;
        if (i + 1 >= s.nrows || s.last != s.drafts[size_t(i)]) break;
      }
      cache_.len[size_t(s.slot)] = len0 + i + 1;
      s.spec.drafted += int(s.drafts.size());
      s.spec.accepted += i;
      stats_.accepted += i;
    }
    s.logit0 = -1;
    if (s.done) finish(s);
  }
  return true;
}

void BatchDecoder::run() {
  while (step()) {
  }
}

GenerateResult generate_speculative(const Decoder& dec, const std::vector<int32_t>& prompt,
                                    const float* image_features, int n_image_rows, const GenerateOptions& opt,
                                    std::unique_ptr<Drafter> drafter, int max_draft, SpecStats* stats) {
  const TextConfig& t = dec.config().text;
  BatchOptions bo;
  bo.slots = 1;
  bo.capacity = int(std::min<int64_t>(t.max_positions, int64_t(prompt.size()) + std::max(opt.max_new_tokens, 0) + 1));
  bo.capacity = std::max(bo.capacity, 1);
  bo.max_draft = std::max(max_draft, 0);
  bo.kv = opt.kv;
  bo.max_step_rows = std::max({int(prompt.size()), bo.max_draft + 1, 2});  // the prompt in one forward
  BatchDecoder bd(dec, bo);
  BatchRequest req;
  req.prompt = prompt;
  if (n_image_rows > 0 && image_features)
    req.image_features.assign(image_features, image_features + int64_t(n_image_rows) * t.hidden);
  req.opt = opt;
  req.drafter = std::move(drafter);
  bd.submit(std::move(req));
  bd.run();
  std::vector<BatchResult> done = bd.take_finished();
  if (done.size() != 1) throw std::logic_error("generate_speculative: no result");
  if (!done[0].error.empty()) throw std::runtime_error(done[0].error);
  if (stats) *stats = done[0].spec;
  return std::move(done[0].result);
}

}  // namespace docling::vision
