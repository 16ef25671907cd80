// Unit tests for the DoclingDocument JSON reader (errors, migrations) and the exporter
// helpers whose behaviour the conformance fixtures only touch indirectly.
#include <gtest/gtest.h>

#include "doctags/docling_json.h"
#include "exporters/common.h"
#include "exporters/doctags_writer.h"
#include "core/geometry.h"
#include "exporters/html.h"
#include "exporters/markdown.h"
#include "exporters/mathml.h"
#include "exporters/tabulate.h"
#include "exporters/text.h"

using namespace docling;

namespace {

std::string minimal(const std::string& version_field, const std::string& texts = "[]") {
  return R"({"schema_name": "DoclingDocument", )" + version_field +
         R"("name": "t", "body": {"self_ref": "#/body", "children": []}, "texts": )" + texts + "}";
}

TEST(JsonRead, RejectsBadInput) {
  EXPECT_THROW(read_docling_json(std::string("{not json")), JsonError);
  EXPECT_THROW(read_docling_json(std::string(R"({"schema_name": "Other"})")), JsonError);
  EXPECT_THROW(read_docling_json(minimal(R"("version": "1.11.0", )")), JsonError);
  EXPECT_THROW(read_docling_json(minimal(R"("version": "2.0.0", )")), JsonError);
  EXPECT_THROW(read_docling_json(minimal(R"("version": "one", )")), JsonError);
  EXPECT_THROW(read_docling_json(minimal("", R"([{"label": "section_header", "text": "x", "level": 1000}])")),
               JsonError);
  std::string huge = R"({"name": "h", "tables": [{"label": "table", "data": {"num_rows": 100000, "num_cols": 100000}}]})";
  EXPECT_THROW(read_docling_json(huge), JsonError);
  // a child that points past the end of `texts`
  std::string dangling = R"({"name": "d", "body": {"self_ref": "#/body", "children": [{"$ref": "#/texts/4"}]}})";
  try {
    read_docling_json(dangling);
    FAIL() << "dangling reference accepted";
  } catch (const JsonError& e) {
    EXPECT_NE(std::string(e.what()).find("#/texts/4"), std::string::npos) << e.what();
  }
}

TEST(JsonRead, VersionsAndDefaults) {
  Document d = read_docling_json(minimal(""));
  EXPECT_EQ(d.version, "1.10.0");  // missing version = current
  EXPECT_EQ(d.name, "t");
  Document old = read_docling_json(minimal(R"("version": "1.3.0", )"));
  EXPECT_EQ(old.version, "1.10.0");  // rewritten on load, as upstream
}

TEST(JsonRead, MigratesHeadersOf100ToFurniture) {
  std::string texts = R"([{"self_ref": "#/texts/0", "parent": {"$ref": "#/body"}, "label": "page_header",
                          "orig": "h", "text": "h"},
                         {"self_ref": "#/texts/1", "parent": {"$ref": "#/body"}, "label": "text",
                          "orig": "x", "text": "x"}])";
  Document v100 = read_docling_json(minimal(R"("version": "1.0.0", )", texts));
  EXPECT_EQ(v100.texts[0].content_layer, ContentLayer::Furniture);
  EXPECT_EQ(v100.texts[1].content_layer, ContentLayer::Body);
  Document v110 = read_docling_json(minimal(R"("version": "1.1.0", )", texts));
  EXPECT_EQ(v110.texts[0].content_layer, ContentLayer::Body);
}

