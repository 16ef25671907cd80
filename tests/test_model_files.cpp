// vision::ModelFiles: a model folder's config and tokenizer files are read once and every loader
// (load_config / Model, Tokenizer, ImageProcessorConfig, PromptConfig) takes them from it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "core/image.h"
#include "vision/config.h"
#include "vision/image_processor.h"
#include "vision/model.h"
#include "vision/model_files.h"
#include "vision/prompt.h"
#include "vision/safetensors.h"
#include "vision/tokenizer.h"
#include "tests/error_of.h"

namespace fs = std::filesystem;
using namespace docling::vision;

namespace {

const std::string kData = DOCLING_TEST_DATA;
const std::string kTiny = kData + "/oracle/tiny-idefics3";

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag = "") {
    path = fs::temp_directory_path() / ("docling-model-files-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + tag);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A copy of the tiny checkpoint (weights linked, not copied).
std::string tiny_copy(const TempDir& d) {
  fs::path m = d.path / "model";
  fs::create_directories(m);
  for (const auto& e : fs::directory_iterator(kTiny)) {
    if (e.path().filename() == "model.safetensors") fs::create_symlink(e.path(), m / "model.safetensors");
    else fs::copy_file(e.path(), m / e.path().filename());
  }
  return m.string();
}

// Every file of the folder but the weights: what ModelFiles is to read.
std::vector<std::string> small_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != "model.safetensors") names.push_back(e.path().filename().string());
  return names;
}

std::vector<int32_t> oracle_ids(const std::string& name) {
  static SafeTensors ref = SafeTensors::open(kData + "/oracle/reference.safetensors");
  const auto& v = ref.get(name);
  std::vector<int32_t> ids(v.nbytes / 4);
  std::memcpy(ids.data(), v.data, v.nbytes);
  return ids;
}

using docling::testing::error_of;

void expect_same(const ImageProcessorConfig& a, const ImageProcessorConfig& b) {
  EXPECT_EQ(a.do_resize, b.do_resize);
  EXPECT_EQ(a.longest_edge, b.longest_edge);
  EXPECT_EQ(a.do_image_splitting, b.do_image_splitting);
  EXPECT_EQ(a.tile_size, b.tile_size);
  EXPECT_EQ(a.resample, b.resample);
  EXPECT_EQ(a.do_rescale, b.do_rescale);
  EXPECT_EQ(a.rescale_factor, b.rescale_factor);
  EXPECT_EQ(a.do_normalize, b.do_normalize);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.mean[i], b.mean[i]);
    EXPECT_EQ(a.std[i], b.std[i]);
  }
}

void expect_same(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.vision.hidden, b.vision.hidden);
  EXPECT_EQ(a.vision.layers, b.vision.layers);
  EXPECT_EQ(a.vision.image_size, b.vision.image_size);
  EXPECT_EQ(a.text.hidden, b.text.hidden);
  EXPECT_EQ(a.text.layers, b.text.layers);
  EXPECT_EQ(a.text.vocab, b.text.vocab);
  EXPECT_EQ(a.text.max_positions, b.text.max_positions);
  EXPECT_EQ(a.scale_factor, b.scale_factor);
  EXPECT_EQ(a.image_seq_len, b.image_seq_len);
  EXPECT_EQ(a.image_token_id, b.image_token_id);
  EXPECT_EQ(a.eos_token_id, b.eos_token_id);
  EXPECT_EQ(a.doctag_end_id, b.doctag_end_id);
}

const char* const kSample = "Convert this page to docling.\n  Numbers: 1234567 -42 <fake_token_around_image> ünïcödé";

}  // namespace

// Each small file is read from disk exactly once, however many loaders use it; files the
// folder lacks are absent, not errors.
TEST(ModelFiles, ReadsEachFileOnce) {
  ModelFiles f = ModelFiles::read(kTiny);
  ModelConfig c = load_config(f);
  Tokenizer t = Tokenizer::load(f);
  ImageProcessorConfig ip = ImageProcessorConfig::load(f);
  PromptConfig pc = PromptConfig::load(f);
  Model m = Model::load(f);
  EXPECT_EQ(m.config().image_seq_len, c.image_seq_len);
  EXPECT_EQ(pc.image_seq_len, c.image_seq_len);
  EXPECT_GT(ip.tile_size, 0);
  EXPECT_GT(t.size(), c.image_token_id);
  // Every file the loaders use (all of the folder but the weights and generation_config.json).
  std::vector<std::string> names = small_files(kTiny);
  ASSERT_GE(names.size(), 10u);
  for (const std::string& n : names) EXPECT_EQ(f.reads(n), n == "generation_config.json" ? 0 : 1) << n;
  for (const char* n : {"config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json",
                        "added_tokens.json", "special_tokens_map.json"})
    EXPECT_NE(f.json(n), nullptr) << n;
  EXPECT_NE(f.text("vocab.json"), nullptr);
  EXPECT_NE(f.text("merges.txt"), nullptr);
  EXPECT_EQ(f.reads("tokenizer.json"), 0);  // the tiny checkpoint has none
  EXPECT_EQ(f.text("tokenizer.json"), nullptr);
  EXPECT_EQ(f.reads("model.safetensors"), 0);  // mapped by the weights, never read here
}

