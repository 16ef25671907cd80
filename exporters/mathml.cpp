#include "exporters/mathml.h"

#include <cctype>
#include <cstdio>
#include <vector>

namespace docling {

namespace {

struct Parser {
  const std::string& s;
  size_t i = 0;
  bool ok = true;

  void skip_space() {
    while (i < s.size() && s[i] == ' ') ++i;
  }

  // One atom: identifier letter, number, operator, or {group}.
  std::string atom() {
    skip_space();
    if (i >= s.size()) return ok = false, "";
    char c = s[i];
    if (std::isalpha(static_cast<unsigned char>(c))) {
      ++i;
      return std::string("<mi>") + c + "</mi>";
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t b = i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      return "<mn>" + s.substr(b, i - b) + "</mn>";
    }
    if (c == '=' || c == '+') {
      ++i;
      char buf[32];
      std::snprintf(buf, sizeof buf, "<mo>&#x%05X;</mo>", static_cast<unsigned>(c));
      return buf;
    }
    if (c == '{') {
      ++i;
      std::string inner = sequence('}');
      if (i >= s.size() || s[i] != '}') return ok = false, "";
      ++i;
      return "<mrow>" + inner + "</mrow>";
    }
    return ok = false, "";  // commands and other symbols: not handled here
  }

  // Atoms with optional ^/_ scripts until `end` (or the end of input).
  std::string sequence(char end) {
    std::string out;
    while (ok) {
      skip_space();
      if (i >= s.size() || s[i] == end) break;
      std::string base = atom();
      skip_space();
      std::string sub, sup;
      while (ok && i < s.size() && (s[i] == '^' || s[i] == '_')) {
        char k = s[i++];
        std::string& dst = k == '^' ? sup : sub;
        if (!dst.empty()) return ok = false, "";  // double script
        dst = atom();
        skip_space();
      }
      if (!sub.empty() && !sup.empty()) out += "<msubsup>" + base + sub + sup + "</msubsup>";
      else if (!sup.empty()) out += "<msup>" + base + sup + "</msup>";
      else if (!sub.empty()) out += "<msub>" + base + sub + "</msub>";
      else out += base;
    }
    return out;
  }
};

}  // namespace

std::optional<std::string> latex_to_mathml(const std::string& latex, bool inline_mode) {
  Parser p{latex};
  std::string body = p.sequence('\0');
  if (!p.ok || p.i != latex.size() || body.empty()) return std::nullopt;
  return std::string("<math xmlns=\"http://www.w3.org/1998/Math/MathML\" display=\"") +
         (inline_mode ? "inline" : "block") + "\"><mrow>" + body +
         "</mrow><annotation encoding=\"TeX\">" + latex + "</annotation></math>";
}

}  // namespace docling
