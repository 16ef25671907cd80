// Token counters for the chunkers: a BERT WordPiece counter written from the Hugging Face
// tokenizers rules (BertNormalizer, BertPreTokenizer, WordPiece), and byte-level BPE through
// vision::Tokenizer. See tests/data/conformance/chunks/README.md §5.
#include "exporters/chunk_tokenizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "core/file_io.h"
#include "core/json_limits.h"
#include "core/utf8.h"
#include "vision/tokenizer.h"

namespace docling::chunk {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// --- vocabulary: open addressing over an arena, looked up by string_view (no allocation) ---

class StringTable {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{0, -1});
  }
  void insert(std::string_view s) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    size_t i = find_slot(s);
    if (slots_[i].len >= 0) return;  // already there
    slots_[i] = Slot{uint32_t(arena_.size()), int32_t(s.size())};
    arena_.append(s);
    ++count_;
    max_len_ = std::max(max_len_, s.size());
  }
  bool contains(std::string_view s) const {
    return s.size() <= max_len_ && slots_[find_slot(s)].len >= 0;
  }
  size_t max_len() const { return max_len_; }  // bytes

 private:
  struct Slot {
    uint32_t off;
    int32_t len;  // -1: empty
  };
  static uint64_t hash(std::string_view s) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h ^ (h >> 29);
  }
  size_t find_slot(std::string_view s) const {
    size_t mask = slots_.size() - 1, i = hash(s) & mask;
    while (slots_[i].len >= 0 &&
           std::string_view(arena_.data() + slots_[i].off, size_t(slots_[i].len)) != s)
      i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(16, old.size() * 2), Slot{0, -1});
    for (const Slot& o : old)
      if (o.len >= 0) slots_[find_slot(std::string_view(arena_.data() + o.off, size_t(o.len)))] = o;
  }
  std::string arena_;
  std::vector<Slot> slots_ = std::vector<Slot>(16, Slot{0, -1});
  size_t count_ = 0, max_len_ = 0;
};

// --- Unicode classes as the Rust tokenizers crate defines them ---

bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// General category C* (Cc Cf Cn Co Cs); tab, LF, CR are whitespace instead.
bool is_other(uint32_t c) {
  switch (u_charType(UChar32(c))) {
    case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_UNASSIGNED:
    case U_PRIVATE_USE_CHAR: case U_SURROGATE:
      return true;
    default:
      return false;
  }
}

