// Pieces of the pipeline stage: document assembly, export options, hashes, base64,
// text-layer lookups for force_backend_text.
#include <gtest/gtest.h>

#include "doctags/docling_json.h"
#include "doctags/parser.h"
#include "exporters/markdown.h"
#include "core/image.h"
#include "layout/text_layer.h"
#include "pipeline/convert.h"
#include "pipeline/api_internal.h"
#include "pipeline/vlm.h"

using namespace docling;


TEST(AppendDocument, PagesFromSeveralDocumentsBecomeOne) {
  // Page 1 from the text layer, page 2 from the model, page 3 from the text layer again.
  Document text = from_multipage_doctags(
      "<doctag><section_header_level_1><loc_10><loc_10><loc_200><loc_30>Intro</section_header_level_1>"
      "<text><loc_10><loc_40><loc_400><loc_60>first page</text><page_break>"
      "<text><loc_10><loc_40><loc_400><loc_60>text layer page two</text><page_break>"
      "<page_header><loc_10><loc_5><loc_100><loc_9>Header</page_header>"
      "<unordered_list><list_item><loc_10><loc_70><loc_100><loc_80>a</list_item>"
      "<list_item><loc_10><loc_80><loc_100><loc_90>b</list_item></unordered_list></doctag>");
  ASSERT_EQ(text.pages.size(), 3u);
  Document model = from_doctags_and_image_pairs(
      {"<doctag><otsl><loc_1><loc_2><loc_300><loc_400>"
       "<caption><loc_1><loc_401><loc_300><loc_420>Table 1</caption><fcel>x<fcel>y<nl></otsl></doctag>"});
  Document out;
  std::vector<int> p1 = {1}, p3 = {3};
  append_document(out, text, 0, &p1);
  append_document(out, model, 1);  // its page 1 is page 2 here
  append_document(out, text, 0, &p3);

  ASSERT_EQ(out.pages.size(), 3u);
  EXPECT_EQ(out.pages[1].page_no, 2);
  ASSERT_EQ(out.tables.size(), 1u);
  EXPECT_EQ(out.tables[0].prov.at(0).page_no, 2);
  EXPECT_EQ(out.tables[0].data.num_cols, 2);
  // The caption reference was remapped to the caption's new place.
  ASSERT_EQ(out.tables[0].captions.size(), 1u);
  EXPECT_EQ(out.text(out.tables[0].captions[0]).text, "Table 1");
  // Nothing from the text layer's page 2; the list kept its items and their parent.
  for (const TextItem& t : out.texts) EXPECT_NE(t.text, "text layer page two");
  ASSERT_EQ(out.groups.size(), 1u);
  EXPECT_EQ(out.groups[0].children.size(), 2u);
  for (Ref c : out.groups[0].children) EXPECT_EQ(out.node(c)->parent, out.groups[0].self);
  // Every self reference points at itself, and the JSON round trip holds.
  for (size_t i = 0; i < out.texts.size(); ++i) EXPECT_EQ(out.texts[i].self.index, int(i));
  Document back = read_docling_json(write_docling_json(out));
  EXPECT_EQ(write_docling_json(back), write_docling_json(out));
  std::string md = export_markdown(out);
  EXPECT_LT(md.find("Intro"), md.find("| x "));
  EXPECT_LT(md.find("| x "), md.find("- a"));
}

TEST(TextLayer, TextInRectTakesWordsMostlyInside) {
  TextPage page;
  page.width = 600, page.height = 800;
  auto word = [](const char* s, double l, double t, double r, double b) {
    TextWord w;
    w.text = s, w.l = l, w.t = t, w.r = r, w.b = b;
    return w;
  };
  page.words = {word("Hello", 100, 100, 140, 112), word("world", 145, 100, 190, 112),
                word("outside", 300, 100, 360, 112), word("edge", 190, 100, 240, 112)};
  build_lines(page);
  EXPECT_EQ(text_in_rect(page, 90, 90, 200, 120), "Hello world");  // "edge" is 20% inside
  EXPECT_EQ(text_in_rect(page, 90, 90, 400, 120), "Hello world edge outside");
  EXPECT_EQ(text_in_rect(page, 0, 300, 600, 800), "");
}

TEST(TextLayer, ForceBackendTextReplacesBoxedText) {
  std::vector<Image> images = {Image(500, 500)};
  Document doc = from_doctags_and_image_pairs(
      {"<doctag><text><loc_100><loc_100><loc_200><loc_120>Helo wrld</text>"
       "<text><loc_300><loc_300><loc_400><loc_320>kept as written</text></doctag>"},
      &images);
  TextPage page;
  page.width = 500, page.height = 500;
  TextWord a, b;
  a.text = "Hello", a.l = 101, a.t = 101, a.r = 140, a.b = 119;
  b.text = "world", b.l = 150, b.t = 101, b.r = 199, b.b = 119;
  page.words = {a, b};
  build_lines(page);
  EXPECT_EQ(replace_with_text_layer(doc, page, 1.0, 1.0), 1);
  EXPECT_EQ(doc.texts[0].text, "Hello world");
  EXPECT_EQ(doc.texts[0].orig, "Hello world");
  EXPECT_EQ(doc.texts[1].text, "kept as written");  // no words there: the model's text stays
}

TEST(Hashes, BinaryHashIsTheLow64BitsOfSha256) {
  auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  // SHA-256("abc") = ba7816bf...b410ff61f20015ad; "" = e3b0c442...7852b855 (FIPS 180-4 vectors).
  EXPECT_EQ(binary_hash(bytes("abc")), 0xb410ff61f20015adull);
  EXPECT_EQ(binary_hash(bytes("")), 0xa495991b7852b855ull);
  // 56 bytes: the padding spills into a second block.
  EXPECT_EQ(binary_hash(bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")), 0xf6ecedd419db06c1ull);
  std::string million(1000000, 'a');
  EXPECT_EQ(binary_hash(bytes(million)), 0x046d39ccc7112cd0ull);
}

TEST(Base64, DecodesWhatItEncodes) {
  for (size_t n : {0, 1, 2, 3, 4, 5, 100}) {
    std::vector<uint8_t> in(n);
    for (size_t i = 0; i < n; ++i) in[i] = uint8_t(i * 37 + 11);
    std::vector<uint8_t> out;
    ASSERT_TRUE(base64_decode(base64_encode(in.data(), in.size()), out)) << n;
    EXPECT_EQ(out, in);
  }
  std::vector<uint8_t> out;
  EXPECT_FALSE(base64_decode("ab$d", out));
  EXPECT_FALSE(base64_decode("ab=c", out));
}

TEST(ExportOptions, JsonWithPagesKeepsOnlyThosePages) {
  Document doc = from_multipage_doctags("<doctag><text><loc_1><loc_1><loc_9><loc_9>one</text><page_break>"
                                        "<text><loc_1><loc_1><loc_9><loc_9>two</text></doctag>");
  ExportOptions only2;
  only2.pages = {2};
  Document back = read_docling_json(render(doc, Format::Json, only2));
  ASSERT_EQ(back.texts.size(), 1u);
  EXPECT_EQ(back.texts[0].text, "two");
  EXPECT_EQ(back.pages.size(), 1u);
}
