// Pages per second of convert_text_layer (layout/text_backend.h) with and without the picture /
// scan pass (a 36 dpi rendering per page, layout/page_ink.h) and the ruled-table pass (a 72 dpi
// rendering of pages with signs of a table, find_rule_lines), on one core.
//   ink_cost DIR [--repeat N]
// Built by hand against the library of a build folder, e.g.
//   g++ -std=c++20 -O3 -DNDEBUG -I. bench/text_eval/ink_cost.cpp -o ink_cost build/libdocling.a
//       -ltbb -lpng -lz -ljpeg -lpoppler-cpp
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "layout/pdf.h"
#include "layout/text_backend.h"

using namespace docling;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int repeat = 3;
  for (int i = 2; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[1]))
    if (e.path().extension() == ".pdf") files.push_back(e.path());
  for (int pass = 0; pass < 3; ++pass) {
    TextBackendOptions opt;
    opt.pictures = pass >= 1;
    opt.table_rules = pass == 2;
    double best = 1e300;
    int pages = 0;
    for (int r = 0; r < repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      pages = 0;
      for (const fs::path& f : files) {
        auto src = open_source(f.string());
        pages += src->page_count();
        TextBackendResult res = convert_text_layer(*src, {}, opt);
      }
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const char* name[] = {"text layer only", "with pictures (36 dpi)", "with ruled tables (72)"};
    std::printf("%-22s %4d pages %8.1f ms %7.1f pages/s\n", name[pass], pages, 1e3 * best, pages / best);
  }
  return 0;
}
