// The chunkers' tokenizer files -> chunk::load_tokenizer and tokenizer_max_tokens, then a count.
// The input is NUL-separated: the tokenizer file, tokenizer_config.json, sentence_bert_config.json,
// the text to count. An even length makes the first part a tokenizer.json, an odd one a vocab.txt
// (BERT WordPiece). An empty part means the file is absent.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporters/chunk_tokenizer.h"
#include "fuzz_common.h"

using namespace docling;
namespace fs = std::filesystem;

FUZZ_TARGET(chunk_tokenizer) {
  std::vector<std::string_view> parts = fuzz::split_nul(std::string_view(reinterpret_cast<const char*>(data), size), 4);
  const fs::path dir = fuzz::scratch() / "chunk";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const char* main_name = size % 2 ? "vocab.txt" : "tokenizer.json";
  const char* const names[] = {main_name, "tokenizer_config.json", "sentence_bert_config.json"};
  for (size_t i = 0; i < 3 && i < parts.size(); ++i)
    if (!parts[i].empty() || i == 0) fuzz::write_file(dir / names[i], parts[i]);
  std::string_view text = parts.size() > 3 ? parts[3] : std::string_view("Hello, wörld! 東京 don't ##x [CLS]");
  try {
    chunk::tokenizer_max_tokens(dir.string());
  } catch (const std::exception&) {
  }
  for (const fs::path& p : {dir, dir / main_name}) {
    try {
      std::unique_ptr<chunk::TokenCounter> c = chunk::load_tokenizer(p.string());
      c->count(text);
      c->longest_token();
    } catch (const std::exception&) {
    }
  }
  return 0;
}
