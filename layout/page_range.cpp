#include "layout/page_range.h"

#include <algorithm>
#include <cctype>
#include <climits>

namespace docling {

namespace {

[[noreturn]] void fail(const std::string& spec, const std::string& why) {
  throw PageRangeError("invalid page range '" + spec + "': " + why);
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// A page number: digits only, >= 1.
int parse_number(const std::string& spec, const std::string& tok) {
  std::string t = trim(tok);
  if (t.empty()) fail(spec, "missing page number");
  if (t[0] == '-' || t[0] == '+') fail(spec, "'" + t + "' is not a positive page number");
  long long v = 0;
  for (char c : t) {
    if (!std::isdigit(static_cast<unsigned char>(c))) fail(spec, "'" + t + "' is not a page number");
    v = v * 10 + (c - '0');
    if (v > INT_MAX) fail(spec, "'" + t + "' is too large");
  }
  if (v == 0) fail(spec, "pages are numbered from 1");
  return static_cast<int>(v);
}

}  // namespace

std::vector<PageSpan> parse_page_spans(const std::string& spec) {
  std::vector<PageSpan> spans;
  if (trim(spec).empty()) return spans;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    std::string item = trim(spec.substr(start, comma - start));
    if (item.empty()) fail(spec, "empty item");
    size_t dash = item.find('-');
    PageSpan s;
    if (dash == std::string::npos) {
      s.first = s.last = parse_number(spec, item);
    } else {
      if (dash == 0) fail(spec, "'" + item + "' has no first page (negative numbers are not pages)");
      s.first = parse_number(spec, item.substr(0, dash));
      std::string rest = trim(item.substr(dash + 1));
      if (rest.empty()) {
        s.last = -1;
      } else {
        s.last = parse_number(spec, rest);
        if (s.last < s.first) fail(spec, "'" + item + "' is reversed");
      }
    }
    spans.push_back(s);
    start = comma + 1;
  }
  return spans;
}

PageSelection select_pages(const std::string& spec, int page_count) {
  PageSelection sel;
  std::vector<PageSpan> spans = parse_page_spans(spec);
  if (spans.empty()) spans.push_back({1, -1});
  // Spans clamped to the document, then merged: the work follows the selected pages, never the
  // numbers asked for (a flag per page, or p <= INT_MAX; ++p, would not end or not fit).
  std::vector<std::pair<int, int>> keep;
  for (const PageSpan& s : spans) {
    int last = s.last < 0 ? page_count : s.last;
    if (s.first > page_count) {
      sel.warnings.push_back("page range: page " + std::to_string(s.first) +
                             " is past the end of the document (" + std::to_string(page_count) +
                             " pages); ignored");
      continue;
    }
    if (last > page_count) {
      sel.warnings.push_back("page range: " + std::to_string(s.first) + "-" +
                             std::to_string(last) + " clamped to " + std::to_string(s.first) +
                             "-" + std::to_string(page_count) + " (document has " +
                             std::to_string(page_count) + " pages)");
      last = page_count;
    }
    keep.push_back({s.first, last});
  }
  std::sort(keep.begin(), keep.end());
  long long next = 1;  // first page not yet selected (64-bit: INT_MAX + 1)
  for (auto [first, last] : keep) {
    for (long long p = std::max<long long>(first, next); p <= last; ++p) sel.pages.push_back(int(p));
    next = std::max<long long>(next, last + 1LL);
  }
  if (sel.pages.empty())
    throw PageRangeError("page range '" + spec + "' selects no page (document has " +
                         std::to_string(page_count) + " pages)");
  return sel;
}

}  // namespace docling
