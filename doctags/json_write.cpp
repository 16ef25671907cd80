// DoclingDocument → JSON in docling-core's export_to_dict() shape (schema 1.10.0): pydantic
// field order, None fields omitted, the computed table grid included; and save_as_json
// text (json.dumps indent=2, ensure_ascii, Python float repr).
//
// Field order follows the pydantic models: NodeItem (self_ref, parent, children,
// content_layer, meta), DocItem (label, prov), TextItem (orig, text, formatting,
// hyperlink), then the subclass (level | enumerated, marker | floating fields,
// code_language), FloatingItem (captions, references, footnotes, image), then table
// data / picture annotations / key-value graph. Fields kept in `extra` replace a known
// field of the same name in place, or are appended.
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/utf8.h"
#include "doctags/docling_json.h"

namespace docling {

namespace {

Json ref_json(const Ref& r) { return Json{{"$ref", r.pointer()}}; }

Json refs_json(const std::vector<Ref>& refs) {
  Json a = Json::array();
  for (const Ref& r : refs) a.push_back(ref_json(r));
  return a;
}

void merge_extra(Json& obj, const Json& extra) {
  if (!extra.is_object()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it) obj[it.key()] = it.value();
}

Json bbox_json(const BoundingBox& b) {
  Json j = Json::object();
  j["l"] = b.l;
  j["t"] = b.t;
  j["r"] = b.r;
  j["b"] = b.b;
  j["coord_origin"] = to_string(b.origin);
  return j;
}

Json prov_json(const ProvenanceItem& p) {
  Json j = Json::object();
  j["page_no"] = p.page_no;
  j["bbox"] = bbox_json(p.bbox);
  j["charspan"] = Json::array({p.charspan[0], p.charspan[1]});
  return j;
}

Json size_json(const Size& s) {
  Json j = Json::object();
  j["width"] = s.width;
  j["height"] = s.height;
  return j;
}

Json image_json(const ImageRef& im) {
  Json j = Json::object();
  j["mimetype"] = im.mimetype;
  if (im.dpi == std::floor(im.dpi) && std::fabs(im.dpi) < 1e15)
    j["dpi"] = static_cast<int64_t>(im.dpi);  // pydantic: dpi is an int
  else
    j["dpi"] = im.dpi;
  j["size"] = size_json(im.size);
  j["uri"] = im.uri;
  return j;
}

Json cell_json(const TableCell& c) {
  Json j = Json::object();
  if (c.bbox) j["bbox"] = bbox_json(*c.bbox);
  j["row_span"] = c.row_span;
  j["col_span"] = c.col_span;
  j["start_row_offset_idx"] = c.start_row;
  j["end_row_offset_idx"] = c.end_row;
  j["start_col_offset_idx"] = c.start_col;
  j["end_col_offset_idx"] = c.end_col;
  j["text"] = c.text;
  j["column_header"] = c.column_header;
  j["row_header"] = c.row_header;
  j["row_section"] = c.row_section;
  j["fillable"] = c.fillable;
  merge_extra(j, c.extra);
  return j;
}

// NodeItem fields.
Json node_json(const Node& n) {
  Json j = Json::object();
  j["self_ref"] = n.self.pointer();
  if (n.parent.valid()) j["parent"] = ref_json(n.parent);
  j["children"] = refs_json(n.children);
  j["content_layer"] = to_string(n.content_layer);
  if (!n.meta.is_null()) j["meta"] = n.meta;
  return j;
}

Json group_json(const GroupItem& g) {
  Json j = node_json(g);
  j["name"] = g.name;
  j["label"] = to_string(g.label);
  merge_extra(j, g.extra);
  return j;
}

void docitem_fields(Json& j, const DocItem& d) {
  j["label"] = d.label_name.empty() ? std::string(to_string(d.label)) : d.label_name;
  Json prov = Json::array();
  for (const ProvenanceItem& p : d.prov) prov.push_back(prov_json(p));
  j["prov"] = std::move(prov);
}

void floating_fields(Json& j, const Floating& f) {
  j["captions"] = refs_json(f.captions);
  j["references"] = refs_json(f.references);
  j["footnotes"] = refs_json(f.footnotes);
  if (f.image) j["image"] = image_json(*f.image);
}

Json formatting_json(const Formatting& f) {
  Json j = Json::object();
  j["bold"] = f.bold;
  j["italic"] = f.italic;
  j["underline"] = f.underline;
  j["strikethrough"] = f.strikethrough;
  j["script"] = f.script;
  return j;
}

Json text_json(const TextItem& t) {
  Json j = node_json(t);
  docitem_fields(j, t);
  j["orig"] = t.orig;
  j["text"] = t.text;
  if (t.formatting) j["formatting"] = formatting_json(*t.formatting);
  if (t.hyperlink) j["hyperlink"] = *t.hyperlink;
  switch (t.label) {
    case Label::SectionHeader: j["level"] = t.level; break;
    case Label::ListItem:
      j["enumerated"] = t.enumerated;
      j["marker"] = t.marker;
      break;
    default: break;
  }
  bool code = t.label == Label::Code && t.label_name.empty();
  if (code || t.is_floating_json) floating_fields(j, t);
  if (code) j["code_language"] = t.code_language.value_or("unknown");
  merge_extra(j, t.extra);
  return j;
}

Json table_json(const TableItem& t) {
  Json j = node_json(t);
  docitem_fields(j, t);
  floating_fields(j, t);
  j["data"] = table_data_to_json(t.data);
  j["annotations"] = Json::array();
  merge_extra(j, t.extra);
  return j;
}

Json picture_json(const PictureItem& p) {
  Json j = node_json(p);
  docitem_fields(j, p);
  floating_fields(j, p);
  j["annotations"] = p.annotations.is_null() ? Json::array() : p.annotations;
  merge_extra(j, p.extra);
  return j;
}

Json graph_cell_json(const GraphCell& c) {
  Json j = Json::object();
  j["label"] = c.label;
  j["cell_id"] = c.cell_id;
  j["text"] = c.text;
  j["orig"] = c.orig;
  if (c.prov) j["prov"] = prov_json(*c.prov);
  merge_extra(j, c.extra);
  return j;
}

Json key_value_json(const KeyValueItem& kv) {
  Json j = node_json(kv);
  docitem_fields(j, kv);
  floating_fields(j, kv);
  Json cells = Json::array(), links = Json::array();
  for (const GraphCell& c : kv.cells) cells.push_back(graph_cell_json(c));
  for (const GraphLink& l : kv.links) {
    Json lj = Json::object();
    lj["label"] = l.label;
    lj["source_cell_id"] = l.source_cell_id;
    lj["target_cell_id"] = l.target_cell_id;
    links.push_back(std::move(lj));
  }
  Json graph = Json::object();
  graph["cells"] = std::move(cells);
  graph["links"] = std::move(links);
  j["graph"] = std::move(graph);
  merge_extra(j, kv.extra);
  return j;
}

template <typename T, typename F>
Json array_json(const std::vector<T>& items, F fn) {
  Json a = Json::array();
  for (const T& it : items) a.push_back(fn(it));
  return a;
}

// --- save_as_json text ---

void put_escaped(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  auto u = [&](uint32_t cp) {
    out += "\\u";
    for (int sh = 12; sh >= 0; sh -= 4) out += hex[(cp >> sh) & 0xF];
  };
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) u(c);
          else out += char(c);
      }
      ++i;
      continue;
    }
    // Non-ASCII: decode UTF-8 (invalid bytes become U+FFFD), escape as \uXXXX pairs.
    uint32_t cp = 0;
    size_t n = utf8_decode_strict(s, i, &cp);
    if (n == 0) {
      u(0xFFFD);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u(0xD800 + (cp >> 10));
      u(0xDC00 + (cp & 0x3FF));
    } else {
      u(cp);
    }
    i += n;
  }
  out += '"';
}

