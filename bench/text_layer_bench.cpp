// Throughput of the text-layer backend on one core: open each PDF, read every page's
// text layer (Poppler) and build the document. Prints a table and writes a JSON report.
//
//   text_layer_bench [pdf_dir=tests/data/pdfs] [--repeat N=3] [--out report.json]
//
// Links against the docling library only (layout/, doctags/).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layout/pdf.h"
#include "layout/text_backend.h"

using namespace docling;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int main(int argc, char** argv) {
  fs::path dir = "tests/data/pdfs";
  std::string out = "text_layer_bench.json";
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else dir = argv[i];
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".pdf") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "no PDFs in %s\n", dir.c_str());
    return 1;
  }

  nlohmann::ordered_json report;
  report["dir"] = dir.string();
  report["repeat"] = repeat;
  report["documents"] = nlohmann::json::array();
  int total_pages = 0;
  double total_s = 0, total_extract = 0, total_build = 0;
  std::printf("%-28s %5s %9s %9s %9s %8s\n", "document", "pages", "open+read", "build", "total", "pages/s");
  for (const fs::path& f : files) {
    double best = 1e300, best_extract = 0, best_build = 0;
    int pages = 0;
    size_t items = 0;
    for (int r = 0; r < repeat; ++r) {
      try {
        auto t0 = Clock::now();
        auto src = open_source(f.string());
        std::vector<TextPage> tps;
        for (int p = 1; p <= src->page_count(); ++p) tps.push_back(read_text_page(*src, p));
        double extract = seconds_since(t0);
        auto t1 = Clock::now();
        TextBackendResult res = convert_text_pages(std::move(tps), f.stem().string());
        double build = seconds_since(t1);
        pages = src->page_count();
        items = res.doc.texts.size() + res.doc.tables.size();
        if (extract + build < best) best = extract + build, best_extract = extract, best_build = build;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", f.c_str(), e.what());
        break;
      }
    }
    if (pages == 0) continue;
    total_pages += pages;
    total_s += best, total_extract += best_extract, total_build += best_build;
    std::printf("%-28s %5d %8.1fms %8.1fms %8.1fms %8.1f\n", f.filename().c_str(), pages,
                best_extract * 1e3, best_build * 1e3, best * 1e3, pages / best);
    report["documents"].push_back({{"name", f.filename().string()},
                                   {"pages", pages},
                                   {"items", items},
                                   {"extract_s", best_extract},
                                   {"build_s", best_build},
                                   {"total_s", best},
                                   {"pages_per_s", pages / best}});
  }
  report["total_pages"] = total_pages;
  report["extract_s"] = total_extract;
  report["build_s"] = total_build;
  report["total_s"] = total_s;
  report["pages_per_s"] = total_pages / total_s;
  std::printf("%-28s %5d %8.1fms %8.1fms %8.1fms %8.1f\n", "TOTAL", total_pages, total_extract * 1e3,
              total_build * 1e3, total_s * 1e3, total_pages / total_s);
  std::ofstream(out) << report.dump(2) << "\n";
  std::printf("report: %s\n", out.c_str());
  return 0;
}
