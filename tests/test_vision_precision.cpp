// The vision precision option end to end: F32 unchanged (the exact path the oracle tests
// check), BF16 and INT8 on the oracle's tiny model within measured bounds of F32, only the
// vision tower and connector affected, and the plumbing: EngineOptions, the C API (struct_size
// versioning, bad values) and the CLI flag and variable (bad values rejected; f32 ids match
// the oracle).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "docling/docling.h"
#include "docling/engine.hpp"
#include "kernels/kernels.h"
#include "tests/cli_runner.h"
#include "vision/model.h"
#include "vision/safetensors.h"

namespace fs = std::filesystem;
namespace dv = docling::vision;
using docling::testing::CliRun;
using docling::testing::q;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const std::string kTiny = (kData / "oracle" / "tiny-idefics3").string();

const dv::SafeTensors& ref() {
  static dv::SafeTensors r = dv::SafeTensors::open((kData / "oracle" / "reference.safetensors").string());
  return r;
}

const dv::Model& tiny(dv::Precision p) {
  auto load = [](dv::Precision v) {
    dv::LoadOptions o;
    o.vision = v;
    return dv::Model::load(kTiny, o);
  };
  static dv::Model f32 = load(dv::Precision::F32), bf16 = load(dv::Precision::BF16), i8 = load(dv::Precision::INT8);
  return p == dv::Precision::F32 ? f32 : p == dv::Precision::BF16 ? bf16 : i8;
}

// Two tiles: the oracle page's first tile (Hugging Face's pixels) and a smooth synthetic one.
const std::vector<float>& tiles() {
  static std::vector<float> t = [] {
    std::vector<float> v = ref().to_f32("image.pixel_values_tile0");
    const size_t n = v.size();
    v.resize(2 * n);
    for (size_t i = 0; i < n; ++i) v[n + i] = std::sin(0.0007f * float(i)) * 0.9f;
    return v;
  }();
  return t;
}

double cosine(const float* a, const float* b, size_t n) {
  double d = 0, na = 0, nb = 0;
  for (size_t i = 0; i < n; ++i) d += double(a[i]) * b[i], na += double(a[i]) * a[i], nb += double(b[i]) * b[i];
  return d / std::sqrt(na * nb);
}

CliRun cli(const std::string& args, const std::string& prefix = "") {
  static fs::path home = docling::testing::temp_dir("vision_precision", "home");
  return docling::testing::run_cli(DOCLING_CLI, args, home, 300, "", prefix);
}

// --- the model ------------------------------------------------------------------------------

TEST(VisionPrecision, F32IsTheDefaultLoadBitForBit) {
  const dv::Model plain = dv::Model::load(kTiny);
  const auto a = plain.encode_tiles(tiles().data(), 2), b = tiny(dv::Precision::F32).encode_tiles(tiles().data(), 2);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  for (const auto& L : tiny(dv::Precision::F32).weights().vision_layers) EXPECT_EQ(L.fc1.x, docling::kernels::XType::F32);
}

// Bounds: measured on this model (bench_vision_precision, tiny checkpoint, article.pdf p1 all
// 13 tiles: cosine min bf16 0.999994, int8 0.99974), with 1 - cosine given ~10x room.
TEST(VisionPrecision, Bf16AndInt8CloseToF32PerTile) {
  const auto ref = tiny(dv::Precision::F32).encode_tiles(tiles().data(), 2);
  const size_t per = ref.size() / 2;
  const struct {
    dv::Precision p;
    double min_cos;
  } cases[] = {{dv::Precision::BF16, 0.9999}, {dv::Precision::INT8, 0.997}};
  for (const auto& c : cases) {
    const auto got = tiny(c.p).encode_tiles(tiles().data(), 2);
    bool differs = false;
    for (int t = 0; t < 2; ++t) {
      const double cs = cosine(got.data() + t * per, ref.data() + t * per, per);
      EXPECT_GE(cs, c.min_cos) << dv::precision_name(c.p) << " tile " << t;
      EXPECT_LT(cs, 1.0 + 1e-9);
      differs = differs || std::memcmp(got.data() + t * per, ref.data() + t * per, per * sizeof(float)) != 0;
    }
    // bf16 runs as f32 where AVX512-BF16 is absent; int8 always changes the features.
    if (c.p == dv::Precision::INT8 || docling::kernels::has_avx512_bf16()) {
      EXPECT_TRUE(differs) << dv::precision_name(c.p);
    }
  }
}

