#include "exporters/markdown.h"

#include "exporters/serializer.h"
#include "exporters/tabulate.h"

namespace docling {

namespace {

using ser::Ctx;
using ser::Part;

// `_` → `\_` unless already escaped, outside `![...](...)` image links.
std::string escape_underscores(const std::string& s) {
  auto esc = [](const std::string& t, std::string& out) {
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '_' && (i == 0 || t[i - 1] != '\\')) out += "\\_";
      else out += t[i];
    }
  };
  std::string out;
  size_t pos = 0, i = 0;
  while (i + 1 < s.size()) {
    // Match !\[.*?\]\((.*?)\) at i, with no newline inside.
    if (s[i] == '!' && s[i + 1] == '[') {
      size_t close = s.find("](", i + 2), nl = s.find('\n', i + 2);
      if (close != std::string::npos && (nl == std::string::npos || nl > close)) {
        size_t end = s.find(')', close + 2), nl2 = s.find('\n', close + 2);
        if (end != std::string::npos && (nl2 == std::string::npos || nl2 > end)) {
          esc(s.substr(pos, i - pos), out);
          out.append(s, i, end + 1 - i);
          pos = i = end + 1;
          continue;
        }
      }
    }
    ++i;
  }
  esc(s.substr(pos), out);
  return out;
}

bool has_alnum(const std::string& s) {
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return false;
}