bool is_punct(uint32_t c) {
  if (c < 0x80) return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) ||
                       (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
  switch (u_charType(UChar32(c))) {
    case U_DASH_PUNCTUATION: case U_START_PUNCTUATION: case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION: case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

bool is_space(uint32_t c) {  // Rust char::is_whitespace (White_Space property)
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return u_isUWhiteSpace(UChar32(c));
}

// --- the WordPiece counter ---

struct BertOptions {
  bool clean_text = true, chinese_chars = true, strip_accents = true, lowercase = true;
};

class WordPieceCounter : public TokenCounter {
 public:
  WordPieceCounter(const std::vector<std::string>& vocab, std::vector<std::string> specials,
                   BertOptions opt, std::string prefix, size_t max_word_chars)
      : opt_(opt), prefix_(std::move(prefix)), max_word_chars_(max_word_chars),
        specials_(std::move(specials)) {
    UErrorCode err = U_ZERO_ERROR;
    nfd_ = icu::Normalizer2::getNFDInstance(err);
    if (U_FAILURE(err)) throw std::runtime_error("ICU: no NFD normalizer");
    start_.reserve(vocab.size());
    cont_.reserve(vocab.size() / 4);
    for (const std::string& t : vocab) {
      start_.insert(t);
      if (!prefix_.empty() && t.size() > prefix_.size() && t.compare(0, prefix_.size(), prefix_) == 0)
        cont_.insert(std::string_view(t).substr(prefix_.size()));
      longest_ = std::max(longest_, utf8_length(t));
    }
    for (const std::string& s : specials_) {
      if (!s.empty()) special_first_[static_cast<unsigned char>(s[0])] = true;
      longest_ = std::max(longest_, utf8_length(s));
    }
    std::stable_sort(specials_.begin(), specials_.end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }

  size_t count(std::string_view text) const override {
    // Special tokens are matched on the raw text first (leftmost, then longest); each is one.
    size_t n = 0, seg = 0, i = 0;
    while (i < text.size()) {
      size_t len = special_first_[static_cast<unsigned char>(text[i])] ? special_at(text, i) : 0;
      if (len == 0) { ++i; continue; }
      n += count_plain(text.substr(seg, i - seg)) + 1;
      i += len;
      seg = i;
    }
    return n + count_plain(text.substr(seg));
  }
  size_t longest_token() const override { return longest_; }

 private:
  // Per-call scratch: the current word's bytes and its character starts.
  struct Word {
    std::string bytes;
    std::vector<uint32_t> starts;
    void clear() { bytes.clear(); starts.clear(); }
    void push(uint32_t c) { starts.push_back(uint32_t(bytes.size())); utf8_append(bytes, c); }
  };

  size_t special_at(std::string_view text, size_t i) const {
    for (const std::string& s : specials_)
      if (text.compare(i, s.size(), s) == 0) return s.size();
    return 0;
  }

  size_t count_plain(std::string_view text) const {
    thread_local Word w;
    thread_local icu::UnicodeString dec;
    w.clear();
    size_t n = 0;
    for (size_t i = 0; i < text.size();) {
      uint32_t c = utf8_next(text, i);
      if (c < 0x80) {
        ascii(c, w, n);
        continue;
      }
      if (opt_.clean_text && (c == 0xFFFD || is_other(c))) continue;
      if (is_space(c)) { n += flush(w); continue; }
      bool cjk = opt_.chinese_chars && is_cjk(c);
      if (cjk) n += flush(w);
      if (opt_.strip_accents) {
        decomposed(c, dec, w, n);
      } else {
        lowered(c, w, n);
      }
      if (cjk) n += flush(w);
    }
    return n + flush(w);
  }

  // The fast path: ASCII needs no NFD and lowercases by itself.
  void ascii(uint32_t c, Word& w, size_t& n) const {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      n += flush(w);
    } else if (c < 0x20 || c == 0x7F) {  // controls (VT and FF too): deleted by clean_text
      if (!opt_.clean_text) place(c, w, n);
    } else if (is_punct(c)) {
      n += flush(w) + single(c);
    } else {
      w.push(opt_.lowercase && c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
  }

  // NFD, drop the Mn marks, then lowercase what is left.
  void decomposed(uint32_t c, icu::UnicodeString& dec, Word& w, size_t& n) const {
    if (!nfd_->getDecomposition(UChar32(c), dec)) {
      if (u_charType(UChar32(c)) != U_NON_SPACING_MARK) lowered(c, w, n);
      return;
    }
    for (int32_t k = 0; k < dec.length();) {
      UChar32 d = dec.char32At(k);
      k += U16_LENGTH(d);
      if (u_charType(d) != U_NON_SPACING_MARK) lowered(uint32_t(d), w, n);
    }
  }

  // Lowercase (Rust's full mapping: only U+0130 differs from the simple one), then the
  // pre-tokenizer's cuts: whitespace ends the word, punctuation is a word of its own.
  void lowered(uint32_t c, Word& w, size_t& n) const {
    if (opt_.lowercase) {
      if (c == 0x130) {
        place('i', w, n);
        place(0x307, w, n);
        return;
      }
      c = uint32_t(u_tolower(UChar32(c)));
    }
    place(c, w, n);
  }

  void place(uint32_t c, Word& w, size_t& n) const {
    if (is_space(c)) n += flush(w);
    else if (is_punct(c)) n += flush(w) + single(c);
    else w.push(c);
  }

  size_t single(uint32_t c) const {
    thread_local Word p;
    p.clear();
    p.push(c);
    return flush(p);
  }

  // WordPiece of the word, then clears it.
  size_t flush(Word& w) const {
    if (w.starts.empty()) return 0;
    size_t n = wordpiece(w);
    w.clear();
    return n;
  }

  // Greedy longest-match-first; any unmatched rest makes the whole word one [UNK].
  size_t wordpiece(const Word& w) const {
    size_t chars = w.starts.size();
    if (chars > max_word_chars_) return 1;
    std::string_view s = w.bytes;
    size_t n = 0, start = 0;
    while (start < chars) {
      const StringTable& table = start == 0 ? start_ : cont_;
      size_t from = w.starts[start], end = chars;
      for (; end > start; --end) {
        size_t to = end == chars ? s.size() : w.starts[end];
        if (to - from <= table.max_len() && table.contains(s.substr(from, to - from))) break;
      }
      if (end == start) return 1;
      ++n;
      start = end;
    }
    return n;
  }

  BertOptions opt_;
  std::string prefix_;
  size_t max_word_chars_;
  std::vector<std::string> specials_;
  bool special_first_[256] = {};
  StringTable start_, cont_;  // every entry; "##" entries without their prefix
  size_t longest_ = 0;
  const icu::Normalizer2* nfd_ = nullptr;
};

// --- byte-level BPE through the VLM's tokenizer ---

class BpeCounter : public TokenCounter {
 public:
  explicit BpeCounter(vision::Tokenizer tok) : tok_(std::move(tok)) {
    for (int32_t id = 0; id < tok_.size(); ++id)
      if (tok_.valid_id(id)) longest_ = std::max(longest_, tok_.token_bytes(id).size());
  }
  size_t count(std::string_view utf8) const override { return tok_.encode(utf8).size(); }
  size_t longest_token() const override { return longest_; }

 private:
  vision::Tokenizer tok_;
  size_t longest_ = 0;
};

// --- loading ---

json read_json(const fs::path& p) {
  std::string text = read_file(p);
  try {
    return parse_json(text);
  } catch (const std::exception& e) {
    throw std::runtime_error(p.string() + ": invalid JSON (" + e.what() + ")");
  }
}

std::optional<json> read_json_if(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  return read_json(p);
}

bool flag(const json& j, const char* key, bool dflt) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : dflt;
}

// Special tokens of a vocab.txt tokenizer: the tokenizer_config.json names, else BERT's.
std::vector<std::string> bert_specials(const std::optional<json>& cfg) {
  static const char* const kNames[][2] = {{"pad_token", "[PAD]"}, {"unk_token", "[UNK]"},
      {"cls_token", "[CLS]"}, {"sep_token", "[SEP]"}, {"mask_token", "[MASK]"}};
  std::vector<std::string> out;
  for (const auto& [key, dflt] : kNames) {
    std::string tok = dflt;
    if (cfg && cfg->contains(key)) {
      const json& v = (*cfg)[key];
      if (v.is_string()) tok = v.get<std::string>();
      else if (v.is_object() && v.contains("content") && v["content"].is_string()) tok = v["content"].get<std::string>();
    }
    out.push_back(tok);
  }
  return out;
}

std::unique_ptr<TokenCounter> load_vocab_txt(const fs::path& file) {
  std::string text = read_file(file);
  std::vector<std::string> vocab;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(at, nl - at);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(std::move(line));  // an empty line still takes an id
    at = nl + 1;
  }
  if (vocab.empty()) throw std::runtime_error(file.string() + ": empty vocabulary");
  std::optional<json> cfg = read_json_if(file.parent_path() / "tokenizer_config.json");
  BertOptions opt;
  if (cfg) {
    if (!cfg->is_object()) throw std::runtime_error((file.parent_path() / "tokenizer_config.json").string() + ": not a JSON object");
    opt.lowercase = flag(*cfg, "do_lower_case", true);
    opt.strip_accents = flag(*cfg, "strip_accents", opt.lowercase);
    opt.chinese_chars = flag(*cfg, "tokenize_chinese_chars", true);
  }
  return std::make_unique<WordPieceCounter>(vocab, bert_specials(cfg), opt, "##", 100);
}

BertOptions bert_normalizer(const json& n, const std::string& where) {
  BertOptions opt;
  if (n.is_null()) {
    opt = BertOptions{false, false, false, false};
  } else if (n.is_object() && n.value("type", "") == "BertNormalizer") {
    opt.clean_text = flag(n, "clean_text", true);
    opt.chinese_chars = flag(n, "handle_chinese_chars", true);
    opt.lowercase = flag(n, "lowercase", true);
    opt.strip_accents = flag(n, "strip_accents", opt.lowercase);
  } else {
    throw std::runtime_error(where + ": unsupported normalizer (only BertNormalizer)");
  }
  return opt;
}

std::unique_ptr<TokenCounter> load_wordpiece_json(const json& j, const std::string& where) {
  const json& model = j["model"];
  const json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json();
  if (!pre.is_object() || pre.value("type", "") != "BertPreTokenizer")
    throw std::runtime_error(where + ": unsupported pre_tokenizer (only BertPreTokenizer)");
  BertOptions opt = bert_normalizer(j.contains("normalizer") ? j["normalizer"] : json(), where);
  if (!model.contains("vocab") || !model["vocab"].is_object())
    throw std::runtime_error(where + ": model.vocab missing or not an object");
  std::vector<std::string> vocab;
  vocab.reserve(model["vocab"].size());
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) vocab.push_back(it.key());
  std::vector<std::string> specials;
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const json& t : j["added_tokens"])
      if (t.is_object() && t.contains("content") && t["content"].is_string())
        specials.push_back(t["content"].get<std::string>());
  std::string prefix = model.value("continuing_subword_prefix", std::string("##"));
  size_t max_chars = model.value("max_input_chars_per_word", size_t(100));
  return std::make_unique<WordPieceCounter>(vocab, std::move(specials), opt, std::move(prefix), max_chars);
}

