#include "exporters/doctags_writer.h"

#include "core/geometry.h"
#include "exporters/serializer.h"

namespace docling {

namespace {

using ser::Ctx;
using ser::Part;

std::string wrap(const std::string& text, const std::string& tag) {
  return "<" + tag + ">" + text + "</" + tag + ">";
}

std::string text_token(const TextItem& t) {
  switch (t.label) {
    case Label::SectionHeader: return "section_header_level_" + std::to_string(t.level);
    default: return to_string(t.label);
  }
}

bool is_chart_class(const std::string& c) {
  for (const char* k : {"pie_chart", "bar_chart", "stacked_bar_chart", "line_chart", "flow_chart",
                        "scatter_chart", "heatmap"})
    if (c == k) return true;
  return false;
}

class DocTagsSerializer : public ser::DocSerializer {
 public:
  DocTagsSerializer(const Document& doc, const DocTagsOptions& o) : DocSerializer(doc, o.filter), o_(o) {}

  Ctx root_ctx() const override {
    Ctx c;
    c.add_location = o_.add_location;
    return c;
  }

 protected:
  std::string delim() const override { return o_.minified ? "" : "\n"; }
  bool requires_page_break() const override { return o_.add_page_break; }

  std::string serialize_doc(const std::vector<Part>& parts) override {
    std::string text;
    for (size_t i = 0; i < parts.size(); ++i) text += (i ? delim() : "") + parts[i].text;
    if (o_.add_page_break) text = replace_page_breaks(text, "<page_break>");
    return "<doctag>" + text + delim() + "</doctag>";
  }

  std::string locations(const DocItem& d) const {
    std::string out;
    for (const ProvenanceItem& p : d.prov) {
      const PageItem* page = doc_.page(p.page_no);
      if (!page) continue;
      out += loc_tokens(to_loc(p.bbox, page->size.width, page->size.height, o_.xsize, o_.ysize));
    }
    return out;
  }

  std::string captions(const Floating& f, const Ctx& ctx) {
    if (f.captions.empty() || !o_.add_caption) return "";
    Part cap = base_captions(f);
    std::string out;
    if (!cap.text.empty() && ctx.add_location)
      for (Ref c : f.captions)
        if (!excluded(c))
          if (const DocItem* d = doc_.item(c)) out += locations(*d);
    if (!cap.text.empty() && o_.add_content) out += cap.text;
    return out.empty() ? "" : wrap(out, "caption");
  }

  std::string otsl(const TableData& data, int page_no, bool cell_loc, bool cell_text) {
    if (data.cells.empty()) return "";
    std::string out;
    auto grid = data.grid();
    const PageItem* page = doc_.page(page_no);
    for (int i = 0; i < data.num_rows; ++i) {
      for (int j = 0; j < data.num_cols; ++j) {
        const TableCell& c = grid[i][j];
        if (c.start_row == i && c.start_col == j) {
          std::string content = py_strip(cell_content(c));
          if (content.empty()) {
            out += "<ecel>";
            continue;
          }
          out += c.column_header ? "<ched>" : c.row_header ? "<rhed>" : c.row_section ? "<srow>" : "<fcel>";
          if (cell_loc && c.bbox && page) {
            // upstream converts the cell box to a bottom-left origin here
            BoundingBox b = *c.bbox;
            if (b.origin == CoordOrigin::TopLeft)
              b = {b.l, page->size.height - b.t, b.r, page->size.height - b.b, CoordOrigin::TopLeft};
            out += loc_tokens(to_loc(b, page->size.width, page->size.height, o_.xsize, o_.ysize));
          }
          if (cell_text) out += content;
        } else {
          bool cross = false;
          if (c.start_row != i) {
            if (c.col_span == 1) out += "<ucel>";
            else cross = true;
          }
          if (c.start_col != j) {
            if (c.row_span == 1) out += "<lcel>";
            else cross = true;
          }
          if (cross) out += "<xcel>";
        }
      }
      out += "<nl>";
    }
    return out;
  }

  // Rich cells are rendered by a fresh default serializer, as upstream does.
  std::string cell_content(const TableCell& c) {
    if (c.extra.is_object() && c.extra.contains("ref")) {
      auto ref = Ref::parse(c.extra["ref"].value("$ref", ""));
      if (ref && doc_.node(*ref)) {
        DocTagsOptions d;
        DocTagsSerializer s(doc_, d);
        return s.serialize(*ref, s.root_ctx()).text;
      }
    }
    return c.text;
  }

  Part text_item(const TextItem& t, const Ctx& ctx) override {
    std::string out;
    if (ctx.add_location) out += locations(t);
    if (o_.add_content) {
      std::string text;
      if (const GroupItem* ig = inline_child(t)) text = serialize(ig->self, root_ctx()).text;
      else text = post_process(t.text, t.formatting, t.hyperlink);
      if (t.label == Label::Code) text = "<_" + t.code_language.value_or("unknown") + "_>" + text;
      else text = py_strip(text);
      out += text;
    }
    if (t.label == Label::Code) out += captions(t, ctx);
    if (t.label != Label::ListItem) out = wrap(out, text_token(t));
    return Part{out, {t.self}};
  }

  Part table_item(const TableItem& t, const Ctx& ctx) override {
    std::string out;
    if (!excluded(t.self)) {
      if (ctx.add_location) out += locations(t);
      out += otsl(t.data, t.prov.empty() ? 0 : t.prov[0].page_no, o_.add_table_cell_location,
                  o_.add_table_cell_text && o_.add_content);
    }
    out += captions(t, ctx);
    return Part{out.empty() ? "" : wrap(out, "otsl"), {t.self}};
  }

