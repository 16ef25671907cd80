// A checkpoint's configuration files -> ModelFiles::read, load_config (config.json with
// processor_config.json and tokenizer_config.json), ImageProcessorConfig::load
// (preprocessor_config.json). The input is those four texts separated by NUL bytes; an empty part
// means the file is absent. The numbers load_config accepts are then used as the model uses them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.h"
#include "vision/config.h"
#include "vision/image_processor.h"
#include "vision/model_files.h"

using namespace docling::vision;
namespace fs = std::filesystem;

FUZZ_TARGET(config) {
  static const char* const kFiles[] = {"config.json", "processor_config.json", "tokenizer_config.json",
                                       "preprocessor_config.json"};
  std::vector<std::string_view> parts = fuzz::split_nul(std::string_view(reinterpret_cast<const char*>(data), size), 4);
  const fs::path dir = fuzz::scratch() / "cfg";
  fs::create_directories(dir);
  for (size_t i = 0; i < 4; ++i) {
    std::error_code ec;
    fs::remove(dir / kFiles[i], ec);
    if (i < parts.size() && !parts[i].empty()) fuzz::write_file(dir / kFiles[i], parts[i]);
  }
  try {
    parse_config(std::string(parts[0]), "config.json", parts.size() > 1 ? std::string(parts[1]) : "",
                 parts.size() > 2 ? std::string(parts[2]) : "");
  } catch (const std::exception&) {
  }
  try {
    ModelFiles files = ModelFiles::read(dir.string());
    try {
      ModelConfig c = load_config(files);
      // What the model computes from an accepted config: must not overflow or divide by zero.
      volatile int64_t sink = int64_t(c.vision.patches_per_side()) + c.vision.num_patches() + c.connector_in() +
                              int64_t(c.text.heads) * c.text.head_dim + int64_t(c.text.kv_heads) * c.text.head_dim;
      (void)sink;
    } catch (const std::exception&) {
    }
    try {
      ImageProcessorConfig::load(files);
    } catch (const std::exception&) {
    }
  } catch (const std::exception&) {
  }
  return 0;
}
