#include "pipeline/model_service.h"

#include <algorithm>
#include <chrono>

#include "vision/speculative.h"

namespace docling {

// The driver enters the arena only to compute: it waits for work outside, so callers with
// CPU work of their own (rendering, the text layer) are never locked out of the arena.
ModelService::ModelService(const VlmEngine& engine, const ServiceOptions& opt, tbb::task_arena& arena)
    : e_(engine), opt_(opt), arena_(arena), free_slots_(std::max(1, opt.pages_in_flight)) {
  bo_.slots = std::max(1, opt_.batch);
  bo_.capacity = 2048 + opt_.max_new_tokens;  // prompt (<= 17 tiles x 64 + text) + output
  bo_.max_draft = 8;
  bo_.kv = opt_.kv;
  // A whole prompt (up to 17 tiles x 64 image rows + text) prefills in one forward: one
  // packing of each weight matrix for all its rows instead of one per 256-row chunk.
  bo_.max_step_rows = 1280;
  // Made here, so that a cache too large for memory is the caller's error, not the driver's.
  batch_ = std::make_unique<vision::BatchDecoder>(e_.model().decoder(), bo_);
  step_pages_.reserve(size_t(bo_.slots));
  step_owners_.reserve(size_t(bo_.slots));
  driver_ = std::thread([this] { drive(); });
}

ModelService::~ModelService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  driver_.join();
}

bool ModelService::try_acquire_slot(int wait_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!slot_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return free_slots_ > 0; })) return false;
  --free_slots_;
  return true;
}

void ModelService::release_slot() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++free_slots_;
  }
  slot_cv_.notify_one();
}

// Every page leaves through here: its slot comes free before its caller hears of it.
void ModelService::complete(ServicePage& p, const std::string* error) {
  release_slot();
  p.done(error);
}

void ModelService::submit(ServicePage p) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (failed_) {
      std::string why = failure_;
      lock.unlock();
      complete(p, &why);
      return;
    }
    ready_.push_back(std::move(p));
  }
  cv_.notify_one();
}

void ModelService::fail_all_waiting(const std::string& why) {
  std::deque<ServicePage> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    failed_ = true;
    failure_ = why;
    waiting.swap(ready_);
  }
  for (ServicePage& p : waiting) complete(p, &why);
}

// Encodes waiting pages into free decoder slots. Waits for work only when nothing is
// decoding (a decoding batch must keep stepping).
void ModelService::admit(vision::BatchDecoder& batch, std::map<uint64_t, ServicePage>& running) {
  while (batch.pending() < opt_.batch) {
    ServicePage t;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (ready_.empty()) {
        if (batch.pending() > 0) return;
        cv_.wait(lock, [this] { return !ready_.empty() || closing_; });
        if (ready_.empty()) return;  // closing
      }
      t = std::move(ready_.front());
      ready_.pop_front();
    }
    VlmPage& vp = *t.page;
    if (t.cancelled && t.cancelled()) {
      vp.ok = false;
      complete(t, nullptr);
      continue;
    }
    try {
      arena_.execute([&] { vlm_encode(e_, vp); });
      encoded_.fetch_add(1, std::memory_order_relaxed);
      vision::BatchRequest req;
      req.prompt = vp.prompt.ids;
      req.image_features = std::move(vp.features);
      req.opt = vlm_begin_generate(e_, *t.options, vp, t.cancelled);
      // Which pages and calls each step serves (the page's own streaming callback runs after).
      req.opt.on_token = [this, page = t.page, owner = t.owner, inner = std::move(req.opt.on_token)](int32_t id) {
        note_token(page, owner);
        if (inner) inner(id);
      };
      req.opt.max_new_tokens = std::min(req.opt.max_new_tokens, opt_.max_new_tokens);
      if (t.options->speculate) {
        bool words = vp.text && !vp.text->words.empty();
        req.drafter = words ? vision::make_page_drafter(e_.tokenizer(), vp.text->words, vp.text->width, vp.text->height)
                            : vision::make_page_drafter(e_.tokenizer(), {}, 1, 1);
      }
      running[batch.submit(std::move(req))] = std::move(t);
    } catch (const std::exception& ex) {
      std::string what = ex.what();
      complete(t, &what);
    }
  }
}

