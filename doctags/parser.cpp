// Streaming DocTags parser.
//
// Two layers. The lexer cuts the byte stream into complete tags ("<name>", "</name>",
// name chars [A-Za-z0-9_#+|-], at most 64) and text runs (everything between tags); a '<'
// that does not start such a tag is text. Runs are delivered whole at the next tag, so
// any chunking gives the same token sequence. The builder keeps a stack of open elements
// and adds an item to the document when its element closes.
//
// Repairs (docling-core's regex reader does worse on each; §7 of the reference notes):
// - a block tag that cannot nest where it appears closes the open element(s) first (the
//   text so far is kept); a close tag closes everything above its matching open tag;
//   whatever is open at finish() is closed the same way and the page is flagged truncated;
// - nested lists nest for real (a list inside a list item is that item's child group; a
//   <list_item> holding only a list attaches it to the previous item, as docling-core's
//   writer emits it); a <list_item> outside a list gets an implicit list;
// - stray text inside <doctag> becomes a text item (outside it, e.g. "Assistant: ", it is
//   dropped); unknown tags are dropped (tags not starting with a letter stay literal text,
//   so "<_Python_>" and "x<3>y" survive as docling-core keeps them);
// - OTSL: cells take only text that follows them directly (no "<fcel>" texts), spans stop
//   at short rows (no IndexError), ragged rows are padded by the grid and reported;
// - pictures without four locations are kept without provenance; captions are linked to
//   their picture even without a location; paragraph/reference/handwritten_text become
//   items with those labels; key-value cell provenance uses the real page number;
// - an element identical to the previous one (tag, text, locations), or the same tag and
//   text more than max_repeats times in a row, is dropped and the page flagged as looping.
#include "doctags/parser.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/utf8.h"
#include "doctags/docling_json.h"
#include "doctags/vocabulary.h"

namespace docling {

using doctags::Tag;
using doctags::TagInfo;

namespace {

bool is_blank(std::string_view s) { return python_strip(s).empty(); }

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '#' || c == '+' || c == '-' || c == '|';
}

bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

constexpr size_t kMaxTagLength = 64;
constexpr double kLocGrid = 500.0;

}  // namespace

std::string_view python_strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    uint32_t cp;
    size_t n = utf8_decode_strict(s, b, &cp);
    if (n == 0 || !py_isspace(cp)) break;
    b += n;
  }
  while (e > b) {
    size_t k = std::max(b, utf8_prev(s, e));
    uint32_t cp;
    size_t n = utf8_decode_strict(s, k, &cp);
    if (n == 0 || k + n != e || !py_isspace(cp)) break;
    e = k;
  }
  return s.substr(b, e - b);
}

const char* to_string(WarningKind k) {
  switch (k) {
    case WarningKind::Unclosed: return "unclosed";
    case WarningKind::StrayClose: return "stray-close";
    case WarningKind::StrayText: return "stray-text";
    case WarningKind::UnknownTag: return "unknown-tag";
    case WarningKind::Misplaced: return "misplaced";
    case WarningKind::RaggedTable: return "ragged-table";
    case WarningKind::NoLocation: return "no-location";
    case WarningKind::Repeated: return "repeated";
    case WarningKind::Truncated: return "truncated";
    case WarningKind::Suppressed: return "suppressed";
    case WarningKind::BadLocation: return "bad-location";
  }
  return "?";
}

// --- builder state ---------------------------------------------------------------------------