// The tiny model's vision heads are 16 wide, so its bf16 precision keeps f32 attention. With
// one 64-wide head (the same weights: a copy whose config says 1 head) the encoder runs the
// bf16 attention kernel (on AVX512-BF16), still within the bf16 bound of f32.
TEST(VisionPrecision, Bf16AttentionInTheEncoder) {
  const fs::path dir = docling::testing::temp_dir("vision_precision", "one_head");
  for (const auto& e : fs::directory_iterator(kTiny)) fs::copy(e.path(), dir / e.path().filename());
  std::ifstream in(dir / "config.json");
  nlohmann::json cfg = nlohmann::json::parse(in);
  in.close();
  cfg["vision_config"]["num_attention_heads"] = 1;
  std::ofstream(dir / "config.json") << cfg.dump();
  auto load = [&](dv::Precision v) {
    dv::LoadOptions o;
    o.vision = v;
    return dv::Model::load(dir.string(), o);
  };
  const dv::Model f32 = load(dv::Precision::F32), bf16 = load(dv::Precision::BF16);
  ASSERT_EQ(f32.config().vision.head_dim, 64);
  const auto ref = f32.encode_tiles(tiles().data(), 2), got = bf16.encode_tiles(tiles().data(), 2);
  const size_t per = ref.size() / 2;
  for (int t = 0; t < 2; ++t)
    EXPECT_GE(cosine(got.data() + t * per, ref.data() + t * per, per), 0.9999) << "tile " << t;
}

// The decoder is untouched: the same features give the same logits in every precision.
TEST(VisionPrecision, DecoderUnaffected) {
  const auto feats = tiny(dv::Precision::F32).encode_tiles(tiles().data(), 1);
  const std::vector<int32_t> prompt = {1, 2, 3};
  for (dv::Precision p : {dv::Precision::BF16, dv::Precision::INT8}) {
    const auto& w = tiny(p).weights();
    EXPECT_EQ(w.text_layers[0].q.x, docling::kernels::XType::F32);
    EXPECT_EQ(w.text_layers[0].q.q, nullptr);  // bf16 decoder weights (panels), not quantized
    EXPECT_EQ(w.proj.x, p == dv::Precision::INT8 ? docling::kernels::XType::I8 : docling::kernels::XType::BF16);
  }
  dv::GenerateOptions o;
  o.max_new_tokens = 6;
  o.stop_at_eos = false;
  o.loop.enabled = false;
  std::vector<float> la, lb;
  o.on_logits = [&](int, const float* l, int v) { la.insert(la.end(), l, l + v); };
  tiny(dv::Precision::F32).generate(prompt, nullptr, 0, o);
  o.on_logits = [&](int, const float* l, int v) { lb.insert(lb.end(), l, l + v); };
  tiny(dv::Precision::INT8).generate(prompt, nullptr, 0, o);
  ASSERT_EQ(la.size(), lb.size());
  EXPECT_EQ(std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)), 0);
}

// --- the options ------------------------------------------------------------------------------

TEST(VisionPrecision, EngineResolvesAuto) {
  docling::EngineOptions eo = docling::engine_defaults();
  EXPECT_EQ(eo.vision_precision, docling::VisionPrecision::Auto);
  eo.model_dir = kTiny;
  eo.batch_size = 1;
  std::string log;
  eo.log = [&](docling::LogLevel, const std::string& m) { log += m + "\n"; };
  docling::Engine auto_engine(eo);
  EXPECT_NE(auto_engine.options().vision_precision, docling::VisionPrecision::Auto);
  EXPECT_NE(log.find("vision precision auto: "), std::string::npos) << log;
  eo.vision_precision = docling::VisionPrecision::Int8;
  docling::Engine int8_engine(eo);
  EXPECT_EQ(int8_engine.options().vision_precision, docling::VisionPrecision::Int8);
}

