// Plain-text export, as docling-core's PlainTextDocSerializer: the Markdown walk with
// no escaping, no '#' on headings, no emphasis or link syntax, an empty image
// placeholder and unfenced code; list bullets, numbers and '|' tables stay.
//
// Takes: a Document. Gives: text (no final newline).
#pragma once

#include <string>

#include "exporters/markdown.h"

namespace docling {

struct TextOptions {
  ExportFilter filter = MarkdownOptions::body_filter();
  bool compact_tables = false;
  std::optional<std::string> page_break_placeholder;
};

std::string export_text(const Document& doc, const TextOptions& opts = {});

}  // namespace docling
