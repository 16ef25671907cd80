// The document tree: a C++ mirror of docling-core's DoclingDocument (schema 1.10.0).
//
// Items live in flat arrays by kind (texts, tables, pictures, groups, key-value and
// form items), exactly as in the JSON; the tree is made of references between them.
// A Ref names one node ("#/texts/3", "#/body"). Fields that the exporters never look
// at, and fields this model does not know, are kept as JSON in `extra` so that a
// document read from JSON writes back unchanged.
//
// Takes: nothing (plain data). Gives: the types every later stage fills or reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace docling {

using Json = nlohmann::ordered_json;

// --- references -----------------------------------------------------------------

enum class RefKind : uint8_t {
  None, Body, Furniture, Group, Text, Table, Picture, KeyValue, Form
};

struct Ref {
  RefKind kind = RefKind::None;
  int index = -1;  // position in its array; unused for Body/Furniture/None

  static Ref body() { return {RefKind::Body, -1}; }
  static Ref furniture() { return {RefKind::Furniture, -1}; }
  bool valid() const { return kind != RefKind::None; }
  std::string pointer() const;                        // "#/texts/3"
  static std::optional<Ref> parse(const std::string& pointer);
  friend bool operator==(const Ref& a, const Ref& b) { return a.kind == b.kind && a.index == b.index; }
  friend bool operator!=(const Ref& a, const Ref& b) { return !(a == b); }
};

// --- enums (names are the JSON strings) --------------------------------------------

enum class ContentLayer : uint8_t { Body, Furniture, Background, Invisible, Notes };

// DocItemLabel of docling-core. Unknown strings read from JSON map to Text with the
// original spelling kept in the item's `label_name`.
enum class Label : uint8_t {
  Caption, Chart, CheckboxSelected, CheckboxUnselected, Code, DocumentIndex, EmptyValue,
  Footnote, Form, Formula, GradingScale, HandwrittenText, KeyValueRegion, ListItem,
  PageFooter, PageHeader, Paragraph, Picture, Reference, SectionHeader, Table, Text, Title,
  FieldRegion, FieldHeading, FieldItem, FieldKey, FieldValue, FieldHint, Marker,
};

enum class GroupLabel : uint8_t {
  Unspecified, List, OrderedList, Chapter, Section, Sheet, Slide, FormArea, KeyValueArea,
  CommentSection, Inline, PictureArea,
};

enum class CoordOrigin : uint8_t { TopLeft, BottomLeft };

const char* to_string(ContentLayer v);
const char* to_string(Label v);
const char* to_string(GroupLabel v);
const char* to_string(CoordOrigin v);
std::optional<ContentLayer> content_layer_from(const std::string& s);
std::optional<Label> label_from(const std::string& s);
std::optional<GroupLabel> group_label_from(const std::string& s);
std::optional<CoordOrigin> coord_origin_from(const std::string& s);

// --- geometry and provenance -----------------------------------------------------------

struct BoundingBox {
  double l = 0, t = 0, r = 0, b = 0;
  CoordOrigin origin = CoordOrigin::TopLeft;

  // The same box with a top-left (bottom-left) origin on a page of the given height.
  BoundingBox to_top_left(double page_height) const;
  BoundingBox to_bottom_left(double page_height) const;
  BoundingBox with_origin(CoordOrigin o, double page_height) const {
    return o == CoordOrigin::TopLeft ? to_top_left(page_height) : to_bottom_left(page_height);
  }
};

struct ProvenanceItem {
  int page_no = 1;
  BoundingBox bbox;
  int charspan[2] = {0, 0};
};

struct Size {
  double width = 0, height = 0;
};

struct ImageRef {
  std::string mimetype = "image/png";
  double dpi = 72;
  Size size;
  std::string uri;  // data URI, file path or URL
};
struct Image;
// `img` (rendered at `dpi`) as a PNG data URI with its size: a page's or a picture's image.
ImageRef png_image_ref(const Image& img, double dpi);

// --- items -----------------------------------------------------------------------------

// What every node has (docling-core NodeItem).
struct Node {
  Ref self;
  Ref parent;
  std::vector<Ref> children;
  ContentLayer content_layer = ContentLayer::Body;
  Json meta;   // null when absent; kept verbatim
  Json extra;  // object of fields this model does not interpret; written back as-is
};

struct GroupItem : Node {
  std::string name = "group";
  GroupLabel label = GroupLabel::Unspecified;
};

// What DocItems add; floating items (tables, pictures, code) also use captions etc.
struct DocItem : Node {
  Label label = Label::Text;
  std::string label_name;  // only for labels this model does not know
  std::vector<ProvenanceItem> prov;
};

struct Floating {
  std::vector<Ref> captions, references, footnotes;
  std::optional<ImageRef> image;
};

struct Formatting {
  bool bold = false, italic = false, underline = false, strikethrough = false;
  std::string script = "baseline";  // baseline | sub | super
};

