// docling-cpp serve: the task queue. Requests become tasks; a fixed set of workers takes
// them in order and converts their documents on the one shared Engine (whose decoder
// batches the pages of all workers together). The queue is bounded: a full queue is
// answered 503 by the caller, never grown. Each document may have a deadline, enforced by
// a watchdog thread through the document's CancelToken.
#include <algorithm>
#include <cstdio>
#include <random>

#include "cli.hpp"
#include "serve.hpp"

namespace dcli::serve {

const char* to_string(TaskState s) {
  switch (s) {
    case TaskState::Pending: return "pending";
    case TaskState::Started: return "started";
    case TaskState::Success: return "success";
    case TaskState::Failure: return "failure";
  }
  return "failure";
}

std::string new_task_id() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", (unsigned long long)rng(), (unsigned long long)rng());
  return buf;
}

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// docling's input format of a file, by its name.
std::string input_format(const std::string& filename) {
  std::string ext = filename.substr(std::min(filename.size(), filename.rfind('.') + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == "pdf") return "pdf";
  if (ext == "png" || ext == "jpg" || ext == "jpeg") return "image";
  if (ext == "json") return "json_docling";
  return ext;
}

const char* status_name(docling::Status s, bool timed_out, int pages) {
  switch (s) {
    case docling::Status::Success: return "success";
    case docling::Status::Partial: return "partial_success";
    case docling::Status::Failure: return "failure";
    case docling::Status::Cancelled: return timed_out && pages > 0 ? "partial_success" : "failure";
  }
  return "failure";
}

void export_all(const docling::ConvertResult& r, const RequestOptions& o, DocResult& d) {
  docling::ExportOptions eo = docling::export_defaults();
  eo.image_mode = o.image_mode;
  for (docling::Format f : o.formats) {
    docling::ExportOptions fo = eo;
    if (f == docling::Format::Markdown) fo.page_break_placeholder = o.md_page_break;  // as docling-serve: md only
    d.content[f] = r.document.export_to(f, fo);
  }
}

// A chunk task's document: its chunks, and its JSON when the request asks for it.
void chunk_one(const RequestOptions& o, const docling::DoclingDocument& doc, DocResult& d) {
  try {
    d.chunks = doc.chunk(o.chunk->options);
  } catch (const std::exception& e) {
    d.status = "failure";
    d.errors.push_back(escape(d.filename) + ": chunking failed: " + escape(e.what()));
    return;
  }
  if (o.chunk->include_converted_doc) {
    docling::ExportOptions eo = docling::export_defaults();
    eo.image_mode = o.image_mode;
    d.content[docling::Format::Json] = doc.export_to(docling::Format::Json, eo);
  }
}

}  // namespace

Scheduler::Scheduler(const docling::Engine& engine, const Settings& s) : engine_(engine), s_(s) {
  for (int i = 0; i < s_.workers; ++i) workers_.emplace_back([this] { work(); });
  watchdog_ = std::thread([this] { watch(); });
}

Scheduler::~Scheduler() { shutdown(0); }

bool Scheduler::submit(const std::shared_ptr<Task>& t) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || int(queue_.size()) >= s_.max_queue) return false;
  evict_old();
  t->submitted = Clock::now();
  queue_.push_back(t);
  tasks_[t->id] = t;
  cv_.notify_one();
  return true;
}

std::shared_ptr<Task> Scheduler::find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : it->second;
}

void Scheduler::forget(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  tasks_.erase(id);
}

bool Scheduler::wait(const std::shared_ptr<Task>& t, double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ended = [&] { return t->state == TaskState::Success || t->state == TaskState::Failure; };
  if (seconds < 0) done_cv_.wait(lock, ended);
  else done_cv_.wait_for(lock, std::chrono::duration<double>(seconds), ended);
  return ended();
}

int Scheduler::position(const Task& t) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < queue_.size(); ++i)
    if (queue_[i].get() == &t) return int(i);
  return -1;
}