void newline(std::string& out, int depth) {
  out += '\n';
  out.append(size_t(depth) * 2, ' ');
}

void dump(std::string& out, const Json& v, int depth) {
  switch (v.type()) {
    case Json::value_t::object: {
      if (v.empty()) { out += "{}"; return; }
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        newline(out, depth + 1);
        put_escaped(out, it.key());
        out += ": ";
        dump(out, it.value(), depth + 1);
      }
      newline(out, depth);
      out += '}';
      return;
    }
    case Json::value_t::array: {
      if (v.empty()) { out += "[]"; return; }
      out += '[';
      bool first = true;
      for (const Json& e : v) {
        if (!first) out += ',';
        first = false;
        newline(out, depth + 1);
        dump(out, e, depth + 1);
      }
      newline(out, depth);
      out += ']';
      return;
    }
    case Json::value_t::string: put_escaped(out, v.get_ref<const std::string&>()); return;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case Json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); return;
    case Json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); return;
    case Json::value_t::number_float: out += python_float_repr(v.get<double>()); return;
    default: out += "null"; return;
  }
}

}  // namespace

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // Shortest round-trip digits and the decimal exponent, from "d.ddde±x".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string out;
  if (sci[0] == '-') {
    out += '-';
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (sci[i] != '.') digits += sci[i];
  int nd = int(digits.size());
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(size_t(-exp - 1), '0');
      out += digits;
    } else if (nd <= exp + 1) {
      out += digits;
      out.append(size_t(exp + 1 - nd), '0');
      out += ".0";
    } else {
      out += digits.substr(0, size_t(exp + 1));
      out += '.';
      out += digits.substr(size_t(exp + 1));
    }
    return out;
  }
  out += digits[0];
  if (nd > 1) {
    out += '.';
    out += digits.substr(1);
  }
  char eb[16];
  std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
  return out + eb;
}

