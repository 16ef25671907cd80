// The text backend on page features beyond plain columns (issue 16): lines stacked beside a tall
// heading, side notes read after their paragraph, checkboxes, nested lists, pictures found in the
// rendering with their captions, and pages whose text layer cannot be trusted (garbled, OCR over a
// scan), which `--pipeline auto` sends to the model.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "layout/page_ink.h"
#include "layout/pdf.h"
#include "layout/text_backend.h"
#include "layout/text_layer.h"
#include "pdf_fixtures.h"

using namespace docling;

namespace {

TextWord word(const std::string& text, double l, double t, double r, double b, double fs = 10,
              const std::string& font = "Times-Roman") {
  TextWord w;
  w.text = text, w.l = l, w.t = t, w.r = r, w.b = b;
  w.font_size = fs, w.font_name = font, w.space_after = true;
  return w;
}

// Words of one line from x0, each `w` wide and 3 pt apart, named prefix0, prefix1, ...
void line(TextPage& p, const std::string& prefix, int n, double x0, double t, double fs = 10, double w = 30,
          const std::string& font = "Times-Roman") {
  for (int i = 0; i < n; ++i)
    p.words.push_back(word(prefix + std::to_string(i), x0 + i * (w + 3), t, x0 + i * (w + 3) + w, t + fs * 0.9, fs, font));
}

std::vector<std::string> body_texts(const Document& doc) {
  std::vector<std::string> out;
  for (const TextItem& t : doc.texts)
    if (t.content_layer == ContentLayer::Body) out.push_back(t.text);
  return out;
}

size_t index_of(const std::vector<std::string>& v, const std::string& prefix) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].rfind(prefix, 0) == 0) return i;
  return v.size();
}

}  // namespace

// Two lines of one column beside a taller heading in another: the rows chain through the heading,
// and the two lines must still come out as two lines, not one with their words interleaved.
TEST(TextLines, LinesBesideATallHeadingStayApart) {
  TextPage p;
  p.width = 612, p.height = 792;
  line(p, "a", 5, 40, 265.25, 9);          // 265.25 .. 273.35
  line(p, "b", 5, 40, 276.05, 9);          // 276.05 .. 284.15
  line(p, "H", 2, 400, 269.9, 11.7, 40);   // the heading spans both
  build_lines(p);
  for (const TextLine& l : p.lines) {
    bool a = l.text.find("a0") != std::string::npos, b = l.text.find("b0") != std::string::npos;
    EXPECT_FALSE(a && b) << "interleaved: " << l.text;
  }
  bool a_line = false;
  for (const TextLine& l : p.lines) a_line |= l.text == "a0 a1 a2 a3 a4";
  EXPECT_TRUE(a_line);
}

// A main column of paragraphs and short notes in the right margin beside some of them: each note
// is read right after the paragraph it sits beside, not after the whole column.
TEST(TextBackendPages, SideNotesFollowTheirParagraph) {
  TextPage p;
  p.width = 612, p.height = 792;
  double y = 100;
  char name[32];
  for (int para = 0; para < 4; ++para) {
    double y0 = y;
    for (int r = 0; r < 6; ++r, y += 12) {
      std::snprintf(name, sizeof name, "p%d_%dw", para, r);
      line(p, name, 9, 72, y);
    }
    y += 8;
    for (int r = 0; para % 2 == 0 && r < 3; ++r) {
      std::snprintf(name, sizeof name, "n%d_%dw", para, r);
      line(p, name, 4, 430, y0 + 2 + 10 * r, 8, 24, "Times-Italic");
    }
  }
  build_lines(p);
  std::vector<TextPage> pages{p};
  TextBackendResult res = convert_text_pages(pages, "notes");
  auto t = body_texts(res.doc);
  size_t p0 = index_of(t, "p0_0"), n0 = index_of(t, "n0_0"), p1 = index_of(t, "p1_0"), n2 = index_of(t, "n2_0"),
         p2 = index_of(t, "p2_0"), p3 = index_of(t, "p3_0");
  ASSERT_LT(n2, t.size());
  EXPECT_LT(p0, n0);
  EXPECT_LT(n0, p1) << "the first note belongs after the first paragraph";
  EXPECT_LT(p2, n2);
  EXPECT_LT(n2, p3);
}