std::unique_ptr<TokenCounter> load_tokenizer_json(const fs::path& file) {
  json j = read_json(file);
  const std::string where = file.string();
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    throw std::runtime_error(where + ": no \"model\" object");
  std::string type = j["model"].value("type", "");
  if (type == "WordPiece") {
    try {
      return load_wordpiece_json(j, where);
    } catch (const json::exception& e) {
      throw std::runtime_error(where + ": malformed (" + e.what() + ")");
    }
  }
  if (type == "BPE") {
    // vision::Tokenizer reads vocab.json + merges.txt; a tokenizer.json alone is not enough.
    fs::path dir = file.parent_path();
    std::error_code ec;
    if (fs::is_regular_file(dir / "vocab.json", ec) && fs::is_regular_file(dir / "merges.txt", ec))
      return std::make_unique<BpeCounter>(vision::Tokenizer::load(dir.string()));
    throw std::runtime_error(where + ": BPE tokenizer.json needs vocab.json and merges.txt beside it");
  }
  throw std::runtime_error(where + ": unsupported model type '" + type + "' (WordPiece or BPE)");
}

}  // namespace

size_t WordCounter::count(std::string_view utf8) const {
  size_t n = 0;
  bool in_word = false;
  for (size_t i = 0; i < utf8.size();) {
    bool sp = py_isspace(utf8_next(utf8, i));
    n += !sp && !in_word;
    in_word = !sp;
  }
  return n;
}

