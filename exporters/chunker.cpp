#include "exporters/chunker.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "exporters/chunk_tokenizer.h"
#include "exporters/html.h"
#include "exporters/markdown.h"
#include "exporters/serializer.h"
#include "exporters/text_split.h"

namespace docling::chunk {

namespace {

using ser::Ctx;
using ser::DocSerializer;
using ser::Part;

// --- tables as triplets (docling-core's TripletTableSerializer) -----------------------------------

std::string cell_text(DocSerializer& s, const TableCell& c) {
  if (c.extra.is_object() && c.extra.contains("ref")) {
    auto ref = Ref::parse(c.extra["ref"].value("$ref", ""));
    if (ref && s.doc().node(*ref)) return s.serialize(*ref, s.root_ctx()).text;
  }
  return c.text;
}

// Column names: header rows (those with a column-header cell, from the top) joined with '.',
// else the column numbers.
std::vector<std::string> column_names(const std::vector<std::vector<std::string>>& g,
                                      const std::vector<std::vector<TableCell>>& grid, size_t& header_rows) {
  header_rows = 0;
  while (header_rows < grid.size()) {
    bool any = false;
    for (const TableCell& c : grid[header_rows]) any = any || c.column_header;
    if (!any) break;
    ++header_rows;
  }
  size_t cols = grid.empty() ? 0 : grid[0].size();
  std::vector<std::string> names(cols);
  for (size_t j = 0; j < cols; ++j) {
    if (header_rows == 0) names[j] = std::to_string(j);
    for (size_t i = 0; i < header_rows; ++i) names[j] += (names[j].empty() ? "" : ".") + g[i][j];
  }
  return names;
}

std::string triplet_text(const std::vector<std::vector<std::string>>& g, const std::vector<std::string>& names,
                         size_t header_rows) {
  std::vector<std::string> out;
  size_t cols = names.size();
  if (header_rows >= g.size()) {  // no data rows
    for (const std::string& n : names)
      if (std::string t = py_strip(n); !t.empty()) out.push_back(t);
  } else if (cols == 1) {
    std::string v0 = py_strip(g[header_rows][0]);
    out.push_back(v0);
    for (size_t i = header_rows + 1; i < g.size(); ++i) out.push_back(v0 + " = " + py_strip(g[i][0]));
    if (g.size() - header_rows > 1) out.erase(out.begin());
  } else {
    for (size_t i = header_rows; i < g.size(); ++i)
      for (size_t j = 1; j < cols; ++j)
        out.push_back(py_strip(g[i][0]) + ", " + py_strip(names[j]) + " = " + py_strip(g[i][j]));
  }
  std::string text = join(out, ". ");
  if (!text.empty()) return text;
  for (size_t i = header_rows; i < g.size(); ++i)
    for (const std::string& v : g[i])
      if (std::string t = py_strip(v); !t.empty()) out.push_back(t);
  return join(out, ". ");
}

std::string table_triplets(DocSerializer& s, const TableData& data) {
  auto grid = data.grid();
  std::vector<std::vector<std::string>> g;
  for (const auto& row : grid) {
    std::vector<std::string> r;
    for (const TableCell& c : row) r.push_back(cell_text(s, c));
    g.push_back(std::move(r));
  }
  size_t header_rows = 0;
  std::vector<std::string> names = column_names(g, grid, header_rows);
  if (names.empty()) return "";
  return triplet_text(g, names, header_rows);
}

// Captions, then the table text; spans: the captions, then the table if it rendered something.
Part caption_then(DocSerializer& s, const TableItem& t, const std::string& text) {
  Part out = s.base_captions(t);
  std::vector<std::string> res;
  if (!out.text.empty()) res.push_back(out.text);
  else out.spans.clear();
  if (!s.excluded(t.self) && !text.empty()) res.push_back(text), out.spans.push_back(t.self);
  out.text = join(res, "\n\n");
  return out;
}

Part triplet_table(DocSerializer& s, const TableItem& t, const Ctx&) {
  return caption_then(s, t, s.excluded(t.self) ? "" : table_triplets(s, t.data));
}

// HTMLTableSerializer under the Markdown item serializer: the caption is plain text inside <table>.
Part html_table(DocSerializer& s, const TableItem& t, const Ctx&) {
  Part out = s.base_captions(t);
  if (out.text.empty()) out.spans.clear();
  std::string body = s.excluded(t.self) ? "" : html_table_body(s, t.data);
  if (!body.empty()) out.spans.push_back(t.self);
  std::string inner = out.text + body;
  out.text = inner.empty() ? "" : "<table>" + inner + "</table>";
  return out;
}

std::unique_ptr<DocSerializer> make_serializer(const Document& doc, const ChunkerOptions& o,
                                               std::optional<int> page = std::nullopt) {
  std::unique_ptr<DocSerializer> s;
  if (o.item_format == ItemFormat::Html) {
    HtmlOptions h;
    if (page) h.filter.pages = std::set<int>{*page};
    s = html_serializer(doc, std::move(h));
  } else {
    MarkdownOptions m;
    if (page) m.filter.pages = std::set<int>{*page};
    if (o.table_format == TableFormat::MarkdownCompact) {
      m.compact_tables = true;  // the plain Markdown parameters (see chunker.h)
    } else {
      m.image_placeholder = "";
      m.escape_underscores = false;
      m.escape_html = false;
    }
    s = markdown_serializer(doc, std::move(m));
  }
  if (o.table_format == TableFormat::Triplets) s->set_table_renderer(triplet_table);
  else if (o.table_format == TableFormat::Html && o.item_format == ItemFormat::Markdown) s->set_table_renderer(html_table);
  return s;
}

// --- the hierarchical walk ---------------------------------------------------------------------------

bool is_heading(const Document& doc, Ref r) {
  if (r.kind != RefKind::Text) return false;
  Label l = doc.texts[r.index].label;
  return l == Label::Title || l == Label::SectionHeader;
}

int heading_level(const Document& doc, Ref r) {
  const TextItem& t = doc.texts[r.index];
  return t.label == Label::Title ? 0 : t.level;
}

bool is_list_or_inline(const Document& doc, Ref r) {
  if (r.kind != RefKind::Group) return false;
  GroupLabel l = doc.groups[r.index].label;
  return l == GroupLabel::List || l == GroupLabel::OrderedList || l == GroupLabel::Inline;
}

// Depth-first, document order, body included; a picture's children only where they are its captions.
std::vector<Ref> walk_order(const Document& doc) {
  std::vector<Ref> out;
  std::vector<std::pair<Ref, int>> stack{{Ref::body(), 0}};
  while (!stack.empty()) {
    auto [r, depth] = stack.back();
    stack.pop_back();
    const Node* n = doc.node(r);
    if (!n) continue;
    if (depth > 2000) throw std::runtime_error("document tree too deep or cyclic at " + r.pointer());
    out.push_back(r);
    const std::vector<Ref>* captions = r.kind == RefKind::Picture ? &doc.pictures[r.index].captions : nullptr;
    for (size_t i = n->children.size(); i-- > 0;) {
      Ref c = n->children[i];
      if (captions) {
        bool is_caption = false;
        for (Ref k : *captions) is_caption = is_caption || k == c;
        if (!is_caption) continue;
      }
      stack.push_back({c, depth + 1});
    }
  }
  return out;
}

class Hierarchy {
 public:
  Hierarchy(const Document& doc, const ChunkerOptions& o) : doc_(doc), o_(o), ser_(make_serializer(doc, o)) {}

