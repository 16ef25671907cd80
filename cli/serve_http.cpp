// docling-cpp serve: the HTTP routes (docling-serve's v1 paths), the API key, size limits
// and the access log.
//
// cpp-httplib (Debian's libcpp-httplib-dev): small, a threaded server with keep-alive, a
// payload limit answered 413, and multipart parsing built in; packaged by Debian, so
// no vendored HTTP code. Each connection has a thread from its pool, so the pool is sized
// for every request that may wait on a conversion plus room for status and health calls.
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "cli.hpp"
#include "serve.hpp"

namespace dcli::serve {

namespace {

thread_local Clock::time_point t_request_start;
thread_local std::string t_task_id;

void send_json(httplib::Response& res, int status, const Json& j) {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const Json& detail) { send_json(res, status, {{"detail", detail}}); }

// Constant time, so the key cannot be guessed byte by byte from response times.
bool same_key(const std::string& a, const std::string& b) {
  unsigned diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i) diff |= unsigned(a[i] ^ b[i % (b.size() ? b.size() : 1)]);
  return diff == 0;
}

struct Api {
  Scheduler& sched;
  const Settings& s;

  bool authorized(const httplib::Request& req, httplib::Response& res) const {
    if (s.api_key.empty() || same_key(req.get_header_value("X-Api-Key"), s.api_key)) return true;
    send_error(res, 401, "missing or wrong X-Api-Key header");
    return false;
  }

  // The uploads of a multipart request into the task; its other fields into `fields`.
  void read_form(const httplib::Request& req, Task& task, std::vector<std::pair<std::string, std::string>>& fields) const {
    if (!req.is_multipart_form_data()) throw invalid("", "files", "expected a multipart/form-data body with files");
    Task* t = &task;
    for (const auto& [name, part] : req.files) {
      if (name != "files") {
        fields.emplace_back(name, part.content);
        continue;
      }
      if (part.content.size() > s.max_file_bytes)
        throw HttpError(413, "'" + escape(part.filename) + "' is larger than the server's limit of " +
                                 std::to_string(s.max_file_bytes >> 20) + " MiB (--max-file-mb)");
      std::string name_of = part.filename.empty() ? "file" + std::to_string(t->docs.size()) + ".pdf" : part.filename;
      t->docs.push_back({name_of, part.content});
    }
    if (t->docs.empty()) throw invalid("", "files", "no file uploaded (field 'files')");
  }

  static Json json_body(const httplib::Request& req) {
    try {
      return Json::parse(req.body);
    } catch (const Json::exception& e) {
      throw HttpError(422, Json::array({{{"type", "json_invalid"}, {"loc", {"body"}}, {"msg", e.what()}}}));
    }
  }

  std::shared_ptr<Task> from_form(const httplib::Request& req) const {
    auto t = std::make_shared<Task>();
    std::vector<std::pair<std::string, std::string>> fields;
    read_form(req, *t, fields);
    t->options = options_from_form(fields, s);
    return t;
  }

  std::shared_ptr<Task> from_source(const httplib::Request& req) const {
    auto t = std::make_shared<Task>();
    t->options = options_from_source(json_body(req), s, t->docs);
    return t;
  }

  template <docling::Chunker C>
  std::shared_ptr<Task> chunk_form(const httplib::Request& req) const {
    auto t = std::make_shared<Task>();
    std::vector<std::pair<std::string, std::string>> fields;
    read_form(req, *t, fields);
    t->options = chunk_options_from_form(fields, s, C);
    return t;
  }

  template <docling::Chunker C>
  std::shared_ptr<Task> chunk_source(const httplib::Request& req) const {
    auto t = std::make_shared<Task>();
    t->options = chunk_options_from_source(json_body(req), s, t->docs, C);
    return t;
  }

  // Queues the task; false (and a 503 with Retry-After) when the queue is full.
  bool enqueue(const std::shared_ptr<Task>& t, httplib::Response& res) const {
    t->id = new_task_id();
    t_task_id = t->id;
    if (sched.submit(t)) return true;
    res.set_header("Retry-After", std::to_string(int(sched.retry_after_s() + 0.5)));
    send_error(res, 503, "the conversion queue is full (" + std::to_string(s.max_queue) +
                             " tasks waiting; --max-queue); retry later");
    return false;
  }

