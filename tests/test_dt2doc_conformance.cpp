// dt2doc conformance: DocTags (+ page image) → Document → save_as_json text, compared with
// docling-core's expected.json as data (README rules: `uri`/`image_uri` dropped, numbers
// equal as doubles and of the same kind, key order ignored).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "doctags/docling_json.h"
#include "doctags/parser.h"
#include "exporters/html.h"
#include "exporters/markdown.h"

using namespace docling;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(DOCLING_TEST_DATA) / "conformance";

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

using J = nlohmann::json;

void drop_uris(J& v) {
  if (v.is_object()) {
    v.erase("uri");
    v.erase("image_uri");
    for (auto& [k, x] : v.items()) drop_uris(x);
  } else if (v.is_array()) {
    for (J& x : v) drop_uris(x);
  }
}

// First difference as a JSON path, or "" when equal. Integers and floats are distinct kinds.
std::string diff(const J& a, const J& b, const std::string& path) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() != b.is_number_float())
      return path + ": number kind differs (" + a.dump() + " vs " + b.dump() + ")";
    if (a.is_number_float() ? a.get<double>() != b.get<double>() : a != b)
      return path + ": " + a.dump(-1, ' ', false, J::error_handler_t::replace) + " vs " + b.dump();
    return "";
  }
  if (a.type() != b.type()) return path + ": type differs (" + a.type_name() + " vs " + b.type_name() + ")";
  if (a.is_object()) {
    for (auto& [k, v] : a.items())
      if (!b.contains(k)) return path + "/" + k + ": unexpected key";
    for (auto& [k, v] : b.items()) {
      if (!a.contains(k)) return path + "/" + k + ": missing key";
      std::string d = diff(a.at(k), v, path + "/" + k);
      if (!d.empty()) return d;
    }
    return "";
  }
  if (a.is_array()) {
    if (a.size() != b.size())
      return path + ": array size " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      std::string d = diff(a[i], b[i], path + "/" + std::to_string(i));
      if (!d.empty()) return d;
    }
    return "";
  }
  return a == b ? "" : path + ": " + a.dump() + " vs " + b.dump();
}

struct Case {
  std::string id;
  bool multipage = false;
};

Document parse_case(const Case& c, DocTagsReport* report) {
  fs::path dir = kDir / c.id;
  std::string dt = read_file(dir / "input.doctags");
  std::vector<Image> images;
  if (fs::exists(dir / "page.png")) images.push_back(load_image((dir / "page.png").string()));
  const std::vector<Image>* imgs = images.empty() ? nullptr : &images;
  if (c.multipage) return from_multipage_doctags(dt, imgs, "Document", {}, report);
  return from_doctags_and_image_pairs({dt}, imgs, "Document", {}, report);
}

// Parse → write_docling_json text → compare with expected.json.
std::string run_case(const Case& c) {
  DocTagsReport report;
  Document doc = parse_case(c, &report);
  J got = J::parse(write_docling_json(doc));
  J want = J::parse(read_file(kDir / c.id / "expected.json"));
  drop_uris(got);
  drop_uris(want);
  return diff(got, want, "");
}

const Case kJsonCases[] = {
    {"dt2doc_page_with_picture", false},
    {"dt2doc_barchart", false},
    {"dt2doc_multipage_2206.01062", true},
    {"dt2doc_page_with_picture_no_image", false},  // same DocTags, no page.png in the folder
};

}  // namespace

TEST(Dt2Doc, PageWithPicture) { EXPECT_EQ(run_case(kJsonCases[0]), ""); }
TEST(Dt2Doc, Barchart) { EXPECT_EQ(run_case(kJsonCases[1]), ""); }
TEST(Dt2Doc, Multipage2206) { EXPECT_EQ(run_case(kJsonCases[2]), ""); }

TEST(Dt2Doc, PageWithPictureNoImage) { EXPECT_EQ(run_case(kJsonCases[3]), ""); }

TEST(Dt2Doc, WellFormedInputsGiveNoWarnings) {
  for (const Case& c : kJsonCases) {
    DocTagsReport report;
    parse_case(c, &report);
    for (const ParseWarning& w : report.warnings)
      ADD_FAILURE() << c.id << " page " << w.page << " @" << w.offset << ": " << w.message;
    for (const PageStatus& p : report.pages) {
      EXPECT_FALSE(p.truncated) << c.id << " page " << p.page_no;
      EXPECT_FALSE(p.loop) << c.id << " page " << p.page_no;
    }
  }
}

