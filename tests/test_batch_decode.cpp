// Continuous batching (vision/batch.h) and identical-tile dedup (vision/tile_cache.h) on
// the tiny oracle checkpoint: every sequence decoded in a batch gets exactly the tokens
// generate_greedy gives it alone; deduplicated tile encoding is bit-identical.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "core/image.h"
#include "vision/batch.h"
#include "vision/image_processor.h"
#include "vision/model.h"
#include "vision/prompt.h"
#include "vision/tile_cache.h"
#include "vision/tokenizer.h"

using namespace docling::vision;

namespace {

const std::string kTiny = std::string(DOCLING_TEST_DATA) + "/oracle/tiny-idefics3";

const Model& tiny() {
  static Model m = Model::load(kTiny);
  return m;
}
const Tokenizer& tokenizer() {
  static Tokenizer t = Tokenizer::load(kTiny);
  return t;
}

// n synthetic tiles (smooth patterns that differ by `seed`), normalized like the processor's.
std::vector<float> make_tiles(int n, int seed) {
  const int S = tiny().config().vision.image_size;
  std::vector<float> t(size_t(n) * 3 * S * S);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < S; ++y)
        for (int x = 0; x < S; ++x) {
          double v = std::sin(0.013 * (x + 7 * seed) * (c + 1) + 0.021 * y * (i + 1) + seed);
          t[((size_t(i) * 3 + c) * S + y) * S + x] = float(v);
        }
  return t;
}

struct Case {
  std::vector<int32_t> prompt;
  std::vector<float> features;
  GenerateOptions opt;
};

// A page prompt for a rows x cols grid (rows*cols + 1 tiles) or a text-only prompt.
Case make_case(int rows, int cols, int seed, const std::string& text, int max_new) {
  PromptBuilder pb(tokenizer(), PromptConfig::load(kTiny));
  Case c;
  c.opt = tiny().default_options();
  c.opt.max_new_tokens = max_new;
  if (rows == 0 && cols == 0 && seed < 0) {
    c.prompt = pb.build_text(text).ids;
    return c;
  }
  Prompt p = pb.build(text, rows, cols);
  c.prompt = p.ids;
  std::vector<float> tiles = make_tiles(p.n_tiles, seed);
  c.features = tiny().encode_tiles(tiles.data(), p.n_tiles);
  return c;
}

const std::vector<Case>& cases() {
  static std::vector<Case> cs = [] {
    std::vector<Case> v;
    v.push_back(make_case(1, 2, 1, "Convert this page to docling.", 40));
    v.push_back(make_case(0, 0, -1, "What is the title of this document?", 33));
    v.push_back(make_case(2, 1, 2, "Convert table to OTSL.", 47));
    v.push_back(make_case(0, 0, 3, "Convert formula to LaTeX.", 25));
    v.push_back(make_case(1, 1, 4, "Convert this page to docling.", 52));
    return v;
  }();
  return cs;
}

const std::vector<GenerateResult>& solo() {
  static std::vector<GenerateResult> r = [] {
    std::vector<GenerateResult> v;
    for (const Case& c : cases()) {
      int rows = int(c.features.size()) / tiny().config().text.hidden;
      v.push_back(tiny().generate(c.prompt, rows ? c.features.data() : nullptr, rows, c.opt));
    }
    return v;
  }();
  return r;
}

BatchRequest request(const Case& c) {
  BatchRequest r;
  r.prompt = c.prompt;
  r.image_features = c.features;
  r.opt = c.opt;
  return r;
}

void expect_same(const GenerateResult& a, const GenerateResult& b, const std::string& what) {
  EXPECT_EQ(a.tokens, b.tokens) << what;
  EXPECT_EQ(a.stop, b.stop) << what;
  EXPECT_EQ(a.warning, b.warning) << what;
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens) << what;
}

}  // namespace

TEST(BatchDecode, SoloRunsDiffer) {
  // The cases must be worth comparing: real output, not one constant token.
  ASSERT_EQ(solo().size(), cases().size());
  for (size_t i = 0; i < solo().size(); ++i) {
    EXPECT_GT(solo()[i].tokens.size(), 10u) << i;
    for (size_t j = i + 1; j < solo().size(); ++j) EXPECT_NE(solo()[i].tokens, solo()[j].tokens);
  }
}

