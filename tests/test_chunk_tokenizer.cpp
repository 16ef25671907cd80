// Token counting as docling-core's HybridChunker counts (HF WordPiece of all-MiniLM-L6-v2):
// the 27 stored counts of hybrid_wiki_contextualize_64 and hand-checked normalizer /
// pre-tokenizer / WordPiece cases.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "exporters/chunk_tokenizer.h"
#include "vision/tokenizer.h"

namespace {

using docling::chunk::load_tokenizer;
using docling::chunk::TokenCounter;

const std::string kData = DOCLING_TEST_DATA;
const std::string kChunks = kData + "/conformance/chunks";
const std::string kMiniLM = kChunks + "/tokenizers/all-MiniLM-L6-v2";

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// The same vocabulary loaded three ways: folder (tokenizer.json wins), tokenizer.json, vocab.txt.
const TokenCounter& from_vocab_txt() {
  static auto t = load_tokenizer(kMiniLM + "/vocab.txt");
  return *t;
}
const TokenCounter& from_tokenizer_json() {
  static auto t = load_tokenizer(kMiniLM + "/tokenizer.json");
  return *t;
}
const TokenCounter& from_folder() {
  static auto t = load_tokenizer(kMiniLM);
  return *t;
}

TEST(ChunkTokenizer, ContextualizeCountsAllLoaders) {
  nlohmann::json cases = read_json(kChunks + "/hybrid_wiki_contextualize_64/expected.json")["root"];
  ASSERT_EQ(cases.size(), 27u);
  int pass = 0;
  for (const auto& c : cases) {
    std::string text = c["ser_text"].get<std::string>();
    size_t want = c["num_tokens"].get<size_t>();
    EXPECT_EQ(from_vocab_txt().count(text), want) << text;
    EXPECT_EQ(from_tokenizer_json().count(text), want) << text;
    EXPECT_EQ(from_folder().count(text), want) << text;
    pass += from_vocab_txt().count(text) == want && from_tokenizer_json().count(text) == want;
  }
  std::printf("contextualize_64 token counts: %d/27\n", pass);
}

TEST(ChunkTokenizer, LongestTokenAndMaxTokens) {
  EXPECT_EQ(from_vocab_txt().longest_token(), 18u);  // "telecommunications"
  EXPECT_EQ(from_tokenizer_json().longest_token(), 18u);
  EXPECT_EQ(docling::chunk::tokenizer_max_tokens(kMiniLM), std::optional<size_t>(256));
  EXPECT_EQ(docling::chunk::tokenizer_max_tokens(kMiniLM + "/vocab.txt"), std::optional<size_t>(256));
  EXPECT_EQ(docling::chunk::tokenizer_max_tokens(kData + "/no-such-folder"), std::nullopt);
}

// Each case is checked by both loaders; expectations come from the BERT rules by hand.
void expect_count(std::string_view text, size_t want) {
  EXPECT_EQ(from_vocab_txt().count(text), want) << "vocab.txt: " << text;
  EXPECT_EQ(from_tokenizer_json().count(text), want) << "tokenizer.json: " << text;
}

TEST(ChunkTokenizer, NormalizerStripsAccentsAndLowercases) {
  expect_count("hello", 1);
  expect_count("HeLLo", 1);
  expect_count("Héllo", 1);                  // NFD, the combining acute (Mn) is dropped
  expect_count("He\xCC\x81llo", 1);          // a combining mark in the input goes too
  expect_count("Ünïcödé café", 2);           // "unicode", "cafe"
  expect_count("\xC4\xB0stanbul", 1);        // İ: NFD = I + U+0307, the dot goes: "istanbul"
  EXPECT_EQ(from_vocab_txt().count(""), 0u);
  EXPECT_EQ(from_vocab_txt().count(" \t\n\r "), 0u);
}

TEST(ChunkTokenizer, CjkCharactersAreWords) {
  expect_count("中", 1);
  expect_count("中文", 2);  // no spaces needed: each ideograph is padded
  expect_count("hello中world", 3);
  expect_count("hello\xE3\x80\x80world", 2);  // U+3000 ideographic space is White_Space
}

TEST(ChunkTokenizer, PunctuationIsSplit) {
  expect_count("hello,world!", 4);
  expect_count("a|---|b", 7);                    // every '-' and '|' on its own
  expect_count("hello\xE2\x80\x94world", 3);     // em dash (Pd)
  expect_count("\xC2\xABhello\xC2\xBB", 3);      // « » (Pi, Pf)
  expect_count("$5", 2);                          // '$' is ASCII punctuation (Sc elsewhere)
}

TEST(ChunkTokenizer, UnknownWords) {
  expect_count("\xE2\x98\x83", 1);          // ☃ is not in the vocabulary: [UNK]
  expect_count("hello\xE2\x98\x83", 1);     // "hello" matches, "##☃" does not: one [UNK]
  expect_count("hello \xE2\x98\x83 world", 3);
  std::string a100(100, 'a'), a101(101, 'a');
  EXPECT_GT(from_vocab_txt().count(a100), 1u);  // split into word pieces
  expect_count(a101, 1);                        // longer than 100 chars: one [UNK]
  expect_count(a101 + " hello", 2);
}

TEST(ChunkTokenizer, SpecialTokensCountOnce) {
  expect_count("[CLS]", 1);
  expect_count("[SEP][PAD][MASK][UNK]", 4);
  expect_count("hello[SEP]world", 3);
  EXPECT_GT(from_vocab_txt().count("[cls]"), 2u);  // case-sensitive: '[', pieces of "cls", ']'
}

TEST(ChunkTokenizer, ControlCharactersRemoved) {
  expect_count("hel\x01lo", 1);
  expect_count("hel\x0blo", 1);               // VT is Cc: removed before whitespace splitting
  expect_count("hel\xE2\x80\x8Blo", 1);       // U+200B zero width space is Cf
  expect_count(std::string("hel\0lo", 6), 1);
  expect_count("hel\xEF\xBF\xBDlo", 1);       // U+FFFD
  expect_count("hello\tworld\r\nagain", 3);   // tab, CR, LF are whitespace
}

TEST(ChunkTokenizer, WordCounterCountsWords) {
  docling::chunk::WordCounter w;
  EXPECT_EQ(w.count(""), 0u);
  EXPECT_EQ(w.count("  a bb\n\tccc  "), 3u);
  EXPECT_EQ(w.count("a\xC2\xA0" "b"), 2u);  // NBSP is whitespace for str.split()
}

TEST(ChunkTokenizer, LoadErrorsNameTheFile) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("chunk_tok_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto msg = [](const std::string& p) {
    try {
      load_tokenizer(p);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg(dir.string()).find(dir.string()), std::string::npos);  // empty folder
  { std::ofstream(dir / "tokenizer.json") << "{\"model\": {\"type\": \"WordPiece\""; }
  EXPECT_NE(msg(dir.string()).find("tokenizer.json"), std::string::npos);
  { std::ofstream(dir / "tokenizer.json") << "{\"model\": {\"type\": \"Unigram\"}}"; }
  EXPECT_NE(msg(dir.string()).find("Unigram"), std::string::npos);
  EXPECT_NE(msg((dir / "missing.txt").string()).find("missing.txt"), std::string::npos);
  fs::remove_all(dir);
}

// Byte-level BPE goes through the VLM's tokenizer: same counts, longest token in bytes.
TEST(ChunkTokenizer, ByteLevelBpeFolder) {
  const std::string dir = kData + "/models/granite-docling-258M";
  auto tc = load_tokenizer(dir);
  auto ref = docling::vision::Tokenizer::load(dir);
  for (const char* text : {"", "hello world", "Revenue  (US$ bn)\n\n| a | b |", "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87"})
    EXPECT_EQ(tc->count(text), ref.encode(text).size()) << text;
  EXPECT_GT(tc->count("hello world"), 0u);
  EXPECT_GE(tc->longest_token(), 8u);
}

TEST(ChunkTokenizer, Speed) {
  nlohmann::json cases = read_json(kChunks + "/hybrid_wiki_contextualize_64/expected.json")["root"];
  std::string text;
  for (const auto& c : cases) text += c["ser_text"].get<std::string>() + "\n";
  size_t tokens = 0, bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < 200; ++r) tokens += from_vocab_txt().count(text), bytes += text.size();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("count(), English: %.1f MB/s, %.2f M tokens/s\n", bytes / s / 1e6, tokens / s / 1e6);
  EXPECT_GT(tokens, 0u);
  // Accented and CJK text takes the ICU path (NFD per character).
  std::string intl;
  for (int r = 0; r < 200; ++r) intl += "R\xC3\xA9sum\xC3\xA9 na\xC3\xAFve \xC3\x9C" "ber \xE4\xB8\xAD\xE6\x96\x87 \xC4\xB0stanbul. ";
  tokens = 0;
  t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < 50; ++r) tokens += from_vocab_txt().count(intl);
  s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("count(), accented/CJK: %.1f MB/s, %.2f M tokens/s\n", 50 * intl.size() / s / 1e6, tokens / s / 1e6);
}

}  // namespace