namespace {

enum class FrameKind : uint8_t {
  Leaf, ListItem, List, Inline, Table, Picture, KvRegion, KvCell, Caption, Smiles, Ignore
};

struct Locs {
  int v[4] = {0, 0, 0, 0};
  int n = 0;  // how many were seen (only the first four are kept)
  void add(int x) {
    if (n < 4) v[n] = x;
    ++n;
  }
  bool full() const { return n >= 4; }
};

struct CaptionData {
  std::string text;
  Locs locs;
};

struct OtslToken {
  Tag kind;
  std::string text;
};

struct KvCellData {
  bool key = true;
  int id = 0;
  std::string text;
  Locs locs;
  std::vector<int> links;
};

struct Frame {
  FrameKind kind = FrameKind::Leaf;
  Tag tag = Tag::Unknown;
  int value = 0;              // section level, key/value id
  size_t at = 0;              // byte offset of the open tag
  std::string name;           // what the close tag must say ("" = implicit, never closed by a tag)
  Locs locs;
  std::string text;
  Ref ref;                    // List/Inline: the group; ListItem: its item once created
  bool wrapper = false;       // ListItem whose nested list hangs on the previous item
  bool implicit = false;      // opened by the parser, closes without a warning
  Ref last_item;              // List: last item added
  int count = 0;              // List: items added (ordered list markers)
  std::vector<OtslToken> otsl;  // Table/Chart cells
  bool capture = false;         // Table/Chart: the last cell token still takes text
  int klass = -1;               // Picture: class index
  std::string smiles;
  std::vector<CaptionData> captions;
  std::vector<KvCellData> cells;
  std::vector<int> links;       // KvCell
};

bool content_cell(Tag t) {
  return t == Tag::Fcel || t == Tag::Ecel || t == Tag::Ched || t == Tag::Rhed || t == Tag::Srow;
}

Tag legacy_cell(Tag t) {
  switch (t) {
    case Tag::ColumnHeader: return Tag::Ched;
    case Tag::RowHeader: return Tag::Rhed;
    case Tag::Shed: return Tag::Srow;
    case Tag::Data: return Tag::Fcel;
    default: return t;
  }
}

bool is_otsl(Tag t) {
  switch (t) {
    case Tag::Fcel: case Tag::Ecel: case Tag::Lcel: case Tag::Ucel: case Tag::Xcel: case Tag::Nl:
    case Tag::Ched: case Tag::Rhed: case Tag::Srow: case Tag::ColumnHeader: case Tag::RowHeader:
    case Tag::Shed: case Tag::Data:
      return true;
    default:
      return false;
  }
}

TableData build_otsl(const std::vector<OtslToken>& toks, bool header_flags, int* ragged) {
  std::vector<std::vector<const OtslToken*>> rows(1);
  for (const OtslToken& t : toks) {
    if (t.kind == Tag::Nl) {
      if (!rows.back().empty()) rows.emplace_back();
    } else {
      rows.back().push_back(&t);
    }
  }
  if (rows.back().empty()) rows.pop_back();
  TableData td;
  td.num_rows = int(rows.size());
  for (const auto& r : rows) td.num_cols = std::max(td.num_cols, int(r.size()));
  *ragged = 0;
  for (const auto& r : rows) *ragged += int(r.size()) != td.num_cols;
  auto span_h = [](Tag k) { return k == Tag::Lcel || k == Tag::Xcel; };
  auto span_v = [](Tag k) { return k == Tag::Ucel || k == Tag::Xcel; };
  for (int r = 0; r < td.num_rows; ++r) {
    const auto& row = rows[r];
    for (int c = 0; c < int(row.size()); ++c) {
      const OtslToken& t = *row[c];
      if (!content_cell(t.kind)) continue;
      int cs = 1, rs = 1;
      while (c + cs < int(row.size()) && span_h(row[c + cs]->kind)) ++cs;
      while (r + rs < td.num_rows && c < int(rows[r + rs].size()) && span_v(rows[r + rs][c]->kind))
        ++rs;
      TableCell cell;
      cell.row_span = rs, cell.col_span = cs;
      cell.start_row = r, cell.end_row = r + rs;
      cell.start_col = c, cell.end_col = c + cs;
      cell.text = utf8_valid_copy(python_strip(t.text));
      if (header_flags) {
        cell.column_header = t.kind == Tag::Ched;
        cell.row_header = t.kind == Tag::Rhed;
        cell.row_section = t.kind == Tag::Srow;
      }
      td.cells.push_back(std::move(cell));
    }
  }
  return td;
}

}  // namespace

struct DocTagsParser::Impl {
  Document& doc;
  DocTagsParseOptions opt;
  std::vector<ParseWarning> warnings;
  std::vector<PageStatus> pages;

  // page
  bool page_open = false;
  int page_no = 0;
  const Image* image = nullptr;
  double pw = 1, ph = 1;  // page size in points
  double iw = 1, ih = 1;  // page image size in pixels
  size_t page_warnings = 0;
  size_t items_at_begin = 0;

  // lexer
  std::string pending;  // a tag being read, starting with '<'
  size_t pending_at = 0;
  std::string run;      // text since the last tag
  size_t run_at = 0;
  size_t pos = 0;       // bytes of this page consumed

  // builder
  bool in_doc = false, after_end = false, seen_element = false;
  std::string stray;
  size_t stray_at = 0;
  std::vector<Frame> stack;
  std::string last_sig, last_key;
  int repeat_run = 0;
  bool loop_warned = false;

  Impl(Document& d, DocTagsParseOptions o) : doc(d), opt(o) {}

  PageStatus& status() { return pages.back(); }

  size_t item_count() const {
    return doc.texts.size() + doc.tables.size() + doc.pictures.size() + doc.groups.size() +
           doc.key_value_items.size();
  }

  void warn(WarningKind kind, size_t at, std::string msg) {
    if (page_warnings > opt.max_warnings_per_page) return;
    if (page_warnings++ == opt.max_warnings_per_page) {
      kind = WarningKind::Suppressed;
      msg = "too many warnings on this page; further ones are not recorded";
    }
    warnings.push_back({page_no, at, kind, std::move(msg)});
  }

  // --- pages ---

  // 72 for a page image at the page's size in points (docling's scale 1.0).
  int image_dpi() const { return iw == pw ? 72 : int(std::lround(72.0 * iw / pw)); }

