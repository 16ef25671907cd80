#include "exporters/html.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "exporters/mathml.h"
#include "exporters/serializer.h"

namespace docling {

namespace {

using ser::Ctx;
using ser::Part;

// docling-core's single-column stylesheet (html_styles.py), byte for byte.
const char* const kCss = R"CSS(<style>
    html {
        background-color: #f5f5f5;
        font-family: Arial, sans-serif;
        line-height: 1.6;
    }
    body {
        max-width: 800px;
        margin: 0 auto;
        padding: 2rem;
        background-color: white;
        box-shadow: 0 0 10px rgba(0,0,0,0.1);
    }
    h1, h2, h3, h4, h5, h6 {
        color: #333;
        margin-top: 1.5em;
        margin-bottom: 0.5em;
    }
    h1 {
        font-size: 2em;
        border-bottom: 1px solid #eee;
        padding-bottom: 0.3em;
    }
    table {
        border-collapse: collapse;
        margin: 1em 0;
        width: 100%;
    }
    th, td {
        border: 1px solid #ddd;
        padding: 8px;
        text-align: left;
    }
    th {
        background-color: #f2f2f2;
        font-weight: bold;
    }
    figure {
        margin: 1.5em 0;
        text-align: center;
    }
    figcaption {
        color: #666;
        font-style: italic;
        margin-top: 0.5em;
    }
    img {
        max-width: 100%;
        height: auto;
    }
    pre {
        background-color: #f6f8fa;
        border-radius: 3px;
        padding: 1em;
        overflow: auto;
    }
    code {
        font-family: monospace;
        background-color: #f6f8fa;
        padding: 0.2em 0.4em;
        border-radius: 3px;
    }
    pre code {
        background-color: transparent;
        padding: 0;
    }
    .formula {
        text-align: center;
        padding: 0.5em;
        margin: 1em 0;
        background-color: #f9f9f9;
    }
    .formula-not-decoded {
        text-align: center;
        padding: 0.5em;
        margin: 1em 0;
        background: repeating-linear-gradient(
            45deg,
            #f0f0f0,
            #f0f0f0 10px,
            #f9f9f9 10px,
            #f9f9f9 20px
        );
    }
    .page-break {
        page-break-after: always;
        border-top: 1px dashed #ccc;
        margin: 2em 0;
    }
    .key-value-region {
        background-color: #f9f9f9;
        padding: 1em;
        border-radius: 4px;
        margin: 1em 0;
    }
    .key-value-region dt {
        font-weight: bold;
    }
    .key-value-region dd {
        margin-left: 1em;
        margin-bottom: 0.5em;
    }
    .form-container {
        border: 1px solid #ddd;
        padding: 1em;
        border-radius: 4px;
        margin: 1em 0;
    }
    .form-item {
        margin-bottom: 0.5em;
    }
    .image-classification {
        font-size: 0.9em;
        color: #666;
        margin-top: 0.5em;
    }
    details.docling-meta {
        margin: 0.5em 0;
        font-size: 0.9em;
        text-align: left;
    }
    figure details.docling-meta {
        text-align: left;
    }
    details.docling-meta > summary {
        cursor: pointer;
        color: #555;
        font-style: italic;
        padding: 2px 6px;
    }
    .docling-meta-field {
        background-color: #f0f0f0;
        border-left: 3px solid #ccc;
        padding: 6px 10px;
        margin: 4px 0 4px 1em;
        border-radius: 3px;
        text-align: left;
    }
    .docling-meta-field-label {
        font-weight: bold;
        color: #444;
    }
    pre.docling-meta-code {
        background-color: #1e1e1e;
        color: #d4d4d4;
        border-radius: 4px;
        padding: 10px 12px;
        margin: 6px 0;
        overflow-x: auto;
        font-family: "SFMono-Regular", Consolas, "Liberation Mono", Menlo, monospace;
        font-size: 0.85em;
        line-height: 1.45;
        white-space: pre;
        tab-size: 4;
    }
    pre.docling-meta-code code {
        background: transparent;
        border: none;
        padding: 0;
        color: inherit;
        font-family: inherit;
        font-size: inherit;
        display: block;
        white-space: pre;
    }
</style>)CSS";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

std::string tag(const std::string& name, const std::string& text, const std::string& attrs = "") {
  return "<" + name + (attrs.empty() ? "" : " " + attrs) + ">" + text + "</" + name + ">";
}

std::string cell_tag_attrs(const TableCell& c, const std::string& content) {
  std::string a;
  if (c.row_span > 1) a += " rowspan=\"" + std::to_string(c.row_span) + "\"";
  if (c.col_span > 1) a += " colspan=\"" + std::to_string(c.col_span) + "\"";
  if (is_rtl_text(content)) a += " dir=\"rtl\"";
  return a;
}

}  // namespace

