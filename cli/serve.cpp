// docling-cpp serve: a docling-serve v1 compatible HTTP service on one shared Engine.
// The API follows docling-serve 1.x, checked against v1.22.0 (v1 paths; request and response shapes from its
// docs/usage.md, datamodel and docling-jobkit's result models). The routes are in
// serve_http.cpp, options in serve_options.cpp, the queue in serve_tasks.cpp, answers in
// serve_respond.cpp, the schema in serve_openapi.cpp.
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "serve.hpp"

namespace dcli {

namespace {

struct Flags {
  std::string host = "127.0.0.1", port = "5001", api_key, max_queue = "64", max_file_mb = "100", max_request_mb,
              max_inflated_mb, workers, pipeline, max_new_tokens, document_timeout = "0", grace = "30", chunk_tokenizer;
  std::vector<std::string> chunk_tokenizer_dirs;
  EngineFlags engine;
};

void add_flags(CLI::App& app, Flags& f) {
  setup_app(app, "usage: docling-cpp serve [--host H] [--port N] [--api-key KEY] [--max-queue N] [--max-file-mb N] [options]",
            "A docling-serve v1 compatible HTTP service (POST /v1/convert/file, /v1/convert/source and\n"
            "their /async forms, /v1/chunk/{hybrid,hierarchical}/{file,source}[/async],\n"
            "GET /v1/status/poll/{id}, /v1/result/{id}, /health, /metrics, /version,\n"
            "/openapi.json). One engine serves every request; concurrent requests share the model's\n"
            "decoder steps. Logs one JSON line per request on stderr. SIGTERM or SIGINT: stops taking\n"
            "requests, fails queued tasks, lets running ones finish (--shutdown-grace), then exits.");
  app.add_option("--host", f.host, "address to listen on (default: 127.0.0.1)")->type_name("ADDR");
  app.add_option("--port", f.port, "port (default: 5001; 0 picks a free one, printed on stderr)")->type_name("N");
  app.add_option("--api-key", f.api_key, "requests to /v1/ must carry this X-Api-Key header")->type_name("KEY");
  app.add_option("--max-queue", f.max_queue, "tasks waiting to start; past that 503 + Retry-After (default: 64)")
      ->type_name("N");
  app.add_option("--max-file-mb", f.max_file_mb, "largest document, MiB (default: 100); larger: 413")->type_name("N");
  app.add_option("--max-inflated-mb", f.max_inflated_mb,
                 "a PDF stream inflating past this many MiB refuses the document as a\n"
                 "decompression bomb (default: 512; 0: no check)")
      ->type_name("N");
  app.add_option("--max-request-mb", f.max_request_mb, "largest request body, MiB (default: 4 x --max-file-mb + 1)")
      ->type_name("N");
  app.add_option("--workers", f.workers, "documents converted at once (default: cores; with a model\nat least 2 x --batch)")
      ->type_name("N");
  app.add_option("--document-timeout", f.document_timeout,
                 "seconds per document, 0 = none (default); caps a request's\ndocument_timeout")
      ->type_name("S");
  app.add_option("--shutdown-grace", f.grace, "seconds running tasks may take after SIGTERM (default: 30)")
      ->type_name("S");
  app.add_option("--pipeline", f.pipeline,
                 "what docling-serve's 'standard' pipeline means here: vlm, text or auto\n"
                 "(default: vlm with a model, else auto)")
      ->type_name("KIND");
  add_engine_flags(app, f.engine, true);
  app.add_option("--max-new-tokens", f.max_new_tokens, "token limit per page (default: 8192)")->type_name("N");
  app.add_option("--chunk-tokenizer", f.chunk_tokenizer,
                 "tokenizer folder for /v1/chunk/hybrid when a request names none, or names\n"
                 "docling's default sentence-transformers/all-MiniLM-L6-v2 (default:\n"
                 "$DOCLING_CHUNK_TOKENIZER, else that model in the Hugging Face cache)")
      ->type_name("PATH");
  app.add_option("--chunk-tokenizer-dir", f.chunk_tokenizer_dirs,
                 "where a request's chunking_tokenizer ORG/NAME is looked for: DIR/ORG/NAME,\n"
                 "DIR/NAME, DIR/models--ORG--NAME (repeatable; the Hugging Face cache too)")
      ->type_name("DIR");
  app.footer(kEnvironmentHelp);
}

double seconds_flag(const char* name, const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(d >= 0) || d > 1e7)
    throw UsageError(std::string("--") + name + " wants a number of seconds, got '" + escape(v) + "'");
  return d;
}

// The default chunk tokenizer (found as convert's --chunk-tokenizer is, and checked), the
// folders that names are looked up in, and the Hugging Face caches.
void chunk_settings(const Flags& f, serve::Settings& s) {
  ChunkFlags cf;
  cf.tokenizer = f.chunk_tokenizer;
  s.chunk_tokenizer = chunk_options(cf).tokenizer;
  std::error_code ec;
  for (const std::string& d : f.chunk_tokenizer_dirs) {
    if (!std::filesystem::is_directory(d, ec)) throw UsageError("--chunk-tokenizer-dir: '" + escape(d) + "' is not a folder");
    s.chunk_tokenizer_dirs.push_back(d);
  }
  for (const std::filesystem::path& hub : hf_hub_caches()) s.hf_hubs.push_back(hub.string());
}

serve::Settings settings(const Flags& f, const docling::Engine& engine, docling::Pipeline standard) {
  serve::Settings s;
  s.host = f.host;
  s.port = int(whole_number("port", f.port, 0, 65535));
  s.api_key = f.api_key;
  s.max_queue = int(whole_number("max-queue", f.max_queue, 0, 100000));
  long file_mb = whole_number("max-file-mb", f.max_file_mb, 1, 1 << 20);
  s.max_file_bytes = uint64_t(file_mb) << 20;
  long req_mb = f.max_request_mb.empty() ? 4 * file_mb + 1 : whole_number("max-request-mb", f.max_request_mb, 1, 1 << 22);
  s.max_request_bytes = uint64_t(req_mb) << 20;
  if (!f.max_inflated_mb.empty())
    s.max_inflated_bytes = uint64_t(whole_number("max-inflated-mb", f.max_inflated_mb, 0, 1 << 20)) << 20;
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  int dflt = engine.has_model() ? std::max(cores, 2 * engine.options().batch_size) : cores;
  s.workers = f.workers.empty() ? dflt : int(whole_number("workers", f.workers, 1, 1024));
  s.document_timeout_s = seconds_flag("document-timeout", f.document_timeout);
  s.shutdown_grace_s = seconds_flag("shutdown-grace", f.grace);
  s.standard_pipeline = standard;
  s.max_new_tokens = engine.options().max_new_tokens;
  s.has_model = engine.has_model();
  chunk_settings(f, s);
  return s;
}

docling::EngineOptions engine_setup(const Flags& f) {
  docling::EngineOptions eo = engine_options(f.engine);
  if (!f.max_new_tokens.empty())  // the engine's bound and every request's limit
    eo.max_new_tokens = int(whole_number("max-new-tokens", f.max_new_tokens, 1, 131072));
  else
    eo.max_new_tokens = std::max(eo.max_new_tokens, docling::convert_defaults().max_new_tokens);
  eo.log = [](docling::LogLevel level, const std::string& msg) {
    static const char* names[] = {"debug", "info", "warning", "error"};
    if (level != docling::LogLevel::Debug)
      serve::log_line({{"time", serve::iso_time()}, {"level", names[int(level)]}, {"message", msg}});
  };
  return eo;
}

// Serves until SIGINT/SIGTERM (or the listener fails), then shuts down in order.
int run(httplib::Server& svr, serve::Scheduler& sched, const serve::Settings& s) {
  docling::CancelToken stop;
  SignalScope signals(stop);
  std::atomic<bool> ended{false};
  std::thread listener([&] {
    svr.listen_after_bind();
    ended = true;
  });
  while (!stop.cancelled() && !ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  serve::log_line({{"time", serve::iso_time()}, {"event", "shutdown"}, {"queued_tasks_failed", sched.queued()},
                   {"grace_s", s.shutdown_grace_s}});
  sched.shutdown(s.shutdown_grace_s);  // waiting requests get their answers
  svr.stop();
  listener.join();
  serve::log_line({{"time", serve::iso_time()}, {"event", "stopped"}});
  return kExitOk;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  CLI::App app;
  Flags f;
  add_flags(app, f);
  if (int code = parse(app, argc, argv); code >= 0) return code;
  std::unique_ptr<docling::Engine> engine;
  serve::Settings s;
  try {
    docling::Pipeline standard;
    // A model that does not load ends the server: it would serve text-layer pages for vlm requests.
    engine = open_engine(f.pipeline, f.engine, engine_setup(f), false, true, "Serving from the text layer only.", standard);
    s = settings(f, *engine, standard);
  } catch (const UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const docling::Error& e) {
    print_error(escape(e.what()));
    return kExitUsage;
  }
  httplib::Server svr;
  size_t threads = size_t(s.workers + s.max_queue + 16);  // waiting requests + status and health calls
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  serve::Scheduler sched(*engine, s);
  serve::install_routes(svr, sched, s);
  int port = s.port == 0 ? svr.bind_to_any_port(s.host) : (svr.bind_to_port(s.host, s.port) ? s.port : -1);
  if (port < 0) {
    print_error("cannot listen on " + escape(s.host) + ":" + std::to_string(s.port));
    return kExitUsage;
  }
  serve::log_line({{"time", serve::iso_time()}, {"event", "listening"}, {"host", s.host}, {"port", port},
                   {"workers", s.workers}, {"max_queue", s.max_queue}, {"model", engine->has_model()},
                   {"api_key", !s.api_key.empty()}, {"chunk_tokenizer", s.chunk_tokenizer},
                   {"docling-cpp", docling::version()}});
  return run(svr, sched, s);
}

}  // namespace dcli
