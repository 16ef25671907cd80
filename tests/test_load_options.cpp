// The KV cache's precision is a load option of the model (no environment): it reaches the
// decoder, the caches Model::generate and BatchDecoder make, and each may override it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vision/batch.h"
#include "vision/model.h"

using namespace docling::vision;

namespace {
const std::string kTiny = std::string(DOCLING_TEST_DATA) + "/oracle/tiny-idefics3";
}  // namespace

TEST(LoadOptions, KvTypeReachesTheDecoderAndItsCaches) {
  const Model f16 = Model::load(kTiny);
  EXPECT_EQ(f16.decoder().kv_type(), KvType::F16);  // the default
  LoadOptions o;
  o.kv = KvType::F32;
  const Model f32 = Model::load(kTiny, o);
  EXPECT_EQ(f32.decoder().kv_type(), KvType::F32);

  BatchOptions bo;
  bo.slots = 1;
  bo.capacity = 64;
  bo.max_step_rows = 16;
  EXPECT_EQ(BatchDecoder(f32.decoder(), bo).options().kv, KvType::F32);  // unset: the decoder's
  EXPECT_EQ(BatchDecoder(f16.decoder(), bo).options().kv, KvType::F16);
  bo.kv = KvType::F16;
  EXPECT_EQ(BatchDecoder(f32.decoder(), bo).options().kv, KvType::F16);  // set: kept

  // Greedy tokens with an f32 cache: the model's default and an explicit override agree, and
  // a batch decoder on the f32 model gives the same tokens.
  const std::vector<int32_t> prompt = {1, 5, 9, 13, 17, 21};
  GenerateOptions g = f32.default_options();
  g.max_new_tokens = 12;
  g.stop_at_eos = false;
  g.stop_ids.clear();
  const GenerateResult by_model = f32.generate(prompt, nullptr, 0, g);
  GenerateOptions g32 = g;
  g32.kv = KvType::F32;
  const GenerateResult by_option = f16.generate(prompt, nullptr, 0, g32);
  EXPECT_EQ(by_model.tokens, by_option.tokens);
  EXPECT_EQ(by_model.tokens.size(), 12u);
  BatchOptions b1;
  b1.slots = 1;
  b1.capacity = 64;
  b1.max_step_rows = 16;
  b1.max_draft = 0;
  BatchDecoder bd(f32.decoder(), b1);
  BatchRequest req;
  req.prompt = prompt;
  req.opt = g;
  bd.submit(std::move(req));
  bd.run();
  std::vector<BatchResult> done = bd.take_finished();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result.tokens, by_model.tokens);
}
