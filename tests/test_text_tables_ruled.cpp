// Tables drawn with rules in the text-layer backend (issue 16): grids whose cells come from the
// rules (a missing rule inside makes a spanning cell), booktabs tables bounded by their rules with
// the header above the header rule, and the cases that are not tables (two text columns between
// page rules, a framed box of prose). The PDFs are written here, from cell lists, in several sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "layout/page_ink.h"
#include "layout/pdf.h"
#include "layout/text_backend.h"
#include "pdf_fixtures.h"

using namespace docling;

namespace {

std::unique_ptr<PageSource> pdf_of(const std::string& content) {
  std::string pdf = docling::testing::make_pdf({{"0 0 612 792", content}});
  return open_source_bytes(std::vector<uint8_t>(pdf.begin(), pdf.end()), "ruled.pdf");
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

// Text with its baseline `y` points from the top of the page.
std::string text_at(double x, double y, const std::string& s, double size = 9) {
  return "BT /F1 " + num(size) + " Tf " + num(x) + " " + num(792 - y) + " Td (" + s + ") Tj ET\n";
}

std::string hline(double x0, double x1, double y, double w = 0.5) {
  return num(w) + " w " + num(x0) + " " + num(792 - y) + " m " + num(x1) + " " + num(792 - y) + " l S\n";
}

std::string vline(double x, double y0, double y1, double w = 0.5) {
  return num(w) + " w " + num(x) + " " + num(792 - y0) + " m " + num(x) + " " + num(792 - y1) + " l S\n";
}

std::string paragraph(double y, int lines, double x = 72, double size = 10) {
  std::string c;
  for (int i = 0; i < lines; ++i)
    c += text_at(x, y + 12 * i, "The steady river carries a quiet harbor near every village and its long road.", size);
  return c;
}

struct GridCell {
  int r0, c0, r1, c1;  // inclusive units
  std::string text;
};

// A grid table: column edges xs, row edges ys (page points from the top), the cells (spans
// included); every boundary that is not inside a cell is drawn.
std::string grid(const std::vector<double>& xs, const std::vector<double>& ys, const std::vector<GridCell>& cells,
                 double fs = 9) {
  int R = int(ys.size()) - 1, C = int(xs.size()) - 1;
  std::vector<int> owner(size_t(R * C), -1);
  std::string s;
  for (size_t k = 0; k < cells.size(); ++k) {
    const GridCell& g = cells[k];
    for (int r = g.r0; r <= g.r1; ++r)
      for (int c = g.c0; c <= g.c1; ++c) owner[size_t(r * C + c)] = int(k);
    s += text_at(xs[size_t(g.c0)] + 4, ys[size_t(g.r0)] + fs + 4, g.text, fs);
  }
  for (int r = 0; r <= R; ++r)
    for (int c = 0; c < C; ++c) {
      bool inside = r > 0 && r < R && owner[size_t((r - 1) * C + c)] == owner[size_t(r * C + c)] && owner[size_t(r * C + c)] >= 0;
      if (!inside) s += hline(xs[size_t(c)], xs[size_t(c) + 1], ys[size_t(r)]);
    }
  for (int c = 0; c <= C; ++c)
    for (int r = 0; r < R; ++r) {
      bool inside = c > 0 && c < C && owner[size_t(r * C + c - 1)] == owner[size_t(r * C + c)] && owner[size_t(r * C + c)] >= 0;
      if (!inside) s += vline(xs[size_t(c)], ys[size_t(r)], ys[size_t(r) + 1]);
    }
  return s;
}

// Width of a string in Helvetica (the AFM widths of the characters these tests use).
double helvetica_width(const std::string& s, double fs) {
  double w = 0;
  for (char ch : s) {
    if (ch >= '0' && ch <= '9') w += 556;
    else if (ch == ' ') w += 278;
    else if (std::strchr("fjt", ch)) w += 278;
    else if (std::strchr("il", ch)) w += 222;
    else if (ch == 'r') w += 333;
    else if (std::strchr("ckvxyzs", ch)) w += 500;
    else if (ch == 'm' || ch == 'M') w += 833;
    else if (ch == 'w') w += 722;
    else if (ch >= 'A' && ch <= 'Z') w += 722;
    else w += 556;
  }
  return w * fs / 1000;
}

const TableCell* cell_at(const TableData& d, int r, int c) {
  for (const TableCell& x : d.cells)
    if (x.start_row <= r && r < x.end_row && x.start_col <= c && c < x.end_col) return &x;
  return nullptr;
}

bool any_text_contains(const Document& doc, const std::string& s) {
  for (const TextItem& t : doc.texts)
    if (t.text.find(s) != std::string::npos) return true;
  return false;
}

}  // namespace

// Rules are found one by one in a rendering: the lines of a grid (broken where others cross),
// not the strokes of the text beside them.
TEST(TextTablesRuled, RuleLinesAreFoundOneByOne) {
  std::string c = paragraph(80, 4);
  c += grid({100, 220, 330, 450}, {200, 220, 240, 260, 280}, {});
  auto src = pdf_of(c);
  std::vector<TextWord> words = src->words(1);
  RuleLines rl = find_rule_lines(src->render(1, 72), 612, 792, words);
  ASSERT_EQ(rl.h.size(), 5u);
  ASSERT_EQ(rl.v.size(), 4u);
  for (size_t i = 0; i < rl.h.size(); ++i) {
    EXPECT_NEAR(0.5 * (rl.h[i].t + rl.h[i].b), 200 + 20 * double(i), 1.5);
    EXPECT_NEAR(rl.h[i].l, 100, 2);
    EXPECT_NEAR(rl.h[i].r, 450, 2);
  }
  EXPECT_NEAR(0.5 * (rl.v[1].l + rl.v[1].r), 220, 1.5);
  EXPECT_NEAR(rl.v[1].t, 200, 2);
  EXPECT_NEAR(rl.v[1].b, 280, 2);
}

// A grid with a header cell over two columns and a cell over two rows, in three sizes and
// places: the cells come from the rules, spans where rules are missing, the first row is the
// header, the caption above belongs to the table and the cell text is not repeated as text.
TEST(TextTablesRuled, GridCellsAndSpansFromTheRules) {
  struct Variant {
    double x0, y0, colw, rowh, fs;
  };
  for (Variant v : {Variant{72, 200, 110, 18, 9}, Variant{100, 320, 90, 16, 8}, Variant{60, 150, 125, 22, 10}}) {
    std::vector<double> xs, ys;
    for (int c = 0; c <= 4; ++c) xs.push_back(v.x0 + c * v.colw);
    for (int r = 0; r <= 5; ++r) ys.push_back(v.y0 + r * v.rowh);
    std::vector<GridCell> cells = {
        {0, 0, 0, 0, "Region"}, {0, 1, 0, 2, "Quarterly sales"}, {0, 3, 0, 3, "Staff"},
        {1, 0, 2, 0, "North"},  {1, 1, 1, 1, "120.5"},           {1, 2, 1, 2, "98.25"},  {1, 3, 1, 3, "14"},
        {2, 1, 2, 1, "133.0"},  {2, 2, 2, 2, "101.75"},          {2, 3, 2, 3, "15"},
        {3, 0, 3, 0, "South"},  {3, 1, 3, 1, "87.5"},            {3, 2, 3, 2, "90.0"},   {3, 3, 3, 3, "9"},
        {4, 0, 4, 0, "West"},   {4, 1, 4, 1, "64.0"},            {4, 2, 4, 2, "71.5"},   {4, 3, 4, 3, "7"},
    };
    std::string c = paragraph(80, 5);
    c += text_at(v.x0, v.y0 - 8, "Table 3: Sales by region and quarter.", v.fs);
    c += grid(xs, ys, cells, v.fs);
    c += paragraph(ys.back() + 40, 5);
    auto src = pdf_of(c);
    TextBackendResult res = convert_text_layer(*src);
    SCOPED_TRACE("variant at x0=" + num(v.x0));
    ASSERT_EQ(res.doc.tables.size(), 1u);
    const TableItem& t = res.doc.tables[0];
    const TableData& d = t.data;
    EXPECT_EQ(d.num_rows, 5);
    EXPECT_EQ(d.num_cols, 4);
    const TableCell* sales = cell_at(d, 0, 1);
    ASSERT_NE(sales, nullptr);
    EXPECT_EQ(sales->text, "Quarterly sales");
    EXPECT_EQ(sales->col_span, 2);
    EXPECT_EQ(sales->start_col, 1);
    EXPECT_TRUE(sales->column_header);
    const TableCell* north = cell_at(d, 1, 0);
    ASSERT_NE(north, nullptr);
    EXPECT_EQ(north->text, "North");
    EXPECT_EQ(north->row_span, 2);
    EXPECT_EQ(north->end_row, 3);
    EXPECT_FALSE(north->column_header);
    ASSERT_NE(cell_at(d, 2, 2), nullptr);
    EXPECT_EQ(cell_at(d, 2, 2)->text, "101.75");
    EXPECT_EQ(cell_at(d, 4, 3)->text, "7");
    int headers = 0;
    for (const TableCell& x : d.cells) headers += x.column_header;
    EXPECT_EQ(headers, 3) << "the first row: Region, Quarterly sales, Staff";
    ASSERT_EQ(t.captions.size(), 1u);
    EXPECT_EQ(res.doc.text(t.captions[0]).text, "Table 3: Sales by region and quarter.");
    EXPECT_FALSE(any_text_contains(res.doc, "101.75")) << "cell text also came out as text";
    EXPECT_TRUE(res.doc.pictures.empty());
    // The table sits between the paragraphs in reading order.
    const auto& kids = res.doc.body.children;
    size_t ti = 0;
    for (size_t k = 0; k < kids.size(); ++k)
      if (kids[k].kind == RefKind::Table) ti = k;
    ASSERT_GT(ti, 0u);
    ASSERT_LT(ti + 1, kids.size());
    EXPECT_EQ(kids[ti + 1].kind, RefKind::Text);
  }
}

// A booktabs table: a top rule, a header rule and a bottom rule, rows without rules between
// them. The rules bound the table (the paragraphs around stay text) and the rows above the
// header rule are the header; a rule under part of the header (a cmidrule) makes the label
// over it span two columns and the label beside it two rows.
TEST(TextTablesRuled, BooktabsRulesBoundTheTableAndItsHeader) {
  for (double fs : {8.0, 9.5}) {
    const double x0 = 90, w = 420, lead = fs + 5;
    const double colx[4] = {x0 + 4, x0 + 150, x0 + 240, x0 + 330};
    std::string c = paragraph(80, 6);
    double y = 200;
    c += hline(x0, x0 + w, y, 1.0);
    // Two header rows: "Model" beside the spanning "Scores", whose cmidrule runs under it.
    c += text_at(colx[0], y + lead, "Model", fs);
    c += text_at(colx[1] + 40, y + lead, "Scores", fs);
    c += text_at(colx[3], y + lead, "Size", fs);
    c += hline(colx[1] - 4, colx[3] - 10, y + lead + 4, 0.4);
    c += text_at(colx[1], y + 2 * lead + 2, "Dev", fs);
    c += text_at(colx[2], y + 2 * lead + 2, "Test", fs);
    double mid = y + 2 * lead + 6;
    c += hline(x0, x0 + w, mid, 0.5);
    const char* names[] = {"baseline", "wide model", "deep model", "ensemble", "distilled"};
    double yy = mid;
    for (int r = 0; r < 5; ++r) {
      yy += lead;
      c += text_at(colx[0], yy, names[r], fs);
      c += text_at(colx[1], yy, num(70 + 3.1 * r), fs);
      c += text_at(colx[2], yy, num(68 + 2.7 * r), fs);
      c += text_at(colx[3], yy, std::to_string(110 + 45 * r), fs);
    }
    c += hline(x0, x0 + w, yy + 5, 1.0);
    c += paragraph(yy + 40, 6);
    auto src = pdf_of(c);
    TextBackendResult res = convert_text_layer(*src);
    SCOPED_TRACE("font size " + num(fs));
    ASSERT_EQ(res.doc.tables.size(), 1u);
    const TableData& d = res.doc.tables[0].data;
    EXPECT_EQ(d.num_rows, 7);
    EXPECT_EQ(d.num_cols, 4);
    const TableCell* scores = cell_at(d, 0, 1);
    ASSERT_NE(scores, nullptr);
    EXPECT_EQ(scores->text, "Scores");
    EXPECT_EQ(scores->col_span, 2);
    const TableCell* model = cell_at(d, 0, 0);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->text, "Model");
    EXPECT_EQ(model->row_span, 2);
    ASSERT_NE(cell_at(d, 1, 2), nullptr);
    EXPECT_EQ(cell_at(d, 1, 2)->text, "Test");
    for (const TableCell& x : d.cells) EXPECT_EQ(x.column_header, x.start_row < 2) << x.text;
    ASSERT_NE(cell_at(d, 3, 0), nullptr);
    EXPECT_EQ(cell_at(d, 3, 0)->text, "wide model");
    EXPECT_EQ(cell_at(d, 6, 3)->text, "290");
    int paragraphs = 0;
    for (const TextItem& t : res.doc.texts) paragraphs += t.text.rfind("The steady river", 0) == 0;
    EXPECT_EQ(paragraphs, 2) << "the text around the table stays text";
  }
}