  int begin_page(const Image* img, Size size) {
    if (page_open) finish();
    page_no = doc.pages.empty() ? 1 : doc.pages.back().page_no + 1;
    image = img && !img->empty() ? img : nullptr;
    iw = image ? image->width : 1;
    ih = image ? image->height : 1;
    const bool sized = size.width > 0 && size.height > 0;
    pw = sized ? size.width : iw;
    ph = sized ? size.height : ih;
    PageItem& p = doc.add_page(page_no, {pw, ph});
    if (image && opt.embed_page_images) p.image = png_image_ref(*image, image_dpi());
    page_open = true;
    page_warnings = 0;
    pending.clear();
    run.clear();
    pos = 0;
    in_doc = after_end = seen_element = false;
    stray.clear();
    stack.clear();
    last_sig.clear();
    last_key.clear();
    repeat_run = 0;
    loop_warned = false;
    items_at_begin = item_count();
    PageStatus st;
    st.page_no = page_no;
    pages.push_back(st);
    return page_no;
  }

  void finish() {
    if (!page_open) return;
    if (pending.size() > 1) {
      warn(WarningKind::Truncated, pending_at,
           "page ends inside a tag '" + utf8_valid_copy(pending) + "'");
      status().truncated = true;
    } else if (!pending.empty()) {
      if (run.empty()) run_at = pending_at;
      run += pending;
    }
    pending.clear();
    flush_run();
    if (!stack.empty()) {
      status().truncated = true;
      while (!stack.empty()) {
        const Frame& f = stack.back();
        if (!f.implicit)
          warn(WarningKind::Truncated, f.at, "<" + f.name + "> still open at the end of the page");
        close_top();
      }
    } else if (!after_end) {
      flush_stray();
    }
    if (in_doc && !status().ended && !status().truncated) {
      status().truncated = true;
      warn(WarningKind::Truncated, pos, "no </doctag> at the end of the page");
    }
    status().bytes = pos;
    status().items = int(item_count() - items_at_begin);
    page_open = false;
  }

  // --- lexer ---

  void feed(std::string_view s) {
    if (!page_open) begin_page(nullptr, {});
    for (char c : s) {
      if (!page_open) begin_page(nullptr, {});  // a <page_break> split ended the last page
      step(c);
      ++pos;
    }
  }

  void step(char c) {
    if (!pending.empty()) {
      if (c == '>' && pending.size() > 1 && !(pending.size() == 2 && pending[1] == '/')) {
        pending += c;
        flush_run();
        std::string tag;
        tag.swap(pending);
        on_tag(std::string_view(tag).substr(1, tag.size() - 2), pending_at);
        return;
      }
      bool ok = pending.size() < kMaxTagLength &&
                (name_char(c) || (c == '/' && pending.size() == 1));
      if (ok) {
        pending += c;
        return;
      }
      // Not a tag: the '<' and what followed are text; c starts over.
      if (run.empty()) run_at = pending_at;
      run += pending;
      pending.clear();
    }
    if (c == '<') {
      pending = "<";
      pending_at = pos;
      return;
    }
    if (run.empty()) run_at = pos;
    run += c;
  }

  void flush_run() {
    if (run.empty()) return;
    std::string r;
    r.swap(run);
    on_text(r, run_at);
  }

  // --- tokens ---

  void on_text(const std::string& r, size_t at) {
    if (stack.empty()) {
      if (after_end) return;
      if (stray.empty()) stray_at = at;
      stray += r;
      return;
    }
    Frame& f = stack.back();
    switch (f.kind) {
      case FrameKind::Leaf: case FrameKind::ListItem: case FrameKind::Caption:
      case FrameKind::Smiles: case FrameKind::KvCell:
        f.text += r;
        return;
      case FrameKind::Table: case FrameKind::Picture:
        if (f.capture && !is_blank(r)) {
          f.otsl.back().text = r;
          f.capture = false;
        }
        return;
      case FrameKind::List:
        if (!is_blank(r)) {
          warn(WarningKind::StrayText, at, "text directly inside a list kept as a list item");
          add_list_item(f, std::string(python_strip(r)), Locs{});
        }
        return;
      case FrameKind::Inline:
        if (!is_blank(r)) add_text_item(Tag::Text, 1, std::string(python_strip(r)), Locs{}, at);
        return;
      case FrameKind::KvRegion: case FrameKind::Ignore:
        return;
    }
  }