  Part picture_item(const PictureItem& p, const Ctx& ctx) override {
    std::string out;
    bool chart = false;
    if (!excluded(p.self)) {
      if (ctx.add_location) out += locations(p);
      const Json& m = p.meta;
      if (m.is_object()) {
        if (m.contains("classification")) {
          std::string cls = main_class_name(m["classification"]);
          if (!cls.empty()) {
            out += "<" + cls + ">";
            chart = is_chart_class(cls);
          }
        }
        if (m.contains("molecule") && m["molecule"].is_object()) {
          std::string smi = m["molecule"].value("smi", "");
          if (!smi.empty()) out += wrap(smi, "smiles");
        }
        if (m.contains("tabular_chart") && m["tabular_chart"].is_object() &&
            m["tabular_chart"].contains("chart_data")) {
          TableData td = table_data_from_json(m["tabular_chart"]["chart_data"]);
          out += otsl(td, 0, false, true);
        }
      }
    }
    out += captions(p, ctx);
    return Part{out.empty() ? "" : wrap(out, chart ? "chart" : "picture"), {p.self}};
  }

  Part key_value_item(const KeyValueItem& k, const Ctx& ctx) override {
    std::string out;
    int page_no = k.prov.empty() ? 1 : k.prov[0].page_no;
    if (ctx.add_location) out += locations(k);
    for (const GraphCell& c : k.cells) {
      std::string cell;
      if (c.prov && !doc_.pages.empty())
        if (const PageItem* page = doc_.page(page_no))
          cell += loc_tokens(to_loc(c.prov->bbox, page->size.width, page->size.height, o_.xsize, o_.ysize));
      if (o_.add_content) cell += py_strip(c.text);
      for (const GraphLink& l : k.links)
        if (l.source_cell_id == c.cell_id) cell += "<link_" + std::to_string(l.target_cell_id) + ">";
      out += wrap(cell, c.label + "_" + std::to_string(c.cell_id));
    }
    out += captions(k, ctx);
    return Part{wrap(out, "key_value_region"), {k.self}};
  }

  Part form_item(const KeyValueItem&, const Ctx&) override { return {}; }  // upstream: not implemented

  Part list_group(const GroupItem& g, const Ctx& ctx) override {
    Ctx sub = ctx;
    sub.list_level = ctx.list_level + 1;
    std::vector<Part> parts = get_parts(g.self, sub);
    if (parts.empty()) return {};
    std::string text;
    for (size_t i = 0; i < parts.size(); ++i) text += (i ? delim() : "") + wrap(parts[i].text, "list_item");
    text += delim();
    return Part{wrap(text, first_item_enumerated(g) ? "ordered_list" : "unordered_list"), {}};
  }

  std::string inline_location(const GroupItem& g) const {
    std::vector<BoundingBox> boxes;
    const ProvenanceItem* last = nullptr;
    // iterate_items(root=g) with default arguments: body layer, pictures not entered
    struct Frame { Ref r; int depth; };
    std::vector<Frame> stack{{g.self, 0}};
    while (!stack.empty()) {
      Frame f = stack.back();
      stack.pop_back();
      const Node* n = doc_.node(f.r);
      if (!n || f.depth > 2000) continue;
      if (n->content_layer == ContentLayer::Body)
        if (const DocItem* d = doc_.item(f.r))
          for (const ProvenanceItem& p : d->prov) boxes.push_back(p.bbox), last = &p;
      if (f.r.kind == RefKind::Picture) continue;
      for (size_t i = n->children.size(); i-- > 0;) stack.push_back({n->children[i], f.depth + 1});
    }
    if (!last) return "";
    BoundingBox e = boxes[0];
    for (const BoundingBox& b : boxes) {
      e.l = std::min(e.l, b.l);
      e.r = std::max(e.r, b.r);
      if (e.origin == CoordOrigin::TopLeft) e.t = std::min(e.t, b.t), e.b = std::max(e.b, b.b);
      else e.t = std::max(e.t, b.t), e.b = std::min(e.b, b.b);
    }
    const PageItem* page = doc_.page(last->page_no);
    if (!page) return "";
    return loc_tokens(to_loc(e, page->size.width, page->size.height, o_.xsize, o_.ysize));
  }

  Part inline_group(const GroupItem& g, const Ctx& ctx) override {
    std::vector<std::string> texts;
    Ctx sub = ctx;
    sub.inline_scope = true;
    if (ctx.add_location) {
      texts.push_back(inline_location(g));
      sub.add_location = false;  // children carry no location of their own
    }
    for (Part& p : get_parts(g.self, sub)) texts.push_back(p.text);
    std::string text;
    bool first = true;
    for (const std::string& t : texts) {
      if (t.empty()) continue;
      text += (first ? "" : delim()) + t;
      first = false;
    }
    if (text.empty()) return {};
    return Part{wrap(text + delim(), "inline"), {}};
  }

  Part other_group(const GroupItem& g, const Ctx& ctx) override {
    Ctx sub;
    sub.add_location = ctx.add_location;
    std::string text;
    bool first = true;
    for (Part& p : get_parts(g.self, sub)) {
      text += (first ? "" : "\n") + p.text;
      first = false;
    }
    return Part{text, {}};
  }

 private:
  const DocTagsOptions& o_;
};

}  // namespace

std::string export_doctags(const Document& doc, const DocTagsOptions& opts) {
  DocTagsSerializer s(doc, opts);
  return s.run();
}

}  // namespace docling
