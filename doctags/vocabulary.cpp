#include "doctags/vocabulary.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <unordered_map>

namespace docling::doctags {

namespace {

struct Named {
  const char* name;
  Tag tag;
};

// Paired element tags (open and close) and unpaired markers without a value.
constexpr Named kNamed[] = {
    {"doctag", Tag::Doctag},
    {"page_break", Tag::PageBreak},
    {"title", Tag::Title},
    {"text", Tag::Text},
    {"caption", Tag::Caption},
    {"footnote", Tag::Footnote},
    {"page_header", Tag::PageHeader},
    {"page_footer", Tag::PageFooter},
    {"formula", Tag::Formula},
    {"code", Tag::Code},
    {"list_item", Tag::ListItem},
    {"document_index", Tag::DocumentIndex},
    {"checkbox_selected", Tag::CheckboxSelected},
    {"checkbox_unselected", Tag::CheckboxUnselected},
    {"paragraph", Tag::Paragraph},
    {"reference", Tag::Reference},
    {"handwritten_text", Tag::HandwrittenText},
    {"smiles", Tag::Smiles},
    {"ordered_list", Tag::OrderedList},
    {"unordered_list", Tag::UnorderedList},
    {"inline", Tag::Inline},
    {"otsl", Tag::Otsl},
    {"picture", Tag::Picture},
    {"chart", Tag::Chart},
    {"key_value_region", Tag::KeyValueRegion},
    {"form", Tag::Form},
    {"table", Tag::Table},
    {"fcel", Tag::Fcel},
    {"ecel", Tag::Ecel},
    {"lcel", Tag::Lcel},
    {"ucel", Tag::Ucel},
    {"xcel", Tag::Xcel},
    {"nl", Tag::Nl},
    {"ched", Tag::Ched},
    {"rhed", Tag::Rhed},
    {"srow", Tag::Srow},
    {"column_header", Tag::ColumnHeader},
    {"row_header", Tag::RowHeader},
    {"shed", Tag::Shed},
    {"data", Tag::Data},
    {"end_of_utterance", Tag::EndOfUtterance},
    {"|end_of_text|", Tag::EndOfText},
};

// Classifier v2, then the legacy v1 names, then "other" (dc PictureClassificationLabel).
constexpr const char* kPictureClasses[] = {
    "bar_chart", "box_plot", "flow_chart", "line_chart", "pie_chart", "scatter_plot", "table",
    "full_page_image", "page_thumbnail", "photograph", "chemistry_structure", "bar_code", "icon",
    "logo", "qr_code", "signature", "stamp", "engineering_drawing", "screenshot_from_computer",
    "screenshot_from_manual", "geographical_map", "topographical_map", "calendar",
    "crossword_puzzle", "music",
    "cad_drawing", "chart", "decoration", "electrical_diagram", "map", "heatmap", "illustration",
    "infographic", "chemistry_markush_structure", "chemistry_molecular_structure",
    "natural_image", "person", "picture_group", "remote_sensing", "scatter_chart", "screenshot",
    "stacked_bar_chart", "stratigraphic_chart", "ui_element",
    "other"};

struct Alias {
  const char* alias;
  const char* canonical;
};
// SmolDocling's chart names (dc load_from_doctags maps them the same way).
constexpr Alias kClassAliases[] = {
    {"line", "line_chart"},
    {"dot_line", "line_chart"},
    {"vbar_categorical", "bar_chart"},
    {"hbar_categorical", "bar_chart"},
};

// Written as <chart> by docling-core's DocTags serializer.
constexpr const char* kChartClasses[] = {"pie_chart", "bar_chart", "stacked_bar_chart",
                                         "line_chart", "flow_chart", "scatter_chart", "heatmap"};

constexpr const char* kLanguages[] = {
    "Ada", "Awk", "Bash", "bc", "C", "C#", "C++", "CMake", "COBOL", "CSS", "Ceylon", "Clojure",
    "Crystal", "Cuda", "Cython", "D", "Dart", "dc", "Dockerfile", "Elixir", "Erlang", "FORTRAN",
    "Forth", "Go", "HTML", "Haskell", "Haxe", "Java", "JavaScript", "Julia", "Kotlin", "Lisp",
    "Lua", "Matlab", "MoonScript", "Nim", "OCaml", "ObjectiveC", "Octave", "PHP", "Pascal", "Perl",
    "Prolog", "Python", "Racket", "Ruby", "Rust", "SML", "SQL", "Scala", "Scheme", "Swift",
    "TypeScript", "unknown", "VisualBasic", "XML", "YAML"};
static_assert(std::size(kLanguages) == 57);

constexpr int kMaxSectionLevel = 100;  // dc LevelNumber: 1..100

struct Tables {
  std::unordered_map<std::string_view, Tag> named;
  std::unordered_map<std::string_view, int> classes;    // includes aliases
  std::unordered_map<std::string_view, int> languages;
  Tables() {
    for (const Named& n : kNamed) named.emplace(n.name, n.tag);
    for (int i = 0; i < int(std::size(kPictureClasses)); ++i) classes.emplace(kPictureClasses[i], i);
    for (const Alias& a : kClassAliases) classes.emplace(a.alias, classes.at(a.canonical));
    for (int i = 0; i < int(std::size(kLanguages)); ++i) languages.emplace(kLanguages[i], i);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// Parses a non-negative decimal number filling all of s; huge values saturate at INT_MAX
// (never UB), so "<loc_99999999999>" is still a location the parser can clamp and report.
std::optional<int> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = std::min<long long>(v * 10 + (c - '0'), INT_MAX);
  }
  return int(v);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// pre + mid + post without operator+ chains (GCC 12 warns falsely on those, -Wrestrict).
std::string wrap(std::string_view pre, std::string_view mid, std::string_view post) {
  std::string s;
  s.reserve(pre.size() + mid.size() + post.size());
  s.append(pre).append(mid).append(post);
  return s;
}

}  // namespace

TagInfo classify_tag(std::string_view inner) {
  TagInfo info;
  if (!inner.empty() && inner[0] == '/') {
    info.closing = true;
    inner.remove_prefix(1);
  }
  if (inner.empty()) return info;
  const Tables& t = tables();
  if (auto it = t.named.find(inner); it != t.named.end()) {
    info.tag = it->second;
    return info;
  }
  // Numbered forms.
  struct Prefixed {
    std::string_view prefix;
    Tag tag;
  };
  static constexpr Prefixed kPrefixed[] = {
      {"loc_", Tag::Loc},   {"section_header_level_", Tag::SectionHeader},
      {"key_", Tag::Key},   {"value_", Tag::Value},
      {"link_", Tag::Link},
  };
  for (const Prefixed& p : kPrefixed) {
    if (!starts_with(inner, p.prefix)) continue;
    auto n = parse_number(inner.substr(p.prefix.size()));
    if (!n) break;
    info.tag = p.tag;
    info.value = *n;
    if (p.tag == Tag::SectionHeader) info.value = std::min(std::max(*n, 1), kMaxSectionLevel);
    return info;
  }
  if (auto it = t.classes.find(inner); it != t.classes.end()) {
    info.tag = Tag::PictureClass;
    info.value = it->second;
    return info;
  }
  if (inner.size() >= 3 && inner.front() == '_' && inner.back() == '_') {
    info.tag = Tag::CodeLanguage;
    auto it = t.languages.find(inner.substr(1, inner.size() - 2));
    info.value = it != t.languages.end() ? it->second : *code_language_index("unknown");
    return info;
  }
  return info;
}

std::string tag_name(Tag tag, int level) {
  if (tag == Tag::SectionHeader) return wrap("section_header_level_", std::to_string(level), "");
  for (const Named& n : kNamed)
    if (n.tag == tag) return n.name;
  return "";
}

std::string open_tag(Tag tag, int level) { return wrap("<", tag_name(tag, level), ">"); }
std::string close_tag(Tag tag, int level) { return wrap("</", tag_name(tag, level), ">"); }
std::string loc_token(int n) { return wrap("<loc_", std::to_string(n), ">"); }
std::string key_token(int id, bool closing) {
  return wrap(closing ? "</key_" : "<key_", std::to_string(id), ">");
}
std::string value_token(int id, bool closing) {
  return wrap(closing ? "</value_" : "<value_", std::to_string(id), ">");
}
std::string link_token(int id) { return wrap("<link_", std::to_string(id), ">"); }

const char* otsl_token(Tag cell) {
  switch (cell) {
    case Tag::Fcel: return "<fcel>";
    case Tag::Ecel: return "<ecel>";
    case Tag::Lcel: return "<lcel>";
    case Tag::Ucel: return "<ucel>";
    case Tag::Xcel: return "<xcel>";
    case Tag::Nl: return "<nl>";
    case Tag::Ched: return "<ched>";
    case Tag::Rhed: return "<rhed>";
    case Tag::Srow: return "<srow>";
    default: return "";
  }
}

bool is_text_element(Tag tag) {
  switch (tag) {
    case Tag::Title: case Tag::Text: case Tag::SectionHeader: case Tag::Caption:
    case Tag::Footnote: case Tag::PageHeader: case Tag::PageFooter: case Tag::Formula:
    case Tag::Code: case Tag::ListItem: case Tag::DocumentIndex: case Tag::CheckboxSelected:
    case Tag::CheckboxUnselected: case Tag::Paragraph: case Tag::Reference:
    case Tag::HandwrittenText: case Tag::Smiles:
      return true;
    default:
      return false;
  }
}

bool is_block(Tag tag) {
  switch (tag) {
    case Tag::OrderedList: case Tag::UnorderedList: case Tag::Inline: case Tag::Otsl:
    case Tag::Picture: case Tag::Chart: case Tag::KeyValueRegion: case Tag::Form:
      return true;
    default:
      return is_text_element(tag);
  }
}

bool is_chart_class(int index) {
  if (index < 0 || index >= picture_class_count()) return false;
  std::string_view name = kPictureClasses[index];
  for (const char* c : kChartClasses)
    if (name == c) return true;
  return false;
}

int picture_class_count() { return int(std::size(kPictureClasses)); }
const char* picture_class_name(int index) {
  return index >= 0 && index < picture_class_count() ? kPictureClasses[index] : "other";
}
std::optional<int> picture_class_index(std::string_view name) {
  const auto& m = tables().classes;
  if (auto it = m.find(name); it != m.end()) return it->second;
  return std::nullopt;
}
std::string picture_class_token(int index) {
  return wrap("<", picture_class_name(index), ">");
}

int code_language_count() { return int(std::size(kLanguages)); }
const char* code_language_name(int index) {
  return index >= 0 && index < code_language_count() ? kLanguages[index] : "unknown";
}
std::optional<int> code_language_index(std::string_view name) {
  const auto& m = tables().languages;
  if (auto it = m.find(name); it != m.end()) return it->second;
  return std::nullopt;
}
std::string code_language_token(std::string_view name) {
  return wrap("<_", code_language_index(name) ? name : "unknown", "_>");
}

std::optional<Label> label_for(Tag tag) {
  switch (tag) {
    case Tag::Title: return Label::Title;
    case Tag::Text: return Label::Text;
    case Tag::SectionHeader: return Label::SectionHeader;
    case Tag::Caption: return Label::Caption;
    case Tag::Footnote: return Label::Footnote;
    case Tag::PageHeader: return Label::PageHeader;
    case Tag::PageFooter: return Label::PageFooter;
    case Tag::Formula: return Label::Formula;
    case Tag::Code: return Label::Code;
    case Tag::ListItem: return Label::ListItem;
    case Tag::DocumentIndex: return Label::DocumentIndex;
    case Tag::CheckboxSelected: return Label::CheckboxSelected;
    case Tag::CheckboxUnselected: return Label::CheckboxUnselected;
    case Tag::Paragraph: return Label::Paragraph;
    case Tag::Reference: return Label::Reference;
    case Tag::HandwrittenText: return Label::HandwrittenText;
    case Tag::Otsl: return Label::Table;
    case Tag::Picture: return Label::Picture;
    case Tag::Chart: return Label::Chart;
    case Tag::KeyValueRegion: return Label::KeyValueRegion;
    case Tag::Form: return Label::Form;
    default: return std::nullopt;
  }
}

std::optional<Tag> tag_for(Label label) {
  switch (label) {
    case Label::Title: return Tag::Title;
    case Label::Text: return Tag::Text;
    case Label::SectionHeader: return Tag::SectionHeader;
    case Label::Caption: return Tag::Caption;
    case Label::Footnote: return Tag::Footnote;
    case Label::PageHeader: return Tag::PageHeader;
    case Label::PageFooter: return Tag::PageFooter;
    case Label::Formula: return Tag::Formula;
    case Label::Code: return Tag::Code;
    case Label::ListItem: return Tag::ListItem;
    case Label::DocumentIndex: return Tag::DocumentIndex;
    case Label::CheckboxSelected: return Tag::CheckboxSelected;
    case Label::CheckboxUnselected: return Tag::CheckboxUnselected;
    case Label::Paragraph: return Tag::Paragraph;
    case Label::Reference: return Tag::Reference;
    case Label::HandwrittenText: return Tag::HandwrittenText;
    case Label::Table: return Tag::Otsl;
    case Label::Picture: return Tag::Picture;
    case Label::Chart: return Tag::Chart;
    case Label::KeyValueRegion: return Tag::KeyValueRegion;
    case Label::Form: return Tag::Form;
    default: return std::nullopt;
  }
}

}  // namespace docling::doctags
