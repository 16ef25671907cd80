// Page range specs: "1-3,7", "5-", validation and clamping.
#include <gtest/gtest.h>

#include <climits>

#include "layout/page_range.h"

using namespace docling;

TEST(PageRange, ParsesItemsAndSpaces) {
  auto s = parse_page_spans(" 1-3 , 7,9- ");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].first, 1);
  EXPECT_EQ(s[0].last, 3);
  EXPECT_EQ(s[1].first, 7);
  EXPECT_EQ(s[1].last, 7);
  EXPECT_EQ(s[2].first, 9);
  EXPECT_EQ(s[2].last, -1);
  EXPECT_TRUE(parse_page_spans("").empty());
}

TEST(PageRange, SelectsSortedUniquePages) {
  PageSelection sel = select_pages("7,1-3,2", 10);
  EXPECT_EQ(sel.pages, (std::vector<int>{1, 2, 3, 7}));
  EXPECT_TRUE(sel.warnings.empty());
  EXPECT_EQ(select_pages("", 3).pages, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(select_pages("2-", 4).pages, (std::vector<int>{2, 3, 4}));
}

TEST(PageRange, RejectsBadSpecs) {
  for (const char* bad : {"0", "0-2", "-1", "-3-5", "3-1", "a", "1-b", "1,,2", ",", "1-2-3",
                          "1.5", "+2", "99999999999", "1 2"}) {
    EXPECT_THROW(parse_page_spans(bad), PageRangeError) << bad;
  }
  try {
    parse_page_spans("5-2");
    FAIL();
  } catch (const PageRangeError& e) {
    EXPECT_NE(std::string(e.what()).find("reversed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("5-2"), std::string::npos) << e.what();
  }
}

TEST(PageRange, ClampsPastTheEndWithWarning) {
  PageSelection sel = select_pages("3-10", 5);
  EXPECT_EQ(sel.pages, (std::vector<int>{3, 4, 5}));
  ASSERT_EQ(sel.warnings.size(), 1u);
  EXPECT_NE(sel.warnings[0].find("clamped"), std::string::npos) << sel.warnings[0];

  sel = select_pages("1,8", 5);
  EXPECT_EQ(sel.pages, (std::vector<int>{1}));
  ASSERT_EQ(sel.warnings.size(), 1u);
  EXPECT_NE(sel.warnings[0].find("page 8"), std::string::npos) << sel.warnings[0];

  EXPECT_THROW(select_pages("6-9", 5), PageRangeError);  // nothing left
}

// Issue 19 #12: numbers up to INT_MAX neither loop forever (p <= INT_MAX; ++p) nor allocate
// per requested page; the work follows the document's pages.
TEST(PageRange, IntMaxDoesNotOverflowOrAllocate) {
  auto spans = parse_page_spans("2147483647, 1-2147483647, 2147483647-");
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].first, INT_MAX);
  EXPECT_EQ(spans[0].last, INT_MAX);
  EXPECT_EQ(spans[1].last, INT_MAX);
  EXPECT_EQ(spans[2].last, -1);
  EXPECT_THROW(parse_page_spans("2147483648"), PageRangeError);
  EXPECT_THROW(parse_page_spans("1-99999999999999999999"), PageRangeError);

  EXPECT_THROW(select_pages("2147483647", 5), PageRangeError);
  EXPECT_THROW(select_pages("2147483647-", 5), PageRangeError);
  PageSelection sel = select_pages("1-2147483647", 3);
  EXPECT_EQ(sel.pages, (std::vector<int>{1, 2, 3}));
  ASSERT_EQ(sel.warnings.size(), 1u);
  EXPECT_NE(sel.warnings[0].find("clamped"), std::string::npos) << sel.warnings[0];
}

TEST(PageRange, DocumentOfIntMaxPages) {
  // Only the selected pages cost anything, even when the count is the largest int.
  EXPECT_EQ(select_pages("2147483647", INT_MAX).pages, (std::vector<int>{INT_MAX}));
  EXPECT_EQ(select_pages("2, 1-3, 2147483646-", INT_MAX).pages,
            (std::vector<int>{1, 2, 3, INT_MAX - 1, INT_MAX}));
  PageSelection sel = select_pages("2147483640-2147483647,2147483645", INT_MAX);
  ASSERT_EQ(sel.pages.size(), 8u);
  EXPECT_EQ(sel.pages.front(), INT_MAX - 7);
  EXPECT_EQ(sel.pages.back(), INT_MAX);
  EXPECT_TRUE(sel.warnings.empty());
}

TEST(PageRange, OverlapsMergeAndEmptyDocumentsSelectNothing) {
  EXPECT_EQ(select_pages("4-6,1-2,5-9,2", 8).pages, (std::vector<int>{1, 2, 4, 5, 6, 7, 8}));
  EXPECT_THROW(select_pages("", 0), PageRangeError);
  EXPECT_THROW(select_pages("1", 0), PageRangeError);
}
