// Chunk conformance: every case of tests/data/conformance/chunks (docling-core's own chunker
// fixtures) through the library's chunkers, compared with the expected chunks as data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "doctags/docling_json.h"
#include "exporters/chunk_tokenizer.h"
#include "exporters/chunker.h"

namespace fs = std::filesystem;
using namespace docling;
using namespace docling::chunk;

namespace {

const fs::path kCases = fs::path(DOCLING_TEST_DATA) / "conformance" / "chunks";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const TokenCounter& minilm() {
  static std::unique_ptr<TokenCounter> tc = load_tokenizer((kCases / "tokenizers" / "all-MiniLM-L6-v2").string());
  return *tc;
}

// The first place two JSON values differ ("" when equal), for a readable failure.
std::string first_difference(const Json& a, const Json& b, const std::string& path = "") {
  if (a.type() != b.type() && !(a.is_number() && b.is_number())) return path + ": " + a.dump() + " vs " + b.dump();
  if (a.is_object()) {
    for (const auto& [k, v] : a.items()) {
      if (!b.contains(k)) return path + "/" + k + ": missing in expected";
      if (auto d = first_difference(v, b[k], path + "/" + k); !d.empty()) return d;
    }
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) return path + "/" + k + ": missing in ours (expected " + v.dump().substr(0, 200) + ")";
    return "";
  }
  if (a.is_array()) {
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
      if (auto d = first_difference(a[i], b[i], path + "/" + std::to_string(i)); !d.empty()) return d;
    if (a.size() != b.size())
      return path + ": " + std::to_string(a.size()) + " entries vs " + std::to_string(b.size()) + " expected";
    return "";
  }
  if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>() ? "" : path + ": " + a.dump() + " vs " + b.dump();
  return a == b ? "" : path + ": " + a.dump().substr(0, 300) + " vs " + b.dump().substr(0, 300);
}

struct Case {
  Document doc;
  Json doc_json, expected;
};

Case load_case(const std::string& id) {
  Case c;
  c.doc = read_docling_json(slurp(kCases / id / "input.json"));
  c.doc_json = to_docling_json(c.doc);
  c.expected = Json::parse(slurp(kCases / id / "expected.json"));
  return c;
}

Json as_root(const Case& c, const std::vector<Chunk>& chunks) {
  Json root = Json::array();
  for (const Chunk& ch : chunks) root.push_back(chunk_json(c.doc_json, ch));
  return Json{{"root", root}};
}

void expect_same(const Json& ours, const Json& expected) {
  EXPECT_EQ(first_difference(ours, expected), "");
}

ChunkerOptions hybrid(size_t max_tokens) {
  ChunkerOptions o;
  o.max_tokens = max_tokens;
  return o;
}

}  // namespace

TEST(ChunkConformance, HierDoclingReport) {
  Case c = load_case("hier_docling_report");
  ChunkerOptions o;
  o.hybrid = false;
  expect_same(as_root(c, hierarchical_chunks(c.doc, o)), c.expected);
}

TEST(ChunkConformance, HierRichTableHtml) {
  Case c = load_case("hier_rich_table_html");
  ChunkerOptions o;
  o.hybrid = false;
  o.item_format = ItemFormat::Html;
  expect_same(as_root(c, hierarchical_chunks(c.doc, o)), c.expected);
}

TEST(ChunkConformance, HeadingsEmptySections) {
  for (bool emit : {false, true}) {
    Case c = load_case(emit ? "headings_empty_sections_emit_true" : "headings_empty_sections_emit_false");
    ChunkerOptions o;
    o.always_emit_headings = emit;
    expect_same(as_root(c, hybrid_chunks(c.doc, o, minilm())), c.expected);
    o.hybrid = false;
    expect_same(as_root(c, hierarchical_chunks(c.doc, o)), c.expected);
  }
}

TEST(ChunkConformance, HybridWikiMerge64) {
  Case c = load_case("hybrid_wiki_merge_64");
  expect_same(as_root(c, hybrid_chunks(c.doc, hybrid(64), minilm())), c.expected);
}

TEST(ChunkConformance, HybridWikiDefault256) {
  Case c = load_case("hybrid_wiki_default_256");
  expect_same(as_root(c, hybrid_chunks(c.doc, hybrid(256), minilm())), c.expected);
}

TEST(ChunkConformance, HybridWikiMarkdownTables64) {
  Case c = load_case("hybrid_wiki_md_tables_64");
  ChunkerOptions o = hybrid(64);
  o.table_format = TableFormat::Markdown;
  expect_same(as_root(c, hybrid_chunks(c.doc, o, minilm())), c.expected);
}

TEST(ChunkConformance, HybridWikiLargeBudget) {
  // gpt-4o's o200k_base with 131072 tokens: nothing is split, so any counter gives these chunks.
  Case c = load_case("hybrid_wiki_openai_gpt4o");
  WordCounter words;
  expect_same(as_root(c, hybrid_chunks(c.doc, hybrid(131072), words)), c.expected);
}

TEST(ChunkConformance, HybridWikiContextualize64) {
  Case c = load_case("hybrid_wiki_contextualize_64");
  Json root = Json::array();
  for (const Chunk& ch : hybrid_chunks(c.doc, hybrid(64), minilm())) {
    std::string ser = contextualize(ch, "\n");
    root.push_back(Json{{"text", ch.text}, {"ser_text", ser}, {"num_tokens", minilm().count(ser)}});
  }
  expect_same(Json{{"root", root}}, c.expected);
}

TEST(ChunkConformance, HybridReportCompactMarkdown250) {
  Case c = load_case("hybrid_docling_report_md_compact_250");
  ChunkerOptions o = hybrid(250);
  o.table_format = TableFormat::MarkdownCompact;
  Json ours = Json::array();
  for (const Chunk& ch : hybrid_chunks(c.doc, o, minilm())) {
    Json refs = Json::array();
    for (Ref r : ch.items) refs.push_back(r.pointer());
    Json meta{{"doc_items", refs}, {"headings", ch.headings.empty() ? Json() : Json(ch.headings)}};
    ours.push_back(Json{{"text", ch.text}, {"meta", meta}});
  }
  expect_same(ours, c.expected);
}

TEST(ChunkConformance, PageChunkerCrossPageLists) {
  Case c = load_case("page_cross_page_lists");
  ChunkerOptions o;
  o.per_page = true;
  expect_same(as_root(c, page_chunks(c.doc, o)), c.expected);
}
