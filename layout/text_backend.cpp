#include "layout/text_backend.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <array>
#include <map>
#include <optional>

#include "core/utf8.h"
#include "layout/heading_levels.h"
#include "layout/page_ink.h"
#include "layout/pdf.h"
#include "layout/xycut.h"

namespace docling {

namespace {

// --- small text helpers -------------------------------------------------------------

bool ascii_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool ascii_alpha(unsigned char c) { return std::isalpha(c) != 0; }
bool ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

bool is_bullet_cp(unsigned cp) {
  switch (cp) {
    case 0x2022: case 0x25E6: case 0x25AA: case 0x25AB: case 0x25A0: case 0x25A1:
    case 0x25CF: case 0x25CB: case 0x25C6: case 0x25C7: case 0x25BA: case 0x25B6:
    case 0x27A2: case 0x2713: case 0x2714: case 0x2023: case 0x2043: case 0x00B7:
    case 0x2219: case 0x2013: case 0x2014: case '-': case '*': case 0x2794: case 0x2192:
      return true;
    default: return cp >= 0xF000 && cp <= 0xF0FF;  // symbol-font bullets (Wingdings, Symbol)
  }
}

// Checkbox glyphs: 1 an empty box, 2 a box with a check or cross, 3 a check or cross mark
// alone (a checked box on a form page, a bullet elsewhere); 0 none.
int checkbox_glyph(unsigned cp) {
  switch (cp) {
    case 0x2610: case 0x274F: case 0x2750: case 0x2751: case 0x2752: return 1;  // ☐ ❏ ❐ ❑ ❒
    case 0x2611: case 0x2612: case 0x1F5F9: return 2;                          // ☑ ☒
    case 0x2713: case 0x2714: case 0x2717: case 0x2718: return 3;              // ✓ ✔ ✗ ✘
    default: return 0;
  }
}

// Symbol fonts without Unicode (Poppler gives their raw codes): the Wingdings boxes and checks
// as the Unicode glyphs they draw; 0 for anything else.
unsigned wingdings_checkbox(const std::string& font, unsigned cp) {
  bool wd2 = font.find("Wingdings2") != std::string::npos || font.find("Wingdings-2") != std::string::npos ||
             font.find("Wingdings 2") != std::string::npos;
  if (!wd2 && font.find("Wingdings") == std::string::npos) return 0;
  unsigned c = cp & 0xFF;
  if (cp > 0xFF && (cp & 0xFF00) != 0xF000) return 0;
  if (wd2) {
    if (c == 0x2A || c == 0xA3) return 0x2610;
    if (c == 0x52) return 0x2611;
    if (c == 0x53 || c == 0x54) return 0x2612;
    if (c == 0x50) return 0x2713;
    if (c == 0x4F) return 0x2717;
    return 0;
  }
  if (c == 0x6F || c == 0x71 || c == 0x72 || c == 0xA8) return 0x2610;
  if (c == 0xFE) return 0x2611;
  if (c == 0xFD) return 0x2612;
  if (c == 0xFC) return 0x2713;
  if (c == 0xFB) return 0x2717;
  return 0;
}

// A word of one Wingdings box or check becomes that Unicode glyph; true when one changed.
bool normalize_symbol_words(TextPage& pg) {
  bool changed = false;
  for (TextWord& w : pg.words) {
    if (w.text.empty() || w.font_name.find("Wingdings") == std::string::npos) continue;
    size_t i = 0;
    unsigned cp = utf8_next(w.text, i);
    if (i != w.text.size()) continue;
    unsigned u = wingdings_checkbox(w.font_name, cp);
    if (!u) continue;
    w.text.clear();
    utf8_append(w.text, u);
    changed = true;
  }
  return changed;
}

// "1." "12)" "(a)" "a)" "iv." -> length of the marker (0 if none). Requires a space after.
size_t enum_marker_len(const std::string& s) {
  size_t i = 0, n = s.size();
  bool paren = i < n && s[i] == '(';
  if (paren) ++i;
  size_t start = i;
  while (i < n && ascii_digit(s[i]) && i - start < 3) ++i;
  if (i == start) {
    // one lowercase letter, or a short roman numeral
    while (i < n && std::strchr("ivxlc", s[i]) && i - start < 5) ++i;
    if (i == start && i < n && ascii_lower(s[i])) ++i;
    if (i == start) return 0;
  }
  if (i >= n) return 0;
  if (paren) {
    if (s[i] != ')') return 0;
  } else if (s[i] != '.' && s[i] != ')') {
    return 0;
  }
  ++i;
  if (i >= n || s[i] != ' ') return 0;
  return i;
}

struct Marker {
  std::string text;  // "•", "1."
  bool enumerated = false;
  size_t len = 0;  // bytes of the marker in the line text (0: not a list item)
};

Marker list_marker(const std::string& text) {
  Marker m;
  if (text.empty()) return m;
  size_t i = 0;
  unsigned cp = utf8_next(text, i);
  if (is_bullet_cp(cp) && (i >= text.size() || text[i] == ' ')) {
    if ((cp == '-' || cp == '*') && i >= text.size()) return m;
    m.text = text.substr(0, i);
    m.len = i;
    return m;
  }
  size_t k = enum_marker_len(text);
  if (k) {
    m.text = text.substr(0, k);
    m.enumerated = true;
    m.len = k;
  }
  return m;
}

bool is_page_number(const std::string& raw) {
  std::string s = trim(raw);
  std::string low;
  for (char c : s) low += char(std::tolower(static_cast<unsigned char>(c)));
  if (low.rfind("page ", 0) == 0) low = trim(low.substr(5));
  if (low.size() >= 2 && low.front() == '-' && low.back() == '-') low = trim(low.substr(1, low.size() - 2));
  if (low.empty() || low.size() > 12) return false;
  size_t i = 0, digits = 0;
  while (i < low.size() && ascii_digit(low[i])) ++i, ++digits;
  if (digits > 0 && digits <= 4) {
    if (i == low.size()) return true;
    std::string rest = trim(low.substr(i));
    if (rest.rfind("of", 0) == 0) rest = trim(rest.substr(2));
    else if (!rest.empty() && rest[0] == '/') rest = trim(rest.substr(1));
    else return false;
    if (rest.empty() || rest.size() > 4) return false;
    for (char c : rest)
      if (!ascii_digit(c)) return false;
    return true;
  }
  if (digits == 0 && low.size() <= 6) {
    for (char c : low)
      if (!std::strchr("ivxlcdm", c)) return false;
    return true;
  }
  return false;
}

// Key for "same text": lower case, digits folded (page numbers in running heads).
std::string furniture_key(const std::string& s) {
  std::string k;
  for (unsigned char c : s) {
    if (std::isspace(c)) continue;
    k += ascii_digit(c) ? '#' : char(std::tolower(c));
  }
  return k;
}

enum class CaptionKind : uint8_t { None, Table, Figure, Other };

// Length of a caption number at i: "3", "2.1", "4-2", "IV", "A1", "S2" (0 if none).
size_t caption_number_len(const std::string& s, size_t i) {
  size_t j = i;
  if (j < s.size() && std::isupper(static_cast<unsigned char>(s[j])) && j + 1 < s.size() && ascii_digit(s[j + 1])) ++j;
  size_t d = j;
  while (j < s.size() && ascii_digit(s[j])) ++j;
  if (j > d) {
    while (j + 1 < s.size() && (s[j] == '.' || s[j] == '-') && ascii_digit(s[j + 1]))
      for (++j; j < s.size() && ascii_digit(s[j]);) ++j;
    return j - i;
  }
  while (j < s.size() && std::strchr("IVXL", s[j])) ++j;
  return j - i;
}

// A caption starts with its label and number and then punctuation or the end: "Table 1:",
// "Figure 2.", "Fig. 3 - ...", "TABLE IV". A sentence that mentions an object ("Table 1
// lists ...", "Figure 2.3 shows ...") continues with a word instead.
CaptionKind caption_kind(const std::string& s) {
  static const struct { const char* head; CaptionKind kind; } kHeads[] = {
      {"Table", CaptionKind::Table},   {"TABLE", CaptionKind::Table},   {"Figure", CaptionKind::Figure},
      {"FIGURE", CaptionKind::Figure}, {"Fig.", CaptionKind::Figure},   {"FIG.", CaptionKind::Figure},
      {"Fig", CaptionKind::Figure},    {"Chart", CaptionKind::Figure},  {"Listing", CaptionKind::Other},
      {"Algorithm", CaptionKind::Other}};
  for (const auto& h : kHeads) {
    size_t i = std::strlen(h.head);
    if (s.compare(0, i, h.head) != 0) continue;
    if (i < s.size() && s[i] == ' ') ++i;
    else if (h.head[i - 1] != '.') continue;
    size_t n = caption_number_len(s, i);
    if (!n) continue;
    i += n;
    if (i == s.size()) return h.kind;
    if (std::strchr(":.|)", s[i])) return h.kind;
    if (s[i] != ' ' || i + 1 >= s.size()) continue;
    unsigned char next = static_cast<unsigned char>(s[i + 1]);
    if (next == ':' || next == '-' || next == 0xE2 /* en or em dash */) return h.kind;
  }
  return CaptionKind::None;
}

bool is_caption_text(const std::string& s) { return caption_kind(s) != CaptionKind::None; }

bool ends_sentence(const std::string& s) {
  if (s.empty()) return false;
  char c = s.back();
  return c == '.' || c == ':' || c == '!' || c == '?';
}

// Join the next line of a paragraph; a word broken by a hyphen at the line end is
// re-joined when the next line continues in lower case.
void append_line(std::string& text, const std::string& next) {
  if (next.empty()) return;
  if (text.empty()) {
    text = next;
    return;
  }
  size_t n = text.size();
  if (n >= 2 && text[n - 1] == '-' && ascii_alpha(text[n - 2]) && ascii_lower(next[0])) {
    text.pop_back();
    text += next;
    return;
  }
  if (n >= 3 && text.compare(n - 2, 2, "\xC2\xAD") == 0) {  // soft hyphen
    text.resize(n - 2);
    text += next;
    return;
  }
  text += ' ';
  text += next;
}

// --- page model ---------------------------------------------------------------------

struct Box {
  double l = 1e300, t = 1e300, r = -1e300, b = -1e300;
  void add(double L, double T, double R, double B) {
    l = std::min(l, L), t = std::min(t, T), r = std::max(r, R), b = std::max(b, B);
  }
  void add(const Box& o) { add(o.l, o.t, o.r, o.b); }
  double width() const { return r - l; }
};

// A logical line: the segments of one band merged (or one segment).
struct LLine {
  std::string text;
  Box box;
  double fs = 0;
  bool bold = false, mono = false, rtl = false;
};

Box line_box(const TextLine& l) { return {l.l, l.t, l.r, l.b}; }

using Band = std::vector<int>;  // line ids, left to right

// Something read at a place in the flow of the blocks rather than where the XY-cut puts it:
// a side note (after the main-column block it is level with) or a picture (before the first
// block below it that it overlaps horizontally).
struct Deferred {
  Box box;
  std::vector<Band> bands;  // a note's lines
  int picture = -1;         // index into the page's picture boxes
  int table = -1;           // index into the page's ruled tables
};

struct RuledTable;

struct Ctx {
  const TextPage* page = nullptr;
  const TextBackendOptions* opt = nullptr;
  double body_fs = 10;
  double min_col_width = 0;
  std::vector<Deferred>* deferred = nullptr;  // waiting to be placed, sorted by top
  const std::vector<RuledTable>* tables = nullptr;  // the page's tables drawn with rules
  bool form = false;  // the page has checkbox glyphs: a lone check mark is a checked box
};

double line_fs(const TextLine& l) { return l.font_size > 0 ? l.font_size : std::max(1.0, l.b - l.t); }

// Bands: lines sorted by top, grouped while their vertical extents overlap.
std::vector<Band> make_bands(const Ctx& cx, std::vector<int> ids) {
  const auto& L = cx.page->lines;
  std::sort(ids.begin(), ids.end(), [&](int a, int b) { return L[a].t < L[b].t; });
  std::vector<Band> bands;
  double bottom = -1e300;
  for (int id : ids) {
    const TextLine& l = L[id];
    double slack = 0.25 * (l.b - l.t);  // touching boxes of successive lines do not merge
    if (bands.empty() || l.t > bottom - slack) {
      bands.push_back({});
      bottom = l.b;
    } else {
      bottom = std::max(bottom, l.b);
    }
    bands.back().push_back(id);
  }
  for (Band& b : bands)
    std::sort(b.begin(), b.end(), [&](int x, int y) { return L[x].l < L[y].l; });
  return bands;
}

// Merged x coverage of some lines: sorted disjoint intervals.
using Cover = std::vector<std::pair<double, double>>;

void cover_add(Cover& c, double l, double r) {
  c.push_back({l, r});
  std::sort(c.begin(), c.end());
  Cover m;
  for (auto& iv : c) {
    if (!m.empty() && iv.first <= m.back().second) m.back().second = std::max(m.back().second, iv.second);
    else m.push_back(iv);
  }
  c.swap(m);
}

// --- document building --------------------------------------------------------------

struct Builder {
  Document& doc;
  const TextBackendOptions& opt;
  double body_fs = 10;
  Ref list;                                  // open list group, if any
  std::vector<std::pair<Ref, HeadingInfo>> headings;  // for levels and the title
  struct Level {
    Ref group;
    double x = 0;  // left edge of the level's items (their markers)
    Ref last;      // its newest item (the parent of a list nested below it)
    Box box;       // and that item's box
  };
  std::vector<Level> levels;  // open lists, outermost first (valid while `list` is)

