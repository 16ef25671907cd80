#include "exporters/serializer.h"

#include <stdexcept>

namespace docling::ser {

namespace {
constexpr int kMaxDepth = 2000;  // deeper trees are malformed (or cyclic)
constexpr const char* kPbPrefix = "#_#_DOCLING_DOC_PAGE_BREAK_";
}  // namespace

DocSerializer::DocSerializer(const Document& doc, ExportFilter filter)
    : doc_(doc), filter_(std::move(filter)) {
  compute_excluded();
}

uint64_t DocSerializer::key(const Step& s) {
  if (s.page_break) return (uint64_t{0xff} << 32) | static_cast<uint32_t>(s.pb_index);
  return (static_cast<uint64_t>(s.ref.kind) << 32) | static_cast<uint32_t>(s.ref.index + 1);
}

void DocSerializer::walk(Ref r, std::vector<Ref>& out, bool all_layers, bool traverse_pictures,
                         std::vector<int>* depths) const {
  // Iterative pre-order with an explicit stack; depth-limited against cycles.
  struct Frame { Ref ref; int depth; };
  std::vector<Frame> stack{{r, 0}};
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    const Node* n = doc_.node(f.ref);
    if (!n) continue;
    if (f.depth > kMaxDepth) throw std::runtime_error("document tree too deep or cyclic at " + f.ref.pointer());
    if (all_layers || (filter_.layers & layer_bit(n->content_layer))) {
      out.push_back(f.ref);
      if (depths) depths->push_back(f.depth);
    }
    if (f.ref.kind == RefKind::Picture && !traverse_pictures) continue;
    for (size_t i = n->children.size(); i-- > 0;) stack.push_back({n->children[i], f.depth + 1});
  }
}

void DocSerializer::compute_excluded() {
  std::vector<Ref> seq;
  walk(Ref::body(), seq, false, true);
  for (size_t ix = 0; ix < seq.size(); ++ix) {
    Ref r = seq[ix];
    const DocItem* d = doc_.item(r);
    bool out = ix < filter_.start_idx || ix >= filter_.stop_idx;
    if (!out && d) {
      out = !(filter_.labels & label_bit(d->label)) ||
            (filter_.pages && (d->prov.empty() || !filter_.pages->count(d->prov[0].page_no)));
    }
    if (out) excluded_.insert(key(Step{r}));
  }
  std::vector<Ref> all;
  walk(Ref::body(), all, true, true);
  auto add = [&](const Floating& f) {
    for (Ref c : f.captions) captions_.insert(key(Step{c}));
    for (Ref c : f.footnotes) footnotes_.insert(key(Step{c}));
  };
  for (Ref r : all) {
    switch (r.kind) {
      case RefKind::Text:
        if (doc_.texts[r.index].label == Label::Code) add(doc_.texts[r.index]);
        break;
      case RefKind::Table: add(doc_.tables[r.index]); break;
      case RefKind::Picture: add(doc_.pictures[r.index]); break;
      case RefKind::KeyValue: add(doc_.key_value_items[r.index]); break;
      case RefKind::Form: add(doc_.form_items[r.index]); break;
      default: break;
    }
  }
}

bool DocSerializer::excluded(Ref r) const { return excluded_.count(key(Step{r})) > 0; }

bool DocSerializer::is_list(Ref r) const {
  if (r.kind != RefKind::Group) return false;
  GroupLabel l = doc_.groups[r.index].label;
  return l == GroupLabel::List || l == GroupLabel::OrderedList;
}

bool DocSerializer::is_inline(Ref r) const {
  return r.kind == RefKind::Group && doc_.groups[r.index].label == GroupLabel::Inline;
}

bool DocSerializer::first_item_enumerated(const GroupItem& g) const {
  if (g.children.empty() || g.children[0].kind != RefKind::Text) return false;
  const Node* n = doc_.node(g.children[0]);
  if (!n) return false;
  const TextItem& t = static_cast<const TextItem&>(*n);
  return t.label == Label::ListItem && t.enumerated;
}

const GroupItem* DocSerializer::inline_child(const TextItem& t) const {
  if (!t.text.empty() || t.children.size() != 1 || !is_inline(t.children[0])) return nullptr;
  return static_cast<const GroupItem*>(doc_.node(t.children[0]));
}

std::string DocSerializer::page_break_marker(int prev, int next) {
  return std::string(kPbPrefix) + std::to_string(prev) + "_" + std::to_string(next) + "_#_#";
}

