// The public chunking API (DoclingDocument::chunk, Format::Chunks) over exporters/chunker.h.
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "doctags/docling_json.h"
#include "exporters/chunk_tokenizer.h"
#include "exporters/chunker.h"
#include "pipeline/api_internal.h"

namespace fs = std::filesystem;

namespace docling {

namespace {

using chunk::TokenCounter;

struct LoadedTokenizer {
  std::shared_ptr<const TokenCounter> counter;
  std::optional<size_t> limit;
};

// Tokenizers by path: a batch chunks every document with the same one, and loading a
// vocabulary costs more than chunking a page. A changed file (size or time) is reloaded.
LoadedTokenizer tokenizer_for(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::pair<std::string, LoadedTokenizer>> cache;
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec);
  std::string key = ec ? path : p.string();
  std::string stamp;
  for (const fs::directory_entry& e : fs::directory_iterator(fs::is_directory(p, ec) ? p : p.parent_path(), ec))
    stamp += e.path().filename().string() + ":" + std::to_string(e.is_regular_file(ec) ? e.file_size(ec) : 0) + ":" +
             std::to_string(fs::last_write_time(e.path(), ec).time_since_epoch().count()) + ";";
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end() && it->second.first == stamp) return it->second.second;
  LoadedTokenizer t;
  try {
    t.counter = chunk::load_tokenizer(path);
    t.limit = chunk::tokenizer_max_tokens(path);
  } catch (const std::exception& e) {
    throw InvalidArgumentError(std::string("chunk tokenizer: ") + e.what());
  }
  if (cache.size() >= 8) cache.clear();
  cache[key] = {stamp, t};
  return t;
}

chunk::ChunkerOptions internal_options(const ChunkOptions& o, const LoadedTokenizer& t) {
  chunk::ChunkerOptions c;
  c.hybrid = o.chunker == Chunker::Hybrid;
  c.per_page = o.chunker == Chunker::Page;
  if (int(o.chunker) < 0 || int(o.chunker) > int(Chunker::Page)) throw InvalidArgumentError("chunker: not a Chunker value");
  c.merge_peers = o.merge_peers;
  c.repeat_table_header = o.repeat_table_header;
  c.omit_header_on_overflow = o.omit_header_on_overflow;
  c.always_emit_headings = o.always_emit_headings;
  c.merge_list_items = o.merge_list_items;
  c.delim = o.delim;
  c.table_format = chunk::TableFormat(int(o.table_format));
  c.item_format = chunk::ItemFormat(int(o.item_format));
  if (o.max_tokens < 0) throw InvalidArgumentError("chunk max_tokens must not be negative");
  if (o.max_tokens > 0) c.max_tokens = size_t(o.max_tokens);
  else if (t.limit) c.max_tokens = *t.limit;
  else if (c.hybrid)
    throw InvalidArgumentError("the chunk tokenizer '" + o.tokenizer +
                               "' states no length limit (sentence_bert_config.json or tokenizer_config.json): set max_tokens");
  if (c.hybrid && !t.counter)
    throw InvalidArgumentError("the hybrid chunker needs a tokenizer (a Hugging Face tokenizer folder, e.g. "
                               "sentence-transformers/all-MiniLM-L6-v2); or use the hierarchical chunker");
  return c;
}

std::vector<int> pages_of(const Document& doc, const std::vector<Ref>& items) {
  std::set<int> pages;
  for (Ref r : items)
    if (const DocItem* d = doc.item(r))
      for (const ProvenanceItem& p : d->prov) pages.insert(p.page_no);
  return {pages.begin(), pages.end()};
}

}  // namespace

std::vector<Chunk> chunk_document(const Document& doc, const ChunkOptions& o) {
  LoadedTokenizer t;
  if (!o.tokenizer.empty()) t = tokenizer_for(o.tokenizer);
  chunk::ChunkerOptions co = internal_options(o, t);
  std::vector<chunk::Chunk> chunks;
  try {
    chunks = chunk::make_chunks(doc, co, t.counter.get());
  } catch (const std::invalid_argument& e) {
    throw InvalidArgumentError(e.what());
  }
  Json doc_json = to_docling_json(doc);
  std::vector<Chunk> out;
  out.reserve(chunks.size());
  for (const chunk::Chunk& c : chunks) {
    Chunk pc;
    pc.text = c.text;
    pc.contextualized = chunk::contextualize(c, co.delim);
    pc.headings = c.headings;
    for (Ref r : c.items) pc.items.push_back(r.pointer());
    pc.pages = pages_of(doc, c.items);
    if (t.counter) pc.num_tokens = int(t.counter->count(pc.contextualized));
    Json j = chunk::chunk_json(doc_json, c);
    j["contextualized"] = pc.contextualized;
    j["num_tokens"] = t.counter ? Json(pc.num_tokens) : Json();
    pc.json = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    out.push_back(std::move(pc));
  }
  return out;
}

std::string chunk_lines(const Document& doc, const ChunkOptions& o) {
  std::string out;
  for (const Chunk& c : chunk_document(doc, o)) out += c.json + "\n";
  return out;
}

std::vector<Chunk> DoclingDocument::chunk(const ChunkOptions& options) const {
  return chunk_document(impl_->doc, options);
}

}  // namespace docling
