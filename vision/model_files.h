// The small files of a checkpoint folder (configs, tokenizer files), each read and parsed once.
//
// Takes: a model folder. Gives: the parsed JSON files and the raw text files every loader
// needs (load_config, Tokenizer, ImageProcessorConfig, PromptConfig), so loading a model reads
// each file once instead of once per loader. A missing file is absent (the loader that needs
// it says so); a file that is present but not valid JSON is an error naming the file.
// The weights (model.safetensors) are not read here: they are mapped by Weights::load.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace docling::vision {

class ModelFiles {
 public:
  // Reads every known file of `dir` now. Throws std::runtime_error naming a file that is
  // present but invalid (bad JSON, nested too deep).
  static ModelFiles read(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // A parsed JSON file (config.json, tokenizer_config.json, ...); nullptr when absent.
  const nlohmann::json* json(const std::string& name) const;
  // A text file kept as read (vocab.json, merges.txt, tokenizer.json, chat_template.jinja);
  // nullptr when absent.
  const std::string* text(const std::string& name) const;
  // How many times `name` was read from disk (0 when absent or unknown, else 1).
  int reads(const std::string& name) const;

 private:
  std::string dir_;
  std::map<std::string, nlohmann::json> json_;
  std::map<std::string, std::string> text_;
  std::map<std::string, int> reads_;
};

}  // namespace docling::vision