  ProvenanceItem prov(int page_no, const Box& b, const std::string& text) const {
    ProvenanceItem p;
    p.page_no = page_no;
    p.bbox = {b.l, b.t, b.r, b.b, CoordOrigin::TopLeft};
    p.charspan[0] = 0;
    p.charspan[1] = int(utf8_length(text));
    return p;
  }

  Ref add_text(Label label, const std::string& text, int page_no, const Box& b,
               ContentLayer layer = ContentLayer::Body) {
    if (label != Label::ListItem) list = Ref{};
    return doc.add_text(label, text, Ref::body(), prov(page_no, b, text), layer);
  }

  // Nesting from indentation: an item set to the right of the previous one (by one to six
  // ems, right below it) opens a list inside that item; an item back to the left closes
  // levels down to the one it lines up with.
  void add_list_item(const std::string& text, const Marker& m, int page_no, const Box& b) {
    if (!list.valid()) levels.clear();
    const double em = body_fs;
    while (!levels.empty() && b.l < levels.back().x - 0.5 * em) levels.pop_back();
    if (!levels.empty() && levels.back().last.valid()) {
      const Level& up = levels.back();
      bool below = b.t >= up.box.t && b.t - up.box.b < 2 * em;
      if (below && b.l > up.x + em && b.l < up.x + 6 * em)
        levels.push_back({doc.add_group(GroupLabel::List, "list", up.last), b.l, {}, {}});
    }
    if (levels.empty()) levels.push_back({doc.add_group(GroupLabel::List, "list", Ref::body()), b.l, {}, {}});
    Level& lv = levels.back();
    Ref r = doc.add_text(Label::ListItem, text, lv.group, prov(page_no, b, text));
    doc.text(r).enumerated = m.enumerated;
    doc.text(r).marker = m.text;
    lv.last = r, lv.box = b;
    list = lv.group;
  }

  // docling nests a caption under its object; a caption is the object's only when it sits
  // right above or below it (within about two lines) and overlaps it horizontally.
  bool adjacent(const BoundingBox& cap, const BoundingBox& obj) const {
    double gap = 2.5 * body_fs;
    bool above = cap.b <= obj.t + 0.5 * body_fs && obj.t - cap.b <= gap;
    bool below = cap.t >= obj.b - 0.5 * body_fs && cap.t - obj.b <= gap;
    return (above || below) && cap.l < obj.r && cap.r > obj.l;
  }

  void attach(Ref caption, Ref obj) {
    auto& kids = doc.body.children;
    kids.erase(std::find(kids.begin(), kids.end(), caption));
    doc.text(caption).parent = obj;
    Node& n = *doc.node(obj);
    n.children.push_back(caption);
    if (obj.kind == RefKind::Table) doc.table(obj).captions.push_back(caption);
    else doc.picture(obj).captions.push_back(caption);
  }

