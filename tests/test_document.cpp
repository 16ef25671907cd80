#include <gtest/gtest.h>

#include "core/document.h"

using namespace docling;

TEST(Ref, PointerRoundTrip) {
  for (const char* p : {"#/body", "#/furniture", "#/texts/0", "#/groups/12", "#/tables/3",
                        "#/pictures/7", "#/key_value_items/1", "#/form_items/0"}) {
    auto r = Ref::parse(p);
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->pointer(), p);
  }
  EXPECT_FALSE(Ref::parse("#/texts/"));
  EXPECT_FALSE(Ref::parse("#/texts/x"));
  EXPECT_FALSE(Ref::parse("#/nope/1"));
  EXPECT_FALSE(Ref::parse("texts/1"));
}

TEST(Document, BuildTree) {
  Document doc;
  Ref list = doc.add_group(GroupLabel::List, "list", Ref::body());
  Ref item = doc.add_text(Label::ListItem, "one", list);
  Ref h = doc.add_text(Label::PageHeader, "hdr", Ref::body(), std::nullopt, ContentLayer::Furniture);
  EXPECT_EQ(doc.body.children.size(), 2u);
  EXPECT_EQ(doc.group(list).children.at(0), item);
  EXPECT_EQ(doc.text(item).parent, list);
  EXPECT_EQ(doc.text(h).content_layer, ContentLayer::Furniture);
  EXPECT_EQ(doc.node(Ref{RefKind::Text, 9}), nullptr);
}

TEST(TableData, GridRepeatsSpans) {
  TableData t;
  t.num_rows = 2, t.num_cols = 2;
  TableCell c;
  c.row_span = 1, c.col_span = 2, c.start_row = 0, c.end_row = 1, c.start_col = 0, c.end_col = 2;
  c.text = "wide";
  t.cells.push_back(c);
  auto g = t.grid();
  EXPECT_EQ(g[0][0].text, "wide");
  EXPECT_EQ(g[0][1].text, "wide");
  EXPECT_EQ(g[1][1].text, "");
  EXPECT_EQ(g[1][1].start_col, 1);
}
