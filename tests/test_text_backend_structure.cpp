// Structure the text-layer backend must get right on documents it has not seen: heading
// levels from numbering and style, the document title, table header rows (styled or placed
// as headers, not merely first), and captions (the "Table N:" text next to the object,
// not a sentence that mentions it). Synthetic pages, then groff documents made by
// tests/data/text_backend/make_docs.sh.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "layout/heading_levels.h"
#include "layout/pdf.h"
#include "layout/text_backend.h"

using namespace docling;

// Poppler's fontconfig cache lives for the process; not a leak of ours.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace {

struct Ln {
  std::string text;
  double l, t, fs = 10;
  bool bold = false;
  double space_em = 0.25;  // gap between words
};

TextPage make_page(const std::vector<Ln>& lines) {
  TextPage p;
  p.width = 612, p.height = 792;
  for (const Ln& ln : lines) {
    std::istringstream in(ln.text);
    std::string word;
    double x = ln.l;
    while (in >> word) {
      TextWord tw;
      tw.text = word;
      tw.l = x, tw.r = x + 0.5 * ln.fs * double(word.size());
      tw.t = ln.t, tw.b = ln.t + 1.2 * ln.fs;
      tw.font_size = ln.fs;
      tw.bold = ln.bold;
      tw.font_name = ln.bold ? "Test-Bold" : "Test-Regular";
      tw.space_after = true;
      x = tw.r + ln.space_em * ln.fs;
      p.words.push_back(tw);
    }
  }
  build_lines(p);
  return p;
}

const char* kBody = "body text that runs along the line for a while";

struct Head {
  std::string text;
  Label label;
  int level;
};

std::vector<Head> headings(const Document& d) {
  std::vector<Head> out;
  for (const TextItem& t : d.texts)
    if (t.label == Label::SectionHeader || t.label == Label::Title) out.push_back({t.text, t.label, t.level});
  return out;
}

const TextItem* find_text(const Document& d, const std::string& prefix) {
  for (const TextItem& t : d.texts)
    if (t.text.rfind(prefix, 0) == 0) return &t;
  return nullptr;
}

int header_rows(const TableItem& t) {
  int rows = 0;
  for (const auto& row : t.data.grid()) {
    bool all = !row.empty();
    for (const TableCell& c : row) all &= c.column_header;
    if (!all) break;
    ++rows;
  }
  return rows;
}

bool any_header_after(const TableItem& t, int rows) {
  for (const TableCell& c : t.data.cells)
    if (c.start_row >= rows && c.column_header) return true;
  return false;
}

}  // namespace

TEST(HeadingLevels, NumberingDepth) {
  EXPECT_EQ(numbering_depth("3. Warehouses"), 1);
  EXPECT_EQ(numbering_depth("3.1. Staffing"), 2);
  EXPECT_EQ(numbering_depth("3.1.2 Night shifts"), 3);
  EXPECT_EQ(numbering_depth("2 Methods"), 1);
  EXPECT_EQ(numbering_depth("A.1 Proofs"), 2);
  EXPECT_EQ(numbering_depth("IV. Results"), 1);
  EXPECT_EQ(numbering_depth("Introduction"), 0);
  EXPECT_EQ(numbering_depth("2.5 million parcels"), 0);
  EXPECT_EQ(numbering_depth("2024 Annual Review"), 0);
  EXPECT_EQ(numbering_depth("In 2024"), 0);
}

// Numbering decides the level; an unnumbered heading set like the level-1 ones is level 1;
// the first, largest heading is the title.
TEST(TextBackendStructure, LevelsFromNumbering) {
  TextPage p = make_page({{"Annual Survey", 150, 60, 18, true},
                          {"1. Scope", 72, 100, 11, true},
                          {kBody, 72, 120},
                          {"1.1. Structures", 72, 150, 11, true},
                          {kBody, 72, 170},
                          {"1.1.2. Steel", 72, 200, 11, true},
                          {kBody, 72, 220},
                          {"2. Findings", 72, 250, 11, true},
                          {kBody, 72, 270},
                          {"References", 72, 300, 11, true},
                          {kBody, 72, 320}});
  auto h = headings(convert_text_pages({p}, "num").doc);
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h[0].label, Label::Title);
  std::vector<int> levels;
  for (size_t i = 1; i < h.size(); ++i) levels.push_back(h[i].level);
  EXPECT_EQ(levels, (std::vector<int>{1, 2, 3, 1, 1}));
}