TEST(BatchDecode, AllAtOnceEqualsOneAtATime) {
  for (int slots : {2, 3}) {
    BatchOptions bo;
    bo.slots = slots;
    bo.capacity = 1024;
    bo.max_step_rows = 512;
    BatchDecoder bd(tiny().decoder(), bo);
    std::vector<uint64_t> ids;
    for (const Case& c : cases()) ids.push_back(bd.submit(request(c)));
    EXPECT_EQ(bd.pending(), int(cases().size()));
    bd.run();
    EXPECT_EQ(bd.pending(), 0);
    auto done = bd.take_finished();
    ASSERT_EQ(done.size(), cases().size());
    for (const BatchResult& r : done) {
      size_t i = size_t(r.id - ids[0]);
      ASSERT_LT(i, cases().size());
      EXPECT_TRUE(r.error.empty()) << r.error;
      expect_same(r.result, solo()[i], "slots " + std::to_string(slots) + " case " + std::to_string(i));
      EXPECT_EQ(r.spec.steps, int(r.result.tokens.size()));  // no drafts: one step per token
    }
    // Batching happened: fewer forwards than the sum of every sequence's steps.
    int64_t steps = 0;
    for (const auto& s : solo()) steps += int64_t(s.tokens.size());
    EXPECT_LT(bd.stats().forwards, steps);
    EXPECT_EQ(bd.stats().tokens, steps);
  }
}

TEST(BatchDecode, ArrivalsWhileDecodingWithChunkedPrefill) {
  BatchOptions bo;
  bo.slots = 2;
  bo.capacity = 600;
  bo.max_step_rows = 40;  // prompts of ~150-300 rows are prefilled in chunks next to decode rows
  BatchDecoder bd(tiny().decoder(), bo);
  std::map<uint64_t, size_t> which;
  which[bd.submit(request(cases()[0]))] = 0;
  int max_rows = 0;
  size_t next = 1;
  std::vector<BatchResult> done;
  for (int step = 0; bd.pending() > 0 || next < cases().size(); ++step) {
    if (step % 9 == 4 && next < cases().size()) {
      which[bd.submit(request(cases()[next]))] = next;
      ++next;
    }
    int64_t rows0 = bd.stats().rows;
    bd.step();
    max_rows = std::max<int>(max_rows, int(bd.stats().rows - rows0));
    for (auto& r : bd.take_finished()) done.push_back(std::move(r));
  }
  EXPECT_LE(max_rows, bo.max_step_rows);
  ASSERT_EQ(done.size(), cases().size());
  for (const BatchResult& r : done) expect_same(r.result, solo()[which[r.id]], "case " + std::to_string(which[r.id]));
}

TEST(BatchDecode, SubmitFromAnotherThread) {
  BatchOptions bo;
  bo.slots = 3;
  bo.capacity = 1024;
  BatchDecoder bd(tiny().decoder(), bo);
  std::atomic<bool> submitted{false};
  std::map<uint64_t, size_t> which;
  std::mutex mu;
  std::thread feeder([&] {
    for (size_t i = 0; i < cases().size(); ++i) {
      uint64_t id = bd.submit(request(cases()[i]));
      {
        std::lock_guard<std::mutex> lock(mu);
        which[id] = i;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    submitted = true;
  });
  std::vector<BatchResult> done;
  while (!submitted || bd.pending() > 0) {
    if (!bd.step()) std::this_thread::yield();
    for (auto& r : bd.take_finished()) done.push_back(std::move(r));
  }
  feeder.join();
  for (auto& r : bd.take_finished()) done.push_back(std::move(r));
  ASSERT_EQ(done.size(), cases().size());
  for (const BatchResult& r : done) expect_same(r.result, solo()[which.at(r.id)], "threaded");
}

TEST(BatchDecode, CallbacksAndStopTest) {
  // A caller's stop test and streaming callback behave as in generate_greedy.
  Case c = cases()[2];
  int calls = 0;
  c.opt.stop_when = [](const std::vector<int32_t>& t) { return t.size() >= 3 && t[t.size() - 1] % 3 == 0; };
  int rows = int(c.features.size()) / tiny().config().text.hidden;
  GenerateResult ref = tiny().generate(c.prompt, c.features.data(), rows, c.opt);
  BatchOptions bo;
  bo.slots = 2;
  BatchDecoder bd(tiny().decoder(), bo);
  BatchRequest r = request(c);
  std::vector<int32_t> streamed;
  r.opt.on_token = [&](int32_t t) { streamed.push_back(t); };
  r.opt.on_logits = [&](int step, const float*, int) { EXPECT_EQ(step, calls++); };
  bd.submit(std::move(r));
  bd.submit(request(cases()[0]));
  bd.run();
  auto done = bd.take_finished();
  ASSERT_EQ(done.size(), 2u);
  const BatchResult& a = done[0].id == 1 ? done[0] : done[1];
  expect_same(a.result, ref, "stop_when");
  EXPECT_EQ(streamed, a.result.tokens);
  EXPECT_EQ(calls, int(a.result.tokens.size()));

  // A throwing callback ends only its own sequence, with the error kept.
  BatchRequest bad = request(cases()[1]);
  bad.opt.on_token = [](int32_t) { throw std::runtime_error("callback failed"); };
  bd.submit(std::move(bad));
  bd.submit(request(cases()[1]));
  bd.run();
  done = bd.take_finished();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].error, "callback failed");
  EXPECT_EQ(done[0].result.tokens.size(), 1u);
  expect_same(done[1].result, solo()[1], "after a failing neighbour");
}

