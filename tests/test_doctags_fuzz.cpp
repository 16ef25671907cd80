// Fuzz: thousands of broken DocTags (truncated, shuffled, tag-spliced, looped, byte noise)
// built from the conformance inputs and the ground-truth DocTags, streamed through the
// parser in random chunks and then through every consumer of the document. Nothing may
// throw or crash (CI runs this under ASan+UBSan), the tree must stay consistent and the
// JSON must be valid.
//
// Iterations: 2500 in a Release build, 250 under sanitizers; DOCLING_FUZZ_ITERS overrides.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "doctags/docling_json.h"
#include "doctags/parser.h"
#include "doctags/vocabulary.h"
#include "exporters/doctags_writer.h"
#include "exporters/html.h"
#include "exporters/markdown.h"
#include "exporters/text.h"

using namespace docling;
namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
#define DOCLING_FUZZ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define DOCLING_FUZZ_SANITIZED 1
#endif
#endif
#ifndef DOCLING_FUZZ_SANITIZED
#define DOCLING_FUZZ_SANITIZED 0
#endif

namespace {

// Everything that consumes a parsed document. Exporters join here, one line each.
const std::vector<std::pair<const char*, std::function<void(const Document&)>>> kSinks = {
    {"to_docling_json", [](const Document& d) { (void)to_docling_json(d).dump(); }},
    {"write_docling_json",
     [](const Document& d) { EXPECT_TRUE(nlohmann::json::parse(write_docling_json(d)).is_object()); }},
    {"json_round_trip", [](const Document& d) { (void)read_docling_json(write_docling_json(d)); }},
    {"export_markdown", [](const Document& d) { (void)export_markdown(d); }},
    {"export_html", [](const Document& d) { (void)export_html(d); }},
    {"export_text", [](const Document& d) { (void)export_text(d); }},
    {"export_doctags", [](const Document& d) { (void)export_doctags(d); }},
};

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> load_corpus() {
  std::vector<fs::path> files;
  fs::path data(DOCLING_TEST_DATA);
  for (auto& e : fs::directory_iterator(data / "pdfs"))
    if (e.path().extension() == ".doctags") files.push_back(e.path());
  for (auto& e : fs::directory_iterator(data / "conformance"))
    if (fs::exists(e.path() / "input.doctags")) files.push_back(e.path() / "input.doctags");
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(read_file(f));
  return out;
}

// Tags to splice in: every element, marker and a few malformed ones.
std::vector<std::string> splice_tags() {
  using namespace doctags;
  std::vector<std::string> t;
  for (Tag tag : {Tag::Doctag, Tag::Title, Tag::Text, Tag::Caption, Tag::Footnote, Tag::PageHeader,
                  Tag::PageFooter, Tag::Formula, Tag::Code, Tag::ListItem, Tag::DocumentIndex,
                  Tag::CheckboxSelected, Tag::CheckboxUnselected, Tag::Paragraph, Tag::Reference,
                  Tag::HandwrittenText, Tag::Smiles, Tag::OrderedList, Tag::UnorderedList,
                  Tag::Inline, Tag::Otsl, Tag::Picture, Tag::Chart, Tag::KeyValueRegion, Tag::Form,
                  Tag::Table}) {
    t.push_back(open_tag(tag));
    t.push_back(close_tag(tag));
  }
  for (Tag c : {Tag::Fcel, Tag::Ecel, Tag::Lcel, Tag::Ucel, Tag::Xcel, Tag::Nl, Tag::Ched,
                Tag::Rhed, Tag::Srow})
    t.push_back(otsl_token(c));
  for (int l : {1, 2, 6, 0, 99}) {
    t.push_back(open_tag(Tag::SectionHeader, l));
    t.push_back(close_tag(Tag::SectionHeader, l));
  }
  for (int n : {0, 1, 250, 499, 500, 99999}) t.push_back(loc_token(n));
  for (int id : {0, 1, 2}) {
    t.push_back(key_token(id));
    t.push_back(key_token(id, true));
    t.push_back(value_token(id));
    t.push_back(value_token(id, true));
    t.push_back(link_token(id));
  }
  for (int i = 0; i < picture_class_count(); i += 7) t.push_back(picture_class_token(i));
  t.push_back(code_language_token("Python"));
  t.push_back(code_language_token("Nope"));
  for (const char* s : {"<page_break>", "<end_of_utterance>", "<|end_of_text|>", "<column_header>",
                        "<", ">", "</", "<>", "</>", "<loc_", "<_", "\xff", "\xe2\x82", "&quot;",
                        "Assistant: ", "\n", "<dot_line>", "<chart>"})
    t.emplace_back(s);
  return t;
}

struct Fuzzer {
  std::mt19937_64 rng;
  const std::vector<std::string>& corpus;
  const std::vector<std::string>& tags;

