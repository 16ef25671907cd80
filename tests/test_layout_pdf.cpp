// Page sources: opening PDFs and images, sizes, rasters, text layer, and clear errors
// for every kind of bad input (generated into a temp dir) and the robustness files.
#include <gtest/gtest.h>

#include "tests/pdf_fixtures.h"

#include <jpeglib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layout/pdf.h"
#include "layout/text_backend.h"

using namespace docling;
using docling::testing::make_pdf;
namespace fs = std::filesystem;

// Poppler asks fontconfig for non-embedded fonts; fontconfig keeps its config cache for
// the life of the process, which LeakSanitizer reports. Not ours: suppress just that.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace {

const fs::path kPdfs = fs::path(DOCLING_TEST_DATA) / "pdfs";
const fs::path kRobust = kPdfs / "robustness";

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("docling_layout_pdf_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}


std::string make_jpeg(int w, int h) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* mem = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &mem, &size);
  c.image_width = w, c.image_height = h, c.input_components = 3, c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_start_compress(&c, TRUE);
  std::vector<unsigned char> row(size_t(w) * 3, 200);
  while (c.next_scanline < c.image_height) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<char*>(mem), size);
  jpeg_destroy_compress(&c);
  std::free(mem);
  return out;
}

// Expect open_source to fail with `kind`, the message naming the file.
void expect_open_error(const fs::path& p, PdfError::Kind kind, const OpenOptions& opt = {}) {
  try {
    open_source(p.string(), opt);
    ADD_FAILURE() << p << " opened";
  } catch (const PdfError& e) {
    EXPECT_EQ(e.kind, kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(p.filename().string()), std::string::npos) << e.what();
    EXPECT_EQ(e.file, p.string());
  }
}

double ink_fraction(const Image& im) {
  size_t dark = 0;
  for (size_t i = 0; i < im.rgb.size(); i += 3) dark += im.rgb[i] < 128;
  return double(dark) / (double(im.width) * im.height);
}

}  // namespace

TEST(PdfSource, PageCountsAndSizesMatchDocling) {
  // Sizes as docling reports them in the ground-truth JSON (points).
  for (const char* name : {"2305.03393v1-pg9", "code_and_formula", "multi_page", "normal_4pages",
                           "ocr_test", "picture_classification", "redp5110_sampled",
                           "right_to_left_01"}) {
    auto src = open_source((kPdfs / (std::string(name) + ".pdf")).string());
    auto gt = nlohmann::json::parse(read_file(kPdfs / (std::string(name) + ".json")));
    ASSERT_EQ(src->page_count(), int(gt["pages"].size())) << name;
    EXPECT_STREQ(src->mimetype(), "application/pdf");
    for (int p = 1; p <= src->page_count(); ++p) {
      Size s = src->page_size(p);
      auto& g = gt["pages"][std::to_string(p)]["size"];
      EXPECT_NEAR(s.width, g["width"].get<double>(), 0.011) << name << " page " << p;
      EXPECT_NEAR(s.height, g["height"].get<double>(), 0.011) << name << " page " << p;
    }
  }
}

TEST(PdfSource, RastersAtDpiAndSize) {
  auto src = open_source((kPdfs / "2305.03393v1-pg9.pdf").string());
  Image im = src->render(1, 144);
  EXPECT_EQ(im.width, 1224);
  EXPECT_EQ(im.height, 1584);
  double ink = ink_fraction(im);
  EXPECT_GT(ink, 0.005);  // text is drawn
  EXPECT_LT(ink, 0.2);    // on white paper
  Image small = src->render(1, 72);
  EXPECT_EQ(small.width, 612);
  EXPECT_EQ(small.height, 792);
  Image exact = src->render_size(1, 300, 100);
  EXPECT_EQ(exact.width, 300);
  EXPECT_EQ(exact.height, 100);
  EXPECT_EQ(exact.rgb.size(), 300u * 100 * 3);
  Image fit = src->render_fit(1, 512);
  EXPECT_EQ(fit.height, 512);
  EXPECT_EQ(fit.width, 396);
  EXPECT_THROW(src->render(2, 72), PdfError);
  EXPECT_THROW(src->render(0, 72), PdfError);
  EXPECT_THROW(src->render(1, -5), PdfError);
}

