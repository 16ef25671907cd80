#include "core/document.h"

#include "core/image.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <cstring>

namespace docling {

namespace {

struct KindName {
  RefKind kind;
  const char* array;
};
constexpr KindName kKindNames[] = {
    {RefKind::Group, "groups"},          {RefKind::Text, "texts"},
    {RefKind::Table, "tables"},          {RefKind::Picture, "pictures"},
    {RefKind::KeyValue, "key_value_items"}, {RefKind::Form, "form_items"},
};

constexpr const char* kLayerNames[] = {"body", "furniture", "background", "invisible", "notes"};
constexpr const char* kLabelNames[] = {
    "caption", "chart", "checkbox_selected", "checkbox_unselected", "code", "document_index",
    "empty_value", "footnote", "form", "formula", "grading_scale", "handwritten_text",
    "key_value_region", "list_item", "page_footer", "page_header", "paragraph", "picture",
    "reference", "section_header", "table", "text", "title", "field_region", "field_heading",
    "field_item", "field_key", "field_value", "field_hint", "marker"};
constexpr const char* kGroupLabelNames[] = {
    "unspecified", "list", "ordered_list", "chapter", "section", "sheet", "slide",
    "form_area", "key_value_area", "comment_section", "inline", "picture_area"};
constexpr const char* kOriginNames[] = {"TOPLEFT", "BOTTOMLEFT"};

template <typename E, size_t N>
std::optional<E> lookup(const char* const (&names)[N], const std::string& s) {
  for (size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::string Ref::pointer() const {
  switch (kind) {
    case RefKind::None: return "";
    case RefKind::Body: return "#/body";
    case RefKind::Furniture: return "#/furniture";
    default: break;
  }
  for (const auto& kn : kKindNames)
    if (kn.kind == kind) return std::string("#/") + kn.array + "/" + std::to_string(index);
  return "";
}

std::optional<Ref> Ref::parse(const std::string& p) {
  if (p == "#/body") return Ref::body();
  if (p == "#/furniture") return Ref::furniture();
  if (p.rfind("#/", 0) != 0) return std::nullopt;
  size_t slash = p.find('/', 2);
  if (slash == std::string::npos || slash + 1 >= p.size()) return std::nullopt;
  std::string array = p.substr(2, slash - 2);
  const char* digits = p.c_str() + slash + 1;
  char* end = nullptr;
  long idx = std::strtol(digits, &end, 10);
  if (*end != '\0' || idx < 0 || !std::isdigit(static_cast<unsigned char>(*digits)))
    return std::nullopt;
  for (const auto& kn : kKindNames)
    if (array == kn.array) return Ref{kn.kind, static_cast<int>(idx)};
  return std::nullopt;
}

const char* to_string(ContentLayer v) { return kLayerNames[static_cast<int>(v)]; }
const char* to_string(Label v) { return kLabelNames[static_cast<int>(v)]; }
const char* to_string(GroupLabel v) { return kGroupLabelNames[static_cast<int>(v)]; }
const char* to_string(CoordOrigin v) { return kOriginNames[static_cast<int>(v)]; }
std::optional<ContentLayer> content_layer_from(const std::string& s) {
  return lookup<ContentLayer>(kLayerNames, s);
}
std::optional<Label> label_from(const std::string& s) { return lookup<Label>(kLabelNames, s); }
std::optional<GroupLabel> group_label_from(const std::string& s) {
  return lookup<GroupLabel>(kGroupLabelNames, s);
}
std::optional<CoordOrigin> coord_origin_from(const std::string& s) {
  return lookup<CoordOrigin>(kOriginNames, s);
}

BoundingBox BoundingBox::to_top_left(double page_height) const {
  if (origin == CoordOrigin::TopLeft) return *this;
  return {l, page_height - t, r, page_height - b, CoordOrigin::TopLeft};
}

BoundingBox BoundingBox::to_bottom_left(double page_height) const {
  if (origin == CoordOrigin::BottomLeft) return *this;
  return {l, page_height - t, r, page_height - b, CoordOrigin::BottomLeft};
}

namespace {

template <class Items, class F>
void for_each_prov(Items& items, F f) {
  for (auto& it : items)
    for (ProvenanceItem& p : it.prov) f(p);
}

}  // namespace

void set_coord_origin(Document& doc, CoordOrigin to, bool cells) {
  auto height = [&](int page_no) -> std::optional<double> {
    const PageItem* p = doc.page(page_no);
    return p ? std::optional<double>(p->size.height) : std::nullopt;
  };
  auto move = [&](ProvenanceItem& p) {
    if (auto h = height(p.page_no)) p.bbox = p.bbox.with_origin(to, *h);
  };
  for_each_prov(doc.texts, move);
  for_each_prov(doc.tables, move);
  for_each_prov(doc.pictures, move);
  for_each_prov(doc.key_value_items, move);
  for_each_prov(doc.form_items, move);
  if (!cells) return;
  for (TableItem& t : doc.tables) {
    auto h = t.prov.empty() ? std::nullopt : height(t.prov[0].page_no);
    for (TableCell& c : t.data.cells)
      if (c.bbox && h) c.bbox = c.bbox->with_origin(to, *h);
  }
}

std::vector<std::vector<TableCell>> TableData::grid() const {
  std::vector<std::vector<TableCell>> g(num_rows, std::vector<TableCell>(num_cols));
  for (int i = 0; i < num_rows; ++i)
    for (int j = 0; j < num_cols; ++j) {
      TableCell& c = g[i][j];
      c.start_row = i, c.end_row = i + 1, c.start_col = j, c.end_col = j + 1;
    }
  for (const TableCell& cell : cells)
    for (int i = std::max(cell.start_row, 0); i < std::min(cell.end_row, num_rows); ++i)
      for (int j = std::max(cell.start_col, 0); j < std::min(cell.end_col, num_cols); ++j)
        g[i][j] = cell;
  return g;
}

Document::Document() {
  body.self = Ref::body();
  body.name = "_root_";
  furniture.self = Ref::furniture();
  furniture.name = "_root_";
  furniture.content_layer = ContentLayer::Furniture;
}

Node* Document::node(const Ref& r) {
  auto at = [&](auto& vec) -> Node* {
    return r.index >= 0 && r.index < static_cast<int>(vec.size()) ? &vec[r.index] : nullptr;
  };
  switch (r.kind) {
    case RefKind::Body: return &body;
    case RefKind::Furniture: return &furniture;
    case RefKind::Group: return at(groups);
    case RefKind::Text: return at(texts);
    case RefKind::Table: return at(tables);
    case RefKind::Picture: return at(pictures);
    case RefKind::KeyValue: return at(key_value_items);
    case RefKind::Form: return at(form_items);
    case RefKind::None: return nullptr;
  }
  return nullptr;
}

const Node* Document::node(const Ref& r) const { return const_cast<Document*>(this)->node(r); }

const DocItem* Document::item(const Ref& r) const {
  switch (r.kind) {
    case RefKind::Text:
    case RefKind::Table:
    case RefKind::Picture:
    case RefKind::KeyValue:
    case RefKind::Form: return static_cast<const DocItem*>(node(r));
    default: return nullptr;
  }
}

namespace {
template <typename T>
Ref append(Document& doc, std::vector<T>& vec, RefKind kind, Ref parent) {
  Ref r{kind, static_cast<int>(vec.size())};
  vec.emplace_back();
  vec.back().self = r;
  vec.back().parent = parent;
  if (Node* p = doc.node(parent)) p->children.push_back(r);
  return r;
}
}  // namespace

Ref Document::add_group(GroupLabel label, const std::string& name, Ref parent) {
  Ref r = append(*this, groups, RefKind::Group, parent);
  groups[r.index].label = label;
  groups[r.index].name = name;
  if (const Node* p = node(parent)) groups[r.index].content_layer = p->content_layer;
  return r;
}

Ref Document::add_text(Label label, const std::string& text, Ref parent,
                       std::optional<ProvenanceItem> prov, ContentLayer layer) {
  Ref r = append(*this, texts, RefKind::Text, parent);
  TextItem& t = texts[r.index];
  t.label = label;
  t.text = t.orig = text;
  t.content_layer = layer;
  t.is_floating_json = label == Label::Code;
  if (prov) t.prov.push_back(*prov);
  return r;
}

Ref Document::add_table(TableData data, Ref parent, std::optional<ProvenanceItem> prov) {
  Ref r = append(*this, tables, RefKind::Table, parent);
  tables[r.index].label = Label::Table;
  tables[r.index].data = std::move(data);
  if (prov) tables[r.index].prov.push_back(*prov);
  return r;
}

Ref Document::add_picture(Ref parent, std::optional<ProvenanceItem> prov) {
  Ref r = append(*this, pictures, RefKind::Picture, parent);
  pictures[r.index].label = Label::Picture;
  if (prov) pictures[r.index].prov.push_back(*prov);
  return r;
}

Ref Document::add_key_value(Ref parent, std::optional<ProvenanceItem> prov) {
  Ref r = append(*this, key_value_items, RefKind::KeyValue, parent);
  key_value_items[r.index].label = Label::KeyValueRegion;
  if (prov) key_value_items[r.index].prov.push_back(*prov);
  return r;
}

PageItem& Document::add_page(int page_no, Size size) {
  auto it = pages.begin();
  while (it != pages.end() && it->page_no < page_no) ++it;
  if (it != pages.end() && it->page_no == page_no) {
    it->size = size;
    return *it;
  }
  PageItem p;
  p.page_no = page_no;
  p.size = size;
  return *pages.insert(it, p);
}

const PageItem* Document::page(int page_no) const {
  for (const PageItem& p : pages)
    if (p.page_no == page_no) return &p;
  return nullptr;
}

}  // namespace docling

// --- append_document ---------------------------------------------------------------------

namespace docling {
namespace {

// First provenance page in a subtree (pre-order), or -1.
int subtree_page(const Document& d, Ref r) {
  const Node* n = d.node(r);
  if (!n) return -1;
  if (const DocItem* it = d.item(r); it && !it->prov.empty()) return it->prov.front().page_no;
  for (Ref c : n->children)
    if (int p = subtree_page(d, c); p >= 0) return p;
  return -1;
}

struct Appender {
  Document& dst;
  const Document& src;
  int offset;
  std::map<std::pair<int, int>, Ref> map;  // (kind, src index) -> dst ref
  int next[9] = {};                        // next dst index per RefKind

  static std::pair<int, int> key(Ref r) { return {int(r.kind), r.index}; }

  void assign(Ref r) {
    const Node* n = r.kind >= RefKind::Group ? src.node(r) : nullptr;
    if (!n || map.count(key(r))) return;  // dangling, a root, or already taken (cycles)
    map[key(r)] = Ref{r.kind, next[int(r.kind)]++};
    for (Ref c : n->children) assign(c);
  }
  Ref remap(Ref r) const {
    if (r.kind == RefKind::Body || r.kind == RefKind::Furniture) return r;
    auto it = map.find(key(r));
    return it == map.end() ? Ref{} : it->second;
  }
  void remap_refs(std::vector<Ref>& refs) const {
    std::vector<Ref> out;
    for (Ref r : refs)
      if (Ref m = remap(r); m.valid()) out.push_back(m);
    refs = std::move(out);
  }
  void fix_node(Node& n) const {
    n.self = remap(n.self);
    n.parent = remap(n.parent);
    remap_refs(n.children);
  }
  void fix_item(DocItem& it) const {
    for (ProvenanceItem& p : it.prov) p.page_no += offset;
  }
  void fix_floating(Floating& f) const {
    remap_refs(f.captions);
    remap_refs(f.references);
    remap_refs(f.footnotes);
  }
  // Copies in the same pre-order as assign(), so indices match.
  void copy(Ref r, std::set<std::pair<int, int>>& done) {
    if (!src.node(r) || !done.insert(key(r)).second) return;
    switch (r.kind) {
      case RefKind::Group: dst.groups.push_back(src.groups[r.index]); fix_node(dst.groups.back()); break;
      case RefKind::Text: {
        TextItem t = src.texts[r.index];
        fix_node(t), fix_item(t), fix_floating(t);
        dst.texts.push_back(std::move(t));
        break;
      }
      case RefKind::Table: {
        TableItem t = src.tables[r.index];
        fix_node(t), fix_item(t), fix_floating(t);
        dst.tables.push_back(std::move(t));
        break;
      }
      case RefKind::Picture: {
        PictureItem p = src.pictures[r.index];
        fix_node(p), fix_item(p), fix_floating(p);
        dst.pictures.push_back(std::move(p));
        break;
      }
      case RefKind::KeyValue:
      case RefKind::Form: {
        KeyValueItem k = r.kind == RefKind::Form ? src.form_items[r.index] : src.key_value_items[r.index];
        fix_node(k), fix_item(k), fix_floating(k);
        for (GraphCell& c : k.cells)
          if (c.prov) c.prov->page_no += offset;
        (r.kind == RefKind::Form ? dst.form_items : dst.key_value_items).push_back(std::move(k));
        break;
      }
      default: return;
    }
    for (Ref c : src.node(r)->children) copy(c, done);
  }
};

}  // namespace

void append_document(Document& dst, const Document& src, int page_offset, const std::vector<int>* pages) {
  auto wanted = [&](int page) {
    return !pages || std::find(pages->begin(), pages->end(), page) != pages->end();
  };
  // Top-level subtrees to take, per root.
  std::vector<Ref> roots[2];
  const GroupItem* src_roots[2] = {&src.body, &src.furniture};
  for (int k = 0; k < 2; ++k) {
    int page = src.pages.empty() ? -1 : src.pages.front().page_no;
    for (Ref c : src_roots[k]->children) {
      if (int p = subtree_page(src, c); p >= 0) page = p;
      if (wanted(page)) roots[k].push_back(c);
    }
  }
  Appender a{dst, src, page_offset, {}, {}};
  a.next[int(RefKind::Group)] = int(dst.groups.size());
  a.next[int(RefKind::Text)] = int(dst.texts.size());
  a.next[int(RefKind::Table)] = int(dst.tables.size());
  a.next[int(RefKind::Picture)] = int(dst.pictures.size());
  a.next[int(RefKind::KeyValue)] = int(dst.key_value_items.size());
  a.next[int(RefKind::Form)] = int(dst.form_items.size());
  for (auto& rs : roots)
    for (Ref r : rs) a.assign(r);
  std::set<std::pair<int, int>> done;
  GroupItem* dst_roots[2] = {&dst.body, &dst.furniture};
  for (int k = 0; k < 2; ++k)
    for (Ref r : roots[k]) {
      a.copy(r, done);
      dst_roots[k]->children.push_back(a.remap(r));
    }
  for (const PageItem& p : src.pages)
    if (wanted(p.page_no)) {
      PageItem& d = dst.add_page(p.page_no + page_offset, p.size);
      d.image = p.image;
    }
}

ImageRef png_image_ref(const Image& img, double dpi) {
  ImageRef ref;
  ref.dpi = dpi;
  ref.size = Size{double(img.width), double(img.height)};
  ref.uri = png_data_uri(img);
  return ref;
}

}  // namespace docling
