// DoclingDocument JSON reader (schema 1.0.0 .. 1.10.0).
//
// Fields the tree models are read into the typed structs; everything else on a node
// goes to its `extra` so a writer can give it back. Load-time migrations follow
// docling-core: 1.0.0 page headers/footers move to the furniture layer, and legacy
// picture/table `annotations` are copied into `meta` (first of each kind wins).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/json_limits.h"
#include "doctags/docling_json.h"

namespace docling {

namespace {

constexpr int kMaxMinor = 10;  // 1.10.0

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw JsonError("DoclingDocument JSON: " + where + ": " + what);
}

bool has(const Json& o, const char* k) { return o.is_object() && o.contains(k) && !o[k].is_null(); }

std::string get_str(const Json& o, const char* k, const std::string& where, const std::string& def = "") {
  if (!has(o, k)) return def;
  if (!o[k].is_string()) fail(where, std::string("'") + k + "' must be a string");
  return o[k].get<std::string>();
}

double get_num(const Json& o, const char* k, const std::string& where, double def = 0) {
  if (!has(o, k)) return def;
  if (!o[k].is_number()) fail(where, std::string("'") + k + "' must be a number");
  return o[k].get<double>();
}

// v as a 64-bit integer: an integer that fits, or a float without a fraction (3.0) that fits
// (casting 1e20 would be undefined); nothing otherwise.
std::optional<long long> int64_of(const Json& v) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() <= uint64_t(std::numeric_limits<long long>::max())) return v.get<long long>();
  } else if (v.is_number_integer()) {
    return v.get<long long>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::abs(d) < 9.2e18) return static_cast<long long>(d);
  }
  return std::nullopt;
}

bool fits_int(long long v) { return v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max(); }

long long get_int(const Json& o, const char* k, const std::string& where, long long def = 0) {
  if (!has(o, k)) return def;
  if (auto v = int64_of(o[k])) return *v;
  fail(where, std::string("'") + k + "' must be an integer of 64 bits");
}

// An int field (page numbers, spans, offsets, ids): larger values are refused, not wrapped.
int get_i32(const Json& o, const char* k, const std::string& where, long long def = 0) {
  const long long v = get_int(o, k, where, def);
  if (!fits_int(v)) fail(where, std::string("'") + k + "' is out of range (" + std::to_string(v) + ")");
  return static_cast<int>(v);
}

bool get_bool(const Json& o, const char* k, const std::string& where, bool def = false) {
  if (!has(o, k)) return def;
  if (!o[k].is_boolean()) fail(where, std::string("'") + k + "' must be a boolean");
  return o[k].get<bool>();
}

Ref read_ref(const Json& v, const std::string& where) {
  if (v.is_null()) return Ref{};
  if (!v.is_object() || !v.contains("$ref") || !v["$ref"].is_string())
    fail(where, "expected a reference {\"$ref\": \"#/...\"}");
  auto r = Ref::parse(v["$ref"].get<std::string>());
  if (!r) fail(where, "bad reference '" + v["$ref"].get<std::string>() + "'");
  return *r;
}

std::vector<Ref> read_refs(const Json& o, const char* k, const std::string& where) {
  std::vector<Ref> out;
  if (!has(o, k)) return out;
  if (!o[k].is_array()) fail(where, std::string("'") + k + "' must be a list");
  for (size_t i = 0; i < o[k].size(); ++i)
    out.push_back(read_ref(o[k][i], where + "." + k + "[" + std::to_string(i) + "]"));
  return out;
}

// Keys of `o` not in `known` go to `extra` (an object).
void keep_extra(const Json& o, std::initializer_list<const char*> known, Json& extra) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    bool k = false;
    for (const char* n : known)
      if (it.key() == n) { k = true; break; }
    if (!k) {
      if (!extra.is_object()) extra = Json::object();
      extra[it.key()] = it.value();
    }
  }
}

BoundingBox read_bbox(const Json& b, const std::string& where) {
  if (!b.is_object()) fail(where, "bbox must be an object");
  BoundingBox bb;
  bb.l = get_num(b, "l", where);
  bb.t = get_num(b, "t", where);
  bb.r = get_num(b, "r", where);
  bb.b = get_num(b, "b", where);
  std::string o = get_str(b, "coord_origin", where, "TOPLEFT");
  auto co = coord_origin_from(o);
  if (!co) fail(where, "unknown coord_origin '" + o + "'");
  bb.origin = *co;
  return bb;
}

