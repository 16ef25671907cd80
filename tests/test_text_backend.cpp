// The text-layer backend on synthetic pages: reading order, furniture, lists,
// paragraphs, headings, tables, captions, provenance and per-page warnings.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "layout/text_backend.h"

using namespace docling;

namespace {

struct Ln {
  std::string text;
  double l, t, fs = 10;
  bool bold = false;
};

// Words laid out left to right: 0.5 em per character, 0.25 em spaces.
TextPage make_page(int page_no, const std::vector<Ln>& lines, double w = 612, double h = 792) {
  TextPage p;
  p.page_no = page_no;
  p.width = w, p.height = h;
  for (const Ln& ln : lines) {
    std::istringstream in(ln.text);
    std::string word;
    double x = ln.l;
    while (in >> word) {
      TextWord tw;
      tw.text = word;
      tw.l = x;
      tw.r = x + 0.5 * ln.fs * double(word.size());
      tw.t = ln.t;
      tw.b = ln.t + 1.2 * ln.fs;
      tw.font_size = ln.fs;
      tw.bold = ln.bold;
      tw.font_name = ln.bold ? "Test-Bold" : "Test-Regular";
      tw.space_after = true;
      x = tw.r + 0.25 * ln.fs;
      p.words.push_back(tw);
    }
  }
  build_lines(p);
  return p;
}

std::vector<const TextItem*> body_texts(const Document& doc) {
  std::vector<const TextItem*> out;
  for (const TextItem& t : doc.texts)
    if (t.content_layer == ContentLayer::Body) out.push_back(&t);
  return out;
}

const char* kLong = "lorem ipsum dolor sit amet consectetur";  // 38 chars = 190 pt at 10 pt

}  // namespace

TEST(TextBackend, TwoColumnsReadColumnByColumn) {
  std::vector<Ln> lines = {{"Results of the Two Column Study", 72, 60, 16, true}};
  for (int k = 0; k < 8; ++k) {
    lines.push_back({std::string("left") + char('a' + k) + " " + kLong, 72, 100.0 + 13 * k});
    lines.push_back({std::string("right") + char('a' + k) + " " + kLong, 330, 100.0 + 13 * k});
  }
  lines.push_back({"A closing paragraph that spans the whole width of the page body text " + std::string(kLong), 72, 240});
  TextBackendResult res = convert_text_pages({make_page(1, lines)}, "cols");
  auto texts = body_texts(res.doc);
  ASSERT_EQ(texts.size(), 4u);
  EXPECT_EQ(texts[0]->label, Label::SectionHeader);
  EXPECT_EQ(texts[0]->text, "Results of the Two Column Study");
  EXPECT_EQ(texts[1]->text.rfind("lefta", 0), 0u) << texts[1]->text;
  EXPECT_NE(texts[1]->text.find("lefth"), std::string::npos);
  EXPECT_EQ(texts[1]->text.find("right"), std::string::npos) << texts[1]->text;
  EXPECT_EQ(texts[2]->text.rfind("righta", 0), 0u) << texts[2]->text;
  EXPECT_EQ(texts[3]->text.rfind("A closing", 0), 0u);
}

