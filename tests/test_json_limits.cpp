// JSON from outside is parsed with a bound on nesting (issue 19 #7, #8): a DoclingDocument,
// a safetensors header and a model folder's configs nested 100,000+ deep give a clear error
// naming the file instead of overflowing the stack in a recursive copy or dump.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <string>

#include "core/json_limits.h"
#include "doctags/docling_json.h"
#include "vision/config.h"
#include "vision/image_processor.h"
#include "vision/prompt.h"
#include "vision/safetensors.h"
#include "vision/tokenizer.h"
#include "tests/error_of.h"

namespace fs = std::filesystem;
using namespace docling;

namespace {

const std::string kData = DOCLING_TEST_DATA;
const fs::path kTiny = kData + "/oracle/tiny-idefics3";

std::string nested_objects(int depth, const std::string& leaf = "1") {
  std::string s;
  s.reserve(size_t(depth) * 6 + leaf.size());
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += leaf;
  s.append(size_t(depth), '}');
  return s;
}

std::string nested_arrays(int depth) { return std::string(size_t(depth), '[') + std::string(size_t(depth), ']'); }

std::string doc_with_text_field(const std::string& field) {
  return R"({"schema_name":"DoclingDocument","version":"1.10.0","name":"deep",)"
         R"("body":{"self_ref":"#/body","children":[{"$ref":"#/texts/0"}],"content_layer":"body","name":"_root_","label":"unspecified"},)"
         R"("texts":[{"self_ref":"#/texts/0","parent":{"$ref":"#/body"},"children":[],"content_layer":"body",)"
         R"("label":"text","prov":[],"orig":"x","text":"x",)" +
         field + "}]}";
}

using docling::testing::error_of;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("docling-json-limits-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

// A copy of the tiny model folder (its weights linked, they are not edited).
fs::path tiny_copy(const TempDir& d) {
  fs::path m = d.path / "model";
  fs::create_directories(m);
  for (const auto& e : fs::directory_iterator(kTiny)) {
    if (e.path().filename() == "model.safetensors") fs::create_symlink(e.path(), m / "model.safetensors");
    else fs::copy_file(e.path(), m / e.path().filename());
  }
  return m;
}

}  // namespace

TEST(JsonDepth, BoundIsExact) {
  EXPECT_NO_THROW(check_json_depth(nested_arrays(kMaxJsonDepth)));
  EXPECT_THROW(check_json_depth(nested_arrays(kMaxJsonDepth + 1)), JsonDepthError);
  EXPECT_NO_THROW(parse_json(nested_objects(kMaxJsonDepth)));
  EXPECT_THROW(parse_json(nested_objects(kMaxJsonDepth + 1)), JsonDepthError);
  EXPECT_THROW(parse_ordered_json(nested_objects(kMaxJsonDepth + 1)), JsonDepthError);
  EXPECT_NO_THROW(check_json_depth(nested_arrays(3), 3));
  EXPECT_THROW(check_json_depth(nested_arrays(4), 3), JsonDepthError);
}

TEST(JsonDepth, BracketsInStringsDoNotCount) {
  std::string s = "[\"" + std::string(2000, '[') + "\\\"{{{\", \"\\\\\", [1]]";
  EXPECT_NO_THROW(check_json_depth(s, 2));
  auto j = parse_json(s, 2);
  EXPECT_EQ(j.size(), 3u);
  EXPECT_THROW(parse_json("[\"\\\\\", [[1]]]", 2), JsonDepthError);  // the escape ends; depth 3 counts
}

TEST(JsonDepth, MalformedTextIsTheParsersToReject) {
  EXPECT_THROW(parse_json("]]]][[[["), nlohmann::json::parse_error);
  EXPECT_THROW(parse_json("{\"a\": [1, 2}"), nlohmann::json::parse_error);
}

TEST(JsonDepth, DoclingDocumentDeepMeta) {
  std::string msg = error_of([] { read_docling_json(doc_with_text_field("\"meta\":" + nested_objects(100000))); });
  EXPECT_NE(msg.find("nested deeper than"), std::string::npos) << msg;
  EXPECT_NE(msg.find("DoclingDocument JSON"), std::string::npos) << msg;
}

TEST(JsonDepth, DoclingDocumentDeepUnknownField) {
  std::string msg =
      error_of([] { read_docling_json(doc_with_text_field("\"custom\":" + nested_objects(100000))); });
  EXPECT_NE(msg.find("nested deeper than"), std::string::npos) << msg;
  msg = error_of([] { read_docling_json(doc_with_text_field("\"custom\":" + nested_arrays(100000))); });
  EXPECT_NE(msg.find("nested deeper than"), std::string::npos) << msg;
}

TEST(JsonDepth, DoclingDocumentModestNestingStillReads) {
  Document d = read_docling_json(doc_with_text_field("\"meta\":" + nested_objects(50) + ",\"custom\":[[[1]]]"));
  ASSERT_EQ(d.texts.size(), 1u);
  EXPECT_TRUE(d.texts[0].meta.is_object());
  EXPECT_EQ(d.texts[0].extra["custom"][0][0][0], 1);
}

TEST(JsonDepth, SafetensorsDeepMetadata) {
  TempDir d;
  std::string header = "{\"__metadata__\":{\"k\":" + nested_objects(200000, "\"v\"") + "}}";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  bytes += header;
  fs::path p = d.path / "model.safetensors";
  write(p, bytes);
  std::string msg = error_of([&] { vision::SafeTensors::open(p.string()); });
  EXPECT_NE(msg.find("nested deeper than"), std::string::npos) << msg;
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
}

TEST(JsonDepth, ModelConfigDeep) {
  std::string deep = nested_objects(100000);
  std::string msg = error_of([&] { vision::parse_config("{\"vision_config\":" + deep + "}", "cfg.json"); });
  EXPECT_NE(msg.find("nested deeper than"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cfg.json"), std::string::npos) << msg;
}

// Each JSON file of a model folder, nested deep in a field its loader copies or walks.
TEST(JsonDepth, ModelFolderFilesDeep) {
  struct Case {
    const char* file;
    std::function<void(const std::string&)> load;
  };
  const Case cases[] = {
      {"config.json", [](const std::string& m) { vision::load_config(m); }},
      {"processor_config.json", [](const std::string& m) { vision::load_config(m); }},
      {"processor_config.json", [](const std::string& m) { vision::PromptConfig::load(m); }},
      {"tokenizer_config.json", [](const std::string& m) { vision::load_config(m); }},
      {"tokenizer_config.json", [](const std::string& m) { vision::Tokenizer::load(m); }},
      {"added_tokens.json", [](const std::string& m) { vision::Tokenizer::load(m); }},
      {"special_tokens_map.json", [](const std::string& m) { vision::Tokenizer::load(m); }},
      {"preprocessor_config.json", [](const std::string& m) { vision::ImageProcessorConfig::load(m); }},
  };
  for (const Case& c : cases) {
    TempDir d;
    fs::path m = tiny_copy(d);
    std::string text;
    {
      std::ifstream f(m / c.file);
      text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    size_t brace = text.find('{');
    ASSERT_NE(brace, std::string::npos) << c.file;
    text.insert(brace + 1, "\"deep_field\":" + nested_objects(100000) + ",");
    write(m / c.file, text);
    std::string msg = error_of([&] { c.load(m.string()); });
    EXPECT_NE(msg.find("nested deeper than"), std::string::npos) << c.file << ": " << msg;
    EXPECT_NE(msg.find(c.file), std::string::npos) << c.file << ": " << msg;
  }
}