std::string html_table_body(ser::DocSerializer& s, const TableData& data) {
  std::string body;
  auto grid = data.grid();
  for (int i = 0; i < static_cast<int>(grid.size()); ++i) {
    body += "<tr>";
    for (int j = 0; j < static_cast<int>(grid[i].size()); ++j) {
      const TableCell& c = grid[i][j];
      if (c.start_row != i || c.start_col != j) continue;
      std::string content;
      bool rich = false;
      if (c.extra.is_object() && c.extra.contains("ref")) {
        auto ref = Ref::parse(c.extra["ref"].value("$ref", ""));
        if (ref && s.doc().node(*ref)) content = s.serialize(*ref, s.root_ctx()).text, rich = true;
      }
      if (!rich) content = html_escape(py_strip(c.text), true);
      std::string name = (c.column_header || c.row_header || c.row_section) ? "th" : "td";
      body += "<" + name + cell_tag_attrs(c, content) + ">" + content + "</" + name + ">";
    }
    body += "</tr>";
  }
  return body.empty() ? "" : "<tbody>" + body + "</tbody>";
}

namespace {

void append_spans(Part& to, const Part& from) {
  to.spans.insert(to.spans.end(), from.spans.begin(), from.spans.end());
}

class HtmlSerializer : public ser::DocSerializer {
 public:
  HtmlSerializer(const Document& doc, HtmlOptions o) : DocSerializer(doc, o.filter), o_(std::move(o)) {}

 protected:
  bool requires_page_break() const override { return false; }
  bool wraps_meta(Ref r) const override { return r.kind == RefKind::Picture; }

  std::string serialize_doc(const std::vector<Part>& parts) override {
    std::vector<std::string> t;
    for (const Part& p : parts) t.push_back(p.text);
    if (o_.body_only) return join(t, "\n");
    std::string head;
    if (o_.html_head) {
      head = *o_.html_head;
    } else {
      std::string title = doc_.name.empty() ? "Docling Document" : html_escape(doc_.name, true);
      std::string style = o_.css ? "<style>\n" + *o_.css + "\n</style>" : kCss;
      head = "<head>\n<meta charset=\"UTF-8\"/>\n<title>" + title +
             "</title>\n<meta name=\"generator\" content=\"Docling HTML Serializer\"/>\n" + style +
             "\n</head>";
    }
    return "<!DOCTYPE html>\n<html>\n" + head + "\n<body>\n<div class='page'>\n" + join(t, "\n") +
           "\n</div>\n</body>\n</html>";
  }

  std::string bold(const std::string& s) override { return tag("strong", s); }
  std::string italic(const std::string& s) override { return tag("em", s); }
  std::string underline(const std::string& s) override { return tag("u", s); }
  std::string strikethrough(const std::string& s) override { return tag("del", s); }
  std::string subscript(const std::string& s) override { return tag("sub", s); }
  std::string superscript(const std::string& s) override { return tag("sup", s); }
  std::string hyperlink(const std::string& s, const std::string& url) override {
    return "<a href=\"" + url + "\">" + s + "</a>";
  }