TEST(JsonRead, BigHashExtrasAndAnnotationMigration) {
  std::string j = R"({"name": "m", "origin": {"mimetype": "application/pdf", "filename": "a.pdf",
      "binary_hash": 18446744073709551615},
    "future_field": [1, 2],
    "body": {"self_ref": "#/body", "children": [{"$ref": "#/pictures/0"}]},
    "pictures": [{"self_ref": "#/pictures/0", "parent": {"$ref": "#/body"}, "label": "picture",
      "shiny": true,
      "annotations": [
        {"kind": "classification", "provenance": "m1", "predicted_classes": [{"class_name": "pie_chart", "confidence": 0.5}]},
        {"kind": "classification", "provenance": "m2", "predicted_classes": [{"class_name": "logo", "confidence": 0.9}]},
        {"kind": "description", "text": "d", "provenance": "m3"},
        {"kind": "misc", "content": {"k": "v"}}]}]})";
  Document d = read_docling_json(j);
  ASSERT_TRUE(d.origin);
  EXPECT_EQ(d.origin->binary_hash, 18446744073709551615ull);
  EXPECT_TRUE(d.extra.contains("future_field"));
  const PictureItem& p = d.pictures[0];
  EXPECT_TRUE(p.extra.contains("shiny"));
  ASSERT_TRUE(p.meta.is_object());
  // first classification wins; created_by comes from the provenance
  EXPECT_EQ(p.meta["classification"]["predictions"][0]["class_name"], "pie_chart");
  EXPECT_EQ(p.meta["classification"]["predictions"][0]["created_by"], "m1");
  EXPECT_EQ(p.meta["description"]["text"], "d");
  EXPECT_EQ(p.meta["docling_legacy__misc"]["k"], "v");
  EXPECT_EQ(p.annotations.size(), 4u);  // the legacy list itself is kept
  // model order: description before classification, custom fields last
  auto order = meta_field_order(p.meta);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], "description");
  EXPECT_EQ(order[2], "docling_legacy__misc");
  // the classified picture is a chart in DocTags, and prints its class in Markdown
  EXPECT_NE(export_doctags(d).find("<chart><pie_chart></chart>"), std::string::npos);
  EXPECT_EQ(export_markdown(d), "<!-- image -->\n\nd\n\nPie chart\n\n{'k': 'v'}");
}

TEST(Geometry, LocTokensRoundHalfEvenAndClamp) {
  EXPECT_EQ(loc_token_value(0.001), 0);   // 0.5 → 0 (half to even)
  EXPECT_EQ(loc_token_value(0.003), 2);   // 1.5 → 2
  EXPECT_EQ(loc_token_value(0.005), 2);   // 2.5 → 2
  EXPECT_EQ(loc_token_value(1.0), 499);   // clamped
  EXPECT_EQ(loc_token_value(-0.2), 0);
  BoundingBox bl{10, 90, 50, 40, CoordOrigin::BottomLeft};  // top 90 from the bottom
  EXPECT_EQ(loc_tokens(to_loc(bl, 100, 100)), "<loc_50><loc_50><loc_250><loc_300>");
}

TEST(Tabulate, NumberDetectionFollowsPython) {
  for (const char* s : {"12", " 12 ", "+1", "-3", "1_000", "٣", "1,000", "-379,592"})
    EXPECT_EQ(tabulate_type(s), PyType::Int) << s;
  for (const char* s : {"1.5", ".5", "1e5", "1E-3", "nan", "inf", "-inf", "1_0.5", "1,000.25", "1,000."})
    EXPECT_EQ(tabulate_type(s), PyType::Float) << s;
  for (const char* s : {"1,0000", "1000,000", ",000", "1,00", "12%", "n/a", "1__0", "_1", "infinity", "1e999", "0x10", "."})
    EXPECT_EQ(tabulate_type(s), PyType::Str) << s;
  EXPECT_EQ(tabulate_type(""), PyType::None);
  EXPECT_EQ(tabulate_type("True"), PyType::Bool);
}

TEST(Tabulate, GithubLayout) {
  std::vector<std::vector<std::string>> rows{{"name", "n"}, {"a", "1"}, {"bb", " 22 "}, {"c", ""}};
  EXPECT_EQ(tabulate_github(rows),
            "| name   |   n |\n"
            "|--------|-----|\n"
            "| a      |   1 |\n"
            "| bb     |  22 |\n"
            "| c      |     |");
  EXPECT_EQ(compact_table(rows), "| name | n |\n| - | - |\n| a | 1 |\n| bb | 22 |\n| c |  |");
  // a column that has "True" among numbers is still numeric (bool < int)
  EXPECT_EQ(tabulate_github({{"h"}, {"True"}, {"2"}}), "|    h |\n|------|\n| True |\n|    2 |");
}