TEST(PdfSource, TextLayerWordsAndLines) {
  auto src = open_source((kPdfs / "2305.03393v1-pg9.pdf").string());
  TextPage tp = read_text_page(*src, 1);
  EXPECT_GT(tp.words.size(), 300u);
  const TextLine* heading = nullptr;
  for (const TextLine& l : tp.lines)
    if (l.text.find("Hyper Parameter Optimization") != std::string::npos) heading = &l;
  ASSERT_NE(heading, nullptr);
  // Top-left origin in points: the heading is in the upper quarter of the page.
  EXPECT_GT(heading->t, 100);
  EXPECT_LT(heading->t, 200);
  EXPECT_LT(heading->t, heading->b);
  EXPECT_NEAR(heading->font_size, 10.0, 0.5);
  EXPECT_TRUE(heading->bold);
  for (const TextWord& w : tp.words) {
    ASSERT_FALSE(w.text.empty());
    EXPECT_GE(w.l, 0);
    EXPECT_LE(w.r, tp.width + 1);
    EXPECT_FALSE(w.font_name.empty());
  }
  // Lines run top to bottom.
  for (size_t i = 1; i < tp.lines.size(); ++i)
    EXPECT_LE(tp.lines[i - 1].t, tp.lines[i].b) << tp.lines[i].text;
}

TEST(PdfSource, TextLayerPresenceMatchesDoclingParse) {
  // docling-parse's per-page text-cell counts: a page has text iff it has cells.
  for (const char* name : {"multi_page", "redp5110_sampled", "ocr_test", "normal_4pages"}) {
    auto src = open_source((kPdfs / (std::string(name) + ".pdf")).string());
    auto meta = nlohmann::json::parse(read_file(kPdfs / (std::string(name) + ".pages.meta.json")));
    ASSERT_EQ(int(meta.size()), src->page_count());
    for (int p = 1; p <= src->page_count(); ++p) {
      bool cells = meta[p - 1]["num_cells"].get<int>() > 0;
      EXPECT_EQ(!src->words(p).empty(), cells) << name << " page " << p;
    }
  }
}

TEST(PdfSource, BytesAndFileAgree) {
  fs::path p = kPdfs / "multi_page.pdf";
  std::string bytes = read_file(p);
  auto a = open_source(p.string());
  auto b = open_source_bytes(std::vector<uint8_t>(bytes.begin(), bytes.end()), "mem.pdf");
  EXPECT_EQ(b->name(), "mem.pdf");
  ASSERT_EQ(a->page_count(), b->page_count());
  EXPECT_EQ(a->words(3).size(), b->words(3).size());
}

TEST(Robustness, PasswordProtected) {
  fs::path p = kRobust / "2206.01062_pg3_password_1234.pdf";
  expect_open_error(p, PdfError::Kind::Encrypted);
  OpenOptions wrong;
  wrong.password = "nope";
  expect_open_error(p, PdfError::Kind::WrongPassword, wrong);
  OpenOptions right;
  right.password = "1234";
  auto src = open_source(p.string(), right);
  ASSERT_EQ(src->page_count(), 1);
  EXPECT_GT(src->words(1).size(), 100u);
  OpenOptions owner;
  owner.password = "owner";
  EXPECT_EQ(open_source(p.string(), owner)->page_count(), 1);
}

TEST(Robustness, InvisibleTextLayerIsFound) {
  auto src = open_source((kRobust / "invisible_text_layer.pdf").string());
  TextPage tp = read_text_page(*src, 1);
  bool found = false;
  for (const TextLine& l : tp.lines) found |= l.text.find("Invisible OCR text layer") != std::string::npos;
  EXPECT_TRUE(found);
  TextBackendResult res = convert_text_layer(*src);
  EXPECT_TRUE(res.pages_without_text.empty());
}