Json Scheduler::status_json(const Task& t) {
  int pos = position(t);
  std::lock_guard<std::mutex> lock(mu_);
  Json j = {{"task_id", t.id},
            {"task_type", t.options.chunk ? "chunk" : "convert"},
            {"task_status", to_string(t.state)},
            {"task_position", pos >= 0 ? Json(pos) : Json(nullptr)},
            {"task_meta",
             {{"num_docs", t.docs.size() ? t.docs.size() : t.results.size()},
              {"num_processed", t.processed},
              {"num_succeeded", t.succeeded},
              {"num_failed", t.failed}}}};
  j["error_message"] = t.error_message.empty() ? Json(nullptr) : Json(t.error_message);
  return j;
}

int Scheduler::queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return int(queue_.size());
}

double Scheduler::retry_after_s() {
  std::lock_guard<std::mutex> lock(mu_);
  double est = avg_task_s_ * double(queue_.size() + 1) / std::max(1, s_.workers);
  return std::clamp(est, 1.0, 120.0);
}

// Finished tasks are kept for result_ttl_s; called with mu_ held.
void Scheduler::evict_old() {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    const Task& t = *it->second;
    bool ended = t.state == TaskState::Success || t.state == TaskState::Failure;
    if (ended && seconds_since(t.finished) > s_.result_ttl_s) it = tasks_.erase(it);
    else ++it;
  }
}

void Scheduler::work() {
  for (;;) {
    std::shared_ptr<Task> t;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and the queue was failed by shutdown()
      t = queue_.front();
      queue_.pop_front();
      t->state = TaskState::Started;
    }
    run(*t);
  }
}

void Scheduler::run(Task& t) {
  Clock::time_point start = Clock::now();
  bool aborted = false;
  for (Document& doc : t.docs) {
    DocResult d;
    d.filename = doc.filename;
    if (aborted) {
      d.status = "skipped";
      d.errors.push_back("not converted: an earlier document failed and abort_on_error is set");
    } else {
      convert_one(t, doc, d);
    }
    std::string().swap(doc.bytes);
    std::lock_guard<std::mutex> lock(mu_);
    ++t.processed;
    bool ok = d.status == "success" || d.status == "partial_success";
    ++(ok ? t.succeeded : t.failed);
    aborted = aborted || (!ok && t.options.abort_on_error);
    t.results.push_back(std::move(d));
  }
  t.processing_time = seconds_since(start);
  try {
    if (t.options.chunk) {  // every document's chunks in one JSON body
      t.body = response_chunks(t);
      t.content_type = "application/json";
    } else if (t.results.size() == 1 && !t.options.zip) {  // as docling-serve: one document in the body, else a zip
      t.body = response_json(t);
      t.content_type = "application/json";
    } else {
      t.body = response_zip(t);
      t.content_type = "application/zip";
    }
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mu_);
    t.error_message = std::string("the response could not be made: ") + e.what();
    finish(t, TaskState::Failure);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  avg_task_s_ = 0.8 * avg_task_s_ + 0.2 * t.processing_time;
  finish(t, TaskState::Success);
}

// Called with mu_ held.
void Scheduler::finish(Task& t, TaskState st) {
  t.state = st;
  t.finished = Clock::now();
  std::vector<Document>().swap(t.docs);
  done_cv_.notify_all();
}

