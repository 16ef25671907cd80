// `--to chunks` through the CLI: every chunk conformance case with the flags a user would
// pass (compared with docling-core's expected chunks as data), convert on the samples, and
// properties that hold for any document (budgets kept, no content dropped) on documents the
// fixtures do not contain.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace fs = std::filesystem;
using docling::testing::CliRun;
using docling::testing::q;
using docling::testing::run_cli;
using docling::testing::slurp;
using Json = nlohmann::json;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const fs::path kCases = kData / "conformance" / "chunks";
const fs::path kTokenizer = kCases / "tokenizers" / "all-MiniLM-L6-v2";

fs::path home() {
  static fs::path h = docling::testing::temp_dir("cli_chunks", "home");
  return h;
}

// `export CASE/input.json --to chunks FLAGS -o DIR`; the chunks file's lines as JSON.
std::vector<Json> export_chunks(const std::string& id, const std::string& flags) {
  fs::path out = docling::testing::temp_dir("cli_chunks", id);
  CliRun r = run_cli(DOCLING_CLI, "export " + q(kCases / id / "input.json") + " --to chunks -o " + q(out) + " " + flags,
                     home(), 120);
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<Json> lines;
  std::string text = slurp(out / "input.chunks.jsonl"), line;
  std::stringstream ss(text);
  while (std::getline(ss, line)) lines.push_back(Json::parse(line));
  return lines;
}

Json expected(const std::string& id) { return Json::parse(slurp(kCases / id / "expected.json")); }

// The chunk JSON of docling-core: our line without the two added keys.
Json as_docling(Json line) {
  line.erase("contextualized");
  line.erase("num_tokens");
  return line;
}

struct Tally {
  int passed = 0, total = 0;
  ~Tally() { std::printf("chunk conformance through the CLI: %d/%d cases pass\n", passed, total); }
} tally;

void check(const std::string& id, const Json& ours, const Json& want) {
  ++tally.total;
  if (ours == want) ++tally.passed;
  EXPECT_TRUE(ours == want) << id << ": ours\n" << ours.dump(1).substr(0, 3000);
}

Json roots(const std::vector<Json>& lines) {
  Json r = Json::array();
  for (const Json& l : lines) r.push_back(as_docling(l));
  return Json{{"root", r}};
}

const std::string kTok = "--chunk-tokenizer " + q(kTokenizer);

}  // namespace

TEST(CliChunks, HierarchicalCases) {
  check("hier_docling_report", roots(export_chunks("hier_docling_report", "--chunker hierarchical")),
        expected("hier_docling_report"));
  check("hier_rich_table_html",
        roots(export_chunks("hier_rich_table_html", "--chunker hierarchical --chunk-doc-format html")),
        expected("hier_rich_table_html"));
}

TEST(CliChunks, HeadingsCases) {
  for (const char* chunker : {"hierarchical", "hybrid"}) {
    check("headings_empty_sections_emit_false",
          roots(export_chunks("headings_empty_sections_emit_false", std::string("--chunker ") + chunker + " " + kTok)),
          expected("headings_empty_sections_emit_false"));
    check("headings_empty_sections_emit_true",
          roots(export_chunks("headings_empty_sections_emit_true",
                              std::string("--chunker ") + chunker + " " + kTok + " --chunk-always-emit-headings true")),
          expected("headings_empty_sections_emit_true"));
  }
}

TEST(CliChunks, HybridCases) {
  // The tokenizer's own limit (256, sentence_bert_config.json) is the default budget.
  check("hybrid_wiki_default_256", roots(export_chunks("hybrid_wiki_default_256", kTok)),
        expected("hybrid_wiki_default_256"));
  check("hybrid_wiki_merge_64", roots(export_chunks("hybrid_wiki_merge_64", kTok + " --chunk-max-tokens 64")),
        expected("hybrid_wiki_merge_64"));
  check("hybrid_wiki_md_tables_64",
        roots(export_chunks("hybrid_wiki_md_tables_64", kTok + " --chunk-max-tokens 64 --chunk-table-format markdown")),
        expected("hybrid_wiki_md_tables_64"));
  check("hybrid_wiki_openai_gpt4o",
        roots(export_chunks("hybrid_wiki_openai_gpt4o", kTok + " --chunk-max-tokens 131072")),
        expected("hybrid_wiki_openai_gpt4o"));
}

