// semchunk 3.2.5 and the line chunker of HybridChunker's table path. The expected pieces were
// worked out by hand from the rules (tests/data/conformance/chunks/README.md §6.3-6.4) with
// small counters (words, characters); the last test replays hybrid_wiki_merge_64's splits.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "exporters/chunk_tokenizer.h"
#include "exporters/text_split.h"

namespace {

using docling::chunk::line_chunk;
using docling::chunk::semchunk;
using docling::chunk::TokenCounter;
using docling::chunk::WordCounter;
using V = std::vector<std::string>;

const std::string kChunks = std::string(DOCLING_TEST_DATA) + "/conformance/chunks";

// One token per byte (ASCII tests only).
struct CharCounter : TokenCounter {
  size_t count(std::string_view s) const override { return s.size(); }
  size_t longest_token() const override { return 1; }
};

// Words, remembering the longest string it was asked about.
struct SpyCounter : WordCounter {
  mutable size_t longest_seen = 0;
  size_t count(std::string_view s) const override {
    longest_seen = std::max(longest_seen, s.size());
    return WordCounter::count(s);
  }
};

TEST(Semchunk, ReadmeExample) {  // semchunk's own documented example
  EXPECT_EQ(semchunk("The quick brown fox jumps over the lazy dog.", 2, WordCounter()),
            (V{"The quick", "brown fox", "jumps over", "the lazy", "dog."}));
}

TEST(Semchunk, NewlineSplitterLongestRunFirst) {
  // "\n\n" beats "\n": pieces "a b" and "c d\ne f"; the second is too long and is split on "\n".
  EXPECT_EQ(semchunk("a b\n\nc d\ne f", 2, WordCounter()), (V{"a b", "c d", "e f"}));
}

TEST(Semchunk, PrecederSplitter) {
  // Single spaces only: split at the spaces that follow '.', keeping the '.' on the left.
  EXPECT_EQ(semchunk("One two. Three four five. Six", 3, WordCounter()),
            (V{"One two.", "Three four five.", "Six"}));
}

TEST(Semchunk, RecursiveSplitOfLongPiece) {
  EXPECT_EQ(semchunk("a b c d e\n\nf", 2, WordCounter()), (V{"a b", "c d", "e", "f"}));
}

TEST(Semchunk, NonWhitespaceSplitterReattached) {
  // No whitespace: ',' splits; it goes back on the chunk before it while that fits...
  EXPECT_EQ(semchunk("abc,de,fgh", 4, CharCounter()), (V{"abc,", "de,", "fgh"}));
  // ...and stands alone when it does not.
  EXPECT_EQ(semchunk("abc,de", 3, CharCounter()), (V{"abc", ",", "de"}));
}

TEST(Semchunk, CharactersWhenNoSplitter) {
  EXPECT_EQ(semchunk("abcdef", 4, CharCounter()), (V{"abcd", "ef"}));
}

TEST(Semchunk, WhitespaceKeptInsideDroppedAlone) {
  // The end search takes " " along with "a" (0 tokens); a whitespace-only chunk is dropped.
  EXPECT_EQ(semchunk("a\n\n \n\nb", 1, WordCounter()), (V{"a\n\n ", "b"}));
  EXPECT_EQ(semchunk(" \n\na b c", 2, WordCounter()), (V{"a b", "c"}));
  EXPECT_TRUE(semchunk("", 5, WordCounter()).empty());
  EXPECT_TRUE(semchunk(" \n ", 5, WordCounter()).empty());
}

TEST(Semchunk, ShortcutCountsPrefixOnly) {
  // N = 2, m = 1: a text over 12 characters whose first 12 already hold more than 2 words is
  // judged by those 12 characters alone.
  std::string text;
  for (int i = 0; i < 100; ++i) text += i ? " w" : "w";
  SpyCounter spy;
  V pieces = semchunk(text, 2, spy);
  ASSERT_EQ(pieces.size(), 50u);
  for (const std::string& p : pieces) EXPECT_EQ(p, "w w");
  EXPECT_LE(spy.longest_seen, 12u);
}

TEST(Semchunk, Utf8Pieces) {
  // Characters are code points: "é" is one piece, never half of one.
  EXPECT_EQ(semchunk("\xC3\xA9\xC3\xA9\xC3\xA9", 1, WordCounter()), (V{"\xC3\xA9\xC3\xA9\xC3\xA9"}));
}

TEST(LineChunk, PrefixRepeated) {
  EXPECT_EQ(line_chunk({"r1 a\n", "r2 b\n", "r3 c\n"}, "H h\n", 4, false, WordCounter()),
            (V{"H h\nr1 a\n", "H h\nr2 b\n", "H h\nr3 c\n"}));
  // Two rows fit with the header at 6.
  EXPECT_EQ(line_chunk({"r1 a\n", "r2 b\n", "r3 c\n"}, "H h\n", 6, false, WordCounter()),
            (V{"H h\nr1 a\nr2 b\n", "H h\nr3 c\n"}));
}

TEST(LineChunk, LongLineCutAtLastSpace) {
  // Binary search gives 14 chars ("one two three "), then the cut moves back to the last space;
  // the head is added after a "\n" even to an empty piece.
  EXPECT_EQ(line_chunk({"one two three four five"}, "", 3, false, WordCounter()),
            (V{"\none two three", " four five"}));
}

TEST(LineChunk, PrefixLongerThanLimit) {
  // The prefix is cut on its own first, then the body goes without a prefix.
  EXPECT_EQ(line_chunk({"x\n"}, "a b c d e", 3, false, WordCounter()),
            (V{"\na b c", " d e", "x\n"}));
}

TEST(LineChunk, HeadOfOneCharacterWhenNothingFits) {
  // Limit 1 with one token per char: "a" fits, the cut has no space, so each piece is "\n" + char.
  EXPECT_EQ(line_chunk({"abc"}, "", 1, false, CharCounter()), (V{"\na", "\nb", "c"}));
}

TEST(LineChunk, OmitHeaderOnOverflow) {
  // A row that fits alone but not with the header goes without it (the header alone first).
  EXPECT_EQ(line_chunk({"a b c\n", "d\n"}, "H h\n", 4, true, WordCounter()),
            (V{"H h\n", "a b c\nd\n"}));
  EXPECT_EQ(line_chunk({"a b c\n", "d\n"}, "H h\n", 4, false, WordCounter()),
            (V{"H h\n\na b", "H h\n c\nd\n"}));
}

// hybrid_wiki_merge_64: every paragraph too long for 64 tokens (with its headings) is cut by
// semchunk at 64 minus the headings' tokens; its pieces must be lines of the expected chunks.
TEST(Semchunk, WikiMerge64Pieces) {
  auto read = [](const std::string& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return nlohmann::json::parse(ss.str());
  };
  auto tok = docling::chunk::load_tokenizer(kChunks + "/tokenizers/all-MiniLM-L6-v2");
  nlohmann::json in = read(kChunks + "/hybrid_wiki_merge_64/input.json");
  nlohmann::json out = read(kChunks + "/hybrid_wiki_merge_64/expected.json")["root"];
  std::vector<std::string> lines;
  std::vector<size_t> heading_cost;  // of the chunk each line is in
  for (const auto& c : out) {
    size_t cost = 0;
    if (c["meta"].contains("headings"))
      for (const auto& h : c["meta"]["headings"]) cost += tok->count(h.get<std::string>());
    std::stringstream ss(c["text"].get<std::string>());
    for (std::string l; std::getline(ss, l);) lines.push_back(l), heading_cost.push_back(cost);
  }
  int split = 0;
  for (const auto& t : in["texts"]) {
    if (t["label"] != "text") continue;
    std::string text = t["text"].get<std::string>();
    if (std::find(lines.begin(), lines.end(), text) != lines.end()) continue;  // kept whole
    // Find the line that starts the paragraph, for the heading cost of its chunk.
    size_t at = 0;
    while (at < lines.size() && (lines[at].empty() || text.rfind(lines[at], 0) != 0)) ++at;
    ASSERT_LT(at, lines.size()) << text;
    V pieces = semchunk(text, 64 - heading_cost[at], *tok);
    ASSERT_LE(at + pieces.size(), lines.size());
    for (size_t k = 0; k < pieces.size(); ++k) EXPECT_EQ(pieces[k], lines[at + k]) << text;
    ++split;
  }
  EXPECT_GT(split, 3);
}

}  // namespace

// A character worth more tokens than the budget cannot be split: it goes out whole instead of
// recursing without end (found chunking Korean text under a long heading).
TEST(Semchunk, UnsplittableCharacterOverBudget) {
  struct TwoPerChar : TokenCounter {
    size_t count(std::string_view s) const override { return 2 * s.size(); }
    size_t longest_token() const override { return 1; }
  };
  EXPECT_EQ(semchunk("ab", 1, TwoPerChar()), (V{"a", "b"}));
}
