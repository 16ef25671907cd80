// Engine::stats() and docling_engine_get_stats(): the counters that show concurrent
// conversions sharing decoder steps. Uses the tiny random-weight checkpoint, which writes
// until the token limit, so two conversions started together overlap for many steps.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "docling/docling.h"
#include "docling/docling.hpp"

namespace fs = std::filesystem;
using namespace docling;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const fs::path kTiny = kData / "oracle" / "tiny-idefics3";

TEST(EngineStats, ZeroWithoutAModel) {
  Engine engine;
  EngineStats s = engine.stats();
  EXPECT_EQ(s.decoder_steps, 0u);
  EXPECT_EQ(s.max_conversions_in_a_step, 0);
  ConvertOptions c = convert_defaults();
  c.pipeline = Pipeline::Text;
  (void)engine.convert(kData / "pdfs" / "multi_page.pdf", c);
  EXPECT_EQ(engine.stats().pages_encoded, 0u);
}

TEST(EngineStats, ConcurrentConversionsShareSteps) {
  if (!fs::is_directory(kTiny)) GTEST_SKIP() << "no tiny checkpoint";
  EngineOptions eo = engine_defaults();
  eo.model_dir = kTiny.string();
  eo.batch_size = 4;
  Engine engine(eo);
  ConvertOptions c = convert_defaults();
  c.pipeline = Pipeline::Vlm;
  c.max_new_tokens = 96;
  c.speculate = false;  // one token per page and step: tokens = steps x pages in them
  c.pages = "1-3";  // three pages each: one conversion is still decoding when the other's pages arrive
  const fs::path pdfs[] = {kData / "pdfs" / "multi_page.pdf", kData / "pdfs" / "normal_4pages.pdf"};
  ConvertResult r[2];
  std::thread a([&] { r[0] = engine.convert(pdfs[0], c); });
  std::thread b([&] { r[1] = engine.convert(pdfs[1], c); });
  a.join();
  b.join();
  EngineStats s = engine.stats();
  int tokens = r[0].generated_tokens + r[1].generated_tokens;
  ASSERT_EQ(r[0].model_pages + r[1].model_pages, 6);
  EXPECT_EQ(s.pages_encoded, 6u);
  EXPECT_EQ(s.decoded_tokens, uint64_t(tokens));
  EXPECT_GT(s.decoder_steps, 0u);
  EXPECT_LE(s.decoder_steps, s.decoded_tokens);
  // Two conversions overlapping: some step gave tokens to both, so there were fewer steps than
  // tokens (without speculation a page gets at most one token a step).
  EXPECT_EQ(s.max_conversions_in_a_step, 2);
  EXPECT_GE(s.max_pages_in_a_step, 2);
  EXPECT_LE(s.max_pages_in_a_step, eo.batch_size);
  EXPECT_GT(s.shared_steps, 0u);
  EXPECT_LT(s.decoder_steps, s.decoded_tokens);
  EXPECT_GE(s.decoder_rows, s.decoder_steps);

  // The C API gives the same figures; a struct_size too small is refused.
  docling_engine_options o;
  ASSERT_EQ(docling_engine_default_options(&o, sizeof o), DOCLING_OK);
  docling_engine* ce = nullptr;
  ASSERT_EQ(docling_engine_load(&o, &ce), DOCLING_OK);
  docling_engine_stats cs{};
  cs.struct_size = sizeof cs;
  ASSERT_EQ(docling_engine_get_stats(ce, &cs), DOCLING_OK);
  EXPECT_EQ(cs.decoder_steps, 0u);
  EXPECT_EQ(cs.struct_size, sizeof cs);
  cs.struct_size = 4;
  EXPECT_EQ(docling_engine_get_stats(ce, &cs), DOCLING_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(docling_engine_get_stats(nullptr, &cs), DOCLING_ERR_INVALID_ARGUMENT);
  docling_engine_free(ce);
}

}  // namespace