// After ModelFiles is made, the folder's small files can go: every loader works from memory and
// gives what the loaders reading the folder give (and the oracle's prompt ids).
TEST(ModelFiles, LoadersNeedNoFilesAfterRead) {
  TempDir d;
  const std::string dir = tiny_copy(d);
  ModelFiles f = ModelFiles::read(dir);
  for (const std::string& n : small_files(dir)) fs::remove(fs::path(dir) / n);
  ASSERT_FALSE(fs::exists(fs::path(dir) / "config.json"));
  EXPECT_THROW(load_config(dir), std::runtime_error);  // the folder really is empty now

  Model m = Model::load(f);
  expect_same(m.config(), load_config(kTiny));
  expect_same(load_config(f), load_config(kTiny));

  Tokenizer t = Tokenizer::load(f);
  Tokenizer ref = Tokenizer::load(kTiny);
  EXPECT_EQ(t.size(), ref.size());
  EXPECT_EQ(t.encode(kSample), ref.encode(kSample));
  EXPECT_EQ(t.bos_id, ref.bos_id);
  EXPECT_EQ(t.eos_id, ref.eos_id);
  EXPECT_EQ(t.pad_id, ref.pad_id);

  ImageProcessorConfig ip = ImageProcessorConfig::load(f);
  expect_same(ip, ImageProcessorConfig::load(kTiny));

  PromptConfig pc = PromptConfig::load(f);
  PromptConfig pref = PromptConfig::load(kTiny);
  EXPECT_EQ(pc.image_seq_len, pref.image_seq_len);
  EXPECT_EQ(pc.style, pref.style);
  EXPECT_EQ(pc.style, ChatStyle::Granite);

  // Prompt ids: the text prompt is the oracle's; the page prompt matches the folder loaders'.
  PromptBuilder pb(t, pc), pb_ref(ref, pref);
  EXPECT_EQ(pb.build_text("What is the title of this document?").ids, oracle_ids("text.input_ids"));
  PixelTiles px = preprocess_image(docling::load_image(kData + "/oracle/page.png"), ip);
  Prompt p = pb.build(Task::ConvertPage, px.rows, px.cols);
  EXPECT_EQ(p.ids, pb_ref.build(Task::ConvertPage, px.rows, px.cols).ids);
  EXPECT_EQ(p.image_positions.size(), size_t(px.n_tiles) * size_t(pc.image_seq_len));
}

// A missing optional file is absent; a present but invalid one is an error naming it, raised
// when the folder is read (before any loader runs).
TEST(ModelFiles, MissingOptionalAbsentInvalidNamed) {
  TempDir d;
  const std::string dir = tiny_copy(d);
  fs::remove(fs::path(dir) / "special_tokens_map.json");
  fs::remove(fs::path(dir) / "chat_template.jinja");
  ModelFiles f = ModelFiles::read(dir);
  EXPECT_EQ(f.json("special_tokens_map.json"), nullptr);
  EXPECT_EQ(f.reads("special_tokens_map.json"), 0);
  EXPECT_EQ(Tokenizer::load(f).encode(kSample), Tokenizer::load(kTiny).encode(kSample));

  for (const char* name : {"added_tokens.json", "preprocessor_config.json", "config.json"}) {
    TempDir d2(std::string("-") + name);
    const std::string bad = tiny_copy(d2);
    std::ofstream(fs::path(bad) / name, std::ios::binary) << "{\"x\": [1, 2";
    std::string msg = error_of([&] { ModelFiles::read(bad); });
    EXPECT_NE(msg.find(bad + "/" + name), std::string::npos) << name << ": " << msg;
    EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << name << ": " << msg;
  }
  // A required file missing is the loader's error, naming it.
  fs::remove(fs::path(dir) / "merges.txt");
  std::string msg = error_of([&] { Tokenizer::load(ModelFiles::read(dir)); });
  EXPECT_NE(msg.find("merges.txt"), std::string::npos) << msg;
}
