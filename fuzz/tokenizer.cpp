// A checkpoint's tokenizer files -> vision::Tokenizer::load, then encode/decode of a text.
// The input is the files separated by NUL bytes, in this order: vocab.json, merges.txt,
// tokenizer_config.json, added_tokens.json, tokenizer.json, then the text to encode. An empty
// part means the file is absent.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.h"
#include "vision/tokenizer.h"

using namespace docling::vision;
namespace fs = std::filesystem;

FUZZ_TARGET(tokenizer) {
  static const char* const kFiles[] = {"vocab.json", "merges.txt", "tokenizer_config.json", "added_tokens.json",
                                       "tokenizer.json"};
  std::vector<std::string_view> parts = fuzz::split_nul(std::string_view(reinterpret_cast<const char*>(data), size), 6);
  const fs::path dir = fuzz::scratch() / "tok";
  fs::create_directories(dir);
  for (size_t i = 0; i < 5; ++i) {
    std::error_code ec;
    fs::remove(dir / kFiles[i], ec);
    if (i < parts.size() && !parts[i].empty()) fuzz::write_file(dir / kFiles[i], parts[i]);
  }
  std::string_view text = parts.size() > 5 ? parts[5] : std::string_view("Hello <doctag>world</doctag> 123 ü");
  try {
    Tokenizer tok = Tokenizer::load(dir.string());
    std::vector<int32_t> ids = tok.encode(text);
    std::string back = tok.decode(ids);
    IncrementalDecoder inc(tok);
    std::string streamed;
    for (int32_t id : ids) streamed += inc.push(id);
    streamed += inc.flush();
    if (streamed != back) {
      std::fprintf(stderr, "IncrementalDecoder disagrees with decode()\n");
      std::abort();
    }
    tok.encode_ordinary(text);
    tok.pre_tokenize(text);
    tok.token_id(text.substr(0, 8));
    for (int32_t id : {-1, 0, 1, 255, tok.size() - 1, tok.size()}) {
      tok.is_added(id);
      tok.is_special(id);
      if (tok.valid_id(id)) tok.token_bytes(id);
    }
  } catch (const std::exception&) {
  }
  return 0;
}
