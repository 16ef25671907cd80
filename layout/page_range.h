// Page selections like "1-3,7" or "5-" (1-based, inclusive).
//
// Takes: the user's spec string and (optionally) the document's page count.
// Gives: the selected page numbers, ascending and unique, plus warnings.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace docling {

struct PageRangeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct PageSelection {
  std::vector<int> pages;             // ascending, unique, all within [1, page_count]
  std::vector<std::string> warnings;  // e.g. a range clamped to the last page
};

struct PageSpan {
  int first = 1, last = -1;  // last == -1: open end ("5-")
};

// Syntax only: comma-separated items "N", "N-M" or "N-" with optional spaces.
// Throws PageRangeError for empty items, 0, negatives, reversed ranges or garbage.
std::vector<PageSpan> parse_page_spans(const std::string& spec);

// Parse and apply to a document of `page_count` pages. Pages past the end are dropped
// (a range is clamped to the last page) with a warning; selecting no page at all
// throws. An empty spec selects every page.
PageSelection select_pages(const std::string& spec, int page_count);

}  // namespace docling
