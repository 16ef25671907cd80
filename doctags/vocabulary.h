// The DocTags vocabulary as docling-core defines it (tokens.py, labels.py): element tags,
// section header levels, OTSL cell tokens (with the legacy names), location tokens,
// picture classes (classifier v1, v2 and SmolDocling's aliases), the 57 code languages,
// key/value/link cell tokens, page breaks and model stop markers.
//
// Takes: the text between '<' and '>' of one tag. Gives: what it is (TagInfo), and the
// tag text for every kind (for writers). No state; the tables are built once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/document.h"

namespace docling::doctags {

enum class Tag : uint8_t {
  Unknown,
  // document structure
  Doctag, PageBreak,
  // text-like leaf elements
  Title, Text, SectionHeader, Caption, Footnote, PageHeader, PageFooter, Formula, Code,
  ListItem, DocumentIndex, CheckboxSelected, CheckboxUnselected, Paragraph, Reference,
  HandwrittenText, Smiles,
  // containers and floating items
  OrderedList, UnorderedList, Inline, Otsl, Picture, Chart, KeyValueRegion, Form, Table,
  // markers (no close tag)
  Loc,                                                    // value = N of <loc_N>
  Fcel, Ecel, Lcel, Ucel, Xcel, Nl, Ched, Rhed, Srow,     // OTSL
  ColumnHeader, RowHeader, Shed, Data,                    // legacy table cell labels
  Key, Value, Link,                                       // value = cell id
  PictureClass,                                           // value = class index
  CodeLanguage,                                           // value = language index
  EndOfUtterance, EndOfText,                              // model stop markers
};

struct TagInfo {
  Tag tag = Tag::Unknown;
  bool closing = false;
  int value = 0;  // loc number, section level, key/value/link id, class or language index
};

// Classify a tag from the text between '<' and '>' ("loc_12", "/text", "_Python_").
// Picture class names that are also element names ("chart", "table") classify as the
// element; use picture_class_index() where a class is expected.
TagInfo classify_tag(std::string_view inner);

// Element tag name for an element kind ("text", "section_header_level_2", ...).
// Empty for markers that carry a value; use the token helpers below for those.
std::string tag_name(Tag tag, int level = 1);
std::string open_tag(Tag tag, int level = 1);   // "<text>"
std::string close_tag(Tag tag, int level = 1);  // "</text>"
std::string loc_token(int n);                   // "<loc_12>"
std::string key_token(int id, bool closing = false);    // "<key_3>" / "</key_3>"
std::string value_token(int id, bool closing = false);  // "<value_3>"
std::string link_token(int id);                         // "<link_3>"
const char* otsl_token(Tag cell);                       // "<fcel>" ... "<nl>"

// True for tags that open a block element (a paired tag the parser builds an item from).
bool is_block(Tag tag);
// True for leaf elements that hold text (title, text, caption, code, list_item, ...).
bool is_text_element(Tag tag);
// Chart-like picture classes are written as <chart> instead of <picture>.
bool is_chart_class(int class_index);

// Picture classes: canonical names (v2, then v1, then "other"); SmolDocling aliases
// ("line", "dot_line", "vbar_categorical", "hbar_categorical") map to canonical ones.
int picture_class_count();
const char* picture_class_name(int index);
std::optional<int> picture_class_index(std::string_view name);  // accepts aliases
std::string picture_class_token(int index);                     // "<bar_chart>"

// Code languages: the 57 names of docling-core, spelled as in "<_Python_>".
int code_language_count();
const char* code_language_name(int index);
std::optional<int> code_language_index(std::string_view name);
std::string code_language_token(std::string_view name);  // "<_Python_>"; unknown → "<_unknown_>"

// Item label for a text-like element tag, and the element tag docling-core writes for a
// label (section headers: Tag::SectionHeader with the item's level).
std::optional<Label> label_for(Tag tag);
std::optional<Tag> tag_for(Label label);

}  // namespace docling::doctags