  std::vector<Chunk> run() {
    for (Ref r : walk_order(doc_)) visit(r);
    if (o_.always_emit_headings) emit_uncovered();
    return std::move(out_);
  }

 private:
  void visit(Ref r) {
    const Node* n = doc_.node(r);
    if (n->content_layer != ContentLayer::Body) return;
    if (doc_.item(r) && ser_->excluded(r)) return;
    if (is_heading(doc_, r)) return set_heading(r);
    if (!(doc_.item(r) || is_list_or_inline(doc_, r)) || ser_->visited(r)) return;
    Part p = ser_->serialize(r, ser_->root_ctx());
    if (p.text.empty() || p.spans.empty()) return;
    Chunk c;
    c.text = std::move(p.text);
    std::unordered_set<std::string> seen;
    for (Ref s : p.spans)
      if (doc_.item(s) && seen.insert(s.pointer()).second) c.items.push_back(s);
    if (c.items.empty()) return;
    c.headings = heading_texts();
    if (!path_.empty()) covered_.insert(path_.rbegin()->second.pointer());
    out_.push_back(std::move(c));
  }

  void set_heading(Ref r) {
    int level = heading_level(doc_, r);
    if (o_.always_emit_headings && !path_.empty() && path_.rbegin()->first >= level) emit_uncovered();
    path_.erase(path_.lower_bound(level), path_.end());
    path_[level] = r;
  }

