// Speculative decoding (vision/speculative.h, verified by vision/batch.h): output is
// identical to plain greedy decoding whatever the drafts, and right drafts save steps.
// Model runs use the tiny oracle checkpoint; the text-layer drafter uses the real
// granite-docling tokenizer.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "vision/batch.h"
#include "vision/model.h"
#include "vision/prompt.h"
#include "vision/speculative.h"
#include "vision/tokenizer.h"

using namespace docling::vision;
using docling::TextWord;

namespace {

const std::string kTiny = std::string(DOCLING_TEST_DATA) + "/oracle/tiny-idefics3";
const std::string kReal = std::string(DOCLING_TEST_DATA) + "/models/granite-docling-258M";

const Model& tiny() {
  static Model m = Model::load(kTiny);
  return m;
}
const Tokenizer& tiny_tok() {
  static Tokenizer t = Tokenizer::load(kTiny);
  return t;
}
const Tokenizer& real_tok() {
  static Tokenizer t = Tokenizer::load(kReal);
  return t;
}

struct Case {
  std::vector<int32_t> prompt;
  std::vector<float> features;
  GenerateOptions opt;
  GenerateResult greedy;
  int rows() const { return int(features.size()) / tiny().config().text.hidden; }
};

Case make_case(int grid, int seed, const std::string& text, int max_new) {
  PromptBuilder pb(tiny_tok(), PromptConfig::load(kTiny));
  Case c;
  c.opt = tiny().default_options();
  c.opt.max_new_tokens = max_new;
  if (grid < 0) {
    c.prompt = pb.build_text(text).ids;
  } else {
    Prompt p = pb.build(text, grid, grid);
    c.prompt = p.ids;
    const int S = tiny().config().vision.image_size;
    std::vector<float> tiles(size_t(p.n_tiles) * 3 * S * S);
    for (size_t i = 0; i < tiles.size(); ++i) tiles[i] = float(std::sin(0.001 * double(i) * (seed + 1)));
    c.features = tiny().encode_tiles(tiles.data(), p.n_tiles);
  }
  c.greedy = tiny().generate(c.prompt, c.rows() ? c.features.data() : nullptr, c.rows(), c.opt);
  return c;
}

const std::vector<Case>& cases() {
  static std::vector<Case> cs = [] {
    std::vector<Case> v;
    v.push_back(make_case(-1, 0, "What is the title of this document?", 60));
    v.push_back(make_case(1, 1, "Convert this page to docling.", 50));
    v.push_back(make_case(0, 2, "Convert code to text.", 45));
    v.push_back(make_case(-1, 0, "Convert chart to table.", 55));
    return v;
  }();
  return cs;
}

// Proposes the continuation of a fixed script (a previous run's tokens, partly corrupted),
// aligned by how many tokens the sequence has emitted.
class ScriptDrafter : public Drafter {
 public:
  explicit ScriptDrafter(std::vector<int32_t> script) : s_(std::move(script)) {}
  void push(int32_t) override { ++n_; }
  int propose(int32_t* out, int max) override {
    int k = 0;
    while (k < max && n_ + size_t(k) < s_.size()) out[k] = s_[n_ + size_t(k)], ++k;
    return k;
  }

 private:
  std::vector<int32_t> s_;
  size_t n_ = 0;
};

// Every `every`-th token (from `from`) replaced by another valid id.
std::vector<int32_t> corrupt(std::vector<int32_t> t, int every, int from = 3) {
  for (size_t i = size_t(from); every > 0 && i < t.size(); i += size_t(every)) t[i] = (t[i] + 17) % 50000;
  return t;
}

}  // namespace

TEST(Speculative, PartlyRightDraftsGiveGreedyOutput) {
  int tokens = 0, steps = 0;
  for (const Case& c : cases()) {
    ASSERT_GT(c.greedy.tokens.size(), 20u);
    SpecStats st;
    GenerateResult r = generate_speculative(tiny().decoder(), c.prompt, c.features.data(), c.rows(), c.opt,
                                            std::make_unique<ScriptDrafter>(corrupt(c.greedy.tokens, 7)), 6, &st);
    EXPECT_EQ(r.tokens, c.greedy.tokens);
    EXPECT_EQ(r.stop, c.greedy.stop);
    EXPECT_EQ(r.warning, c.greedy.warning);
    EXPECT_GT(st.accepted, 0);
    EXPECT_LT(st.accepted, st.drafted);  // some drafts were wrong
    EXPECT_EQ(st.steps + st.accepted, int(r.tokens.size()));
    tokens += int(r.tokens.size());
    steps += st.steps;
  }
  std::printf("partly right drafts: %d tokens in %d steps (%.1f%% saved)\n", tokens, steps,
              100.0 * (tokens - steps) / tokens);
  EXPECT_LT(steps, tokens * 2 / 3);
}

