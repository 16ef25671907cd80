// core/utf8.h: the lenient reading (exporters, PDF text layer), the strict one (DocTags parser,
// tokenizer), replacement of ill-formed bytes, and the encoder.
#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

using namespace docling;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";

uint32_t lenient(std::string_view s, size_t* len) { return utf8_decode(s, 0, len); }

size_t strict(std::string_view s, uint32_t* cp) { return utf8_decode_strict(s, 0, cp); }

std::string each_byte(std::string_view s) { return utf8_valid_copy(s); }

std::string subpart(std::string_view s) {
  std::string out;
  EXPECT_EQ(utf8_sanitize(s, out, Utf8Replace::MaximalSubpart, true), s.size());
  return out;
}

}  // namespace

TEST(Utf8, ValidOneToFourBytes) {
  const struct {
    const char* s;
    uint32_t cp;
    size_t len;
  } cases[] = {{"A", 0x41, 1}, {"\xC3\xA9", 0xE9, 2}, {"\xE2\x82\xAC", 0x20AC, 3},
               {"\xF0\x9F\x98\x80", 0x1F600, 4}, {"\xF4\x8F\xBF\xBF", 0x10FFFF, 4}};
  for (const auto& c : cases) {
    size_t len = 0;
    EXPECT_EQ(lenient(c.s, &len), c.cp) << c.s;
    EXPECT_EQ(len, c.len);
    uint32_t cp = 0;
    EXPECT_EQ(strict(c.s, &cp), c.len);
    EXPECT_EQ(cp, c.cp);
    EXPECT_EQ(each_byte(c.s), c.s);
    EXPECT_EQ(subpart(c.s), c.s);
    EXPECT_EQ(utf8_length(c.s), 1u);
    EXPECT_EQ(utf8_length_strict(c.s), 1u);
  }
}

// The text layer read overlongs and surrogates as their value; DocTags text never keeps them.
TEST(Utf8, OverlongForms) {
  for (std::string s : {"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xF0\x80\x80\x80",
                        "\xF0\x8F\xBF\xBF"}) {
    size_t len = 0;
    uint32_t v = lenient(s, &len);
    EXPECT_EQ(len, s.size());
    EXPECT_LT(v, s.size() == 2 ? 0x80u : s.size() == 3 ? 0x800u : 0x10000u);
    uint32_t cp = 7;
    EXPECT_EQ(strict(s, &cp), 0u);
    EXPECT_EQ(cp, 7u);  // untouched
    std::string each;
    for (size_t k = 0; k < s.size(); ++k) each += kFffd;
    EXPECT_EQ(each_byte(s), each);
    EXPECT_EQ(utf8_length_strict(s), s.size());
  }
  // Maximal subparts: C0/C1 are never leads (one U+FFFD a byte); E0 80 is ill-formed at byte 2.
  EXPECT_EQ(subpart("\xC0\x80"), kFffd + kFffd);
  EXPECT_EQ(subpart("\xE0\x80\x80"), kFffd + kFffd + kFffd);
}