  // Pairs the two newest body items when one is a table or picture and the other its caption
  // (in either order: captions above or below). "Table N" captions go to tables, "Figure N"
  // ones to pictures.
  void pair_caption() {
    auto& kids = doc.body.children;
    if (kids.size() < 2) return;
    Ref a = kids[kids.size() - 2], b = kids.back();
    auto is_obj = [](Ref r) { return r.kind == RefKind::Table || r.kind == RefKind::Picture; };
    Ref cap = a.kind == RefKind::Text ? a : b, obj = is_obj(a) ? a : b;
    if (cap.kind != RefKind::Text || !is_obj(obj)) return;
    const TextItem& c = doc.text(cap);
    bool table = obj.kind == RefKind::Table;
    const DocItem& o = table ? static_cast<const DocItem&>(doc.table(obj)) : doc.picture(obj);
    const std::vector<Ref>& caps = table ? doc.table(obj).captions : doc.picture(obj).captions;
    if (c.label != Label::Caption || !caps.empty() || c.prov.empty() || o.prov.empty()) return;
    CaptionKind k = caption_kind(c.text);
    if ((table && k == CaptionKind::Figure) || (!table && k == CaptionKind::Table)) return;
    if (c.prov[0].page_no != o.prov[0].page_no) return;
    if (adjacent(c.prov[0].bbox, o.prov[0].bbox)) attach(cap, obj);
  }
};

double band_top(const Ctx& cx, const Band& b) {
  double t = 1e300;
  for (int id : b) t = std::min(t, cx.page->lines[size_t(id)].t);
  return t;
}

double band_bottom(const Ctx& cx, const Band& b) {
  double v = -1e300;
  for (int id : b) v = std::max(v, cx.page->lines[size_t(id)].b);
  return v;
}

// How many bands from i on read as a table (0: none). Rows need two or more cells;
// a lone short cell between rows (a wrapped cell) is allowed.
// A row of checkboxes is form fields, not table cells.
bool has_checkbox(const Ctx& cx, const Band& band) {
  if (!cx.form) return false;
  for (int id : band) {
    const std::string& s = cx.page->lines[size_t(id)].text;
    for (size_t i = 0; i < s.size();)
      if (checkbox_glyph(utf8_next(s, i))) return true;
  }
  return false;
}

size_t table_rows(const Ctx& cx, const std::vector<Band>& bands, size_t i) {
  const auto& L = cx.page->lines;
  size_t j = i, multi = 0, wide = 0;
  while (j < bands.size()) {
    if (has_checkbox(cx, bands[j])) break;
    // A row far below the previous one starts something else (another table, a figure).
    if (j > i && band_top(cx, bands[j]) - band_bottom(cx, bands[j - 1]) > 1.5 * cx.body_fs) break;
    if (bands[j].size() >= 2) {
      ++multi;
      wide += bands[j].size() >= 3;
      ++j;
    } else if (j + 1 < bands.size() && bands[j + 1].size() >= 2 && j > i &&
               L[bands[j][0]].r - L[bands[j][0]].l < 0.5 * cx.min_col_width * 2) {
      ++j;  // a lone short cell between table rows
    } else {
      break;
    }
  }
  if (bands[i].size() < 2 || !(multi >= 3 || (multi >= 2 && wide >= 2))) return 0;
  return j - i;
}

// Columns from the rows with the most cells; a line over several columns is a span.
// Puts each word of `l` into the column its centre is nearest to; false (nothing changed)
// when all words land in one column, or out of column order.
bool split_words_into_columns(const TextPage& page, const TextLine& l, const Cover& cols,
                              std::vector<std::string>& text, std::vector<Box>& cbox) {
  if (l.words.size() < 2 || l.rtl) return false;
  std::vector<int> col(l.words.size());
  for (size_t i = 0; i < l.words.size(); ++i) {
    const TextWord& w = page.words[size_t(l.words[i])];
    double cx = 0.5 * (w.l + w.r), best = 1e300;
    for (int c = 0; c < int(cols.size()); ++c) {
      double d = cx < cols[c].first ? cols[c].first - cx : cx > cols[c].second ? cx - cols[c].second : 0;
      if (d < best) best = d, col[i] = c;
    }
    if (i > 0 && col[i] < col[i - 1]) return false;
  }
  if (col.front() == col.back()) return false;
  for (size_t i = 0; i < l.words.size(); ++i) {
    const TextWord& w = page.words[size_t(l.words[i])];
    std::string& t = text[size_t(col[i])];
    if (!t.empty()) t += ' ';
    t += w.text;
    cbox[size_t(col[i])].add(w.l, w.t, w.r, w.b);
  }
  return true;
}

// Column extents of a table: the rows with the most cells.
Cover table_columns(const Ctx& cx, const std::vector<Band>& bands, size_t i, size_t j) {
  const auto& L = cx.page->lines;
  size_t most = 0;
  for (size_t k = i; k < j; ++k) most = std::max(most, bands[k].size());
  Cover cols;
  for (size_t k = i; k < j; ++k)
    if (bands[k].size() == most)
      for (int id : bands[k]) cover_add(cols, L[id].l, L[id].r);
  return cols;
}

// Whether a band directly above a table is its header row: set close above it, inside
// the table's width, and with its words standing over two or more of the table's columns
// (a header set with narrow gaps reads as one line, so it never counted as a table row).
// Prose and captions above a table put words between the columns or are not that close.
bool header_band_fits(const Ctx& cx, const Band& band, const Band& below, const Cover& cols) {
  const auto& L = cx.page->lines;
  const auto& W = cx.page->words;
  double fs = cx.body_fs;
  if (cols.size() < 2 || band_top(cx, below) - band_bottom(cx, band) > 1.0 * fs) return false;
  int prev = -1, hit = 0;
  for (int id : band) {
    if (is_caption_text(L[id].text)) return false;
    for (int w : L[id].words) {
      const TextWord& tw = W[size_t(w)];
      int col = -1;
      for (int c = 0; c < int(cols.size()); ++c)
        if (tw.l < cols[c].second + 0.3 * fs && tw.r > cols[c].first - 0.3 * fs) col = c;
      if (col < 0 || col < prev) return false;
      hit += col != prev;
      prev = col;
    }
  }
  return hit >= 2 && 2 * hit >= int(cols.size());
}

// Header bands (0..2) placed directly above a table that starts at i + k.
size_t header_bands_before(const Ctx& cx, const std::vector<Band>& bands, size_t i, size_t& used) {
  for (size_t k = 1; k <= 2 && i + k < bands.size(); ++k) {
    if (bands[i + k].size() < 2 || !(used = table_rows(cx, bands, i + k))) continue;
    Cover cols = table_columns(cx, bands, i + k, i + k + used);
    for (size_t h = i + k; h-- > i;)
      if (!header_band_fits(cx, bands[h], bands[h + 1], cols)) return used = 0;
    return k;
  }
  return 0;
}

bool numeric_cell(const std::string& s) {
  int digits = 0;
  for (unsigned char c : s) {
    if (ascii_digit(c)) ++digits;
    else if (c < 0x80 && !std::strchr(" ,.%+-()$", c)) return false;  // bytes >= 0x80: currency, minus
  }
  return digits > 0;
}

// How many leading rows are the header: rows placed above the body as a header, else
// leading rows set in bold over a regular body, else a first row of labels over columns
// of numbers. A first row with no such evidence is data.
int header_rows(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& bold,
                int placed) {
  int n = int(rows.size());
  if (placed > 0) return placed;
  int lead = 0;
  while (lead < n && bold[size_t(lead)]) ++lead;
  if (lead > 0 && lead < n && lead <= 3) return lead;
  if (n < 2) return 0;
  for (const std::string& c : rows[0])
    if (numeric_cell(c)) return 0;
  for (size_t c = 0; c < rows[0].size(); ++c) {
    int num = 0;
    for (int r = 1; r < n; ++r) num += c < rows[size_t(r)].size() && numeric_cell(rows[size_t(r)][c]);
    if (2 * num >= n - 1) return 1;
  }
  return 0;
}

void add_table(const Ctx& cx, const std::vector<Band>& bands, size_t i, size_t j, size_t placed_header,
               Builder& bld) {
  const auto& L = cx.page->lines;
  Cover cols = table_columns(cx, bands, i + placed_header, j);
  int ncols = int(cols.size());
  std::vector<std::vector<std::string>> row_text;
  std::vector<bool> row_bold;

  TableData data;
  data.num_rows = int(j - i);
  data.num_cols = ncols;
  Box tbox;
  for (size_t k = i; k < j; ++k) {
    std::vector<std::string> text(ncols);
    std::vector<int> span_end(ncols);
    std::vector<Box> cbox(ncols);
    for (int c = 0; c < ncols; ++c) span_end[c] = c;
    std::vector<int> ids = bands[k];
    std::sort(ids.begin(), ids.end(), [&](int a, int b) {
      return std::fabs(L[a].t - L[b].t) > 2 ? L[a].t < L[b].t : L[a].l < L[b].l;
    });
    bool bold = true;
    for (int id : ids) bold &= L[id].bold;
    row_bold.push_back(bold);
    for (int id : ids) {
      const TextLine& l = L[id];
      int c0 = -1, c1 = -1;
      for (int c = 0; c < ncols; ++c) {
        double ov = std::min(l.r, cols[c].second) - std::max(l.l, cols[c].first);
        if (ov > 0 || (l.l <= cols[c].second && l.r >= cols[c].first)) {
          if (c0 < 0) c0 = c;
          c1 = c;
        }
      }
      if (c0 < 0) {  // between columns: nearest column
        double best = 1e300;
        for (int c = 0; c < ncols; ++c) {
          double d = std::fabs(0.5 * (l.l + l.r) - 0.5 * (cols[c].first + cols[c].second));
          if (d < best) best = d, c0 = c1 = c;
        }
      }
      tbox.add(line_box(l));
      // A line across several columns whose words sit in different columns (a header row
      // set with narrow gaps) is split word by word instead of becoming a span.
      if (c1 > c0 && split_words_into_columns(*cx.page, l, cols, text, cbox)) continue;
      if (!text[c0].empty()) text[c0] += ' ';
      text[c0] += l.text;
      span_end[c0] = std::max(span_end[c0], c1);
      cbox[c0].add(line_box(l));
    }
    row_text.push_back(text);
    for (int c = 0; c < ncols;) {
      int e = span_end[c];
      for (int x = c + 1; x <= e; ++x) {  // text inside a span joins the span cell
        if (!text[x].empty()) {
          if (!text[c].empty()) text[c] += ' ';
          text[c] += text[x];
          cbox[c].add(cbox[x]);
        }
        e = std::max(e, span_end[x]);
      }
      TableCell cell;
      cell.start_row = int(k - i), cell.end_row = int(k - i) + 1;
      cell.start_col = c, cell.end_col = e + 1;
      cell.col_span = e - c + 1;
      cell.text = text[c];
      if (!text[c].empty()) cell.bbox = BoundingBox{cbox[c].l, cbox[c].t, cbox[c].r, cbox[c].b, CoordOrigin::TopLeft};
      data.cells.push_back(std::move(cell));
      c = e + 1;
    }
  }
  int head = header_rows(row_text, row_bold, int(placed_header));
  for (TableCell& cell : data.cells) cell.column_header = cell.start_row < head;
  bld.list = Ref{};
  ProvenanceItem p = bld.prov(cx.page->page_no, tbox, "");
  bld.doc.add_table(std::move(data), Ref::body(), p);
  bld.pair_caption();
}

// --- tables drawn with rules ----------------------------------------------------------
//
// Rules from the rendering (layout/page_ink.h find_rule_lines) bound a table: horizontal rules
// of one width stacked above each other (a booktabs table: top, header and bottom rule; or a
// rule under every row), with vertical rules inside them when the table is a grid. A grid's
// cells come from its rules, and a cell whose rule is missing inside spans those rows or
// columns. Without vertical rules the columns are the gutters of the text between the rules,
// and a line of text over a gutter spans the columns. The rows above the first rule across the
// table (or the first row of a table ruled everywhere) are its header.

struct Seg {
  double at = 0, from = 0, to = 0, thick = 0;  // position across, extent along, thickness
};

// Share of [a, b] covered by the segments lying at `at` (within tol).
double seg_cover(const std::vector<Seg>& segs, double at, double a, double b, double tol) {
  if (b <= a) return 0;
  Cover c;
  for (const Seg& s : segs)
    if (std::fabs(s.at - at) <= tol && s.to > a && s.from < b) cover_add(c, std::max(a, s.from), std::min(b, s.to));
  double got = 0;
  for (auto& iv : c) got += iv.second - iv.first;
  return got / (b - a);
}

struct RuledTable {
  Box box;
  TableData data;
  std::vector<int> words;  // indices of the page's words inside
};

struct Units {
  std::vector<double> xs;                  // column edges, C + 1
  std::vector<std::pair<double, double>> rows;  // unit rows (top, bottom)
  std::vector<int> rule_below;             // per row boundary (R - 1): index into the rule ys, or -1 (text)
};

int find_root(std::vector<int>& p, int i) {
  while (p[size_t(i)] != i) i = p[size_t(i)] = p[size_t(p[size_t(i)])];
  return i;
}

// The table between the rules of one group, or nothing when the evidence is weak.
std::optional<RuledTable> ruled_table(const TextPage& pg, const std::vector<int>& cand, double fs,
                                      const std::vector<Seg>& H, const std::vector<Seg>& V, double gl, double gr) {
  const auto& W = pg.words;
  const double tol = 3;
  double top = 1e300, bottom = -1e300;
  for (const Seg& h : H) top = std::min(top, h.at), bottom = std::max(bottom, h.at);
  RuledTable t;
  for (int i : cand) {
    const TextWord& w = W[size_t(i)];
    double cx = 0.5 * (w.l + w.r), cy = 0.5 * (w.t + w.b);
    if (cx > gl - 1 && cx < gr + 1 && cy > top && cy < bottom) t.words.push_back(i);
  }
  if (t.words.size() < 4) return std::nullopt;
  // Text rows: words whose vertical extents overlap by a third of their height, top to bottom.
  // A word set between two lines (a cell over both) joins them: one row of two-line cells, as
  // docling reads such rows.
  std::vector<int> ws = t.words;
  std::sort(ws.begin(), ws.end(), [&](int a, int b) { return W[size_t(a)].t < W[size_t(b)].t; });
  std::vector<std::vector<int>> trows;
  double rb = -1e300;
  for (int i : ws) {
    const TextWord& w = W[size_t(i)];
    if (trows.empty() || w.t > rb - 0.33 * (w.b - w.t)) trows.push_back({}), rb = w.b;
    else rb = std::max(rb, w.b);
    trows.back().push_back(i);
  }
  for (auto& r : trows) std::sort(r.begin(), r.end(), [&](int a, int b) { return W[size_t(a)].l < W[size_t(b)].l; });
  auto row_top = [&](const std::vector<int>& r) { double v = 1e300; for (int i : r) v = std::min(v, W[size_t(i)].t); return v; };
  auto row_bot = [&](const std::vector<int>& r) { double v = -1e300; for (int i : r) v = std::max(v, W[size_t(i)].b); return v; };
  auto row_mid = [&](const std::vector<int>& r) { return 0.5 * (row_top(r) + row_bot(r)); };

  // Rule positions across the table, and the first one over its full width with text on both
  // sides (the header rule).
  std::vector<double> ys;
  for (const Seg& h : H) {
    if (!ys.empty() && h.at - ys.back() <= tol) continue;  // a double rule is one
    ys.push_back(h.at);
  }
  double width = gr - gl;
  double head_rule = -1;
  for (double y : ys) {
    if (y <= top + tol || y >= bottom - tol || seg_cover(H, y, gl, gr, tol) < 0.9) continue;
    bool above = false, below = false;
    for (auto& r : trows) above |= row_mid(r) < y, below |= row_mid(r) > y;
    if (above && below) {
      head_rule = y;
      break;
    }
  }

  // Columns: interior vertical rules, else the gutters of the body rows.
  std::vector<double> vx;
  for (const Seg& v : V)
    if (v.at > gl + tol && v.at < gr - tol && v.to - v.from >= fs) vx.push_back(v.at);
  std::sort(vx.begin(), vx.end());
  bool grid = !vx.empty();
  Units u;
  u.xs.push_back(gl);
  if (grid) {
    for (double x : vx)
      if (x - u.xs.back() > tol) u.xs.push_back(x);
  } else {
    const double min_gap = std::max(4.0, 0.8 * fs);
    Cover c;
    for (auto& r : trows) {
      if (head_rule > 0 && row_mid(r) < head_rule) continue;
      // One run of text across most of the table (a note row) says nothing about columns.
      bool split = false;
      for (size_t k = 1; k < r.size(); ++k) split |= W[size_t(r[k])].l - W[size_t(r[k - 1])].r >= min_gap;
      if (!split && row_bot(r) - row_top(r) < 2 * fs && W[size_t(r.back())].r - W[size_t(r.front())].l > 0.5 * width) continue;
      for (int i : r) cover_add(c, W[size_t(i)].l, W[size_t(i)].r);
    }
    for (size_t k = 1; k < c.size(); ++k)
      if (c[k].first - c[k - 1].second >= min_gap) u.xs.push_back(0.5 * (c[k].first + c[k - 1].second));
  }
  u.xs.push_back(gr);
  const int C = int(u.xs.size()) - 1;
  if (C < 2) return std::nullopt;
  std::map<int, int> colfix;  // words of a run over a gutter kept in one column
  auto col_at = [&](double cx) {
    int c = 0;
    while (c + 1 < C && cx > u.xs[size_t(c) + 1]) ++c;
    return c;
  };
  auto col_of = [&](int i) {
    auto it = colfix.find(i);
    return it != colfix.end() ? it->second : col_at(0.5 * (W[size_t(i)].l + W[size_t(i)].r));
  };
  // The extent of each column's text in the body rows (below the header rule).
  std::vector<std::pair<double, double>> ext(size_t(C), {1e300, -1e300});
  for (auto& tr : trows) {
    if (head_rule > 0 && row_mid(tr) < head_rule) continue;
    for (int i : tr) {
      auto& e = ext[size_t(col_of(i))];
      e.first = std::min(e.first, W[size_t(i)].l), e.second = std::max(e.second, W[size_t(i)].r);
    }
  }
  // Runs of words a word space apart, in the text rows.
  struct WordRun {
    size_t row;
    std::vector<int> ids;
    double l, r;
  };
  std::vector<WordRun> runs;
  for (size_t q = 0; q < trows.size(); ++q) {
    const auto& tr = trows[q];
    for (size_t k = 0; k < tr.size();) {
      WordRun wr{q, {tr[k]}, W[size_t(tr[k])].l, W[size_t(tr[k])].r};
      for (++k; k < tr.size() && W[size_t(tr[k])].l - wr.r < 0.6 * std::max(W[size_t(tr[k])].font_size, 1.0); ++k)
        wr.ids.push_back(tr[k]), wr.r = std::max(wr.r, W[size_t(tr[k])].r);
      runs.push_back(std::move(wr));
    }
  }
  // Whether a run over the gutter between columns c - 1 and c stands over both: centred over
  // their text, or reaching into both. A label aligned with an edge of one column's text belongs
  // to that column, however far it runs into the gutter.
  // How each column's body text is set: flush left (1), flush right (2), both or neither.
  std::vector<int> flush(size_t(C), 0);
  {
    std::vector<int> cells(size_t(C), 0), lefts(size_t(C), 0), rights(size_t(C), 0);
    for (auto& tr : trows) {
      if (head_rule > 0 && row_mid(tr) < head_rule) continue;
      std::vector<std::pair<double, double>> cell(size_t(C), {1e300, -1e300});
      for (int i : tr) {
        auto& e = cell[size_t(col_of(i))];
        e.first = std::min(e.first, W[size_t(i)].l), e.second = std::max(e.second, W[size_t(i)].r);
      }
      for (int c = 0; c < C; ++c) {
        if (cell[size_t(c)].first > cell[size_t(c)].second) continue;
        ++cells[size_t(c)];
        lefts[size_t(c)] += cell[size_t(c)].first - ext[size_t(c)].first <= 1.5;
        rights[size_t(c)] += ext[size_t(c)].second - cell[size_t(c)].second <= 1.5;
      }
    }
    for (int c = 0; c < C; ++c)
      flush[size_t(c)] = (cells[size_t(c)] >= 2 && 5 * lefts[size_t(c)] >= 4 * cells[size_t(c)]) +
                         2 * (cells[size_t(c)] >= 2 && 5 * rights[size_t(c)] >= 4 * cells[size_t(c)]);
  }
  auto aligned_with = [&](const WordRun& wr, int c) {
    const auto& e = ext[size_t(c)];
    return ((flush[size_t(c)] & 1) && std::fabs(wr.l - e.first) <= 1.5) ||
           ((flush[size_t(c)] & 2) && std::fabs(wr.r - e.second) <= 1.5);
  };
  auto spans = [&](const WordRun& wr, int c) {
    double x = u.xs[size_t(c)];
    if (wr.l >= x - 1 || wr.r <= x + 1) return false;
    const auto &a = ext[size_t(c) - 1], &b = ext[size_t(c)];
    if (a.first > a.second || b.first > b.second) return true;  // a column without body text
    // Centred over the two columns' text, or over the space between their outer gutters (a
    // label centred over cells wider than their text).
    double centre = 0.5 * (wr.l + wr.r), lo = u.xs[size_t(c) - 1], hi = u.xs[size_t(c) + 1];
    bool centred = std::fabs(centre - 0.5 * (a.first + b.second)) <= 0.25 * (b.second - a.first) ||
                   std::fabs(centre - 0.5 * (lo + hi)) <= 0.25 * (hi - lo);
    bool both = wr.l < a.second && wr.r > b.first;
    return (centred || both) && !aligned_with(wr, c - 1) && !aligned_with(wr, c);
  };
  if (!grid)
    for (const WordRun& wr : runs) {
      int c0 = col_at(wr.l + 1), c1 = col_at(wr.r - 1);
      if (c0 == c1) continue;
      bool any = false;
      for (int c = c0 + 1; c <= c1; ++c) any |= spans(wr, c);
      if (any) continue;
      int home = col_at(0.5 * (wr.l + wr.r));
      for (int c = c0; c <= c1; ++c)
        if (aligned_with(wr, c)) home = c;
      for (int i : wr.ids) colfix[i] = home;
    }
  auto cells_in = [&](const std::vector<int>& r) {
    std::vector<char> used(size_t(C), 0);
    for (int i : r) used[size_t(col_of(i))] = 1;
    return int(std::count(used.begin(), used.end(), 1));
  };

  // Unit rows: each interval between rules is one row, or one row per text row when several
  // of its text rows fill two or more cells (rows set without rules between them).
  for (size_t k = 0; k + 1 < ys.size(); ++k) {
    std::vector<size_t> in;
    for (size_t r = 0; r < trows.size(); ++r) {
      double m = row_mid(trows[r]);
      if (m > ys[k] && m < ys[k + 1]) in.push_back(r);
    }
    // A row of the grid holds words (by their own middles: a text row may run over two rows
    // of a header whose labels are set between them).
    bool words_in = false;
    for (int i : t.words) {
      double cy = 0.5 * (W[size_t(i)].t + W[size_t(i)].b);
      words_in |= cy > ys[k] && cy < ys[k + 1];
    }
    if (!words_in) continue;
    if (in.empty()) {
      if (!u.rows.empty()) u.rule_below.push_back(int(k));
      u.rows.push_back({ys[k], ys[k + 1]});
      continue;
    }
    int multi = 0;
    for (size_t r : in) multi += cells_in(trows[r]) >= 2;
    if (!u.rows.empty()) u.rule_below.push_back(int(k));
    if (multi >= 2) {
      for (size_t q = 0; q < in.size(); ++q) {
        double t0 = q == 0 ? ys[k] : 0.5 * (row_bot(trows[in[q - 1]]) + row_top(trows[in[q]]));
        double t1 = q + 1 == in.size() ? ys[k + 1] : 0.5 * (row_bot(trows[in[q]]) + row_top(trows[in[q + 1]]));
        if (q > 0) u.rule_below.push_back(-1);
        u.rows.push_back({t0, t1});
      }
    } else {
      u.rows.push_back({ys[k], ys[k + 1]});
    }
  }
  const int R = int(u.rows.size());
  if (R < 2) return std::nullopt;

  // Words into units.
  auto row_of = [&](const TextWord& w) {
    double cy = 0.5 * (w.t + w.b);
    int r = 0;
    while (r + 1 < R && cy > u.rows[size_t(r)].second) ++r;
    return r;
  };
  std::vector<std::vector<int>> unit(size_t(R * C));
  for (auto& tr : trows)
    for (int i : tr) unit[size_t(row_of(W[size_t(i)]) * C + col_of(i))].push_back(i);

  // Units without a boundary between them make one cell.
  std::vector<int> parent(size_t(R * C));
  for (int i = 0; i < R * C; ++i) parent[size_t(i)] = i;
  auto join = [&](int a, int b) { parent[size_t(find_root(parent, a))] = find_root(parent, b); };
  for (int r = 0; r < R; ++r)
    for (int c = 1; c < C; ++c) {
      double x = u.xs[size_t(c)];
      bool open;
      if (grid) {
        double t0 = u.rows[size_t(r)].first + tol, t1 = u.rows[size_t(r)].second - tol;
        open = t1 > t0 && seg_cover(V, x, t0, t1, tol) < 0.5;
      } else {
        // Text across the gutter that stands over both columns.
        open = false;
        for (const WordRun& wr : runs)
          if (row_of(W[size_t(wr.ids[0])]) == r) open |= spans(wr, c);
      }
      if (open) join(r * C + c - 1, r * C + c);
    }
  for (int r = 1; r < R; ++r) {
    int rule = u.rule_below[size_t(r - 1)];
    if (rule < 0) continue;  // rows of text without a rule between them stay apart
    double y = ys[size_t(rule)];
    for (int c = 0; c < C; ++c) {
      double a = u.xs[size_t(c)] + tol, b = u.xs[size_t(c) + 1] - tol;
      if (b <= a || seg_cover(H, y, a, b, tol) >= 0.5) continue;
      // Without vertical rules a label beside a missing rule spans only over an empty cell.
      if (!grid && !unit[size_t(r * C + c)].empty() && !unit[size_t((r - 1) * C + c)].empty()) continue;
      join((r - 1) * C + c, r * C + c);
    }
  }
  // Cells are rectangles: a group's bounding rectangle takes in what lies inside it.
  std::vector<std::array<int, 4>> rect(size_t(R * C));
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& q : rect) q = {R, C, -1, -1};
    for (int i = 0; i < R * C; ++i) {
      auto& q = rect[size_t(find_root(parent, i))];
      q = {std::min(q[0], i / C), std::min(q[1], i % C), std::max(q[2], i / C), std::max(q[3], i % C)};
    }
    for (int i = 0; i < R * C; ++i) {
      int g = find_root(parent, i);
      if (g != i) continue;
      auto q = rect[size_t(g)];
      for (int r = q[0]; r <= q[2]; ++r)
        for (int c = q[1]; c <= q[3]; ++c)
          if (find_root(parent, r * C + c) != g) join(r * C + c, g), changed = true;
    }
  }

