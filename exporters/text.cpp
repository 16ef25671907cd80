#include "exporters/text.h"

namespace docling {

std::string export_text(const Document& doc, const TextOptions& opts) {
  MarkdownOptions md;
  md.filter = opts.filter;
  md.compact_tables = opts.compact_tables;
  md.page_break_placeholder = opts.page_break_placeholder;
  md.escape_underscores = false;
  md.escape_html = false;
  md.image_placeholder = "";
  md.format_code_blocks = false;
  md.plain_text = true;
  return export_markdown(doc, md);
}

}  // namespace docling