// Header labels wider than their columns of numbers, set flush right over them, run into the
// gutters: each stays over its own column; a label centred over two columns spans both.
TEST(TextTablesRuled, WideHeaderLabelsStayOverTheirColumn) {
  for (double step : {80.0, 95.0}) {
    const double x0 = 90, right[3] = {x0 + 160, x0 + 160 + step, x0 + 160 + 2 * step};
    std::string c = paragraph(80, 4);
    double y = 200, fs = 9, lead = 14;
    c += hline(x0, right[2] + 6, y, 1.0);
    c += text_at(x0 + 4, y + lead, "Station", fs);
    const char* heads[3] = {"Mean annual rainfall", "Highest daily total", "Days"};
    for (int k = 0; k < 3; ++k) c += text_at(right[k] - helvetica_width(heads[k], fs), y + lead, heads[k], fs);
    c += hline(x0, right[2] + 6, y + lead + 5, 0.5);
    const char* names[] = {"north", "harbor", "valley", "ridge", "island"};
    double yy = y + lead + 5;
    for (int r = 0; r < 5; ++r) {
      yy += lead;
      c += text_at(x0 + 4, yy, names[r], fs);
      for (int k = 0; k < 3; ++k) {
        std::string v = std::to_string(100 + 7 * r + k);
        c += text_at(right[k] - helvetica_width(v, fs), yy, v, fs);
      }
    }
    c += hline(x0, right[2] + 6, yy + 5, 1.0);
    c += paragraph(yy + 40, 4);
    auto src = pdf_of(c);
    TextBackendResult res = convert_text_layer(*src);
    SCOPED_TRACE("column step " + num(step));
    ASSERT_EQ(res.doc.tables.size(), 1u);
    const TableData& d = res.doc.tables[0].data;
    ASSERT_EQ(d.num_cols, 4);
    for (int k = 0; k < 3; ++k) {
      const TableCell* h = cell_at(d, 0, k + 1);
      ASSERT_NE(h, nullptr);
      EXPECT_EQ(h->text, heads[k]);
      EXPECT_EQ(h->col_span, 1);
      EXPECT_TRUE(h->column_header);
    }
    EXPECT_EQ(cell_at(d, 5, 3)->text, std::to_string(100 + 7 * 4 + 2));
  }
}