TEST(TextBackend, RunningHeadsAndPageNumbersAreFurniture) {
  std::vector<TextPage> pages;
  for (int p = 1; p <= 3; ++p)
    pages.push_back(make_page(p, {{"Journal of Synthetic Tests", 72, 30},
                                  {"Body text of page " + std::to_string(p) + " " + kLong, 72, 200},
                                  {std::to_string(p + 10), 300, 760}}));
  TextBackendResult res = convert_text_pages(std::move(pages), "furn");
  int headers = 0, footers = 0;
  for (const TextItem& t : res.doc.texts) {
    if (t.label == Label::PageHeader) ++headers;
    if (t.label == Label::PageFooter) ++footers;
    if (t.label == Label::PageHeader || t.label == Label::PageFooter) {
      EXPECT_EQ(t.content_layer, ContentLayer::Furniture);
    }
  }
  EXPECT_EQ(headers, 3);
  EXPECT_EQ(footers, 3);
  auto texts = body_texts(res.doc);
  ASSERT_EQ(texts.size(), 3u);
  for (const TextItem* t : texts) EXPECT_EQ(t->text.find("Journal"), std::string::npos);
  // Same pages with furniture detection off: everything is body.
  std::vector<TextPage> again;
  for (int p = 1; p <= 3; ++p)
    again.push_back(make_page(p, {{"Journal of Synthetic Tests", 72, 30}, {kLong, 72, 200}}));
  TextBackendOptions opt;
  opt.furniture = false;
  EXPECT_EQ(body_texts(convert_text_pages(std::move(again), "x", opt).doc).size(), 6u);
}

TEST(TextBackend, BulletAndNumberedLists) {
  TextPage p = make_page(1, {{"Intro paragraph before the list " + std::string(kLong), 72, 80},
                             {"\xE2\x80\xA2 first item that wraps onto", 90, 110},
                             {"a second line", 108, 122},
                             {"\xE2\x80\xA2 second item", 90, 136},
                             {"Between the lists " + std::string(kLong), 72, 170},
                             {"1. alpha", 90, 200},
                             {"2. beta", 90, 214},
                             {"(c) gamma", 90, 228}});
  TextBackendResult res = convert_text_pages({p}, "lists");
  const Document& d = res.doc;
  ASSERT_EQ(d.groups.size(), 2u);
  EXPECT_EQ(d.groups[0].label, GroupLabel::List);
  ASSERT_EQ(d.groups[0].children.size(), 2u);
  const TextItem& first = d.texts[d.groups[0].children[0].index];
  EXPECT_EQ(first.label, Label::ListItem);
  EXPECT_EQ(first.text, "first item that wraps onto a second line");
  EXPECT_EQ(first.marker, "\xE2\x80\xA2");
  EXPECT_FALSE(first.enumerated);
  EXPECT_EQ(first.parent, (Ref{RefKind::Group, 0}));
  ASSERT_EQ(d.groups[1].children.size(), 3u);
  const TextItem& alpha = d.texts[d.groups[1].children[0].index];
  EXPECT_TRUE(alpha.enumerated);
  EXPECT_EQ(alpha.marker, "1.");
  EXPECT_EQ(alpha.text, "alpha");
  EXPECT_EQ(d.texts[d.groups[1].children[2].index].marker, "(c)");
}

TEST(TextBackend, ParagraphsJoinAcrossLinesWithDehyphenation) {
  TextPage p = make_page(1, {{"This paragraph has a hyphen-", 72, 100},
                             {"ated word and a well-known com-", 72, 112},
                             {"pound; the end.", 72, 124},
                             {"Second paragraph after a gap.", 72, 150}});
  TextBackendResult res = convert_text_pages({p}, "para");
  auto texts = body_texts(res.doc);
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[0]->text, "This paragraph has a hyphenated word and a well-known compound; the end.");
  EXPECT_EQ(texts[0]->label, Label::Text);
  EXPECT_EQ(texts[1]->text, "Second paragraph after a gap.");
}

