#include "pipeline/scheduler.h"

#include <cstdio>
#include <mutex>

#include <tbb/parallel_for.h>

namespace docling {

Progress::Progress(int documents, bool enabled)
    : total_(documents), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::document_done(int pages) {
  ++done_;
  pages_ += pages;
  draw();
}

void Progress::clear_line() {
  if (enabled_ && drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

void Progress::draw() {
  if (!enabled_) return;
  double t = elapsed();
  double per_hour = t > 0 ? pages_ * 3600.0 / t : 0;
  char eta[32] = "?";
  if (done_ > 0 && done_ < total_) {
    double left = t / done_ * (total_ - done_);
    std::snprintf(eta, sizeof eta, "%dm%02ds", int(left) / 60, int(left) % 60);
  } else if (done_ == total_) {
    std::snprintf(eta, sizeof eta, "0s");
  }
  std::fprintf(stderr, "\r\033[K[%d/%d documents] %d pages, %.0f pages/h, ETA %s", done_, total_, pages_, per_hour,
               eta);
  std::fflush(stderr);
  drawn_ = true;
}

namespace {

// Hands results over in input order: a finished document waits for those before it.
class InOrder {
 public:
  InOrder(const std::vector<Source>& s, const DocumentDone& d) : sources_(s), done_(d), results_(s.size()) {}
  void put(size_t i, ConvertResult r) {
    std::lock_guard<std::mutex> lock(mu_);
    results_[i] = std::make_unique<ConvertResult>(std::move(r));
    while (next_ < results_.size() && results_[next_]) {
      done_(sources_[next_], *results_[next_]);
      results_[next_].reset();
      ++next_;
    }
  }

 private:
  const std::vector<Source>& sources_;
  const DocumentDone& done_;
  std::vector<std::unique_ptr<ConvertResult>> results_;
  size_t next_ = 0;
  std::mutex mu_;
};

}  // namespace

void run_documents(const std::vector<Source>& sources, const ConvertOptions& opt, const VlmEngine* engine,
                   const SchedulerOptions& sched, Progress&, const DocumentDone& done) {
  std::mutex mu;
  InOrder in_order(sources, done);
  auto deliver = [&](size_t i, ConvertResult r) {
    if (sched.ordered) {
      in_order.put(i, std::move(r));
    } else {
      std::lock_guard<std::mutex> lock(mu);
      done(sources[i], r);
    }
  };
  // stdin can be read once only: it goes first, alone.
  auto convert_one = [&](size_t i) {
    if (opt.cancel && opt.cancel->load()) {
      ConvertResult r;
      r.status = DocStatus::Cancelled;
      deliver(i, std::move(r));
      return;
    }
    deliver(i, convert_document(sources[i], opt, engine));
  };
  if (engine) {
    // The model's kernels already use every core: one document at a time.
    for (size_t i = 0; i < sources.size(); ++i) convert_one(i);
    return;
  }
  // Text layer: documents in parallel, one task each.
  tbb::parallel_for(size_t(0), sources.size(), convert_one, tbb::simple_partitioner());
}

}  // namespace docling
