#include "exporters/common.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/utf8.h"

namespace docling {

LabelSet document_tokens_export_labels() {
  LabelSet s = 0;
  for (Label l : {Label::Title, Label::DocumentIndex, Label::SectionHeader, Label::Paragraph,
                  Label::Table, Label::Picture, Label::Formula, Label::CheckboxUnselected,
                  Label::CheckboxSelected, Label::Text, Label::ListItem, Label::Code,
                  Label::Reference, Label::PageHeader, Label::PageFooter, Label::KeyValueRegion,
                  Label::EmptyValue, Label::FieldKey, Label::FieldValue, Label::FieldHeading,
                  Label::FieldHint, Label::Marker, Label::HandwrittenText, Label::Footnote,
                  Label::Caption, Label::Form})
    s |= label_bit(l);
  return s;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string html_escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += quote ? "&quot;" : "\""; break;
      case '\'': out += quote ? "&#x27;" : "'"; break;
      default: out += c;
    }
  }
  return out;
}

std::string py_strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t n = 0;
    uint32_t cp = utf8_decode(s, b, &n);
    if (!py_isspace(cp)) break;
    b += n;
  }
  while (e > b) {
    size_t start = utf8_prev(s, e);
    size_t n = 0;
    uint32_t cp = utf8_decode(s, start, &n);
    if (!py_isspace(cp)) break;
    e = start;
  }
  return std::string(s.substr(b, e - b));
}

namespace {

// Python repr(str): single quotes unless the text has ' and no ".
std::string repr_string(const std::string& s) {
  bool sq = s.find('\'') != std::string::npos, dq = s.find('"') != std::string::npos;
  char q = (sq && !dq) ? '"' : '\'';
  std::string out(1, q);
  for (size_t i = 0; i < s.size();) {
    size_t n = 0;
    uint32_t cp = utf8_decode(s, i, &n);
    if (cp == static_cast<uint32_t>(q) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') out += "\\n";
    else if (cp == '\r') out += "\\r";
    else if (cp == '\t') out += "\\t";
    else if (cp < 0x20 || cp == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", cp);
      out += buf;
    } else out.append(s, i, n);
    i += n;
  }
  out += q;
  return out;
}

}  // namespace

// Python float repr: shortest round-trip digits, exponent form outside [1e-4, 1e16).
std::string py_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // d.ddde±XX
  size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  int exp = std::atoi(sci.c_str() + epos + 1);
  bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out;
  if (exp < -4 || exp >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1, std::string::npos);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  } else if (exp < 0) {
    out = "0." + std::string(-exp - 1, '0') + digits;
  } else {
    if (static_cast<int>(digits.size()) <= exp + 1) {
      out = digits + std::string(exp + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
    }
  }
  return neg ? "-" + out : out;
}

std::string py_repr(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "None";
    case Json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case Json::value_t::number_integer: return std::to_string(v.get<long long>());
    case Json::value_t::number_unsigned: return std::to_string(v.get<unsigned long long>());
    case Json::value_t::number_float: return py_float(v.get<double>());
    case Json::value_t::string: return repr_string(v.get<std::string>());
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + py_repr(v[i]);
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out += (first ? "" : ", ") + repr_string(it.key()) + ": " + py_repr(it.value());
        first = false;
      }
      return out + "}";
    }
    default: return "";
  }
}

std::string py_str(const Json& v) { return v.is_string() ? v.get<std::string>() : py_repr(v); }

std::string humanize(std::string_view s, bool title) {
  std::string t;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i + 1 < s.size() && s[i + 1] == '_') ++i;
      t += ' ';
    } else t += s[i];
  }
  // ASCII case mapping covers the class names and meta keys this is used for.
  bool start = true;
  for (size_t i = 0; i < t.size(); ++i) {
    char& c = t[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (title) {
      if (alpha) c = start ? static_cast<char>(std::toupper(c)) : static_cast<char>(std::tolower(c));
      start = !alpha;
    } else {
      c = (i == 0) ? static_cast<char>(std::toupper(c)) : static_cast<char>(std::tolower(c));
    }
  }
  return t;
}

namespace {
// Bidi classes R and AL by block (Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan,
// Mandaic, presentation forms), leaving out the Arabic-Indic digits (class AN).
bool rtl_letter(uint32_t u) {
  auto in = [u](uint32_t a, uint32_t b) { return u >= a && u <= b; };
  return u == 0x05BE || u == 0x05C0 || u == 0x05C3 || u == 0x05C6 || in(0x05D0, 0x05EA) ||
         in(0x05EF, 0x05F4) || u == 0x0608 || u == 0x060B || u == 0x060D || in(0x061B, 0x064A) ||
         in(0x066D, 0x066F) || in(0x0671, 0x06D5) || u == 0x06E5 || u == 0x06E6 || u == 0x06EE ||
         u == 0x06EF || in(0x06FA, 0x070D) || u == 0x070F || u == 0x0710 || in(0x0712, 0x072F) ||
         in(0x074D, 0x07A5) || u == 0x07B1 || in(0x07C0, 0x07EA) || u == 0x07F4 || u == 0x07F5 ||
         u == 0x07FA || in(0x07FE, 0x0815) || u == 0x081A || u == 0x0824 || u == 0x0828 ||
         in(0x0830, 0x083E) || in(0x0840, 0x0858) || u == 0x085E || in(0x0860, 0x086A) ||
         in(0x0870, 0x088E) || in(0x08A0, 0x08C9) || u == 0x200F || u == 0xFB1D ||
         in(0xFB1F, 0xFB28) || in(0xFB2A, 0xFB4F) || in(0xFB50, 0xFD3D) || in(0xFD50, 0xFDC7) ||
         in(0xFDF0, 0xFDFC) || in(0xFE70, 0xFEFC) || in(0x10800, 0x10FFF) || in(0x1E800, 0x1EFFF);
}
}  // namespace