TEST(Robustness, RotatedScan) {
  auto src = open_source((kRobust / "ocr_test_rotated_90.pdf").string());
  ASSERT_EQ(src->page_count(), 1);
  Size s = src->page_size(1);
  EXPECT_GT(s.width, s.height);  // rotation applied: landscape
  EXPECT_NEAR(s.width, 841.92, 0.01);
  EXPECT_TRUE(src->page_rotation(1) == 90 || src->page_rotation(1) == 270);
  Image im = src->render(1, 36);
  EXPECT_GT(im.width, im.height);
  TextBackendResult res = convert_text_layer(*src);
  EXPECT_EQ(res.pages_without_text, std::vector<int>{1});
}

TEST(Robustness, SkippedPagesKeepNumbering) {
  for (auto [name, pages] : {std::pair{"skipped_1page.pdf", 3}, std::pair{"skipped_2pages.pdf", 4}}) {
    auto src = open_source((kRobust / name).string());
    ASSERT_EQ(src->page_count(), pages) << name;
    TextBackendResult res = convert_text_layer(*src);
    ASSERT_EQ(int(res.doc.pages.size()), pages) << name;
    for (int p = 1; p <= pages; ++p) EXPECT_EQ(res.doc.pages[p - 1].page_no, p);
    for (const TextItem& t : res.doc.texts) {
      ASSERT_EQ(t.prov.size(), 1u);
      EXPECT_GE(t.prov[0].page_no, 1);
      EXPECT_LE(t.prov[0].page_no, pages);
    }
    // Each warning names the file and a page.
    for (const std::string& w : res.warnings) {
      EXPECT_NE(w.find(name), std::string::npos) << w;
      EXPECT_NE(w.find("page"), std::string::npos) << w;
    }
    // Only the selected pages when asked.
    TextBackendResult part = convert_text_layer(*src, {2, pages});
    ASSERT_EQ(part.doc.pages.size(), 2u);
    EXPECT_EQ(part.doc.pages[1].page_no, pages);
  }
}

TEST(Robustness, GeneratedBadInputs) {
  fs::path dir = temp_dir();
  expect_open_error(dir / "missing.pdf", PdfError::Kind::NotFound);
  expect_open_error(dir, PdfError::Kind::NotFound);  // a directory

  write_file(dir / "empty.pdf", "");
  expect_open_error(dir / "empty.pdf", PdfError::Kind::NotPdf);

  write_file(dir / "notes.pdf", "just some text, not a PDF at all\n");
  expect_open_error(dir / "notes.pdf", PdfError::Kind::NotPdf);

  std::string real = read_file(kPdfs / "2305.03393v1-pg9.pdf");
  for (size_t cut : {size_t(9), size_t(3000), real.size() / 2}) {
    fs::path p = dir / ("truncated_" + std::to_string(cut) + ".pdf");
    write_file(p, real.substr(0, cut));
    try {
      auto src = open_source(p.string());
      ADD_FAILURE() << p << " opened with " << src->page_count() << " pages";
    } catch (const PdfError& e) {
      EXPECT_TRUE(e.kind == PdfError::Kind::Corrupt || e.kind == PdfError::Kind::NoPages) << e.what();
      EXPECT_NE(std::string(e.what()).find(p.filename().string()), std::string::npos) << e.what();
    }
  }

  write_file(dir / "garbage.pdf", "%PDF-1.7\n" + std::string(4000, '\x9c') + "\n%%EOF\n");
  expect_open_error(dir / "garbage.pdf", PdfError::Kind::Corrupt);

  write_file(dir / "zero.pdf", make_pdf({}));
  expect_open_error(dir / "zero.pdf", PdfError::Kind::NoPages);

  std::string png_bytes = "\x89PNG\r\n\x1a\n garbage";
  write_file(dir / "bad.png", png_bytes);
  expect_open_error(dir / "bad.png", PdfError::Kind::Corrupt);

  fs::remove_all(dir);
}