std::string DocSerializer::replace_page_breaks(const std::string& text, const std::string& sep) {
  std::string out;
  size_t pos = 0;
  const std::string prefix = kPbPrefix;
  while (true) {
    size_t at = text.find(prefix, pos);
    if (at == std::string::npos) break;
    // prefix, digits, '_', digits, "_#_#"
    size_t i = at + prefix.size(), d1 = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    bool ok = i > d1 && i < text.size() && text[i] == '_';
    size_t d2 = ++i;
    while (ok && i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    ok = ok && i > d2 && text.compare(i, 4, "_#_#") == 0;
    if (!ok) {
      out.append(text, pos, at + 1 - pos);
      pos = at + 1;
      continue;
    }
    out.append(text, pos, at - pos);
    out += sep;
    pos = i + 4;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::vector<Step> DocSerializer::iterate(Ref root, bool page_breaks) const {
  // Pre-order of the nodes in the selected layers, with tree depth (for subtrees).
  std::vector<Ref> seq;
  std::vector<int> depth;
  walk(root, seq, false, filter_.traverse_pictures, &depth);
  std::vector<Step> out;
  out.reserve(seq.size() + 8);
  std::unordered_set<uint64_t> scanned;  // list/inline groups already checked for a break
  int prev = -1, pb = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    Ref r = seq[i];
    if (page_breaks) {
      if ((is_list(r) || is_inline(r)) && !scanned.count(key(Step{r}))) {
        // A group starting on a new page gets its break before the group. Upstream
        // does not advance its break counter here, so the break emitted again at the
        // group's first item carries the same id and is skipped as visited.
        scanned.insert(key(Step{r}));
        for (size_t j = i + 1; j < seq.size() && depth[j] > depth[i]; ++j) {
          Ref c = seq[j];
          if (is_list(c) || is_inline(c)) scanned.insert(key(Step{c}));
          const DocItem* d = doc_.item(c);
          if (d && !d->prov.empty()) {
            int page = d->prov[0].page_no;
            if (prev >= 0 && page > prev) out.push_back(Step{Ref{}, true, pb, prev, page});
            break;
          }
        }
      } else if (const DocItem* d = doc_.item(r); d && !d->prov.empty()) {
        int page = d->prov[0].page_no;
        if (prev < 0 || page > prev) {
          if (prev >= 0) out.push_back(Step{Ref{}, true, pb++, prev, page});
          prev = page;
        }
      }
    }
    out.push_back(Step{r});
  }
  return out;
}

std::vector<Part> DocSerializer::get_parts(Ref root, const Ctx& ctx) {
  std::vector<Part> parts;
  for (const Step& s : iterate(root, requires_page_break())) {
    if (!visited_.insert(key(s)).second) continue;
    Part p = serialize(s, ctx);
    if (!p.text.empty()) parts.push_back(std::move(p));
  }
  return parts;
}

Part DocSerializer::serialize(const Step& step, const Ctx& ctx) {
  visited_.insert(key(step));
  if (step.page_break) return Part{page_break_marker(step.prev_page, step.next_page), {}};
  const Node* n = doc_.node(step.ref);
  if (!n) return {};
  std::string meta_text;
  if (!n->meta.is_null() && !wraps_meta(step.ref) && !excluded(step.ref)) meta_text = meta(*n);

  Part part;
  switch (step.ref.kind) {
    case RefKind::Body:
    case RefKind::Furniture:
    case RefKind::Group: {
      const GroupItem& g = static_cast<const GroupItem&>(*n);
      if (is_list(step.ref)) part = list_group(g, ctx);
      else if (is_inline(step.ref)) part = inline_group(g, ctx);
      else part = other_group(g, ctx);
      break;
    }
    case RefKind::Text: {
      uint64_t k = key(step);
      if (captions_.count(k) || footnotes_.count(k)) return {};  // rendered by their owner
      if (!excluded(step.ref)) part = text_item(doc_.texts[step.ref.index], ctx);
      break;
    }
    case RefKind::Table:
      part = table_renderer_ ? table_renderer_(*this, doc_.tables[step.ref.index], ctx)
                             : table_item(doc_.tables[step.ref.index], ctx);
      break;
    case RefKind::Picture: part = picture_item(doc_.pictures[step.ref.index], ctx); break;
    case RefKind::KeyValue: part = key_value_item(doc_.key_value_items[step.ref.index], ctx); break;
    case RefKind::Form: part = form_item(doc_.form_items[step.ref.index], ctx); break;
    case RefKind::None: break;
  }
  if (meta_text.empty()) return part;
  // The meta text comes from the item itself: it joins the spans (once).
  bool has_self = false;
  for (Ref r : part.spans) has_self = has_self || r == step.ref;
  if (!has_self && step.ref.kind != RefKind::Body && step.ref.kind != RefKind::Group) part.spans.push_back(step.ref);
  part.text = part.text.empty() ? meta_text : part.text + delim() + meta_text;
  return part;
}

std::string DocSerializer::run() {
  visited_.insert(key(Step{Ref::body()}));
  std::string text = serialize_doc(get_parts(Ref::body(), root_ctx()));
  if (!doc_.body.meta.is_null()) {
    std::string m = meta(doc_.body);
    if (!m.empty()) text = text.empty() ? m : text + delim() + m;
  }
  return text;
}

std::string DocSerializer::post_process(const std::string& text, const std::optional<Formatting>& fmt,
                                        const std::optional<std::string>& link, bool esc) {
  std::string res = esc ? escape(text) : text;
  if (filter_.include_formatting && fmt) {
    if (fmt->bold) res = bold(res);
    if (fmt->italic) res = italic(res);
    if (fmt->underline) res = underline(res);
    if (fmt->strikethrough) res = strikethrough(res);
    if (fmt->script == "sub") res = subscript(res);
    else if (fmt->script == "super") res = superscript(res);
  }
  if (filter_.include_hyperlinks && link && !link->empty()) res = hyperlink(res, hyperlink_str(*link));
  return res;
}

Part DocSerializer::base_captions(const Floating& f) {
  Part out;
  if (!(filter_.labels & label_bit(Label::Caption))) return out;
  std::string joined;
  bool first = true;
  for (Ref c : f.captions) {
    if (c.kind != RefKind::Text || !doc_.node(c) || excluded(c)) continue;
    joined += (first ? "" : filter_.caption_delim) + doc_.texts[c.index].text;
    first = false;
    out.spans.push_back(c);
  }
  out.text = post_process(joined, std::nullopt, std::nullopt);
  return out;
}

}  // namespace docling::ser