TEST(Speculative, WrongAndPerfectDrafts) {
  const Case& c = cases()[1];
  SpecStats st;
  // Every draft wrong: same output, one step per token.
  GenerateResult r = generate_speculative(tiny().decoder(), c.prompt, c.features.data(), c.rows(), c.opt,
                                          std::make_unique<ScriptDrafter>(corrupt(c.greedy.tokens, 1, 0)), 4, &st);
  EXPECT_EQ(r.tokens, c.greedy.tokens);
  EXPECT_EQ(st.accepted, 0);
  EXPECT_EQ(st.steps, int(r.tokens.size()));
  // Perfect drafts: k + 1 tokens per step.
  r = generate_speculative(tiny().decoder(), c.prompt, c.features.data(), c.rows(), c.opt,
                           std::make_unique<ScriptDrafter>(c.greedy.tokens), 4, &st);
  EXPECT_EQ(r.tokens, c.greedy.tokens);
  const int n = int(r.tokens.size());
  EXPECT_EQ(st.steps, 1 + (n - 1 + 4) / 5);  // the prefill step gives the first token
  // Drafts past the stop token or the token limit are never emitted.
  std::vector<int32_t> longer = c.greedy.tokens;
  longer.insert(longer.end(), {11, 12, 13, 14, 15, 16});
  r = generate_speculative(tiny().decoder(), c.prompt, c.features.data(), c.rows(), c.opt,
                           std::make_unique<ScriptDrafter>(longer), 8, &st);
  EXPECT_EQ(r.tokens, c.greedy.tokens);
  EXPECT_EQ(r.stop, c.greedy.stop);
}

TEST(Speculative, PromptLookupOnModelOutputIsExact) {
  for (const Case& c : cases()) {
    SpecStats st;
    GenerateResult r = generate_speculative(tiny().decoder(), c.prompt, c.features.data(), c.rows(), c.opt,
                                            std::make_unique<PromptLookupDrafter>(PromptLookupOptions{1, 3}), 5, &st);
    EXPECT_EQ(r.tokens, c.greedy.tokens);
    EXPECT_EQ(st.steps + st.accepted, int(r.tokens.size()));
  }
}

TEST(Speculative, BatchedSlotsEachWithDrafts) {
  BatchOptions bo;
  bo.slots = 3;
  bo.capacity = 512;
  bo.max_step_rows = 64;
  bo.max_draft = 5;
  BatchDecoder bd(tiny().decoder(), bo);
  std::map<uint64_t, size_t> which;
  for (size_t i = 0; i < cases().size(); ++i) {
    BatchRequest r;
    r.prompt = cases()[i].prompt;
    r.image_features = cases()[i].features;
    r.opt = cases()[i].opt;
    if (i != 2) r.drafter = std::make_unique<ScriptDrafter>(corrupt(cases()[i].greedy.tokens, 5 + int(i)));
    which[bd.submit(std::move(r))] = i;
  }
  bd.run();
  auto done = bd.take_finished();
  ASSERT_EQ(done.size(), cases().size());
  int64_t tokens = 0;
  for (const BatchResult& r : done) {
    const Case& c = cases()[which[r.id]];
    EXPECT_EQ(r.result.tokens, c.greedy.tokens) << which[r.id];
    EXPECT_EQ(r.result.stop, c.greedy.stop);
    EXPECT_EQ(r.spec.steps + r.spec.accepted, int(r.result.tokens.size()));
    if (which[r.id] != 2) {
      EXPECT_GT(r.spec.accepted, 0);
    }
    tokens += int64_t(r.result.tokens.size());
  }
  EXPECT_GT(bd.stats().accepted, 0);
  EXPECT_EQ(bd.stats().tokens, tokens);
}

// --- drafters without a model ----------------------------------------------------------------

TEST(PromptLookup, ProposesWhatFollowedTheLatestMatch) {
  PromptLookupDrafter d(PromptLookupOptions{2, 3});
  int32_t out[8];
  EXPECT_EQ(d.propose(out, 8), 0);
  for (int32_t t : {1, 2, 3, 4, 5, 9, 2, 3, 7, 1, 2}) d.push(t);
  // Tail [1 2] matches position 0 (3-gram [7 1 2] is new): proposes 3 4 5 9 2 ...
  int k = d.propose(out, 4);
  ASSERT_EQ(k, 4);
  EXPECT_EQ(std::vector<int32_t>(out, out + 4), (std::vector<int32_t>{3, 4, 5, 9}));
  d.push(3);  // tail [1 2 3]: the 3-gram wins; [2 3] alone last continued with 7
  k = d.propose(out, 2);
  ASSERT_EQ(k, 2);
  EXPECT_EQ(out[0], 4);
  d.push(8);  // [3 8] never seen, [2 3 8] neither
  EXPECT_EQ(d.propose(out, 8), 0);
}