TEST(Robustness, EnormousPageIsRefusedNamingThePage) {
  fs::path dir = temp_dir();
  fs::path p = dir / "poster.pdf";
  write_file(p, make_pdf({{"0 0 612 792", ""}, {"0 0 14400 14400", ""}}));
  auto src = open_source(p.string());
  ASSERT_EQ(src->page_count(), 2);
  EXPECT_EQ(src->page_size(2).width, 14400);
  EXPECT_EQ(src->render(1, 72).width, 612);
  try {
    src->render(2, 144);  // 28800 x 28800 px
    ADD_FAILURE() << "rendered";
  } catch (const PdfError& e) {
    EXPECT_EQ(e.kind, PdfError::Kind::PageTooLarge);
    EXPECT_EQ(e.page, 2);
    EXPECT_NE(std::string(e.what()).find("page 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("poster.pdf"), std::string::npos) << e.what();
  }
  // A lower resolution or a fitted size still works.
  EXPECT_EQ(src->render_fit(2, 1000).width, 1000);
  fs::remove_all(dir);
}

TEST(Robustness, GeneratedPdfWithTextRoundTrips) {
  fs::path dir = temp_dir();
  fs::path p = dir / "hello.pdf";
  write_file(p, make_pdf({{"0 0 300 200", "BT /F1 20 Tf 30 150 Td (Hello layer) Tj ET"}}));
  auto src = open_source(p.string());
  TextPage tp = read_text_page(*src, 1);
  ASSERT_EQ(tp.lines.size(), 1u);
  EXPECT_EQ(tp.lines[0].text, "Hello layer");
  // Baseline at y=150 from the bottom -> about 50 pt from the top.
  EXPECT_NEAR(tp.lines[0].b, 200 - 150, 6);
  EXPECT_NEAR(tp.lines[0].l, 30, 1);
  EXPECT_NEAR(tp.lines[0].font_size, 20, 0.5);
  EXPECT_EQ(tp.words[0].font_name, "Helvetica");
  fs::remove_all(dir);
}

TEST(ImageSource, PngAndJpegAreOnePageDocuments) {
  fs::path dir = temp_dir();
  Image img(200, 100, 255);
  for (int x = 50; x < 150; ++x) img.row(40)[3 * x] = 0;
  save_png(img, (dir / "page.png").string());
  write_file(dir / "page.jpg", make_jpeg(120, 80));

  auto png = open_source((dir / "page.png").string());
  EXPECT_STREQ(png->mimetype(), "image/png");
  ASSERT_EQ(png->page_count(), 1);
  EXPECT_EQ(png->page_size(1).width, 200);  // pixels at 72 dpi
  EXPECT_EQ(png->page_size(1).height, 100);
  Image big = png->render(1, 144);
  EXPECT_EQ(big.width, 400);
  EXPECT_EQ(big.height, 200);
  EXPECT_EQ(png->render(1, 72).rgb, img.rgb);  // 72 dpi is the image itself
  EXPECT_TRUE(png->words(1).empty());
  EXPECT_THROW(png->page_size(2), PdfError);
  TextBackendResult res = convert_text_layer(*png);
  EXPECT_EQ(res.pages_without_text, std::vector<int>{1});

  auto jpg = open_source((dir / "page.jpg").string());
  EXPECT_STREQ(jpg->mimetype(), "image/jpeg");
  EXPECT_EQ(jpg->page_size(1).width, 120);
  Image half = jpg->render(1, 36);
  EXPECT_EQ(half.width, 60);
  EXPECT_EQ(half.height, 40);
  EXPECT_NEAR(half.rgb[0], 200, 3);
  fs::remove_all(dir);
}