// Two columns of prose between a rule under the page head and a rule over the footer, and a
// framed box of prose with a rule between its two columns: rules, but no table.
TEST(TextTablesRuled, TwoTextColumnsBetweenRulesAreNoTable) {
  std::string c = text_at(72, 60, "Annual report of the river harbor", 9) + hline(72, 540, 66, 0.6);
  for (int i = 0; i < 40; ++i) {
    c += text_at(72, 90 + 12 * i, "The steady river carries a quiet harbor near", 10);
    c += text_at(320, 90 + 12 * i, "every village and its long road to the sea.", 10);
  }
  c += hline(72, 540, 600, 0.6) + text_at(72, 620, "Table 2 lists the harbors by size.", 9);
  auto src = pdf_of(c);
  TextBackendResult res = convert_text_layer(*src);
  EXPECT_TRUE(res.doc.tables.empty());

  std::string box = paragraph(80, 4);
  box += hline(72, 540, 150) + hline(72, 540, 330) + vline(72, 150, 330) + vline(540, 150, 330) + vline(306, 150, 330);
  for (int i = 0; i < 12; ++i) {
    box += text_at(80, 168 + 12 * i, "A note on the quiet harbor and its", 10);
    box += text_at(314, 168 + 12 * i, "long road along the steady river.", 10);
  }
  box += text_at(72, 360, "Table 1: the harbors.", 9);
  auto bsrc = pdf_of(box);
  EXPECT_TRUE(convert_text_layer(*bsrc).doc.tables.empty());
}

