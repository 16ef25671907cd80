// Every input the fuzzers (fuzz/) found a bug with, replayed through the same harness code:
// tests/data/fuzz/<harness>/<file> goes to fuzz/<harness>.cpp's entry point. Each one crashed,
// aborted or tripped ASan/UBSan before its fix; here it must run to the end (CI runs this under
// ASan+UBSan too, where the memory and undefined-behaviour findings show).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define DOCLING_FUZZ_REGRESSION 1
#include "../fuzz/chunk_tokenizer.cpp"
#include "../fuzz/config.cpp"
#include "../fuzz/docling_json.cpp"
#include "../fuzz/doctags.cpp"
#include "../fuzz/image.cpp"
#include "../fuzz/pdf.cpp"
#include "../fuzz/safetensors.cpp"
#include "../fuzz/tokenizer.cpp"

namespace {

using Target = int (*)(const uint8_t*, size_t);

std::vector<std::filesystem::path> inputs(const char* harness) {
  std::vector<std::filesystem::path> out;
  std::filesystem::path dir = std::filesystem::path(DOCLING_TEST_DATA) / "fuzz" / harness;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

void replay(const char* harness, Target target) {
  for (const std::filesystem::path& p : inputs(harness)) {
    SCOPED_TRACE(p.string());
    std::ifstream f(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(target(bytes.data(), bytes.size()), 0);
  }
}

}  // namespace

TEST(FuzzRegressions, DocTags) { replay("doctags", fuzz_doctags); }
TEST(FuzzRegressions, DoclingJson) { replay("docling_json", fuzz_docling_json); }
TEST(FuzzRegressions, SafeTensors) { replay("safetensors", fuzz_safetensors); }
TEST(FuzzRegressions, Tokenizer) { replay("tokenizer", fuzz_tokenizer); }
TEST(FuzzRegressions, ChunkTokenizer) { replay("chunk_tokenizer", fuzz_chunk_tokenizer); }
TEST(FuzzRegressions, Config) { replay("config", fuzz_config); }
TEST(FuzzRegressions, Pdf) { replay("pdf", fuzz_pdf); }
TEST(FuzzRegressions, Image) { replay("image", fuzz_image); }

// The inputs are there (a test that replays nothing would pass for the wrong reason).
TEST(FuzzRegressions, HasInputs) { EXPECT_FALSE(inputs("doctags").empty()); }

// fuzz_config: JSON's non-negative integers are unsigned, and get_int checked only their upper
// bound, so "num_attention_heads": 0 passed the 1.. range and divided by zero (SIGFPE).
TEST(FuzzRegressions, ConfigZeroHeadsIsAnError) {
  std::ifstream f(std::string(DOCLING_TEST_DATA) + "/oracle/tiny-idefics3/config.json");
  nlohmann::json cfg = nlohmann::json::parse(f);
  for (const char* part : {"vision_config", "text_config"}) {
    nlohmann::json bad = cfg;
    bad[part]["num_attention_heads"] = 0;
    try {
      docling::vision::parse_config(bad.dump(), "config.json");
      ADD_FAILURE() << part << ": 0 heads accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("num_attention_heads"), std::string::npos) << e.what();
    }
  }
}

// fuzz_image: a JPEG with garbage between its markers (libjpeg skips it, as it must) hid its frame
// header from peek_image_size, so a 7196 x 7196 image passed the page source's size limits.
TEST(FuzzRegressions, JpegSizeSeenPastGarbage) {
  std::ifstream f(std::string(DOCLING_TEST_DATA) + "/fuzz/image/jpeg_garbage_before_sof.jpg", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  int w = 0, h = 0;
  ASSERT_TRUE(docling::peek_image_size(bytes, &w, &h));
  EXPECT_EQ(w, 7196);
  EXPECT_EQ(h, 7196);
  docling::OpenOptions opt;
  opt.limits.max_side = 2048;
  try {
    docling::open_source_bytes(bytes, "big.jpg", opt);
    ADD_FAILURE() << "a 7196 x 7196 image passed max_side 2048";
  } catch (const docling::PdfError& e) {
    EXPECT_EQ(e.kind, docling::PdfError::Kind::PageTooLarge) << e.what();
  }
}

// fuzz_docling_json: the reader accepted a `children` graph that is not a tree (one group listed
// under two parents), which every exporter then refused. The reader now refuses it, naming the ref.
namespace {
std::string tree_error(const std::string& body_children, const std::string& group_children) {
  std::string doc = R"({"schema_name":"DoclingDocument","version":"1.10.0","name":"t",
    "body":{"self_ref":"#/body","children":[)" + body_children + R"(]},
    "groups":[{"self_ref":"#/groups/0","parent":{"$ref":"#/body"},"children":[)" + group_children +
                    R"(],"name":"g","label":"unspecified"},
              {"self_ref":"#/groups/1","parent":{"$ref":"#/groups/0"},"children":[],"name":"h","label":"unspecified"}]})";
  try {
    docling::read_docling_json(doc);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(FuzzRegressions, DoclingJsonRefusesNonTrees) {
  const std::string g0 = R"({"$ref":"#/groups/0"})", g1 = R"({"$ref":"#/groups/1"})";
  EXPECT_EQ(tree_error(g0, g1), "");  // a tree reads
  std::string shared = tree_error(g0 + "," + g1, g1);
  EXPECT_NE(shared.find("'#/groups/1' is listed as a child more than once"), std::string::npos) << shared;
  std::string cycle = tree_error(g0, g0);  // the group is its own child
  EXPECT_NE(cycle.find("'#/groups/0'"), std::string::npos) << cycle;
  std::string to_root = tree_error(g0, R"({"$ref":"#/body"})");
  EXPECT_NE(to_root.find("'#/body'"), std::string::npos) << to_root;
  std::string twice = tree_error(g0 + "," + g0, "");
  EXPECT_NE(twice.find("more than once"), std::string::npos) << twice;
}

// fuzz_docling_json: an integer field written as 1.8e20 was cast from double to long long
// (undefined; UBSan reported it). Integers that do not fit are refused, naming the field.
TEST(FuzzRegressions, DoclingJsonIntegersThatDoNotFit) {
  auto with_page_no = [](const std::string& v) {
    std::string doc = R"({"schema_name":"DoclingDocument","version":"1.10.0","name":"t",
      "body":{"self_ref":"#/body","children":[{"$ref":"#/texts/0"}]},
      "texts":[{"self_ref":"#/texts/0","parent":{"$ref":"#/body"},"label":"text","orig":"a","text":"a",
                "prov":[{"page_no":)" + v + R"(,"bbox":{"l":0,"t":1,"r":1,"b":0,"coord_origin":"BOTTOMLEFT"},
                         "charspan":[0,1]}]}]})";
    try {
      docling::Document d = docling::read_docling_json(doc);
      return "page " + std::to_string(d.texts.at(0).prov.at(0).page_no);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  };
  EXPECT_EQ(with_page_no("3"), "page 3");
  EXPECT_EQ(with_page_no("3.0"), "page 3");
  for (const char* bad : {"184467440737095516162", "1.8e20", "-1e300", "4294967296", "9223372036854775807", "2.5"})
    EXPECT_NE(with_page_no(bad).find("page_no"), std::string::npos) << bad << ": " << with_page_no(bad);
}
