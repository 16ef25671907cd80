#include "pipeline/scheduler.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include <condition_variable>
#include <deque>
#include <map>
#include <thread>

#include <tbb/flow_graph.h>
#include <tbb/parallel_for.h>

#include "vision/batch.h"
#include "vision/speculative.h"

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
  void put(size_t i, JobResult r) {
    std::lock_guard<std::mutex> lock(mu_);
    results_[i] = std::make_unique<JobResult>(std::move(r));
    while (next_ < results_.size() && results_[next_]) {
      done_(sources_[next_], *results_[next_]);
      results_[next_].reset();
      ++next_;
    }
  }

 private:
  const std::vector<Source>& sources_;
  const DocumentDone& done_;
  std::vector<std::unique_ptr<JobResult>> results_;
  size_t next_ = 0;
  std::mutex mu_;
};

}  // namespace

namespace {

// --- the model pipeline -----------------------------------------------------------------
//
//   documents ─▶ open (text layer, page plan) ─▶ queue ─▶ limiter (pages in flight)
//     ─▶ render + preprocess (2 at a time) ─▶ [model driver thread: vision encoder, then the
//     batch decoder: every active page shares each decoder step; a finished page leaves
//     and the next encoded page's prefill joins] ─▶ finish (assemble, export, write).
// The driver is a plain thread because it loops for the whole run; the other stages
// are TBB flow-graph nodes. The weights are shared read-only by all of them.

struct DocState {
  DocJob job;
  size_t index = 0;
  std::atomic<int> pages_left{0};
};

struct PageTask {
  DocState* doc = nullptr;
  size_t page = 0;  // index into doc->job.vlm
};

class VlmRun {
 public:
  VlmRun(const std::vector<Source>& sources, const JobOptions& opt, const VlmEngine& engine,
         const SchedulerOptions& sched, const std::function<void(size_t, JobResult)>& deliver)
      : sources_(sources), opt_(opt), e_(engine), sched_(sched), deliver_(deliver),
        open_(g_, tbb::flow::serial, [this](size_t i) { open(i); }),
        pages_(g_),
        limiter_(g_, size_t(std::max(1, sched.max_pages_in_flight))),
        prepare_(g_, 2, [this](PageTask t) { prepare(t); }),
        finish_(g_, tbb::flow::serial, [this](DocState* d) { finish(d); }) {
    tbb::flow::make_edge(pages_, limiter_);
    tbb::flow::make_edge(limiter_, prepare_);
  }

  void run() {
    docs_left_ = sources_.size();
    std::thread driver([this] { drive(); });
    for (size_t i = 0; i < sources_.size(); ++i) open_.try_put(i);
    // This thread runs graph work too (with --threads 1 it is the only one that can), and
    // goes back to it whenever the driver hands the graph something new.
    for (;;) {
      g_.wait_for_all();
      std::unique_lock<std::mutex> lock(done_mu_);
      if (docs_left_ == 0) break;
      done_cv_.wait(lock, [this] { return docs_left_ == 0 || kicked_; });
      kicked_ = false;
    }
    {
      std::lock_guard<std::mutex> lock(q_mu_);
      closed_ = true;
    }
    q_cv_.notify_all();
    driver.join();
    g_.wait_for_all();
  }

 private:
  bool cancelled() const { return opt_.cancel && opt_.cancel->load(); }

  void open(size_t i) {
    auto d = std::make_unique<DocState>();
    d->index = i;
    d->job.src = sources_[i];
    if (cancelled()) {
      d->job.result.status = DocStatus::Cancelled;
      finish_.try_put(d.release());
      return;
    }
    if (!begin_document(d->job, opt_, &e_)) {
      finish_.try_put(d.release());
      return;
    }
    DocState* doc = d.release();
    doc->pages_left = int(doc->job.vlm.size());
    for (size_t p = 0; p < doc->job.vlm.size(); ++p) pages_.try_put(PageTask{doc, p});
  }

  void prepare(PageTask t) {
    VlmPage& vp = *t.doc->job.vlm[t.page];
    try {
      if (cancelled()) throw std::runtime_error("interrupted");
      vlm_render(*t.doc->job.source, vp.page_no, e_, opt_.vlm, vp);
      vlm_prepare(e_, opt_.vlm, vp);
    } catch (const std::exception& ex) {
      page_failed(t, ex.what());
      return;
    }
    {
      std::lock_guard<std::mutex> lock(q_mu_);
      ready_.push_back(t);
    }
    q_cv_.notify_one();
  }

  void page_failed(PageTask t, const std::string& what) {
    {
      std::lock_guard<std::mutex> lock(doc_mu_);
      end_vlm_page(t.doc->job, t.page, &what);
    }
    page_done(t);
  }

  void page_done(PageTask t) {
    limiter_.decrementer().try_put(tbb::flow::continue_msg());
    if (--t.doc->pages_left == 0) finish_.try_put(t.doc);
    std::lock_guard<std::mutex> lock(done_mu_);  // wake run() to execute what was put
    kicked_ = true;
    done_cv_.notify_all();
  }

