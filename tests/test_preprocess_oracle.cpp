// The image processor and prompt builder against the Hugging Face oracle (tests/data/oracle):
// resize steps and tiles bit for bit, float pixels bit for bit, prompt ids exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "core/image.h"
#include "vision/image_processor.h"
#include "vision/prompt.h"
#include "vision/safetensors.h"

using namespace docling;
using namespace docling::vision;

namespace {

const std::string kData = DOCLING_TEST_DATA;
const std::string kOracle = kData + "/oracle";
const std::string kModel = kData + "/models/granite-docling-258M";

const vision::SafeTensors& reference() {
  static vision::SafeTensors t = vision::SafeTensors::open(kOracle + "/reference.safetensors");
  return t;
}

template <class T>
std::vector<T> ref_tensor(const std::string& name) {
  const auto& v = reference().get(name);
  std::vector<T> out(v.nbytes / sizeof(T));
  std::memcpy(out.data(), v.data, out.size() * sizeof(T));
  return out;
}

// Number of differing bytes (0 = bit-exact); also reports the first difference.
size_t count_diff(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height) return SIZE_MAX;
  size_t n = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i)
    if (a.rgb[i] != b.rgb[i] && n++ == 0)
      ADD_FAILURE() << "first diff at pixel " << i / 3 % a.width << "," << i / 3 / a.width << " ch "
                    << i % 3 << ": " << int(a.rgb[i]) << " vs " << int(b.rgb[i]);
  return n;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(ImageProcessor, StepSizesMatchHfRecipe) {
  int w, h;
  idefics3_step1_size(1190, 1684, 2048, &w, &h);  // the oracle page
  EXPECT_EQ(w, 1448);
  EXPECT_EQ(h, 2048);
  idefics3_step2_size(1448, 2048, 512, &w, &h);
  EXPECT_EQ(w, 1536);
  EXPECT_EQ(h, 2048);
  // US Letter at 72 dpi -> 4x4 grid; A4 landscape -> 3x4; a 40x20 image is upscaled to 2x4.
  idefics3_step1_size(612, 792, 2048, &w, &h);
  EXPECT_EQ(h, 2048);
  idefics3_step2_size(w, h, 512, &w, &h);
  EXPECT_EQ(w / 512 * 10 + h / 512, 44);
  idefics3_step1_size(842, 595, 2048, &w, &h);
  EXPECT_EQ(w, 2048);
  EXPECT_EQ(h % 2, 0);
  idefics3_step2_size(w, h, 512, &w, &h);
  EXPECT_EQ(w / 512 * 10 + h / 512, 43);
  idefics3_step1_size(40, 20, 2048, &w, &h);
  EXPECT_EQ(w, 2048);
  EXPECT_EQ(h, 1024);
  idefics3_step2_size(w, h, 512, &w, &h);
  EXPECT_EQ(w / 512 * 10 + h / 512, 42);
}

TEST(ImageProcessor, ConfigFromModelFolder) {
  auto c = ImageProcessorConfig::load(kModel);
  EXPECT_EQ(c.longest_edge, 2048);
  EXPECT_EQ(c.tile_size, 512);
  EXPECT_TRUE(c.do_image_splitting);
  EXPECT_EQ(c.mean[1], 0.5f);
  EXPECT_EQ(c.std[2], 0.5f);
  EXPECT_THROW(ImageProcessorConfig::load(kData + "/no-such-model"), std::runtime_error);
}

TEST(ImageProcessor, PillowLanczosStep1Upscale) {
  Image page = load_image(kOracle + "/page.png");
  Image want = load_image(kOracle + "/preprocess/step1_resized_1448x2048.png");
  auto t0 = std::chrono::steady_clock::now();
  Image got = resize_lanczos(page, 1448, 2048);
  std::printf("resize 1190x1684 -> 1448x2048: %.1f ms\n", ms_since(t0));
  EXPECT_EQ(count_diff(got, want), 0u);
}

TEST(ImageProcessor, PillowLanczosStep2HorizontalOnly) {
  Image in = load_image(kOracle + "/preprocess/step1_resized_1448x2048.png");
  Image want = load_image(kOracle + "/preprocess/step2_resized_1536x2048.png");
  Image got = resize_lanczos(in, 1536, 2048);
  EXPECT_EQ(count_diff(got, want), 0u);
}