  size_t pick(size_t n) { return n ? size_t(rng() % n) : 0; }

  std::string window() {
    const std::string& s = corpus[pick(corpus.size())];
    size_t len = std::min<size_t>(s.size(), 200 + pick(6000));
    size_t at = rng() % 4 == 0 ? 0 : pick(s.size() - len + 1);
    return s.substr(at, len);
  }

  std::string mutate(std::string s) {
    int n = 1 + int(pick(6));
    for (int k = 0; k < n; ++k) {
      switch (pick(8)) {
        case 0:  // truncate (a generation cut at max tokens)
          s.resize(pick(s.size() + 1));
          break;
        case 1: {  // splice tags
          int m = 1 + int(pick(8));
          for (int i = 0; i < m; ++i) s.insert(pick(s.size() + 1), tags[pick(tags.size())]);
          break;
        }
        case 2: {  // delete a range
          size_t a = pick(s.size() + 1), len = pick(200);
          s.erase(a, len);
          break;
        }
        case 3: {  // repeat a range (a model loop)
          size_t a = pick(s.size() + 1), len = std::min(s.size() - a, pick(300));
          std::string piece = s.substr(a, len);
          int reps = 2 + int(pick(20));
          std::string loop;
          for (int i = 0; i < reps; ++i) loop += piece;
          s.insert(a + len, loop);
          break;
        }
        case 4: {  // shuffle lines
          std::vector<std::string> lines;
          std::stringstream ss(s);
          for (std::string l; std::getline(ss, l);) lines.push_back(l);
          std::shuffle(lines.begin(), lines.end(), rng);
          s.clear();
          for (const auto& l : lines) s += l + "\n";
          break;
        }
        case 5: {  // byte noise
          int m = 1 + int(pick(10));
          for (int i = 0; i < m && !s.empty(); ++i) s[pick(s.size())] = char(rng());
          break;
        }
        case 6: {  // swap two tag names (mismatched open/close)
          size_t a = s.find('<', pick(s.size() + 1)), b = s.find('<', pick(s.size() + 1));
          if (a != std::string::npos && b != std::string::npos && a != b) std::swap(s[a + 1], s[b + 1]);
          break;
        }
        default:  // join with another window (elements from another document)
          s.insert(pick(s.size() + 1), window());
          break;
      }
      if (s.size() > 40000) s.resize(40000);
    }
    return s;
  }
};

// Parent/child links agree and every reference resolves.
void check_tree(const Document& doc) {
  auto check_node = [&](const Node& n) {
    for (const Ref& c : n.children) {
      const Node* child = doc.node(c);
      ASSERT_NE(child, nullptr) << c.pointer();
      EXPECT_EQ(child->parent, n.self) << c.pointer();
    }
    if (n.self != Ref::body() && n.self != Ref::furniture()) {
      const Node* parent = doc.node(n.parent);
      ASSERT_NE(parent, nullptr) << n.self.pointer();
      EXPECT_NE(std::find(parent->children.begin(), parent->children.end(), n.self),
                parent->children.end())
          << n.self.pointer();
    }
  };
  check_node(doc.body);
  for (const auto& g : doc.groups) check_node(g);
  for (const auto& t : doc.texts) check_node(t);
  for (const auto& t : doc.tables) {
    check_node(t);
    for (const Ref& c : t.captions) EXPECT_NE(doc.node(c), nullptr);
    for (const TableCell& c : t.data.cells) {
      EXPECT_GE(c.row_span, 1);
      EXPECT_LE(c.end_row, t.data.num_rows);
      EXPECT_LE(c.end_col, t.data.num_cols);
    }
  }
  for (const auto& p : doc.pictures) check_node(p);
  for (const auto& k : doc.key_value_items) check_node(k);
  for (size_t i = 1; i < doc.pages.size(); ++i) EXPECT_LT(doc.pages[i - 1].page_no, doc.pages[i].page_no);
}

int iterations() {
  if (const char* e = std::getenv("DOCLING_FUZZ_ITERS")) return std::max(1, std::atoi(e));
  return DOCLING_FUZZ_SANITIZED ? 250 : 2500;
}

}  // namespace

