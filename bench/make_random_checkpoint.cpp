// Writes a full-size granite-docling-258M look-alike with random BF16 weights (real tensor
// names and shapes) for benchmarks and accuracy experiments (e.g. int8 vs bf16 logits).
//
//   bench_make_random_checkpoint OUT_DIR [--template DIR] [--seed N] [--force]
//
// The template folder supplies config.json, tokenizer and processor files (default: the
// published granite-docling-258M files in tests/data/models). Reuses OUT_DIR when complete.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "bench/random_checkpoint.h"

int main(int argc, char** argv) {
  std::string out, tmpl = DOCLING_TEST_DATA "/models/granite-docling-258M";
  uint64_t seed = 1234;
  bool force = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--template") && i + 1 < argc) tmpl = argv[++i];
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--force")) force = true;
    else if (argv[i][0] != '-' && out.empty()) out = argv[i];
    else {
      std::fprintf(stderr, "usage: %s OUT_DIR [--template DIR] [--seed N] [--force]\n", argv[0]);
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "usage: %s OUT_DIR [--template DIR] [--seed N] [--force]\n", argv[0]);
    return 2;
  }
  try {
    if (force) std::filesystem::remove(std::filesystem::path(out) / "bench-random.json");
    bool made = docling::bench::ensure_random_checkpoint(out, tmpl, seed);
    std::printf("%s: %s\n", out.c_str(), made ? "generated" : "already complete");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