// The same grid on a page with /Rotate 90 (shown turned, read upright): its rules turn with the
// words, so the cells and spans come out as on an upright page.
TEST(TextTablesRuled, GridOnARotatedPage) {
  std::vector<double> xs = {72, 180, 290, 400}, ys = {200, 218, 236, 254, 272};
  std::vector<GridCell> cells = {{0, 0, 0, 0, "Name"}, {0, 1, 0, 2, "Values"}, {1, 0, 3, 0, "alpha"},
                                 {1, 1, 1, 1, "1.5"},  {1, 2, 1, 2, "2.5"},    {2, 1, 2, 1, "3.5"},
                                 {2, 2, 2, 2, "4.5"},  {3, 1, 3, 1, "5.5"},    {3, 2, 3, 2, "6.5"}};
  std::string c = paragraph(100, 4) + text_at(72, 190, "Table 1: values.") + grid(xs, ys, cells) + paragraph(300, 4);
  std::vector<std::string> objs = {
      "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Rotate 90 /Resources << /Font << /F1 << /Type /Font "
      "/Subtype /Type1 /BaseFont /Helvetica >> >> >> /Contents 4 0 R >>",
      "<< /Length " + std::to_string(c.size()) + " >>\nstream\n" + c + "\nendstream"};
  std::string pdf = docling::testing::pdf_from_objects(objs);
  auto src = open_source_bytes(std::vector<uint8_t>(pdf.begin(), pdf.end()), "rotated.pdf");
  TextBackendResult res = convert_text_layer(*src);
  ASSERT_EQ(res.doc.tables.size(), 1u);
  const TableData& d = res.doc.tables[0].data;
  EXPECT_EQ(d.num_rows, 4);
  EXPECT_EQ(d.num_cols, 3);
  ASSERT_NE(cell_at(d, 0, 1), nullptr);
  EXPECT_EQ(cell_at(d, 0, 1)->text, "Values");
  EXPECT_EQ(cell_at(d, 0, 1)->col_span, 2);
  ASSERT_NE(cell_at(d, 1, 0), nullptr);
  EXPECT_EQ(cell_at(d, 1, 0)->text, "alpha");
  EXPECT_EQ(cell_at(d, 1, 0)->row_span, 3);
  // The table's box is on the displayed (turned) page: taller than wide.
  const BoundingBox& b = res.doc.tables[0].prov[0].bbox;
  EXPECT_GT(std::fabs(b.b - b.t), std::fabs(b.r - b.l));
}

