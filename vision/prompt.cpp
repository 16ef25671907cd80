#include "vision/prompt.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "vision/model_files.h"
#include <stdexcept>

namespace docling::vision {

std::string loc_tags(const LocBox& b) {
  std::string s;
  for (int v : {b.x0, b.y0, b.x1, b.y1}) s += "<loc_" + std::to_string(std::clamp(v, 0, 500)) + ">";
  return s;
}

std::string instruction(Task task, const LocBox& box) {
  switch (task) {
    case Task::ConvertPage: return "Convert this page to docling.";
    case Task::ConvertTable: return "Convert table to OTSL.";
    case Task::ConvertFormula: return "Convert formula to LaTeX.";
    case Task::ConvertCode: return "Convert code to text.";
    case Task::ConvertChart: return "Convert chart to table.";
    case Task::OcrRegion: return "OCR the text in a specific location: " + loc_tags(box);
    case Task::IdentifyElement: return "Identify element at: " + loc_tags(box);
  }
  throw std::invalid_argument("instruction: unknown task");
}

PromptConfig PromptConfig::load(const std::string& dir) { return load(ModelFiles::read(dir)); }

PromptConfig PromptConfig::load(const ModelFiles& files) {
  PromptConfig c;
  const std::string path = files.path("processor_config.json");
  const nlohmann::json* jp = files.json("processor_config.json");
  if (!jp) throw std::runtime_error(path + ": cannot open");
  try {
    const nlohmann::json& j = *jp;
    if (!j.is_object()) throw std::runtime_error("not a JSON object");
    if (j.contains("image_seq_len")) {
      const auto& v = j["image_seq_len"];
      if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (1 << 16))
        throw std::runtime_error("image_seq_len " + v.dump() + " is not an integer in 1.." + std::to_string(1 << 16));
      c.image_seq_len = v.get<int>();
    }
  } catch (const std::exception& e) {  // bad JSON, too deep, a wrong type
    throw std::runtime_error(path + ": invalid (" + e.what() + ")");
  }
  if (c.image_seq_len <= 0) throw std::runtime_error(path + ": image_seq_len must be positive");
  // Only the template's style is recognized (no Jinja engine): look for its role markers.
  // The template is chat_template.jinja, else inside tokenizer_config.json (searched as text).
  std::string tmpl;
  if (const std::string* t = files.text("chat_template.jinja")) tmpl = *t;
  else if (const nlohmann::json* tc = files.json("tokenizer_config.json")) tmpl = tc->dump();
  if (tmpl.find("<|start_of_role|>") != std::string::npos) c.style = ChatStyle::Granite;
  else if (tmpl.find("<|im_start|>") != std::string::npos) c.style = ChatStyle::SmolVlm;
  return c;
}

std::string expand_image(int rows, int cols, int seq_len) {
  if (rows < 0 || cols < 0 || (rows == 0) != (cols == 0) || seq_len <= 0)
    throw std::invalid_argument("expand_image: bad grid " + std::to_string(rows) + "x" + std::to_string(cols));
  std::string image_run;
  for (int i = 0; i < seq_len; ++i) image_run += "<image>";
  std::string s;
  for (int r = 1; r <= rows; ++r) {
    for (int c = 1; c <= cols; ++c)
      s += "<fake_token_around_image><row_" + std::to_string(r) + "_col_" + std::to_string(c) + ">" + image_run;
    s += "\n";
  }
  if (rows > 0) s += "\n";
  s += "<fake_token_around_image><global-img>" + image_run + "<fake_token_around_image>";
  return s;
}

std::string chat_text(const std::string& user_text, bool with_image, ChatStyle style) {
  const char* image = with_image ? "<image>" : "";
  if (style == ChatStyle::SmolVlm)
    return std::string("<|im_start|>User:") + (with_image ? "" : " ") + image + user_text +
           "<end_of_utterance>\nAssistant:";
  return std::string("<|start_of_role|>user<|end_of_role|>") + image + user_text +
         "<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>";
}

PromptBuilder::PromptBuilder(const Tokenizer& tok, const PromptConfig& cfg)
    : tok_(&tok), cfg_(cfg), image_id_(tok.require_id("<image>")) {
  tok.require_id("<fake_token_around_image>");
  tok.require_id("<global-img>");
}

Prompt PromptBuilder::finish(const std::string& text, int rows, int cols, int n_tiles) const {
  Prompt p;
  p.ids = tok_->encode(text);
  p.rows = rows;
  p.cols = cols;
  p.n_tiles = n_tiles;
  for (size_t i = 0; i < p.ids.size(); ++i)
    if (p.ids[i] == image_id_) p.image_positions.push_back(int32_t(i));
  if (p.image_positions.size() != size_t(n_tiles) * cfg_.image_seq_len)
    throw std::runtime_error("prompt: " + std::to_string(p.image_positions.size()) +
                             " <image> tokens, expected " + std::to_string(n_tiles * cfg_.image_seq_len) +
                             " (does the instruction contain <image>?)");
  return p;
}

// As the HF processor does: apply the chat template, replace the <image> placeholder by its
// expansion, then tokenize the whole string (so "\n" + "\n" before the global view becomes the
// single token "\n\n", exactly as there).
Prompt PromptBuilder::build(const std::string& text, int rows, int cols) const {
  std::string chat = chat_text(text, true, cfg_.style);
  size_t at = chat.find("<image>");
  chat.replace(at, 7, expand_image(rows, cols, cfg_.image_seq_len));
  return finish(chat, rows, cols, rows * cols + 1);
}

Prompt PromptBuilder::build_text(const std::string& text) const {
  return finish(chat_text(text, false, cfg_.style), 0, 0, 0);
}

}  // namespace docling::vision