Json table_data_to_json(const TableData& data) {
  Json j = Json::object();
  j["table_cells"] = array_json(data.cells, cell_json);
  j["num_rows"] = data.num_rows;
  j["num_cols"] = data.num_cols;
  j["orientation"] = data.orientation;
  Json grid = Json::array();
  for (const auto& row : data.grid()) grid.push_back(array_json(row, cell_json));
  j["grid"] = std::move(grid);
  return j;
}

Json to_docling_json(const Document& doc) {
  Json j = Json::object();
  j["schema_name"] = doc.schema_name;
  j["version"] = doc.version;
  j["name"] = doc.name;
  if (doc.origin) {
    Json o = Json::object();
    o["mimetype"] = doc.origin->mimetype;
    o["binary_hash"] = doc.origin->binary_hash;
    o["filename"] = doc.origin->filename;
    if (doc.origin->uri) o["uri"] = *doc.origin->uri;
    j["origin"] = std::move(o);
  }
  j["furniture"] = group_json(doc.furniture);
  j["body"] = group_json(doc.body);
  j["groups"] = array_json(doc.groups, group_json);
  j["texts"] = array_json(doc.texts, text_json);
  j["pictures"] = array_json(doc.pictures, picture_json);
  j["tables"] = array_json(doc.tables, table_json);
  j["key_value_items"] = array_json(doc.key_value_items, key_value_json);
  j["form_items"] = array_json(doc.form_items, key_value_json);
  merge_extra(j, doc.extra);  // field_regions, field_items, ... (before pages, as dc writes)
  Json pages = Json::object();
  for (const PageItem& p : doc.pages) {
    Json pj = Json::object();
    pj["size"] = size_json(p.size);
    if (p.image) pj["image"] = image_json(*p.image);
    pj["page_no"] = p.page_no;
    pages[std::to_string(p.page_no)] = std::move(pj);
  }
  j["pages"] = std::move(pages);
  return j;
}

std::string write_docling_json(const Document& doc) {
  std::string out;
  dump(out, to_docling_json(doc), 0);
  return out;
}

}  // namespace docling