  // Evidence: short cells, several rows of several cells; where the rows are lines of text
  // (no rules between them) also three columns, a header rule or a column of numbers: two
  // columns of prose between two page rules, or in a framed box, are not a table.
  int filled = 0, words = 0, biggest = 0, multi_rows = 0;
  std::vector<int> num(size_t(C), 0), nonempty(size_t(C), 0);
  for (int r = 0; r < R; ++r) {
    int here = 0;
    for (int c = 0; c < C; ++c) {
      const auto& cell = unit[size_t(r * C + c)];
      if (cell.empty()) continue;
      ++here, ++nonempty[size_t(c)];
      std::string s;
      for (int i : cell) s += W[size_t(i)].text + " ";
      num[size_t(c)] += numeric_cell(s);
    }
    multi_rows += here >= 2;
  }
  for (int i = 0; i < R * C; ++i) {
    if (find_root(parent, i) != i) continue;
    int n = 0;
    auto q = rect[size_t(i)];
    for (int r = q[0]; r <= q[2]; ++r)
      for (int c = q[1]; c <= q[3]; ++c) n += int(unit[size_t(r * C + c)].size());
    if (n) ++filled, words += n, biggest = std::max(biggest, n);
  }
  if (filled < 4 || multi_rows < 2 || biggest > 60) return std::nullopt;
  // Rows told apart by the text, not by rules, hold one line a cell: prose has more words.
  int text_rows = int(std::count(u.rule_below.begin(), u.rule_below.end(), -1));
  bool textual = !grid || 2 * text_rows > R - 1;
  if (double(words) / filled > (textual ? 6 : 12)) return std::nullopt;
  if (textual) {
    bool numbers = false;
    for (int c = 0; c < C; ++c) numbers |= nonempty[size_t(c)] >= 2 && 2 * num[size_t(c)] >= nonempty[size_t(c)];
    if (C < 3 && head_rule < 0 && !numbers) return std::nullopt;
  }