void ModelService::finish(vision::BatchResult& r, std::map<uint64_t, ServicePage>& running) {
  ServicePage t = std::move(running.at(r.id));
  running.erase(r.id);
  VlmPage& vp = *t.page;
  try {
    if (!r.error.empty()) vp.warnings.push_back("generation stopped: " + r.error);
    arena_.execute([&] { vlm_end_generate(*t.options, vp, std::move(r.result), t.cancelled); });
  } catch (const std::exception& ex) {
    std::string what = ex.what();
    complete(t, &what);
    return;
  }
  complete(t, nullptr);
}

void ModelService::drive() {
  std::map<uint64_t, ServicePage> running;
  for (;;) {
    admit(*batch_, running);
    if (batch_->pending() == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_ && ready_.empty()) return;
      continue;
    }
    try {
      step_once();
    } catch (const std::exception& ex) {
      // Out of memory, or a bug: the pages in the batch fail, the service goes on with a
      // fresh decoder (the old one's state is unknown).
      std::string what = std::string("the decoder failed: ") + ex.what();
      for (auto& [id, t] : running) complete(t, &what);
      running.clear();
      batch_.reset();
      try {
        batch_ = std::make_unique<vision::BatchDecoder>(e_.model().decoder(), bo_);
      } catch (const std::exception&) {
        fail_all_waiting(what);  // no decoder: every page from now on fails with the reason
        return;
      }
      continue;
    }
    for (vision::BatchResult& r : batch_->take_finished()) finish(r, running);
  }
}

void ModelService::note_token(const void* page, const void* owner) {
  if (std::find(step_pages_.begin(), step_pages_.end(), page) == step_pages_.end()) step_pages_.push_back(page);
  if (owner && std::find(step_owners_.begin(), step_owners_.end(), owner) == step_owners_.end())
    step_owners_.push_back(owner);
}

// One decoder step, and what it did in the counters.
void ModelService::step_once() {
  const vision::BatchStats before = batch_->stats();
  step_pages_.clear();
  step_owners_.clear();
  arena_.execute([&] { batch_->step(); });
  const vision::BatchStats& after = batch_->stats();
  auto raise = [](std::atomic<int>& m, int v) {
    if (v > m.load(std::memory_order_relaxed)) m.store(v, std::memory_order_relaxed);
  };
  int rows = int(after.rows - before.rows);
  steps_.fetch_add(uint64_t(after.forwards - before.forwards), std::memory_order_relaxed);
  tokens_.fetch_add(uint64_t(after.tokens - before.tokens), std::memory_order_relaxed);
  rows_.fetch_add(uint64_t(rows), std::memory_order_relaxed);
  if (step_owners_.size() >= 2) shared_steps_.fetch_add(1, std::memory_order_relaxed);
  raise(max_rows_, rows);
  raise(max_pages_, int(step_pages_.size()));
  raise(max_owners_, int(step_owners_.size()));
}

ServiceStats ModelService::stats() const {
  ServiceStats s;
  s.steps = steps_.load(std::memory_order_relaxed);
  s.tokens = tokens_.load(std::memory_order_relaxed);
  s.rows = rows_.load(std::memory_order_relaxed);
  s.pages_encoded = encoded_.load(std::memory_order_relaxed);
  s.shared_steps = shared_steps_.load(std::memory_order_relaxed);
  s.max_rows = max_rows_.load(std::memory_order_relaxed);
  s.max_pages = max_pages_.load(std::memory_order_relaxed);
  s.max_owners = max_owners_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace docling