std::unique_ptr<TokenCounter> load_tokenizer(const std::string& path) {
  fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::is_regular_file(p / "tokenizer.json", ec)) return load_tokenizer_json(p / "tokenizer.json");
    if (fs::is_regular_file(p / "vocab.txt", ec)) return load_vocab_txt(p / "vocab.txt");
    if (fs::is_regular_file(p / "vocab.json", ec) && fs::is_regular_file(p / "merges.txt", ec))
      return std::make_unique<BpeCounter>(vision::Tokenizer::load(path));
    throw std::runtime_error(path + ": no tokenizer.json, vocab.txt or vocab.json + merges.txt");
  }
  if (!fs::is_regular_file(p, ec)) throw std::runtime_error(path + ": no such file or folder");
  if (p.extension() == ".txt") return load_vocab_txt(p);
  if (p.extension() == ".json" && p.filename() == "vocab.json")
    return std::make_unique<BpeCounter>(vision::Tokenizer::load(p.parent_path().string()));
  return load_tokenizer_json(p);
}

std::optional<size_t> tokenizer_max_tokens(const std::string& path) {
  fs::path dir(path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) dir = dir.parent_path();
  std::optional<json> sb = read_json_if(dir / "sentence_bert_config.json");
  if (sb && sb->is_object() && sb->contains("max_seq_length") && (*sb)["max_seq_length"].is_number_unsigned())
    return (*sb)["max_seq_length"].get<size_t>();
  std::optional<json> cfg = read_json_if(dir / "tokenizer_config.json");
  if (cfg && cfg->is_object() && cfg->contains("model_max_length")) {
    const json& v = (*cfg)["model_max_length"];
    if (v.is_number() && v.get<double>() > 0 && v.get<double>() < 1e6) return size_t(v.get<double>());
  }
  return std::nullopt;
}

}  // namespace docling::chunk