  // Header: the rows above the header rule; in a table ruled everywhere the first row (and
  // the rows its cells reach down into), or the rows above a rule drawn thicker than the rest.
  int head = 0;
  bool every = true;
  for (int rb : u.rule_below) every &= rb >= 0;
  if (!every && head_rule > 0) {
    while (head < R && u.rows[size_t(head)].second <= head_rule + tol) ++head;
  } else if (every) {
    head = 1;
    std::vector<double> th;
    for (int rb : u.rule_below)
      for (const Seg& h : H)
        if (std::fabs(h.at - ys[size_t(rb)]) <= tol && h.to - h.from > 0.9 * width) th.push_back(h.thick);
    if (th.size() >= 2) {
      std::vector<double> s = th;
      std::sort(s.begin(), s.end());
      double med = s[s.size() / 2];
      for (size_t k = 0; k < th.size() && 2 * k < th.size(); ++k)
        if (th[k] >= 1.6 * med + 0.3) head = int(k) + 1;
    }
  }
  if (head == 0) {
    std::vector<std::vector<std::string>> rt(static_cast<size_t>(R), std::vector<std::string>(static_cast<size_t>(C)));
    std::vector<bool> bold(static_cast<size_t>(R), true);
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c)
        for (int i : unit[size_t(r * C + c)]) rt[size_t(r)][size_t(c)] += W[size_t(i)].text + " ", bold[size_t(r)] = bold[size_t(r)] && W[size_t(i)].bold;
    head = header_rows(rt, bold, 0);
  }
  for (bool grew = true; grew && head > 0 && head < R;) {  // header cells reaching further down
    grew = false;
    for (int c = 0; c < C; ++c) {
      auto q = rect[size_t(find_root(parent, (head - 1) * C + c))];
      if (q[2] + 1 > head && q[2] + 1 < R) head = q[2] + 1, grew = true;
    }
  }

  t.data.num_rows = R, t.data.num_cols = C;
  for (int i = 0; i < R * C; ++i) {
    if (find_root(parent, i) != i) continue;
    auto q = rect[size_t(i)];
    std::vector<int> ids;
    for (int r = q[0]; r <= q[2]; ++r)
      for (int c = q[1]; c <= q[3]; ++c) ids.insert(ids.end(), unit[size_t(r * C + c)].begin(), unit[size_t(r * C + c)].end());
    // Reading order inside the cell: text rows top to bottom, words left to right.
    std::sort(ids.begin(), ids.end(), [&](int a, int b) {
      const TextWord &x = W[size_t(a)], &y = W[size_t(b)];
      bool same = std::min(x.b, y.b) - std::max(x.t, y.t) > 0.3 * std::min(x.b - x.t, y.b - y.t);
      return same ? x.l < y.l : x.t < y.t;
    });
    TableCell cell;
    cell.start_row = q[0], cell.end_row = q[2] + 1, cell.start_col = q[1], cell.end_col = q[3] + 1;
    cell.row_span = q[2] - q[0] + 1, cell.col_span = q[3] - q[1] + 1;
    cell.column_header = q[0] < head;
    Box cb;
    for (int k : ids) {
      const TextWord& w = W[size_t(k)];
      if (!cell.text.empty()) cell.text += ' ';
      cell.text += w.text;
      cb.add(w.l, w.t, w.r, w.b);
    }
    if (!ids.empty()) cell.bbox = BoundingBox{cb.l, cb.t, cb.r, cb.b, CoordOrigin::TopLeft};
    t.data.cells.push_back(std::move(cell));
  }
  std::sort(t.data.cells.begin(), t.data.cells.end(), [](const TableCell& a, const TableCell& b) {
    return a.start_row != b.start_row ? a.start_row < b.start_row : a.start_col < b.start_col;
  });
  t.box.add(gl, top, gr, bottom);
  return t;
}

// Tables drawn with rules on a page: groups of horizontal rules of one width stacked above
// each other with text between them (no caption, no wide empty band), and the vertical rules
// inside them.
std::vector<RuledTable> ruled_tables(const TextPage& pg, const std::vector<int>& body_lines, double fs) {
  std::vector<RuledTable> out;
  if (pg.hrules.size() < 2) return out;
  std::vector<Seg> H, V;
  for (const InkBox& b : pg.hrules) H.push_back({0.5 * (b.t + b.b), b.l, b.r, b.b - b.t});
  for (const InkBox& b : pg.vrules) V.push_back({0.5 * (b.l + b.r), b.t, b.b, b.r - b.l});
  std::sort(H.begin(), H.end(), [](const Seg& a, const Seg& b) { return a.at < b.at; });
  std::vector<int> cand;
  for (int id : body_lines)
    for (int w : pg.lines[size_t(id)].words) cand.push_back(w);
  const double tol = 6;
  // Whether something other than table rows lies between two rules: a caption, or a wide
  // blank band that no vertical rule crosses.
  auto broken = [&](double y0, double y1, double l, double r) {
    bool text = false;
    for (int id : body_lines) {
      const TextLine& ln = pg.lines[size_t(id)];
      double cy = 0.5 * (ln.t + ln.b);
      if (cy <= y0 || cy >= y1 || ln.r < l || ln.l > r) continue;
      if (is_caption_text(ln.text) || ln.text.rfind("Example ", 0) == 0) return true;
      text = true;
    }
    if (text || y1 - y0 <= 3 * fs) return false;
    for (const Seg& v : V)
      if (v.at > l - tol && v.at < r + tol && v.from < y0 + tol && v.to > y1 - tol) return false;
    return true;
  };
  auto crosses_text = [&](const Seg& h) {
    for (int w : cand) {
      const TextWord& tw = pg.words[size_t(w)];
      if (h.at > tw.t + 0.5 && h.at < tw.b - 0.5 && tw.r > h.from && tw.l < h.to) return true;
    }
    return false;
  };
  size_t i = 0;
  while (i < H.size()) {
    if (H[i].to - H[i].from < 4 * fs) {
      ++i;
      continue;
    }
    double gl = H[i].from, gr = H[i].to;
    std::vector<Seg> group{H[i]};
    size_t last_full = 0, j = i + 1;
    for (; j < H.size(); ++j) {
      const Seg& h = H[j];
      bool full = std::fabs(h.from - gl) <= tol && std::fabs(h.to - gr) <= tol;
      bool part = h.from >= gl - tol && h.to <= gr + tol;
      if (!full && !part) {
        if (h.to < gl || h.from > gr) continue;  // beside the table: another one
        break;
      }
      if (!full && h.to - h.from < 2 * fs) continue;  // a stroke too short to part cells
      if (!full && crosses_text(h)) continue;           // glyph strokes, not a rule between rows
      if (full && broken(group[last_full].at, h.at, gl, gr)) break;
      group.push_back(h);
      if (full) last_full = group.size() - 1;
    }
    group.resize(last_full + 1);  // partial rules after the last full one are not the table's
    std::vector<Seg> vin;
    for (const Seg& v : V)
      if (v.at > gl - tol && v.at < gr + tol && v.to > group.front().at - tol && v.from < group.back().at + tol)
        vin.push_back(v);
    // A grid ends where its vertical rules end: rules further down belong to something else.
    double vtop = 1e300, vbottom = -1e300;
    for (const Seg& v : vin)
      if (v.at > gl + tol && v.at < gr - tol) vtop = std::min(vtop, v.from), vbottom = std::max(vbottom, v.to);
    if (vbottom > vtop) {
      std::vector<Seg> kept;
      for (const Seg& h : group)
        if (h.at >= vtop - tol && h.at <= vbottom + tol) kept.push_back(h);
      while (!kept.empty() && !(std::fabs(kept.back().from - gl) <= tol && std::fabs(kept.back().to - gr) <= tol))
        kept.pop_back();
      group.swap(kept);
    }
    if (group.size() >= 2) {
      if (auto t = ruled_table(pg, cand, fs, group, vin, gl, gr)) {
        out.push_back(std::move(*t));
        // Continue after this table's last rule.
        double end = group.back().at;
        while (i < H.size() && H[i].at <= end + 0.5) ++i;
        continue;
      }
    }
    ++i;
  }
  return out;
}

void emit_ruled_table(const Ctx& cx, const RuledTable& t, Builder& bld) {
  bld.list = Ref{};
  bld.doc.add_table(t.data, Ref::body(), bld.prov(cx.page->page_no, t.box, ""));
  bld.pair_caption();
}

// The segments of a band become one logical line; segments of very different font
// size (a big heading beside small print) stay separate lines.
std::vector<LLine> merge_band(const Ctx& cx, const Band& band) {
  const auto& L = cx.page->lines;
  std::vector<int> ids = band;
  size_t rtl = 0;
  for (int id : ids) rtl += L[id].rtl;
  bool is_rtl = rtl * 2 > ids.size();
  if (is_rtl) std::reverse(ids.begin(), ids.end());
  std::vector<LLine> out;
  double chars = 0, bold = 0, mono = 0, best = 0;
  auto finish = [&] {
    LLine& o = out.back();
    o.bold = bold * 2 > chars;
    o.mono = mono * 2 > chars;
    chars = bold = mono = best = 0;
  };
  for (int id : ids) {
    const TextLine& l = L[id];
    double fs = line_fs(l);
    if (out.empty() || std::fabs(fs - out.back().fs) > 0.3 * std::min(fs, out.back().fs)) {
      if (!out.empty()) finish();
      out.push_back({});
      out.back().rtl = is_rtl;
    }
    LLine& o = out.back();
    if (!o.text.empty()) o.text += ' ';
    o.text += l.text;
    o.box.add(line_box(l));
    double n = double(l.text.size());
    chars += n;
    if (l.bold) bold += n;
    if (l.mono) mono += n;
    if (n > best) best = n, o.fs = fs;
  }
  finish();
  return out;
}

