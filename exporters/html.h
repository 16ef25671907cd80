// HTML export, as docling-core's HTMLDocSerializer / export_to_html (single-column
// style): the fixed head and stylesheet, then the body items in one <div class='page'>.
//
// Takes: a Document. Gives: a complete HTML document (no final newline).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "exporters/common.h"

namespace docling {

struct HtmlOptions {
  ExportFilter filter = body_filter();
  ImageMode image_mode = ImageMode::Placeholder;
  bool formula_to_mathml = true;
  bool show_original_list_item_marker = true;
  std::optional<std::string> html_head;  // replaces the whole generated <head>
  std::optional<std::string> css;        // replaces the default stylesheet
  bool body_only = false;                // just the items' HTML (no document around it)
  // A layout view (like docling's split-page output): per page, the page image with every
  // item's box and label drawn over it, beside that page's converted content.
  bool split_page = false;

  static ExportFilter body_filter() {
    ExportFilter f;
    f.layers = kBodyLayer;
    return f;
  }
};

std::string export_html(const Document& doc, const HtmlOptions& opts = {});

namespace ser { class DocSerializer; }
// The serializer behind export_html, for callers that render items one by one (the chunkers).
std::unique_ptr<ser::DocSerializer> html_serializer(const Document& doc, HtmlOptions opts);
// "<tbody><tr><th>..</th>..</tr>..</tbody>" ("" for no rows); rich cells rendered by `s`.
std::string html_table_body(ser::DocSerializer& s, const TableData& data);

}  // namespace docling
