// Token counting for the RAG chunkers, as docling-core's HybridChunker counts (Hugging Face
// tokenizer.tokenize(): no [CLS]/[SEP], no truncation).
//
// Takes: a tokenizer folder or file: tokenizer.json (WordPiece or BPE model), vocab.txt (BERT
//        WordPiece), or vocab.json + merges.txt (byte-level BPE); UTF-8 text to count.
// Gives: a TokenCounter (token count of a string, longest vocabulary entry for semchunk's
//        shortcut), the model's max sequence length, and a word counter for tests.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace docling::chunk {

class TokenCounter {
 public:
  virtual ~TokenCounter() = default;
  // Tokens of `utf8` as the HF tokenizer's tokenize() gives them (no [CLS]/[SEP], no truncation).
  virtual size_t count(std::string_view utf8) const = 0;
  // semchunk's m: longest vocabulary entry (code points for WordPiece, e.g. 18 for
  // bert-base-uncased; bytes for byte-level BPE).
  virtual size_t longest_token() const = 0;
};

// `path`: a folder or a file. Folder: tokenizer.json (model type WordPiece or BPE), else vocab.txt
// (WordPiece, BERT uncased unless tokenizer_config.json says do_lower_case false), else
// vocab.json + merges.txt (byte-level BPE). A file: tokenizer.json-like JSON, or a vocab.txt.
// Throws std::runtime_error naming the file on anything missing/malformed.
std::unique_ptr<TokenCounter> load_tokenizer(const std::string& path);

// The model's max sequence length: sentence_bert_config.json max_seq_length, else
// tokenizer_config.json model_max_length when sane (< 1e6); nullopt otherwise (or when `path`
// is a file, the files are looked up in its folder).
std::optional<size_t> tokenizer_max_tokens(const std::string& path);

// A counter with no limit-relevant vocabulary, e.g. for tests: counts whitespace-separated words
// (Python's str.split()). longest_token() is 1.
class WordCounter : public TokenCounter {
 public:
  size_t count(std::string_view utf8) const override;
  size_t longest_token() const override { return 1; }
};

}  // namespace docling::chunk