struct Block {
  std::vector<LLine> lines;
  Box box;
  Marker marker;
  bool all_bold = true;
};

void add_heading(const Ctx& cx, const Block& b, const std::string& text, double fs, Builder& bld) {
  Ref r = bld.add_text(Label::SectionHeader, text, cx.page->page_no, b.box);
  double h = cx.page->height > 0 ? cx.page->height : 1;
  bld.headings.push_back({r, HeadingInfo{text, fs, b.all_bold, cx.page->page_no, b.box.t / h}});
}

void emit_block(const Ctx& cx, Block& b, Builder& bld) {
  if (b.lines.empty()) return;
  const TextPage& pg = *cx.page;
  bool mono = true;
  double fs = 0;
  for (const LLine& l : b.lines) mono &= l.mono, fs = std::max(fs, l.fs);
  std::string text;
  if (mono) {
    for (const LLine& l : b.lines) text += (text.empty() ? "" : "\n") + l.text;
  } else {
    for (const LLine& l : b.lines) append_line(text, l.text);
  }
  const std::string& first = b.lines[0].text;
  size_t nchars = utf8_length(text);
  int page_no = pg.page_no;
  bool low_on_page = b.box.t > 0.5 * pg.height;
  unsigned char c0 = static_cast<unsigned char>(first[0]);
  // Dot leaders mark a table-of-contents entry, never a heading.
  bool leaders = text.find(". . .") != std::string::npos || text.find("....") != std::string::npos;
  bool note_mark = ascii_digit(c0) || c0 == '*' || first.rfind("\xE2\x80\xA0", 0) == 0 ||
                   first.rfind("\xE2\x80\xA1", 0) == 0;

  if (fs <= 0.85 * bld.body_fs && low_on_page && note_mark && !mono) {
    bld.add_text(Label::Footnote, text, page_no, b.box);
  } else if (b.marker.enumerated && !leaders && (b.all_bold || fs >= 1.05 * bld.body_fs) &&
             b.lines.size() <= 2 && nchars <= 150 &&
             !ends_sentence(text)) {  // "1. Introduction" in bold: a numbered heading
    add_heading(cx, b, text, fs, bld);
  } else if (b.marker.len && !mono) {
    std::string body = trim(text.substr(b.marker.len));
    bld.add_list_item(body, b.marker, page_no, b.box);
  } else if (!mono && !leaders && nchars <= 200 && b.lines.size() <= 3 && fs >= 1.12 * bld.body_fs) {
    add_heading(cx, b, text, fs, bld);
  } else if (!mono && !leaders && nchars <= 150 && b.lines.size() <= 2 && b.all_bold &&
             !ends_sentence(text) &&
             fs >= 0.95 * bld.body_fs) {
    add_heading(cx, b, text, fs, bld);
  } else if (is_caption_text(first)) {
    bld.add_text(Label::Caption, text, page_no, b.box);
    bld.pair_caption();
  } else if (mono) {
    Ref r = bld.add_text(Label::Code, text, page_no, b.box);
    (void)r;
  } else {
    bld.add_text(Label::Text, text, page_no, b.box);
  }
  b = Block{};
}

void add_line(const Ctx& cx, Block& cur, LLine ln, Builder& bld);
void emit_leaf(const Ctx& cx, const std::vector<Band>& bands, Builder& bld);
void emit_picture(const Ctx& cx, const Box& b, Builder& bld) {
  bld.list = Ref{};
  bld.doc.add_picture(Ref::body(), bld.prov(cx.page->page_no, b, ""));
  bld.pair_caption();
}

// Places what is deferred before a block that starts at `next` (the whole rest when `next` is
// null): notes that start above it, pictures it lies below and overlaps horizontally.
void flush_deferred(const Ctx& cx, const Box* next, Builder& bld, bool notes_only = false) {
  if (!cx.deferred || cx.deferred->empty()) return;
  std::vector<Deferred>& d = *cx.deferred;
  Ctx inner = cx;
  inner.deferred = nullptr;
  for (size_t k = 0; k < d.size();) {
    const Deferred& x = d[k];
    bool object = x.picture >= 0 || x.table >= 0;
    bool go = !next && !(notes_only && object);
    if (next && !object) go = x.box.t < next->t - 1;
    if (next && object)
      go = next->t >= x.box.b - 0.5 * cx.body_fs && next->l < x.box.r && next->r > x.box.l;
    if (!go) {
      ++k;
      continue;
    }
    Deferred item = std::move(d[k]);
    d.erase(d.begin() + long(k));
    if (item.picture >= 0) emit_picture(inner, item.box, bld);
    else if (item.table >= 0) emit_ruled_table(inner, (*cx.tables)[size_t(item.table)], bld);
    else emit_leaf(inner, item.bands, bld);
  }
}

// Lines of one leaf region -> blocks -> items.
void emit_leaf(const Ctx& cx, const std::vector<Band>& bands, Builder& bld) {
  Block cur;
  for (size_t i = 0; i < bands.size();) {
    if (cx.opt->tables) {
      size_t used = bands[i].size() >= 2 ? table_rows(cx, bands, i) : 0, head = 0;
      if (!used) head = header_bands_before(cx, bands, i, used);
      if (used) {
        emit_block(cx, cur, bld);
        Box top;
        for (int id : bands[i]) top.add(line_box(cx.page->lines[size_t(id)]));
        flush_deferred(cx, &top, bld);
        add_table(cx, bands, i, i + head + used, head, bld);
        i += head + used;
        continue;
      }
    }
    std::vector<LLine> parts = merge_band(cx, bands[i]);
    ++i;
    for (LLine& ln : parts) add_line(cx, cur, std::move(ln), bld);
  }
  emit_block(cx, cur, bld);
}

// A line with checkbox glyphs at word starts: the text before the first one, then one item per
// glyph (its state, the text up to the next glyph). False when the line has none.
bool add_checkbox_line(const Ctx& cx, Block& cur, const LLine& ln, Builder& bld) {
  if (!cx.form || ln.rtl) return false;
  struct Cut {
    size_t at, after;
    bool checked;
  };
  std::vector<Cut> cuts;
  const std::string& s = ln.text;
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    unsigned cp = utf8_next(s, i);
    int g = checkbox_glyph(cp);
    bool word_start = at == 0 || s[at - 1] == ' ';
    if (g && word_start && (i == s.size() || s[i] == ' ')) cuts.push_back({at, i, g >= 2});
  }
  if (cuts.empty()) return false;
  emit_block(cx, cur, bld);
  flush_deferred(cx, &ln.box, bld);
  // Boxes by the share of characters before each piece (the line's words are not at hand).
  double n = double(std::max<size_t>(1, utf8_length(s))), w = ln.box.r - ln.box.l;
  auto piece_box = [&](size_t a, size_t b) {
    Box bx = ln.box;
    bx.l = ln.box.l + w * double(utf8_length(s.substr(0, a))) / n;
    bx.r = ln.box.l + w * double(utf8_length(s.substr(0, b))) / n;
    return bx;
  };
  std::string head = trim(s.substr(0, cuts[0].at));
  if (!head.empty()) bld.add_text(Label::Text, head, cx.page->page_no, piece_box(0, cuts[0].at));
  for (size_t k = 0; k < cuts.size(); ++k) {
    size_t end = k + 1 < cuts.size() ? cuts[k + 1].at : s.size();
    std::string label = trim(s.substr(cuts[k].after, end - cuts[k].after));
    bld.add_text(cuts[k].checked ? Label::CheckboxSelected : Label::CheckboxUnselected, label,
                 cx.page->page_no, piece_box(cuts[k].at, end));
  }
  return true;
}

// Continue the current block with `ln` or close it and start a new one.
void add_line(const Ctx& cx, Block& cur, LLine ln, Builder& bld) {
  if (add_checkbox_line(cx, cur, ln, bld)) return;
  {
    Marker m = list_marker(ln.text);
    if (!cur.lines.empty()) {
      const LLine& prev = cur.lines.back();
      double fs = std::max(ln.fs, prev.fs);
      double gap = ln.box.t - prev.box.b;
      // A caption starts its own block even when set without space after a paragraph.
      bool brk = m.len > 0 || std::fabs(ln.fs - prev.fs) > 0.6 || ln.mono != prev.mono ||
                 gap > 0.6 * fs || is_caption_text(ln.text);
      if (!brk && ln.bold != prev.bold && (cur.all_bold || (ln.bold && ends_sentence(prev.text))))
        brk = !cur.marker.len;
      if (!brk && cur.marker.len && ln.box.l < cur.box.l + 0.3 * fs) brk = true;
      // An indented first line after a short last line starts a new paragraph.
      if (!brk && !cur.marker.len && ln.box.l > cur.box.l + 0.8 * fs &&
          prev.box.r < cur.box.r - 2 * fs && cur.lines.size() >= 1)
        brk = true;
      if (!brk && !cur.marker.len && cur.lines.size() >= 2 && ln.box.l > cur.box.l + 0.8 * fs)
        brk = true;
      if (brk) emit_block(cx, cur, bld);
    }
    if (cur.lines.empty()) {
      flush_deferred(cx, &ln.box, bld);
      cur.marker = m;
    }
    cur.all_bold &= ln.bold;
    cur.box.add(ln.box);
    cur.lines.push_back(std::move(ln));
  }
}

double body_font_size(const std::vector<TextPage>& pages) {
  std::map<int, double> hist;  // half points -> characters
  for (const TextPage& p : pages)
    for (const TextLine& l : p.lines)
      if (l.font_size > 0) hist[int(std::lround(l.font_size * 2))] += double(l.text.size());
  int best = 20;
  double n = -1;
  for (auto& [k, v] : hist)
    if (v > n) n = v, best = k;
  return best / 2.0;
}

enum class Furn : uint8_t { No, Header, Footer };

