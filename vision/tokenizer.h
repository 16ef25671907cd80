// Byte-level BPE tokenizer (GPT-2 family) for Idefics3 / granite-docling checkpoints.
//
// Takes: a model folder with vocab.json, merges.txt, tokenizer_config.json (added_tokens_decoder,
//        special token names) and optionally added_tokens.json / tokenizer.json.
// Gives: text -> ids (added/special tokens matched first, then pre-tokenizer + BPE), ids -> text
//        (special tokens kept), and an incremental decoder that only ever emits whole UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace docling::vision {

class ModelFiles;

// The regex that cuts text into pieces before BPE (hand-written matchers, same semantics).
enum class PreTokenizer {
  Cl100k,  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  Gpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
};

struct TokenizerOptions {
  // Auto: the pattern named in tokenizer.json when the folder has one, else Cl100k (see
  // tokenizer.cpp for why). Set `force_pre_tokenizer` to override.
  bool force_pre_tokenizer = false;
  PreTokenizer pre_tokenizer = PreTokenizer::Cl100k;
};

class Tokenizer {
 public:
  // Throws std::runtime_error naming the file on any missing or malformed input.
  static Tokenizer load(const std::string& model_dir, const TokenizerOptions& opt = {});
  static Tokenizer load(const ModelFiles& files, const TokenizerOptions& opt = {});  // model_files.h

  // Added tokens (exact, leftmost-longest) are matched first; the text between them goes through
  // the pre-tokenizer and BPE. No BOS/EOS is added. Any bytes are accepted (invalid UTF-8 is
  // tokenized byte by byte).
  std::vector<int32_t> encode(std::string_view text) const;
  // Like encode() but added tokens are not recognized (plain text, e.g. user content).
  std::vector<int32_t> encode_ordinary(std::string_view text) const;

  // The pieces the pre-tokenizer cuts plain text into (views into `text`), before BPE.
  std::vector<std::string_view> pre_tokenize(std::string_view text) const;

  // Concatenated token bytes (special tokens kept as their text), invalid UTF-8 replaced by
  // U+FFFD as Python's errors="replace" does. Throws std::out_of_range on an unknown id.
  std::string decode(const int32_t* ids, size_t n) const;
  std::string decode(const std::vector<int32_t>& ids) const { return decode(ids.data(), ids.size()); }

  // Raw bytes of one token (added tokens: their content). Throws std::out_of_range.
  std::string_view token_bytes(int32_t id) const;
  // Id of an exact token (raw bytes, e.g. "<image>" or "\n\n"), or -1.
  int32_t token_id(std::string_view bytes) const;
  // Like token_id() but throws std::runtime_error when absent.
  int32_t require_id(std::string_view bytes) const;
  bool is_added(int32_t id) const;    // from added_tokens_decoder / added_tokens.json
  bool is_special(int32_t id) const;  // added with "special": true
  bool valid_id(int32_t id) const { return id >= 0 && id < size() && toks_[id].len >= 0; }

  int32_t size() const { return int32_t(toks_.size()); }  // largest id + 1
  PreTokenizer pre_tokenizer() const { return pre_; }
  // From tokenizer_config.json / special_tokens_map.json; -1 when not set.
  int32_t bos_id = -1, eos_id = -1, pad_id = -1, unk_id = -1;

 private:
  struct Merge {
    uint64_t key;  // left id << 32 | right id; ~0 = empty slot
    int32_t rank, id;
  };
  struct Tok {
    uint32_t off;     // in arena_
    int32_t len;      // -1 = no such id
  };
  struct Slot {
    int32_t id;       // -1 = empty
    uint32_t tag;     // high hash bits: most non-matching probes never touch the arena
  };
  struct AddedToken {
    std::string text;
    int32_t id;
  };

  void add_token(int32_t id, std::string_view bytes);
  void build_index();
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;
  void bpe(std::string_view piece, std::vector<int32_t>& out) const;
  const Merge* find_merge(int32_t a, int32_t b) const;

  PreTokenizer pre_ = PreTokenizer::Cl100k;
  std::vector<char> arena_;        // all token bytes
  std::vector<Tok> toks_;          // id -> bytes in arena_
  std::vector<uint8_t> flags_;     // id -> bit 0 added, bit 1 special
  std::vector<Slot> slots_;        // open-addressing index bytes -> id
  std::vector<Merge> merges_;      // open-addressing (left, right) -> rank, merged id
  int32_t byte_id_[256] = {};      // single-byte tokens
  std::vector<AddedToken> added_;  // sorted longest first, for matching
  bool added_first_[256] = {};     // bytes some added token starts with
};

// Turns a stream of ids into text, emitting only complete UTF-8 sequences. The concatenation of
// every push() plus flush() equals Tokenizer::decode() of all the ids.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer& tok) : tok_(&tok) {}
  std::string push(int32_t id);  // the text completed by this token (may be empty)
  std::string flush();           // whatever is left (an unfinished sequence becomes U+FFFD)
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tok_;
  std::string pending_;  // bytes of an unfinished UTF-8 sequence
};

}  // namespace docling::vision