  void answer(const Task& t, httplib::Response& res) const {
    if (t.state == TaskState::Failure) {
      send_error(res, 503, t.error_message);
      return;
    }
    res.status = 200;
    if (t.content_type == "application/zip")
      res.set_header("Content-Disposition", "attachment; filename=\"converted_docs.zip\"");
    res.set_content(t.body, t.content_type.c_str());
  }

  template <class Read>
  void convert(const httplib::Request& req, httplib::Response& res, Read read, bool async) const {
    if (!authorized(req, res)) return;
    try {
      std::shared_ptr<Task> t = (this->*read)(req);
      if (!enqueue(t, res)) return;
      if (async) {
        send_json(res, 200, sched.status_json(*t));
        return;
      }
      sched.wait(t, -1);
      answer(*t, res);
      sched.forget(t->id);  // only async results are kept for /v1/result
    } catch (const HttpError& e) {
      send_error(res, e.status, e.detail);
    }
  }

  void poll(const httplib::Request& req, httplib::Response& res) const {
    if (!authorized(req, res)) return;
    std::shared_ptr<Task> t = sched.find(req.matches[1]);
    if (!t) return send_error(res, 404, "Task not found.");
    t_task_id = t->id;
    double wait = 0;
    if (req.has_param("wait")) wait = std::clamp(std::atof(req.get_param_value("wait").c_str()), 0.0, 3600.0);
    if (wait > 0) sched.wait(t, wait);
    send_json(res, 200, sched.status_json(*t));
  }

  void result(const httplib::Request& req, httplib::Response& res) const {
    if (!authorized(req, res)) return;
    std::shared_ptr<Task> t = sched.find(req.matches[1]);
    if (!t) return send_error(res, 404, "Task not found.");
    t_task_id = t->id;
    if (!sched.wait(t, 0)) return send_error(res, 404, "Task result not found. Please wait for a completion status.");
    answer(*t, res);
  }
};

void access_log(const httplib::Request& req, const httplib::Response& res) {
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t_request_start).count();
  Json j = {{"time", iso_time()},    {"remote", req.remote_addr}, {"method", req.method},
            {"path", req.path},      {"status", res.status},      {"bytes_in", std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10)},
            {"bytes_out", res.body.size()}, {"ms", std::round(ms * 10) / 10}};
  if (!t_task_id.empty()) j["task_id"] = t_task_id;
  log_line(j);
}

// The engine's counters (docling::EngineStats): decoder steps shared by requests show here.
Json engine_stats(const docling::Engine& e) {
  docling::EngineStats st = e.stats();
  return {{"model", e.has_model()},
          {"decoder_steps", st.decoder_steps},
          {"decoded_tokens", st.decoded_tokens},
          {"decoder_rows", st.decoder_rows},
          {"pages_encoded", st.pages_encoded},
          {"shared_steps", st.shared_steps},
          {"max_rows_in_a_step", st.max_rows_in_a_step},
          {"max_pages_in_a_step", st.max_pages_in_a_step},
          {"max_conversions_in_a_step", st.max_conversions_in_a_step}};
}

// The same in Prometheus' text format, with the queue.
std::string metrics_text(Scheduler& sched) {
  std::string out;
  auto add = [&out](const char* name, const char* type, const char* help, const Json& v) {
    out += std::string("# HELP docling_cpp_") + name + " " + help + "\n# TYPE docling_cpp_" + name + " " + type +
           "\ndocling_cpp_" + name + " " + v.dump() + "\n";
  };
  Json e = engine_stats(sched.engine());
  add("queued_tasks", "gauge", "tasks waiting for a worker", sched.queued());
  add("decoder_steps_total", "counter", "decoder forwards", e["decoder_steps"]);
  add("decoded_tokens_total", "counter", "tokens generated", e["decoded_tokens"]);
  add("decoder_rows_total", "counter", "rows through the decoder (decode, draft, prefill)", e["decoder_rows"]);
  add("pages_encoded_total", "counter", "page images through the vision encoder", e["pages_encoded"]);
  add("shared_steps_total", "counter", "decoder steps serving pages of two or more conversions", e["shared_steps"]);
  add("max_rows_in_a_step", "gauge", "most rows in one decoder step", e["max_rows_in_a_step"]);
  add("max_pages_in_a_step", "gauge", "most pages given a token by one step", e["max_pages_in_a_step"]);
  add("max_conversions_in_a_step", "gauge", "most conversions served by one step", e["max_conversions_in_a_step"]);
  return out;
}

}  // namespace

