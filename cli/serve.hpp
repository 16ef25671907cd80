// docling-cpp serve: what the serve_*.cpp files share. A docling-serve v1 compatible HTTP
// service (the API of docling-serve 1.x up to v1.22.0, read from its docs/usage.md, datamodel and
// docling-jobkit's result models) on one shared docling::Engine.
//
// Takes: parsed HTTP requests (multipart forms, JSON bodies). Gives: tasks run on a bounded
// queue by worker threads, and their responses (docling-serve's JSON or a zip).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "docling/docling.hpp"

namespace httplib {
class Server;
}

namespace dcli::serve {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The service's settings, from the command line.
struct Settings {
  std::string host = "127.0.0.1";
  int port = 5001;
  std::string api_key;                 // "" = no key asked for
  int max_queue = 64;                  // tasks waiting to start; past that 503
  int workers = 0;                     // tasks converted at once
  uint64_t max_file_bytes = 100u << 20;     // one document
  uint64_t max_request_bytes = 401u << 20;  // one request body
  uint64_t max_inflated_bytes = docling::Limits{}.max_inflated_bytes;  // per PDF stream (0: no check)
  double document_timeout_s = 0;       // 0 = none; a request's document_timeout is capped by it
  double shutdown_grace_s = 30;        // running tasks may finish this long after SIGTERM
  double result_ttl_s = 3600;          // finished tasks are kept this long for /v1/result
  int max_new_tokens = 8192;           // per page (--max-new-tokens)
  docling::Pipeline standard_pipeline = docling::Pipeline::Auto;  // what "standard" means here
  bool has_model = false;
  // Chunk tokenizers: the server downloads nothing, so a chunking_tokenizer name must be a
  // folder here. `chunk_tokenizer` stands for docling's default (all-MiniLM-L6-v2) and is
  // used when a request names none; "" = none found.
  std::string chunk_tokenizer;
  std::vector<std::string> chunk_tokenizer_dirs;  // --chunk-tokenizer-dir: DIR/ORG/NAME, DIR/NAME
  std::vector<std::string> hf_hubs;               // Hugging Face caches: hub/models--ORG--NAME/snapshots/*
};

// A 4xx/5xx answer decided while reading a request: FastAPI's {"detail": ...} shape.
struct HttpError : std::runtime_error {
  HttpError(int status, Json detail)
      : std::runtime_error(detail.is_string() ? detail.get<std::string>() : detail.dump()),
        status(status),
        detail(std::move(detail)) {}
  int status;
  Json detail;
};
// 422 naming the option (FastAPI's validation error list, one entry).
HttpError invalid(const std::string& where, const std::string& name, const std::string& msg);

// A /v1/chunk/... request's chunking (docling-jobkit's HybridChunkerOptions and
// HierarchicalChunkerOptions, and the chunking export options).
struct ChunkRequest {
  docling::ChunkOptions options;  // chunker, tokenizer folder, max_tokens, merge_peers, tables
  bool include_raw_text = false;
  bool include_converted_doc = false;
};

// What a request asks for, checked.
struct RequestOptions {
  std::vector<docling::Format> formats{docling::Format::Markdown};
  docling::ImageMode image_mode = docling::ImageMode::Embedded;  // docling-serve's default
  std::optional<std::string> md_page_break;
  std::string pages;                    // "3-7"; "" = all
  docling::Pipeline pipeline = docling::Pipeline::Default;
  double document_timeout_s = 0;        // 0 = the server's
  bool abort_on_error = false;
  bool zip = false;                     // target zip / return_as_file
  std::vector<std::string> from_formats;  // empty = all
  std::vector<std::string> warnings;      // options accepted but not applied
  std::optional<ChunkRequest> chunk;      // a chunk task
};

struct Document {
  std::string filename;
  std::string bytes;
};

// Reading requests (serve_options.cpp). Both throw HttpError (422 for bad options).
// `fields` are a multipart form's non-file fields, in order (names repeat for lists).
RequestOptions options_from_form(const std::vector<std::pair<std::string, std::string>>& fields,
                                 const Settings& s);
// A /v1/convert/source body: options, sources / file_sources / http_sources, target.
RequestOptions options_from_source(const Json& body, const Settings& s, std::vector<Document>& docs);

Json options_schema();  // the options above as a JSON schema (for /openapi.json)

// Chunk requests (serve_chunk.cpp): the form's convert_* / chunking_* fields, or a body with
// convert_options / chunking_options; the tokenizer is found and loaded here (422 if not).
RequestOptions chunk_options_from_form(const std::vector<std::pair<std::string, std::string>>& fields,
                                       const Settings& s, docling::Chunker chunker);
RequestOptions chunk_options_from_source(const Json& body, const Settings& s, std::vector<Document>& docs,
                                         docling::Chunker chunker);
Json chunk_options_schema(docling::Chunker chunker);
// Where a tokenizer name (e.g. "sentence-transformers/all-MiniLM-L6-v2") is on this machine; "" if nowhere.
std::string find_tokenizer(const std::string& name, const Settings& s);

// One document's outcome.
struct DocResult {
  std::string filename;
  std::string status = "pending";  // docling's ConversionStatus names
  std::vector<std::string> errors, warnings;
  std::map<docling::Format, std::string> content;
  std::optional<docling::DoclingDocument> document;  // kept for a zip target until it is built
  std::vector<docling::Chunk> chunks;                 // a chunk task's
  double seconds = 0;
};

enum class TaskState { Pending, Started, Success, Failure };
const char* to_string(TaskState s);  // "pending", "started", "success", "failure"

struct Task {
  std::string id;
  RequestOptions options;
  std::vector<Document> docs;
  std::vector<DocResult> results;
  TaskState state = TaskState::Pending;
  std::string error_message;           // why the task failed (shutdown, internal error)
  int processed = 0, succeeded = 0, failed = 0;
  double processing_time = 0;
  Clock::time_point submitted, finished;
  // The answer, built when the task ends: docling-serve's JSON, or a zip.
  std::string body, content_type;
  std::vector<docling::CancelToken*> running;  // cancelled at shutdown past the grace
};

// The bounded queue and its workers (serve_tasks.cpp). One mutex guards every task's state.
class Scheduler {
 public:
  const docling::Engine& engine() const { return engine_; }
  Scheduler(const docling::Engine& engine, const Settings& s);
  ~Scheduler();
  // False when the queue is full or the service is stopping.
  bool submit(const std::shared_ptr<Task>& t);
  std::shared_ptr<Task> find(const std::string& id);
  void forget(const std::string& id);  // a synchronous request's task, once answered
  // Waits until the task has ended or `seconds` passed; true when it has ended.
  bool wait(const std::shared_ptr<Task>& t, double seconds);
  int position(const Task& t);  // 0-based place in the queue; -1 when not queued
  Json status_json(const Task& t);
  double retry_after_s();       // a guess of when a slot frees up
  int queued();
  // Stops taking tasks, fails the queued ones, lets running ones finish for `grace`
  // seconds, then cancels them; returns when the workers have ended.
  void shutdown(double grace_s);