TEST(CliChunks, ContextualizedAndTokenCounts) {
  Json r = Json::array();
  for (const Json& l : export_chunks("hybrid_wiki_contextualize_64", kTok + " --chunk-max-tokens 64"))
    r.push_back(Json{{"text", l["text"]}, {"ser_text", l["contextualized"]}, {"num_tokens", l["num_tokens"]}});
  check("hybrid_wiki_contextualize_64", Json{{"root", r}}, expected("hybrid_wiki_contextualize_64"));
}

TEST(CliChunks, CompactMarkdownTables) {
  Json r = Json::array();
  for (const Json& l : export_chunks("hybrid_docling_report_md_compact_250",
                                     kTok + " --chunk-max-tokens 250 --chunk-table-format markdown-compact")) {
    Json refs = Json::array();
    for (const Json& it : l["meta"]["doc_items"]) refs.push_back(it["self_ref"]);
    r.push_back(Json{{"text", l["text"]}, {"meta", {{"doc_items", refs}, {"headings", l["meta"].value("headings", Json())}}}});
  }
  check("hybrid_docling_report_md_compact_250", r, expected("hybrid_docling_report_md_compact_250"));
}

TEST(CliChunks, PageChunker) {
  check("page_cross_page_lists", roots(export_chunks("page_cross_page_lists", "--chunker page")),
        expected("page_cross_page_lists"));
}

