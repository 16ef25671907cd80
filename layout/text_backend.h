// The model-free backend: a DoclingDocument built from a PDF's text layer alone.
//
// Per page: words -> lines (layout/text_layer.h) -> reading order (columns found by
// whitespace gutters, then top to bottom) -> blocks (paragraphs joined across lines
// with de-hyphenation, headings from font size / weight, list items from bullets and
// numbering, captions attached to the table next to them, footnotes, code in monospace fonts, simple tables where cells
// align, tables drawn with rules: grids with spanning cells, booktabs rules with the header). Across pages: text repeated at the same place near the top or bottom of
// several pages, and page numbers, go to the furniture layer.
//
// Reading order: an XY-cut (layout/xycut.h); side notes after the block they are level with.
// Checkbox glyphs become checkbox items; list items nest by indentation. Pictures come from
// a low-resolution rendering (layout/page_ink.h) of pages that show signs of them, with their
// "Figure N" captions. Pages whose text is garbled or lies over a page-sized image are listed
// as unusable.
//
// Takes: a PageSource (layout/pdf.h) or TextPages. Gives: Document (doctags/document.h)
// with provenance in page points, TOPLEFT, plus warnings (e.g. pages without text or with an
// unusable text layer, which a caller can route to the VLM).
#pragma once

#include <functional>

#include <string>
#include <vector>

#include "core/document.h"
#include "core/image.h"
#include "layout/text_layer.h"

namespace docling {

class PageSource;

struct TextBackendOptions {
  bool tables = true;          // detect aligned cells as tables
  bool furniture = true;       // page headers / footers / numbers -> furniture layer
  bool heading_levels = true;  // levels from numbering ("3.1" -> 2), then font size / weight
                               // (layout/heading_levels.h); false: every one is level 1
  double line_gap_em = 1.5;    // horizontal gap (in font sizes) that splits a line
  std::function<void(int)> on_page_start;  // optional: called with each page number before it is read
  bool pictures = true;        // render each page at picture_dpi: pictures (with their captions)
  double picture_dpi = 36;     // and scans under a text layer, from ink outside the words (layout/page_ink.h)
  bool check_scans = false;    // render every page with text (not only those with signs of
                               // pictures) to find text over a page-sized image; costs a rendering
                               // a page: for `auto` with a model, which would read such pages
  bool table_rules = true;     // with tables: render pages that show signs of a table (a "Table N"
  double rule_dpi = 72;        // caption, rows of three or more cells) at rule_dpi to find its
                               // rules: grids with spans, booktabs rules bounding the table and
                               // its header (layout/page_ink.h find_rule_lines)
  double max_garbled = 0.1;    // a page whose text has more than this share of U+FFFD, private-use or
                               // control characters is unusable
};

struct TextBackendResult {
  Document doc;
  std::vector<std::string> warnings;  // each names the file and page
  std::vector<int> pages_without_text;  // 1-based; candidates for the VLM / OCR
  // Pages with text that cannot be trusted: garbled encoding (glyphs without Unicode) or words
  // over a page-sized image (an OCR layer over a scan). Their text is still converted; `auto`
  // reads them with the model. One warning each names the reason.
  std::vector<int> pages_unusable;
  std::vector<int> failed_pages;        // pages that could not be read at all
};

// Convert the given pages (1-based; empty = every page) of a source. Per-page read
// errors become warnings; the page keeps its number (and its size when known).
TextBackendResult convert_text_layer(const PageSource& src, const std::vector<int>& pages = {},
                                     const TextBackendOptions& opt = {});

// Same from pages already read (their page_no fields are kept).
TextBackendResult convert_text_pages(std::vector<TextPage> pages, const std::string& name,
                                     const TextBackendOptions& opt = {});

// Pictures of page `page_no` that have no image get their crop of that page's image (rendered
// at `dpi`; the picture boxes in either origin), as docling's pipelines fill PictureItem.image
// when page images are made. Pictures that have one (the model's) keep it.
void crop_pictures(Document& doc, int page_no, const Image& page_image, double dpi);

}  // namespace docling