 private:
  void work();
  void run(Task& t);
  void convert_one(Task& t, Document& doc, DocResult& d);
  void arm(Task& t, docling::CancelToken* token, double seconds);
  bool disarm(Task& t, docling::CancelToken* token);
  void watch();
  void finish(Task& t, TaskState st);
  void evict_old();

  const docling::Engine& engine_;
  Settings s_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_, watch_cv_;
  std::deque<std::shared_ptr<Task>> queue_;
  std::map<std::string, std::shared_ptr<Task>> tasks_;
  struct Timer {
    Clock::time_point at;
    docling::CancelToken* token;
    bool fired;
  };
  std::vector<Timer> timers_;
  std::vector<std::thread> workers_;
  std::thread watchdog_;
  bool stopping_ = false, grace_over_ = false, workers_done_ = false;
  double avg_task_s_ = 1.0;
};

std::string new_task_id();  // 32 random hex digits

// Responses (serve_respond.cpp).
std::string response_json(const Task& t);  // one document, inbody
std::string response_zip(Task& t);         // every document's files; drops the documents
std::string response_chunks(const Task& t);  // a chunk task: chunks, documents, processing_time (serve_chunk.cpp)
Json error_items(const std::vector<std::string>& errors);  // docling's ErrorItem list
Json version_json();
std::string openapi_json(const Settings& s);  // serve_openapi.cpp

// The v1 routes, health, version and the schema (serve_http.cpp).
void install_routes(httplib::Server& svr, Scheduler& sched, const Settings& s);

// One JSON line on stderr (access log, engine messages); lines never interleave.
void log_line(const Json& j);
std::string iso_time();

}  // namespace dcli::serve