void install_routes(httplib::Server& svr, Scheduler& sched, const Settings& s) {
  svr.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    t_request_start = Clock::now();
    t_task_id.clear();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_logger(access_log);
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) send_error(res, 413, "the request body is larger than the server's limit (--max-file-mb)");
    else if (res.status == 404) send_error(res, 404, "Not Found");
    else send_error(res, res.status, "HTTP error " + std::to_string(res.status));
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, 500, what);
  });
  svr.set_payload_max_length(s.max_request_bytes);

  // docling-serve answers {"status": "ok"}; the rest is docling-cpp's (clients ignore it).
  svr.Get("/health", [&sched](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "ok"}, {"queued", sched.queued()}, {"engine", engine_stats(sched.engine())}});
  });
  svr.Get("/metrics", [&sched](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(sched), "text/plain; version=0.0.4");
  });
  svr.Get("/version", [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, version_json()); });
  svr.Get("/openapi.json", [&s](const httplib::Request&, httplib::Response& res) {
    res.set_content(openapi_json(s), "application/json");
  });
  auto a = std::make_shared<Api>(Api{sched, s});  // the handlers own it
  svr.Post("/v1/convert/file", [a](const auto& q, auto& r) { a->convert(q, r, &Api::from_form, false); });
  svr.Post("/v1/convert/file/async", [a](const auto& q, auto& r) { a->convert(q, r, &Api::from_form, true); });
  svr.Post("/v1/convert/source", [a](const auto& q, auto& r) { a->convert(q, r, &Api::from_source, false); });
  svr.Post("/v1/convert/source/async", [a](const auto& q, auto& r) { a->convert(q, r, &Api::from_source, true); });
  using docling::Chunker;
  svr.Post("/v1/chunk/hybrid/file", [a](const auto& q, auto& r) { a->convert(q, r, &Api::chunk_form<Chunker::Hybrid>, false); });
  svr.Post("/v1/chunk/hybrid/file/async", [a](const auto& q, auto& r) { a->convert(q, r, &Api::chunk_form<Chunker::Hybrid>, true); });
  svr.Post("/v1/chunk/hybrid/source", [a](const auto& q, auto& r) { a->convert(q, r, &Api::chunk_source<Chunker::Hybrid>, false); });
  svr.Post("/v1/chunk/hybrid/source/async", [a](const auto& q, auto& r) { a->convert(q, r, &Api::chunk_source<Chunker::Hybrid>, true); });
  svr.Post("/v1/chunk/hierarchical/file", [a](const auto& q, auto& r) { a->convert(q, r, &Api::chunk_form<Chunker::Hierarchical>, false); });
  svr.Post("/v1/chunk/hierarchical/file/async", [a](const auto& q, auto& r) { a->convert(q, r, &Api::chunk_form<Chunker::Hierarchical>, true); });
  svr.Post("/v1/chunk/hierarchical/source", [a](const auto& q, auto& r) { a->convert(q, r, &Api::chunk_source<Chunker::Hierarchical>, false); });
  svr.Post("/v1/chunk/hierarchical/source/async", [a](const auto& q, auto& r) { a->convert(q, r, &Api::chunk_source<Chunker::Hierarchical>, true); });
  svr.Get(R"(/v1/status/poll/([0-9A-Za-z_-]+))", [a](const auto& q, auto& r) { a->poll(q, r); });
  svr.Get(R"(/v1/result/([0-9A-Za-z_-]+))", [a](const auto& q, auto& r) { a->result(q, r); });
}

}  // namespace dcli::serve