ProvenanceItem read_prov(const Json& p, const std::string& where) {
  if (!p.is_object()) fail(where, "provenance must be an object");
  ProvenanceItem pi;
  pi.page_no = get_i32(p, "page_no", where, 1);
  if (!has(p, "bbox")) fail(where, "provenance without bbox");
  pi.bbox = read_bbox(p["bbox"], where + ".bbox");
  if (has(p, "charspan")) {
    const Json& c = p["charspan"];
    auto in_int = [](const Json& v) {  // an integer in the JSON (not 3.0) that fits an int
      auto i = v.is_number_integer() ? int64_of(v) : std::nullopt;
      return i && fits_int(*i);
    };
    if (!c.is_array() || c.size() != 2 || !in_int(c[0]) || !in_int(c[1])) fail(where, "charspan must be [int, int]");
    pi.charspan[0] = c[0].get<int>();
    pi.charspan[1] = c[1].get<int>();
  }
  return pi;
}

Size read_size(const Json& s, const std::string& where) {
  if (!s.is_object()) fail(where, "size must be an object");
  return Size{get_num(s, "width", where), get_num(s, "height", where)};
}

ImageRef read_image(const Json& im, const std::string& where) {
  if (!im.is_object()) fail(where, "image must be an object");
  ImageRef r;
  r.mimetype = get_str(im, "mimetype", where, "image/png");
  r.dpi = get_num(im, "dpi", where, 72);
  if (has(im, "size")) r.size = read_size(im["size"], where + ".size");
  r.uri = get_str(im, "uri", where);
  return r;
}

void read_node(const Json& o, Node& n, const std::string& where) {
  if (!o.is_object()) fail(where, "item must be an object");
  if (has(o, "self_ref")) {
    auto r = Ref::parse(get_str(o, "self_ref", where));
    if (!r) fail(where, "bad self_ref '" + o["self_ref"].get<std::string>() + "'");
    n.self = *r;
  }
  n.parent = has(o, "parent") ? read_ref(o["parent"], where + ".parent") : Ref{};
  n.children = read_refs(o, "children", where);
  std::string layer = get_str(o, "content_layer", where, to_string(n.content_layer));
  auto cl = content_layer_from(layer);
  if (!cl) fail(where, "unknown content_layer '" + layer + "'");
  n.content_layer = *cl;
  if (has(o, "meta")) n.meta = o["meta"];
}

void read_doc_item(const Json& o, DocItem& d, const std::string& where) {
  read_node(o, d, where);
  std::string label = get_str(o, "label", where, "text");
  auto l = label_from(label);
  d.label = l ? *l : Label::Text;
  if (!l) d.label_name = label;
  if (has(o, "prov")) {
    if (!o["prov"].is_array()) fail(where, "'prov' must be a list");
    for (size_t i = 0; i < o["prov"].size(); ++i)
      d.prov.push_back(read_prov(o["prov"][i], where + ".prov[" + std::to_string(i) + "]"));
  }
}

void read_floating(const Json& o, Floating& f, const std::string& where) {
  f.captions = read_refs(o, "captions", where);
  f.references = read_refs(o, "references", where);
  f.footnotes = read_refs(o, "footnotes", where);
  if (has(o, "image")) f.image = read_image(o["image"], where + ".image");
}

#define NODE_KEYS "self_ref", "parent", "children", "content_layer", "meta"
#define DOC_KEYS NODE_KEYS, "label", "prov"
#define FLOAT_KEYS "captions", "references", "footnotes", "image"

GroupItem read_group(const Json& o, const std::string& where) {
  GroupItem g;
  read_node(o, g, where);
  g.name = get_str(o, "name", where, "group");
  std::string label = get_str(o, "label", where, "unspecified");
  auto gl = group_label_from(label);
  if (!gl) fail(where, "unknown group label '" + label + "'");
  g.label = *gl;
  keep_extra(o, {NODE_KEYS, "name", "label"}, g.extra);
  return g;
}

