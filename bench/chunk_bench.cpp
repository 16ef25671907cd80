// Chunking speed: the DoclingDocument JSONs of tests/data/conformance (docling-core's own
// documents) through the hierarchical chunker and the hybrid chunker (all-MiniLM-L6-v2
// WordPiece, budgets 64 and 256), repeated for a fixed time. Prints chunks/s and documents/s
// per setting and the CPU; --out FILE writes the same as JSON.
//
//   bench_chunk_bench [--seconds S] [--out FILE]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "doctags/docling_json.h"
#include "exporters/chunk_tokenizer.h"
#include "exporters/chunker.h"

namespace fs = std::filesystem;
using namespace docling;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::vector<Document> documents() {
  std::vector<Document> docs;
  const fs::path root = fs::path(DOCLING_TEST_DATA) / "conformance";
  std::vector<fs::path> inputs;
  for (const auto& dir : {root, root / "chunks"})
    for (const auto& e : fs::directory_iterator(dir))
      if (fs::exists(e.path() / "input.json")) inputs.push_back(e.path() / "input.json");
  std::sort(inputs.begin(), inputs.end());
  for (const fs::path& p : inputs) docs.push_back(read_docling_json(slurp(p)));
  return docs;
}

struct Run {
  std::string name;
  double seconds = 0;
  long documents = 0, chunks = 0;
};

Run measure(const std::string& name, const std::vector<Document>& docs, const chunk::ChunkerOptions& o,
            const chunk::TokenCounter* tc, double budget_s) {
  Run r{name};
  auto t0 = std::chrono::steady_clock::now();
  do {
    for (const Document& d : docs) {
      r.chunks += long(chunk::make_chunks(d, o, tc).size());
      ++r.documents;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (r.seconds < budget_s);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--out FILE]\n", argv[0]);
      return 2;
    }
  }
  std::vector<Document> docs = documents();
  auto tc = chunk::load_tokenizer(std::string(DOCLING_TEST_DATA) + "/conformance/chunks/tokenizers/all-MiniLM-L6-v2");
  std::vector<Run> runs;
  chunk::ChunkerOptions hier;
  hier.hybrid = false;
  runs.push_back(measure("hierarchical", docs, hier, nullptr, seconds));
  for (size_t budget : {64, 256}) {
    chunk::ChunkerOptions h;
    h.max_tokens = budget;
    runs.push_back(measure("hybrid_" + std::to_string(budget), docs, h, tc.get(), seconds));
  }
  std::string cpu = cpu_model();
  std::printf("chunking, %zu documents (tests/data/conformance), one thread, %s\n", docs.size(), cpu.c_str());
  nlohmann::json j = {{"cpu", cpu}, {"documents", docs.size()}, {"runs", nlohmann::json::array()}};
  for (const Run& r : runs) {
    double cps = r.chunks / r.seconds, dps = r.documents / r.seconds;
    std::printf("  %-14s %9.0f chunks/s  %7.1f documents/s\n", r.name.c_str(), cps, dps);
    j["runs"].push_back({{"chunker", r.name}, {"chunks_per_s", cps}, {"documents_per_s", dps}});
  }
  if (!out.empty()) std::ofstream(out) << j.dump(2) << "\n";
  return 0;
}