TEST(PromptLookup, SavesStepsOnRepetitiveStream) {
  std::vector<int32_t> s;
  for (int rep = 0; rep < 10; ++rep)
    for (int i = 0; i < 12; ++i) s.push_back(100 + i + (i == 5 ? rep : 0));
  PromptLookupDrafter d;
  SpecStats st;
  int steps = simulate_drafts(d, s, 8, &st);
  EXPECT_EQ(steps + st.accepted, int(s.size()));
  EXPECT_LT(steps, int(s.size()) / 2);
}

namespace {

// Words laid out on a 500 x 1000 pt page (so loc x = points, loc y = points / 2).
TextWord word(const std::string& text, double l, double t, double r, double b) {
  TextWord w;
  w.text = text;
  w.l = l, w.t = t, w.r = r, w.b = b;
  return w;
}

std::vector<TextWord> page_words() {
  return {word("Hello", 20, 22, 60, 40),    word("world,", 65, 22, 110, 40),  word("this", 20, 44, 50, 58),
          word("is", 55, 44, 65, 58),       word("text.", 70, 44, 100, 58),   word("Name", 20, 110, 60, 130),
          word("Value", 120, 110, 170, 130), word("alpha", 20, 140, 60, 160),  word("42", 120, 140, 140, 160),
          word("Footer", 20, 900, 80, 920)};
}

const std::string kPage =
    "<doctag><text><loc_10><loc_10><loc_200><loc_30>Hello world, this is text.</text>\n"
    "<otsl><loc_10><loc_50><loc_300><loc_90><ched>Name<ched>Value<nl><fcel>alpha<fcel>42<nl></otsl>\n"
    "<page_footer><loc_10><loc_449><loc_90><loc_461>Footer</page_footer>\n</doctag>";

}  // namespace

TEST(TextLayerDrafter, ProposesTheWordsInTheBox) {
  const Tokenizer& tok = real_tok();
  std::vector<int32_t> ids = tok.encode(kPage);
  TextLayerDrafter d(tok, page_words(), 500, 1000);
  // Feed up to the end of the first box's last number, then ask.
  const std::string head = "<doctag><text><loc_10><loc_10><loc_200><loc_30";
  std::string seen;
  size_t i = 0;
  while (seen.size() < head.size()) {
    seen += tok.token_bytes(ids[i]);
    d.push(ids[i++]);
  }
  ASSERT_EQ(seen, head) << "the loc number is a token boundary";
  std::vector<int32_t> out(64);
  int k = d.propose(out.data(), 64);
  EXPECT_EQ(tok.decode(out.data(), size_t(k)), ">Hello world, this is text.");
  EXPECT_EQ(d.boxes_seen(), 1);

  // Inside the table: after a cell tag, the next cell's words without a leading space.
  const std::string to_cell = "<ched>Name<ched>";
  size_t at = kPage.find(to_cell) + to_cell.size();
  while (seen.size() < at) {
    seen += tok.token_bytes(ids[i]);
    d.push(ids[i++]);
  }
  ASSERT_EQ(seen.size(), at);
  k = d.propose(out.data(), 2);
  ASSERT_GT(k, 0);
  EXPECT_EQ(tok.decode(out.data(), 1), "Value");
}

TEST(TextLayerDrafter, SavesStepsAndComposesWithPromptLookup) {
  const Tokenizer& tok = real_tok();
  std::vector<int32_t> ids = tok.encode(kPage);
  const int n = int(ids.size());
  TextLayerDrafter tl(tok, page_words(), 500, 1000);
  SpecStats st;
  int steps = simulate_drafts(tl, ids, 16, &st);
  EXPECT_EQ(steps + st.accepted, n);
  // The text element's words (6 tokens or more) come in one step; cells and the footer too.
  const int text_tokens = int(tok.encode_ordinary("Hello world, this is text.").size());
  EXPECT_GE(n - steps, text_tokens + 3);
  EXPECT_EQ(tl.boxes_seen(), 3);

  std::unique_ptr<Drafter> both = make_page_drafter(tok, page_words(), 500, 1000);
  SpecStats st2;
  int steps2 = simulate_drafts(*both, ids, 16, &st2);
  EXPECT_LE(steps2, steps);
  EXPECT_EQ(steps2 + st2.accepted, n);
}

TEST(TextLayerDrafter, WrongWordsOnlyCostDrafts) {
  // Text layer that disagrees with what is generated: nothing accepted, nothing breaks.
  const Tokenizer& tok = real_tok();
  std::vector<TextWord> words = {word("Completely", 20, 22, 60, 40), word("different", 65, 22, 110, 40)};
  std::vector<int32_t> ids = tok.encode(kPage);
  TextLayerDrafter d(tok, words, 500, 1000);
  SpecStats st;
  int steps = simulate_drafts(d, ids, 8, &st);
  EXPECT_EQ(steps + st.accepted, int(ids.size()));
  EXPECT_GT(st.drafted, 0);
  EXPECT_LT(st.accepted, 3);
}