TEST(BatchDecode, CapacityLimits) {
  const Case& c = cases()[1];  // text only, 16 prompt tokens
  BatchOptions bo;
  bo.slots = 2;
  bo.capacity = 8;
  BatchDecoder small(tiny().decoder(), bo);
  try {
    small.submit(request(c));
    FAIL() << "a prompt longer than a slot must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
  // A slot shorter than prompt + max_new_tokens stops where generate_greedy does with the same cache.
  const int cap = int(c.prompt.size()) + 10;
  bo.capacity = cap;
  BatchDecoder bd(tiny().decoder(), bo);
  bd.submit(request(c));
  bd.submit(request(c));
  bd.run();
  KVCache cache(tiny().config().text, 1, cap);
  DecoderWorkspace ws;
  GenerateResult ref = generate_greedy(tiny().decoder(), ws, cache, 0, c.prompt.data(), int(c.prompt.size()),
                                       nullptr, 0, c.opt);
  EXPECT_EQ(ref.stop, StopReason::MaxTokens);
  EXPECT_FALSE(ref.warning.empty());
  for (const BatchResult& r : bd.take_finished()) expect_same(r.result, ref, "capacity");

  BatchRequest wrong = request(cases()[0]);
  wrong.image_features.resize(wrong.image_features.size() / 2);
  EXPECT_THROW(bd.submit(std::move(wrong)), std::invalid_argument);
  EXPECT_THROW(bd.submit(BatchRequest{}), std::invalid_argument);
  bo.max_step_rows = 2;
  EXPECT_THROW(BatchDecoder(tiny().decoder(), bo), std::invalid_argument);
}

// --- identical tiles -----------------------------------------------------------------------

TEST(TileCache, FindsDuplicatesByContent) {
  const size_t n = 1000;
  std::vector<float> t(5 * n, 1.0f);
  t[1 * n + 7] = 2.0f;   // tile 1 differs
  t[3 * n + 7] = 2.0f;   // tile 3 equals tile 1
  t[2 * n + 5] = 0.0f;   // tiles 2 and 4 are equal as numbers but not as bits:
  t[4 * n + 5] = -0.0f;  // encoded separately (the encoder sees bits)
  std::vector<int> d = duplicate_tiles(t.data(), 5, n);
  EXPECT_EQ(d, (std::vector<int>{0, 1, 2, 1, 4}));
  EXPECT_NE(tile_hash(t.data(), n), tile_hash(t.data() + n, n));
}

TEST(TileCache, BlankMarginsEncodedOnceBitIdentical) {
  // A page that is mostly white margin: the processor's tiles repeat.
  docling::Image page(380, 500, 255);
  for (int y = 40; y < 140; ++y)
    for (int x = 30; x < 160; ++x) {
      uint8_t* p = page.row(y) + 3 * x;
      p[0] = uint8_t((x * 7 + y) & 255), p[1] = uint8_t(y * 3), p[2] = 40;
    }
  ImageProcessorConfig ic = ImageProcessorConfig::load(kTiny);
  PixelTiles px = preprocess_image(page, ic);
  ASSERT_GT(px.n_tiles, 4);
  TileDedupStats st;
  std::vector<float> fast = encode_tiles_dedup(tiny(), px.pixels.data(), px.n_tiles, &st);
  std::vector<float> all = tiny().encode_tiles(px.pixels.data(), px.n_tiles);
  EXPECT_EQ(st.tiles, px.n_tiles);
  std::printf("%d tiles, %d encoded\n", st.tiles, st.encoded);
  EXPECT_LT(st.encoded, px.n_tiles) << "a page with white margins has identical tiles";
  EXPECT_GE(st.encoded, 2);
  ASSERT_EQ(fast.size(), all.size());
  EXPECT_EQ(std::memcmp(fast.data(), all.data(), all.size() * sizeof(float)), 0);
}
