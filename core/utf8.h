// The one UTF-8 decoder/encoder of the engine. Two readings of a byte string:
//  - lenient (utf8_decode, utf8_next, utf8_length): any lead byte C0..F7 with enough continuation
//    bytes decodes (overlong forms and surrogates included); what the exporters and the PDF text
//    layer always used.
//  - strict (utf8_check, utf8_decode_strict, utf8_sanitize): Unicode's table of well-formed byte
//    sequences (Unicode 3-7); what DocTags parsing and the tokenizer use on model output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace docling {

// --- lenient ---------------------------------------------------------------------------------

// Code point at s[i]; *len = bytes used (1 for invalid bytes, which decode as U+FFFD).
inline uint32_t utf8_decode(std::string_view s, size_t i, size_t* len) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    *len = 1;
    return c < 0x80 ? c : 0xFFFD;
  }
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc >> 6) != 2) {
      *len = 1;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  *len = static_cast<size_t>(n);
  return cp;
}

// utf8_decode that moves i past the character.
inline uint32_t utf8_next(std::string_view s, size_t& i) {
  size_t len;
  uint32_t cp = utf8_decode(s, i, &len);
  i += len;
  return cp;
}

// Start of the character that ends just before `end`.
inline size_t utf8_prev(std::string_view s, size_t end) {
  size_t i = end;
  while (i > 0) {
    --i;
    if ((static_cast<unsigned char>(s[i]) >> 6) != 2) break;
  }
  return i;
}

// Characters as bytes that are not continuation bytes (a stray continuation byte counts 0).
inline size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c >> 6) != 2;
  return n;
}

// --- strict ----------------------------------------------------------------------------------

// The sequence starting at s[0] (n >= 1 bytes available): the length its lead byte announces
// (0: not a lead byte) and how many of its leading bytes are well-formed (ok == need: complete).
struct Utf8Check {
  int need;
  int ok;
};

inline Utf8Check utf8_check(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return {1, 1};
  int need;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte (excludes overlongs, surrogates)
  if (c >= 0xC2 && c <= 0xDF) need = 2;
  else if (c == 0xE0) need = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) need = 3;
  else if (c == 0xED) need = 3, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF) need = 3;
  else if (c == 0xF0) need = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) need = 4;
  else if (c == 0xF4) need = 4, hi = 0x8F;
  else return {0, 0};
  int ok = 1;
  for (int k = 1; k < need && size_t(k) < n; ++k) {
    unsigned char b = s[k];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    ++ok;
  }
  return {need, ok};
}

// Code point of a complete sequence that utf8_check accepted (len = need).
inline uint32_t utf8_value(const unsigned char* s, int len) {
  if (len == 1) return s[0];
  uint32_t cp = s[0] & (0x7F >> len);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (s[k] & 0x3F);
  return cp;
}

// Well-formed character at s[i]: its length and *cp, or 0 (cp untouched) if ill-formed.
inline size_t utf8_decode_strict(std::string_view s, size_t i, uint32_t* cp) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  Utf8Check c = utf8_check(p, s.size() - i);
  if (c.need == 0 || c.ok != c.need) return 0;
  *cp = utf8_value(p, c.need);
  return size_t(c.need);
}

// How ill-formed bytes become U+FFFD.
enum class Utf8Replace {
  EachByte,        // one U+FFFD per ill-formed byte (the DocTags parser, docling-core tests)
  MaximalSubpart,  // one per maximal ill-formed subpart (Python's decode("utf-8", "replace"))
};

// Appends the well-formed UTF-8 of s to out with ill-formed bytes replaced. Unless `final`, an
// unfinished but so far well-formed sequence at the end is left unconsumed (for incremental
// decoding). Returns the bytes consumed.
inline size_t utf8_sanitize(std::string_view s, std::string& out, Utf8Replace mode, bool final) {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    size_t run = i;  // copy runs of ASCII at once
    while (run < n && u[run] < 0x80) ++run;
    out.append(s.data() + i, run - i);
    i = run;
    if (i >= n) break;
    Utf8Check c = utf8_check(u + i, n - i);
    if (c.need && c.ok == c.need) {
      out.append(s.data() + i, size_t(c.need));
      i += size_t(c.need);
    } else if (c.need && i + size_t(c.ok) == n && !final) {
      break;  // may still be completed by the next bytes
    } else {
      out += "\xEF\xBF\xBD";
      i += mode == Utf8Replace::EachByte ? 1 : size_t(c.ok > 1 ? c.ok : 1);
    }
  }
  return i;
}

// s with each ill-formed byte replaced by U+FFFD: every string of a document is valid UTF-8.
inline std::string utf8_valid_copy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  utf8_sanitize(s, out, Utf8Replace::EachByte, true);
  return out;
}

// Code points of utf8_valid_copy(s) (each ill-formed byte counts one), without the copy.
inline size_t utf8_length_strict(std::string_view s) {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    Utf8Check c = utf8_check(u + i, s.size() - i);
    i += c.need && c.ok == c.need ? size_t(c.need) : 1;
  }
  return n;
}

// --- encoding --------------------------------------------------------------------------------

// Appends cp (< 0x110000; not checked for surrogates) as UTF-8.
inline void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Python str.isspace() for one code point.
inline bool py_isspace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000;
}

}  // namespace docling