TextItem read_text(const Json& o, const std::string& where) {
  TextItem t;
  read_doc_item(o, t, where);
  read_floating(o, t, where);
  t.orig = get_str(o, "orig", where);
  t.text = get_str(o, "text", where);
  if (has(o, "formatting")) {
    const Json& f = o["formatting"];
    Formatting fm;
    fm.bold = get_bool(f, "bold", where);
    fm.italic = get_bool(f, "italic", where);
    fm.underline = get_bool(f, "underline", where);
    fm.strikethrough = get_bool(f, "strikethrough", where);
    fm.script = get_str(f, "script", where, "baseline");
    t.formatting = fm;
  }
  if (has(o, "hyperlink")) t.hyperlink = get_str(o, "hyperlink", where);
  long long level = get_int(o, "level", where, 1);
  if (t.label == Label::SectionHeader && (level < 1 || level > 100))
    fail(where, "section header level " + std::to_string(level) + " outside 1..100");
  t.level = level >= 1 && level <= 100 ? static_cast<int>(level) : 1;
  t.enumerated = get_bool(o, "enumerated", where);
  t.marker = get_str(o, "marker", where);
  if (has(o, "code_language")) t.code_language = get_str(o, "code_language", where);
  t.is_floating_json = t.label == Label::Code || o.contains("captions") ||
                       o.contains("references") || o.contains("footnotes");
  keep_extra(o, {DOC_KEYS, FLOAT_KEYS, "orig", "text", "formatting", "hyperlink", "level",
                 "enumerated", "marker", "code_language"},
             t.extra);
  return t;
}

TableCell read_cell(const Json& c, const std::string& where) {
  if (!c.is_object()) fail(where, "table cell must be an object");
  TableCell tc;
  tc.row_span = get_i32(c, "row_span", where, 1);
  tc.col_span = get_i32(c, "col_span", where, 1);
  tc.start_row = get_i32(c, "start_row_offset_idx", where, 0);
  tc.end_row = get_i32(c, "end_row_offset_idx", where, (long long)tc.start_row + tc.row_span);
  tc.start_col = get_i32(c, "start_col_offset_idx", where, 0);
  tc.end_col = get_i32(c, "end_col_offset_idx", where, (long long)tc.start_col + tc.col_span);
  tc.text = get_str(c, "text", where);
  tc.column_header = get_bool(c, "column_header", where);
  tc.row_header = get_bool(c, "row_header", where);
  tc.row_section = get_bool(c, "row_section", where);
  tc.fillable = get_bool(c, "fillable", where);
  if (has(c, "bbox")) tc.bbox = read_bbox(c["bbox"], where + ".bbox");
  keep_extra(c, {"row_span", "col_span", "start_row_offset_idx", "end_row_offset_idx",
                 "start_col_offset_idx", "end_col_offset_idx", "text", "column_header",
                 "row_header", "row_section", "fillable", "bbox"},
             tc.extra);
  return tc;
}

TableData read_table_data(const Json& d, const std::string& where) {
  if (!d.is_object()) fail(where, "table data must be an object");
  TableData td;
  td.num_rows = get_i32(d, "num_rows", where, 0);
  td.num_cols = get_i32(d, "num_cols", where, 0);
  // the grid is num_rows x num_cols cells: refuse sizes that cannot be a real table
  if (td.num_rows < 0 || td.num_cols < 0 ||
      static_cast<long long>(td.num_rows) * td.num_cols > 10'000'000)
    fail(where, "implausible table size " + std::to_string(td.num_rows) + "x" + std::to_string(td.num_cols));
  td.orientation = get_str(d, "orientation", where, "rot_0");
  if (has(d, "table_cells")) {
    if (!d["table_cells"].is_array()) fail(where, "'table_cells' must be a list");
    for (size_t i = 0; i < d["table_cells"].size(); ++i)
      td.cells.push_back(read_cell(d["table_cells"][i], where + ".table_cells[" + std::to_string(i) + "]"));
  }
  return td;  // `grid` is computed, never read
}

// The ordered field names of docling-core's meta models (BaseMeta, FloatingMeta,
// PictureMeta); custom fields follow them in their own order.
constexpr const char* kMetaOrder[] = {"summary", "language", "entities", "keywords", "topics",
                                      "description", "classification", "molecule",
                                      "tabular_chart", "code", "chart_axes", "chart_series",
                                      "chart_color_legend", "formula"};

