// Reading order by whitespace (layout/xycut.h) on synthetic pages, and through the text
// backend: narrow gutters between justified columns, tables, spanning headings and figures,
// side notes, right-to-left columns.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "layout/text_backend.h"
#include "layout/text_layer.h"
#include "layout/xycut.h"

using namespace docling;

namespace {

// Word widths that vary like prose (deterministic).
double word_width(int k) { return 14 + (k * 37 % 31); }

struct Word {
  double l, r;
};

// One justified line of words filling [x0, x1]; `k` numbers the words across calls.
std::vector<Word> justified_line(double x0, double x1, int& k, bool last = false) {
  std::vector<Word> w;
  double x = x0, space = 2.5;
  while (true) {
    double ww = word_width(k);
    if (!w.empty() && x + ww > x1) break;
    w.push_back({x, x + ww});
    x += ww + space;
    ++k;
  }
  if (!last && w.size() > 1) {  // stretch the spaces so the line ends at x1
    double slack = x1 - w.back().r, step = slack / double(w.size() - 1);
    for (size_t i = 0; i < w.size(); ++i) w[i].l += step * i, w[i].r += step * i;
  }
  return w;
}

// A row's words as the backend's fragments: merged where the gap is under `min_gap`.
void add_fragments(std::vector<XyItem>& out, const std::vector<Word>& words, double t, double b,
                   double min_gap, bool rtl = false) {
  for (size_t i = 0; i < words.size(); ++i) {
    if (i == 0 || words[i].l - words[i - 1].r >= min_gap) out.push_back(XyItem{words[i].l, t, words[i].r, b, 10, 0, rtl});
    XyItem& f = out.back();
    f.r = words[i].r;
    ++f.words;
  }
}

// Two justified columns (gutter `gutter`) from y0, `rows` lines of 12 pt.
void two_columns(std::vector<XyItem>& items, double y0, int rows, double gutter, int& k, bool rtl = false) {
  double mid = 306, half = gutter / 2;
  for (int r = 0; r < rows; ++r) {
    double t = y0 + 12 * r;
    add_fragments(items, justified_line(54, mid - half, k, r == rows - 1), t, t + 10, 5, rtl);
    add_fragments(items, justified_line(mid + half, 558, k, r == rows - 1), t, t + 10, 5, rtl);
  }
}

XyOptions options() {
  XyOptions o;
  o.min_gutter = 5, o.wide_gutter = 15, o.min_col_width = 122, o.section_gap = 30;
  return o;
}

// Every item in exactly one leaf.
void expect_partition(const std::vector<std::vector<int>>& leaves, size_t n) {
  std::vector<int> all;
  for (auto& l : leaves) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(all[i], int(i));
}

bool all_left(const std::vector<XyItem>& it, const std::vector<int>& leaf) {
  for (int id : leaf)
    if (it[id].r > 306) return false;
  return true;
}
bool all_right(const std::vector<XyItem>& it, const std::vector<int>& leaf) {
  for (int id : leaf)
    if (it[id].l < 306) return false;
  return true;
}

}  // namespace

TEST(XyCut, NarrowGutterBetweenJustifiedColumns) {
  for (double gutter : {8.0, 10.0, 12.0}) {
    std::vector<XyItem> items;
    int k = 0;
    two_columns(items, 100, 30, gutter, k);
    auto leaves = xy_cut(items, options());
    expect_partition(leaves, items.size());
    ASSERT_EQ(leaves.size(), 2u) << "gutter " << gutter;
    EXPECT_TRUE(all_left(items, leaves[0])) << "gutter " << gutter;
    EXPECT_TRUE(all_right(items, leaves[1])) << "gutter " << gutter;
  }
}

TEST(XyCut, SingleColumnWithWideWordSpacesIsOneLeaf) {
  // A narrow justified column: few long words per line, so the spaces grow past min_gutter,
  // but they do not line up from row to row.
  std::vector<XyItem> items;
  int k = 3;
  for (int r = 0; r < 25; ++r) add_fragments(items, justified_line(54, 200, k), 100 + 12 * r, 110 + 12 * r, 5);
  ASSERT_GT(items.size(), 25u);  // some lines did split into fragments
  auto leaves = xy_cut(items, options());
  EXPECT_EQ(leaves.size(), 1u);
  expect_partition(leaves, items.size());
}

TEST(XyCut, TableCellsStayTogether) {
  std::vector<XyItem> items;
  for (int r = 0; r < 10; ++r)
    for (int c = 0; c < 4; ++c) {
      double l = 72 + 120 * c, t = 100 + 16 * r;
      items.push_back(XyItem{l, t, l + 30 + 7 * ((r + c) % 4), t + 10, 10, 1 + (c == 0), false});
    }
  auto leaves = xy_cut(items, options());
  ASSERT_EQ(leaves.size(), 1u);
  expect_partition(leaves, items.size());
}

