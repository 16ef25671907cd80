// Byte-level BPE tokenizer: loading, special tokens, pre-tokenizer splits, round trips, decoding
// of oracle ids and the incremental (streaming) decoder.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "vision/safetensors.h"
#include "vision/tokenizer.h"

using namespace docling::vision;

namespace {

const std::string kData = DOCLING_TEST_DATA;
const std::string kModel = kData + "/models/granite-docling-258M";

const Tokenizer& tok() {
  static Tokenizer t = Tokenizer::load(kModel);
  return t;
}

const Tokenizer& tok_gpt2() {
  static Tokenizer t = [] {
    TokenizerOptions o;
    o.force_pre_tokenizer = true;
    o.pre_tokenizer = PreTokenizer::Gpt2;
    return Tokenizer::load(kModel, o);
  }();
  return t;
}

std::vector<int32_t> oracle_ids(const std::string& name) {
  static SafeTensors ref = SafeTensors::open(kData + "/oracle/reference.safetensors");
  const auto& v = ref.get(name);
  EXPECT_EQ(v.dtype, DType::I32);
  std::vector<int32_t> ids(v.nbytes / 4);
  std::memcpy(ids.data(), v.data, v.nbytes);
  return ids;
}

// Strict UTF-8 check (no surrogates, no overlongs, nothing above U+10FFFF).
bool valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::vector<std::string> pieces(const Tokenizer& t, const std::string& s) {
  std::vector<std::string> out;
  for (auto p : t.pre_tokenize(s)) out.emplace_back(p);
  return out;
}

const std::vector<std::string> kTexts = {
    "Hello world",
    "Convert this page to docling.",
    "  leading spaces and trailing   ",
    "line one\nline two\n\n\nthree\r\nfour\t\ttabs",
    "Numbers: 1234567 3.14159 -42 1,000,000 2024-01-31",
    "Contractions: I'm you're we've they'll he'd it's DON'T",
    "日本語のテキストと中文字符，还有한국어 문장입니다.",
    "مرحبا بالعالم، هذا نص عربي ٣٤٥",
    "Emoji 😀🎉 👍🏽 family 👨‍👩‍👧 flags 🇫🇷",
    "Ünïcödé àccents, ß, Ωμέγα, Жизнь, ½ ² Ⅻ",
    "<text><loc_12><loc_40><loc_200><loc_60>Hello</text>",
    "<doctag><section_header_level_1><loc_1><loc_2><loc_3><loc_4>1. Intro</section_header_level_1>"
    "<otsl><fcel>a<fcel>b<nl><ecel><lcel><nl></otsl></doctag>",
    "code: for (int i = 0; i < n; ++i) { x[i] += y[i] * 2; }  // done",
    "$$\\frac{a}{b} = \\sum_{i=0}^{n} x_i^2$$",
    "",
    " ",
    "\n",
    "a\u00a0b\u2028c\u3000d",
};

}  // namespace

TEST(Tokenizer, LoadsGraniteDoclingFilesQuickly) {
  auto t0 = std::chrono::steady_clock::now();
  Tokenizer t = Tokenizer::load(kModel);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("tokenizer load: %.1f ms (%d ids)\n", ms, t.size());
  EXPECT_EQ(t.size(), 100353);  // vocab.json 0..100351 + <end_of_utterance> from added_tokens.json
  EXPECT_EQ(t.pre_tokenizer(), PreTokenizer::Cl100k);
  EXPECT_EQ(t.eos_id, 100257);
  EXPECT_EQ(t.bos_id, 100264);
  EXPECT_EQ(t.pad_id, 100257);
  EXPECT_EQ(t.unk_id, 100338);
}

TEST(Tokenizer, KnownIdsAndSpecialTokens) {
  const Tokenizer& t = tok();
  EXPECT_EQ(t.token_id("\n"), 198);
  EXPECT_EQ(t.token_id("\n\n"), 271);
  EXPECT_EQ(t.token_id("<image>"), 100270);
  EXPECT_EQ(t.token_id("<fake_token_around_image>"), 100339);
  EXPECT_EQ(t.token_id("<global-img>"), 100340);
  EXPECT_EQ(t.token_id("<row_2_col_4>"), 100341);
  EXPECT_EQ(t.token_id("<end_of_utterance>"), 100352);
  EXPECT_EQ(t.token_id("no such token here"), -1);
  EXPECT_THROW(t.require_id("<row_5_col_1>"), std::runtime_error);
  EXPECT_TRUE(t.is_special(100270));
  EXPECT_TRUE(t.is_special(100260));  // <text>
  EXPECT_TRUE(t.is_added(100352));
  EXPECT_FALSE(t.is_special(100352));
  EXPECT_FALSE(t.is_added(198));
  EXPECT_EQ(t.token_bytes(271), "\n\n");
  EXPECT_EQ(t.token_bytes(220), " ");
  EXPECT_THROW(t.token_bytes(-1), std::out_of_range);
  EXPECT_THROW(t.token_bytes(t.size()), std::out_of_range);
  EXPECT_THROW(t.decode({1, 2, 1 << 30}), std::out_of_range);
}

