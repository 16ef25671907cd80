#include "layout/xycut.h"

#include <algorithm>

namespace docling {

namespace {

struct Row {
  double t, b;
  std::vector<int> ids;
};

using Cover = std::vector<std::pair<double, double>>;  // sorted disjoint x intervals

// Rows: items sorted by top, grouped while their vertical extents overlap (by more than a
// quarter of the item's height, so successive lines whose boxes touch stay apart).
std::vector<Row> make_rows(const std::vector<XyItem>& it, std::vector<int> ids) {
  std::sort(ids.begin(), ids.end(), [&](int a, int b) { return it[a].t < it[b].t; });
  std::vector<Row> rows;
  for (int id : ids) {
    const XyItem& x = it[id];
    if (rows.empty() || x.t > rows.back().b - 0.25 * (x.b - x.t)) rows.push_back({x.t, x.b, {}});
    Row& r = rows.back();
    r.b = std::max(r.b, x.b);
    r.ids.push_back(id);
  }
  return rows;
}

void merge_into(Cover& c, const std::vector<XyItem>& it, const std::vector<int>& ids) {
  for (int id : ids) c.push_back({it[id].l, it[id].r});
  std::sort(c.begin(), c.end());
  size_t n = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (n && c[i].first <= c[n - 1].second) c[n - 1].second = std::max(c[n - 1].second, c[i].second);
    else c[n++] = c[i];
  }
  c.resize(n);
}

// Interior gaps of a coverage at least `min` wide: (left edge, right edge) of each.
Cover gaps_of(const Cover& c, double min) {
  Cover g;
  for (size_t i = 1; i < c.size(); ++i)
    if (c[i].first - c[i - 1].second >= min) g.push_back({c[i - 1].second, c[i].first});
  return g;
}

// Columns of the items of some rows between the gutters (by the centre of each item).
std::vector<std::vector<int>> split_columns(const std::vector<XyItem>& it, const std::vector<Row>& rows,
                                            size_t i, size_t j, const Cover& gutters) {
  std::vector<std::vector<int>> cols(gutters.size() + 1);
  for (size_t k = i; k <= j; ++k)
    for (int id : rows[k].ids) {
      double c = 0.5 * (it[id].l + it[id].r);
      size_t col = 0;
      while (col < gutters.size() && c > gutters[col].second) ++col;
      cols[col].push_back(id);
    }
  return cols;
}

// Text, not table cells: a wide fragment, or several fragments of several words each.
bool text_like(const std::vector<XyItem>& it, const std::vector<int>& col, const XyOptions& o) {
  double widest = 0;
  int words = 0;
  for (int id : col) widest = std::max(widest, it[id].r - it[id].l), words += it[id].words;
  return widest >= o.min_col_width || (col.size() >= 2 && words >= 3.5 * double(col.size()));
}

// A row with two fragments in one column, a wide gap apart: table cells, not a line of text.
bool celled_row(const std::vector<XyItem>& it, const Row& row, const Cover& gutters, const XyOptions& o) {
  std::vector<int> ids = row.ids;
  std::sort(ids.begin(), ids.end(), [&](int a, int b) { return it[a].l < it[b].l; });
  for (size_t k = 1; k < ids.size(); ++k) {
    const XyItem &p = it[ids[k - 1]], &x = it[ids[k]];
    bool same_col = true;
    for (auto& g : gutters) same_col &= !(p.r <= g.first + 0.5 && x.l >= g.second - 0.5);
    if (same_col && x.l - p.r >= o.wide_gutter && x.t < p.b && p.t < x.b) return true;
  }
  return false;
}

// Side notes: the outer columns (first, last) that are narrow beside the one wide main column
// and hold short blocks, fewer lines than the main column has. Returns the main column's index
// and marks the note columns; -1 when the section is not a main column with notes.
int side_notes(const std::vector<XyItem>& it, const std::vector<std::vector<int>>& cols,
               std::vector<bool>& note) {
  size_t n = cols.size();
  if (n < 2 || n > 3) return -1;
  std::vector<double> width(n);
  std::vector<std::vector<Row>> rows(n);
  for (size_t c = 0; c < n; ++c) {
    double l = 1e300, r = -1e300;
    for (int id : cols[c]) l = std::min(l, it[id].l), r = std::max(r, it[id].r);
    width[c] = r - l;
    rows[c] = make_rows(it, cols[c]);
  }
  size_t m = size_t(std::max_element(width.begin(), width.end()) - width.begin());
  if (n == 3 && m != 1) return -1;
  note.assign(n, false);
  for (size_t c = 0; c < n; ++c) {
    if (c == m) continue;
    const std::vector<Row>& r = rows[c];
    if (width[c] > 0.6 * width[m] || rows[m].size() < 4 || r.empty()) return -1;
    // Blocks: rows apart by more than a line's height. A note is a few lines, and the notes
    // leave most of the main column's height blank (a sidebar is one long block).
    size_t run = 1;
    double top = r[0].t, covered = 0;
    for (size_t k = 1; k <= r.size(); ++k) {
      if (k < r.size() && r[k].t - r[k - 1].b <= r[k].b - r[k].t) {
        if (++run > 8) return -1;
        continue;
      }
      covered += r[k - 1].b - top;
      if (k < r.size()) top = r[k].t, run = 1;
    }
    if (covered > 0.6 * (rows[m].back().b - rows[m].front().t)) return -1;
    note[c] = true;
  }
  return int(m);
}

void cut(const std::vector<XyItem>& it, const std::vector<int>& ids, const XyOptions& o, int depth,
         std::vector<XyLeaf>& out, int& groups) {
  std::vector<Row> rows = make_rows(it, ids);
  std::vector<int> leaf;
  auto flush = [&] {
    if (!leaf.empty()) out.push_back(XyLeaf{std::move(leaf), -1, false});
    leaf.clear();
  };
  for (size_t i = 0; i < rows.size();) {
    Cover acc;
    merge_into(acc, it, rows[i].ids);
    size_t j = i;
    for (size_t k = i + 1; k < rows.size() && depth < o.max_depth; ++k) {
      if (rows[k].t - rows[k - 1].b > o.section_gap) break;
      Cover next = acc;
      merge_into(next, it, rows[k].ids);
      if (gaps_of(next, o.min_gutter).empty()) break;
      acc.swap(next);
      j = k;
    }
    // Gutters that run long enough for their width.
    size_t nrows = j - i + 1;
    Cover gutters;
    for (auto& g : gaps_of(acc, o.min_gutter))
      if ((nrows >= 2 && g.second - g.first >= o.wide_gutter) || int(nrows) >= o.narrow_rows) gutters.push_back(g);
    // Drop the gutters beside columns that do not read as text, until all do.
    std::vector<std::vector<int>> cols;
    while (!gutters.empty()) {
      cols = split_columns(it, rows, i, j, gutters);
      size_t bad = 0;
      while (bad < cols.size() && text_like(it, cols[bad], o)) ++bad;
      if (bad == cols.size()) break;
      gutters.erase(gutters.begin() + long(bad == gutters.size() ? bad - 1 : bad));
    }
    // A table above columns of text can share their gutter: while the section starts with
    // rows of cells (wide gaps inside a column; two in a row among its first rows, as a
    // caption's last line can come first), those rows are read on their own.
    for (size_t k = i; !gutters.empty() && k < j && k < i + 3; ++k)
      if (celled_row(it, rows[k], gutters, o) && celled_row(it, rows[k + 1], gutters, o)) gutters.clear();
    // The last row of a table above the columns can be the first to share their gutter: a
    // row of cells right below another row of cells still belongs to the rows above.
    if (!gutters.empty() && i > 0 && rows[i].t - rows[i - 1].b < o.section_gap &&
        celled_row(it, rows[i], gutters, o) && celled_row(it, rows[i - 1], gutters, o))
      gutters.clear();
    if (gutters.empty()) {
      leaf.insert(leaf.end(), rows[i].ids.begin(), rows[i].ids.end());
      ++i;
      continue;
    }
    flush();
    double rtl = 0, all = 0;
    for (auto& col : cols)
      for (int id : col) all += it[id].words, rtl += it[id].rtl ? it[id].words : 0;
    if (2 * rtl > all) std::reverse(cols.begin(), cols.end());
    std::vector<bool> note;
    int main_col = side_notes(it, cols, note);
    if (main_col >= 0) {
      // The main column as usual, then each note block as its own leaf: the reader places
      // a note after the main-column block it is level with.
      size_t first = out.size();
      cut(it, cols[size_t(main_col)], o, depth + 1, out, groups);
      for (size_t c = 0; c < cols.size(); ++c) {
        if (!note[c]) continue;
        std::vector<Row> r = make_rows(it, cols[c]);
        for (size_t k = 0; k < r.size(); ++k) {
          if (k == 0 || r[k].t - r[k - 1].b > r[k].b - r[k].t) out.push_back(XyLeaf{{}, -1, true});
          out.back().ids.insert(out.back().ids.end(), r[k].ids.begin(), r[k].ids.end());
        }
      }
      int g = groups++;
      for (size_t k = first; k < out.size(); ++k) out[k].group = g;
    } else {
      for (auto& col : cols) cut(it, col, o, depth + 1, out, groups);
    }
    i = j + 1;
  }
  flush();
}

}  // namespace

std::vector<XyLeaf> xy_cut_leaves(const std::vector<XyItem>& items, const XyOptions& opt) {
  std::vector<XyLeaf> out;
  std::vector<int> ids(items.size());
  for (size_t i = 0; i < items.size(); ++i) ids[i] = int(i);
  int groups = 0;
  if (!ids.empty()) cut(items, ids, opt, 0, out, groups);
  return out;
}

std::vector<std::vector<int>> xy_cut(const std::vector<XyItem>& items, const XyOptions& opt) {
  std::vector<std::vector<int>> out;
  for (XyLeaf& l : xy_cut_leaves(items, opt)) out.push_back(std::move(l.ids));
  return out;
}

}  // namespace docling