Json ordered_meta(const Json& m) {
  Json out = Json::object();
  for (const char* k : kMetaOrder)
    if (m.contains(k)) out[k] = m[k];
  for (auto it = m.begin(); it != m.end(); ++it) {
    bool std_field = false;
    for (const char* k : kMetaOrder)
      if (it.key() == k) { std_field = true; break; }
    if (!std_field) out[it.key()] = it.value();
  }
  return out;
}

// Legacy `annotations` → `meta`, as docling-core's model validators do on load.
void migrate_annotations(const Json& anns, Json& meta, bool picture, const std::string& where) {
  if (!anns.is_array() || anns.empty()) return;
  if (!meta.is_object()) meta = Json::object();
  for (size_t i = 0; i < anns.size(); ++i) {
    const Json& a = anns[i];
    std::string w = where + ".annotations[" + std::to_string(i) + "]";
    if (!a.is_object()) fail(w, "annotation must be an object");
    std::string kind = get_str(a, "kind", w);
    if (picture && kind == "classification") {
      if (meta.contains("classification")) continue;
      Json preds = Json::array();
      if (has(a, "predicted_classes"))
        for (const Json& pc : a["predicted_classes"]) {
          Json p = Json::object();
          if (has(pc, "confidence")) p["confidence"] = pc["confidence"];
          if (has(a, "provenance")) p["created_by"] = a["provenance"];
          p["class_name"] = pc.value("class_name", "");
          preds.push_back(p);
        }
      meta["classification"] = Json{{"predictions", preds}};
    } else if (kind == "description") {
      if (meta.contains("description")) continue;
      Json d = Json::object();
      if (has(a, "provenance")) d["created_by"] = a["provenance"];
      d["text"] = get_str(a, "text", w);
      meta["description"] = d;
    } else if (picture && kind == "molecule_data") {
      if (meta.contains("molecule")) continue;
      Json m = Json::object();
      if (has(a, "confidence")) m["confidence"] = a["confidence"];
      if (has(a, "provenance")) m["created_by"] = a["provenance"];
      m["smi"] = get_str(a, "smi", w);
      if (a.contains("segmentation")) m["docling_legacy__segmentation"] = a["segmentation"];
      if (a.contains("class_name")) m["docling_legacy__class_name"] = a["class_name"];
      meta["molecule"] = m;
    } else if (picture && kind == "tabular_chart_data") {
      if (meta.contains("tabular_chart")) continue;
      Json t = Json::object();
      if (has(a, "title")) t["title"] = a["title"];
      t["chart_data"] = a.contains("chart_data") ? a["chart_data"] : Json::object();
      meta["tabular_chart"] = t;
    } else {
      std::string key = "docling_legacy__" + kind;
      if (meta.contains(key)) continue;
      meta[key] = (kind == "misc") ? a.value("content", Json::object()) : a;
    }
  }
  meta = ordered_meta(meta);
}

TableItem read_table(const Json& o, const std::string& where) {
  TableItem t;
  read_doc_item(o, t, where);
  read_floating(o, t, where);
  t.data = has(o, "data") ? read_table_data(o["data"], where + ".data") : TableData{};
  keep_extra(o, {DOC_KEYS, FLOAT_KEYS, "data"}, t.extra);
  if (has(o, "annotations")) migrate_annotations(o["annotations"], t.meta, false, where);
  return t;
}

PictureItem read_picture(const Json& o, const std::string& where) {
  PictureItem p;
  read_doc_item(o, p, where);
  read_floating(o, p, where);
  if (has(o, "annotations")) {
    p.annotations = o["annotations"];
    migrate_annotations(p.annotations, p.meta, true, where);
  }
  keep_extra(o, {DOC_KEYS, FLOAT_KEYS, "annotations"}, p.extra);
  return p;
}