  // A heading-only chunk for the current path when its deepest heading has no content yet.
  void emit_uncovered() {
    if (path_.empty() || covered_.count(path_.rbegin()->second.pointer())) return;
    Chunk c;
    for (const auto& [level, ref] : path_) c.items.push_back(ref);
    c.headings = heading_texts();
    c.with_origin = false;
    covered_.insert(path_.rbegin()->second.pointer());
    out_.push_back(std::move(c));
  }

  std::vector<std::string> heading_texts() const {
    std::vector<std::string> h;
    for (const auto& [level, ref] : path_) h.push_back(doc_.texts[ref.index].text);
    return h;
  }

  const Document& doc_;
  const ChunkerOptions& o_;
  std::unique_ptr<DocSerializer> ser_;
  std::map<int, Ref> path_;
  std::unordered_set<std::string> covered_;
  std::vector<Chunk> out_;
};

// --- the hybrid chunker: windows over items, text splitting, peer merging ----------------------------

class Hybrid {
 public:
  Hybrid(const Document& doc, const ChunkerOptions& o, const TokenCounter& tc)
      : doc_(doc), o_(o), tc_(tc), ser_(make_serializer(doc, o)) {}

  std::vector<Chunk> run(std::vector<Chunk> chunks) {
    std::vector<Chunk> windows, split;
    for (Chunk& c : chunks) by_items(c, windows);
    for (Chunk& c : windows) by_text(std::move(c), split);
    return o_.merge_peers ? merge(std::move(split)) : split;
  }

 private:
  size_t tokens(const Chunk& c) const { return tc_.count(contextualize(c, o_.delim)); }
  bool fits(const Chunk& c) const { return tokens(c) <= o_.max_tokens; }

  // Items [s, e] of `c`, each rendered alone (fresh visited set, top level), headings skipped.
  Chunk window(const Chunk& c, size_t s, size_t e) {
    Chunk w;
    w.headings = c.headings;
    w.with_origin = c.with_origin;
    w.items.assign(c.items.begin() + long(s), c.items.begin() + long(e) + 1);
    if (c.items.size() == 1) {
      w.text = c.text;
      return w;
    }
    std::vector<std::string> texts;
    for (Ref r : w.items) {
      if (is_heading(doc_, r)) continue;
      ser_->clear_visited();
      std::string t = ser_->serialize(r, ser_->root_ctx()).text;
      if (!t.empty()) texts.push_back(std::move(t));
    }
    w.text = join(texts, o_.delim);
    return w;
  }

  void by_items(const Chunk& c, std::vector<Chunk>& out) {
    size_t n = c.items.size(), s = 0, e = 0;
    Chunk fitting;  // window [s, e - 1], which fitted when e was last extended
    while (e < n) {
      Chunk w = window(c, s, e);
      bool ok = fits(w);
      if (ok && e + 1 < n) {
        fitting = std::move(w);
        ++e;
      } else if (ok) {
        out.push_back(std::move(w));
        break;
      } else if (s == e) {
        out.push_back(std::move(w));
        s = e = e + 1;
      } else {
        out.push_back(std::move(fitting));
        s = e;
      }
    }
  }

  bool table_path(const Chunk& c) const {
    return o_.repeat_table_header && o_.item_format == ItemFormat::Markdown && !c.plain_items &&
           c.items.size() == 1 && c.items[0].kind == RefKind::Table;
  }

  void by_text(Chunk c, std::vector<Chunk>& out) {
    while (true) {
      size_t total = tokens(c);
      if (total <= o_.max_tokens) return out.push_back(std::move(c));
      size_t other = total - tc_.count(c.text);
      if (other >= o_.max_tokens && !c.headings.empty()) {  // the headings alone are too long
        c.headings.clear();
        c.plain_items = true;
        continue;
      }
      size_t budget = o_.max_tokens - std::min(other, o_.max_tokens);
      std::vector<std::string> pieces = table_path(c) ? table_pieces(c.text) : semchunk(c.text, budget, tc_);
      for (std::string& p : pieces) {
        Chunk piece = c;
        piece.text = std::move(p);
        out.push_back(std::move(piece));
      }
      return;
    }
  }

  std::vector<std::string> table_pieces(const std::string& text) const;