TEST(ImageProcessor, PillowLanczosGlobalDownscale) {
  Image in = load_image(kOracle + "/preprocess/step2_resized_1536x2048.png");
  Image want = load_image(kOracle + "/preprocess/step3_global_512x512.png");
  Image got = resize_lanczos(in, 512, 512);
  EXPECT_EQ(count_diff(got, want), 0u);
}

TEST(ImageProcessor, SameSizeIsCopyAndBadSizesThrow) {
  Image img(5, 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = uint8_t(i * 13);
  EXPECT_EQ(resize_lanczos(img, 5, 3).rgb, img.rgb);
  EXPECT_THROW(resize_lanczos(img, 0, 3), std::invalid_argument);
  EXPECT_THROW(resize_lanczos(Image(), 4, 4), std::invalid_argument);
  EXPECT_THROW(preprocess_image(Image(), ImageProcessorConfig{}), std::invalid_argument);
}

TEST(ImageProcessor, FullPipelineMatchesOracleTiles) {
  Image page = load_image(kOracle + "/page.png");
  Image step2 = load_image(kOracle + "/preprocess/step2_resized_1536x2048.png");
  Image global = load_image(kOracle + "/preprocess/step3_global_512x512.png");
  auto cfg = ImageProcessorConfig::load(kModel);
  PreprocessOptions opt;
  opt.keep_u8 = true;
  preprocess_image(page, cfg, opt);  // warm-up (TBB threads, page faults)
  auto t0 = std::chrono::steady_clock::now();
  PixelTiles px = preprocess_image(page, cfg, opt);
  std::printf("preprocess_image (1190x1684 page, 13 tiles): %.1f ms\n", ms_since(t0));

  ASSERT_EQ(px.rows, 4);
  ASSERT_EQ(px.cols, 3);
  ASSERT_EQ(px.n_tiles, 13);
  EXPECT_EQ(px.step1_w, 1448);
  EXPECT_EQ(px.step2_w, 1536);
  ASSERT_EQ(px.pixels.size(), size_t(13) * 3 * 512 * 512);
  for (int i = 0; i < 13; ++i) {
    Image want = i < 12 ? step2.crop(i % 3 * 512, i / 3 * 512, i % 3 * 512 + 512, i / 3 * 512 + 512)
                        : global;
    Image got(512, 512);
    std::memcpy(got.rgb.data(), px.u8.data() + size_t(i) * 512 * 512 * 3, got.rgb.size());
    EXPECT_EQ(count_diff(got, want), 0u) << "tile " << i;
  }

  auto ref = ref_tensor<float>("image.pixel_values_tile0");
  ASSERT_EQ(ref.size(), px.tile_floats());
  EXPECT_EQ(std::memcmp(ref.data(), px.tile(0), ref.size() * sizeof(float)), 0)
      << "tile 0 float pixels differ from HF's pixel_values";
  // The global view is tile 12: its floats follow from the u8 oracle PNG by the same formula.
  float v = px.tile(12)[0];
  float x = float(double(global.rgb[0]) * 0.00392156862745098);
  EXPECT_EQ(v, (x - 0.5f) / 0.5f);
}

TEST(ImageProcessor, SkipStep1UsesTheRenderedSize) {
  Image step1 = load_image(kOracle + "/preprocess/step1_resized_1448x2048.png");
  PreprocessOptions opt;
  opt.skip_step1 = true;
  PixelTiles px = preprocess_image(step1, ImageProcessorConfig{}, opt);
  EXPECT_EQ(px.step1_w, 1448);
  EXPECT_EQ(px.n_tiles, 13);
  auto ref = ref_tensor<float>("image.pixel_values_tile0");
  EXPECT_EQ(std::memcmp(ref.data(), px.tile(0), ref.size() * sizeof(float)), 0);
}

TEST(ImageProcessor, SquarePageNeedsNoStep2) {
  // 600x600 -> 2048x2048 in step 1, already a multiple of 512: step 2 is a no-op, 4x4 grid.
  Image img(600, 600);
  for (int y = 0; y < 600; ++y)
    for (int x = 0; x < 600; ++x)
      for (int c = 0; c < 3; ++c) img.row(y)[3 * x + c] = uint8_t((x * 7 + y * 3 + c * 50) ^ (x * y));
  PreprocessOptions opt;
  opt.keep_u8 = true;
  PixelTiles px = preprocess_image(img, ImageProcessorConfig{}, opt);
  ASSERT_EQ(px.rows, 4);
  ASSERT_EQ(px.cols, 4);
  ASSERT_EQ(px.n_tiles, 17);
  EXPECT_EQ(px.step2_w, 2048);
  Image big = resize_lanczos(img, 2048, 2048);
  Image tile5 = big.crop(512, 512, 1024, 1024);  // row 2, col 2
  EXPECT_EQ(std::memcmp(px.u8.data() + size_t(5) * 512 * 512 * 3, tile5.rgb.data(), tile5.rgb.size()), 0);
  Image global = resize_lanczos(big, 512, 512);
  EXPECT_EQ(std::memcmp(px.u8.data() + size_t(16) * 512 * 512 * 3, global.rgb.data(), global.rgb.size()), 0);
}

TEST(ImageProcessor, ReusedOutputEqualsFresh) {
  ImageProcessorConfig cfg;
  cfg.longest_edge = 96;
  cfg.tile_size = 32;
  Image a(50, 30), b(30, 70);
  for (size_t i = 0; i < a.rgb.size(); ++i) a.rgb[i] = uint8_t(i * 31 + (i >> 7));
  for (size_t i = 0; i < b.rgb.size(); ++i) b.rgb[i] = uint8_t(i * 17 ^ (i >> 5));
  PreprocessOptions opt;
  opt.keep_u8 = true;
  PixelTiles reused;
  preprocess_image(a, cfg, opt, reused);
  preprocess_image(b, cfg, PreprocessOptions{}, reused);
  PixelTiles fresh = preprocess_image(b, cfg);
  EXPECT_EQ(reused.rows, fresh.rows);
  EXPECT_EQ(reused.cols, fresh.cols);
  EXPECT_EQ(reused.n_tiles, fresh.n_tiles);
  EXPECT_TRUE(reused.u8.empty());
  EXPECT_EQ(reused.pixels, fresh.pixels);
  EXPECT_EQ(fresh.rows * 10 + fresh.cols, 32);  // 30x70 -> 42x96 -> 64x96: 3 rows, 2 cols
}

TEST(ImageProcessor, UnsplitConfigGivesOneSquareTile) {
  ImageProcessorConfig cfg;
  cfg.do_image_splitting = false;
  cfg.longest_edge = 64;
  cfg.tile_size = 32;
  Image img(50, 30, 200);
  PixelTiles px = preprocess_image(img, cfg);
  EXPECT_EQ(px.rows, 0);
  EXPECT_EQ(px.cols, 0);
  ASSERT_EQ(px.n_tiles, 1);
  ASSERT_EQ(px.pixels.size(), size_t(3) * 32 * 32);
  // A flat image stays flat through LANCZOS (weights sum to one).
  float want = (float(double(200) * 0.00392156862745098) - 0.5f) / 0.5f;
  for (float v : px.pixels) ASSERT_EQ(v, want);
}

// ---------------------------------------------------------------------------------------------
// Prompt

namespace {

template <class T>
std::vector<T> ids_of(const std::string& name) {
  return ref_tensor<T>(name);
}

const Tokenizer& tokenizer() {
  static Tokenizer t = Tokenizer::load(kModel);
  return t;
}

}  // namespace

TEST(Prompt, ConfigFromModelFolder) {
  auto c = PromptConfig::load(kModel);
  EXPECT_EQ(c.image_seq_len, 64);
  EXPECT_EQ(c.style, ChatStyle::Granite);
  EXPECT_THROW(PromptConfig::load(kData + "/no-such-model"), std::runtime_error);
}

TEST(Prompt, ImagePromptMatchesOracleIds) {
  // End to end: the grid comes from the image processor run on the oracle page.
  Image page = load_image(kOracle + "/page.png");
  PixelTiles px = preprocess_image(page, ImageProcessorConfig::load(kModel));
  PromptBuilder pb(tokenizer(), PromptConfig::load(kModel));
  Prompt p = pb.build(Task::ConvertPage, px.rows, px.cols);
  auto want = ids_of<int32_t>("image.input_ids");
  ASSERT_EQ(want.size(), 878u);
  EXPECT_EQ(p.ids, want);
  EXPECT_EQ(p.n_tiles, px.n_tiles);
  // <image> positions: 13 tiles x 64, tile-major, matching the ids.
  ASSERT_EQ(p.image_positions.size(), size_t(13 * 64));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(want[i] == 100270, std::binary_search(p.image_positions.begin(), p.image_positions.end(), int32_t(i)));
  EXPECT_EQ(p.image_positions.front(), 5);   // after role header, fake, <row_1_col_1>
  EXPECT_EQ(p.image_positions[64], 5 + 66);  // next tile: fake, <row_1_col_2>
  EXPECT_EQ(p.ids[798], 271);                // "\n\n" before the global view, one token
}

TEST(Prompt, TextPromptMatchesOracleIds) {
  PromptBuilder pb(tokenizer(), PromptConfig::load(kModel));
  Prompt p = pb.build_text("What is the title of this document?");
  EXPECT_EQ(p.ids, ids_of<int32_t>("text.input_ids"));
  EXPECT_TRUE(p.image_positions.empty());
  EXPECT_EQ(p.n_tiles, 0);
}

TEST(Prompt, TokenCountsFollowTheGrid) {
  PromptBuilder pb(tokenizer(), PromptConfig{});
  Prompt text_only = pb.build_text("Convert this page to docling.");
  const size_t base = text_only.ids.size();  // template + instruction
  for (auto [r, c] : {std::pair{4, 3}, {4, 4}, {3, 4}, {2, 4}, {0, 0}}) {
    Prompt p = pb.build(Task::ConvertPage, r, c);
    size_t image_tokens = r ? size_t(r * (c * 66 + 1) + 67) : 67u;
    EXPECT_EQ(p.ids.size(), base + image_tokens) << r << "x" << c;
    EXPECT_EQ(p.image_positions.size(), size_t((r * c + 1) * 64));
  }
  EXPECT_EQ(pb.build(Task::ConvertPage, 4, 3).ids.size(), 878u);   // A4
  EXPECT_EQ(pb.build(Task::ConvertPage, 4, 4).ids.size(), 1142u);  // US Letter
  EXPECT_THROW(pb.build(Task::ConvertPage, 4, 0), std::invalid_argument);
  EXPECT_THROW(pb.build("look: <image>", 1, 1), std::runtime_error);
}

TEST(Prompt, InstructionPresets) {
  EXPECT_EQ(instruction(Task::ConvertTable), "Convert table to OTSL.");
  EXPECT_EQ(instruction(Task::OcrRegion, {155, 233, 206, 237}),
            "OCR the text in a specific location: <loc_155><loc_233><loc_206><loc_237>");
  EXPECT_EQ(loc_tags({-5, 0, 500, 900}), "<loc_0><loc_0><loc_500><loc_500>");
  // Every preset prompt tokenizes identically under the cl100k and GPT-2 pre-tokenizers, so the
  // missing tokenizer.json cannot change what the model sees; and it round-trips.
  TokenizerOptions o;
  o.force_pre_tokenizer = true;
  o.pre_tokenizer = PreTokenizer::Gpt2;
  Tokenizer gpt2 = Tokenizer::load(kModel, o);
  PromptBuilder a(tokenizer(), PromptConfig{}), b(gpt2, PromptConfig{});
  for (Task t : {Task::ConvertPage, Task::ConvertTable, Task::ConvertFormula, Task::ConvertCode,
                 Task::ConvertChart, Task::OcrRegion, Task::IdentifyElement}) {
    LocBox box{12, 40, 200, 60};
    Prompt pa = a.build(t, 4, 3, box), pb = b.build(t, 4, 3, box);
    EXPECT_EQ(pa.ids, pb.ids) << instruction(t, box);
    std::string text = tokenizer().decode(pa.ids);
    EXPECT_NE(text.find(instruction(t, box) + "<|end_of_text|>"), std::string::npos);
  }
}

TEST(Prompt, SmolVlmStyleText) {
  EXPECT_EQ(chat_text("Convert this page to docling.", true, ChatStyle::SmolVlm),
            "<|im_start|>User:<image>Convert this page to docling.<end_of_utterance>\nAssistant:");
}