// Checkbox glyphs (Unicode, ZapfDingbats as Poppler reports them, Wingdings raw codes) become
// checkbox items with their state and label; a question line before them stays text.
TEST(TextBackendPages, CheckboxesBecomeItemsWithTheirState) {
  TextPage p;
  p.width = 612, p.height = 792;
  line(p, "question", 4, 72, 100);
  p.words.push_back(word("\u2610", 90, 120, 100, 129));
  p.words.push_back(word("Alpha", 104, 120, 134, 129));
  p.words.push_back(word("\u2611", 160, 120, 170, 129));
  p.words.push_back(word("Beta", 174, 120, 200, 129));
  p.words.push_back(word("\u2714", 230, 120, 240, 129, 10, "ZapfDingbats"));  // a check beside boxes
  p.words.push_back(word("Gamma", 244, 120, 280, 129));
  p.words.push_back(word("\u00a8", 90, 140, 100, 149, 10, "Wingdings-Regular"));  // Wingdings box
  p.words.push_back(word("Delta", 104, 140, 134, 149));
  p.words.push_back(word("\u00fe", 160, 140, 170, 149, 10, "Wingdings-Regular"));  // Wingdings ☑
  p.words.push_back(word("Epsilon", 174, 140, 214, 149));
  build_lines(p);
  TextBackendResult res = convert_text_pages({p}, "form");
  std::vector<std::pair<Label, std::string>> boxes;
  for (const TextItem& t : res.doc.texts)
    if (t.label == Label::CheckboxSelected || t.label == Label::CheckboxUnselected) boxes.push_back({t.label, t.text});
  std::vector<std::pair<Label, std::string>> want = {
      {Label::CheckboxUnselected, "Alpha"}, {Label::CheckboxSelected, "Beta"},   {Label::CheckboxSelected, "Gamma"},
      {Label::CheckboxUnselected, "Delta"}, {Label::CheckboxSelected, "Epsilon"}};
  EXPECT_EQ(boxes, want);
  EXPECT_EQ(res.doc.texts.front().label, Label::Text);
}

// List items set further right than the item above open a list inside that item; an item back
// at the first indent continues the outer list.
TEST(TextBackendPages, ListsNestByIndentation) {
  TextPage p;
  p.width = 612, p.height = 792;
  auto item = [&](const std::string& mark, const std::string& name, double x, double t) {
    p.words.push_back(word(mark, x, t, x + 5, t + 9));
    line(p, name, 5, x + 14, t);
  };
  item("\u2022", "outerA", 72, 100);
  item("\u2022", "innerA", 90, 113);
  item("\u2022", "innerB", 90, 126);
  item("\u2022", "outerB", 72, 139);
  build_lines(p);
  TextBackendResult res = convert_text_pages({p}, "lists");
  const Document& d = res.doc;
  auto find = [&](const std::string& prefix) -> const TextItem* {
    for (const TextItem& t : d.texts)
      if (t.text.rfind(prefix, 0) == 0) return &t;
    return nullptr;
  };
  const TextItem *oa = find("outerA"), *ia = find("innerA"), *ib = find("innerB"), *ob = find("outerB");
  ASSERT_TRUE(oa && ia && ib && ob);
  for (const TextItem* t : {oa, ia, ib, ob}) EXPECT_EQ(t->label, Label::ListItem);
  EXPECT_EQ(ia->parent, ib->parent);
  EXPECT_EQ(oa->parent, ob->parent);
  ASSERT_EQ(ia->parent.kind, RefKind::Group);
  EXPECT_EQ(d.groups[ia->parent.index].parent, oa->self) << "the inner list hangs on the item above it";
}

