// Location tokens outside the 0..500 grid (issue 19 #16): the box is clamped to the page and
// the parser warns, for any number of digits; boxes on the grid are untouched and silent.
#include <gtest/gtest.h>

#include <string>

#include "doctags/parser.h"

using namespace docling;

namespace {

struct Parsed {
  Document doc;
  std::vector<ParseWarning> warnings;
};

Parsed parse(const std::string& dt, Size page = {1000, 2000}) {
  Parsed p;
  DocTagsParser parser(p.doc);
  parser.begin_page(nullptr, page);
  parser.feed(dt);
  parser.finish();
  p.warnings = parser.warnings();
  return p;
}

int count_kind(const Parsed& p, WarningKind k) {
  int n = 0;
  for (const ParseWarning& w : p.warnings) n += w.kind == k;
  return n;
}

void expect_inside(const BoundingBox& b, Size page, const std::string& what) {
  for (double x : {b.l, b.r}) {
    EXPECT_GE(x, 0) << what;
    EXPECT_LE(x, page.width) << what;
  }
  for (double y : {b.t, b.b}) {
    EXPECT_GE(y, 0) << what;
    EXPECT_LE(y, page.height) << what;
  }
}

}  // namespace

TEST(DocTagsLocs, OnGridIsExactAndSilent) {
  Parsed p = parse("<doctag><text><loc_0><loc_50><loc_500><loc_250>hello</text></doctag>");
  ASSERT_EQ(p.doc.texts.size(), 1u);
  ASSERT_EQ(p.doc.texts[0].prov.size(), 1u);
  const BoundingBox& b = p.doc.texts[0].prov[0].bbox;
  EXPECT_DOUBLE_EQ(b.l, 0);
  EXPECT_DOUBLE_EQ(b.t, 200);
  EXPECT_DOUBLE_EQ(b.r, 1000);
  EXPECT_DOUBLE_EQ(b.b, 1000);
  EXPECT_EQ(count_kind(p, WarningKind::BadLocation), 0);
  EXPECT_TRUE(p.warnings.empty());
}

TEST(DocTagsLocs, TextLocationPastTheGridIsClampedWithAWarning) {
  for (const char* loc : {"<loc_501>", "<loc_99999999>", "<loc_9999999999>", "<loc_99999999999999999999>"}) {
    Parsed p = parse(std::string("<doctag><text><loc_10><loc_20>") + loc + "<loc_40>hello</text></doctag>");
    ASSERT_EQ(p.doc.texts.size(), 1u) << loc;
    EXPECT_EQ(p.doc.texts[0].text, "hello") << loc;
    ASSERT_EQ(p.doc.texts[0].prov.size(), 1u) << loc << ": location dropped";
    const BoundingBox& b = p.doc.texts[0].prov[0].bbox;
    expect_inside(b, {1000, 2000}, loc);
    EXPECT_DOUBLE_EQ(b.r, 1000) << loc;  // clamped to the grid's edge
    EXPECT_DOUBLE_EQ(b.l, 20) << loc;
    EXPECT_EQ(count_kind(p, WarningKind::BadLocation), 1) << loc;
  }
}

TEST(DocTagsLocs, TableAndPictureBoxesStayOnThePage) {
  Parsed p = parse(
      "<doctag><otsl><loc_99999999><loc_99999999><loc_99999999><loc_99999999><fcel>a<nl></otsl>"
      "<picture><loc_1><loc_2><loc_600><loc_700></picture></doctag>");
  ASSERT_EQ(p.doc.tables.size(), 1u);
  ASSERT_EQ(p.doc.tables[0].prov.size(), 1u);
  expect_inside(p.doc.tables[0].prov[0].bbox, {1000, 2000}, "table");
  ASSERT_EQ(p.doc.pictures.size(), 1u);
  ASSERT_EQ(p.doc.pictures[0].prov.size(), 1u);
  expect_inside(p.doc.pictures[0].prov[0].bbox, {1000, 2000}, "picture");
  EXPECT_EQ(count_kind(p, WarningKind::BadLocation), 6);
  for (const ParseWarning& w : p.warnings) {
    if (w.kind != WarningKind::BadLocation) continue;
    EXPECT_NE(w.message.find("500"), std::string::npos) << w.message;
  }
  EXPECT_STREQ(to_string(WarningKind::BadLocation), "bad-location");
}