KeyValueItem read_key_value(const Json& o, const std::string& where) {
  KeyValueItem k;
  read_doc_item(o, k, where);
  read_floating(o, k, where);
  if (has(o, "graph")) {
    const Json& g = o["graph"];
    if (has(g, "cells"))
      for (size_t i = 0; i < g["cells"].size(); ++i) {
        const Json& c = g["cells"][i];
        std::string w = where + ".graph.cells[" + std::to_string(i) + "]";
        GraphCell gc;
        gc.label = get_str(c, "label", w);
        gc.cell_id = get_i32(c, "cell_id", w);
        gc.text = get_str(c, "text", w);
        gc.orig = get_str(c, "orig", w);
        if (has(c, "prov")) gc.prov = read_prov(c["prov"], w + ".prov");
        keep_extra(c, {"label", "cell_id", "text", "orig", "prov"}, gc.extra);
        k.cells.push_back(std::move(gc));
      }
    if (has(g, "links"))
      for (size_t i = 0; i < g["links"].size(); ++i) {
        const Json& l = g["links"][i];
        std::string w = where + ".graph.links[" + std::to_string(i) + "]";
        GraphLink gl;
        gl.label = get_str(l, "label", w, "to_value");
        gl.source_cell_id = get_i32(l, "source_cell_id", w);
        gl.target_cell_id = get_i32(l, "target_cell_id", w);
        k.links.push_back(gl);
      }
  }
  keep_extra(o, {DOC_KEYS, FLOAT_KEYS, "graph"}, k.extra);
  return k;
}

// "1.x.y" → minor; throws for other majors and for versions newer than ours.
int schema_minor(const std::string& v) {
  int major = 0, minor = 0, patch = 0;
  char tail = 0;
  if (std::sscanf(v.c_str(), "%d.%d.%d%c", &major, &minor, &patch, &tail) != 3)
    fail("version", "malformed version '" + v + "'");
  if (major != 1 || minor > kMaxMinor)
    fail("version", "unsupported schema version '" + v + "' (this reader handles 1.0.0 .. 1.10.0)");
  return minor;
}

template <typename T, typename F>
void read_array(const Json& root, const char* key, std::vector<T>& out, F read) {
  if (!has(root, key)) return;
  if (!root[key].is_array()) fail(key, "must be a list");
  out.reserve(root[key].size());
  for (size_t i = 0; i < root[key].size(); ++i)
    out.push_back(read(root[key][i], std::string(key) + "[" + std::to_string(i) + "]"));
}

void check_refs(const Document& doc) {
  auto check = [&](const Ref& r, const Node& from) {
    if (r.valid() && !doc.node(r))
      fail(from.self.pointer(), "dangling reference '" + r.pointer() + "'");
  };
  auto check_node = [&](const Node& n) {
    check(n.parent, n);
    for (const Ref& c : n.children) check(c, n);
  };
  auto check_floating = [&](const Floating& f, const Node& n) {
    for (const Ref& r : f.captions) check(r, n);
    for (const Ref& r : f.references) check(r, n);
    for (const Ref& r : f.footnotes) check(r, n);
  };
  check_node(doc.body);
  check_node(doc.furniture);
  for (const auto& g : doc.groups) check_node(g);
  for (const auto& t : doc.texts) check_node(t), check_floating(t, t);
  for (const auto& t : doc.tables) check_node(t), check_floating(t, t);
  for (const auto& p : doc.pictures) check_node(p), check_floating(p, p);
  for (const auto& k : doc.key_value_items) check_node(k), check_floating(k, k);
  for (const auto& k : doc.form_items) check_node(k), check_floating(k, k);
}

// The exporters walk `children` from body and furniture; a node listed twice (shared child, or a
// cycle back to an ancestor or a root) would make that walk repeat or loop, so it is refused here.
void check_tree(const Document& doc) {
  std::set<std::pair<int, int>> seen;
  auto key = [](const Ref& r) { return std::make_pair(static_cast<int>(r.kind), r.index); };
  std::vector<const Node*> stack;
  for (const Node* root : {&doc.body, &doc.furniture}) {
    seen.insert(key(root->self));
    stack.push_back(root);
  }
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const Ref& c : n->children) {
      if (!seen.insert(key(c)).second)
        fail(n->self.pointer(), "'" + c.pointer() +
                                    "' is listed as a child more than once (the tree has a cycle or a shared child)");
      if (const Node* child = doc.node(c)) stack.push_back(child);
    }
  }
}

}  // namespace