std::vector<std::vector<Furn>> find_furniture(const std::vector<TextPage>& pages, double body_fs) {
  std::vector<std::vector<Furn>> f(pages.size());
  struct Seen {
    size_t page;
    double t;
  };
  std::map<std::string, std::vector<Seen>> seen;
  for (size_t p = 0; p < pages.size(); ++p) {
    const TextPage& pg = pages[p];
    f[p].assign(pg.lines.size(), Furn::No);
    // Small print counts as a running head only above all body-size text.
    double body_top = 1e300;
    for (const TextLine& l : pg.lines)
      if (l.font_size >= body_fs - 0.5) body_top = std::min(body_top, l.t);
    for (size_t i = 0; i < pg.lines.size(); ++i) {
      const TextLine& l = pg.lines[i];
      // Running heads sit in the top or bottom ~12% (15% for page numbers and
      // small-print heads, which are unambiguous).
      bool top = l.b <= 0.15 * pg.height, bottom = l.t >= 0.85 * pg.height;
      if (!top && !bottom) continue;
      Furn kind = top ? Furn::Header : Furn::Footer;
      if (is_page_number(l.text)) f[p][i] = kind;
      if (top && l.font_size > 0 && l.font_size < body_fs - 0.5 && !l.bold && l.b <= body_top)
        f[p][i] = kind;
      if (l.b > 0.12 * pg.height && l.t < 0.88 * pg.height) continue;
      std::string key = furniture_key(l.text);
      key.insert(key.begin(), top ? 'T' : 'B');
      seen[key].push_back({p, l.t});
    }
  }
  if (pages.size() < 2) return f;
  for (auto& [key, list] : seen) {
    if (list.size() < 2) continue;
    for (size_t a = 0; a < list.size(); ++a) {
      size_t pages_near = 0;
      for (size_t b = 0; b < list.size(); ++b)
        if (list[b].page != list[a].page && std::fabs(list[b].t - list[a].t) < 12) ++pages_near;
      if (!pages_near) continue;
      const TextPage& pg = pages[list[a].page];
      for (size_t i = 0; i < pg.lines.size(); ++i)
        if (std::fabs(pg.lines[i].t - list[a].t) < 1e-9 &&
            key.compare(1, std::string::npos, furniture_key(pg.lines[i].text)) == 0)
          f[list[a].page][i] = key[0] == 'T' ? Furn::Header : Furn::Footer;
    }
  }
  return f;
}

// A run of a line's words without a gap that could be a gutter between columns.
struct Frag {
  XyItem item;
  int line = 0;
  std::vector<int> words;  // in the line's order
};

std::vector<Frag> fragments(const TextPage& pg, const std::vector<int>& lines, double body_fs) {
  const double min_gap = std::max(4.0, 0.5 * body_fs);
  std::vector<Frag> out;
  for (int id : lines) {
    const TextLine& l = pg.lines[size_t(id)];
    bool horizontal = !l.words.empty() && pg.words[size_t(l.words[0])].horizontal;
    for (size_t k = 0; k < l.words.size(); ++k) {
      const TextWord& w = pg.words[size_t(l.words[k])];
      bool cut = k == 0;
      if (!cut && horizontal) {
        const TextWord& p = pg.words[size_t(l.words[k - 1])];
        // Word spaces grow with the font: a gap in a large title is not a gutter.
        double fs = std::min(p.font_size, w.font_size);
        cut = (l.rtl ? p.l - w.r : w.l - p.r) >= std::max(min_gap, 0.45 * fs);
      }
      if (cut) {
        out.push_back({});
        out.back().line = id;
        out.back().item = XyItem{w.l, w.t, w.r, w.b, line_fs(l), 0, l.rtl};
      }
      XyItem& it = out.back().item;
      it.l = std::min(it.l, w.l), it.t = std::min(it.t, w.t);
      it.r = std::max(it.r, w.r), it.b = std::max(it.b, w.b);
      ++it.words;
      out.back().words.push_back(l.words[k]);
    }
  }
  return out;
}

void build_page(const TextPage& pg, const std::vector<Furn>& furn, Builder& bld) {
  Ctx cx;
  cx.page = &pg;
  cx.opt = &bld.opt;
  cx.body_fs = bld.body_fs;
  cx.min_col_width = 0.2 * pg.width;
  for (const TextWord& w : pg.words) {
    size_t i = 0;
    unsigned cp = w.text.empty() ? 0 : utf8_next(w.text, i);
    if (checkbox_glyph(cp) == 1 || checkbox_glyph(cp) == 2) cx.form = true;
  }
  std::vector<int> body;
  for (size_t i = 0; i < pg.lines.size(); ++i) {
    if (furn[i] == Furn::No) {
      body.push_back(int(i));
      continue;
    }
    if (furn[i] != Furn::Header) continue;
    const TextLine& l = pg.lines[i];
    bld.add_text(Label::PageHeader, l.text, pg.page_no, line_box(l), ContentLayer::Furniture);
  }
  // Reading order: an XY-cut over the fragments of the body lines; the lines are then rebuilt
  // per leaf, so a line read across a narrow gutter is split there.
  std::vector<Frag> frags = fragments(pg, body, bld.body_fs);
  // Words of tables drawn with rules leave the flow; each table is placed as a picture is.
  std::vector<RuledTable> tables = bld.opt.tables ? ruled_tables(pg, body, bld.body_fs) : std::vector<RuledTable>{};
  if (!tables.empty()) {
    std::vector<char> taken(pg.words.size(), 0);
    for (const RuledTable& t : tables)
      for (int w : t.words) taken[size_t(w)] = 1;
    std::vector<Frag> kept;
    for (Frag& f : frags) {
      std::vector<int> ws;
      for (int w : f.words)
        if (!taken[size_t(w)]) ws.push_back(w);
      if (ws.empty()) continue;
      if (ws.size() != f.words.size()) {
        XyItem& it = f.item;
        it.l = it.t = 1e300, it.r = it.b = -1e300;
        for (int w : ws) {
          const TextWord& tw = pg.words[size_t(w)];
          it.l = std::min(it.l, tw.l), it.t = std::min(it.t, tw.t), it.r = std::max(it.r, tw.r), it.b = std::max(it.b, tw.b);
        }
        it.words = int(ws.size());
        f.words = std::move(ws);
      }
      kept.push_back(std::move(f));
    }
    frags.swap(kept);
  }
  std::vector<XyItem> items(frags.size());
  for (size_t i = 0; i < frags.size(); ++i) items[i] = frags[i].item;
  XyOptions xo;
  xo.min_gutter = std::max(4.0, 0.5 * bld.body_fs);
  xo.wide_gutter = bld.opt.line_gap_em * bld.body_fs;
  xo.min_col_width = std::min(0.2 * pg.width, 20 * bld.body_fs);
  xo.section_gap = 3 * bld.body_fs;
  TextPage sub;
  sub.page_no = pg.page_no, sub.width = pg.width, sub.height = pg.height;
  sub.rotation = pg.rotation, sub.upright = pg.upright;
  sub.words = pg.words;
  std::vector<std::vector<int>> leaves;  // line ids of `sub`
  std::vector<XyLeaf> xl = xy_cut_leaves(items, xo);
  for (XyLeaf& x : xl) {
    std::vector<int>& leaf = x.ids;
    std::sort(leaf.begin(), leaf.end());  // fragments were made in line order
    std::map<int, std::vector<int>> by_line;  // line id -> its words in this leaf, in line order
    for (int f : leaf) {
      auto& w = by_line[frags[size_t(f)].line];
      w.insert(w.end(), frags[size_t(f)].words.begin(), frags[size_t(f)].words.end());
    }
    leaves.push_back({});
    for (auto& [line, words] : by_line) {
      const TextLine& l = pg.lines[size_t(line)];
      if (words.size() == l.words.size()) sub.lines.push_back(l);
      else sub.lines.push_back(make_line(pg, words, l.rtl));
      leaves.back().push_back(int(sub.lines.size() - 1));
    }
  }
  cx.page = &sub;
  // Pictures wait for the first block below them that they overlap horizontally.
  std::vector<Deferred> deferred;
  for (size_t k = 0; k < pg.pictures.size(); ++k) {
    const InkBox& p = pg.pictures[k];
    Deferred d;
    d.box.add(p.l, p.t, p.r, p.b);
    d.picture = int(k);
    deferred.push_back(std::move(d));
  }
  for (size_t k = 0; k < tables.size(); ++k) {
    Deferred d;
    d.box = tables[k].box;
    d.table = int(k);
    deferred.push_back(std::move(d));
  }
  cx.tables = &tables;
  auto by_top = [](const Deferred& a, const Deferred& b) { return a.box.t < b.box.t; };
  std::stable_sort(deferred.begin(), deferred.end(), by_top);
  cx.deferred = &deferred;
  for (size_t k = 0; k < leaves.size();) {
    if (xl[k].group < 0) {
      emit_leaf(cx, make_bands(cx, leaves[k]), bld);
      ++k;
      continue;
    }
    // A main column with side notes: each note waits for the main-column block below its top.
    size_t e = k;
    while (e < leaves.size() && xl[e].group == xl[k].group) ++e;
    for (size_t q = k; q < e; ++q) {
      if (!xl[q].note) continue;
      Deferred d;
      d.bands = make_bands(cx, leaves[q]);
      for (int id : leaves[q]) d.box.add(line_box(sub.lines[size_t(id)]));
      deferred.push_back(std::move(d));
    }
    std::stable_sort(deferred.begin(), deferred.end(), by_top);
    for (size_t q = k; q < e; ++q)
      if (!xl[q].note) emit_leaf(cx, make_bands(cx, leaves[q]), bld);
    flush_deferred(cx, nullptr, bld, true);
    k = e;
  }
  flush_deferred(cx, nullptr, bld, false);  // pictures with nothing below them
  cx.deferred = nullptr;
  cx.page = &pg;
  for (size_t i = 0; i < pg.lines.size(); ++i)
    if (furn[i] == Furn::Footer) {
      const TextLine& l = pg.lines[i];
      bld.add_text(Label::PageFooter, l.text, pg.page_no, line_box(l), ContentLayer::Furniture);
    }
}

// Levels from numbering and style, and the title (docling labels it apart from sections).
void assign_levels(Builder& bld, int first_page) {
  std::vector<HeadingInfo> info;
  for (auto& h : bld.headings) info.push_back(h.second);
  HeadingLevels hl = assign_heading_levels(info, first_page);
  for (size_t i = 0; i < info.size(); ++i) {
    TextItem& t = bld.doc.text(bld.headings[i].first);
    t.level = bld.opt.heading_levels ? hl.level[i] : 1;
    if (int(i) == hl.title) t.label = Label::Title;
  }
}

// Share of a page's characters that carry no text: U+FFFD, private-use code points (glyphs
// of fonts without a Unicode mapping), control characters.
double garbled_share(const TextPage& p) {
  size_t all = 0, bad = 0;
  for (const TextWord& w : p.words)
    for (size_t i = 0; i < w.text.size();) {
      unsigned cp = utf8_next(w.text, i);
      ++all;
      bad += cp == 0xFFFD || (cp >= 0xE000 && cp <= 0xF8FF) || cp < 0x20 || (cp >= 0x7F && cp < 0xA0) ||
             (cp >= 0xF0000);
    }
  return all ? double(bad) / double(all) : 0;
}

// Share of a page's words set in GlyphLessFont, the font Tesseract (and OCRmyPDF) write their
// invisible OCR layer in: it has no glyphs, so whatever the page shows comes from an image under
// it, however clean that image is.
double glyphless_share(const TextPage& p) {
  size_t n = 0;
  for (const TextWord& w : p.words) n += w.font_name.find("GlyphLess") != std::string::npos;
  return p.words.empty() ? 0 : double(n) / double(p.words.size());
}