  void on_tag(std::string_view inner, size_t at) {
    TagInfo t = doctags::classify_tag(inner);
    std::string_view name = t.closing ? inner.substr(1) : inner;
    if (t.tag == Tag::Loc && !t.closing) {
      add_loc(t.value, at);
      return;
    }
    if (stack.empty()) {
      if (t.tag == Tag::Doctag && !t.closing) {
        drop_prefix();
        in_doc = true;
        after_end = false;
        return;
      }
      if (after_end) return;
      flush_stray();
    }
    if (t.closing) {
      on_close(t, name, at);
      return;
    }
    Frame* top = stack.empty() ? nullptr : &stack.back();
    FrameKind tk = top ? top->kind : FrameKind::Ignore;
    bool in_chart = top && (tk == FrameKind::Table || (tk == FrameKind::Picture && top->tag == Tag::Chart));
    if (in_chart) top->capture = false;  // a cell takes only the text right after it
    switch (t.tag) {
      case Tag::Doctag:
        close_all(at, "<doctag>");
        in_doc = true;
        return;
      case Tag::PageBreak:
        if (opt.page_break_splits) {
          close_all(at, "<page_break>");
          status().ended = true;
          finish();
        } else {
          warn(WarningKind::Misplaced, at, "<page_break> inside one page ignored");
        }
        return;
      case Tag::EndOfUtterance: case Tag::EndOfText:
        return;
      case Tag::Chart: case Tag::Table:
        // Class names that are also element names.
        if (top && tk == FrameKind::Picture) {
          if (top->klass < 0) top->klass = *doctags::picture_class_index(name);
          return;
        }
        break;
      case Tag::PictureClass:
        if (top && tk == FrameKind::Picture) {
          if (top->klass < 0) top->klass = t.value;
        } else {
          literal_or_drop(inner, at);
        }
        return;
      case Tag::CodeLanguage:
        literal_or_drop(inner, at);
        return;
      case Tag::Key: case Tag::Value:
        if (top && tk == FrameKind::KvRegion) {
          Frame f;
          f.kind = FrameKind::KvCell;
          f.tag = t.tag;
          f.value = t.value;
          f.at = at;
          f.name = std::string(name);
          stack.push_back(std::move(f));
        } else {
          warn(WarningKind::Misplaced, at, "<" + std::string(name) + "> outside a key_value_region");
        }
        return;
      case Tag::Link:
        if (top && tk == FrameKind::KvCell) top->links.push_back(t.value);
        return;
      default:
        break;
    }
    if (is_otsl(t.tag)) {
      if (in_chart) {
        Tag k = legacy_cell(t.tag);
        top->otsl.push_back({k, {}});
        top->capture = content_cell(k) && k != Tag::Ecel;
      } else if (!(top && text_frame(tk))) {
        warn(WarningKind::Misplaced, at, "<" + std::string(name) + "> outside a table");
      }
      return;
    }
    if (t.tag == Tag::Form || t.tag == Tag::Table || !doctags::is_block(t.tag)) {
      literal_or_drop(inner, at);
      return;
    }
    open_block(t, name, at);
  }

  static bool text_frame(FrameKind k) {
    return k == FrameKind::Leaf || k == FrameKind::ListItem || k == FrameKind::Caption ||
           k == FrameKind::Smiles || k == FrameKind::KvCell;
  }

  // Inside text, docling-core deletes tags that start with a letter or '/', and keeps the
  // others ("<_Python_>", "<3>") as text.
  void literal_or_drop(std::string_view inner, size_t at) {
    if (!stack.empty() && text_frame(stack.back().kind)) {
      if (!inner.empty() && !letter(inner[0]) && inner[0] != '/') {
        Frame& f = stack.back();
        f.text += '<';
        f.text += inner;
        f.text += '>';
      }
      return;
    }
    warn(WarningKind::UnknownTag, at, "tag <" + utf8_valid_copy(inner) + "> ignored");
  }

  void add_loc(int v, size_t at) {
    if (stack.empty()) return;
    Frame& f = stack.back();
    if (f.kind == FrameKind::KvRegion && !f.cells.empty()) return;  // region box comes first
    if (v > int(kLocGrid)) {  // a box far past the page would poison crops and exports
      warn(WarningKind::BadLocation, at, "<loc_" + std::to_string(v) + "> is past the 0..500 grid; clamped to 500");
      v = int(kLocGrid);
    }
    f.locs.add(v);
  }

  void drop_prefix() {
    std::string_view s = python_strip(stray);
    if (!s.empty() && s != "Assistant:")
      warn(WarningKind::StrayText, stray_at, "text before <doctag> ignored");
    stray.clear();
  }

  void flush_stray() {
    if (stray.empty()) return;
    std::string text(python_strip(stray));
    stray.clear();
    if (text.empty()) return;
    if (!seen_element && text == "Assistant:") return;  // chat-template junk
    warn(WarningKind::StrayText, stray_at, "text outside any element kept as a text item");
    add_text_item(Tag::Text, 1, text, Locs{}, stray_at);
  }

  // --- opening ---

  static bool allowed(const Frame& parent, Tag t) {
    switch (parent.kind) {
      case FrameKind::Leaf:
        // docling-core writes a code item's captions inside <code>, and an item made of
        // inline runs as <title><inline>…</inline></title>.
        return (parent.tag == Tag::Code && t == Tag::Caption) || t == Tag::Inline;
      case FrameKind::ListItem:
        return t == Tag::OrderedList || t == Tag::UnorderedList || t == Tag::Inline;
      case FrameKind::List:
        return t == Tag::ListItem || t == Tag::OrderedList || t == Tag::UnorderedList;
      case FrameKind::Inline:
        return doctags::is_text_element(t) && t != Tag::ListItem && t != Tag::Smiles;
      case FrameKind::Table: case FrameKind::KvRegion:
        return t == Tag::Caption;
      case FrameKind::Picture:
        return t == Tag::Caption || t == Tag::Smiles;
      default:
        return false;
    }
  }