Document read_docling_json(const Json& root) {
  if (!root.is_object()) fail("document", "top level must be an object");
  std::string schema = get_str(root, "schema_name", "schema_name", "DoclingDocument");
  if (schema != "DoclingDocument") fail("schema_name", "expected 'DoclingDocument', got '" + schema + "'");
  std::string version = get_str(root, "version", "version", "1.10.0");
  int minor = schema_minor(version);

  Document doc;
  doc.version = "1.10.0";  // docling-core rewrites the version to its own on load
  doc.name = get_str(root, "name", "name", "Document");
  if (has(root, "origin")) {
    const Json& o = root["origin"];
    DocumentOrigin og;
    og.mimetype = get_str(o, "mimetype", "origin");
    og.filename = get_str(o, "filename", "origin");
    if (has(o, "binary_hash")) {
      const Json& h = o["binary_hash"];
      if (h.is_number_unsigned()) og.binary_hash = h.get<uint64_t>();
      else if (h.is_number_integer() && h.get<long long>() >= 0) og.binary_hash = h.get<uint64_t>();
      else fail("origin", "'binary_hash' must be an unsigned 64-bit integer");
    }
    if (has(o, "uri")) og.uri = get_str(o, "uri", "origin");
    doc.origin = og;
  }
  if (has(root, "body")) {
    doc.body = read_group(root["body"], "body");
    doc.body.self = Ref::body();
  }
  if (has(root, "furniture")) {
    doc.furniture = read_group(root["furniture"], "furniture");
    doc.furniture.self = Ref::furniture();
    if (!root["furniture"].contains("content_layer")) doc.furniture.content_layer = ContentLayer::Furniture;
  }
  read_array(root, "groups", doc.groups, read_group);
  read_array(root, "texts", doc.texts, read_text);
  read_array(root, "tables", doc.tables, read_table);
  read_array(root, "pictures", doc.pictures, read_picture);
  read_array(root, "key_value_items", doc.key_value_items, read_key_value);
  read_array(root, "form_items", doc.form_items, read_key_value);
  if (has(root, "pages")) {
    if (!root["pages"].is_object()) fail("pages", "must be an object keyed by page number");
    for (auto it = root["pages"].begin(); it != root["pages"].end(); ++it) {
      std::string w = "pages." + it.key();
      const Json& p = it.value();
      int no = get_i32(p, "page_no", w, std::atoi(it.key().c_str()));
      Size sz = has(p, "size") ? read_size(p["size"], w + ".size") : Size{};
      PageItem& pi = doc.add_page(no, sz);
      if (has(p, "image")) pi.image = read_image(p["image"], w + ".image");
    }
  }
  keep_extra(root, {"schema_name", "version", "name", "origin", "furniture", "body", "groups",
                    "texts", "tables", "pictures", "key_value_items", "form_items", "pages"},
             doc.extra);

  // Items whose self_ref is missing or wrong get their position (what resolution uses).
  auto fix_self = [](auto& vec, RefKind kind) {
    for (size_t i = 0; i < vec.size(); ++i) vec[i].self = Ref{kind, static_cast<int>(i)};
  };
  fix_self(doc.groups, RefKind::Group);
  fix_self(doc.texts, RefKind::Text);
  fix_self(doc.tables, RefKind::Table);
  fix_self(doc.pictures, RefKind::Picture);
  fix_self(doc.key_value_items, RefKind::KeyValue);
  fix_self(doc.form_items, RefKind::Form);

  if (minor == 0)  // 1.0.0 had no content layers: headers and footers are furniture
    for (TextItem& t : doc.texts)
      if (t.label == Label::PageHeader || t.label == Label::PageFooter)
        t.content_layer = ContentLayer::Furniture;

  check_refs(doc);
  check_tree(doc);
  return doc;
}

Document read_docling_json(const std::string& text) {
  Json root;
  try {
    root = parse_ordered_json(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw JsonError(std::string("DoclingDocument JSON: not valid JSON: ") + e.what());
  } catch (const JsonDepthError& e) {
    throw JsonError(std::string("DoclingDocument JSON: ") + e.what());
  }
  try {
    return read_docling_json(root);
  } catch (const JsonError&) {
    throw;
  } catch (const nlohmann::json::exception& e) {
    throw JsonError(std::string("DoclingDocument JSON: ") + e.what());
  }
}

}  // namespace docling
