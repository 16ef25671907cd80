// Markdown export, as docling-core's MarkdownDocSerializer / export_to_markdown.
//
// Takes: a Document. Gives: Markdown text (no final newline, like upstream).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "exporters/common.h"

namespace docling {

struct MarkdownOptions {
  ExportFilter filter = body_filter();
  ImageMode image_mode = ImageMode::Placeholder;
  std::string image_placeholder = "<!-- image -->";
  int indent = 4;                                     // spaces per nested list level
  std::optional<std::string> page_break_placeholder;  // e.g. "<!-- page break -->"
  bool escape_underscores = true;
  bool escape_html = true;
  bool compact_tables = false;     // "| a | b |" rows, "| - |" separator, no padding
  bool mark_meta = false;          // "[Description] ..." instead of bare meta text
  bool format_code_blocks = true;  // ``` fences / `inline`
  bool plain_text = false;         // export_text: no '#', no emphasis or link syntax

  static ExportFilter body_filter() {
    ExportFilter f;
    f.layers = kBodyLayer;
    return f;
  }
};

std::string export_markdown(const Document& doc, const MarkdownOptions& opts = {});

namespace ser { class DocSerializer; }
// The serializer behind export_markdown, for callers that render items one by one (the chunkers).
std::unique_ptr<ser::DocSerializer> markdown_serializer(const Document& doc, MarkdownOptions opts);

// A table's Markdown exactly as TableItem.export_to_markdown gives it (github layout).
std::string table_markdown(const Document& doc, const TableData& data);

}  // namespace docling
