// docling-cpp serve: the chunking endpoints (/v1/chunk/{hybrid,hierarchical}/{file,source}
// and their /async forms), as docling-serve 1.x has them: the document is converted with the
// convert options (form fields convert_*, or the body's convert_options), then chunked with
// the chunking options (chunking_*, or chunking_options: docling-jobkit's
// HybridChunkerOptions / HierarchicalChunkerOptions). The answer is docling-serve's
// ChunkDocumentResponse: {chunks: [ChunkedDocumentResultItem], documents: [ExportResult],
// processing_time}, plus docling-cpp's "warnings".
//
// Tokenizers: docling-serve downloads the Hugging Face tokenizer a request names; this server
// downloads nothing. A name resolves to a folder under a --chunk-tokenizer-dir or in the
// Hugging Face cache; docling's default name also to --chunk-tokenizer. Else a 422.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "cli.hpp"
#include "serve.hpp"

namespace fs = std::filesystem;

namespace dcli::serve {

namespace {

constexpr const char* kDefaultTokenizer = "sentence-transformers/all-MiniLM-L6-v2";  // docling's default

enum class Kind { Bool, Int, Str };

struct ChunkKnown {
  const char* name;
  Kind kind;
  bool hybrid_only;
  bool applied;
  const char* dflt;  // docling-jobkit's default as JSON; an unapplied option that differs is reported
};

// docling-jobkit's BaseChunkerOptions + HybridChunkerOptions (newest shapes: max_tokens null =
// the tokenizer's limit, include_raw_text false).
constexpr ChunkKnown kChunkOptions[] = {
    {"chunker", Kind::Str, false, true, nullptr},
    {"max_tokens", Kind::Int, true, true, nullptr},
    {"tokenizer", Kind::Str, true, true, nullptr},
    {"merge_peers", Kind::Bool, true, true, nullptr},
    {"use_markdown_tables", Kind::Bool, false, true, nullptr},
    {"include_raw_text", Kind::Bool, false, true, nullptr},
    {"use_markdown_images", Kind::Bool, false, false, "false"},
    {"image_placeholder", Kind::Str, false, false, "\"![IMAGE]\""},
};

const ChunkKnown* chunk_known(const std::string& name) {
  for (const ChunkKnown& k : kChunkOptions)
    if (name == k.name) return &k;
  return nullptr;
}

const char* chunker_name(docling::Chunker c) { return c == docling::Chunker::Hybrid ? "hybrid" : "hierarchical"; }

bool truth(const std::string& where, const std::string& name, const std::string& v) {
  if (v == "true" || v == "True" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "False" || v == "0" || v == "off" || v == "no") return false;
  throw invalid(where, name, "expected a boolean");
}

// A form field's text as the option's JSON type.
Json form_value(const ChunkKnown& k, const std::string& v) {
  switch (k.kind) {
    case Kind::Bool: return truth("", std::string("chunking_") + k.name, v);
    case Kind::Int: {
      if (v.empty() || v == "null" || v == "None") return nullptr;
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (*end) throw invalid("", std::string("chunking_") + k.name, "expected an integer");
      return n;
    }
    case Kind::Str: return v;
  }
  return v;
}

// A Hugging Face model id ("NAME" or "ORG/NAME"), never a path: a request must not name files.
bool valid_model_id(const std::string& n) {
  if (n.empty() || n.size() > 200 || n.front() == '/' || n.back() == '/') return false;
  if (std::count(n.begin(), n.end(), '/') > 1 || n.find("..") != std::string::npos) return false;
  return std::all_of(n.begin(), n.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

// Resolves the request's tokenizer and loads it once (the library keeps it) so that a bad one
// is this request's 422, not a failure of every document later.
void set_tokenizer(ChunkRequest& c, const Json& name, const Settings& s) {
  docling::ChunkOptions& o = c.options;
  if (o.chunker == docling::Chunker::Hierarchical) {
    o.tokenizer.clear();  // docling-serve: no token counts from the hierarchical chunker
    return;
  }
  std::string n = name.is_string() ? name.get<std::string>() : "";
  if (n.empty()) {
    o.tokenizer = find_tokenizer(kDefaultTokenizer, s);
    if (o.tokenizer.empty())
      throw invalid("chunking_options", "tokenizer",
                    std::string("the hybrid chunker needs a tokenizer and this server has none: it downloads no models "
                                "(start it with --chunk-tokenizer DIR, a download of ") + kDefaultTokenizer +
                        ", or --chunk-tokenizer-dir); or use /v1/chunk/hierarchical/...");
  } else {
    if (!valid_model_id(n))
      throw invalid("chunking_options", "tokenizer", "'" + escape(n) + "' is not a Hugging Face model id (ORG/NAME)");
    o.tokenizer = find_tokenizer(n, s);
    if (o.tokenizer.empty())
      throw invalid("chunking_options", "tokenizer",
                    "tokenizer '" + n + "' is not on this server, which downloads no models; give the server "
                    "--chunk-tokenizer-dir DIR holding " + n + "/ (or put it in the Hugging Face cache)");
  }
  try {
    (void)docling::DoclingDocument().chunk(o);
  } catch (const docling::Error& e) {
    throw invalid("chunking_options", "tokenizer", escape(e.what()));
  }
}

// Applies a JSON object of chunking options (names without the chunking_ prefix).
ChunkRequest chunk_request(const Json& opts, bool include_doc, docling::Chunker chunker, const Settings& s,
                           std::vector<std::string>& warnings, const char* where) {
  if (!opts.is_object()) throw invalid(where, "", "expected an object of chunking options");
  ChunkRequest c;
  c.options.chunker = chunker;
  c.include_converted_doc = include_doc;
  std::string unknown, ignored;
  for (auto it = opts.begin(); it != opts.end(); ++it)
    if (!chunk_known(it.key())) unknown += (unknown.empty() ? "" : ", ") + escape(it.key());
  if (!unknown.empty()) throw invalid(where, "", "unknown chunking option(s): " + unknown);
  Json tokenizer;
  for (auto it = opts.begin(); it != opts.end(); ++it) {
    const ChunkKnown& k = *chunk_known(it.key());
    const Json& v = it.value();
    std::string n = k.name;
    bool ok = (k.kind == Kind::Bool && v.is_boolean()) || (k.kind == Kind::Str && (v.is_string() || v.is_null())) ||
              (k.kind == Kind::Int && (v.is_number_integer() || v.is_null()));
    if (!ok) throw invalid(where, n, "wrong type");
    if (k.hybrid_only && chunker != docling::Chunker::Hybrid) {
      ignored += (ignored.empty() ? "" : ", ") + n + " (hybrid chunker only)";
      continue;
    }
    if (!k.applied) {
      if (Json::parse(k.dflt) != v) ignored += (ignored.empty() ? "" : ", ") + n;
      continue;
    }
    if (n == "chunker") {
      if (!v.is_null() && v.get<std::string>() != chunker_name(chunker))
        throw invalid(where, n, std::string("this endpoint's chunker is ") + chunker_name(chunker));
    } else if (n == "max_tokens") {
      if (!v.is_null() && (v.get<int64_t>() < 1 || v.get<int64_t>() > (1 << 20)))
        throw invalid(where, n, "expected a number of tokens above 0");
      c.options.max_tokens = v.is_null() ? 0 : int(v.get<int64_t>());
    } else if (n == "tokenizer") tokenizer = v;
    else if (n == "merge_peers") c.options.merge_peers = v.get<bool>();
    else if (n == "use_markdown_tables")
      c.options.table_format = v.get<bool>() ? docling::ChunkTableFormat::Markdown : docling::ChunkTableFormat::Triplets;
    else if (n == "include_raw_text") c.include_raw_text = v.get<bool>();
  }
  if (!ignored.empty()) warnings.push_back("chunking options accepted but not applied by docling-cpp: " + ignored);
  set_tokenizer(c, tokenizer, s);
  return c;
}

void no_zip(const RequestOptions& o) {
  if (o.zip)
    throw invalid("target", "kind", "chunk results are answered in the body; docling-cpp has no zip target for chunks");
}

}  // namespace

std::string find_tokenizer(const std::string& name, const Settings& s) {
  if (!valid_model_id(name)) return "";
  std::string last = name.substr(name.rfind('/') + 1);
  for (const std::string& d : s.chunk_tokenizer_dirs) {
    for (const fs::path& p : {fs::path(d) / name, fs::path(d) / last})
      if (is_tokenizer_dir(p)) return p.string();
    if (std::string h = hf_cached_tokenizer(d, name); !h.empty()) return h;
  }
  for (const std::string& hub : s.hf_hubs)
    if (std::string h = hf_cached_tokenizer(hub, name); !h.empty()) return h;
  if (name == kDefaultTokenizer) return s.chunk_tokenizer;  // --chunk-tokenizer stands for docling's default
  return "";
}

RequestOptions chunk_options_from_form(const std::vector<std::pair<std::string, std::string>>& fields,
                                       const Settings& s, docling::Chunker chunker) {
  std::vector<std::pair<std::string, std::string>> convert;
  Json chunking = Json::object();
  bool include_doc = false;
  std::string unknown;
  for (const auto& [name, value] : fields) {
    if (name.rfind("convert_", 0) == 0) convert.emplace_back(name.substr(8), value);
    else if (name == "target_type") convert.emplace_back(name, value);
    else if (name == "include_converted_doc") include_doc = truth("", name, value);
    else if (name.rfind("chunking_", 0) == 0) {
      std::string key = name.substr(9);
      const ChunkKnown* k = chunk_known(key);
      if (!k) unknown += (unknown.empty() ? "" : ", ") + escape(name);
      else chunking[key] = form_value(*k, value);
    } else unknown += (unknown.empty() ? "" : ", ") + escape(name);
  }
  if (!unknown.empty())
    throw invalid("", "", "unknown field(s): " + unknown + " (chunk forms take files, convert_*, chunking_*, "
                          "include_converted_doc, target_type)");
  RequestOptions o = options_from_form(convert, s);
  no_zip(o);
  o.chunk = chunk_request(chunking, include_doc, chunker, s, o.warnings, "");
  return o;
}

RequestOptions chunk_options_from_source(const Json& body, const Settings& s, std::vector<Document>& docs,
                                         docling::Chunker chunker) {
  if (!body.is_object()) throw invalid("", "", "expected a JSON object");
  Json convert = Json::object();
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& k = it.key();
    if (k == "convert_options") convert["options"] = it.value();
    else if (k == "sources" || k == "file_sources" || k == "http_sources" || k == "target") convert[k] = it.value();
    else if (k != "chunking_options" && k != "include_converted_doc")
      throw invalid("", k, "unknown field (expected convert_options, chunking_options, sources, file_sources, "
                           "http_sources, include_converted_doc, target)");
  }
  RequestOptions o = options_from_source(convert, s, docs);
  no_zip(o);
  const Json& inc = body.contains("include_converted_doc") ? body["include_converted_doc"] : Json(false);
  if (!inc.is_boolean()) throw invalid("", "include_converted_doc", "expected a boolean");
  o.chunk = chunk_request(body.value("chunking_options", Json::object()), inc.get<bool>(), chunker, s, o.warnings,
                          "chunking_options");
  return o;
}

Json chunk_options_schema(docling::Chunker chunker) {
  Json props = Json::object();
  for (const ChunkKnown& k : kChunkOptions) {
    if (k.hybrid_only && chunker != docling::Chunker::Hybrid) continue;
    Json p = k.kind == Kind::Bool ? Json{{"type", "boolean"}}
             : k.kind == Kind::Int ? Json{{"type", "integer"}, {"nullable", true}}
                                   : Json{{"type", "string"}};
    p["description"] = k.applied ? "applied" : "accepted, not applied (reported in warnings)";
    props[k.name] = p;
  }
  props["chunker"]["enum"] = {chunker_name(chunker)};
  if (chunker == docling::Chunker::Hybrid)
    props["tokenizer"]["description"] =
        std::string("a Hugging Face model id found on the server (--chunk-tokenizer-dir, the Hugging Face cache); "
                    "default ") + kDefaultTokenizer + " (--chunk-tokenizer)";
  return {{"type", "object"}, {"additionalProperties", false}, {"properties", props}};
}

// docling-jobkit's ChunkedDocumentResultItem for each chunk, ExportResult for each document.
std::string response_chunks(const Task& t) {
  const ChunkRequest& c = *t.options.chunk;
  bool hybrid = c.options.chunker == docling::Chunker::Hybrid;
  Json chunks = Json::array();
  for (const DocResult& d : t.results) {
    int index = 0;
    for (const docling::Chunk& ch : d.chunks) {
      Json meta = Json::parse(ch.json).value("meta", Json::object());
      Json item = {{"filename", d.filename},
                   {"chunk_index", index++},
                   {"text", ch.contextualized},
                   {"raw_text", c.include_raw_text ? Json(ch.text) : Json(nullptr)},
                   {"num_tokens", hybrid && ch.num_tokens >= 0 ? Json(ch.num_tokens) : Json(nullptr)},
                   {"headings", ch.headings.empty() ? Json(nullptr) : Json(ch.headings)},
                   {"captions", meta.contains("captions") ? meta["captions"] : Json(nullptr)},
                   {"doc_items", ch.items},
                   {"page_numbers", ch.pages},
                   {"metadata", meta.contains("origin") ? Json{{"origin", meta["origin"]}} : Json::object()}};
      chunks.push_back(std::move(item));
    }
  }
  auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
  std::string out = "{\"chunks\":" + dump(chunks) + ",\"documents\":[";
  Json warnings = t.options.warnings;
  for (size_t i = 0; i < t.results.size(); ++i) {
    const DocResult& d = t.results[i];
    auto js = d.content.find(docling::Format::Json);
    if (i) out += ',';
    out += "{\"kind\":\"ExportResult\",\"content\":{\"filename\":";
    out += dump(d.filename);
    out += ",\"md_content\":null,\"json_content\":";
    out += js != d.content.end() ? js->second : std::string("null");  // the document's JSON as exported
    out += ",\"html_content\":null,\"text_content\":null,\"doctags_content\":null}";
    Json rest = {{"status", d.status},
                 {"errors", error_items(d.errors)},
                 {"timings",
                  {{"document_total", {{"scope", "document"}, {"count", 1}, {"avg", d.seconds}, {"times", {d.seconds}}}}}}};
    out += ',';
    out.append(dump(rest), 1);
    for (const std::string& w : d.warnings) warnings.push_back(w);
  }
  Json tail = {{"processing_time", t.processing_time}, {"warnings", warnings}};
  out += "],";
  out.append(dump(tail), 1);
  return out;
}

}  // namespace dcli::serve
