// A model folder's configuration is validated at load (issue 19 #15): wrong types, ids past the
// vocabulary, positions too few for a page prompt and absurd sizes fail with an error naming
// the file, from each loader and from Engine construction (ModelError); the tiny folder as it
// is still loads.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "docling/engine.hpp"
#include "vision/config.h"
#include "vision/image_processor.h"
#include "vision/prompt.h"
#include "vision/tokenizer.h"
#include "tests/error_of.h"

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

const fs::path kTiny = fs::path(DOCLING_TEST_DATA) / "oracle" / "tiny-idefics3";

struct TempModel {
  fs::path dir;
  TempModel() {
    dir = fs::temp_directory_path() / ("docling-model-checks-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(kTiny)) {
      if (e.path().filename() == "model.safetensors") fs::create_symlink(e.path(), dir / "model.safetensors");
      else fs::copy_file(e.path(), dir / e.path().filename());
    }
  }
  ~TempModel() { fs::remove_all(dir); }
  void write(const std::string& file, const std::string& text) const {
    std::ofstream f(dir / file, std::ios::binary | std::ios::trunc);
    f << text;
  }
  // Edits one JSON file of the folder.
  void edit(const std::string& file, const std::function<void(ordered_json&)>& change) const {
    ordered_json j;
    {
      std::ifstream f(dir / file);
      j = ordered_json::parse(f);
    }
    change(j);
    write(file, j.dump(1));
  }
};

using docling::testing::error_of;

void load_all(const std::string& dir) {
  docling::vision::load_config(dir);
  docling::vision::Tokenizer::load(dir);
  docling::vision::ImageProcessorConfig::load(dir);
  docling::vision::PromptConfig::load(dir);
}

struct Case {
  const char* name;
  const char* file;
  const char* says;  // the message names this (the key or the value's problem)
  std::function<void(const TempModel&)> make;
};

const int64_t k2p40 = int64_t(1) << 40;