// One struct for every item stored in `texts`: TextItem, TitleItem, SectionHeaderItem,
// ListItem, CodeItem, FormulaItem. Fields that do not apply to a label stay unset.
struct TextItem : DocItem, Floating {
  std::string orig, text;
  std::optional<Formatting> formatting;
  std::optional<std::string> hyperlink;
  int level = 1;                              // section headers
  bool enumerated = false;                    // list items
  std::string marker;                         // list items
  std::optional<std::string> code_language;   // code items
  bool is_floating_json = false;              // code: write captions/references/footnotes
};

struct TableCell {
  int row_span = 1, col_span = 1;
  int start_row = 0, end_row = 1, start_col = 0, end_col = 1;  // *_offset_idx
  std::string text;
  bool column_header = false, row_header = false, row_section = false, fillable = false;
  std::optional<BoundingBox> bbox;
  Json extra;  // e.g. rich-table `ref`, kept verbatim
};

struct TableData {
  int num_rows = 0, num_cols = 0;
  std::vector<TableCell> cells;
  std::string orientation = "rot_0";

  // num_rows x num_cols; every position holds the cell that covers it (span cells
  // repeat), positions no cell covers get an empty cell. Computed, as docling-core does.
  std::vector<std::vector<TableCell>> grid() const;
};

struct TableItem : DocItem, Floating {
  TableData data;
};

struct PictureItem : DocItem, Floating {
  Json annotations;  // legacy; null when absent
};

struct GraphCell {
  std::string label;  // "key" | "value" | ...
  int cell_id = 0;
  std::string text, orig;
  std::optional<ProvenanceItem> prov;
  Json extra;
};

struct GraphLink {
  std::string label = "to_value";
  int source_cell_id = 0, target_cell_id = 0;
};

struct KeyValueItem : DocItem, Floating {  // also FormItem (label Form)
  std::vector<GraphCell> cells;
  std::vector<GraphLink> links;
};

struct PageItem {
  int page_no = 1;
  Size size;
  std::optional<ImageRef> image;
};

struct DocumentOrigin {
  std::string mimetype, filename;
  uint64_t binary_hash = 0;
  std::optional<std::string> uri;
};

// --- the document ------------------------------------------------------------------------

struct Document {
  std::string schema_name = "DoclingDocument";
  std::string version = "1.10.0";
  std::string name = "Document";
  std::optional<DocumentOrigin> origin;

  GroupItem body, furniture;
  std::vector<GroupItem> groups;
  std::vector<TextItem> texts;
  std::vector<TableItem> tables;
  std::vector<PictureItem> pictures;
  std::vector<KeyValueItem> key_value_items;
  std::vector<KeyValueItem> form_items;
  std::vector<PageItem> pages;  // sorted by page_no
  Json extra;                   // unknown top-level fields (field_regions, ...)

  Document();

  // Look up a node by reference; nullptr for an invalid or dangling one.
  const Node* node(const Ref& ref) const;
  Node* node(const Ref& ref);
  // The DocItem behind a ref (nullptr for groups, body, furniture).
  const DocItem* item(const Ref& ref) const;

  // Building (the parser and the text-layer backend use these). Each appends the
  // new node to `parent`'s children and returns its ref.
  Ref add_group(GroupLabel label, const std::string& name, Ref parent);
  Ref add_text(Label label, const std::string& text, Ref parent,
               std::optional<ProvenanceItem> prov = std::nullopt,
               ContentLayer layer = ContentLayer::Body);
  Ref add_table(TableData data, Ref parent, std::optional<ProvenanceItem> prov = std::nullopt);
  Ref add_picture(Ref parent, std::optional<ProvenanceItem> prov = std::nullopt);
  Ref add_key_value(Ref parent, std::optional<ProvenanceItem> prov = std::nullopt);
  PageItem& add_page(int page_no, Size size);
  const PageItem* page(int page_no) const;

  TextItem& text(Ref r) { return texts.at(r.index); }
  TableItem& table(Ref r) { return tables.at(r.index); }
  PictureItem& picture(Ref r) { return pictures.at(r.index); }
  GroupItem& group(Ref r) { return groups.at(r.index); }
};

// Every provenance box in `to` origin (page heights from doc.pages; a page the document does
// not list keeps its boxes); table-cell boxes too when `cells`.
void set_coord_origin(Document& doc, CoordOrigin to, bool cells);

// Copies the body and furniture content of `src` onto the end of `dst` (references
// remapped, page numbers shifted by `page_offset`). With `pages`, only the top-level
// subtrees on those source pages are taken (a subtree without provenance goes with the
// one before it), and only those PageItems. Used to assemble one document from pages
// converted separately (VLM pages, text-layer pages).
void append_document(Document& dst, const Document& src, int page_offset = 0,
                     const std::vector<int>* pages = nullptr);

}  // namespace docling
