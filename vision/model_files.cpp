#include "vision/model_files.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "core/json_limits.h"

namespace docling::vision {

namespace {

// JSON files are parsed here (bounded nesting); the others are parsed by their loader
// (vocab.json by the tokenizer's own streaming parser; tokenizer.json and the chat template
// are only searched).
const char* const kJsonFiles[] = {"config.json",          "processor_config.json", "preprocessor_config.json",
                                  "tokenizer_config.json", "added_tokens.json",     "special_tokens_map.json"};
const char* const kTextFiles[] = {"vocab.json", "merges.txt", "tokenizer.json", "chat_template.jinja"};

bool read_text(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

ModelFiles ModelFiles::read(const std::string& dir) {
  ModelFiles m;
  m.dir_ = dir;
  std::string text;
  for (const char* name : kJsonFiles) {
    const std::string p = m.path(name);
    if (!read_text(p, text)) continue;
    ++m.reads_[name];
    try {
      m.json_[name] = parse_json(text);
    } catch (const std::exception& e) {  // bad JSON, too deep
      throw std::runtime_error(p + ": invalid JSON (" + e.what() + ")");
    }
  }
  for (const char* name : kTextFiles) {
    if (!read_text(m.path(name), text)) continue;
    ++m.reads_[name];
    m.text_[name] = std::move(text);
    text = std::string();
  }
  return m;
}

const nlohmann::json* ModelFiles::json(const std::string& name) const {
  auto it = json_.find(name);
  return it == json_.end() ? nullptr : &it->second;
}

const std::string* ModelFiles::text(const std::string& name) const {
  auto it = text_.find(name);
  return it == text_.end() ? nullptr : &it->second;
}

int ModelFiles::reads(const std::string& name) const {
  auto it = reads_.find(name);
  return it == reads_.end() ? 0 : it->second;
}

}  // namespace docling::vision