TEST(TextBackend, HeadingsFromSizeAndWeight) {
  std::vector<Ln> lines = {{"Big Heading", 72, 60, 18, true},
                           {std::string(kLong) + " body", 72, 90},
                           {"Bold Run Heading", 72, 120, 10, true},
                           {std::string(kLong) + " more body.", 72, 140},
                           {"Mid Heading", 72, 170, 14, false},
                           {std::string(kLong) + " last body.", 72, 195}};
  // The first, largest heading is the title; the others get levels by size, then weight.
  TextBackendResult lev = convert_text_pages({make_page(1, lines)}, "h");
  ASSERT_EQ(lev.doc.texts[0].label, Label::Title);
  EXPECT_EQ(lev.doc.texts[0].text, "Big Heading");
  std::vector<int> levels;
  for (const TextItem& t : lev.doc.texts)
    if (t.label == Label::SectionHeader) levels.push_back(t.level);
  // The 10 pt heading ranks below the 14 pt one, but it comes first: a heading goes at most one
  // level below the one before it, so it opens at level 1.
  EXPECT_EQ(levels, (std::vector<int>{1, 1}));
  std::vector<Ln> swapped = lines;
  std::swap(swapped[2].text, swapped[4].text);
  std::swap(swapped[2].fs, swapped[4].fs);
  std::swap(swapped[2].bold, swapped[4].bold);
  TextBackendResult sw = convert_text_pages({make_page(1, swapped)}, "h");
  levels.clear();
  for (const TextItem& t : sw.doc.texts)
    if (t.label == Label::SectionHeader) levels.push_back(t.level);
  EXPECT_EQ(levels, (std::vector<int>{1, 2}));  // 14 pt, then 10 pt bold under it
  TextBackendOptions opt;
  opt.heading_levels = false;  // every section header level 1
  TextBackendResult flat = convert_text_pages({make_page(1, lines)}, "h", opt);
  std::vector<const TextItem*> heads;
  for (const TextItem& t : flat.doc.texts)
    if (t.label == Label::SectionHeader) heads.push_back(&t);
  ASSERT_EQ(heads.size(), 2u);
  for (const TextItem* h : heads) EXPECT_EQ(h->level, 1);
}

TEST(TextBackend, AlignedCellsBecomeATableWithCaption) {
  std::vector<Ln> lines = {{"Table 1: Measured speeds", 72, 80}};
  const char* rows[4][3] = {{"Name", "Speed", "Pages"}, {"alpha", "12.5", "100"},
                            {"beta", "7.25", "20"}, {"gamma", "3.0", "8"}};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 3; ++c) lines.push_back({rows[r][c], 72.0 + 120 * c, 100.0 + 14 * r});
  lines.push_back({"After the table " + std::string(kLong), 72, 170});
  TextBackendResult res = convert_text_pages({make_page(1, lines)}, "tab");
  ASSERT_EQ(res.doc.tables.size(), 1u);
  const TableItem& t = res.doc.tables[0];
  EXPECT_EQ(t.data.num_rows, 4);
  EXPECT_EQ(t.data.num_cols, 3);
  auto grid = t.data.grid();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(grid[r][c].text, rows[r][c]) << r << "," << c;
  EXPECT_TRUE(grid[0][1].column_header);
  EXPECT_FALSE(grid[1][1].column_header);
  ASSERT_EQ(t.captions.size(), 1u);
  const TextItem& cap = res.doc.texts[t.captions[0].index];
  EXPECT_EQ(cap.label, Label::Caption);
  EXPECT_EQ(cap.parent, (Ref{RefKind::Table, 0}));
  // Body order: table (with its caption nested), then the paragraph.
  ASSERT_EQ(res.doc.body.children.size(), 2u);
  EXPECT_EQ(res.doc.body.children[0].kind, RefKind::Table);
  ASSERT_EQ(t.prov.size(), 1u);
  EXPECT_NEAR(t.prov[0].bbox.t, 100 + 14, 15);
}