TEST(XyCut, SpanningHeadingEndsTheColumns) {
  std::vector<XyItem> items;
  int k = 0;
  two_columns(items, 100, 10, 10, k);
  size_t heading = items.size();
  items.push_back(XyItem{54, 230, 400, 245, 15, 4, false});
  two_columns(items, 260, 10, 10, k);
  auto leaves = xy_cut(items, options());
  expect_partition(leaves, items.size());
  ASSERT_EQ(leaves.size(), 5u);
  EXPECT_TRUE(all_left(items, leaves[0]));
  EXPECT_TRUE(all_right(items, leaves[1]));
  EXPECT_EQ(leaves[2], std::vector<int>{int(heading)});
  EXPECT_TRUE(all_left(items, leaves[3]));
  EXPECT_TRUE(all_right(items, leaves[4]));
  for (int id : leaves[4]) EXPECT_GT(items[id].t, 250);
}

TEST(XyCut, BlankBandOfAFigureEndsTheColumns) {
  std::vector<XyItem> items;
  int k = 0;
  two_columns(items, 100, 10, 10, k);
  two_columns(items, 400, 10, 10, k);  // a figure without text between
  auto leaves = xy_cut(items, options());
  expect_partition(leaves, items.size());
  ASSERT_EQ(leaves.size(), 4u);
  EXPECT_TRUE(all_left(items, leaves[0]));
  for (int id : leaves[0]) EXPECT_LT(items[id].t, 300);
  EXPECT_TRUE(all_right(items, leaves[1]));
  for (int id : leaves[1]) EXPECT_LT(items[id].t, 300);
  EXPECT_TRUE(all_left(items, leaves[2]));
  EXPECT_TRUE(all_right(items, leaves[3]));
}

TEST(XyCut, RightToLeftColumnsStartOnTheRight) {
  std::vector<XyItem> items;
  int k = 0;
  two_columns(items, 100, 12, 12, k, true);
  auto leaves = xy_cut(items, options());
  ASSERT_EQ(leaves.size(), 2u);
  EXPECT_TRUE(all_right(items, leaves[0]));
  EXPECT_TRUE(all_left(items, leaves[1]));
}

TEST(XyCut, SideNotesAreAColumnOfTheirOwn) {
  std::vector<XyItem> items;
  int k = 0;
  for (int r = 0; r < 20; ++r) {
    double t = 100 + 12 * r;
    add_fragments(items, justified_line(72, 412, k), t, t + 10, 5);
    if (r % 5 < 3) items.push_back(XyItem{430, t, 540, t + 8, 8, 5, false});  // a note beside
  }
  auto leaves = xy_cut(items, options());
  expect_partition(leaves, items.size());
  // The main column, then one leaf per note block (marked, for the reader to place each note
  // after the main-column block it is level with).
  ASSERT_EQ(leaves.size(), 5u);
  for (int id : leaves[0]) EXPECT_LT(items[id].l, 420);
  for (size_t n = 1; n < leaves.size(); ++n)
    for (int id : leaves[n]) EXPECT_GE(items[id].l, 430);
  auto marked = xy_cut_leaves(items, options());
  ASSERT_EQ(marked.size(), 5u);
  EXPECT_FALSE(marked[0].note);
  for (size_t n = 1; n < marked.size(); ++n) {
    EXPECT_TRUE(marked[n].note);
    EXPECT_EQ(marked[n].group, marked[0].group);
  }
}

// Through the backend: words of two justified columns 8 pt apart. Lines are built across the
// gutter (it is narrower than the line-splitting gap); the order must still be column by column.
TEST(TextBackendReadingOrder, NarrowGutterColumnsAreReadOneAfterTheOther) {
  TextPage page;
  page.width = 612, page.height = 792;
  int k = 0;
  for (int side = 0; side < 2; ++side) {
    int n = 0;
    for (int r = 0; r < 30; ++r) {
      double t = 100 + 12 * r;
      double x0 = side ? 310 : 54, x1 = side ? 558 : 302;
      for (const Word& w : justified_line(x0, x1, k, r == 29)) {
        TextWord tw;
        tw.text = (side ? "right" : "left") + std::to_string(n++);
        tw.l = w.l, tw.r = w.r, tw.t = t, tw.b = t + 10;
        tw.font_size = 10, tw.font_name = "Times-Roman", tw.space_after = true;
        page.words.push_back(tw);
      }
    }
  }
  build_lines(page);
  bool across = false;
  for (const TextLine& l : page.lines) across |= l.l < 300 && l.r > 320;
  EXPECT_TRUE(across) << "the lines should run across the narrow gutter";

  std::vector<TextPage> pages{page};
  TextBackendResult res = convert_text_pages(pages, "gutter");
  std::string all;
  for (const TextItem& t : res.doc.texts) all += t.text + " ";
  std::istringstream in(all);
  std::string tok;
  int last_left = -1, first_right = -1, i = 0, lefts = 0, rights = 0;
  while (in >> tok) {
    if (tok.rfind("left", 0) == 0) last_left = i, ++lefts;
    if (tok.rfind("right", 0) == 0 && first_right < 0) first_right = i;
    rights += tok.rfind("right", 0) == 0;
    ++i;
  }
  EXPECT_EQ(lefts + rights, int(page.words.size()));
  EXPECT_LT(last_left, first_right) << all.substr(0, 300);
  EXPECT_TRUE(res.doc.tables.empty()) << "two text columns are never a table";
}
