// Converts a folder of PDFs to DoclingDocument JSON, several documents at a time:
//
//   ingest IN_DIR OUT_DIR [--model DIR] [--threads N]
//
// All threads share ONE docling::Engine: the model is loaded once, and pages of concurrent
// convert() calls are decoded together (the engine batches the model across callers), so more
// threads give more throughput, not more copies of the model. Prints one line per document.
#include <docling/docling.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  fs::path in, out;
  docling::EngineOptions options = docling::engine_defaults();
  int threads = 4;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) options.model_dir = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::max(1, std::stoi(argv[++i]));
    else if (in.empty()) in = a;
    else if (out.empty()) out = a;
    else in.clear(), i = argc;  // too many arguments: show the usage
  }
  if (in.empty() || out.empty()) {
    std::fprintf(stderr, "usage: ingest IN_DIR OUT_DIR [--model DIR] [--threads N]\n");
    return 2;
  }

  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(in))
    if (e.is_regular_file() && e.path().extension() == ".pdf") files.push_back(e.path());
  std::sort(files.begin(), files.end());

  try {
    const docling::Engine engine(options);  // throws docling::ModelError for a bad model folder
    std::atomic<size_t> next{0};
    std::atomic<int> failed{0};
    std::mutex print;
    auto work = [&] {
      for (size_t i; (i = next++) < files.size();) {
        docling::ConvertResult r = engine.convert(files[i]);  // never throws for a bad document
        fs::path rel = fs::relative(files[i], in);
        if (r.status != docling::Status::Failure) {
          try {
            fs::create_directories(out / rel.parent_path());
            r.document.save(out / rel.parent_path(), rel.stem().string(), {docling::Format::Json});
          } catch (const std::exception& e) {
            r.status = docling::Status::Failure;
            r.errors.push_back({0, e.what()});
          }
        }
        if (r.status == docling::Status::Failure) failed++;
        std::lock_guard<std::mutex> lock(print);
        std::printf("%-9s %3d pages  %5.1f s  %s\n", docling::to_string(r.status), r.pages, r.timings.total_s,
                    rel.string().c_str());
        for (const docling::PageMessage& e : r.errors) std::printf("          %s\n", e.message.c_str());
      }
    };
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; t++) pool.emplace_back(work);
    pool.clear();  // joins
    std::printf("%zu documents, %d failed\n", files.size(), failed.load());
    return failed ? 1 : 0;
  } catch (const docling::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