// A header row typeset with narrow gaps reads as one line across two columns: its words
// are split into the columns below them instead of one cell spanning both.
TEST(TextBackend, HeaderLineAcrossColumnsIsSplitByWords) {
  std::vector<Ln> lines = {{"Stage", 72, 100}, {"Time (s) Share (%)", 192, 100}};
  const char* rows[3][3] = {{"alpha", "12.5", "100"}, {"beta", "7.25", "20"}, {"gamma", "3.0", "8"}};
  for (int r = 0; r < 3; ++r) {
    lines.push_back({rows[r][0], 72, 114.0 + 14 * r});
    lines.push_back({rows[r][1], 192, 114.0 + 14 * r});
    lines.push_back({rows[r][2], 250, 114.0 + 14 * r});
  }
  lines.push_back({"After the table " + std::string(kLong), 72, 170});
  TextBackendResult res = convert_text_pages({make_page(1, lines)}, "hdr");
  ASSERT_EQ(res.doc.tables.size(), 1u);
  auto grid = res.doc.tables[0].data.grid();
  ASSERT_EQ(grid.size(), 4u);
  ASSERT_EQ(grid[0].size(), 3u);
  EXPECT_EQ(grid[0][1].text, "Time (s)");
  EXPECT_EQ(grid[0][2].text, "Share (%)");
  EXPECT_EQ(grid[0][1].col_span, 1);
  EXPECT_EQ(grid[2][2].text, "20");
}

TEST(TextBackend, ProvenanceInPagePointsTopLeft) {
  std::string text = "\xC3\x9Cn\xC3\xAF c\xC3\xB6" "d\xC3\xA9 text";  // "Ünï cödé text"
  TextBackendResult res = convert_text_pages({make_page(2, {{text, 100, 300}}, 500, 700)}, "prov");
  ASSERT_EQ(res.doc.texts.size(), 1u);
  const ProvenanceItem& p = res.doc.texts[0].prov.at(0);
  EXPECT_EQ(p.page_no, 2);
  EXPECT_EQ(p.bbox.origin, CoordOrigin::TopLeft);
  EXPECT_NEAR(p.bbox.l, 100, 1e-9);
  EXPECT_NEAR(p.bbox.t, 300, 1e-9);
  EXPECT_NEAR(p.bbox.b, 312, 1e-9);
  EXPECT_EQ(p.charspan[0], 0);
  EXPECT_EQ(p.charspan[1], 13);  // code points, as Python's len()
  ASSERT_EQ(res.doc.pages.size(), 1u);
  EXPECT_EQ(res.doc.pages[0].page_no, 2);
  EXPECT_EQ(res.doc.pages[0].size.width, 500);
  EXPECT_EQ(res.doc.pages[0].size.height, 700);
}

TEST(TextBackend, PageWithoutTextIsReportedAndKept) {
  std::vector<TextPage> pages = {make_page(1, {{kLong, 72, 100}}), make_page(2, {}),
                                 make_page(3, {{kLong, 72, 100}})};
  TextBackendResult res = convert_text_pages(std::move(pages), "scan.pdf");
  EXPECT_EQ(res.pages_without_text, std::vector<int>{2});
  ASSERT_EQ(res.warnings.size(), 1u);
  EXPECT_NE(res.warnings[0].find("page 2"), std::string::npos) << res.warnings[0];
  EXPECT_NE(res.warnings[0].find("scan.pdf"), std::string::npos) << res.warnings[0];
  ASSERT_EQ(res.doc.pages.size(), 3u);
  EXPECT_EQ(res.doc.texts.back().prov[0].page_no, 3);
}

TEST(TextBackend, RightToLeftLineIsReadFromTheRight) {
  // Poppler gives Arabic words in visual order; "مرحبا" drawn as its reversal.
  TextPage p;
  p.width = 612, p.height = 792;
  auto word = [&](const std::string& t, double l) {
    TextWord w;
    w.text = t;
    w.l = l, w.r = l + 40, w.t = 100, w.b = 112, w.font_size = 10, w.space_after = true;
    p.words.push_back(w);
  };
  word("\xD8\xA7\xD8\xA8\xD8\xAD\xD8\xB1\xD9\x85", 200);  // visual "ابحرم" (right word)
  word("\xD9\x85\xD9\x84\xD8\xA7\xD8\xB3", 155);          // visual "مالس"
  build_lines(p);
  ASSERT_EQ(p.lines.size(), 1u);
  EXPECT_TRUE(p.lines[0].rtl);
  EXPECT_EQ(p.lines[0].text, "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xD8\xB3\xD8\xA7\xD9\x84\xD9\x85");
}