TEST(DocTagsFuzz, BrokenInputNeverBreaksTheParserOrTheWriters) {
  const auto corpus = load_corpus();
  const auto tags = splice_tags();
  ASSERT_GE(corpus.size(), 10u);
  Fuzzer fz{std::mt19937_64(20240611), corpus, tags};
  Image page(64, 80, 200);
  const int n = iterations();
  auto t0 = std::chrono::steady_clock::now();
  size_t warnings = 0, truncated = 0, loops = 0;
  for (int it = 0; it < n; ++it) {
    std::string input = fz.mutate(fz.window());
    DocTagsParseOptions opt;
    opt.page_break_splits = fz.pick(2);
    opt.header_flags = fz.pick(2);
    opt.max_repeats = 1 + int(fz.pick(10));
    const Image* img = fz.pick(3) == 0 ? &page : nullptr;
    Document doc;
    DocTagsParser parser(doc, opt);
    parser.begin_page(img);
    for (size_t i = 0; i < input.size();) {
      size_t k = 1 + fz.pick(16);
      parser.feed(std::string_view(input).substr(i, k));
      i += k;
    }
    parser.finish();
    for (const ParseWarning& w : parser.warnings()) ASSERT_GE(w.page, 1);
    warnings += parser.warnings().size();
    for (const PageStatus& p : parser.pages()) truncated += p.truncated, loops += p.loop;
    check_tree(doc);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "iteration " << it << " input:\n" << input;
      return;
    }
    for (const auto& [name, sink] : kSinks) {
      try {
        sink(doc);
      } catch (const std::exception& e) {
        FAIL() << name << " threw '" << e.what() << "' at iteration " << it << " input:\n" << input;
      }
    }
    // Every 16th input: all-at-once parse must equal the chunked one.
    if (it % 16 == 0) {
      Document whole;
      DocTagsParser p2(whole, opt);
      p2.begin_page(img);
      p2.feed(input);
      p2.finish();
      ASSERT_EQ(write_docling_json(whole), write_docling_json(doc)) << "iteration " << it;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fuzz: %d inputs in %.1f s, %zu warnings, %zu truncated pages, %zu looping pages\n", n,
              secs, warnings, truncated, loops);
  EXPECT_GT(warnings, size_t(n));  // the mutations do reach the repair paths
  EXPECT_GT(truncated, 0u);
  EXPECT_GT(loops, 0u);
}

// The convenience entry points on the same kind of input.
TEST(DocTagsFuzz, ConvenienceFunctions) {
  const auto corpus = load_corpus();
  const auto tags = splice_tags();
  Fuzzer fz{std::mt19937_64(99), corpus, tags};
  const int n = std::max(1, iterations() / 20);
  for (int it = 0; it < n; ++it) {
    std::string input = fz.mutate(fz.window());
    DocTagsReport report;
    Document a = from_multipage_doctags(input, nullptr, "Document", {}, &report);
    check_tree(a);
    Document b;
    add_doctags_page(b, input);
    check_tree(b);
    for (const auto& [name, sink] : kSinks) {
      sink(a);
      sink(b);
    }
  }
}
