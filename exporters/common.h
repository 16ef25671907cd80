// Options shared by every exporter (docling-core's CommonParams) and small text
// helpers the exporters share: Python-compatible escaping, repr and humanising.
//
// Takes: a Document. Gives: nothing by itself; markdown.h, html.h, doctags_writer.h
// and text.h build on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.h"
#include "docling/document.hpp"  // ImageMode

namespace docling {

// A set of labels / layers as bits (bit i = enum value i).
using LabelSet = uint64_t;
using LayerSet = uint32_t;

constexpr LabelSet label_bit(Label l) { return LabelSet{1} << static_cast<int>(l); }
constexpr LayerSet layer_bit(ContentLayer c) { return LayerSet{1} << static_cast<int>(c); }
constexpr LayerSet kAllLayers = 0x1f;
constexpr LayerSet kBodyLayer = LayerSet{1} << static_cast<int>(ContentLayer::Body);

// docling-core's DOCUMENT_TOKENS_EXPORT_LABELS (the default label filter). Note that
// `chart` is not in it, as upstream.
LabelSet document_tokens_export_labels();

struct ExportFilter {
  LabelSet labels = document_tokens_export_labels();
  LayerSet layers = kAllLayers;
  std::optional<std::set<int>> pages;  // items whose first provenance is on these pages
  size_t start_idx = 0, stop_idx = SIZE_MAX;  // slice of the pre-order item sequence
  bool include_formatting = true;
  bool include_hyperlinks = true;
  std::string caption_delim = " ";
  bool traverse_pictures = false;  // export what sits inside pictures
};

// The parts with `sep` between them (Python's sep.join).
std::string join(const std::vector<std::string>& parts, const std::string& sep);

// Python html.escape(s, quote): & < > always, " and ' when quote.
std::string html_escape(std::string_view s, bool quote);
// Python str.strip() for the whitespace that matters here (ASCII + Unicode spaces).
std::string py_strip(std::string_view s);
// repr()/str() of a JSON value as Python prints the equivalent dict/list/str/float.
std::string py_repr(const Json& v);
std::string py_str(const Json& v);  // str(): strings unquoted, containers as repr
// repr() of a Python float (shortest round-trip, 1e+16 / 1e-05 exponent forms).
std::string py_float(double v);
// docling-core's _humanize_text: "__"→"_", "_"→" ", then str.capitalize() (or title()).
std::string humanize(std::string_view s, bool title = false);
// "rtl" when the first character, or more than half of them, are right-to-left letters.
bool is_rtl_text(std::string_view s);
// A TableData from its JSON (chart data inside picture meta); grid is recomputed.
TableData table_data_from_json(const Json& j);
// The main prediction of a classification meta field: highest confidence, else first.
std::string main_class_name(const Json& classification);
// Meta field names in docling-core's model order, then custom fields in JSON order (not
// docling-cpp's own "docling_cpp__" annotations, which only the JSON carries).
std::vector<std::string> meta_field_order(const Json& meta);
// What docling-core's Markdown and HTML exports show of meta field k with value v: the text of
// a summary or description, a classification's main class, a molecule's SMILES, `chart` of a
// tabular chart's data, else str(v). nullopt where the field shows nothing: an empty string or
// container, a chart without data or whose `chart` is empty.
std::optional<std::string> meta_field_text(const std::string& k, const Json& v,
                                           const std::function<std::string(const TableData&)>& chart);

// How pydantic prints a hyperlink: URLs with an empty path get "/", paths stay.
std::string hyperlink_str(const std::string& link);

}  // namespace docling