  std::string formula(const TextItem& t, const std::string& text, bool inline_scope) {
    if (o_.formula_to_mathml && !text.empty()) {
      if (auto m = latex_to_mathml(text, inline_scope)) return inline_scope ? *m : "<div>" + *m + "</div>";
      return "<pre>" + text + "</pre>";
    }
    (void)t;
    // Upstream builds "<pre>text</pre>" for a block here but never returns it, so a
    // block formula without MathML ends up as "not decoded" too.
    if (!text.empty() && inline_scope) return "<code>" + text + "</code>";
    return inline_scope ? "<span class=\"formula-not-decoded\">Formula not decoded</span>"
                        : "<div class=\"formula-not-decoded\">Formula not decoded</div>";
  }

  Part text_item(const TextItem& t, const Ctx& ctx) override {
    const GroupItem* ig = inline_child(t);
    bool done = false;
    std::string text;
    if (ig) {
      text = serialize(ig->self, root_ctx()).text;
      done = true;
    } else {
      text = t.text;
      if (t.label != Label::Code && t.label != Label::Formula)
        text = replace_all(html_escape(text, false), "\n", "<br>");
    }
    if (t.label == Label::Title || t.label == Label::SectionHeader) {
      int level = t.label == Label::Title ? 1 : std::min(t.level + 1, 6);
      text = tag("h" + std::to_string(level), text);
    } else if (t.label == Label::Formula) {
      text = formula(t, text, ctx.inline_scope);
    } else if (t.label == Label::Code) {
      text = ctx.inline_scope ? tag("code", text) : "<pre><code>" + text + "</code></pre>";
    } else if (t.label == Label::ListItem) {
      std::vector<std::string> pieces;
      if (!text.empty()) {
        if (ig) {
          text = "\n" + text + "\n";
        } else {
          text = post_process(text, t.formatting, t.hyperlink);
          done = true;
        }
        pieces.push_back(text);
      }
      Ctx sub;
      sub.inline_scope = ctx.inline_scope;
      size_t own = pieces.size();
      for (Part& p : get_parts(t.self, sub)) pieces.push_back(p.text);
      text = join(pieces, "\n");
      if (pieces.size() > own) text = "\n" + text + "\n";
      if (!text.empty()) {
        std::string attrs;
        if (o_.show_original_list_item_marker && !t.marker.empty())
          attrs = "style=\"" + html_escape("list-style-type: '" + t.marker + " ';", false) + "\"";
        text = tag("li", text, attrs);
      }
    } else if (!ctx.inline_scope) {
      text = tag("p", text);
    }
    if (!done) text = post_process(text, t.formatting, t.hyperlink);
    return Part{text, {t.self}};
  }

  std::string table_body(const TableData& data) { return html_table_body(*this, data); }

  std::string captions(const Floating& f, const std::string& tag_name) {
    if (!(filter_.labels & label_bit(Label::Caption))) return "";
    std::vector<std::string> res;
    for (Ref c : f.captions) {
      if (c.kind != RefKind::Text || !doc_.node(c) || excluded(c)) continue;
      const std::string& t = doc_.texts[c.index].text;
      res.push_back(std::string("<div class=\"caption\"") + (is_rtl_text(t) ? " dir=\"rtl\"" : "") + ">" +
                    html_escape(t, true) + "</div>");
    }
    std::string text = join(res, filter_.caption_delim);
    return text.empty() ? "" : tag(tag_name, text);
  }

  Part table_item(const TableItem& t, const Ctx&) override {
    std::string text = captions(t, "caption");
    if (!excluded(t.self)) text += table_body(t.data);
    return Part{text.empty() ? "" : tag("table", text), {t.self}};
  }

