#include "vision/tokenizer.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "vision/model_files.h"
#include "core/utf8.h"
#include "vision/unicode_tables.h"

// Pre-tokenizer choice. The oracle used the slow GPT2Tokenizer (GPT-2 regex) because the real
// tokenizer.json was not available, and llama.cpp reportedly classifies this tokenizer as GPT-2.
// The vocabulary and merges, however, are cl100k's (common words have cl100k's ids, "\n\n" = 271),
// i.e. they were learned on text cut by the cl100k regex, and a Hugging Face tokenizer.json built
// from them (granite-4 family) carries that regex. Both regexes split every prompt this project
// builds identically (see the tests); they differ on digit runs (cl100k: groups of 3), on a single
// leading non-letter glued to a word ("(word" / "_word"), on case-insensitive contractions, and on
// punctuation followed by newlines. Default: cl100k, or whatever a tokenizer.json in the folder says.

namespace docling::vision {

namespace {

// ---------------------------------------------------------------------------------------------
// Files

// A required text file of the folder; a missing one is an error naming it.
const std::string& need_text(const ModelFiles& files, const char* name) {
  const std::string* s = files.text(name);
  if (!s) throw std::runtime_error(files.path(name) + ": cannot open");
  return *s;
}

// ---------------------------------------------------------------------------------------------
// GPT-2 byte <-> printable code point map (bytes_to_unicode): printable Latin-1 bytes map to
// themselves, the other 68 bytes to U+0100.. in byte order.

struct ByteMap {
  uint16_t to_cp[256];
  int16_t to_byte[324];  // code point -> byte, -1 if not a mapped code point
  ByteMap() {
    std::fill(std::begin(to_byte), std::end(to_byte), int16_t(-1));
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cp[b] = uint16_t(printable ? b : 256 + extra++);
      to_byte[to_cp[b]] = int16_t(b);
    }
  }
};
const ByteMap kByteMap;

// A vocab/merges token (byte-mapped code points) back to raw bytes. Code points outside the map
// (only in added tokens) are kept as UTF-8.
void unmap_cp(std::string& out, uint32_t cp) {
  if (cp < 324 && kByteMap.to_byte[cp] >= 0)
    out += char(kByteMap.to_byte[cp]);
  else
    utf8_append(out, cp);
}

// ---------------------------------------------------------------------------------------------
// UTF-8

constexpr uint32_t kInvalid = 0xFFFFFFFFu;  // stands for one ill-formed byte

// ---------------------------------------------------------------------------------------------
// Character classes

bool in_ranges(const uint32_t (*r)[2], size_t n, uint32_t cp) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp < r[mid][0]) hi = mid;
    else if (cp > r[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

bool is_letter(uint32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return cp != kInvalid && in_ranges(unicode::kLetters, std::size(unicode::kLetters), cp);
}
bool is_number(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return cp != kInvalid && in_ranges(unicode::kNumbers, std::size(unicode::kNumbers), cp);
}
// Unicode White_Space (what \s means for Oniguruma / Rust regex).
bool is_space(uint32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 9 && cp <= 13);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}
bool is_other(uint32_t cp) { return !is_space(cp) && !is_letter(cp) && !is_number(cp); }
bool is_newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

// Text as code points with byte offsets; ill-formed bytes become one kInvalid "character" each
// (matched like punctuation, and BPE still sees their bytes).
struct CodePoints {
  std::vector<uint32_t> cp;
  std::vector<size_t> off;  // off[k] = byte offset of cp[k]; off[size] = text size

  explicit CodePoints(std::string_view t) {
    const unsigned char* s = reinterpret_cast<const unsigned char*>(t.data());
    cp.reserve(t.size());
    off.reserve(t.size() + 1);
    for (size_t i = 0; i < t.size();) {
      Utf8Check c = utf8_check(s + i, t.size() - i);
      off.push_back(i);
      if (c.need && c.ok == c.need) {
        cp.push_back(utf8_value(s + i, c.need));
        i += size_t(c.need);
      } else {
        cp.push_back(kInvalid);
        i += 1;
      }
    }
    off.push_back(t.size());
  }
};

// ---------------------------------------------------------------------------------------------
// Pre-tokenizers: given the start k (code point index), the end of the regex match there.
// Written as the backtracking regex would behave, alternative by alternative.

// 's 't 're 've 'm 'll 'd after an apostrophe at k; 0 when none.
size_t contraction(const std::vector<uint32_t>& c, size_t k, bool ignore_case) {
  const size_t n = c.size();
  auto at = [&](size_t j) -> uint32_t {
    if (j >= n) return 0;
    uint32_t v = c[j];
    return ignore_case && v < 0x80 && v >= 'A' && v <= 'Z' ? v + 32 : v;
  };
  if (c[k] != '\'') return 0;
  uint32_t a = at(k + 1), b = at(k + 2);
  if (a == 's' || a == 't') return k + 2;
  if ((a == 'r' || a == 'v') && b == 'e') return k + 3;
  if (a == 'm') return k + 2;
  if (a == 'l' && b == 'l') return k + 3;
  if (a == 'd') return k + 2;
  return 0;
}

template <class Pred>
size_t skip(const std::vector<uint32_t>& c, size_t k, Pred p) {
  while (k < c.size() && p(c[k])) ++k;
  return k;
}

// \s+(?!\S)|\s+ at a whitespace character k.
size_t whitespace_tail(const std::vector<uint32_t>& c, size_t k) {
  size_t j = skip(c, k, is_space);
  if (j == c.size()) return j;  // run reaches the end: (?!\S) holds
  return j - 1 > k ? j - 1 : j;  // leave the last space to prefix the next word
}

size_t match_cl100k(const std::vector<uint32_t>& c, size_t k) {
  const size_t n = c.size();
  const uint32_t x = c[k];
  if (size_t e = contraction(c, k, true)) return e;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (is_letter(x)) return skip(c, k + 1, is_letter);
  if (!is_newline(x) && !is_number(x) && k + 1 < n && is_letter(c[k + 1]))
    return skip(c, k + 2, is_letter);
  // \p{N}{1,3}
  if (is_number(x)) {
    size_t e = k + 1;
    while (e < n && e < k + 3 && is_number(c[e])) ++e;
    return e;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  size_t s = (x == ' ' && k + 1 < n && is_other(c[k + 1])) ? k + 1 : k;
  if (is_other(c[s])) return skip(c, skip(c, s + 1, is_other), is_newline);
  // x is whitespace from here on. \s*[\r\n]+ : up to the last newline of the run.
  size_t j = skip(c, k, is_space);
  for (size_t e = j; e > k; --e)
    if (is_newline(c[e - 1])) return e;
  return whitespace_tail(c, k);
}

size_t match_gpt2(const std::vector<uint32_t>& c, size_t k) {
  const size_t n = c.size();
  const uint32_t x = c[k];
  if (size_t e = contraction(c, k, false)) return e;
  // ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+' : the optional space only if the class follows.
  for (auto cls : {is_letter, is_number, is_other}) {
    if (x == ' ' && k + 1 < n && cls(c[k + 1])) return skip(c, k + 2, cls);
    if (cls(x)) return skip(c, k + 1, cls);
  }
  return whitespace_tail(c, k);
}

uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h ^ (h >> 29);
}

uint64_t hash_pair(uint64_t key) {
  key *= 0x9E3779B97F4A7C15ull;
  return key ^ (key >> 31);
}

// ---------------------------------------------------------------------------------------------
// vocab.json: one flat JSON object {"token": id, ...}. Parsed by hand: it is 100k entries and
// a generic JSON parser dominates load time.

struct VocabParser {
  const std::string& path;
  const char* p;
  const char* end;

  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(path + ": malformed vocab (" + what + ")");
  }
  void ws() {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  }
  uint32_t hex4() {
    if (end - p < 4) fail("short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k, ++p) {
      char ch = *p;
      v <<= 4;
      if (ch >= '0' && ch <= '9') v |= uint32_t(ch - '0');
      else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') v |= uint32_t((ch | 0x20) - 'a' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }
  // A JSON string whose code points are GPT-2 byte-mapped: appends the raw token bytes.
  void token(std::string& out) {
    if (p >= end || *p != '"') fail("expected string");
    ++p;
    while (true) {
      if (p >= end) fail("unterminated string");
      unsigned char ch = static_cast<unsigned char>(*p);
      if (ch == '"') { ++p; return; }
      uint32_t cp;
      if (ch == '\\') {
        if (++p >= end) fail("bad escape");
        char e = *p++;
        switch (e) {
          case '"': cp = '"'; break;
          case '\\': cp = '\\'; break;
          case '/': cp = '/'; break;
          case 'b': cp = '\b'; break;
          case 'f': cp = '\f'; break;
          case 'n': cp = '\n'; break;
          case 'r': cp = '\r'; break;
          case 't': cp = '\t'; break;
          case 'u':
            cp = hex4();
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
              p += 2;
              uint32_t lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) fail("bad surrogate pair");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            break;
          default: fail("bad escape");
        }
      } else {
        Utf8Check c = utf8_check(reinterpret_cast<const unsigned char*>(p), size_t(end - p));
        if (!c.need || c.ok != c.need) fail("invalid UTF-8");
        cp = utf8_value(reinterpret_cast<const unsigned char*>(p), c.need);
        p += c.need;
      }
      unmap_cp(out, cp);
    }
  }
  int64_t integer() {
    bool neg = p < end && *p == '-';
    if (neg) ++p;
    if (p >= end || *p < '0' || *p > '9') fail("expected integer id");
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9' && v < (int64_t(1) << 40)) v = v * 10 + (*p++ - '0');
    return neg ? -v : v;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Loading

void Tokenizer::add_token(int32_t id, std::string_view bytes) {
  if (id < 0 || id > (1 << 24)) throw std::runtime_error("token id out of range: " + std::to_string(id));
  if (size_t(id) >= toks_.size()) toks_.resize(size_t(id) + 1, Tok{0, -1});
  toks_[id] = Tok{uint32_t(arena_.size()), int32_t(bytes.size())};
  arena_.insert(arena_.end(), bytes.begin(), bytes.end());
  flags_.resize(toks_.size(), 0);
}

void Tokenizer::build_index() {
  size_t cap = 1;
  while (cap < toks_.size() * 2 + 16) cap <<= 1;
  slots_.assign(cap, Slot{-1, 0});
  for (int32_t id = 0; id < size(); ++id) {
    if (toks_[id].len < 0) continue;
    std::string_view b = token_bytes(id);
    const uint64_t h0 = hash_bytes(b);
    const uint32_t tag = uint32_t(h0 >> 32);
    for (size_t h = h0 & (cap - 1);; h = (h + 1) & (cap - 1)) {
      if (slots_[h].id < 0) { slots_[h] = Slot{id, tag}; break; }
      if (slots_[h].tag == tag && token_bytes(slots_[h].id) == b) break;  // duplicate: lower id wins
    }
  }
}

int32_t Tokenizer::token_id(std::string_view bytes) const {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  const uint64_t h0 = hash_bytes(bytes);
  const uint32_t tag = uint32_t(h0 >> 32);
  for (size_t h = h0 & mask;; h = (h + 1) & mask) {
    const Slot s = slots_[h];
    if (s.id < 0) return -1;
    if (s.tag == tag) {
      const Tok t = toks_[s.id];
      if (size_t(t.len) == bytes.size() && std::memcmp(arena_.data() + t.off, bytes.data(), bytes.size()) == 0)
        return s.id;
    }
  }
}

int32_t Tokenizer::require_id(std::string_view bytes) const {
  int32_t id = token_id(bytes);
  if (id < 0) throw std::runtime_error("tokenizer has no token '" + std::string(bytes) + "'");
  return id;
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (!valid_id(id)) throw std::out_of_range("unknown token id " + std::to_string(id));
  return std::string_view(arena_.data() + toks_[id].off, size_t(toks_[id].len));
}

bool Tokenizer::is_added(int32_t id) const { return valid_id(id) && (flags_[id] & 1); }
bool Tokenizer::is_special(int32_t id) const { return valid_id(id) && (flags_[id] & 2); }

const Tokenizer::Merge* Tokenizer::find_merge(int32_t a, int32_t b) const {
  const uint64_t key = (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
  const size_t mask = merges_.size() - 1;
  for (size_t h = hash_pair(key) & mask;; h = (h + 1) & mask) {
    const Merge& m = merges_[h];
    if (m.key == key) return &m;
    if (m.key == ~0ull) return nullptr;
  }
}

Tokenizer Tokenizer::load(const std::string& dir, const TokenizerOptions& opt) {
  return load(ModelFiles::read(dir), opt);
}

Tokenizer Tokenizer::load(const ModelFiles& files, const TokenizerOptions& opt) {
  Tokenizer t;
  t.arena_.reserve(1 << 20);

  // vocab.json
  const std::string vocab_path = files.path("vocab.json");
  {
    const std::string& text = need_text(files, "vocab.json");
    VocabParser vp{vocab_path, text.data(), text.data() + text.size()};
    std::string bytes;
    vp.ws();
    if (vp.p >= vp.end || *vp.p != '{') vp.fail("expected '{'");
    ++vp.p;
    vp.ws();
    while (vp.p < vp.end && *vp.p != '}') {
      bytes.clear();
      vp.token(bytes);
      vp.ws();
      if (vp.p >= vp.end || *vp.p != ':') vp.fail("expected ':'");
      ++vp.p;
      vp.ws();
      int64_t id = vp.integer();
      if (id < 0 || id > (1 << 24)) vp.fail("id out of range");
      t.add_token(int32_t(id), bytes);
      vp.ws();
      if (vp.p < vp.end && *vp.p == ',') { ++vp.p; vp.ws(); }
    }
    if (vp.p >= vp.end) vp.fail("unterminated object");
  }

  // Added tokens: tokenizer_config.json's added_tokens_decoder, then added_tokens.json.
  const std::string cfg_path = files.path("tokenizer_config.json");
  if (!files.json("tokenizer_config.json")) throw std::runtime_error(cfg_path + ": cannot open");
  const nlohmann::json& cfg = *files.json("tokenizer_config.json");
  if (!cfg.is_object()) throw std::runtime_error(cfg_path + ": not a JSON object");
  // An id as written in a file: decimal digits, inside the tokenizer's range (no wrap to int32).
  auto parse_id = [](const std::string& k) {
    if (k.empty() || k.size() > 10 || k.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(k) > (1 << 24))
      throw std::runtime_error("token id '" + k + "' is not an id in 0.." + std::to_string(1 << 24));
    return int32_t(std::stoll(k));
  };
  auto add_added = [&](int32_t id, const std::string& text, bool special) {
    if (text.empty()) return;
    if (!t.valid_id(id) || t.token_bytes(id) != text) t.add_token(id, text);
    t.flags_[id] |= uint8_t(1 | (special ? 2 : 0));
  };
  try {
    if (cfg.contains("added_tokens_decoder") && !cfg["added_tokens_decoder"].is_object())
      throw std::runtime_error("'added_tokens_decoder' must be an object {id: {content}}");
    if (cfg.contains("added_tokens_decoder"))
      for (auto& [k, v] : cfg["added_tokens_decoder"].items())
        add_added(parse_id(k), v.at("content").get<std::string>(), v.value("special", false));
  } catch (const std::exception& e) {
    throw std::runtime_error(cfg_path + ": bad added_tokens_decoder (" + e.what() + ")");
  }
  const std::string added_path = files.path("added_tokens.json");
  if (const nlohmann::json* added = files.json("added_tokens.json")) {
    try {
      const nlohmann::json& j = *added;
      if (!j.is_object()) throw std::runtime_error("not a JSON object {token: id}");
      for (auto& [k, v] : j.items())
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (1 << 24))
          throw std::runtime_error("token '" + k + "': id " + v.dump() + " is not in 0.." + std::to_string(1 << 24));
      for (auto& [k, v] : j.items())
        if (!(v.get<int32_t>() < t.size() && t.is_added(v.get<int32_t>())))
          add_added(v.get<int32_t>(), k, false);
    } catch (const std::exception& e) {
      throw std::runtime_error(added_path + ": invalid (" + e.what() + ")");
    }
  }

  t.build_index();

  // Special token names: tokenizer_config.json, else special_tokens_map.json. Either a string or
  // an object with "content".
  const nlohmann::json null_json;
  const nlohmann::json* smap_file = files.json("special_tokens_map.json");
  const nlohmann::json& smap = smap_file ? *smap_file : null_json;
  if (smap_file && !smap.is_object())
    throw std::runtime_error(files.path("special_tokens_map.json") + ": not a JSON object");
  auto special_id = [&](const char* key) -> int32_t {
    for (const nlohmann::json* src : {&cfg, &smap}) {
      if (!src->is_object() || !src->contains(key)) continue;
      const auto& v = (*src)[key];
      std::string s = v.is_string() ? v.get<std::string>()
                      : v.is_object() ? v.value("content", std::string()) : std::string();
      if (!s.empty()) return t.token_id(s);
    }
    return -1;
  };
  try {  // a "content" that is not a string, an entry that is not an object
    t.bos_id = special_id("bos_token");
    t.eos_id = special_id("eos_token");
    t.pad_id = special_id("pad_token");
    t.unk_id = special_id("unk_token");
    for (const char* key : {"additional_special_tokens"}) {
      if (!cfg.contains(key) || !cfg[key].is_array()) continue;
      for (const auto& v : cfg[key]) {
        std::string s = v.is_string() ? v.get<std::string>() : v.value("content", std::string());
        int32_t id = s.empty() ? -1 : t.token_id(s);
        if (id >= 0) t.flags_[id] |= 3;
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(cfg_path + " (or special_tokens_map.json): bad special token (" + e.what() + ")");
  }

  for (int b = 0; b < 256; ++b) {
    t.byte_id_[b] = t.token_id(std::string_view(reinterpret_cast<const char*>(&b), 1));
    if (t.byte_id_[b] < 0)
      throw std::runtime_error(vocab_path + ": no token for byte " + std::to_string(b));
  }

  // merges.txt: "left right" per line, rank = line order; optional "#version" header. The id
  // lookups (three per line, cache-missing) run in parallel; insertion stays in rank order.
  const std::string merges_path = files.path("merges.txt");
  {
    const std::string& text = need_text(files, "merges.txt");
    std::vector<std::string_view> lines;
    for (size_t i = 0; i < text.size();) {
      size_t eol = text.find('\n', i);
      if (eol == std::string::npos) eol = text.size();
      lines.emplace_back(text.data() + i, eol - i);
      i = eol + 1;
    }
    struct Triple {
      int32_t a, b, m;  // -1 when the line is skipped
    };
    std::vector<Triple> triples(lines.size(), Triple{-1, -1, -1});
    std::vector<int> bad(lines.size(), 0);  // 1 = not "left right", 2 = invalid UTF-8
    tbb::parallel_for(tbb::blocked_range<size_t>(0, lines.size(), 2048), [&](const tbb::blocked_range<size_t>& r) {
      std::string left, right;
      auto unmap = [](std::string_view s, std::string& out) {
        out.clear();
        const unsigned char* u = reinterpret_cast<const unsigned char*>(s.data());
        for (size_t k = 0; k < s.size();) {
          Utf8Check c = utf8_check(u + k, s.size() - k);
          if (!c.need || c.ok != c.need) return false;
          unmap_cp(out, utf8_value(u + k, c.need));
          k += size_t(c.need);
        }
        return true;
      };
      for (size_t i = r.begin(); i < r.end(); ++i) {
        std::string_view line = lines[i];
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || (i == 0 && line.substr(0, 8) == "#version")) continue;
        size_t sp = line.find(' ');
        if (sp == std::string_view::npos || sp == 0 || sp + 1 >= line.size()) { bad[i] = 1; continue; }
        if (!unmap(line.substr(0, sp), left) || !unmap(line.substr(sp + 1), right)) { bad[i] = 2; continue; }
        int32_t a = t.token_id(left), b = t.token_id(right);
        left += right;
        int32_t m = t.token_id(left);
        if (a >= 0 && b >= 0 && m >= 0) triples[i] = Triple{a, b, m};  // else it can never fire
      }
    });
    for (size_t i = 0; i < lines.size(); ++i)
      if (bad[i])
        throw std::runtime_error(merges_path + ":" + std::to_string(i + 1) +
                                 (bad[i] == 1 ? ": expected 'left right'" : ": invalid UTF-8"));
    size_t cap = 1;
    while (cap < lines.size() * 2 + 16) cap <<= 1;
    t.merges_.assign(cap, Merge{~0ull, 0, 0});
    for (size_t i = 0; i < triples.size(); ++i) {
      const Triple& tr = triples[i];
      if (tr.a < 0) continue;
      const uint64_t key = (uint64_t(uint32_t(tr.a)) << 32) | uint32_t(tr.b);
      for (size_t h = hash_pair(key) & (cap - 1);; h = (h + 1) & (cap - 1)) {
        Merge& slot = t.merges_[h];
        if (slot.key == ~0ull) { slot = Merge{key, int32_t(i), tr.m}; break; }
        if (slot.key == key) break;  // a repeated pair keeps its first (best) rank
      }
    }
  }

  // Added tokens for matching, longest first (leftmost-longest, like HF's added-token trie).
  for (int32_t id = 0; id < t.size(); ++id)
    if (t.is_added(id)) {
      t.added_.push_back({std::string(t.token_bytes(id)), id});
      t.added_first_[static_cast<unsigned char>(t.added_.back().text[0])] = true;
    }
  std::stable_sort(t.added_.begin(), t.added_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.text.size() > b.text.size(); });

  // Pre-tokenizer: explicit, else from tokenizer.json when present, else cl100k (see top).
  t.pre_ = PreTokenizer::Cl100k;
  if (opt.force_pre_tokenizer) {
    t.pre_ = opt.pre_tokenizer;
  } else if (const std::string* tjp = files.text("tokenizer.json")) {
    const std::string& tj = *tjp;
    size_t at = tj.find("\"pre_tokenizer\"");
    if (at != std::string::npos) {
      std::string_view rest = std::string_view(tj).substr(at, 4096);
      if (rest.find("p{N}{1,3}") != std::string_view::npos) t.pre_ = PreTokenizer::Cl100k;
      else if (rest.find("ByteLevel") != std::string_view::npos) t.pre_ = PreTokenizer::Gpt2;
    }
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Encoding

void Tokenizer::bpe(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.size() == 1) {
    out.push_back(byte_id_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  std::vector<int32_t> w(piece.size());
  for (size_t i = 0; i < piece.size(); ++i) w[i] = byte_id_[static_cast<unsigned char>(piece[i])];
  // Repeatedly merge every occurrence (left to right) of the lowest-ranked adjacent pair.
  while (w.size() > 1) {
    const Merge* best = nullptr;
    for (size_t i = 0; i + 1 < w.size(); ++i) {
      const Merge* m = find_merge(w[i], w[i + 1]);
      if (m && (!best || m->rank < best->rank)) best = m;
    }
    if (!best) break;
    const int32_t a = int32_t(best->key >> 32), b = int32_t(best->key & 0xFFFFFFFFu);
    size_t j = 0;
    for (size_t i = 0; i < w.size();) {
      if (i + 1 < w.size() && w[i] == a && w[i + 1] == b) {
        w[j++] = best->id;
        i += 2;
      } else {
        w[j++] = w[i++];
      }
    }
    w.resize(j);
  }
  out.insert(out.end(), w.begin(), w.end());
}

std::vector<std::string_view> Tokenizer::pre_tokenize(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (text.empty()) return pieces;
  CodePoints cps(text);
  auto match = pre_ == PreTokenizer::Cl100k ? match_cl100k : match_gpt2;
  for (size_t k = 0; k < cps.cp.size();) {
    size_t e = match(cps.cp, k);
    if (e <= k) e = k + 1;  // cannot happen (every character is matched); never loop forever
    pieces.push_back(text.substr(cps.off[k], cps.off[e] - cps.off[k]));
    k = e;
  }
  return pieces;
}

void Tokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  for (std::string_view piece : pre_tokenize(text)) bpe(piece, out);
}

std::vector<int32_t> Tokenizer::encode_ordinary(std::string_view text) const {
  std::vector<int32_t> out;
  encode_text(text, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  size_t start = 0;  // start of the pending ordinary text
  for (size_t i = 0; i < text.size();) {
    const AddedToken* hit = nullptr;
    if (added_first_[static_cast<unsigned char>(text[i])])
      for (const AddedToken& a : added_)
        if (text.compare(i, a.text.size(), a.text) == 0) {
          hit = &a;
          break;
        }
    if (!hit) {
      ++i;
      continue;
    }
    encode_text(text.substr(start, i - start), out);
    out.push_back(hit->id);
    i += hit->text.size();
    start = i;
  }
  encode_text(text.substr(start), out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

std::string Tokenizer::decode(const int32_t* ids, size_t n) const {
  std::string bytes;
  for (size_t i = 0; i < n; ++i) bytes += token_bytes(ids[i]);
  std::string out;
  out.reserve(bytes.size());
  utf8_sanitize(bytes, out, Utf8Replace::MaximalSubpart, true);
  return out;
}

std::string IncrementalDecoder::push(int32_t id) {
  pending_ += tok_->token_bytes(id);
  std::string out;
  size_t used = utf8_sanitize(pending_, out, Utf8Replace::MaximalSubpart, false);
  pending_.erase(0, used);
  return out;
}

std::string IncrementalDecoder::flush() {
  std::string out;
  utf8_sanitize(pending_, out, Utf8Replace::MaximalSubpart, true);
  pending_.clear();
  return out;
}

}  // namespace docling::vision
