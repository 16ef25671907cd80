// The whole convert pipeline over many pages: pages/hour end to end through the public
// Engine's convert_all (render → preprocess → encoder → continuous-batching decoder shared by
// every document in flight → parse → export → write),
// and resident memory sampled after every document, to show it stays flat over a long run.
//
//   bench_pipeline_bench [--model DIR] [--pages N] [--tokens N] [--batch N] [--threads N]
//                        [--in-flight N] [--pipeline vlm|text|auto] [--no-speculate]
//                        [--pdf FILE --page P] [--out FILE.json]
//
// Inputs: the PDFs in samples/ and tests/data/pdfs, repeated (as separate documents) until
// N pages are queued; with --pdf, page P of FILE as N one-page documents (a fixed page, for
// seconds per page in steady state). Default model: the oracle's tiny checkpoint, so a
// 1000-page soak runs in minutes; pass the full-size random checkpoint (bench/README.md) for
// real costs. Reports wall time, pages/hour, CPU utilization and RSS.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "bench/bench_env.h"  // env_engine_options (the library reads no env)
#include "docling/docling.hpp"
#include "layout/pdf.h"

using namespace docling;
namespace fs = std::filesystem;

namespace {

// The same settings as public engine options (what a program linking the API sets).
EngineOptions env_engine_options() {
  EngineOptions e = engine_defaults();
  kernels::KernelSettings k = env_kernel_settings();
  e.max_isa = k.max_isa == kernels::Isa::Scalar ? Isa::Scalar : k.max_isa == kernels::Isa::Avx2 ? Isa::Avx2 : Isa::Best;
  e.int8_activations = k.int8_activations;
  e.bf16_dot = k.bf16_dot;
  vision::LoadOptions l = env_load_options();
  e.weights = l.weights == vision::WeightType::INT8 ? Weights::Int8 : Weights::Bf16;
  e.kv_cache = l.kv == vision::KvType::F32 ? KvCache::F32 : KvCache::F16;
  e.screen_head = l.screen_head;
  return e;
}

double rss_mb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  size_t n = std::strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, n, key) == 0) return std::atof(line.c_str() + n) / 1024.0;
  return 0;
}