bool is_number_dot(const std::string& s) {
  if (s.size() < 2 || s.back() != '.') return false;
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

std::vector<std::vector<std::string>> grid_rows(const TableData& data,
                                                 ser::DocSerializer* rich, const Ctx& ctx) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : data.grid()) {
    std::vector<std::string> r;
    for (const TableCell& c : row) {
      std::string t = c.text;
      if (rich && c.extra.is_object() && c.extra.contains("ref")) {
        auto ref = Ref::parse(c.extra["ref"].value("$ref", ""));
        if (ref && rich->doc().node(*ref)) t = rich->serialize(*ref, ctx).text;
      }
      for (char& ch : t)
        if (ch == '\n') ch = ' ';
      r.push_back(std::move(t));
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

class MarkdownSerializer : public ser::DocSerializer {
 public:
  MarkdownSerializer(const Document& doc, MarkdownOptions o)
      : DocSerializer(doc, o.filter), o_(std::move(o)) {}

 protected:
  bool requires_page_break() const override { return o_.page_break_placeholder.has_value(); }
  std::string delim() const override { return "\n\n"; }

  std::string serialize_doc(const std::vector<Part>& parts) override {
    std::vector<std::string> t;
    for (const Part& p : parts) t.push_back(p.text);
    std::string text = join(t, "\n\n");
    if (requires_page_break()) text = replace_page_breaks(text, *o_.page_break_placeholder);
    return text;
  }

  std::string escape(const std::string& s) override {
    std::string r = o_.escape_underscores ? escape_underscores(s) : s;
    return o_.escape_html ? html_escape(r, false) : r;
  }
  std::string bold(const std::string& s) override { return o_.plain_text ? s : "**" + s + "**"; }
  std::string italic(const std::string& s) override { return o_.plain_text ? s : "*" + s + "*"; }
  std::string strikethrough(const std::string& s) override { return o_.plain_text ? s : "~~" + s + "~~"; }
  std::string hyperlink(const std::string& s, const std::string& url) override {
    return o_.plain_text ? s : "[" + s + "](" + url + ")";
  }

  std::string list_marker(const TextItem& t) {
    const std::string& m = t.marker;
    bool auto_keep = has_alnum(m);  // marker mode "auto"
    bool valid = m == "-" || m == "*" || m == "+" || is_number_dot(m);
    std::vector<std::string> pieces;
    if (!valid) {
      std::string md = "-";
      if (t.parent.kind == RefKind::Group && is_list(t.parent)) {
        const GroupItem& g = doc_.groups[t.parent.index];
        if (first_item_enumerated(g) && m.empty()) {
          size_t pos = 0;
          while (pos < g.children.size() && g.children[pos] != t.self) ++pos;
          md = std::to_string(pos < g.children.size() ? pos + 1 : 0) + ".";
        }
      }
      pieces.push_back(md);
    }
    if (!m.empty() && (auto_keep || valid)) pieces.push_back(m);
    return join(pieces, " ");
  }

  Part text_item(const TextItem& t, const Ctx& ctx) override {
    const GroupItem* ig = inline_child(t);
    std::string text;
    bool pending = true, esc = true;
    if (ig) {
      text = serialize(ig->self, Ctx{}).text;
      pending = false;
    } else {
      text = t.text;
    }
    if (t.label == Label::CheckboxSelected) text = "- [x] " + text;
    if (t.label == Label::CheckboxUnselected) text = "- [ ] " + text;
    std::string part;
    if (t.label == Label::ListItem || t.label == Label::Title || t.label == Label::SectionHeader) {
      if (!ig) {
        text = post_process(text, t.formatting, t.hyperlink);
        pending = false;
      }
      if (t.label == Label::ListItem) {
        std::string marker = list_marker(t);
        part = marker.empty() ? text : marker + " " + text;
      } else if (o_.plain_text) {
        part = text;
      } else {
        int n = t.label == Label::Title ? 1 : t.level + 1;
        part = std::string(n > 0 ? n : 1, '#') + " " + text;
      }
    } else if (t.label == Label::Code) {
      bool bt = ctx.inline_scope || (filter_.include_hyperlinks && t.hyperlink && !t.hyperlink->empty());
      part = !o_.format_code_blocks ? text : bt ? "`" + text + "`" : "```\n" + text + "\n```";
      esc = false;
    } else if (t.label == Label::Formula) {
      if (!text.empty()) part = ctx.inline_scope ? "$" + text + "$" : "$$" + text + "$$";
      else if (!t.orig.empty()) part = "<!-- formula-not-decoded -->";
      esc = false;
    } else {
      part = text;
    }
    std::vector<std::string> res;
    Part out;
    out.spans.push_back(t.self);
    if (!part.empty()) res.push_back(part);
    if (t.label == Label::Code) {
      Part cap = base_captions(t);
      if (!cap.text.empty()) res.push_back(cap.text);
    }
    out.text = join(res, ctx.inline_scope ? " " : "\n\n");
    if (pending) out.text = post_process(out.text, t.formatting, t.hyperlink, esc);
    return out;
  }

  std::string table_text(const TableData& data, bool compact) {
    auto rows = grid_rows(data, this, Ctx{});
    if (rows.empty()) return "";
    return compact ? compact_table(rows) : tabulate_github(rows);
  }

  // Spans: the captions, then the item if it rendered something (the chunkers' doc_items).
  Part table_item(const TableItem& t, const Ctx&) override {
    std::vector<std::string> res;
    Part out = base_captions(t);
    if (!out.text.empty()) res.push_back(out.text);
    else out.spans.clear();
    if (!excluded(t.self)) {
      std::string tt = table_text(t.data, o_.compact_tables);
      if (!tt.empty()) res.push_back(tt), out.spans.push_back(t.self);
    }
    out.text = join(res, "\n\n");
    return out;
  }

  std::string image_part(const PictureItem& p) {
    switch (o_.image_mode) {
      case ImageMode::Placeholder: return o_.image_placeholder;
      case ImageMode::Embedded:
        if (p.image && p.image->uri.rfind("data:", 0) == 0) return "![Image](" + p.image->uri + ")";
        // Upstream crops the page image here; this exporter has no raster access.
        return "<!-- 🖼️❌ Image not available. Please use `PdfPipelineOptions(generate_picture_images=True)` -->";
      case ImageMode::Referenced:
        if (!p.image || p.image->uri.empty() || p.image->uri.rfind("data:", 0) == 0) return o_.image_placeholder;
        return "![Image](" + p.image->uri + ")";
    }
    return o_.image_placeholder;
  }

  Part picture_item(const PictureItem& p, const Ctx&) override {
    std::vector<std::string> res;
    Part out = base_captions(p);
    if (!out.text.empty()) res.push_back(out.text);
    else out.spans.clear();
    if (!excluded(p.self)) {
      std::string img = image_part(p);
      if (!img.empty()) res.push_back(img), out.spans.push_back(p.self);
    }
    out.text = join(res, "\n\n");
    return out;
  }

  Part key_value_item(const KeyValueItem& k, const Ctx&) override {
    return excluded(k.self) ? Part{} : Part{"<!-- missing-key-value-item -->", {k.self}};
  }
  Part form_item(const KeyValueItem& k, const Ctx&) override {
    return excluded(k.self) ? Part{} : Part{"<!-- missing-form-item -->", {k.self}};
  }

  Part list_group(const GroupItem& g, const Ctx& ctx) override {
    Ctx sub = ctx;
    sub.list_level = ctx.list_level + 1;
    std::vector<Part> parts = get_parts(g.self, sub);
    std::vector<Part> merged;
    for (Part& p : parts) {
      bool to_last = false;
      if (!merged.empty() && !p.spans.empty()) {
        const Node* n = doc_.node(p.spans[0]);
        to_last = n && is_inline(n->parent);
      }
      if (to_last) {
        merged.back().text += p.text;
        merged.back().spans.insert(merged.back().spans.end(), p.spans.begin(), p.spans.end());
      } else {
        merged.push_back(std::move(p));
      }
    }
    std::string indent(static_cast<size_t>(ctx.list_level * o_.indent), ' ');
    Part out;
    std::vector<std::string> lines;
    for (const Part& p : merged) {
      lines.push_back(!p.text.empty() && p.text[0] == ' ' ? p.text : indent + p.text);
      out.spans.insert(out.spans.end(), p.spans.begin(), p.spans.end());
    }
    out.text = join(lines, "\n");
    return out;
  }

  Part inline_group(const GroupItem& g, const Ctx& ctx) override {
    Ctx sub = ctx;
    sub.inline_scope = true;
    Part out;
    std::vector<std::string> t;
    for (Part& p : get_parts(g.self, sub)) {
      t.push_back(p.text);
      out.spans.insert(out.spans.end(), p.spans.begin(), p.spans.end());
    }
    out.text = join(t, " ");
    return out;
  }

  Part other_group(const GroupItem& g, const Ctx& ctx) override {
    Ctx sub;
    sub.add_location = ctx.add_location;
    Part out;
    std::vector<std::string> t;
    for (Part& p : get_parts(g.self, sub)) {
      t.push_back(p.text);
      out.spans.insert(out.spans.end(), p.spans.begin(), p.spans.end());
    }
    out.text = join(t, "\n\n");
    return out;
  }

  std::string meta(const Node& n) override {
    std::vector<std::string> out;
    for (const std::string& k : meta_field_order(n.meta)) {
      const Json& v = n.meta[k];
      if (v.is_null()) continue;
      const std::optional<std::string> shown = meta_field_text(
          k, v, [&](const TableData& td) { return py_strip(table_markdown(doc_, td)); });
      if (!shown) continue;
      const std::string& txt = *shown;
      if (txt.empty() && !o_.mark_meta) continue;  // falsy entries are dropped upstream
      out.push_back(o_.mark_meta ? "[" + humanize(k, true) + "] " + txt : txt);
    }
    return join(out, "\n\n");
  }

 private:
  const MarkdownOptions o_;
};

}  // namespace

std::string export_markdown(const Document& doc, const MarkdownOptions& opts) {
  MarkdownSerializer s(doc, opts);
  return s.run();
}

std::unique_ptr<ser::DocSerializer> markdown_serializer(const Document& doc, MarkdownOptions opts) {
  return std::make_unique<MarkdownSerializer>(doc, std::move(opts));
}

std::string table_markdown(const Document& doc, const TableData& data) {
  (void)doc;
  auto rows = grid_rows(data, nullptr, Ctx{});
  return rows.empty() ? "" : tabulate_github(rows);
}

}  // namespace docling