// Without numbering, sizes and weight rank the headings; the title is not a section.
TEST(TextBackendStructure, LevelsFromSizeAndWeight) {
  TextPage p = make_page({{"Harbour Notes", 72, 60, 20, true},
                          {"Arrivals", 72, 100, 15, true},
                          {kBody, 72, 125},
                          {"Container ships", 72, 150, 12, true},
                          {kBody, 72, 170},
                          {"Night arrivals", 72, 200, 10, true},
                          {kBody, 72, 220},
                          {"Departures", 72, 250, 15, true},
                          {kBody, 72, 275}});
  auto h = headings(convert_text_pages({p}, "size").doc);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[0].label, Label::Title);
  EXPECT_EQ(h[1].level, 1);
  EXPECT_EQ(h[2].level, 2);
  EXPECT_EQ(h[3].level, 3);
  EXPECT_EQ(h[4].level, 1);
  // Numbered sections under a larger unnumbered part heading go one below it.
  HeadingLevels mixed = assign_heading_levels({{"Part One", 16, true, 1, 0.5},
                                               {"1. Intro", 12, true, 1, 0.6},
                                               {"Remarks", 10, true, 1, 0.7}},
                                              1);
  EXPECT_EQ(mixed.title, -1);  // not in the top of the page
  EXPECT_EQ(mixed.level, (std::vector<int>{1, 1, 2}));
}

// A header row set with narrow gaps is one text line above the table: it is the header,
// not a paragraph, and the first data row is not.
TEST(TextBackendStructure, HeaderLinePlacedAboveTheRows) {
  std::vector<Ln> lines = {{"Counts by region are listed below in thousands.", 72, 80},
                           {"Region July August", 200, 110, 10, false, 1.2}};
  const char* rows[3][3] = {{"North", "120", "131"}, {"South", "98", "102"}, {"East", "143", "150"}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) lines.push_back({rows[r][c], 200.0 + 42 * c, 126.0 + 14 * r});
  lines.push_back({"After the table " + std::string(kBody), 72, 190});
  Document d = convert_text_pages({make_page(lines)}, "hdr").doc;
  ASSERT_EQ(d.tables.size(), 1u);
  const TableItem& t = d.tables[0];
  auto grid = t.data.grid();
  ASSERT_EQ(grid.size(), 4u);
  EXPECT_EQ(grid[0][0].text, "Region");
  EXPECT_EQ(grid[0][2].text, "August");
  EXPECT_EQ(grid[1][0].text, "North");
  EXPECT_EQ(header_rows(t), 1);
  EXPECT_FALSE(any_header_after(t, 1));
  EXPECT_EQ(find_text(d, "Region"), nullptr);
}

// Bold header rows mark the header even over text columns; a table with no header
// styling and numbers in its first row has no header row.
TEST(TextBackendStructure, BoldHeaderAndHeaderlessTables) {
  std::vector<Ln> lines;
  const char* rows[4][2] = {{"Term", "Meaning"}, {"pier", "a landing stage"}, {"quay", "a stone wharf"}, {"berth", "a ship's place"}};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 2; ++c) lines.push_back({rows[r][c], 100.0 + 150 * c, 100.0 + 14 * r, 10, r == 0});
  const char* nums[3][3] = {{"Week one", "12", "4"}, {"Week two", "15", "6"}, {"Week three", "11", "3"}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) lines.push_back({nums[r][c], 100.0 + 120 * c, 250.0 + 14 * r});
  Document d = convert_text_pages({make_page(lines)}, "bold").doc;
  ASSERT_EQ(d.tables.size(), 2u);
  EXPECT_EQ(header_rows(d.tables[0]), 1);
  EXPECT_FALSE(any_header_after(d.tables[0], 1));
  EXPECT_FALSE(any_header_after(d.tables[1], 0));
}

// The caption is the "Table N:" line next to the table, below it here; the sentence above
// that mentions the table stays body text.
TEST(TextBackendStructure, CaptionIsTheLabelNextToTheTable) {
  std::vector<Ln> lines = {{"Table 2 lists the measured stage times on a small machine.", 72, 80}};
  const char* rows[3][2] = {{"Stage", "Time"}, {"render", "0.4"}, {"decode", "12.6"}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) lines.push_back({rows[r][c], 100.0 + 120 * c, 100.0 + 14 * r});
  lines.push_back({"Table 2: Stage times.", 100, 146});
  lines.push_back({"Figure 3 shows the same numbers as a chart.", 72, 175});
  lines.push_back({"Table 5. A caption far from any table.", 72, 400});
  Document d = convert_text_pages({make_page(lines)}, "cap").doc;
  ASSERT_EQ(d.tables.size(), 1u);
  const TableItem& t = d.tables[0];
  ASSERT_EQ(t.captions.size(), 1u);
  EXPECT_EQ(d.texts[t.captions[0].index].text, "Table 2: Stage times.");
  EXPECT_EQ(d.texts[t.captions[0].index].parent, (Ref{RefKind::Table, 0}));
  ASSERT_NE(find_text(d, "Table 2 lists"), nullptr);
  EXPECT_EQ(find_text(d, "Table 2 lists")->label, Label::Text);
  EXPECT_EQ(find_text(d, "Figure 3 shows")->label, Label::Text);
  const TextItem* far = find_text(d, "Table 5.");
  ASSERT_NE(far, nullptr);
  EXPECT_EQ(far->label, Label::Caption);  // a caption, but no table is near it
  EXPECT_EQ(far->parent, Ref::body());
}