TEST(Helpers, PythonReprAndHumanize) {
  Json v = Json::parse(R"({"a": [1, 2.5, true, null], "b": "it's", "c": 1e20, "d": 0.0001})");
  EXPECT_EQ(py_repr(v), R"({'a': [1, 2.5, True, None], 'b': "it's", 'c': 1e+20, 'd': 0.0001})");
  EXPECT_EQ(py_float(1.0), "1.0");
  EXPECT_EQ(py_float(0.00001), "1e-05");
  EXPECT_EQ(py_float(134.64000000000001), "134.64000000000001");
  EXPECT_EQ(humanize("bar_chart"), "Bar chart");
  EXPECT_EQ(humanize("docling_legacy__misc", true), "Docling Legacy Misc");
  EXPECT_EQ(html_escape("<a href='x'>&</a>", true), "&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(hyperlink_str("https://example.com"), "https://example.com/");
  EXPECT_EQ(hyperlink_str("#anchor"), "#anchor");
  EXPECT_TRUE(is_rtl_text("مرحبا"));
  EXPECT_FALSE(is_rtl_text("hello"));
}

TEST(MathML, SimpleFormulasAndFallback) {
  auto m = latex_to_mathml("x_1^2+y", true);
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("<msubsup><mi>x</mi><mn>1</mn><mn>2</mn></msubsup><mo>&#x0002B;</mo>"), std::string::npos);
  EXPECT_FALSE(latex_to_mathml("\\frac{a}{b}", false));  // commands are not handled
  EXPECT_FALSE(latex_to_mathml("a^", false));
}

Document sample() {
  Document d;
  d.add_text(Label::Title, "A_title", Ref::body());
  Ref l = d.add_group(GroupLabel::List, "list", Ref::body());
  Ref i1 = d.add_text(Label::ListItem, "one <b>", l);
  d.text(i1).enumerated = true;
  d.add_text(Label::ListItem, "two", l);
  Ref f = d.add_text(Label::Formula, "\\frac{a}{b}", Ref::body());
  (void)f;
  Ref c = d.add_text(Label::Code, "x_y = 1", Ref::body());
  d.text(c).code_language = "Python";
  return d;
}

TEST(Exporters, TextMarkdownHtmlDocTagsOfABuiltDocument) {
  Document d = sample();
  EXPECT_EQ(export_markdown(d), "# A\\_title\n\n1. one &lt;b&gt;\n2. two\n\n$$\\frac{a}{b}$$\n\n```\nx_y = 1\n```");
  EXPECT_EQ(export_text(d), "A_title\n\n1. one <b>\n2. two\n\n$$\\frac{a}{b}$$\n\nx_y = 1");
  std::string html = export_html(d);
  EXPECT_NE(html.find("<ol>\n<li>one &lt;b&gt;</li>\n<li>two</li>\n</ol>"), std::string::npos);
  EXPECT_NE(html.find("<pre>\\frac{a}{b}</pre>"), std::string::npos);  // no MathML: <pre> fallback
  EXPECT_EQ(export_doctags(d),
            "<doctag><title>A_title</title>\n<ordered_list><list_item>one <b></list_item>\n"
            "<list_item>two</list_item>\n</ordered_list>\n<formula>\\frac{a}{b}</formula>\n"
            "<code><_Python_>x_y = 1</code>\n</doctag>");
  DocTagsOptions mini;
  mini.minified = true;
  EXPECT_EQ(export_doctags(d, mini).find('\n'), std::string::npos);
}

TEST(Exporters, LabelAndLayerFilters) {
  Document d = sample();
  MarkdownOptions o;
  o.filter.labels &= ~label_bit(Label::Code);
  EXPECT_EQ(export_markdown(d, o).find("x_y"), std::string::npos);
  d.add_text(Label::PageHeader, "running head", Ref::body(), std::nullopt, ContentLayer::Furniture);
  EXPECT_EQ(export_markdown(d).find("running head"), std::string::npos);  // body layer only
  EXPECT_NE(export_doctags(d).find("<page_header>running head</page_header>"), std::string::npos);
}

TEST(Exporters, CyclicTreeIsAnErrorNotACrash) {
  Document d;
  Ref g = d.add_group(GroupLabel::Unspecified, "g", Ref::body());
  d.group(g).children.push_back(g);  // the group contains itself
  EXPECT_THROW(export_markdown(d), std::runtime_error);
}

}  // namespace