TEST(Tokenizer, MissingFilesNameThePath) {
  try {
    Tokenizer::load(kData + "/no-such-model");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-model/vocab.json"), std::string::npos) << e.what();
  }
}

TEST(Tokenizer, OracleTextPromptIds) {
  const std::string prompt =
      "<|start_of_role|>user<|end_of_role|>What is the title of this document?<|end_of_text|>\n"
      "<|start_of_role|>assistant<|end_of_role|>";
  auto want = oracle_ids("text.input_ids");
  EXPECT_EQ(tok().encode(prompt), want);
  EXPECT_EQ(tok_gpt2().encode(prompt), want);  // this prompt does not depend on the regex
  EXPECT_EQ(tok().decode(want), prompt);
}

TEST(Tokenizer, SpecialTokensMatchedBeforeBpe) {
  const Tokenizer& t = tok();
  auto ids = t.encode("<text>Hello</text>");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), t.token_id("<text>"));
  EXPECT_EQ(ids.back(), t.token_id("</text>"));
  // Leftmost-longest: "<row_1_col_1>" wins over any shorter added token at the same place.
  EXPECT_EQ(t.encode("<row_1_col_1>"), std::vector<int32_t>{100258});
  // encode_ordinary never produces added tokens.
  for (int32_t id : t.encode_ordinary("<text>Hello</text><image>")) EXPECT_FALSE(t.is_added(id));
  // Back-to-back special tokens, no text between.
  EXPECT_EQ(t.encode("<image><image>"), (std::vector<int32_t>{100270, 100270}));
}

TEST(Tokenizer, LocationTagsAreOrdinaryPieces) {
  const Tokenizer& t = tok();
  for (const char* loc : {"<loc_0>", "<loc_12>", "<loc_200>", "<loc_499>"}) {
    auto ids = t.encode(loc);
    std::printf("%s -> %zu tokens\n", loc, ids.size());
    EXPECT_GE(ids.size(), 3u);
    EXPECT_LE(ids.size(), 5u);
    for (int32_t id : ids) EXPECT_FALSE(t.is_added(id));
    EXPECT_EQ(t.decode(ids), loc);
  }
}