// No expected JSON upstream: the manifest lists the properties to check.
TEST(Dt2Doc, TablesWithCaptions) {
  Case c{"dt2doc_tables_with_captions", false};
  DocTagsReport report;
  Document doc = parse_case(c, &report);
  EXPECT_TRUE(report.warnings.empty());
  ASSERT_EQ(doc.pages.size(), 1u);
  const double W = doc.pages[0].size.width, H = doc.pages[0].size.height;
  EXPECT_EQ(W, 1240.0);
  EXPECT_EQ(H, 1753.0);
  ASSERT_EQ(doc.tables.size(), 3u);
  // First four locs of each <otsl> element and its caption text, from the input.
  struct Want {
    int l, t, r, b;
    const char* caption;
  } want[] = {
      {83, 85, 417, 204, "TABLE 35: UNION-STATE BREAKDOWN OF IMPRISONMENT CLAUSES BY CATEGORIES"},
      {83, 244, 417, 304, "TABLE 36: THREE CASE STUDIES ON MANUFACTURING COMPLIANCES*"},
      {83, 363, 417, 437, "TABLE 37: BREAKDOWN OF IMPRISONMENT CLAUSES IN MANUFACTURING CASE STUDIES*"},
  };
  for (size_t i = 0; i < 3; ++i) {
    const TableItem& t = doc.tables[i];
    ASSERT_GE(t.prov.size(), 1u) << "table " << i;
    ASSERT_GE(t.captions.size(), 1u) << "table " << i;
    const BoundingBox& bb = t.prov[0].bbox;
    EXPECT_EQ(bb.l, (want[i].l / 500.0) * W);
    EXPECT_EQ(bb.t, (want[i].t / 500.0) * H);
    EXPECT_EQ(bb.r, (want[i].r / 500.0) * W);
    EXPECT_EQ(bb.b, (want[i].b / 500.0) * H);
    EXPECT_EQ(bb.origin, CoordOrigin::TopLeft);
    // The caption is a body child right before its table.
    Ref tref{RefKind::Table, int(i)};
    auto& kids = doc.body.children;
    auto pos = std::find(kids.begin(), kids.end(), tref);
    ASSERT_NE(pos, kids.end());
    ASSERT_NE(pos, kids.begin());
    EXPECT_EQ(*(pos - 1), t.captions[0]);
    const TextItem& cap = doc.texts.at(t.captions[0].index);
    EXPECT_EQ(cap.label, Label::Caption);
    EXPECT_EQ(cap.text, want[i].caption);
    for (const TableCell& cell : t.data.cells) {
      EXPECT_FALSE(cell.column_header);
      EXPECT_FALSE(cell.row_header);
    }
  }
  EXPECT_EQ(doc.tables[0].data.num_rows, 8);
  EXPECT_EQ(doc.tables[0].data.num_cols, 5);
  EXPECT_EQ(doc.tables[2].data.cells[0].text, "");  // <ecel>
  int furniture = 0;
  for (const TextItem& t : doc.texts) {
    bool hf = t.label == Label::PageHeader || t.label == Label::PageFooter;
    EXPECT_EQ(t.content_layer == ContentLayer::Furniture, hf) << t.text;
    if (hf) {
      ++furniture;
      EXPECT_EQ(t.parent, Ref::body());
    }
  }
  EXPECT_EQ(furniture, 2);
}

// The whole chain: DocTags → Document → Markdown / HTML (placeholder images, defaults),
// compared as upstream does (trailing whitespace ignored).
TEST(Dt2Doc, BarchartMarkdownAndHtml) {
  Document doc = parse_case({"dt2doc_barchart", false}, nullptr);
  auto rstrip = [](std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
  };
  fs::path dir = kDir / "dt2doc_barchart";
  EXPECT_EQ(rstrip(export_markdown(doc)), rstrip(read_file(dir / "expected.md")));
  EXPECT_EQ(rstrip(export_html(doc)), rstrip(read_file(dir / "expected.html")));
}

// The writer against docling-core's own JSON: every schema-1.10.0 document in the test
// data read and written back gives the same data (extra fields included).
TEST(Dt2Doc, JsonRoundTripOfCurrentSchemaDocuments) {
  int checked = 0;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(kDir))
    if (fs::exists(e.path() / "input.json")) files.push_back(e.path() / "input.json");
  for (auto& e : fs::directory_iterator(fs::path(DOCLING_TEST_DATA) / "pdfs"))
    if (e.path().extension() == ".json" && e.path().string().find(".pages.meta") == std::string::npos)
      files.push_back(e.path());
  for (const fs::path& f : files) {
    std::string text = read_file(f);
    J want = J::parse(text);
    if (want.value("version", "") != "1.10.0") continue;
    J got = J::parse(write_docling_json(read_docling_json(text)));
    EXPECT_EQ(diff(got, want, ""), "") << f;
    ++checked;
  }
  std::printf("JSON round trip: %d schema-1.10.0 documents\n", checked);
  EXPECT_GE(checked, 5);
}

TEST(Dt2Doc, PassRate) {
  int pass = 0, total = 0;
  for (const Case& c : kJsonCases) {
    ++total;
    pass += run_case(c).empty();
  }
  std::printf("dt2doc JSON cases: %d/%d pass\n", pass, total);
  EXPECT_EQ(pass, total);
}