  void open_block(const TagInfo& t, std::string_view name, size_t at) {
    while (!stack.empty() && !allowed(stack.back(), t.tag)) {
      if (!stack.back().implicit)
        warn(WarningKind::Unclosed, stack.back().at,
             "<" + stack.back().name + "> not closed before <" + std::string(name) + ">");
      close_top();
    }
    Frame f;
    f.tag = t.tag;
    f.value = t.value;
    f.at = at;
    f.name = std::string(name);
    FrameKind parent = stack.empty() ? FrameKind::Ignore : stack.back().kind;
    bool floating = parent == FrameKind::Table || parent == FrameKind::Picture ||
                    parent == FrameKind::KvRegion || parent == FrameKind::Leaf;
    switch (t.tag) {
      case Tag::OrderedList: case Tag::UnorderedList:
        f.kind = FrameKind::List;
        f.ref = doc.add_group(GroupLabel::List, "list", list_parent());
        break;
      case Tag::Inline:
        f.kind = FrameKind::Inline;
        f.ref = doc.add_group(GroupLabel::Inline, "group",
                              parent == FrameKind::Leaf ? materialize_leaf() : container());
        break;
      case Tag::Otsl: f.kind = FrameKind::Table; break;
      case Tag::Picture: case Tag::Chart: f.kind = FrameKind::Picture; break;
      case Tag::KeyValueRegion: f.kind = FrameKind::KvRegion; break;
      case Tag::ListItem:
        f.kind = FrameKind::ListItem;
        if (stack.empty()) {
          warn(WarningKind::Misplaced, at, "<list_item> outside a list: implicit list");
          Frame list;
          list.kind = FrameKind::List;
          list.tag = Tag::UnorderedList;
          list.at = at;
          list.implicit = true;
          list.ref = doc.add_group(GroupLabel::List, "list", Ref::body());
          stack.push_back(std::move(list));
        }
        break;
      case Tag::Caption:
        f.kind = floating ? FrameKind::Caption : FrameKind::Leaf;
        break;
      case Tag::Smiles:
        f.kind = parent == FrameKind::Picture ? FrameKind::Smiles : FrameKind::Ignore;
        if (f.kind == FrameKind::Ignore) warn(WarningKind::Misplaced, at, "<smiles> outside a picture ignored");
        break;
      default: f.kind = FrameKind::Leaf; break;
    }
    stack.push_back(std::move(f));
  }

  // Where a new item goes: the innermost list, inline group or list item, else the body.
  Ref container() {
    for (size_t i = stack.size(); i-- > 0;) {
      Frame& f = stack[i];
      if (f.kind == FrameKind::List || f.kind == FrameKind::Inline) return f.ref;
      if (f.kind == FrameKind::ListItem) return materialize(i);
    }
    return Ref::body();
  }

  // Parent of a new list group. docling-core writes a nested list as its own
  // <list_item><ordered_list>…</ordered_list></list_item> after the item that owns it.
  Ref list_parent() {
    if (stack.empty()) return Ref::body();
    size_t i = stack.size() - 1;
    Frame& f = stack[i];
    if (f.kind == FrameKind::List) return f.last_item.valid() ? f.last_item : f.ref;
    if (f.kind == FrameKind::ListItem && !f.ref.valid() && is_blank(f.text) && i > 0 &&
        stack[i - 1].kind == FrameKind::List && stack[i - 1].last_item.valid()) {
      f.ref = stack[i - 1].last_item;
      f.wrapper = true;
      return f.ref;
    }
    return container();
  }

  // Creates the item of an open <list_item> (needed before its nested group can exist).
  Ref materialize(size_t i) {
    Frame& f = stack[i];
    if (f.ref.valid()) return f.ref;
    if (i == 0 || stack[i - 1].kind != FrameKind::List) return Ref::body();
    f.ref = add_list_item(stack[i - 1], std::string(python_strip(f.text)), f.locs);
    return f.ref;
  }

  // Creates the item of an open text element that holds an inline group.
  Ref materialize_leaf() {
    Frame& f = stack.back();
    if (!f.ref.valid()) f.ref = add_text_item(f.tag, f.value, clean_text(f.text, f.tag), f.locs, f.at);
    return f.ref.valid() ? f.ref : container();
  }

  // An item created early (for a nested group) whose own text grew afterwards.
  void update_text(Ref r, const std::string& raw) {
    TextItem& it = doc.text(r);
    std::string t = clean_text(raw, Tag::Text);
    if (t == it.text) return;
    it.text = it.orig = t;
    for (ProvenanceItem& p : it.prov) p.charspan[1] = int(utf8_length_strict(t));
  }

  // --- closing ---

  void on_close(const TagInfo& t, std::string_view name, size_t at) {
    if (t.tag == Tag::Doctag) {
      close_all(at, "</doctag>");
      after_end = true;
      if (page_open) status().ended = true;
      return;
    }
    size_t i = stack.size();
    while (i-- > 0)
      if (stack[i].name == name) break;
    if (i == size_t(-1)) {
      bool known = t.tag != Tag::Unknown;
      if (!(stack.size() && text_frame(stack.back().kind) && !known))
        warn(WarningKind::StrayClose, at, "</" + utf8_valid_copy(name) + "> without an open element");
      return;
    }
    while (stack.size() > i + 1) {
      if (!stack.back().implicit)
        warn(WarningKind::Unclosed, stack.back().at,
             "<" + stack.back().name + "> not closed before </" + std::string(name) + ">");
      close_top();
    }
    close_top();
  }