  std::vector<Chunk> merge(std::vector<Chunk> chunks) const {
    std::vector<Chunk> out;
    size_t i = 0;
    while (i < chunks.size()) {
      Chunk best = chunks[i];
      size_t j = i + 1;
      for (; j < chunks.size() && chunks[j].headings == chunks[i].headings; ++j) {
        Chunk cand = best;
        cand.text += o_.delim + chunks[j].text;
        cand.items.insert(cand.items.end(), chunks[j].items.begin(), chunks[j].items.end());
        cand.with_origin = chunks[j].with_origin;
        if (!fits(cand)) break;
        best = std::move(cand);
      }
      out.push_back(std::move(best));
      i = j;
    }
    return out;
  }

  const Document& doc_;
  const ChunkerOptions& o_;
  const TokenCounter& tc_;
  std::unique_ptr<DocSerializer> ser_;
};

// Lines with their line ends ("a\nb" → "a\n", "b").
std::vector<std::string> lines_keep_ends(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// ^\|(\s*:?-+:?\s*\|)+\s*$ : a Markdown table's separator row.
bool is_separator_row(std::string line) {
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  if (line.size() < 2 || line[0] != '|') return false;
  size_t i = 1;
  int cells = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i < line.size() && line[i] == ':') ++i;
    size_t dashes = i;
    while (i < line.size() && line[i] == '-') ++i;
    if (i == dashes) return false;
    if (i < line.size() && line[i] == ':') ++i;
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size() || line[i] != '|') return false;
    ++i, ++cells;
  }
  return cells > 0;
}

struct TableLines {
  std::vector<std::string> header, body;
  size_t header_at = 0;  // byte offset of the first header line in the text
};

TableLines markdown_lines(const std::string& text) {
  TableLines t;
  std::vector<std::string> lines = lines_keep_ends(text);
  size_t sep = lines.size();
  for (size_t i = 0; i < lines.size() && sep == lines.size(); ++i)
    if (is_separator_row(lines[i])) sep = i;
  if (sep == lines.size() || sep == 0) {
    t.body = std::move(lines);
    return t;
  }
  for (size_t i = 0; i + 1 < sep; ++i) t.header_at += lines[i].size();
  t.header = {lines[sep - 1], lines[sep]};
  t.body.assign(lines.begin() + long(sep) + 1, lines.end());
  return t;
}

// A row that only labels columns: some non-empty <th>, and every <td> empty.
bool is_header_row(const std::string& row) {
  bool th_text = false;
  for (size_t p = row.find("<t"); p != std::string::npos; p = row.find("<t", p + 2)) {
    if (row.compare(p, 3, "<th") != 0 && row.compare(p, 3, "<td") != 0) continue;
    bool th = row[p + 2] == 'h';
    size_t open_end = row.find('>', p), close = row.find(th ? "</th>" : "</td>", p);
    if (open_end == std::string::npos || close == std::string::npos) return false;
    bool empty = close == open_end + 1;
    if (th) th_text = th_text || !empty;
    else if (!empty) return false;
  }
  return th_text;
}

TableLines html_lines(const std::string& text) {
  TableLines t;
  size_t first = text.find("<tr");
  if (first == std::string::npos) {
    t.body.push_back(text);
    return t;
  }
  if (std::string head = py_strip(text.substr(0, first)); !head.empty()) t.header.push_back(head);
  t.header_at = t.header.empty() ? first : text.find(t.header[0]);
  size_t pos = first, last_end = first;
  bool in_body = false;
  while (pos != std::string::npos && pos < text.size()) {
    size_t end = text.find("</tr>", pos);
    if (end == std::string::npos) break;
    std::string row = text.substr(pos, end + 5 - pos);
    in_body = in_body || !is_header_row(row);
    (in_body ? t.body : t.header).push_back(row);
    last_end = end + 5;
    pos = text.find("<tr", last_end);
  }
  if (t.header.empty()) t.header_at = first;
  if (std::string tail = py_strip(text.substr(last_end)); !tail.empty()) t.body.push_back(tail);
  return t;
}

TableLines triplet_lines(const std::string& text) {
  TableLines t;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!py_strip(line).empty()) t.body.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return t;
}

std::vector<std::string> Hybrid::table_pieces(const std::string& text) const {
  TableLines t = o_.table_format == TableFormat::Triplets ? triplet_lines(text)
                 : o_.table_format == TableFormat::Html   ? html_lines(text)
                                                          : markdown_lines(text);
  std::string preamble = t.header.empty() ? "" : text.substr(0, t.header_at);
  std::string prefix = preamble;
  for (const std::string& h : t.header) prefix += h;
  std::vector<std::string> pieces = line_chunk(t.body, prefix, o_.max_tokens, o_.omit_header_on_overflow, tc_);
  for (size_t i = 1; i < pieces.size(); ++i)
    if (!preamble.empty() && pieces[i].compare(0, preamble.size(), preamble) == 0) pieces[i].erase(0, preamble.size());
  return pieces;
}