bool is_rtl_text(std::string_view s) {
  if (s.empty()) return false;
  size_t total = 0, rtl = 0, n = 0;
  bool first = true, first_rtl = false;
  for (size_t i = 0; i < s.size(); i += n) {
    uint32_t cp = utf8_decode(s, i, &n);
    bool r = rtl_letter(cp);
    if (first) first_rtl = r, first = false;
    rtl += r;
    ++total;
  }
  return first_rtl || rtl * 2 > total;
}

std::string hyperlink_str(const std::string& link) {
  size_t scheme = link.find("://");
  if (scheme == std::string::npos || scheme == 0) return link;
  for (size_t i = 0; i < scheme; ++i) {
    char c = link[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return link;
  }
  size_t host = scheme + 3;
  size_t end = link.find_first_of("/?#", host);
  if (end == std::string::npos) return link + "/";
  if (link[end] != '/') return link.substr(0, end) + "/" + link.substr(end);
  return link;
}

TableData table_data_from_json(const Json& j) {
  TableData td;
  if (!j.is_object()) return td;
  auto num = [](const Json& o, const char* k, int def) {
    return o.contains(k) && o[k].is_number_integer() ? o[k].get<int>() : def;
  };
  td.num_rows = num(j, "num_rows", 0);
  td.num_cols = num(j, "num_cols", 0);
  if (j.contains("table_cells") && j["table_cells"].is_array())
    for (const Json& c : j["table_cells"]) {
      if (!c.is_object()) continue;
      TableCell tc;
      tc.row_span = num(c, "row_span", 1);
      tc.col_span = num(c, "col_span", 1);
      tc.start_row = num(c, "start_row_offset_idx", 0);
      tc.end_row = num(c, "end_row_offset_idx", tc.start_row + tc.row_span);
      tc.start_col = num(c, "start_col_offset_idx", 0);
      tc.end_col = num(c, "end_col_offset_idx", tc.start_col + tc.col_span);
      if (c.contains("text") && c["text"].is_string()) tc.text = c["text"].get<std::string>();
      auto flag = [&](const char* k) { return c.contains(k) && c[k].is_boolean() && c[k].get<bool>(); };
      tc.column_header = flag("column_header");
      tc.row_header = flag("row_header");
      tc.row_section = flag("row_section");
      td.cells.push_back(std::move(tc));
    }
  return td;
}

std::string main_class_name(const Json& cls) {
  if (!cls.is_object() || !cls.contains("predictions") || !cls["predictions"].is_array() ||
      cls["predictions"].empty())
    return "";
  const Json& preds = cls["predictions"];
  int best = -1;
  double best_conf = 0;
  for (size_t i = 0; i < preds.size(); ++i) {
    const Json& p = preds[i];
    if (p.contains("confidence") && p["confidence"].is_number()) {
      double c = p["confidence"].get<double>();
      if (best < 0 || c > best_conf) best = static_cast<int>(i), best_conf = c;
    }
  }
  const Json& p = preds[best < 0 ? 0 : best];
  return p.contains("class_name") && p["class_name"].is_string() ? p["class_name"].get<std::string>() : "";
}

std::vector<std::string> meta_field_order(const Json& meta) {
  static const char* kOrder[] = {"summary", "language", "entities", "keywords", "topics",
                                 "description", "classification", "molecule", "tabular_chart",
                                 "code", "chart_axes", "chart_series", "chart_color_legend",
                                 "formula"};
  std::vector<std::string> out;
  if (!meta.is_object()) return out;
  for (const char* k : kOrder)
    if (meta.contains(k)) out.push_back(k);
  for (auto it = meta.begin(); it != meta.end(); ++it) {
    bool std_field = false;
    for (const char* k : kOrder)
      if (it.key() == k) std_field = true;
    // docling-cpp's own quality annotations (pipeline/quality.h) are about the content, not
    // content: the exports leave them to the JSON.
    if (!std_field && it.key().rfind("docling_cpp__", 0) != 0) out.push_back(it.key());
  }
  return out;
}

std::optional<std::string> meta_field_text(const std::string& k, const Json& v,
                                           const std::function<std::string(const TableData&)>& chart) {
  if (k == "summary" || k == "description") return v.is_object() ? v.value("text", "") : "";
  if (k == "classification") return humanize(main_class_name(v));
  if (k == "molecule") return v.is_object() ? v.value("smi", "") : "";
  if (k == "tabular_chart") {
    if (!v.is_object() || !v.contains("chart_data")) return std::nullopt;
    std::string txt = chart(table_data_from_json(v["chart_data"]));
    if (txt.empty()) return std::nullopt;
    return txt;
  }
  // str(value): falsy values (empty containers and strings) show nothing
  if ((v.is_object() || v.is_array() || v.is_string()) && v.empty()) return std::nullopt;
  return py_str(v);
}

}  // namespace docling