// Whether a page may hold pictures or lie on a scan, from its words alone (rendering costs more
// than reading the text layer): a figure caption, a hole in the text at least 60 pt tall across a
// quarter of the page's width (where a picture sits), few words, or the glyph-less font of an
// OCR layer. A page without words is not rendered.
bool worth_rendering(const TextPage& p) {
  if (p.words.empty()) return false;  // no text: the page goes to the model (or is reported) anyway
  if (p.words.size() < 40) return true;
  constexpr int kBins = 8;
  std::vector<std::pair<double, double>> bins[kBins];
  for (size_t i = 0; i < p.words.size(); ++i) {
    const TextWord& w = p.words[i];
    if (w.font_name.find("GlyphLess") != std::string::npos) return true;
    if (i + 1 < p.words.size() && !p.words[i + 1].text.empty() &&
        ascii_digit(static_cast<unsigned char>(p.words[i + 1].text[0])) &&
        (w.text == "Figure" || w.text == "Fig." || w.text == "FIGURE" || w.text == "Fig" || w.text == "Chart"))
      return true;
    int b0 = std::clamp(int(w.l / p.width * kBins), 0, kBins - 1), b1 = std::clamp(int(w.r / p.width * kBins), 0, kBins - 1);
    for (int b = b0; b <= b1; ++b) bins[b].push_back({w.t, w.b});
  }
  // Holes at least 60 pt tall in each bin; a picture leaves one across two neighbouring bins.
  std::vector<std::pair<double, double>> holes[kBins];
  for (int b = 0; b < kBins; ++b) {
    auto& bin = bins[b];
    std::sort(bin.begin(), bin.end());
    for (size_t k = 1; k < bin.size(); ++k) {
      if (bin[k].first - bin[k - 1].second >= 60) holes[b].push_back({bin[k - 1].second, bin[k].first});
      bin[k].second = std::max(bin[k].second, bin[k - 1].second);
    }
  }
  for (int b = 1; b < kBins; ++b)
    for (auto& x : holes[b - 1])
      for (auto& y : holes[b])
        if (std::min(x.second, y.second) - std::max(x.first, y.first) >= 60) return true;
  return false;
}

// Whether a page may hold a table drawn with rules, from its words: a "Table N" caption, or
// three rows in a row of three or more cells (runs of words an em or more apart), two of them
// short.
bool table_signs(const TextPage& p) {
  std::vector<int> ids;
  for (size_t i = 0; i < p.words.size(); ++i) {
    const TextWord& w = p.words[i];
    if (i + 1 < p.words.size() && !p.words[i + 1].text.empty() &&
        ascii_digit(static_cast<unsigned char>(p.words[i + 1].text[0])) &&
        (w.text == "Table" || w.text == "TABLE" || w.text == "Tab."))
      return true;
    if (w.horizontal) ids.push_back(int(i));
  }
  const auto& W = p.words;
  std::sort(ids.begin(), ids.end(), [&](int a, int b) { return W[size_t(a)].t + W[size_t(a)].b < W[size_t(b)].t + W[size_t(b)].b; });
  int run = 0;
  for (size_t k = 0; k < ids.size();) {
    size_t e = k + 1;
    double bottom = W[size_t(ids[k])].b;
    while (e < ids.size() && 0.5 * (W[size_t(ids[e])].t + W[size_t(ids[e])].b) < bottom) bottom = std::max(bottom, W[size_t(ids[e++])].b);
    std::vector<std::pair<double, double>> row;
    double fs = 0;
    for (size_t q = k; q < e; ++q) row.push_back({W[size_t(ids[q])].l, W[size_t(ids[q])].r}), fs = std::max(fs, W[size_t(ids[q])].font_size);
    std::sort(row.begin(), row.end());
    // Cells: runs of words; short ones (under a seventh of the page) are what tables have and
    // lines of text in columns have not.
    int cells = 0, short_cells = 0;
    double left = row[0].first, right = row[0].second;
    for (size_t q = 1; q <= row.size(); ++q) {
      if (q < row.size() && row[q].first - right < std::max(6.0, fs)) {
        right = std::max(right, row[q].second);
        continue;
      }
      ++cells;
      short_cells += right - left < p.width / 7;
      if (q < row.size()) left = row[q].first, right = row[q].second;
    }
    run = cells >= 3 && short_cells >= 2 ? run + 1 : 0;
    if (run >= 3) return true;
    k = e;
  }
  return false;
}

}  // namespace

TextBackendResult convert_text_pages(std::vector<TextPage> pages, const std::string& name,
                                     const TextBackendOptions& opt) {
  TextBackendResult res;
  res.doc.name = name;
  // Rotated pages are read in their own frame (text left to right), and their boxes are put
  // back on the displayed page at the end.
  std::map<int, std::pair<int, Size>> shown;  // page_no -> rotation, displayed size
  for (TextPage& p : pages) {
    Size display{p.width, p.height};
    if (p.upright && p.rotation % 180 != 0) std::swap(display.width, display.height);
    if (p.rotation % 360 != 0) shown[p.page_no] = {p.rotation, display};
    bool rebuild = normalize_symbol_words(p);
    if (p.rotation % 360 != 0 && !p.upright) {
      make_upright(p);
      rebuild = true;
    }
    if (rebuild) build_lines(p, opt.line_gap_em);
    res.doc.add_page(p.page_no, display);
    if (p.words.empty()) {
      res.pages_without_text.push_back(p.page_no);
      res.warnings.push_back("'" + name + "' page " + std::to_string(p.page_no) +
                             ": no text layer (scanned or image-only page)");
    }
  }
  for (const TextPage& p : pages) {
    if (p.words.empty()) continue;
    std::string why;
    double bad = garbled_share(p);
    if (bad > opt.max_garbled)
      why = "garbled text layer (" + std::to_string(int(std::lround(100 * bad))) +
            "% of its characters have no Unicode meaning)";
    else if (p.text_over_image)
      why = "its text lies over a page-sized image (an OCR layer over a scan?)";
    else if (glyphless_share(p) > 0.5)
      why = "its text is an invisible OCR layer (GlyphLessFont) over a scan";
    if (why.empty()) continue;
    res.pages_unusable.push_back(p.page_no);
    res.warnings.push_back("'" + name + "' page " + std::to_string(p.page_no) + ": " + why);
  }
  Builder bld{res.doc, opt, 10, Ref{}, {}, {}};
  bld.body_fs = body_font_size(pages);
  std::vector<std::vector<Furn>> furn =
      opt.furniture ? find_furniture(pages, bld.body_fs) : std::vector<std::vector<Furn>>{};
  for (size_t p = 0; p < pages.size(); ++p) {
    if (!opt.furniture) furn.push_back(std::vector<Furn>(pages[p].lines.size(), Furn::No));
    build_page(pages[p], furn[p], bld);
  }
  if (!shown.empty()) {
    auto back = [&](BoundingBox& b, int page_no) {
      auto it = shown.find(page_no);
      if (it == shown.end()) return;
      to_display(b.l, b.t, b.r, b.b, it->second.first, it->second.second.width, it->second.second.height);
    };
    auto items = [&](auto& vec) {
      for (auto& it : vec)
        for (ProvenanceItem& pr : it.prov) back(pr.bbox, pr.page_no);
    };
    items(res.doc.texts);
    items(res.doc.pictures);
    items(res.doc.key_value_items);
    for (TableItem& t : res.doc.tables) {
      if (t.prov.empty()) continue;
      for (TableCell& cell : t.data.cells)
        if (cell.bbox) back(*cell.bbox, t.prov.front().page_no);
      for (ProvenanceItem& pr : t.prov) back(pr.bbox, pr.page_no);
    }
  }
  assign_levels(bld, pages.empty() ? 1 : pages.front().page_no);
  return res;
}

TextBackendResult convert_text_layer(const PageSource& src, const std::vector<int>& pages,
                                     const TextBackendOptions& opt) {
  std::vector<int> sel = pages;
  if (sel.empty())
    for (int p = 1; p <= src.page_count(); ++p) sel.push_back(p);
  std::vector<TextPage> read;
  std::vector<std::string> warnings;
  std::vector<int> failed;
  std::vector<std::pair<int, Size>> failed_sizes;
  for (int p : sel) {
    if (opt.on_page_start) opt.on_page_start(p);
    try {
      TextPage tp;
      tp.page_no = p;
      Size s = src.page_size(p);
      tp.width = s.width, tp.height = s.height;
      tp.rotation = src.page_rotation(p);
      tp.words = src.words(p);
      bool look = (opt.pictures && worth_rendering(tp)) || (opt.check_scans && !tp.words.empty());
      bool rules = opt.tables && opt.table_rules && opt.rule_dpi > 0 && !tp.words.empty() && table_signs(tp);
      // Words and the renderings are all in the displayed frame here.
      Image fine;
      if (rules) {
        fine = src.render(p, opt.rule_dpi);
        RuleLines rl = find_rule_lines(fine, tp.width, tp.height, tp.words);
        tp.hrules = std::move(rl.h), tp.vrules = std::move(rl.v);
      }
      if (look && opt.picture_dpi > 0) {
        Image low;
        if (rules && opt.picture_dpi < opt.rule_dpi) {  // the same rendering, scaled down
          int w = 0, h = 0;
          src.raster_size(p, opt.picture_dpi, &w, &h);
          low = resize_image(fine, w, h);
        } else {
          low = src.render(p, opt.picture_dpi);
        }
        PageInk ink = find_page_ink(low, tp.width, tp.height, tp.words);
        if (opt.pictures) tp.pictures = std::move(ink.pictures);
        tp.text_over_image = ink.text_over_image;
      }
      make_upright(tp);
      build_lines(tp, opt.line_gap_em);
      read.push_back(std::move(tp));
    } catch (const std::exception& e) {
      failed.push_back(p);
      warnings.push_back(e.what());
      try {
        failed_sizes.push_back({p, src.page_size(p)});
      } catch (const std::exception&) {
      }
    }
  }
  std::string name = src.name();
  size_t slash = name.find_last_of('/');
  std::string stem = slash == std::string::npos ? name : name.substr(slash + 1);
  size_t dot = stem.find_last_of('.');
  if (dot != std::string::npos && dot > 0) stem = stem.substr(0, dot);
  TextBackendResult res = convert_text_pages(std::move(read), stem, opt);
  for (auto& [p, s] : failed_sizes) res.doc.add_page(p, s);
  res.failed_pages = failed;
  res.warnings.insert(res.warnings.begin(), warnings.begin(), warnings.end());
  // Warnings name the file as given, not the stem.
  for (std::string& w : res.warnings)
    if (w.rfind("'" + stem + "' page", 0) == 0) w = "'" + name + "'" + w.substr(stem.size() + 2);
  return res;
}

void crop_pictures(Document& doc, int page_no, const Image& img, double dpi) {
  const PageItem* page = doc.page(page_no);
  if (!page || img.empty() || page->size.width <= 0 || page->size.height <= 0) return;
  const double sx = img.width / page->size.width, sy = img.height / page->size.height;
  for (PictureItem& pic : doc.pictures) {
    if (pic.image || pic.prov.empty() || pic.prov.front().page_no != page_no) continue;
    BoundingBox b = pic.prov.front().bbox.to_top_left(page->size.height);
    Image crop = img.crop(int(std::floor(b.l * sx)), int(std::floor(b.t * sy)), int(std::ceil(b.r * sx)),
                          int(std::ceil(b.b * sy)));
    if (!crop.empty()) pic.image = png_image_ref(crop, dpi);
  }
}

}  // namespace docling