TEST(Utf8, SurrogatesAndAboveMax) {
  size_t len = 0;
  EXPECT_EQ(lenient("\xED\xA0\x80", &len), 0xD800u);
  EXPECT_EQ(len, 3u);
  uint32_t cp;
  EXPECT_EQ(strict("\xED\xA0\x80", &cp), 0u);
  EXPECT_EQ(strict("\xED\xBF\xBF", &cp), 0u);
  EXPECT_EQ(strict("\xED\x9F\xBF", &cp), 3u);  // U+D7FF, just below
  EXPECT_EQ(cp, 0xD7FFu);
  EXPECT_EQ(strict("\xF4\x90\x80\x80", &cp), 0u);  // U+110000
  EXPECT_EQ(strict("\xF5\x80\x80\x80", &cp), 0u);
  EXPECT_EQ(each_byte("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(subpart("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  // F5..F7 leads: lenient reads 4 bytes, F8 and up are one bad byte.
  EXPECT_EQ(lenient("\xF7\xBF\xBF\xBF", &len), 0x1FFFFFu);
  EXPECT_EQ(len, 4u);
  EXPECT_EQ(lenient("\xF8\x88\x80\x80\x80", &len), 0xFFFDu);
  EXPECT_EQ(len, 1u);
}

TEST(Utf8, TruncatedAtEnd) {
  size_t len = 0;
  EXPECT_EQ(utf8_decode("a\xE2\x82", 1, &len), 0xFFFDu);
  EXPECT_EQ(len, 1u);
  uint32_t cp;
  EXPECT_EQ(utf8_decode_strict("a\xE2\x82", 1, &cp), 0u);
  const unsigned char t[] = {0xF0, 0x9F, 0x98};
  Utf8Check c = utf8_check(t, 3);
  EXPECT_EQ(c.need, 4);
  EXPECT_EQ(c.ok, 3);
  EXPECT_EQ(each_byte("a\xF0\x9F\x98"), "a" + kFffd + kFffd + kFffd);
  EXPECT_EQ(subpart("a\xF0\x9F\x98"), "a" + kFffd);
  EXPECT_EQ(utf8_length("a\xF0\x9F\x98"), 2u);
  EXPECT_EQ(utf8_length_strict("a\xF0\x9F\x98"), 4u);
}

TEST(Utf8, StrayContinuationBytes) {
  size_t len = 0;
  EXPECT_EQ(lenient("\x80", &len), 0xFFFDu);
  EXPECT_EQ(len, 1u);
  uint32_t cp;
  EXPECT_EQ(strict("\xBF", &cp), 0u);
  EXPECT_EQ(each_byte("a\x80\x80z"), "a" + kFffd + kFffd + "z");
  EXPECT_EQ(subpart("a\x80\x80z"), "a" + kFffd + kFffd + "z");
  EXPECT_EQ(utf8_length("a\x80\x80z"), 2u);  // lenient count skips continuation bytes
  EXPECT_EQ(utf8_length_strict("a\x80\x80z"), 4u);
  // A lead byte followed by a non-continuation byte: the lead alone is bad, the next byte reads.
  EXPECT_EQ(lenient("\xC3z", &len), 0xFFFDu);
  EXPECT_EQ(len, 1u);
  EXPECT_EQ(each_byte("\xC3z"), kFffd + "z");
  EXPECT_EQ(subpart("\xE2\x82z"), kFffd + "z");
  EXPECT_EQ(each_byte("\xE2\x82z"), kFffd + kFffd + "z");
}

TEST(Utf8, NextAndPrevWalk) {
  std::string s = "a\xC3\xA9\xE2\x82\xAC\x80\xF0\x9F\x98\x80";
  std::vector<uint32_t> got;
  for (size_t i = 0; i < s.size();) got.push_back(utf8_next(s, i));
  EXPECT_EQ(got, (std::vector<uint32_t>{0x61, 0xE9, 0x20AC, 0xFFFD, 0x1F600}));
  EXPECT_EQ(utf8_prev(s, s.size()), s.size() - 4);
  EXPECT_EQ(utf8_prev(s, 3), 1u);
}

// Incremental decoding keeps a well-formed but unfinished tail pending and no more.
TEST(Utf8, SanitizeKeepsUnfinishedTailPending) {
  std::string out;
  EXPECT_EQ(utf8_sanitize("ab\xE2\x82", out, Utf8Replace::MaximalSubpart, false), 2u);
  EXPECT_EQ(out, "ab");
  out.clear();
  EXPECT_EQ(utf8_sanitize("\xE2\x82\xAC", out, Utf8Replace::MaximalSubpart, false), 3u);
  EXPECT_EQ(out, "\xE2\x82\xAC");
  out.clear();  // ED A0 can never be completed: replaced at once
  EXPECT_EQ(utf8_sanitize("\xED\xA0", out, Utf8Replace::MaximalSubpart, false), 2u);
  EXPECT_EQ(out, kFffd + kFffd);
  out.clear();
  EXPECT_EQ(utf8_sanitize("x\xF4", out, Utf8Replace::EachByte, false), 1u);
  EXPECT_EQ(out, "x");
  out.clear();
  EXPECT_EQ(utf8_sanitize("x\xF4", out, Utf8Replace::EachByte, true), 2u);
  EXPECT_EQ(out, "x" + kFffd);
}

// Every scalar value: the encoder's bytes read back strictly, and lenient agrees.
TEST(Utf8, AppendRoundTripsEveryScalar) {
  std::string s;
  for (uint32_t v = 0; v < 0x110000; ++v) {
    s.clear();
    utf8_append(s, v);
    size_t want = v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4;
    ASSERT_EQ(s.size(), want) << v;
    size_t len = 0;
    ASSERT_EQ(lenient(s, &len), v);
    ASSERT_EQ(len, want);
    uint32_t cp = 0;
    bool surrogate = v >= 0xD800 && v <= 0xDFFF;
    ASSERT_EQ(strict(s, &cp), surrogate ? 0u : want) << v;
    if (!surrogate) {
      ASSERT_EQ(cp, v);
    }
  }
}

// Strict is lenient minus overlongs, surrogates and values above U+10FFFF, on every 2- and 3-byte
// string (the sizes where lead/second-byte ranges matter), and the counts agree with the copies.
TEST(Utf8, StrictIsLenientMinusIllFormed) {
  for (unsigned a = 0x80; a < 0x100; ++a)
    for (unsigned b = 0; b < 0x100; ++b)
      for (unsigned c : {0x00u, 0x80u, 0xBFu}) {
        std::string s = {char(a), char(b), char(c)};
        size_t len = 0;
        uint32_t v = lenient(s, &len);
        bool ok = len > 1 && len <= 3 && v != 0xFFFD &&
                  v >= (len == 2 ? 0x80u : 0x800u) && !(v >= 0xD800 && v <= 0xDFFF);
        uint32_t cp = 0;
        size_t n = strict(s, &cp);
        ASSERT_EQ(n != 0, ok) << std::hex << a << " " << b << " " << c;
        if (ok) {
          ASSERT_EQ(n, len);
        }
        ASSERT_EQ(utf8_length_strict(s), utf8_length(each_byte(s)));
        ASSERT_LE(utf8_length(subpart(s)), utf8_length(each_byte(s)));
      }
}

TEST(Utf8, PythonIsspace) {
  for (uint32_t c : {0x09u, 0x0Du, 0x1Cu, 0x20u, 0x85u, 0xA0u, 0x2009u, 0x3000u})
    EXPECT_TRUE(py_isspace(c)) << c;
  for (uint32_t c : {0x08u, 0x21u, 0x200Bu, 0xFEFFu, 0xFFFDu}) EXPECT_FALSE(py_isspace(c)) << c;
}
