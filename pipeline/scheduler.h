// Running many documents: which work runs where, and the terminal progress line.
//
// Takes: the sources, conversion options, the (optional) VLM engine. Gives: each
// document's JobResult to `done` as soon as it completes (or in input order when
// asked), from any thread but never two at once.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/convert.h"
#include "pipeline/sources.h"

namespace docling {

struct SchedulerOptions {
  int threads = 0;       // 0 = all cores
  int batch = 4;         // pages decoded together by the model
  bool ordered = false;  // hand results over in input order
  int max_pages_in_flight = 8;
};

// Documents done, pages, pages/hour and ETA on one terminal line (stderr); silent when
// `enabled` is false (not a terminal, or --quiet). Not thread-safe: callers serialize.
class Progress {
 public:
  Progress(int documents, bool enabled);
  void document_done(int pages);
  void clear_line();  // before printing a message
  double elapsed() const;

 private:
  void draw();
  int total_, done_ = 0, pages_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

using DocumentDone = std::function<void(const Source&, JobResult&)>;

void run_documents(const std::vector<Source>& sources, const JobOptions& opt, const VlmEngine* engine,
                   const SchedulerOptions& sched, Progress& progress, const DocumentDone& done);

}  // namespace docling