  Part picture_item(const PictureItem& p, const Ctx&) override {
    std::string text = captions(p, "figcaption");
    if (!excluded(p.self) && p.image && !p.image->uri.empty()) {
      bool data = p.image->uri.rfind("data:", 0) == 0;
      if (o_.image_mode == ImageMode::Embedded && data) text += "<img src=\"" + p.image->uri + "\">";
      else if (o_.image_mode == ImageMode::Referenced && !data) text += "<img src=\"" + url_quote(p.image->uri) + "\">";
    }
    if (!p.meta.is_null() && !excluded(p.self)) text += meta(p);
    return Part{text.empty() ? "" : tag("figure", text), {p.self}};
  }

  static std::string url_quote(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || c == '/') out += static_cast<char>(c);
      else out += std::string("%") + hex[c >> 4] + hex[c & 15];
    }
    return out;
  }

  std::string graph(const KeyValueItem& k, const std::string& cls) {
    std::vector<int> order;
    auto find = [&](int id) -> const GraphCell* {
      for (const GraphCell& c : k.cells)
        if (c.cell_id == id) return &c;
      return nullptr;
    };
    std::vector<std::pair<int, std::vector<int>>> child_links, value_links;
    std::vector<int> parents;
    auto add = [](std::vector<std::pair<int, std::vector<int>>>& m, int s, int t) {
      for (auto& e : m)
        if (e.first == s) return e.second.push_back(t);
      m.push_back({s, {t}});
    };
    auto get = [](const std::vector<std::pair<int, std::vector<int>>>& m, int s) -> const std::vector<int>* {
      for (auto& e : m)
        if (e.first == s) return &e.second;
      return nullptr;
    };
    for (const GraphLink& l : k.links) {
      if (!find(l.source_cell_id) || !find(l.target_cell_id)) continue;
      if (l.label == "to_child") add(child_links, l.source_cell_id, l.target_cell_id), parents.push_back(l.target_cell_id);
      else if (l.label == "to_value") add(value_links, l.source_cell_id, l.target_cell_id);
    }
    std::vector<int> roots;
    for (const GraphCell& c : k.cells) {
      bool dup = false;
      for (int r : roots) dup = dup || r == c.cell_id;
      bool is_child = false;
      for (int p : parents) is_child = is_child || p == c.cell_id;
      if (!dup && !is_child) roots.push_back(c.cell_id);
    }
    std::vector<int> path;  // guards against cyclic to_child links
    std::function<std::string(int)> render = [&](int id) -> std::string {
      for (int p : path)
        if (p == id) return "";
      path.push_back(id);
      std::string text = html_escape(find(id)->text, true);
      const std::vector<int>* vals = get(value_links, id);
      if (vals) {
        std::vector<std::string> vt;
        for (int v : *vals)
          if (const GraphCell* vc = find(v)) vt.push_back(html_escape(vc->text, true));
        text = "<strong>" + text + "</strong>: " + join(vt, ", ");
      }
      std::string out;
      const std::vector<int>* kids = get(child_links, id);
      if (kids && !kids->empty()) {
        std::vector<std::string> lines{"<li>" + text + "</li>", "<ul>"};
        for (int c : *kids) lines.push_back(render(c));
        lines.push_back("</ul>");
        out = join(lines, "\n");
      } else if (vals) {
        out = "<li>" + text + "</li>";
      }
      path.pop_back();
      return out;
    };
    std::vector<std::string> parts{"<div class=\"" + cls + "\">"};
    if (!roots.empty()) {
      parts.push_back("<ul class=\"" + cls + "\">");
      for (int r : roots) parts.push_back(render(r));
      parts.push_back("</ul>");
    } else {
      parts.push_back("<dl class=\"" + cls + "\">");
      for (const auto& [key, vals] : value_links) {
        parts.push_back("<dt>" + html_escape(find(key)->text, true) + "</dt>");
        for (int v : vals) parts.push_back("<dd>" + html_escape(find(v)->text, true) + "</dd>");
      }
      parts.push_back("</dl>");
    }
    parts.push_back("</div>");
    return join(parts, "\n");
  }

  Part graph_item(const KeyValueItem& k, const std::string& cls) {
    std::vector<std::string> res;
    if (!excluded(k.self)) res.push_back(graph(k, cls));
    std::string cap = captions(k, "figcaption");
    if (!cap.empty()) res.push_back(cap);
    return Part{join(res, "\n"), {k.self}};
  }
  Part key_value_item(const KeyValueItem& k, const Ctx&) override { return graph_item(k, "key-value-region"); }
  Part form_item(const KeyValueItem& k, const Ctx&) override { return graph_item(k, "form-container"); }

  Part list_group(const GroupItem& g, const Ctx& ctx) override {
    Ctx sub = ctx;
    sub.list_level = ctx.list_level + 1;
    std::vector<std::string> t;
    Part out;
    for (Part& p : get_parts(g.self, sub)) t.push_back(p.text), append_spans(out, p);
    std::string text = join(t, "\n");
    if (text.empty()) return {};
    std::string name = first_item_enumerated(g) ? "ol" : "ul";
    out.text = "<" + name + ">\n" + text + "\n</" + name + ">";
    return out;
  }

  Part inline_group(const GroupItem& g, const Ctx& ctx) override {
    Ctx sub = ctx;
    sub.inline_scope = true;
    std::vector<std::string> t;
    Part out;
    for (Part& p : get_parts(g.self, sub)) t.push_back(p.text), append_spans(out, p);
    std::string text = join(t, " ");
    out.text = text.empty() ? "" : "<span class='inline-group'>" + text + "</span>";
    return out;
  }

  Part other_group(const GroupItem& g, const Ctx&) override {
    std::vector<std::string> t;
    Part out;
    for (Part& p : get_parts(g.self, root_ctx())) t.push_back(p.text), append_spans(out, p);
    out.text = join(t, "\n");
    return out;
  }

  std::string meta(const Node& n) override {
    std::string fields;
    for (const std::string& k : meta_field_order(n.meta)) {
      const Json& v = n.meta[k];
      if (v.is_null()) continue;
      std::optional<std::string> shown = meta_field_text(k, v, [this](const TableData& td) {
        const std::string body = table_body(td);
        return body.empty() ? body : "<table>" + body + "</table>";
      });
      if (!shown || shown->empty()) continue;
      std::string& txt = *shown;
      const bool markup = k == "tabular_chart";  // the chart's table is markup already
      if (!markup) txt = html_escape(txt, false);
      std::string name = html_escape(k, true);
      fields += "<div class=\"docling-meta-field\" data-meta-name=\"" + name +
                "\"><span class=\"docling-meta-field-label\">" + name +
                ":</span> <span class=\"docling-meta-field-value\">" + txt + "</span></div>";
    }
    return fields.empty() ? "" : "<details class=\"docling-meta\"><summary>Meta</summary>" + fields + "</details>";
  }

 private:
  const HtmlOptions o_;
};

}  // namespace

