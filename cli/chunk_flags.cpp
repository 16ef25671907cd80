// The --chunk* flags of convert and export, and where the chunk tokenizer is found.
#include <algorithm>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace fs = std::filesystem;

namespace dcli {

namespace {

bool truth(const std::string& flag, const std::string& v, bool fallback) {
  if (v.empty()) return fallback;
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw UsageError("--" + flag + ": expected true or false, got '" + escape(v) + "'");
}

// A snapshot of sentence-transformers/all-MiniLM-L6-v2 (docling-core's default chunk tokenizer)
// in the Hugging Face cache.
std::string cached_default_tokenizer() {
  for (const fs::path& hub : hf_hub_caches())
    if (std::string t = hf_cached_tokenizer(hub, "sentence-transformers/all-MiniLM-L6-v2"); !t.empty()) return t;
  return "";
}

}  // namespace

std::vector<fs::path> hf_hub_caches() {
  std::vector<fs::path> hubs;
  if (std::string h = env_var("HF_HUB_CACHE"); !h.empty()) hubs.emplace_back(h);
  if (std::string h = env_var("HF_HOME"); !h.empty()) hubs.push_back(fs::path(h) / "hub");
  hubs.push_back(user_cache_dir() / "huggingface" / "hub");
  return hubs;
}

bool is_tokenizer_dir(const fs::path& d) {
  std::error_code ec;
  return fs::is_regular_file(d / "tokenizer.json", ec) || fs::is_regular_file(d / "vocab.txt", ec) ||
         (fs::is_regular_file(d / "vocab.json", ec) && fs::is_regular_file(d / "merges.txt", ec));
}

std::string hf_cached_tokenizer(const fs::path& hub, const std::string& model) {
  std::string folder = "models--" + model;
  for (size_t i; (i = folder.find('/')) != std::string::npos;) folder.replace(i, 1, "--");
  std::error_code ec;
  std::vector<fs::path> snaps;
  for (const fs::directory_entry& e : fs::directory_iterator(hub / folder / "snapshots", ec))
    if (is_tokenizer_dir(e.path())) snaps.push_back(e.path());
  if (snaps.empty()) return "";
  return std::max_element(snaps.begin(), snaps.end(), [](const fs::path& a, const fs::path& b) {
           std::error_code e1, e2;
           return fs::last_write_time(a, e1) < fs::last_write_time(b, e2);
         })->string();
}

void add_chunk_flags(CLI::App& app, ChunkFlags& f) {
  const char* g = "Chunks (--to chunks)";
  app.add_option("--chunker", f.chunker,
                 "hierarchical, hybrid or page (default: hybrid when a tokenizer is given or found,\nelse hierarchical)")
      ->type_name("KIND")->group(g);
  app.add_option("--chunk-tokenizer", f.tokenizer,
                 "Hugging Face tokenizer: a folder or tokenizer.json / vocab.txt / vocab.json+merges.txt\n"
                 "(default: $DOCLING_CHUNK_TOKENIZER, else all-MiniLM-L6-v2 in the Hugging Face cache)")
      ->type_name("PATH")->group(g);
  app.add_option("--chunk-max-tokens", f.max_tokens, "token budget per chunk (default: the tokenizer's limit)")
      ->type_name("N")->group(g);
  app.add_option("--chunk-delim", f.delim, "between headings and text, and merged chunks (default: newline)")
      ->type_name("TEXT")->group(g);
  app.add_option("--chunk-table-format", f.table_format, "triplets, markdown, markdown-compact or html (default: triplets)")
      ->type_name("FORMAT")->group(g);
  app.add_option("--chunk-doc-format", f.doc_format, "markdown or html (default: markdown)")->type_name("FORMAT")->group(g);
  app.add_option("--chunk-merge-peers", f.merge_peers, "true or false (default: true)")->type_name("BOOL")->group(g);
  app.add_option("--chunk-merge-list-items", f.merge_list_items, "true or false (default: true)")->type_name("BOOL")->group(g);
  app.add_option("--chunk-always-emit-headings", f.always_emit_headings, "true or false (default: false)")
      ->type_name("BOOL")->group(g);
  app.add_option("--chunk-repeat-table-header", f.repeat_table_header, "true or false (default: true)")
      ->type_name("BOOL")->group(g);
  app.add_option("--chunk-omit-header-on-overflow", f.omit_header_on_overflow, "true or false (default: false)")
      ->type_name("BOOL")->group(g);
}

docling::ChunkOptions chunk_options(const ChunkFlags& f) {
  docling::ChunkOptions o;
  o.tokenizer = !f.tokenizer.empty() ? f.tokenizer : env_var("DOCLING_CHUNK_TOKENIZER");
  bool explicit_tokenizer = !o.tokenizer.empty();
  if (o.tokenizer.empty()) o.tokenizer = cached_default_tokenizer();
  if (f.chunker == "hierarchical") o.chunker = docling::Chunker::Hierarchical;
  else if (f.chunker == "hybrid") o.chunker = docling::Chunker::Hybrid;
  else if (f.chunker == "page") o.chunker = docling::Chunker::Page;
  else if (f.chunker.empty()) o.chunker = o.tokenizer.empty() ? docling::Chunker::Hierarchical : docling::Chunker::Hybrid;
  else throw UsageError("--chunker: expected hierarchical, hybrid or page, got '" + escape(f.chunker) + "'");
  if (o.chunker == docling::Chunker::Hybrid && o.tokenizer.empty())
    throw UsageError("--chunker hybrid needs a tokenizer: --chunk-tokenizer PATH (e.g. a download of "
                     "sentence-transformers/all-MiniLM-L6-v2), or --chunker hierarchical");
  if (!f.max_tokens.empty()) o.max_tokens = int(whole_number("chunk-max-tokens", f.max_tokens, 1, 1 << 30));
  if (!f.delim.empty()) o.delim = f.delim;
  if (f.table_format == "triplets") o.table_format = docling::ChunkTableFormat::Triplets;
  else if (f.table_format == "markdown") o.table_format = docling::ChunkTableFormat::Markdown;
  else if (f.table_format == "markdown-compact") o.table_format = docling::ChunkTableFormat::MarkdownCompact;
  else if (f.table_format == "html") o.table_format = docling::ChunkTableFormat::Html;
  else if (!f.table_format.empty())
    throw UsageError("--chunk-table-format: expected triplets, markdown, markdown-compact or html, got '" +
                     escape(f.table_format) + "'");
  if (f.doc_format == "html") o.item_format = docling::ChunkItemFormat::Html;
  else if (!f.doc_format.empty() && f.doc_format != "markdown")
    throw UsageError("--chunk-doc-format: expected markdown or html, got '" + escape(f.doc_format) + "'");
  o.merge_peers = truth("chunk-merge-peers", f.merge_peers, o.merge_peers);
  o.merge_list_items = truth("chunk-merge-list-items", f.merge_list_items, o.merge_list_items);
  o.always_emit_headings = truth("chunk-always-emit-headings", f.always_emit_headings, o.always_emit_headings);
  o.repeat_table_header = truth("chunk-repeat-table-header", f.repeat_table_header, o.repeat_table_header);
  o.omit_header_on_overflow = truth("chunk-omit-header-on-overflow", f.omit_header_on_overflow, o.omit_header_on_overflow);
  // A tokenizer that does not load, or a budget it cannot give, is a usage error now rather
  // than a failure of every document later (the library keeps the loaded tokenizer).
  if (explicit_tokenizer || o.chunker == docling::Chunker::Hybrid) {
    try {
      (void)docling::DoclingDocument().chunk(o);
    } catch (const docling::InvalidArgumentError& e) {
      throw UsageError(escape(e.what()));
    }
  }
  return o;
}

}  // namespace dcli