std::vector<Case> cases() {
  auto cfg = [](std::function<void(ordered_json&)> f) {
    return [f](const TempModel& m) { m.edit("config.json", f); };
  };
  auto raw = [](const char* file, const char* text) {
    return [file, text](const TempModel& m) { m.write(file, text); };
  };
  return {
      {"image_token_id 2^40", "config.json", "image_token_id", cfg([](ordered_json& j) { j["image_token_id"] = k2p40; })},
      {"image_token_id past the vocabulary", "config.json", "image_token_id",
       cfg([](ordered_json& j) { j["image_token_id"] = 100352; })},
      {"image_token_id not <image>", "config.json", "<image>",
       cfg([](ordered_json& j) { j["image_token_id"] = 100257; })},
      {"image_token_id a string", "config.json", "image_token_id",
       cfg([](ordered_json& j) { j["image_token_id"] = "100270"; })},
      {"max_position_embeddings 16", "config.json", "max_position_embeddings",
       cfg([](ordered_json& j) { j["text_config"]["max_position_embeddings"] = 16; })},
      {"max_position_embeddings a string", "config.json", "max_position_embeddings",
       cfg([](ordered_json& j) { j["text_config"]["max_position_embeddings"] = "16"; })},
      {"max_position_embeddings 2^40", "config.json", "max_position_embeddings",
       cfg([](ordered_json& j) { j["text_config"]["max_position_embeddings"] = k2p40; })},
      {"vocab_size 2^31", "config.json", "vocab_size",
       cfg([](ordered_json& j) { j["text_config"]["vocab_size"] = int64_t(1) << 31; })},
      {"hidden_size 2^33", "config.json", "hidden_size",
       cfg([](ordered_json& j) { j["vision_config"]["hidden_size"] = int64_t(1) << 33; })},
      {"eos_token_id negative", "config.json", "eos_token_id", cfg([](ordered_json& j) { j["eos_token_id"] = -7; })},
      {"rope_theta a string", "config.json", "rope_theta",
       cfg([](ordered_json& j) { j["text_config"]["rope_theta"] = "big"; })},
      {"rms_norm_eps negative", "config.json", "rms_norm_eps",
       cfg([](ordered_json& j) { j["text_config"]["rms_norm_eps"] = -1.0; })},
      {"config an array", "config.json", "object", raw("config.json", "[1,2,3]")},
      {"tokenizer_config an array", "tokenizer_config.json", "object", raw("tokenizer_config.json", "[1,2,3]")},
      {"added token id 2^40", "tokenizer_config.json", "1099511627776",
       [](const TempModel& m) {
         m.edit("tokenizer_config.json", [](ordered_json& j) {
           j["added_tokens_decoder"]["1099511627776"] = {{"content", "<x>"}, {"special", true}};
         });
       }},
      {"added_tokens_decoder a list", "tokenizer_config.json", "added_tokens_decoder",
       [](const TempModel& m) {
         m.edit("tokenizer_config.json", [](ordered_json& j) { j["added_tokens_decoder"] = {1, 2}; });
       }},
      {"added_tokens.json a list", "added_tokens.json", "object", raw("added_tokens.json", "[1]")},
      {"special_tokens_map a string", "special_tokens_map.json", "object", raw("special_tokens_map.json", "\"x\"")},
      {"processor_config an array", "processor_config.json", "object", raw("processor_config.json", "[64]")},
      {"image_seq_len 2^40", "processor_config.json", "image_seq_len",
       raw("processor_config.json", "{\"image_seq_len\": 1099511627776}")},
      {"preprocessor_config an array", "preprocessor_config.json", "object",
       raw("preprocessor_config.json", "[1,2,3]")},
      {"longest_edge 2^40", "preprocessor_config.json", "longest_edge",
       [](const TempModel& m) {
         m.edit("preprocessor_config.json", [](ordered_json& j) { j["size"]["longest_edge"] = k2p40; });
       }},
      {"image_std zero", "preprocessor_config.json", "image_std",
       [](const TempModel& m) {
         m.edit("preprocessor_config.json", [](ordered_json& j) { j["image_std"] = {0.5, 0, 0.5}; });
       }},
      {"tile past the longest edge", "preprocessor_config.json", "max_image_size",
       [](const TempModel& m) {
         m.edit("preprocessor_config.json", [](ordered_json& j) { j["max_image_size"]["longest_edge"] = 4096; });
       }},
  };
}

}  // namespace

TEST(ModelFolderChecks, TinyFolderLoads) {
  TempModel m;
  EXPECT_NO_THROW(load_all(m.dir.string()));
}

TEST(ModelFolderChecks, GraniteDoclingFolderLoads) {
  const fs::path granite = fs::path(DOCLING_TEST_DATA) / "models" / "granite-docling-258M";
  if (!fs::exists(granite / "config.json")) GTEST_SKIP() << "no " << granite;
  EXPECT_NO_THROW(load_all(granite.string()));
}

TEST(ModelFolderChecks, EachBadValueFailsNamingTheFile) {
  for (const Case& c : cases()) {
    TempModel m;
    c.make(m);
    std::string msg = error_of([&] { load_all(m.dir.string()); });
    EXPECT_NE(msg.find((m.dir / c.file).string()), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find(c.says), std::string::npos) << c.name << ": " << msg;
  }
}

TEST(ModelFolderChecks, EngineRefusesTheFolder) {
  for (const char* which : {"image_token_id", "max_position_embeddings", "tokenizer_config"}) {
    TempModel m;
    std::string w = which;
    if (w == "image_token_id") m.edit("config.json", [](ordered_json& j) { j["image_token_id"] = k2p40; });
    if (w == "max_position_embeddings")
      m.edit("config.json", [](ordered_json& j) { j["text_config"]["max_position_embeddings"] = 16; });
    if (w == "tokenizer_config") m.write("tokenizer_config.json", "[1,2,3]");
    docling::EngineOptions eo;
    eo.model_dir = m.dir.string();
    eo.threads = 1;
    try {
      docling::Engine e(eo);
      ADD_FAILURE() << which << ": the engine loaded";
    } catch (const docling::ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(m.dir.string()), std::string::npos) << which << ": " << e.what();
    }
  }
}