// With tables off, or the rule pass off, the ruled grid is no table of spans.
TEST(TextTablesRuled, OptionsTurnThePassOff) {
  std::vector<double> xs = {72, 180, 290, 400}, ys = {200, 218, 236, 254, 272};
  std::vector<GridCell> cells = {{0, 0, 0, 0, "Name"}, {0, 1, 0, 2, "Values"}, {1, 0, 3, 0, "alpha"},
                                 {1, 1, 1, 1, "1.5"},  {1, 2, 1, 2, "2.5"},    {2, 1, 2, 1, "3.5"},
                                 {2, 2, 2, 2, "4.5"},  {3, 1, 3, 1, "5.5"},    {3, 2, 3, 2, "6.5"}};
  std::string c = text_at(72, 190, "Table 1: values.") + grid(xs, ys, cells);
  auto src = pdf_of(c);
  TextBackendResult on = convert_text_layer(*src);
  ASSERT_EQ(on.doc.tables.size(), 1u);
  ASSERT_NE(cell_at(on.doc.tables[0].data, 2, 0), nullptr);
  EXPECT_EQ(cell_at(on.doc.tables[0].data, 2, 0)->row_span, 3);
  TextBackendOptions off;
  off.tables = false;
  EXPECT_TRUE(convert_text_layer(*src, {}, off).doc.tables.empty());
  TextBackendOptions norules;
  norules.table_rules = false;
  for (const TableItem& t : convert_text_layer(*src, {}, norules).doc.tables)
    for (const TableCell& x : t.data.cells) EXPECT_EQ(x.row_span, 1);
}