  void close_all(size_t at, const char* why) {
    while (!stack.empty()) {
      if (!stack.back().implicit)
        warn(WarningKind::Unclosed, stack.back().at,
             "<" + stack.back().name + "> not closed before " + why);
      close_top();
    }
    (void)at;
  }

  void close_top() {
    Frame f = std::move(stack.back());
    stack.pop_back();
    switch (f.kind) {
      case FrameKind::Leaf:
        if (f.ref.valid()) update_text(f.ref, f.text);
        else add_text_item(f.tag, f.value, clean_text(f.text, f.tag), f.locs, f.at, &f.captions);
        break;
      case FrameKind::ListItem: close_list_item(f); break;
      case FrameKind::Table: close_table(f); break;
      case FrameKind::Picture: close_picture(f); break;
      case FrameKind::KvRegion: close_kv(f); break;
      case FrameKind::KvCell:
        if (!stack.empty() && stack.back().kind == FrameKind::KvRegion) {
          KvCellData c;
          c.key = f.tag == Tag::Key;
          c.id = f.value;
          c.text = utf8_valid_copy(python_strip(f.text));
          c.locs = f.locs;
          c.links = std::move(f.links);
          stack.back().cells.push_back(std::move(c));
        }
        break;
      case FrameKind::Caption:
        if (!stack.empty())
          stack.back().captions.push_back({utf8_valid_copy(python_strip(f.text)), f.locs});
        break;
      case FrameKind::Smiles:
        if (!stack.empty()) stack.back().smiles = utf8_valid_copy(python_strip(f.text));
        break;
      case FrameKind::List: case FrameKind::Inline: case FrameKind::Ignore:
        break;
    }
  }

  static std::string clean_text(const std::string& raw, Tag) { return utf8_valid_copy(python_strip(raw)); }

  // --- items ---

  ProvenanceItem prov(const Locs& l, size_t charspan_end) const {
    ProvenanceItem p;
    p.page_no = page_no;
    p.bbox.l = (l.v[0] / kLocGrid) * pw;
    p.bbox.t = (l.v[1] / kLocGrid) * ph;
    p.bbox.r = (l.v[2] / kLocGrid) * pw;
    p.bbox.b = (l.v[3] / kLocGrid) * ph;
    p.charspan[0] = 0;
    p.charspan[1] = int(charspan_end);
    return p;
  }

  // Loop guard: false (and a warning) for an exact repeat of the previous element or for
  // the same tag and text more than max_repeats times in a row.
  bool accept(std::string_view tag, std::string_view text, const Locs& l, size_t at) {
    std::string key(tag);
    key += '\x1f';
    key += text;
    std::string sig = key;
    for (int k = 0; k < std::min(l.n, 4); ++k) sig += "\x1f" + std::to_string(l.v[k]);
    if (l.full() && sig == last_sig) {  // same place too: a loop, not a legit repeat
      status().loop = true;
      warn(WarningKind::Repeated, at, "exact repeat of the previous <" + std::string(tag) + "> dropped");
      return false;
    }
    repeat_run = key == last_key ? repeat_run + 1 : 1;
    if (!text.empty() && repeat_run > opt.max_repeats) {
      status().loop = true;
      if (!loop_warned)
        warn(WarningKind::Repeated, at, "<" + std::string(tag) + "> repeated more than " +
                                            std::to_string(opt.max_repeats) + " times: loop dropped");
      loop_warned = true;
      return false;
    }
    if (repeat_run == 1) loop_warned = false;
    last_sig = std::move(sig);
    last_key = std::move(key);
    seen_element = true;
    return true;
  }

  Ref add_text_item(Tag tag, int level, std::string text, const Locs& own, size_t at,
                    const std::vector<CaptionData>* captions = nullptr) {
    if (tag == Tag::Smiles) return {};
    std::optional<Label> label = doctags::label_for(tag);
    if (!label) label = Label::Text;
    text = utf8_valid_copy(text);
    std::string tname = doctags::tag_name(tag, level);
    if (!accept(tname, text, own, at)) return {};
    std::vector<Ref> caps;
    if (captions) caps = add_captions(*captions);
    std::optional<std::string> lang;
    if (tag == Tag::Code) {
      lang = "unknown";
      // A leading <_Name_> is the language; the rest is kept as is (not re-trimmed).
      if (text.size() > 3 && text[0] == '<' && text[1] == '_') {
        size_t end = text.find("_>", 2);
        if (end != std::string::npos && end > 2) {
          std::string_view n = std::string_view(text).substr(2, end - 2);
          if (doctags::code_language_index(n)) lang = std::string(n);
          text.erase(0, end + 2);
        }
      }
    }
    // Children of an inline group share the group's box.
    const Locs* box = &own;
    if (!stack.empty() && stack.back().kind == FrameKind::Inline && stack.back().locs.full())
      box = &stack.back().locs;
    std::optional<ProvenanceItem> p;
    if (box->full()) p = prov(*box, utf8_length_strict(text));
    ContentLayer layer = tag == Tag::PageHeader || tag == Tag::PageFooter ? ContentLayer::Furniture
                                                                          : ContentLayer::Body;
    Ref r = doc.add_text(*label, text, container(), p, layer);
    TextItem& it = doc.text(r);
    if (tag == Tag::SectionHeader) it.level = level;
    if (lang) it.code_language = lang;
    it.captions = std::move(caps);
    return r;
  }

