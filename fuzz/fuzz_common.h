// Shared by the harnesses: every exporter over a document, and scratch files for the loaders that
// take a path (each fuzzing process gets its own folder in /dev/shm or $TMPDIR).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.h"
#include "doctags/docling_json.h"
#include "exporters/chunker.h"
#include "exporters/doctags_writer.h"
#include "exporters/html.h"
#include "exporters/markdown.h"
#include "exporters/text.h"

// The harness's entry point: libFuzzer's, or (built into tests/test_fuzz_regressions.cpp, which
// includes every harness) a function of its own per harness, so findings replay through the same code.
#ifdef DOCLING_FUZZ_REGRESSION
#define FUZZ_TARGET(name) int fuzz_##name(const uint8_t* data, size_t size)
#else
#define FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#endif

namespace fuzz {

// Every exporter; `variant` picks option sets so the fuzzer reaches the less common paths too.
inline void export_all(const docling::Document& doc, unsigned variant) {
  using namespace docling;
  MarkdownOptions md;
  if (variant & 1) {
    md.compact_tables = true;
    md.page_break_placeholder = "<!-- page break -->";
    md.image_mode = ImageMode::Embedded;
    md.mark_meta = true;
  }
  export_markdown(doc, md);
  HtmlOptions html;
  html.split_page = variant & 2;
  if (variant & 4) html.image_mode = ImageMode::Embedded;
  export_html(doc, html);
  export_text(doc);
  DocTagsOptions dt;
  dt.minified = variant & 1;
  dt.add_table_cell_location = variant & 2;
  export_doctags(doc, dt);
  // Our JSON must read back: a document the writer makes and the reader refuses is a bug.
  std::string json = write_docling_json(doc);
  try {
    read_docling_json(json);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_docling_json output does not read back: %s\n", e.what());
    std::abort();
  }
  chunk::ChunkerOptions co;
  co.hybrid = false;
  co.table_format = (variant & 4) ? chunk::TableFormat::Html : chunk::TableFormat::Triplets;
  Json doc_json = to_docling_json(doc);
  for (const chunk::Chunk& c : chunk::hierarchical_chunks(doc, co)) chunk::chunk_json(doc_json, c);
  co.per_page = true;
  chunk::page_chunks(doc, co);
}

// This process's scratch folder (removed at exit).
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::filesystem::path d = base / ("docling-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(scratch(), ec); });
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// The parts of `data` between NUL bytes (at most `max` parts; the last one keeps the rest).
inline std::vector<std::string_view> split_nul(std::string_view data, size_t max) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max) {
    size_t z = data.find('\0');
    if (z == std::string_view::npos) break;
    parts.push_back(data.substr(0, z));
    data.remove_prefix(z + 1);
  }
  parts.push_back(data);
  return parts;
}

}  // namespace fuzz