void Scheduler::convert_one(Task& t, Document& doc, DocResult& d) {
  std::string fmt = input_format(doc.filename);
  const std::vector<std::string>& allowed = t.options.from_formats;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), fmt) == allowed.end()) {
    d.status = "skipped";
    d.errors.push_back(escape(doc.filename) + ": format '" + escape(fmt) + "' is not in from_formats");
    return;
  }
  docling::CancelToken token;
  docling::ConvertOptions co = docling::convert_defaults();
  co.pipeline = t.options.pipeline;
  co.pages = t.options.pages;
  co.max_new_tokens = s_.max_new_tokens;
  co.limits.max_input_bytes = s_.max_file_bytes;
  co.limits.max_inflated_bytes = s_.max_inflated_bytes;
  co.cancel = &token;
  double limit = t.options.document_timeout_s;
  if (s_.document_timeout_s > 0 && (limit <= 0 || limit > s_.document_timeout_s)) limit = s_.document_timeout_s;
  arm(t, &token, limit);
  Clock::time_point start = Clock::now();
  docling::ConvertResult r;
  try {  // bad input is a result; what is left (options out of range, memory) fails this document only
    r = engine_.convert(reinterpret_cast<const uint8_t*>(doc.bytes.data()), doc.bytes.size(), doc.filename, co);
  } catch (const std::exception& e) {
    r.status = docling::Status::Failure;
    r.errors.push_back({0, escape(doc.filename) + ": " + escape(e.what())});
  }
  d.seconds = seconds_since(start);
  bool timed_out = disarm(t, &token) && r.status == docling::Status::Cancelled;
  d.status = status_name(r.status, timed_out, r.pages);
  for (const docling::PageMessage& m : r.errors) d.errors.push_back(m.message);
  for (const docling::PageMessage& m : r.warnings) d.warnings.push_back(m.message);
  if (r.status == docling::Status::Cancelled)
    d.errors.push_back(escape(doc.filename) + (timed_out ? ": document timeout exceeded (" + std::to_string(limit) + " s)"
                                                         : ": cancelled (the server is shutting down)"));
  if (d.status == "failure" || d.status == "skipped") return;
  if (t.options.chunk) {
    chunk_one(t.options, r.document, d);
    return;
  }
  export_all(r, t.options, d);
  if (t.options.zip || t.docs.size() > 1) d.document = std::move(r.document);  // for the zip
}

// A document's deadline: the watchdog cancels `token` at that time.
void Scheduler::arm(Task& t, docling::CancelToken* token, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  t.running.push_back(token);
  if (stopping_ && grace_over_) token->cancel();
  if (seconds > 0) {
    timers_.push_back({Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)),
                       token, false});
    watch_cv_.notify_all();
  }
}

// True when the deadline had passed (the watchdog fired).
bool Scheduler::disarm(Task& t, docling::CancelToken* token) {
  std::lock_guard<std::mutex> lock(mu_);
  t.running.erase(std::remove(t.running.begin(), t.running.end(), token), t.running.end());
  bool fired = false;
  for (auto it = timers_.begin(); it != timers_.end(); ++it)
    if (it->token == token) {
      fired = it->fired;
      timers_.erase(it);
      break;
    }
  return fired;
}

void Scheduler::watch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!(stopping_ && workers_done_)) {
    Clock::time_point next = Clock::now() + std::chrono::seconds(1);
    for (Timer& tm : timers_) {
      if (!tm.fired && tm.at <= Clock::now()) {
        tm.fired = true;
        tm.token->cancel();
      }
      if (!tm.fired) next = std::min(next, tm.at);
    }
    watch_cv_.wait_until(lock, next);
  }
}

void Scheduler::shutdown(double grace_s) {
  std::vector<std::shared_ptr<Task>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (workers_done_) return;
    stopping_ = true;
    dropped.assign(queue_.begin(), queue_.end());
    queue_.clear();
    for (const std::shared_ptr<Task>& t : dropped) {
      t->error_message = "the server is shutting down; the task was not started";
      finish(*t, TaskState::Failure);
    }
    cv_.notify_all();
  }
  // Running tasks may finish within the grace period; then their documents are cancelled.
  Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(grace_s));
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto idle = [&] {
      for (auto& [id, t] : tasks_)
        if (t->state == TaskState::Started) return false;
      return true;
    };
    done_cv_.wait_until(lock, end, idle);
    grace_over_ = true;
    for (auto& [id, t] : tasks_)
      for (docling::CancelToken* tok : t->running) tok->cancel();
  }
  for (std::thread& w : workers_) w.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers_done_ = true;
    watch_cv_.notify_all();
  }
  watchdog_.join();
}

}  // namespace dcli::serve