  Ref add_list_item(Frame& list, std::string text, const Locs& l) {
    std::optional<ProvenanceItem> p;
    if (image && l.full()) p = prov(l, utf8_length_strict(text));  // quirk kept: prov only with an image
    Ref r = doc.add_text(Label::ListItem, utf8_valid_copy(text), list.ref, p);
    TextItem& it = doc.text(r);
    it.enumerated = list.tag == Tag::OrderedList;
    ++list.count;
    it.marker = it.enumerated ? std::to_string(list.count) + "." : "";
    list.last_item = r;
    seen_element = true;
    return r;
  }

  void close_list_item(Frame& f) {
    if (stack.empty() || stack.back().kind != FrameKind::List) return;
    Frame& list = stack.back();
    std::string text(python_strip(f.text));
    if (f.wrapper) {
      if (!text.empty()) add_list_item(list, text, f.locs);
      return;
    }
    if (f.ref.valid()) {  // created early for a nested group
      update_text(f.ref, f.text);
      return;
    }
    if (!accept("list_item", text, f.locs, f.at)) return;
    add_list_item(list, text, f.locs);
  }

  std::vector<Ref> add_captions(const std::vector<CaptionData>& caps) {
    std::vector<Ref> refs;
    for (const CaptionData& c : caps) {
      std::optional<ProvenanceItem> p;
      if (c.locs.full()) p = prov(c.locs, utf8_length_strict(c.text));
      refs.push_back(doc.add_text(Label::Caption, c.text, container(), p));
    }
    return refs;
  }

  static std::string otsl_signature(const std::vector<OtslToken>& toks) {
    std::string s;
    for (const OtslToken& t : toks) {
      s += doctags::otsl_token(t.kind);
      s += t.text;
    }
    return s;
  }

  TableData table_data(const Frame& f) {
    int ragged = 0;
    TableData td = build_otsl(f.otsl, opt.header_flags, &ragged);
    if (ragged)
      warn(WarningKind::RaggedTable, f.at,
           std::to_string(ragged) + " OTSL row(s) shorter than the widest (" +
               std::to_string(td.num_cols) + " columns): padded");
    return td;
  }

  void close_table(Frame& f) {
    std::string sig = otsl_signature(f.otsl);
    for (const CaptionData& c : f.captions) sig += "\x1f" + c.text;
    if (!accept("otsl", sig, f.locs, f.at)) return;
    std::vector<Ref> caps = add_captions(f.captions);
    TableData td = table_data(f);
    std::optional<ProvenanceItem> p;
    if (f.locs.full()) p = prov(f.locs, 0);
    Ref r = doc.add_table(std::move(td), container(), p);
    doc.table(r).captions = std::move(caps);
  }

  void close_picture(Frame& f) {
    std::string cls = f.klass >= 0 ? doctags::picture_class_name(f.klass) : "";
    std::string sig = cls + otsl_signature(f.otsl);
    for (const CaptionData& c : f.captions) sig += "\x1f" + c.text;
    if (!accept(f.name, sig, f.locs, f.at)) return;
    std::vector<Ref> caps = add_captions(f.captions);
    std::optional<ProvenanceItem> p;
    if (f.locs.full()) p = prov(f.locs, 0);
    else warn(WarningKind::NoLocation, f.at, "<" + f.name + "> without a location kept without provenance");
    Ref r = doc.add_picture(container(), p);
    PictureItem& pic = doc.picture(r);
    pic.captions = std::move(caps);

    Json classification, tabular;
    if (f.klass >= 0) {
      classification = Json::object();
      Json pred = Json::object();
      pred["confidence"] = 1.0;
      pred["created_by"] = "load_from_doctags";
      pred["class_name"] = cls;
      classification["predictions"] = Json::array({pred});
    }
    if (f.tag == Tag::Chart) {
      tabular = Json::object();
      tabular["title"] = f.klass >= 0 ? cls : "other";
      tabular["chart_data"] = table_data_to_json(table_data(f));
    }
    Json meta = Json::object();
    if (!classification.is_null()) meta["classification"] = classification;
    if (!f.smiles.empty()) meta["molecule"] = Json{{"smi", f.smiles}};
    if (!tabular.is_null()) meta["tabular_chart"] = tabular;
    if (!meta.empty()) pic.meta = meta;

    pic.annotations = Json::array();
    if (image) {
      if (p && opt.picture_images) {
        // docling-core: PIL crop of (int(l*W), int(t*H), int(r*W), int(b*H)).
        auto px = [](int loc, double size) { return int(std::trunc((loc / kLocGrid) * size)); };
        int x0 = px(f.locs.v[0], iw), y0 = px(f.locs.v[1], ih);
        int x1 = px(f.locs.v[2], iw), y1 = px(f.locs.v[3], ih);
        Image crop = image->crop(std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1));
        if (!crop.empty()) pic.image = png_image_ref(crop, image_dpi());
      }
    } else {
      // Without a page image docling-core also fills the legacy annotations.
      if (!classification.is_null()) {
        Json a = Json::object();
        a["kind"] = "classification";
        a["provenance"] = "load_from_doctags";
        Json c = Json::object();
        c["class_name"] = cls;
        c["confidence"] = 1.0;
        a["predicted_classes"] = Json::array({c});
        pic.annotations.push_back(a);
      }
      if (!tabular.is_null()) {
        Json a = Json::object();
        a["kind"] = "tabular_chart_data";
        a["title"] = tabular["title"];
        a["chart_data"] = tabular["chart_data"];
        pic.annotations.push_back(a);
      }
    }
  }

  void close_kv(Frame& f) {
    seen_element = true;
    std::vector<Ref> caps = add_captions(f.captions);
    std::optional<ProvenanceItem> p;
    if (image && f.locs.full()) p = prov(f.locs, 0);
    Ref r = doc.add_key_value(container(), p);
    KeyValueItem& kv = doc.key_value_items[r.index];
    kv.captions = std::move(caps);
    for (const KvCellData& c : f.cells) {
      GraphCell g;
      g.label = c.key ? "key" : "value";
      g.cell_id = c.id;
      g.text = g.orig = c.text;
      if (image && c.locs.full()) g.prov = prov(c.locs, 0);
      kv.cells.push_back(std::move(g));
    }
    for (const KvCellData& c : f.cells)
      for (int target : c.links) {
        bool exists = std::any_of(f.cells.begin(), f.cells.end(),
                                  [&](const KvCellData& o) { return o.id == target; });
        if (exists) kv.links.push_back({"to_value", c.id, target});
      }
  }
};