namespace {

const char* const kSplitCss = R"CSS(<style>
table.split-page { border-collapse: collapse; width: 100%; }
table.split-page td { vertical-align: top; border-bottom: 1px solid #ccc; padding: 8px; width: 50%; }
.page-view { position: relative; display: inline-block; width: 100%; }
.page-view img, .page-view svg.page-blank { width: 100%; display: block; }
.page-view svg.boxes { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
.page-view rect { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.page-view text { font: 9px sans-serif; }
</style>)CSS";

// A stable colour per label, so a reader learns them.
std::string label_colour(const std::string& label) {
  static const char* palette[] = {"#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080",
                                  "#9a6324", "#800000", "#000075", "#808000", "#f032e6", "#469990"};
  size_t h = 0;
  for (char c : label) h = h * 31 + static_cast<unsigned char>(c);
  return palette[h % (sizeof palette / sizeof *palette)];
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

// The rectangles of the SVG layer, per page number: every item's boxes with its label, items in
// array order (texts, tables, pictures, key-value items, forms), built in one pass.
std::map<int, std::string> page_boxes(const Document& doc) {
  std::map<int, std::string> out;
  std::map<int, double> height;
  for (const PageItem& page : doc.pages) height[page.page_no] = page.size.height;
  auto add = [&](const DocItem& d) {
    for (const ProvenanceItem& p : d.prov) {
      auto h = height.find(p.page_no);
      if (h == height.end()) continue;
      BoundingBox b = p.bbox.to_top_left(h->second);
      std::string label = html_escape(d.label_name.empty() ? to_string(d.label) : d.label_name, true);
      std::string colour = label_colour(label), ref = d.self.pointer();
      out[p.page_no] += "<g class=\"item\" data-ref=\"" + ref + "\" data-label=\"" + label + "\"><rect x=\"" +
                        num(b.l) + "\" y=\"" + num(b.t) + "\" width=\"" + num(b.r - b.l) + "\" height=\"" +
                        num(b.b - b.t) + "\" stroke=\"" + colour + "\"><title>" + label + " " + ref +
                        "</title></rect><text x=\"" + num(b.l) + "\" y=\"" + num(std::max(8.0, b.t - 1)) +
                        "\" fill=\"" + colour + "\">" + label + "</text></g>\n";
    }
  };
  for (const TextItem& t : doc.texts) add(t);
  for (const TableItem& t : doc.tables) add(t);
  for (const PictureItem& p : doc.pictures) add(p);
  for (const KeyValueItem& k : doc.key_value_items) add(k);
  for (const KeyValueItem& f : doc.form_items) add(f);
  return out;
}

std::string page_view(const PageItem& page, const std::string& boxes) {
  std::string box = "0 0 " + num(page.size.width) + " " + num(page.size.height);
  std::string under = page.image && !page.image->uri.empty()
                          ? "<img src=\"" + html_escape(page.image->uri, true) + "\" alt=\"page " + std::to_string(page.page_no) + "\">"
                          : "<svg class=\"page-blank\" viewBox=\"" + box + "\"><rect width=\"100%\" height=\"100%\" "
                            "fill=\"#fafafa\" stroke=\"#ddd\"/></svg>";
  return "<div class=\"page-view\">" + under + "<svg class=\"boxes\" viewBox=\"" + box +
         "\" preserveAspectRatio=\"none\">\n" + boxes + "</svg></div>";
}

std::string export_split(const Document& doc, const HtmlOptions& opts) {
  std::string rows;
  std::map<int, std::string> boxes = page_boxes(doc);
  for (const PageItem& page : doc.pages) {
    HtmlOptions one = opts;
    one.split_page = false;
    one.body_only = true;
    one.filter.pages = std::set<int>{page.page_no};
    rows += "<tr class=\"page\" data-page=\"" + std::to_string(page.page_no) + "\"><td class=\"page-image\">" +
            page_view(page, boxes[page.page_no]) + "</td>\n<td class=\"page-content\">\n" + export_html(doc, one) + "\n</td></tr>\n";
  }
  std::string title = doc.name.empty() ? "Docling Document" : html_escape(doc.name, true);
  return "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\"/>\n<title>" + title +
         "</title>\n<meta name=\"generator\" content=\"docling-cpp split-page view\"/>\n" + kCss + "\n" + kSplitCss +
         "\n</head>\n<body>\n<table class=\"split-page\">\n" + rows + "</table>\n</body>\n</html>";
}

}  // namespace

std::string export_html(const Document& doc, const HtmlOptions& opts) {
  if (opts.split_page) return export_split(doc, opts);
  HtmlSerializer s(doc, opts);
  return s.run();
}

std::unique_ptr<ser::DocSerializer> html_serializer(const Document& doc, HtmlOptions opts) {
  return std::make_unique<HtmlSerializer>(doc, std::move(opts));
}

}  // namespace docling
