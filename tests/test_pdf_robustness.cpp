// PDF intake robustness (issue 19): passwords (#14), rotated pages' text layer (#13),
// decompression bombs (#10) and deeply nested Form XObjects (#6).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "layout/pdf.h"
#include "exporters/markdown.h"
#include "layout/text_backend.h"
#include "layout/text_layer.h"

namespace fs = std::filesystem;
using namespace docling;

namespace {

const fs::path kRobust = fs::path(DOCLING_TEST_DATA) / "pdfs" / "robustness";

std::string page_text(const PageSource& src, int page_no) {
  std::string s;
  for (const TextWord& w : src.words(page_no)) s += w.text + " ";
  return s;
}

std::unique_ptr<PageSource> open_with(const fs::path& p, const std::string& password) {
  OpenOptions o;
  o.password = password;
  return open_source(p.string(), o);
}

}  // namespace

// owner_password_only.pdf: empty user password, owner password "owner-secret" (qpdf, AES-256).
// It opens without a password, so a password given for it (right or wrong) must not lock it.
TEST(PdfPassword, EmptyUserPasswordOpensWhateverIsGiven) {
  const fs::path pdf = kRobust / "owner_password_only.pdf";
  for (const char* pw : {"", "owner-secret", "some other password", "1234"}) {
    std::unique_ptr<PageSource> src;
    ASSERT_NO_THROW(src = open_with(pdf, pw)) << "password '" << pw << "'";
    ASSERT_EQ(src->page_count(), 1) << pw;
    EXPECT_NE(page_text(*src, 1).find("Opens without a password"), std::string::npos) << pw;
  }
}

// 2206.01062_pg3_password_1234.pdf: user "1234", owner "owner".
TEST(PdfPassword, UserAndOwnerPasswordsBothOpenAndWrongOnesFail) {
  const fs::path pdf = kRobust / "2206.01062_pg3_password_1234.pdf";
  for (const char* pw : {"1234", "owner"}) EXPECT_NO_THROW(open_with(pdf, pw)) << pw;
  try {
    open_with(pdf, "12345");
    FAIL() << "a wrong password opened the file";
  } catch (const PdfError& e) {
    EXPECT_EQ(e.kind, PdfError::Kind::WrongPassword) << e.what();
  }
  try {
    open_with(pdf, "");
    FAIL() << "no password opened the file";
  } catch (const PdfError& e) {
    EXPECT_EQ(e.kind, PdfError::Kind::Encrypted) << e.what();
  }
}

// rotated_pages.pdf: one page (a heading, two columns, three paragraphs) four times, with
// /Rotate 0, 90, 180 and 270 (qpdf --rotate). The text layer reads each rotated page as the
// upright one, and the boxes land on the displayed page where its words are.
TEST(PdfRotation, TextLayerOfRotatedPagesReadsAsUpright) {
  auto src = open_source((kRobust / "rotated_pages.pdf").string());
  ASSERT_EQ(src->page_count(), 4);
  const std::string upright = export_markdown(convert_text_layer(*src, {1}).doc);
  ASSERT_NE(upright.find("## Rotated Page Heading"), std::string::npos) << upright;
  ASSERT_NE(upright.find("paragraph in the first column.\n\nA second paragraph"), std::string::npos) << upright;
  for (int p = 2; p <= 4; ++p) {
    EXPECT_EQ(src->page_rotation(p), 90 * (p - 1));
    TextBackendResult r = convert_text_layer(*src, {p});
    EXPECT_EQ(export_markdown(r.doc), upright) << "page " << p;
    // The heading's box covers its words as Poppler places them on the displayed page.
    Size size = src->page_size(p);
    ASSERT_FALSE(r.doc.texts.empty());
    const TextItem& h = r.doc.texts[0];
    ASSERT_EQ(h.text, "Rotated Page Heading");
    ASSERT_EQ(h.prov.size(), 1u);
    const BoundingBox& b = h.prov[0].bbox;
    EXPECT_GE(b.l, 0) << p;
    EXPECT_GE(b.t, 0) << p;
    EXPECT_LE(b.r, size.width) << p;
    EXPECT_LE(b.b, size.height) << p;
    int covered = 0;
    for (const TextWord& w : src->words(p)) {
      if (w.text != "Rotated" && w.text != "Page" && w.text != "Heading") continue;
      ++covered;
      EXPECT_LE(b.l, w.l + 0.5) << p << " " << w.text;
      EXPECT_LE(b.t, w.t + 0.5) << p << " " << w.text;
      EXPECT_GE(b.r, w.r - 0.5) << p << " " << w.text;
      EXPECT_GE(b.b, w.b - 0.5) << p << " " << w.text;
    }
    EXPECT_EQ(covered, 3) << p;
  }
  // The four pages together: the same text four times, each page's boxes on its own page.
  TextBackendResult all = convert_text_layer(*src);
  EXPECT_EQ(all.doc.texts.size(), 4 * convert_text_layer(*src, {1}).doc.texts.size());
}

// Text-layer words of a rotated page read by read_text_page stay in display coordinates
// (force_backend_text matches them against the model's boxes on the page image).
TEST(PdfRotation, ReadTextPageKeepsDisplayCoordinates) {
  auto src = open_source((kRobust / "rotated_pages.pdf").string());
  TextPage tp = read_text_page(*src, 2);
  EXPECT_EQ(tp.rotation, 90);
  EXPECT_FALSE(tp.upright);
  EXPECT_DOUBLE_EQ(tp.width, src->page_size(2).width);
  std::vector<TextWord> ws = src->words(2);
  ASSERT_EQ(tp.words.size(), ws.size());
  EXPECT_DOUBLE_EQ(tp.words[0].l, ws[0].l);
}