std::string arg(int argc, char** argv, const char* name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == name) return argv[i + 1];
  return def;
}
double cpu_seconds() {  // user + system time of the process
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

bool flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == name) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path root = fs::path(DOCLING_TEST_DATA).parent_path().parent_path();
  std::string model_dir = arg(argc, argv, "--model", (fs::path(DOCLING_TEST_DATA) / "oracle/tiny-idefics3").string());
  int want_pages = std::atoi(arg(argc, argv, "--pages", "200").c_str());
  int tokens = std::atoi(arg(argc, argv, "--tokens", "16").c_str());
  std::string out_json = arg(argc, argv, "--out", "");
  const std::string one_pdf = arg(argc, argv, "--pdf", "");
  const int one_page = std::atoi(arg(argc, argv, "--page", "1").c_str());
  const std::string pipeline = arg(argc, argv, "--pipeline", "vlm");

  ConvertOptions opt = convert_defaults();
  opt.pipeline = pipeline == "text" ? Pipeline::Text : pipeline == "auto" ? Pipeline::Auto : Pipeline::Vlm;
  opt.max_new_tokens = tokens;
  opt.loop_guard = false;
  opt.speculate = !flag(argc, argv, "--no-speculate");
  EngineOptions eo = env_engine_options();
  eo.batch_size = std::atoi(arg(argc, argv, "--batch", "4").c_str());
  eo.threads = std::atoi(arg(argc, argv, "--threads", "0").c_str());
  eo.pages_in_flight = std::atoi(arg(argc, argv, "--in-flight", "8").c_str());
  eo.max_new_tokens = std::max(tokens, 1);
  if (opt.pipeline != Pipeline::Text) eo.model_dir = model_dir;

  // The document list: every sample and test PDF, repeated until enough pages.
  std::vector<std::pair<fs::path, int>> pool;
  for (const fs::path& dir : {root / "samples", fs::path(DOCLING_TEST_DATA) / "pdfs"})
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".pdf") pool.push_back({e.path(), open_source(e.path().string())->page_count()});
  std::sort(pool.begin(), pool.end());
  std::vector<Input> inputs;
  int pages = 0;
  if (!one_pdf.empty()) {  // one page, repeated as separate documents
    pool.assign(1, {fs::path(one_pdf), 1});
    opt.pages = std::to_string(one_page);
  }
  for (size_t i = 0; pages < want_pages; ++i) {
    inputs.push_back({pool[i % pool.size()].first, {}});
    pages += pool[i % pool.size()].second;
  }
  fs::path out_dir = fs::temp_directory_path() / ("docling_pipeline_bench_" + std::to_string(::getpid()));

  auto t = std::chrono::steady_clock::now();
  Engine engine(eo);
  double t_load = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  std::printf("pipeline bench: %zu documents, %d pages, model %s, %d tokens/page, batch %d, %d pages in flight\n",
              inputs.size(), pages, engine.has_model() ? model_dir.c_str() : "(none)", tokens, eo.batch_size,
              eo.pages_in_flight);

  std::vector<double> rss;  // VmRSS after each document
  int done_pages = 0, failed = 0;
  int64_t generated = 0;
  std::vector<Format> formats = {Format::Markdown, Format::Json};
  auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  engine.convert_all(inputs, opt, BatchOptions{}, [&](size_t i, ConvertResult& r) {
    if (r.status == Status::Failure) ++failed;
    else r.document.save(out_dir / ("d" + std::to_string(i)), inputs[i].path.stem().string(), formats);
    done_pages += r.pages;
    generated += r.generated_tokens;
    rss.push_back(rss_mb("VmRSS:"));
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const int threads = eo.threads > 0 ? eo.threads : int(std::thread::hardware_concurrency());
  fs::remove_all(out_dir);

  // Flatness: mean RSS over the second tenth of the run vs the last tenth.
  size_t n = rss.size(), tenth = std::max<size_t>(1, n / 10);
  auto mean = [&](size_t a, size_t b) {
    double s = 0;
    for (size_t i = a; i < b; ++i) s += rss[i];
    return b > a ? s / double(b - a) : 0.0;
  };
  double early = mean(std::min(tenth, n - 1), std::min(2 * tenth, n)), late = mean(n - tenth, n);
  double hwm = rss_mb("VmHWM:");
  std::printf("  %d pages in %.1f s: %.0f pages/hour (%d failed documents); model load %.2f s\n", done_pages, secs,
              done_pages * 3600.0 / secs, failed, t_load);
  std::printf("  %lld tokens generated (%.1f per page)\n", (long long)generated, double(generated) / std::max(done_pages, 1));
  std::printf("  %.2f s per page; CPU %.1f s = %.0f%% of %d threads\n", secs / std::max(done_pages, 1), cpu,
              100.0 * cpu / (secs * threads), threads);
  std::printf("  RSS after 10-20%% of documents %.0f MB, last 10%% %.0f MB (growth %.1f%%), peak %.0f MB\n", early,
              late, early > 0 ? (late / early - 1) * 100 : 0.0, hwm);
  if (!out_json.empty()) {
    nlohmann::ordered_json j;
    j["documents"] = inputs.size();
    j["pages"] = done_pages;
    j["failed_documents"] = failed;
    j["model"] = model_dir;
    j["tokens_per_page"] = tokens;
    j["batch"] = eo.batch_size;
    j["max_pages_in_flight"] = eo.pages_in_flight;
    if (!one_pdf.empty()) j["pdf"] = one_pdf, j["page"] = one_page;
    j["speculate"] = opt.speculate;
    j["threads"] = threads;
    j["seconds_per_page"] = secs / std::max(done_pages, 1);
    j["cpu_seconds"] = cpu;
    j["generated_tokens"] = generated;
    j["thread_utilization"] = cpu / (secs * threads);
    j["seconds"] = secs;
    j["pages_per_hour"] = done_pages * 3600.0 / secs;
    j["rss_mb_early"] = early;
    j["rss_mb_late"] = late;
    j["rss_growth_percent"] = early > 0 ? (late / early - 1) * 100 : 0.0;
    j["peak_rss_mb"] = hwm;
    std::ofstream(out_json) << j.dump(2) << "\n";
  }
  return failed ? 1 : 0;
}