// Expected pieces below were checked against Python's `regex` module running the two patterns.
TEST(Tokenizer, Cl100kSplits) {
  const Tokenizer& t = tok();
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces(t, "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pieces(t, "x 1234567"), (V{"x", " ", "123", "456", "7"}));
  EXPECT_EQ(pieces(t, "(word _word"), (V{"(word", " _", "word"}));
  EXPECT_EQ(pieces(t, "I'M don't"), (V{"I", "'M", " don", "'t"}));
  EXPECT_EQ(pieces(t, "hello!!\n\nnext"), (V{"hello", "!!\n\n", "next"}));
  EXPECT_EQ(pieces(t, "a  \n\n  b"), (V{"a", "  \n\n", " ", " b"}));
  EXPECT_EQ(pieces(t, "end   "), (V{"end", "   "}));
  // Digits split in groups of three reach cl100k's number tokens.
  EXPECT_EQ(t.encode("1234567"), (std::vector<int32_t>{t.token_id("123"), t.token_id("456"), t.token_id("7")}));
}

TEST(Tokenizer, Gpt2Splits) {
  const Tokenizer& t = tok_gpt2();
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces(t, "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pieces(t, "x 1234567"), (V{"x", " 1234567"}));
  EXPECT_EQ(pieces(t, "(word _word"), (V{"(", "word", " _", "word"}));
  EXPECT_EQ(pieces(t, "I'M don't"), (V{"I", "'", "M", " don", "'t"}));
  EXPECT_EQ(pieces(t, "hello!!\n\nnext"), (V{"hello", "!!", "\n", "\n", "next"}));
  EXPECT_EQ(pieces(t, "a  \n\n  b"), (V{"a", "  \n\n ", " b"}));
}

TEST(Tokenizer, RoundTripsVariedText) {
  for (const Tokenizer* t : {&tok(), &tok_gpt2()})
    for (const std::string& s : kTexts) {
      auto ids = t->encode(s);
      EXPECT_EQ(t->decode(ids), s) << s;
      std::string joined;
      for (auto p : t->pre_tokenize(s)) joined += p;
      EXPECT_EQ(joined, s);
    }
  // Non-special text: one token per known word piece, far fewer tokens than bytes.
  auto ids = tok().encode("Convert this page to docling.");
  EXPECT_EQ(ids.size(), 7u);
}

TEST(Tokenizer, InvalidUtf8IsTokenizedAndDecodedWithReplacement) {
  const Tokenizer& t = tok();
  std::string bad = "ok \xff\xfe mid \xe6\x97 end \xf0\x9f\x98";
  auto ids = t.encode(bad);
  std::string back = t.decode(ids);
  EXPECT_TRUE(valid_utf8(back));
  // Python's errors="replace": one U+FFFD per maximal ill-formed subpart.
  EXPECT_EQ(back, "ok \xEF\xBF\xBD\xEF\xBF\xBD mid \xEF\xBF\xBD end \xEF\xBF\xBD");
  // The bytes themselves survive tokenization.
  std::string raw;
  for (int32_t id : ids) raw += t.token_bytes(id);
  EXPECT_EQ(raw, bad);
}

namespace {

// Streams ids through an IncrementalDecoder: every chunk valid UTF-8, the concatenation equal to
// decode(). Returns the number of tokens that completed no character on their own.
int check_incremental(const Tokenizer& t, const std::vector<int32_t>& ids) {
  IncrementalDecoder dec(t);
  std::string all;
  int held = 0;
  for (int32_t id : ids) {
    std::string chunk = dec.push(id);
    EXPECT_TRUE(valid_utf8(chunk));
    if (chunk.empty() && !t.token_bytes(id).empty()) ++held;
    all += chunk;
  }
  std::string rest = dec.flush();
  EXPECT_TRUE(valid_utf8(rest));
  all += rest;
  EXPECT_EQ(all, t.decode(ids));
  EXPECT_EQ(dec.pending_bytes(), 0u);
  return held;
}

}  // namespace

TEST(Tokenizer, IncrementalDecodingEmitsOnlyWholeUtf8) {
  const Tokenizer& t = tok();
  int held = 0;
  for (const std::string& s : kTexts) held += check_incremental(t, t.encode(s));
  EXPECT_GT(held, 0) << "multi-byte characters split across tokens should be held back";
  // Byte-by-byte ids of a CJK/emoji string: nearly every byte is held until its character ends.
  std::string s = "日本😀";
  std::vector<int32_t> bytes;
  for (unsigned char c : s) bytes.push_back(t.token_id(std::string(1, char(c))));
  IncrementalDecoder dec(t);
  EXPECT_EQ(dec.push(bytes[0]), "");
  EXPECT_EQ(dec.push(bytes[1]), "");
  EXPECT_EQ(dec.push(bytes[2]), "日");
  check_incremental(t, bytes);
  // A truncated sequence at the end is flushed as U+FFFD.
  IncrementalDecoder d2(t);
  EXPECT_EQ(d2.push(bytes[0]), "");
  EXPECT_EQ(d2.flush(), "\xEF\xBF\xBD");
}

TEST(Tokenizer, RandomIdStreamsDecodeConsistently) {
  const Tokenizer& t = tok();
  std::mt19937 rng(1234);
  // Mix arbitrary ids with lone byte tokens (ids 0..255 hold the 256 bytes) to provoke broken
  // sequences in every position.
  std::uniform_int_distribution<int32_t> any(0, t.size() - 1), byte(0, 255);
  for (int round = 0; round < 200; ++round) {
    std::vector<int32_t> ids(1 + round % 40);
    for (auto& id : ids) id = (rng() % 3 == 0) ? any(rng) : t.token_id(std::string(1, char(byte(rng))));
    check_incremental(t, ids);
  }
}

TEST(Tokenizer, DecodesOracleGeneratedIds) {
  const Tokenizer& t = tok();
  for (const char* name : {"text.generated_ids", "image.generated_ids", "image.input_ids"}) {
    auto ids = oracle_ids(name);
    ASSERT_FALSE(ids.empty());
    std::string s = t.decode(ids);
    EXPECT_TRUE(valid_utf8(s)) << name;
    EXPECT_FALSE(s.empty());
    check_incremental(t, ids);
  }
  // The image prompt decodes back to the expanded prompt text (image tokens included).
  std::string prompt = t.decode(oracle_ids("image.input_ids"));
  EXPECT_EQ(prompt.rfind("<|start_of_role|>user<|end_of_role|><fake_token_around_image><row_1_col_1><image>", 0), 0u);
}
