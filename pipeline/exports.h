// Export settings and writing a document's outputs (the pipeline benchmark's writer).
//
// Takes: a Document, the formats and the user's export options. Gives: the exported text
// of each format, and the files OUTDIR/<stem>.<ext> written atomically (with the picture
// and page images of --image-mode referenced in OUTDIR/<stem>_artifacts/).
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/document.h"
#include "exporters/common.h"
#include "pipeline/output.h"

namespace docling {

struct ExportSettings {
  ImageMode image_mode = ImageMode::Placeholder;
  std::optional<std::string> page_break_placeholder;
  std::optional<std::set<int>> pages;  // export only these pages
  bool md_compact_tables = false;
  bool doctags_minified = false;
  LabelSet excluded_labels = 0;
};

// The document in one format. Referenced images must already be files (see below).
std::string render(const Document& doc, Format f, const ExportSettings& s);

// For --image-mode referenced: writes every embedded (data: URI) picture and page image
// to `artifacts_dir` as PNG and points the document at it by a path relative to
// `relative_to`. Returns the number of files written.
int externalize_images(Document& doc, const std::filesystem::path& artifacts_dir,
                       const std::filesystem::path& relative_to);

// Writes OUTDIR/<stem>.<ext> for each format (atomic); "-" as out_dir writes to stdout.
// Returns the paths written.
std::vector<std::filesystem::path> write_outputs(const Document& doc, const std::vector<Format>& formats,
                                                 const ExportSettings& s, const std::string& out_dir,
                                                 const std::filesystem::path& stem);

}  // namespace docling
