#include "layout/text_layer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "core/utf8.h"
#include "layout/pdf.h"

namespace docling {

namespace {

bool contains_ci(const std::string& hay, const char* needle) {
  size_t n = std::strlen(needle);
  if (hay.size() < n) return false;
  for (size_t i = 0; i + n <= hay.size(); ++i) {
    size_t k = 0;
    while (k < n && std::tolower(static_cast<unsigned char>(hay[i + k])) == needle[k]) ++k;
    if (k == n) return true;
  }
  return false;
}

bool is_bullet_text(const std::string& s) {
  static const char* kBullets[] = {"•", "◦", "▪", "■", "□", "●", "○", "◆", "◇", "►", "▶",
                                   "➢", "✓", "✔", "-", "–", "—", "*", "·", "", "", ""};
  for (const char* b : kBullets)
    if (s == b) return true;
  return false;
}

bool has_rtl(const std::string& s) {
  for (size_t i = 0; i < s.size();)
    if (is_rtl_codepoint(utf8_next(s, i))) return true;
  return false;
}

// Poppler gives right-to-left words in visual order; reverse the code points to get
// the logical order. Known gap: Poppler expands lam-alef ligatures in logical order
// inside the visual word, so those two letters come out swapped.
void append_reversed(std::string& out, const std::string& s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = utf8_prev(s, end);
    out.append(s, start, end - start);
    end = start;
  }
}

double height(const TextWord& w) { return w.b - w.t; }
double center_y(const TextWord& w) { return 0.5 * (w.t + w.b); }
double em(const TextWord& w) { return w.font_size > 0 ? w.font_size : std::max(1.0, height(w)); }

struct Row {
  double t, b;
  std::vector<int> words;
};

// Text, box and dominant style of one line from its words (already in order).
void finish_line(const TextPage& page, TextLine& line) {
  line.text.clear();
  line.l = line.t = 1e300;
  line.r = line.b = -1e300;
  // Character-weighted votes for size and style.
  double best_size = 0, best_count = 0, bold = 0, italic = 0, mono = 0, total = 0;
  std::vector<std::pair<double, double>> sizes;
  for (size_t k = 0; k < line.words.size(); ++k) {
    const TextWord& w = page.words[line.words[k]];
    if (k > 0) {
      const TextWord& p = page.words[line.words[k - 1]];
      double gap = line.rtl ? p.l - w.r : w.l - p.r;
      if (p.space_after || gap > 0.15 * em(w)) line.text += ' ';
    }
    if (line.rtl && has_rtl(w.text)) append_reversed(line.text, w.text);
    else line.text += w.text;
    line.l = std::min(line.l, w.l), line.t = std::min(line.t, w.t);
    line.r = std::max(line.r, w.r), line.b = std::max(line.b, w.b);
    double n = double(w.text.size());
    total += n;
    if (w.bold) bold += n;
    if (w.italic) italic += n;
    if (w.mono) mono += n;
    bool found = false;
    for (auto& s : sizes)
      if (std::fabs(s.first - w.font_size) < 0.25) s.second += n, found = true;
    if (!found) sizes.push_back({w.font_size, n});
  }
  for (auto& s : sizes)
    if (s.second > best_count) best_count = s.second, best_size = s.first;
  line.font_size = best_size;
  line.bold = bold * 2 > total;
  line.italic = italic * 2 > total;
  line.mono = mono * 2 > total;
}

// Rows chain through words of different heights: a heading in one column overlaps two lines
// of the column beside it, which then land in one row and would be read word by word
// interleaved. Words of one row that overlap horizontally sit on different lines: such a row is
// split into sub-rows, each word going to the nearest sub-row (by centre, within 0.7 em) that
// it does not overlap, else starting one.
std::vector<Row> split_stacked_rows(const std::vector<TextWord>& W, std::vector<Row> rows) {
  std::vector<Row> out;
  out.reserve(rows.size());
  std::vector<int> byx;
  for (Row& row : rows) {
    byx = row.words;
    std::sort(byx.begin(), byx.end(), [&](int a, int b) { return W[a].l < W[b].l; });
    bool stacked = false;
    double maxr = -1e300;
    for (int i : byx) {
      const TextWord& w = W[i];
      if (w.l < maxr - 0.25 * std::min(em(w), w.r - w.l)) stacked = true;
      maxr = std::max(maxr, w.r);
    }
    if (!stacked) {
      out.push_back(std::move(row));
      continue;
    }
    // row.words is sorted by centre y.
    std::vector<Row> sub;
    std::vector<double> centre;
    for (int i : row.words) {
      const TextWord& w = W[i];
      double c = center_y(w), tol = 0.7 * em(w), best = 1e300;
      int pick = -1;
      for (size_t s = 0; s < sub.size(); ++s) {
        double d = std::fabs(centre[s] - c);
        if (d > tol || d >= best) continue;
        bool clash = false;
        for (int j : sub[s].words) {
          const TextWord& o = W[j];
          double ov = std::min(o.r, w.r) - std::max(o.l, w.l);
          clash |= ov > 0.25 * std::min({em(w), w.r - w.l, o.r - o.l});
        }
        if (!clash) best = d, pick = int(s);
      }
      if (pick < 0) {
        sub.push_back({w.t, w.b, {}});
        centre.push_back(c);
        pick = int(sub.size() - 1);
      }
      Row& r = sub[size_t(pick)];
      r.t = std::min(r.t, w.t), r.b = std::max(r.b, w.b);
      r.words.push_back(i);
    }
    for (Row& r : sub) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

bool is_rtl_codepoint(unsigned cp) {
  return (cp >= 0x0590 && cp <= 0x08FF) || (cp >= 0xFB1D && cp <= 0xFDFF) ||
         (cp >= 0xFE70 && cp <= 0xFEFF);
}

// TeX font names like "CMBX10" or "SFBX1000": letters then digits, no separators.
static bool tex_font_has(const std::string& f, const char* part) {
  size_t i = 0;
  while (i < f.size() && std::isupper(static_cast<unsigned char>(f[i]))) ++i;
  if (i < 3 || i == f.size()) return false;
  for (size_t k = i; k < f.size(); ++k)
    if (!std::isdigit(static_cast<unsigned char>(f[k]))) return false;
  return f.substr(2, i - 2).find(part) != std::string::npos;
}

bool is_bold_font(const std::string& f) {
  return contains_ci(f, "bold") || contains_ci(f, "black") || contains_ci(f, "heavy") ||
         contains_ci(f, "semibold") || contains_ci(f, "demi") || tex_font_has(f, "BX") ||
         tex_font_has(f, "B") || contains_ci(f, ",b") ||
         (f.size() > 3 && (f.compare(f.size() - 3, 3, "-Bd") == 0 ||
                           f.compare(f.size() - 2, 2, "-B") == 0));
}

bool is_mono_font(const std::string& f) {
  return contains_ci(f, "mono") || contains_ci(f, "courier") || contains_ci(f, "consol") ||
         contains_ci(f, "menlo") || contains_ci(f, "inconsolata") || tex_font_has(f, "TT");
}

bool is_italic_font(const std::string& f) {
  return contains_ci(f, "italic") || contains_ci(f, "oblique") || tex_font_has(f, "TI") ||
         tex_font_has(f, "SL") || (f.size() > 3 && f.compare(f.size() - 3, 3, "-It") == 0);
}

void build_lines(TextPage& page, double gap_em) {
  page.lines.clear();
  const std::vector<TextWord>& W = page.words;
  std::vector<int> order;
  order.reserve(W.size());
  for (int i = 0; i < int(W.size()); ++i)
    if (W[i].horizontal) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return center_y(W[a]) < center_y(W[b]); });

  // Rows: a word joins the last row when its centre lies in the row's span or its own
  // span covers the row's centre (so super/subscripts stay with their line).
  std::vector<Row> rows;
  for (int i : order) {
    const TextWord& w = W[i];
    if (!rows.empty()) {
      Row& r = rows.back();
      double c = center_y(w), rc = 0.5 * (r.t + r.b);
      if ((c >= r.t && c <= r.b) || (rc >= w.t && rc <= w.b)) {
        r.t = std::min(r.t, w.t), r.b = std::max(r.b, w.b);
        r.words.push_back(i);
        continue;
      }
    }
    rows.push_back({w.t, w.b, {i}});
  }

  rows = split_stacked_rows(W, std::move(rows));
  for (Row& row : rows) {
    std::sort(row.words.begin(), row.words.end(), [&](int a, int b) { return W[a].l < W[b].l; });
    size_t start = 0;
    for (size_t k = 1; k <= row.words.size(); ++k) {
      bool cut = k == row.words.size();
      if (!cut) {
        const TextWord& p = W[row.words[k - 1]];
        const TextWord& w = W[row.words[k]];
        double gap = w.l - p.r;
        double lim = gap_em * std::max(em(p), em(w));
        bool lone_bullet = k - 1 == start && is_bullet_text(p.text);
        cut = gap > lim && !(lone_bullet && gap < 6 * em(w));
      }
      if (!cut) continue;
      TextLine line;
      line.words.assign(row.words.begin() + start, row.words.begin() + k);
      // Right-to-left script: order the words from the right.
      size_t rtl = 0, all = 0;
      for (int wi : line.words)
        for (size_t i = 0; i < W[wi].text.size();) {
          unsigned cp = utf8_next(W[wi].text, i);
          if (cp > 0x40) ++all, rtl += is_rtl_codepoint(cp);
        }
      line.rtl = rtl * 2 > all;
      if (line.rtl) std::reverse(line.words.begin(), line.words.end());
      finish_line(page, line);
      page.lines.push_back(std::move(line));
      start = k;
    }
  }

  // Rotated or vertical words: one line per run of them in Poppler's order.
  for (int i = 0; i < int(W.size()); ++i) {
    if (W[i].horizontal) continue;
    if (i > 0 && !W[i - 1].horizontal && !page.lines.empty() && !page.lines.back().words.empty() &&
        page.lines.back().words.back() == i - 1) {
      page.lines.back().words.push_back(i);
    } else {
      page.lines.push_back({});
      page.lines.back().words.push_back(i);
    }
  }
  for (TextLine& l : page.lines)
    if (!l.words.empty() && !W[l.words[0]].horizontal) finish_line(page, l);
}

void make_upright(TextPage& page) {
  const int q = ((page.rotation / 90) % 4 + 4) % 4;
  if (q == 0 || page.upright) return;
  page.upright = true;
  const double W = page.width, H = page.height;  // displayed size
  for (TextWord& w : page.words) {
    double l = w.l, t = w.t, r = w.r, b = w.b;
    if (q == 1) w.l = t, w.t = W - r, w.r = b, w.b = W - l;
    else if (q == 2) w.l = W - r, w.t = H - b, w.r = W - l, w.b = H - t;
    else w.l = H - b, w.t = l, w.r = H - t, w.b = r;
    w.quarter = (w.quarter - q + 4) % 4;
    w.horizontal = w.quarter == 0 && !w.vertical_mode;
  }
  auto turn = [&](std::vector<InkBox>& boxes) {
    for (InkBox& w : boxes) {
      double l = w.l, t = w.t, r = w.r, b = w.b;
      if (q == 1) w.l = t, w.t = W - r, w.r = b, w.b = W - l;
      else if (q == 2) w.l = W - r, w.t = H - b, w.r = W - l, w.b = H - t;
      else w.l = H - b, w.t = l, w.r = H - t, w.b = r;
    }
  };
  turn(page.pictures);
  turn(page.hrules);
  turn(page.vrules);
  if (q != 2) std::swap(page.hrules, page.vrules);  // a quarter turn makes rows of columns
  if (q != 2) std::swap(page.width, page.height);
}

void to_display(double& l, double& t, double& r, double& b, int rotation, double W, double H) {
  const int q = ((rotation / 90) % 4 + 4) % 4;
  const double l0 = l, t0 = t, r0 = r, b0 = b;
  // The inverse of make_upright's maps; the upright page is H x W for 90 and 270.
  if (q == 1) l = W - b0, t = l0, r = W - t0, b = r0;
  else if (q == 2) l = W - r0, t = H - b0, r = W - l0, b = H - t0;
  else if (q == 3) l = t0, t = H - r0, r = b0, b = H - l0;
}

TextLine make_line(const TextPage& page, std::vector<int> words, bool rtl) {
  TextLine line;
  line.words = std::move(words);
  line.rtl = rtl;
  finish_line(page, line);
  return line;
}

TextPage read_text_page(const PageSource& src, int page_no) {
  TextPage page;
  page.page_no = page_no;
  Size s = src.page_size(page_no);
  page.width = s.width, page.height = s.height;
  page.rotation = src.page_rotation(page_no);
  page.words = src.words(page_no);
  build_lines(page);
  return page;
}

}  // namespace docling

namespace docling {

std::string text_in_rect(const TextPage& page, double l, double t, double r, double b) {
  auto inside = [&](const TextWord& w) {
    double area = (w.r - w.l) * (w.b - w.t);
    double iw = std::min(w.r, r) - std::max(w.l, l), ih = std::min(w.b, b) - std::max(w.t, t);
    if (area <= 0) return w.l >= l && w.r <= r && w.t >= t && w.b <= b;
    return iw > 0 && ih > 0 && iw * ih > 0.5 * area;
  };
  std::string out;
  auto add = [&](const TextWord& w) {
    if (!inside(w) || w.text.empty()) return;
    if (!out.empty()) out += ' ';
    out += w.text;
  };
  if (page.lines.empty()) {
    for (const TextWord& w : page.words) add(w);
  } else {
    for (const TextLine& line : page.lines)
      for (int i : line.words) add(page.words[size_t(i)]);
  }
  return out;
}

}  // namespace docling
