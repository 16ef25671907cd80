#include "exporters/tabulate.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "exporters/common.h"
#include "core/utf8.h"

namespace docling {

namespace {

// Decimal value of a Unicode decimal digit (common Nd blocks), or -1.
int digit_value(uint32_t c) {
  static const uint32_t zeros[] = {0x30,   0x660,  0x6F0,  0x7C0,  0x966,  0x9E6,  0xA66,
                                   0xAE6,  0xB66,  0xBE6,  0xC66,  0xCE6,  0xD66,  0xE50,
                                   0xED0,  0xF20,  0x1040, 0x17E0, 0x1810, 0xFF10};
  for (uint32_t z : zeros)
    if (c >= z && c <= z + 9) return static_cast<int>(c - z);
  return -1;
}

// Python's int()/float() see the text with surrounding whitespace removed and
// Unicode digits mapped to ASCII; anything else non-ASCII rejects the number.
bool normalize(const std::string& s, std::string* out) {
  std::string t = py_strip(s);
  out->clear();
  for (size_t i = 0, n = 0; i < t.size(); i += n) {
    uint32_t cp = utf8_decode(t, i, &n);
    int d = digit_value(cp);
    if (d >= 0) out->push_back(static_cast<char>('0' + d));
    else if (cp < 0x80) out->push_back(static_cast<char>(cp));
    else return false;
  }
  return !out->empty();
}

// digit (["_"] digit)* starting at i; returns the end, or i when none.
size_t digit_part(const std::string& s, size_t i, std::string* digits) {
  size_t j = i;
  if (j >= s.size() || !std::isdigit(static_cast<unsigned char>(s[j]))) return i;
  while (j < s.size()) {
    if (std::isdigit(static_cast<unsigned char>(s[j]))) {
      digits->push_back(s[j++]);
    } else if (s[j] == '_' && j + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
      ++j;
    } else break;
  }
  return j;
}

bool lower_eq(const std::string& a, const char* b) {
  size_t n = std::char_traits<char>::length(b);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

// Parses a Python float literal; *special = inf/nan spelled out.
bool parse_float(const std::string& raw, double* value) {
  std::string s;
  if (!normalize(raw, &s)) return false;
  size_t i = 0;
  std::string clean;
  if (s[i] == '+' || s[i] == '-') clean += s[i++];
  std::string rest = s.substr(i);
  if (lower_eq(rest, "inf") || lower_eq(rest, "infinity")) {
    *value = clean == "-" ? -INFINITY : INFINITY;
    return true;
  }
  if (lower_eq(rest, "nan")) {
    *value = NAN;
    return true;
  }
  std::string digits;
  size_t j = digit_part(s, i, &digits);
  bool mant = j > i;
  clean += digits;
  if (j < s.size() && s[j] == '.') {
    clean += '.';
    std::string frac;
    size_t k = digit_part(s, j + 1, &frac);
    mant = mant || k > j + 1;
    clean += frac;
    j = k;
  }
  if (!mant) return false;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    clean += 'e';
    ++j;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) clean += s[j++];
    std::string exp;
    size_t k = digit_part(s, j, &exp);
    if (k == j) return false;
    clean += exp;
    j = k;
  }
  if (j != s.size()) return false;
  *value = std::strtod(clean.c_str(), nullptr);
  return true;
}

}  // namespace

bool py_int_parses(const std::string& raw) {
  std::string s;
  if (!normalize(raw, &s)) return false;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  std::string digits;
  size_t j = digit_part(s, i, &digits);
  return j > i && j == s.size();
}

bool py_float_parses(const std::string& s) {
  double v = 0;
  return parse_float(s, &v);
}

namespace {

// tabulate (0.9) also reads "379,592" (int) and "1,234.5" (float): [+-]d{1,3}(,ddd)+ with an
// optional fraction (docling-core's fixtures right-align such columns).
PyType thousands_type(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0, lead = i;
  auto digit = [&](size_t k) { return k < s.size() && std::isdigit(static_cast<unsigned char>(s[k])); };
  while (digit(i)) ++i;
  if (i == lead || i - lead > 3) return PyType::Str;
  int groups = 0;
  while (i < s.size() && s[i] == ',') {
    if (!(digit(i + 1) && digit(i + 2) && digit(i + 3))) return PyType::Str;
    i += 4, ++groups;
  }
  if (groups == 0 || digit(i)) return PyType::Str;
  if (i == s.size()) return PyType::Int;
  if (s[i] != '.') return PyType::Str;
  for (++i; digit(i);) ++i;
  return i == s.size() ? PyType::Float : PyType::Str;
}

}  // namespace

PyType tabulate_type(const std::string& s) {
  if (s.empty()) return PyType::None;
  if (s == "True" || s == "False") return PyType::Bool;
  if (py_int_parses(s)) return PyType::Int;
  if (PyType t = thousands_type(s); t != PyType::Str) return t;
  double v = 0;
  if (parse_float(s, &v)) {
    if (!std::isinf(v) && !std::isnan(v)) return PyType::Float;
    std::string l;
    for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l == "inf" || l == "-inf" || l == "nan") return PyType::Float;
  }
  return PyType::Str;
}

std::string tabulate_github(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty() || rows[0].empty()) return "";
  const size_t ncols = rows[0].size();
  // Alignment: reduce(_more_generic, types, bool) over the body cells of a column.
  std::vector<bool> right(ncols, false);
  for (size_t c = 0; c < ncols; ++c) {
    PyType t = PyType::Bool;
    for (size_t r = 1; r < rows.size(); ++r) {
      PyType v = c < rows[r].size() ? tabulate_type(rows[r][c]) : PyType::None;
      t = std::max(t, v);
    }
    right[c] = t == PyType::Int || t == PyType::Float;
  }
  // Body cells are stripped before padding; headers are not.
  std::vector<std::vector<std::string>> body;
  for (size_t r = 1; r < rows.size(); ++r) {
    std::vector<std::string> row(ncols);
    for (size_t c = 0; c < ncols && c < rows[r].size(); ++c) row[c] = py_strip(rows[r][c]);
    body.push_back(std::move(row));
  }
  std::vector<size_t> width(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    width[c] = utf8_length(rows[0][c]) + 2;
    for (const auto& row : body) width[c] = std::max(width[c], utf8_length(row[c]));
  }
  auto pad = [&](const std::string& s, size_t c) {
    std::string fill(width[c] - std::min(width[c], utf8_length(s)), ' ');
    return right[c] ? fill + s : s + fill;
  };
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t c = 0; c < ncols; ++c) out.append(" ").append(pad(cells[c], c)).append(" |");
    return out;
  };
  std::string out = line(rows[0]) + "\n|";
  for (size_t c = 0; c < ncols; ++c) out.append(width[c] + 2, '-').append("|");
  for (const auto& row : body) out.append("\n").append(line(row));
  return out;
}

std::string compact_table(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty() || rows[0].empty()) return "";
  const size_t ncols = rows[0].size();
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t c = 0; c < ncols; ++c)
      out.append(" ").append(c < cells.size() ? py_strip(cells[c]) : std::string()).append(" |");
    return out;
  };
  std::string out = line(rows[0]) + "\n|";
  for (size_t c = 0; c < ncols; ++c) out += " - |";
  for (size_t r = 1; r < rows.size(); ++r) out.append("\n").append(line(rows[r]));
  return out;
}

}  // namespace docling