// --- JSON ----------------------------------------------------------------------------------------------

// An item in docling-core's base DocItem schema (no subclass fields; base metadata fields only).
Json base_item(const Json& item) {
  Json out = Json::object();
  for (const char* k : {"self_ref", "parent", "children"})
    if (item.contains(k)) out[k] = item[k];
  out["content_layer"] = item.value("content_layer", "body");
  if (item.contains("meta") && item["meta"].is_object()) {
    Json meta = Json::object();
    for (const auto& [k, v] : item["meta"].items())
      if (k == "summary" || k == "language" || k == "entities" || k == "keywords" || k == "topics" ||
          k.find("__") != std::string::npos)
        meta[k] = v;
    out["meta"] = std::move(meta);
  }
  for (const char* k : {"label", "prov"})
    if (item.contains(k)) out[k] = item[k];
  for (const char* k : {"source", "comments"})
    if (item.contains(k) && !item[k].empty()) out[k] = item[k];
  return out;
}

const char* array_of(RefKind k) {
  switch (k) {
    case RefKind::Text: return "texts";
    case RefKind::Table: return "tables";
    case RefKind::Picture: return "pictures";
    case RefKind::KeyValue: return "key_value_items";
    case RefKind::Form: return "form_items";
    default: return nullptr;
  }
}

}  // namespace

std::vector<Chunk> hierarchical_chunks(const Document& doc, const ChunkerOptions& opts) {
  return Hierarchy(doc, opts).run();
}

std::string contextualize(const Chunk& c, const std::string& delim) {
  std::vector<std::string> parts;
  if (!c.headings.empty()) parts.push_back(join(c.headings, delim));
  parts.push_back(c.text);
  return join(parts, delim);
}

std::vector<Chunk> hybrid_chunks(const Document& doc, const ChunkerOptions& opts, const TokenCounter& counter) {
  if (opts.max_tokens == 0) throw std::invalid_argument("the hybrid chunker needs a token budget above 0");
  return Hybrid(doc, opts, counter).run(hierarchical_chunks(doc, opts));
}

std::vector<Chunk> page_chunks(const Document& doc, const ChunkerOptions& opts) {
  std::vector<std::optional<int>> pages;
  for (const PageItem& p : doc.pages) pages.push_back(p.page_no);
  if (pages.empty()) pages.push_back(std::nullopt);  // no pages: the whole document
  std::vector<Chunk> out;
  for (const std::optional<int>& page : pages) {
    std::unique_ptr<DocSerializer> s = make_serializer(doc, opts, page);
    std::vector<std::string> texts;
    Chunk c;
    std::unordered_set<std::string> seen;
    for (const Part& p : s->get_parts(Ref::body(), s->root_ctx())) {
      texts.push_back(p.text);
      for (Ref r : p.spans)
        if (doc.item(r) && seen.insert(r.pointer()).second) c.items.push_back(r);
    }
    c.text = join(texts, "\n\n");
    if (c.text.empty() || c.items.empty()) continue;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Chunk> make_chunks(const Document& doc, const ChunkerOptions& opts, const TokenCounter* counter) {
  if (opts.per_page) return page_chunks(doc, opts);
  if (!opts.hybrid) return hierarchical_chunks(doc, opts);
  if (!counter) throw std::invalid_argument("the hybrid chunker needs a tokenizer");
  return hybrid_chunks(doc, opts, *counter);
}

Json chunk_json(const Json& doc_json, const Chunk& c) {
  Json meta = Json::object();
  meta["schema_name"] = "docling_core.transforms.chunker.DocMeta";
  meta["version"] = "1.0.0";
  Json items = Json::array();
  for (Ref r : c.items) {
    const char* arr = array_of(r.kind);
    if (!arr || !doc_json.contains(arr) || size_t(r.index) >= doc_json[arr].size()) continue;
    items.push_back(base_item(doc_json[arr][size_t(r.index)]));
  }
  meta["doc_items"] = std::move(items);
  if (!c.headings.empty()) meta["headings"] = c.headings;
  if (c.with_origin && doc_json.contains("origin")) meta["origin"] = doc_json["origin"];
  Json out = Json::object();
  out["text"] = c.text;
  out["meta"] = std::move(meta);
  return out;
}

}  // namespace docling::chunk
