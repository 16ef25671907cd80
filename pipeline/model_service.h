// The model shared by every conversion of an engine: one driver thread encodes pages and
// steps one batch decoder, so pages of different documents, and of different callers,
// share each decoder step (continuous batching across callers). Pages in flight are
// bounded engine-wide by slots that a caller takes before rendering a page.
//
// Takes: prepared pages (rendered, tiles and prompt made: pipeline/vlm.h) from any thread.
// Gives: each page generated (VlmPage filled), reported through its `done` callback on the
// driver thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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

 private:
  void drive();
  void complete(ServicePage& p, const std::string* error);
  void fail_all_waiting(const std::string& why);
  void admit(vision::BatchDecoder& batch, std::map<uint64_t, ServicePage>& running);
  void finish(vision::BatchResult& r, std::map<uint64_t, ServicePage>& running);

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
};

}  // namespace docling