// On a CPU with AMX the table's row follows the tiles' switch: bf16 with them on, the row for
// AVX512-BF16 without AMX (f32) when an engine turns them off.
TEST(VisionPrecision, AutoFollowsTheAmxSwitch) {
  docling::EngineOptions eo = docling::engine_defaults();
  eo.model_dir = kTiny;
  eo.batch_size = 1;
  docling::Engine on(eo);
  if (!docling::kernels::has_amx_bf16()) GTEST_SKIP() << "no AMX-BF16 here (or the OS refused the tiles)";
  EXPECT_EQ(on.options().vision_precision, docling::VisionPrecision::Bf16);
  eo.amx = false;
  {
    docling::Engine off(eo);
    EXPECT_FALSE(docling::kernels::has_amx_bf16());
    EXPECT_EQ(off.options().vision_precision, docling::VisionPrecision::F32);
  }
  eo.amx = true;
  docling::Engine again(eo);  // the kernel settings are process-wide: back as the other tests expect
  EXPECT_TRUE(docling::kernels::has_amx_bf16());
}

TEST(VisionPrecision, CApiField) {
  docling_engine_options eo;
  ASSERT_EQ(docling_engine_default_options(&eo, sizeof eo), DOCLING_OK);
  EXPECT_EQ(eo.vision_precision, DOCLING_VISION_PRECISION_AUTO);
  // An older caller's struct (without the field) is accepted: the default applies.
  docling_engine_options old;
  ASSERT_EQ(docling_engine_default_options(&old, offsetof(docling_engine_options, vision_precision)), DOCLING_OK);
  docling_engine* e = nullptr;
  EXPECT_EQ(docling_engine_load(&old, &e), DOCLING_OK) << docling_last_error();
  docling_engine_free(e);
  // Out of range: refused before anything loads, the message names the field.
  int bad = 7;
  std::memcpy(&eo.vision_precision, &bad, sizeof bad);
  e = nullptr;
  EXPECT_EQ(docling_engine_load(&eo, &e), DOCLING_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(e, nullptr);
  EXPECT_NE(std::string(docling_last_error()).find("vision_precision"), std::string::npos) << docling_last_error();
  eo.vision_precision = DOCLING_VISION_PRECISION_F32;
  eo.model_dir = kTiny.c_str();
  ASSERT_EQ(docling_engine_load(&eo, &e), DOCLING_OK) << docling_last_error();
  docling_engine_free(e);
}

TEST(VisionPrecision, CliRejectsBadValues) {
  const std::string page = q(kData / "oracle" / "page.png");
  CliRun r = cli("generate --model " + q(kTiny) + " --image " + page + " --vision-precision fp64");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--vision-precision"), std::string::npos) << r.err;
  r = cli("generate --model " + q(kTiny) + " --image " + page, "DOCLING_VISION_PRECISION=half");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("DOCLING_VISION_PRECISION"), std::string::npos) << r.err;
  EXPECT_NE(cli("convert --help").out.find("--vision-precision"), std::string::npos);
}

// With f32 the ids are the oracle's (the exact path); int8 runs and starts the same way.
TEST(VisionPrecision, CliF32MatchesTheOracle) {
  const auto& t = ref().get("image.generated_ids");
  const int32_t* ids = static_cast<const int32_t*>(t.data);
  std::string want;
  for (int64_t i = 0; i < t.numel(); ++i) want += (i ? " " : "") + std::to_string(ids[i]);
  const std::string page = q(kData / "oracle" / "page.png");
  CliRun r = cli("generate --model " + q(kTiny) + " --image " + page + " --vision-precision f32 --max-new-tokens " +
                 std::to_string(t.numel()) + " --print-ids");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), want);
  r = cli("generate --model " + q(kTiny) + " --image " + page + " --max-new-tokens 2 --print-ids",
          "DOCLING_VISION_PRECISION=int8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find(' ')), want.substr(0, want.find(' ')));
}

}  // namespace