// A caption set directly above its table, without space after the paragraph before it.
TEST(TextBackendStructure, CaptionAboveTheTableStartsItsOwnBlock) {
  std::vector<Ln> lines = {{"Steel bridges were checked for corrosion at every joint.", 72, 80},
                           {"Table 4. Inspections by material", 120, 92}};
  const char* rows[3][2] = {{"Material", "Visits"}, {"Steel", "41"}, {"Timber", "13"}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) lines.push_back({rows[r][c], 120.0 + 120 * c, 110.0 + 14 * r, 10, r == 0});
  Document d = convert_text_pages({make_page(lines)}, "above").doc;
  ASSERT_EQ(d.tables.size(), 1u);
  ASSERT_EQ(d.tables[0].captions.size(), 1u);
  EXPECT_EQ(d.texts[d.tables[0].captions[0].index].text, "Table 4. Inspections by material");
  EXPECT_EQ(find_text(d, "Steel bridges")->text, "Steel bridges were checked for corrosion at every joint.");
}

// --- groff documents (tests/data/text_backend/make_docs.sh) ------------------------------

namespace {

Document convert_pdf(const std::string& name) {
  auto src = open_source(std::string(DOCLING_TEST_DATA) + "/text_backend/" + name);
  return convert_text_layer(*src).doc;
}

}  // namespace

TEST(TextBackendStructure, GroffNumberedHierarchy) {
  Document d = convert_pdf("structure_ms.pdf");
  auto h = headings(d);
  ASSERT_EQ(h.size(), 7u);
  EXPECT_EQ(h[0].label, Label::Title);
  EXPECT_EQ(h[0].text, "Field Survey of Bridge Inspections");
  std::vector<int> levels;
  for (size_t i = 1; i < h.size(); ++i) levels.push_back(h[i].level);
  EXPECT_EQ(levels, (std::vector<int>{1, 2, 3, 3, 2, 1}));
  // Table 2: caption above, bold header. Table 3: caption below.
  ASSERT_EQ(d.tables.size(), 2u);
  EXPECT_EQ(header_rows(d.tables[0]), 1);
  EXPECT_EQ(d.tables[0].data.grid()[0][0].text, "Material");
  ASSERT_EQ(d.tables[0].captions.size(), 1u);
  EXPECT_EQ(d.texts[d.tables[0].captions[0].index].text, "Table 2: Inspections by material.");
  ASSERT_EQ(d.tables[1].captions.size(), 1u);
  EXPECT_EQ(d.texts[d.tables[1].captions[0].index].text, "Table 3. Inspection schedule by phase.");
  for (const char* s : {"Table 2 shows", "This survey covers", "Most structures"}) {
    ASSERT_NE(find_text(d, s), nullptr) << s;
    EXPECT_EQ(find_text(d, s)->label, Label::Text) << s;
  }
}

TEST(TextBackendStructure, GroffUnnumberedHierarchy) {
  Document d = convert_pdf("structure_unnumbered.pdf");
  auto h = headings(d);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[0].label, Label::Title);
  std::vector<int> levels;
  for (size_t i = 1; i < h.size(); ++i) levels.push_back(h[i].level);
  EXPECT_EQ(levels, (std::vector<int>{1, 2, 3, 1}));
  ASSERT_EQ(d.tables.size(), 1u);
  EXPECT_EQ(header_rows(d.tables[0]), 0);  // every row is data
  EXPECT_TRUE(d.tables[0].captions.empty());
}

// The repository's samples: "3.1. Staffing" under "3. Warehouses", the report's header
// row inside its table, and the article's caption rather than the sentence before it.
TEST(TextBackendStructure, Samples) {
  auto open = [](const char* n) {
    return convert_text_layer(*open_source(std::string(DOCLING_TEST_DATA) + "/../../samples/" + n)).doc;
  };
  Document report = open("report.pdf");
  const TextItem* staffing = find_text(report, "3.1. Staffing");
  ASSERT_NE(staffing, nullptr);
  EXPECT_EQ(staffing->level, 2);
  EXPECT_EQ(find_text(report, "3. Warehouses")->level, 1);
  ASSERT_EQ(report.tables.size(), 1u);
  EXPECT_EQ(report.tables[0].data.grid()[0][3].text, "September");
  EXPECT_EQ(header_rows(report.tables[0]), 1);
  Document article = open("article.pdf");
  ASSERT_EQ(article.tables.size(), 1u);
  ASSERT_EQ(article.tables[0].captions.size(), 1u);
  EXPECT_EQ(article.texts[article.tables[0].captions[0].index].text.rfind("Table 1: Stage times", 0), 0u);
  EXPECT_EQ(find_text(article, "Table 1 lists")->label, Label::Text);
}