// Garbled text (no Unicode behind the glyphs) makes a page unusable; clean text does not.
TEST(TextBackendPages, GarbledTextLayerIsUnusable) {
  TextPage clean, garbled;
  clean.page_no = 1, garbled.page_no = 2;
  clean.width = garbled.width = 612, clean.height = garbled.height = 792;
  line(clean, "word", 8, 72, 100);
  for (int i = 0; i < 8; ++i) {
    std::string s = i % 2 ? "\xEF\xBF\xBD\xEF\xBF\xBD" : "\xEE\x80\x81x";  // U+FFFD, private use
    garbled.words.push_back(word(s, 72 + 40 * i, 100, 100 + 40 * i, 109));
  }
  build_lines(clean);
  build_lines(garbled);
  TextBackendResult res = convert_text_pages({clean, garbled}, "enc");
  EXPECT_EQ(res.pages_unusable, std::vector<int>{2});
  bool warned = false;
  for (const std::string& w : res.warnings) warned |= w.find("page 2") != std::string::npos && w.find("garbled") != std::string::npos;
  EXPECT_TRUE(warned);
}

namespace {

std::unique_ptr<PageSource> pdf_of(const std::string& content) {
  std::string pdf = docling::testing::make_pdf({{"0 0 612 792", content}});
  return open_source_bytes(std::vector<uint8_t>(pdf.begin(), pdf.end()), "made.pdf");
}

std::string text_at(double x, double y, const std::string& s, int size = 10) {
  return "BT /F1 " + std::to_string(size) + " Tf " + std::to_string(x) + " " + std::to_string(y) + " Td (" + s + ") Tj ET\n";
}

std::string paragraph(double y, int lines) {
  std::string c;
  for (int i = 0; i < lines; ++i)
    c += text_at(72, y - 12 * i, "The steady river carries a quiet harbor near every village and its long road.");
  return c;
}

}  // namespace

// A vector chart between paragraphs becomes a picture item, and the "Figure 1:" line under it
// its caption; a ruled table is rules, not a picture; with pictures off, none.
TEST(TextBackendPages, VectorGraphicsBecomePicturesWithCaptions) {
  std::string c = paragraph(720, 6);
  c += "0.9 g 72 420 300 200 re f 0 g 1 w 72 420 300 200 re S\n";
  c += "0.3 g 90 430 30 120 re f 140 430 30 160 re f 190 430 30 90 re f 0 g\n";
  c += text_at(72, 400, "Figure 1: Bars of the quiet harbor.");
  c += paragraph(370, 6);
  auto src = pdf_of(c);
  TextBackendResult res = convert_text_layer(*src);
  ASSERT_EQ(res.doc.pictures.size(), 1u);
  const PictureItem& pic = res.doc.pictures[0];
  ASSERT_EQ(pic.prov.size(), 1u);
  const BoundingBox& b = pic.prov[0].bbox;  // top-left origin, page points
  EXPECT_NEAR(b.l, 72, 4);
  EXPECT_NEAR(b.r, 372, 4);
  EXPECT_NEAR(b.t, 792 - 620, 4);
  EXPECT_NEAR(b.b, 792 - 420, 4);
  ASSERT_EQ(pic.captions.size(), 1u);
  EXPECT_EQ(res.doc.text(pic.captions[0]).text, "Figure 1: Bars of the quiet harbor.");

  // A table drawn with rules around its cells.
  std::string t = paragraph(720, 3);
  for (int r = 0; r < 6; ++r) {
    double y = 600 - 18 * r;
    t += text_at(80, y + 5, "cell" + std::to_string(r)) + text_at(250, y + 5, std::to_string(100 + r)) +
         text_at(420, y + 5, std::to_string(7 * r));
    t += "0.5 w 72 " + std::to_string(y) + " m 540 " + std::to_string(y) + " l S\n";
  }
  t += "0.5 w 72 618 m 540 618 l S 72 510 m 72 618 l S 240 510 m 240 618 l S 410 510 m 410 618 l S 540 510 m 540 618 l S\n";
  t += text_at(72, 480, "Figure 2: not a figure, the text under a table.");
  auto tsrc = pdf_of(t);
  EXPECT_EQ(convert_text_layer(*tsrc).doc.pictures.size(), 0u);

  TextBackendOptions off;
  off.pictures = false;
  EXPECT_EQ(convert_text_layer(*src, {}, off).doc.pictures.size(), 0u);
}

