// DocTags export, as docling-core's DocTagsDocSerializer / export_to_doctags.
//
// Takes: a Document. Gives: "<doctag>…</doctag>" text.
#pragma once

#include <string>

#include "exporters/common.h"

namespace docling {

struct DocTagsOptions {
  ExportFilter filter;  // all layers, DOCUMENT_TOKENS_EXPORT_LABELS
  int xsize = 500, ysize = 500;
  bool add_location = true;
  bool add_caption = true;
  bool add_content = true;
  bool add_table_cell_location = false;
  bool add_table_cell_text = true;
  bool add_page_break = true;
  bool minified = false;  // no newline between blocks
};

std::string export_doctags(const Document& doc, const DocTagsOptions& opts = {});

}  // namespace docling