TEST(CliChunks, UsageErrors) {
  CliRun r = run_cli(DOCLING_CLI, "export " + q(kCases / "hier_docling_report" / "input.json") +
                     " --to chunks -o - --chunker hybrid", home(), 60, "", "HF_HOME=" + q(home() / "none"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs a tokenizer"), std::string::npos) << r.err;
  r = run_cli(DOCLING_CLI, "export " + q(kCases / "hier_docling_report" / "input.json") +
              " --to chunks -o - --chunk-tokenizer " + q(home() / "missing"), home(), 60);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  r = run_cli(DOCLING_CLI, "export " + q(kCases / "hier_docling_report" / "input.json") +
              " --to chunks -o - --chunk-table-format csv", home(), 60);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--chunk-table-format"), std::string::npos) << r.err;
}

// The parent's ref of a "#/kind/N" item ("" for none).
std::string parent_of(const Json& doc, const std::string& ref) {
  size_t slash = ref.rfind('/');
  if (ref.rfind("#/", 0) != 0 || slash < 3) return "";
  std::string kind = ref.substr(2, slash - 2);
  size_t i = std::stoul(ref.substr(slash + 1));
  if (!doc.contains(kind) || i >= doc[kind].size()) return "";
  const Json& item = doc[kind][i];
  return item.contains("parent") ? item["parent"].value("$ref", "") : "";
}

// Any document: a hybrid chunk fits its budget (tables cut by rows may not: upstream does not
// re-check them), and every body text that renders on its own lands in some chunk.
TEST(CliChunks, PropertiesOnOtherDocuments) {
  int docs = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(kData / "conformance")) {
    fs::path in = e.path() / "input.json";
    if (e.path().filename().string().rfind("doc2out_", 0) != 0 || !fs::exists(in)) continue;
    ++docs;
    Json doc = Json::parse(slurp(in));
    for (int budget : {48, 128}) {
      fs::path out = docling::testing::temp_dir("cli_chunks", "prop");
      CliRun r = run_cli(DOCLING_CLI, "export " + q(in) + " --to chunks -o " + q(out) + " " + kTok +
                         " --chunk-max-tokens " + std::to_string(budget), home(), 120);
      ASSERT_EQ(r.code, 0) << in << r.err;
      std::set<std::string> covered;
      std::stringstream ss(slurp(out / "input.chunks.jsonl"));
      std::string line;
      while (std::getline(ss, line)) {
        Json c = Json::parse(line);
        bool table = false;
        for (const Json& it : c["meta"]["doc_items"]) {
          covered.insert(it["self_ref"].get<std::string>());
          table = table || it["self_ref"].get<std::string>().rfind("#/tables/", 0) == 0;
        }
        // One character cannot be split further (a Hangul syllable is 2-3 WordPiece tokens, and
        // under a heading of budget - 1 tokens it does not fit): it goes out whole.
        std::string text = c["text"];
        size_t chars = 0;
        for (unsigned char ch : text) chars += (ch & 0xC0) != 0x80;
        if (!table && chars > 1) {
          EXPECT_LE(c["num_tokens"].get<int>(), budget) << in << ": " << c["contextualized"];
        }
      }
      for (const Json& t : doc.value("texts", Json::array())) {
        std::string label = t.value("label", ""), text = t.value("text", "");
        bool body = t.value("content_layer", "body") == "body" &&
                    !(t.contains("parent") && t["parent"].value("$ref", "") == "#/furniture");
        bool in_picture = t.contains("parent") && t["parent"].value("$ref", "").rfind("#/pictures/", 0) == 0;
        if (!body || in_picture || text.empty() || label == "title" || label == "section_header" ||
            label == "caption" || label == "footnote" || label == "chart" || label == "grading_scale")
          continue;
        // A text drawn inside its parent (an inline group standing for an empty list item's
        // text) is cited by that ancestor, as upstream does.
        std::string ref = t["self_ref"].get<std::string>();
        bool cited = false;
        for (int hops = 0; hops < 64 && !ref.empty() && !cited; ++hops) {
          cited = covered.count(ref) > 0;
          ref = parent_of(doc, ref);
        }
        EXPECT_TRUE(cited)
            << in << " budget " << budget << ": " << t["self_ref"] << " '" << text.substr(0, 80) << "' in no chunk";
      }
    }
  }
  EXPECT_GE(docs, 10);
}

// convert writes chunks beside the other formats; the layout view and the box origin flags.
TEST(CliChunks, ConvertWritesChunksAndTheLayoutView) {
  const fs::path samples = kData / ".." / ".." / "samples";
  fs::path out = docling::testing::temp_dir("cli_chunks", "convert");
  CliRun r = run_cli(DOCLING_CLI, "convert " + q(samples / "report.pdf") + " --pipeline text -q -o " + q(out) +
                     " --to json,html,chunks --html-split-page --page-images 50 --coord-origin topleft " + kTok +
                     " --chunk-max-tokens 64", home(), 120);
  ASSERT_EQ(r.code, 0) << r.err;
  std::stringstream ss(slurp(out / "report.chunks.jsonl"));
  std::string line;
  int n = 0, with_headings = 0;
  while (std::getline(ss, line)) {
    Json c = Json::parse(line);
    ++n;
    with_headings += c["meta"].contains("headings");
    bool table = c["meta"]["doc_items"][0]["self_ref"].get<std::string>().rfind("#/tables/", 0) == 0;
    if (!table) {
      EXPECT_LE(c["num_tokens"].get<int>(), 64) << c["contextualized"];  // tables: rows, as upstream
    }
    for (const Json& it : c["meta"]["doc_items"])
      for (const Json& p : it["prov"]) EXPECT_EQ(p["bbox"]["coord_origin"], "TOPLEFT");
  }
  EXPECT_GE(n, 8);
  EXPECT_GE(with_headings, n - 2);  // everything after the title sits under a heading
  std::string html = slurp(out / "report.html");
  EXPECT_NE(html.find("<svg class=\"boxes\""), std::string::npos);
  EXPECT_EQ(std::count(html.begin(), html.end(), '\n') > 10, true);
  Json doc = Json::parse(slurp(out / "report.json"));
  for (const auto& [k, p] : doc["pages"].items()) EXPECT_EQ(p["image"]["dpi"], 50) << k;
  r = run_cli(DOCLING_CLI, "convert " + q(samples / "report.pdf") + " --pipeline text -o - --coord-origin middle",
              home(), 60);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--coord-origin"), std::string::npos) << r.err;
}