// Invisible text (render mode 3) over a page-sized scanned image: the page is unusable (the
// model should read it); the same text drawn visibly on a white page is fine.
TEST(TextBackendPages, InvisibleTextOverAScanIsUnusable) {
  std::string img;
  uint32_t x = 12345;
  for (int i = 0; i < 64 * 64; ++i) {
    x = x * 1103515245u + 12345u;
    img += char(150 + int((x >> 16) % 90));  // a noisy paper-gray scan, no "EI" bytes
  }
  std::string scan = "q 612 0 0 792 0 0 cm BI /W 64 /H 64 /BPC 8 /CS /G ID " + img + " EI Q\n";
  std::string text = paragraph(720, 30);
  auto ocr = pdf_of(scan + "3 Tr\n" + text);
  TextBackendOptions check;
  check.check_scans = true;  // as `auto` with a model asks: the page shows no sign of pictures
  TextBackendResult res = convert_text_layer(*ocr, {}, check);
  EXPECT_EQ(res.pages_unusable, std::vector<int>{1});
  EXPECT_FALSE(res.doc.texts.empty()) << "the text is still converted";
  EXPECT_TRUE(res.doc.pictures.empty()) << "the scan is the page, not a picture on it";

  auto plain = pdf_of(text);
  EXPECT_TRUE(convert_text_layer(*plain, {}, check).pages_unusable.empty());
}

// A clean white scan under an invisible OCR layer set in Tesseract's GlyphLessFont (a font
// without glyphs: its text is never what the page shows): the page is unusable, even without
// the rendering `auto` asks for. The same page with the text set in a real font is fine.
TEST(TextBackendPages, InvisibleOcrLayerOverAWhiteScanIsUnusable) {
  // The scan: white, with dark bars where the lines of text are (no noise, no gray).
  const int w = 153, h = 198;  // 18 dpi
  std::string img(size_t(w * h), char(255));
  for (int line = 0; line < 30; ++line)
    for (int y = 0; y < 2; ++y)
      for (int x = 18; x < 130; ++x) img[size_t((18 + 3 * line + y) * w + x)] = char(20);
  std::string scan = "q 612 0 0 792 0 0 cm BI /W " + std::to_string(w) + " /H " + std::to_string(h) +
                     " /BPC 8 /CS /G ID " + img + " EI Q\n";
  auto make = [&](const std::string& font) {
    std::string c = scan + "3 Tr\n";
    for (int i = 0; i < 30; ++i)
      c += "BT /F2 10 Tf 72 " + std::to_string(720 - 12 * i) +
           " Td (The steady river carries a quiet harbor near every village.) Tj ET\n";
    std::vector<std::string> objs = {
        "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F2 << /Type /Font "
        "/Subtype /Type1 /BaseFont /" + font + " >> >> >> /Contents 4 0 R >>",
        "<< /Length " + std::to_string(c.size()) + " >>\nstream\n" + c + "\nendstream"};
    std::string pdf = docling::testing::pdf_from_objects(objs);
    return open_source_bytes(std::vector<uint8_t>(pdf.begin(), pdf.end()), "scan.pdf");
  };
  auto ocr = make("GlyphLessFont");
  TextBackendResult res = convert_text_layer(*ocr);
  EXPECT_EQ(res.pages_unusable, std::vector<int>{1});
  EXPECT_FALSE(res.doc.texts.empty()) << "the text is still converted";
  TextBackendOptions check;
  check.check_scans = true;
  EXPECT_EQ(convert_text_layer(*ocr, {}, check).pages_unusable, std::vector<int>{1});
  auto plain = make("Helvetica");
  EXPECT_TRUE(convert_text_layer(*plain, {}, check).pages_unusable.empty());
}