  void finish(DocState* d) {
    std::unique_ptr<DocState> own(d);
    end_document(d->job, opt_);
    deliver_(d->index, std::move(d->job.result));
    std::lock_guard<std::mutex> lock(done_mu_);
    if (--docs_left_ == 0) done_cv_.notify_all();
  }

  // The model driver: encode pages into free decoder slots, step the batch decoder.
  void drive() {
    vision::BatchOptions bo;
    bo.slots = std::max(1, sched_.batch);
    bo.capacity = 2048 + opt_.vlm.max_new_tokens;  // prompt (<= 17 tiles x 64 + text) + output
    bo.max_draft = opt_.vlm.speculate ? 8 : 0;
    // A whole prompt (up to 17 tiles x 64 image rows + text) prefills in one forward: one
    // packing of each weight matrix for all its rows instead of one per 256-row chunk.
    bo.max_step_rows = 1280;
    vision::BatchDecoder batch(e_.model().decoder(), bo);
    std::map<uint64_t, PageTask> running;
    std::function<bool()> stop = [this] { return cancelled(); };
    for (;;) {
      // Admit: one encoded page per free slot.
      while (batch.pending() < bo.slots) {
        PageTask t;
        {
          std::unique_lock<std::mutex> lock(q_mu_);
          if (ready_.empty()) {
            if (batch.pending() > 0) break;
            q_cv_.wait(lock, [this] { return !ready_.empty() || closed_; });
            if (ready_.empty()) return;  // closed: every document is done
          }
          t = ready_.front();
          ready_.pop_front();
        }
        VlmPage& vp = *t.doc->job.vlm[t.page];
        try {
          if (cancelled()) throw std::runtime_error("interrupted");
          vlm_encode(e_, vp);
          vision::BatchRequest req;
          req.prompt = vp.prompt.ids;
          req.image_features = std::move(vp.features);
          req.opt = vlm_begin_generate(e_, opt_.vlm, vp, stop);
          if (opt_.vlm.speculate && vp.text && !vp.text->words.empty())
            req.drafter = vision::make_page_drafter(e_.tokenizer(), vp.text->words, vp.text->width, vp.text->height);
          else if (opt_.vlm.speculate)
            req.drafter = vision::make_page_drafter(e_.tokenizer(), {}, 1, 1);
          running[batch.submit(std::move(req))] = t;
        } catch (const std::exception& ex) {
          page_failed(t, ex.what());
        }
      }
      if (!batch.step() && batch.pending() == 0) continue;
      for (vision::BatchResult& r : batch.take_finished()) {
        PageTask t = running.at(r.id);
        running.erase(r.id);
        VlmPage& vp = *t.doc->job.vlm[t.page];
        if (!r.error.empty()) vp.warnings.push_back("generation stopped: " + r.error);
        vlm_end_generate(opt_.vlm, vp, std::move(r.result), stop);
        {
          std::lock_guard<std::mutex> lock(doc_mu_);
          end_vlm_page(t.doc->job, t.page, nullptr);
        }
        page_done(t);
      }
    }
  }

  const std::vector<Source>& sources_;
  const JobOptions& opt_;
  const VlmEngine& e_;
  const SchedulerOptions& sched_;
  const std::function<void(size_t, JobResult)>& deliver_;

  tbb::flow::graph g_;
  tbb::flow::function_node<size_t> open_;
  tbb::flow::queue_node<PageTask> pages_;
  tbb::flow::limiter_node<PageTask> limiter_;
  tbb::flow::function_node<PageTask> prepare_;
  tbb::flow::function_node<DocState*> finish_;

  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::deque<PageTask> ready_;
  bool closed_ = false;

  std::mutex doc_mu_;  // end_vlm_page from the driver and from prepare
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  size_t docs_left_ = 0;
  bool kicked_ = false;
};

}  // namespace

void run_documents(const std::vector<Source>& sources, const JobOptions& opt, const VlmEngine* engine,
                   const SchedulerOptions& sched, Progress&, const DocumentDone& done) {
  std::mutex mu;
  InOrder in_order(sources, done);
  std::function<void(size_t, JobResult)> deliver = [&](size_t i, JobResult r) {
    if (sched.ordered) {
      in_order.put(i, std::move(r));
    } else {
      std::lock_guard<std::mutex> lock(mu);
      done(sources[i], r);
    }
  };
  if (sources.empty()) return;
  if (engine) {
    VlmRun(sources, opt, *engine, sched, deliver).run();
    return;
  }
  // Text layer only: documents in parallel, one task each.
  tbb::parallel_for(size_t(0), sources.size(), [&](size_t i) {
    if (opt.cancel && opt.cancel->load()) {
      JobResult r;
      r.status = DocStatus::Cancelled;
      deliver(i, std::move(r));
      return;
    }
    deliver(i, convert_document(sources[i], opt, nullptr));
  }, tbb::simple_partitioner());
}

}  // namespace docling
