// Reading order of a page's text by whitespace: a recursive XY-cut over line fragments.
//
// A region's fragments are grouped into rows (vertical overlap). From each row on, rows are
// gathered while their merged x coverage keeps an interior whitespace gap (a gutter): those
// rows form a section that is read column by column (right to left when most of its text is
// right-to-left), each column cut again the same way. Rows without a common gutter are read
// top to bottom. A section ends at a row that crosses the gutter (a heading or caption over the
// columns) and at a wide blank band across the region (a figure over the columns).
//
// Narrow gutters (down to about half an em, as between justified columns) count only when they
// run through at least `narrow_rows` rows: the spaces between words in a few lines rarely line
// up that long. A section splits only into text-like columns (a wide fragment, or several
// fragments of several words each), so the aligned cells of a table stay together.
//
// Takes: fragments (boxes, top-left origin, with font size, word count, direction).
// Gives: leaves (runs of fragment indices) in reading order; every fragment in exactly one leaf;
// side-note leaves marked (xy_cut_leaves).
#pragma once

#include <vector>

namespace docling {

struct XyItem {
  double l = 0, t = 0, r = 0, b = 0;
  double fs = 10;      // font size (points)
  int words = 1;       // words in the fragment
  bool rtl = false;    // right-to-left script
};

struct XyOptions {
  double min_gutter = 5;      // narrowest gap that may separate columns (points)
  double wide_gutter = 15;    // a gap at least this wide needs only two rows
  int narrow_rows = 3;        // rows a narrower gutter must run through
  double min_col_width = 100; // a column with a fragment this wide is text
  double section_gap = 30;    // a blank band this tall across the region ends a section
  int max_depth = 6;
};

std::vector<std::vector<int>> xy_cut(const std::vector<XyItem>& items, const XyOptions& opt);

// The same leaves with side notes marked. A section made of one wide main column and narrow
// outer columns (left or right margin) of short blocks, with fewer lines than the main column,
// gives the main column's leaves and then one leaf per note block (note = true); all of them
// share a group id. A reader places each note after the main-column block it is level with.
struct XyLeaf {
  std::vector<int> ids;
  int group = -1;     // side-note section this leaf belongs to; -1 for none
  bool note = false;  // a side-note block
};
std::vector<XyLeaf> xy_cut_leaves(const std::vector<XyItem>& items, const XyOptions& opt);

}  // namespace docling
