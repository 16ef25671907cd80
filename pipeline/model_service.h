// The model shared by every conversion of an engine: one driver thread encodes pages and
// steps one batch decoder, so pages of different documents, and of different callers,
// share each decoder step (continuous batching across callers). Pages in flight are
// bounded engine-wide by slots that a caller takes before rendering a page.
//
// Takes: prepared pages (rendered, tiles and prompt made: pipeline/vlm.h) from any thread.
// Gives: each page generated (VlmPage filled), reported through its `done` callback on the
// driver thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <tbb/task_arena.h>

#include "pipeline/vlm.h"
#include "vision/batch.h"
#include "kernels/kernels.h"

namespace docling {

struct ServiceOptions {
  int batch = 4;              // pages decoded together
  int pages_in_flight = 8;    // slots: pages rendered and not yet generated, engine-wide
  int max_new_tokens = 8192;  // the largest any page may ask for (sizes the KV cache slots)
  vision::KvType kv = vision::KvType::F16;
};

struct ServicePage {
  VlmPage* page = nullptr;           // must stay put until done() is called
  const VlmOptions* options = nullptr;
  std::function<bool()> cancelled;   // stops generation; a page cancelled before it starts is dropped
  // Called once on the driver thread: error is null when the page was generated (or
  // cancelled: page->ok is false then), else what failed.
  std::function<void(const std::string* error)> done;
  const void* owner = nullptr;       // the call the page belongs to (stats: steps shared by calls)
};

// What the driver has done so far (read from any thread).
struct ServiceStats {
  uint64_t steps = 0, tokens = 0, rows = 0, pages_encoded = 0, shared_steps = 0;
  int max_rows = 0, max_pages = 0, max_owners = 0;
};

class ModelService {
 public:
  ModelService(const VlmEngine& engine, const ServiceOptions& opt, tbb::task_arena& arena);
  ~ModelService();  // finishes nothing: callers must have had every page back
  ModelService(const ModelService&) = delete;
  ModelService& operator=(const ModelService&) = delete;

  // Takes a page slot, waiting at most `wait_ms`; false when none came free in time.
  bool try_acquire_slot(int wait_ms);
  void release_slot();
  // Hands over a page that holds a slot; the service gives the slot back before done().
  void submit(ServicePage p);

  const ServiceOptions& options() const { return opt_; }
  ServiceStats stats() const;

 private:
  void drive();
  void complete(ServicePage& p, const std::string* error);
  void fail_all_waiting(const std::string& why);
  void admit(vision::BatchDecoder& batch, std::map<uint64_t, ServicePage>& running);
  void finish(vision::BatchResult& r, std::map<uint64_t, ServicePage>& running);
  void step_once();
  void note_token(const void* page, const void* owner);  // driver thread, inside a step

  const VlmEngine& e_;
  ServiceOptions opt_;
  tbb::task_arena& arena_;

  std::mutex mu_;
  std::condition_variable cv_, slot_cv_;
  std::deque<ServicePage> ready_;
  int free_slots_ = 0;
  bool closing_ = false;
  vision::BatchOptions bo_;
  std::unique_ptr<vision::BatchDecoder> batch_;
  bool failed_ = false;  // the decoder could not be remade: pages fail at once
  std::string failure_;
  std::thread driver_;

  // Counters: written by the driver only, read by stats() from any thread.
  std::atomic<uint64_t> steps_{0}, tokens_{0}, rows_{0}, encoded_{0}, shared_steps_{0};
  std::atomic<int> max_rows_{0}, max_pages_{0}, max_owners_{0};
  // The pages and calls that got a token in the current step (at most `batch` each).
  std::vector<const void*> step_pages_, step_owners_;
};

}  // namespace docling
