#include "layout/heading_levels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace docling {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool alpha(char c) { return upper(c) || (c >= 'a' && c <= 'z'); }

// Length of a run of 1..2 digits at i (0 when none or longer: "2024" is a year, not a chapter).
size_t digits_at(const std::string& s, size_t i) {
  size_t n = 0;
  while (i + n < s.size() && digit(s[i + n])) ++n;
  return n <= 2 ? n : 0;
}

size_t roman_at(const std::string& s, size_t i) {
  size_t n = 0;
  while (i + n < s.size() && std::strchr("IVXL", s[i + n]) && n < 6) ++n;
  return n;
}

}  // namespace

int numbering_depth(const std::string& s) {
  size_t i = 0;
  int depth = 0;
  if (size_t n = digits_at(s, 0)) {
    i = n, depth = 1;
  } else if (size_t r = roman_at(s, 0); r && r < s.size() && s[r] == '.' && r + 1 < s.size() && s[r + 1] == ' ') {
    i = r, depth = 1;  // "IV. Results": roman numerals only with a period
  } else if (s.size() > 2 && upper(s[0]) && s[1] == '.' && digit(s[2])) {
    i = 1, depth = 1;  // appendix "A.1"
  } else {
    return 0;
  }
  // Further ".N" segments.
  while (i + 1 < s.size() && s[i] == '.' && digits_at(s, i + 1)) {
    i += 1 + digits_at(s, i + 1);
    ++depth;
  }
  bool closed = i < s.size() && (s[i] == '.' || s[i] == ')');
  if (closed) ++i;
  // A title must follow: "2.5 million" is not a section number, "3.1. Staffing" and
  // "3.1 Staffing" are (without the closing period only before a capital letter).
  if (i + 1 >= s.size() || s[i] != ' ' || !alpha(s[i + 1])) return 0;
  if (!closed && !upper(s[i + 1])) return 0;
  return depth;
}

namespace {

// Style rank key: larger size first, bold before regular at the same size.
int style_key(const HeadingInfo& h) { return int(std::lround(h.font_size * 2)) * 2 + (h.bold ? 1 : 0); }

int find_title(const std::vector<HeadingInfo>& heads, const std::vector<int>& depth, int first_page) {
  if (heads.size() < 2 || heads[0].page_no != first_page || depth[0] != 0 || heads[0].top_frac > 0.4)
    return -1;
  for (size_t i = 1; i < heads.size(); ++i)
    if (heads[i].font_size > heads[0].font_size - 0.5) return -1;  // not strictly the largest
  return 0;
}

}  // namespace

HeadingLevels assign_heading_levels(const std::vector<HeadingInfo>& heads, int first_page) {
  HeadingLevels out;
  size_t n = heads.size();
  std::vector<int> depth(n);
  for (size_t i = 0; i < n; ++i) depth[i] = std::min(numbering_depth(heads[i].text), 6);
  out.title = find_title(heads, depth, first_page);
  // The shallowest numbering depth each style is used with.
  std::map<int, int, std::greater<int>> numbered;  // style key (largest first) -> level
  std::map<int, int, std::greater<int>> plain;     // unnumbered styles -> rank
  for (size_t i = 0; i < n; ++i) {
    if (int(i) == out.title) continue;
    int k = style_key(heads[i]);
    if (depth[i]) {
      auto it = numbered.find(k);
      numbered[k] = it == numbered.end() ? depth[i] : std::min(it->second, depth[i]);
    } else {
      plain[k] = 0;
    }
  }
  int rank = 0;
  for (auto& [k, r] : plain) r = ++rank;
  out.level.assign(n, 1);
  for (size_t i = 0; i < n; ++i) {
    if (int(i) == out.title) continue;
    int k = style_key(heads[i]);
    if (depth[i]) {
      out.level[i] = depth[i];
    } else if (auto it = numbered.find(k); it != numbered.end()) {
      out.level[i] = it->second;  // "References" set like "1. Introduction"
    } else if (numbered.empty()) {
      out.level[i] = std::min(plain[k], 6);
    } else {
      // Below the closest numbered style that outranks it, or at the top when none does.
      int lv = 1;
      for (auto& [nk, nl] : numbered)
        if (nk > k) lv = nl + 1;
      out.level[i] = std::min(lv, 6);
    }
  }
  // An unnumbered heading goes at most one level below the heading before it: a smaller bold
  // line that opens the document (a title set small) is not a sub-heading of what follows.
  int prev = 0;
  for (size_t i = 0; i < n; ++i) {
    if (int(i) == out.title) continue;
    if (!depth[i]) out.level[i] = std::min(out.level[i], prev + 1);
    prev = out.level[i];
  }
  return out;
}

}  // namespace docling
