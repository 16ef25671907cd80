// doc2out conformance: every expected export file of the doc2out_* cases (and the
// Markdown/HTML of dt2doc_barchart, whose expected.json is a DoclingDocument) is
// regenerated from the case's input document with the parameters the manifest states,
// and compared by the README's rules: trailing whitespace trimmed; for DocTags
// &quot;/&#34; read as "; for the doc2out_docling_* DocTags a loc token may differ by 1.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "doctags/docling_json.h"
#include "exporters/doctags_writer.h"
#include "exporters/html.h"
#include "exporters/markdown.h"

using namespace docling;

namespace {

const std::string kRoot = std::string(DOCLING_TEST_DATA) + "/conformance/";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string rstrip(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::string unquote(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 6, "&quot;") == 0) out += '"', i += 6;
    else if (s.compare(i, 5, "&#34;") == 0) out += '"', i += 5;
    else out += s[i++];
  }
  return out;
}

// Equal except for <loc_N> values that differ by at most one; counts those.
bool equal_loc_tolerant(const std::string& a, const std::string& b, int* loc_diffs) {
  size_t i = 0, j = 0;
  *loc_diffs = 0;
  auto num = [](const std::string& s, size_t& k) {
    int v = 0;
    while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) v = v * 10 + (s[k++] - '0');
    return v;
  };
  while (i < a.size() && j < b.size()) {
    if (a.compare(i, 5, "<loc_") == 0 && b.compare(j, 5, "<loc_") == 0) {
      i += 5, j += 5;
      int x = num(a, i), y = num(b, j);
      if (std::abs(x - y) > 1) return false;
      *loc_diffs += x != y;
      continue;
    }
    if (a[i] != b[j]) return false;
    ++i, ++j;
  }
  return i == a.size() && j == b.size();
}

struct Case {
  std::string id, file;  // case folder, expected file name
  std::string input;     // input document file name
};

// What to run for one expected file, from the manifest's "how_produced".
std::string produce(const Case& c, const Document& doc, std::string* kind) {
  const std::string& f = c.file;
  bool docling = c.id.rfind("doc2out_docling_", 0) == 0;
  bool minus_picture = c.id == "doc2out_activities_page_breaks" || c.id == "doc2out_checkboxes";
  auto ends = [&](const char* s) { return f.size() >= std::strlen(s) && f.compare(f.size() - std::strlen(s), std::string::npos, s) == 0; };
  if (ends(".md")) {
    *kind = "md";
    MarkdownOptions o;
    o.compact_tables = docling;
    if (minus_picture && f != "expected.page2.md") {
      o.filter.labels &= ~label_bit(Label::Picture);
      o.page_break_placeholder = "<!-- page break -->";
    }
    if (f == "expected.paged.md") o.page_break_placeholder = "<!-- page break -->";
    if (f == "expected.embedded.md") o.image_mode = ImageMode::Embedded;
    if (f == "expected.pb_none.md") o.page_break_placeholder.reset();
    if (f == "expected.pb_empty.md") o.page_break_placeholder = "";
    if (f == "expected.pb_non_empty.md") o.page_break_placeholder = "<!-- page-break -->";
    if (f == "expected.page2.md") o.filter.pages = std::set<int>{2};
    return export_markdown(doc, o);
  }
  if (ends(".html")) {
    *kind = "html";
    HtmlOptions o;
    if (f == "expected.embedded.html") o.image_mode = ImageMode::Embedded;
    if (f == "expected.page1.html") o.filter.pages = std::set<int>{1};
    if (f == "expected.page2.html") o.filter.pages = std::set<int>{2};
    return export_html(doc, o);
  }
  if (ends(".doctags")) {
    *kind = "doctags";
    DocTagsOptions o;
    if (f == "expected.min.doctags") o.minified = true;
    if (f == "expected.pages_1_2.doctags") o.filter.pages = std::set<int>{1, 2};
    return export_doctags(doc, o);
  }
  throw std::runtime_error("no export known for " + c.id + "/" + f);
}

std::vector<Case> load_cases() {
  std::vector<Case> out;
  Json m = Json::parse(read_file(kRoot + "manifest.json"));
  for (const Json& c : m["cases"]) {
    std::string id = c["id"];
    bool doc2out = id.rfind("doc2out_", 0) == 0;
    if (!doc2out && id != "dt2doc_barchart") continue;
    for (const Json& f : c["files"]) {
      std::string name = f["name"];
      if (f["role"] != "expected" || name == "expected.json") continue;
      out.push_back({id, name, doc2out ? "input.json" : "expected.json"});
    }
  }
  return out;
}

struct Tally {
  int total = 0, passed = 0;
  std::map<std::string, std::pair<int, int>> by_kind;  // kind -> passed, total
};
Tally& tally() {
  static Tally t;
  return t;
}

class Report : public ::testing::Environment {
 public:
  void TearDown() override {
    const Tally& t = tally();
    std::printf("doc2out conformance: %d/%d passed\n", t.passed, t.total);
    for (const auto& [k, v] : t.by_kind) std::printf("  %s: %d/%d\n", k.c_str(), v.first, v.second);
  }
};
const auto* const kReport = ::testing::AddGlobalTestEnvironment(new Report);

class Doc2Out : public ::testing::TestWithParam<Case> {};

TEST_P(Doc2Out, MatchesExpected) {
  const Case& c = GetParam();
  Document doc = read_docling_json(read_file(kRoot + c.id + "/" + c.input));
  std::string kind;
  std::string got = rstrip(produce(c, doc, &kind));
  std::string want = rstrip(read_file(kRoot + c.id + "/" + c.file));
  bool ok;
  int loc_diffs = 0;
  if (kind == "doctags") {
    got = unquote(got), want = unquote(want);
    ok = c.id.rfind("doc2out_docling_", 0) == 0 ? equal_loc_tolerant(got, want, &loc_diffs) : got == want;
  } else {
    ok = got == want;
  }
  Tally& t = tally();
  ++t.total;
  ++t.by_kind[kind].second;
  if (ok) ++t.passed, ++t.by_kind[kind].first;
  if (!ok) {
    // Point at the first differing line to keep the failure readable.
    std::istringstream gs(got), ws(want);
    std::string gl, wl;
    int line = 0;
    while (true) {
      bool g = static_cast<bool>(std::getline(gs, gl)), w = static_cast<bool>(std::getline(ws, wl));
      ++line;
      if (!g && !w) break;
      if (!g || !w || gl != wl) {
        ADD_FAILURE() << c.id << "/" << c.file << " differs at line " << line << "\n  got:  "
                      << (g ? gl.substr(0, 400) : "<eof>") << "\n  want: " << (w ? wl.substr(0, 400) : "<eof>");
        break;
      }
    }
  }
  EXPECT_TRUE(ok) << c.id << "/" << c.file;
  if (ok && loc_diffs) std::printf("  %s/%s: %d loc token(s) off by one\n", c.id.c_str(), c.file.c_str(), loc_diffs);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.id + "__" + info.param.file;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Conformance, Doc2Out, ::testing::ValuesIn(load_cases()), case_name);

TEST(Doc2OutManifest, CoversEveryExpectedFile) {
  // 15 doc2out cases with 45 export files, plus barchart's Markdown and HTML.
  EXPECT_EQ(load_cases().size(), 47u);
}

}  // namespace