// --- public API ------------------------------------------------------------------------------

DocTagsParser::DocTagsParser(Document& doc, DocTagsParseOptions options)
    : impl_(std::make_unique<Impl>(doc, options)) {}
DocTagsParser::~DocTagsParser() = default;

int DocTagsParser::begin_page(const Image* image, Size page_size) { return impl_->begin_page(image, page_size); }
void DocTagsParser::feed(std::string_view chunk) { impl_->feed(chunk); }
void DocTagsParser::finish() { impl_->finish(); }
bool DocTagsParser::page_open() const { return impl_->page_open; }
bool DocTagsParser::ended() const { return !impl_->pages.empty() && impl_->pages.back().ended; }
bool DocTagsParser::loop_detected() const {
  return !impl_->pages.empty() && impl_->pages.back().loop;
}
const std::vector<ParseWarning>& DocTagsParser::warnings() const { return impl_->warnings; }
const std::vector<PageStatus>& DocTagsParser::pages() const { return impl_->pages; }

namespace {
void report_into(const DocTagsParser& p, DocTagsReport* report) {
  if (!report) return;
  report->warnings.insert(report->warnings.end(), p.warnings().begin(), p.warnings().end());
  report->pages.insert(report->pages.end(), p.pages().begin(), p.pages().end());
}
}  // namespace

void add_doctags_page(Document& doc, std::string_view doctags, const Image* image,
                      const DocTagsParseOptions& options, DocTagsReport* report) {
  DocTagsParseOptions o = options;
  o.page_break_splits = false;
  DocTagsParser p(doc, o);
  p.begin_page(image, {});
  p.feed(doctags);
  p.finish();
  report_into(p, report);
}

Document from_doctags_and_image_pairs(const std::vector<std::string>& pages,
                                      const std::vector<Image>* images, const std::string& name,
                                      const DocTagsParseOptions& options, DocTagsReport* report) {
  if (images && images->size() != pages.size())
    throw std::invalid_argument("DocTags: " + std::to_string(pages.size()) + " page strings but " +
                                std::to_string(images->size()) + " page images");
  Document doc;
  doc.name = name;
  DocTagsParseOptions o = options;
  o.page_break_splits = false;
  DocTagsParser p(doc, o);
  for (size_t i = 0; i < pages.size(); ++i) {
    p.begin_page(images ? &(*images)[i] : nullptr);
    p.feed(pages[i]);
    p.finish();
  }
  report_into(p, report);
  return doc;
}

std::vector<std::string> split_multipage_doctags(std::string_view s) {
  constexpr std::string_view open = "<doctag>", close = "</doctag>", brk = "<page_break>";
  if (s.substr(0, open.size()) == open) s.remove_prefix(open.size());
  if (s.size() >= close.size() && s.substr(s.size() - close.size()) == close)
    s.remove_suffix(close.size());
  std::vector<std::string> parts;
  for (;;) {
    size_t k = s.find(brk);
    parts.emplace_back(python_strip(s.substr(0, k)));
    if (k == std::string_view::npos) break;
    s.remove_prefix(k + brk.size());
  }
  return parts;
}

Document from_multipage_doctags(std::string_view doctags, const std::vector<Image>* images,
                                const std::string& name, const DocTagsParseOptions& options,
                                DocTagsReport* report) {
  return from_doctags_and_image_pairs(split_multipage_doctags(doctags), images, name, options, report);
}

}  // namespace docling
