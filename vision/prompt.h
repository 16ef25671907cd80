// Prompt building for Idefics3 / granite-docling: the chat template for one user turn (image +
// instruction, or text only) with the generation prompt, the processor's expansion of <image>
// into the tile grid, and tokenization — the ids Hugging Face's Idefics3Processor produces.
//
// Takes: a Tokenizer, processor_config.json (image_seq_len), chat_template.jinja (style only), the
//        tile grid from the image processor (PixelTiles::rows/cols) and an instruction.
// Gives: Prompt — input ids and the positions of the <image> tokens, in the order the image
//        features must fill them (tiles row-major, global view last, then token order in a tile).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vision/tokenizer.h"

namespace docling::vision {

class ModelFiles;

// The instructions granite-docling was trained with (model card).
enum class Task {
  ConvertPage,     // "Convert this page to docling." -> DocTags of the whole page
  ConvertTable,    // "Convert table to OTSL."
  ConvertFormula,  // "Convert formula to LaTeX."
  ConvertCode,     // "Convert code to text."
  ConvertChart,    // "Convert chart to table."
  OcrRegion,       // "OCR the text in a specific location: <loc_x0><loc_y0><loc_x1><loc_y1>"
  IdentifyElement, // "Identify element at: <loc_x0><loc_y0><loc_x1><loc_y1>"
};

// Location box in DocTags units (0..500 across the page, as the model emits them).
struct LocBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// "<loc_x0><loc_y0><loc_x1><loc_y1>" (values clamped to 0..500).
std::string loc_tags(const LocBox& box);
// The instruction text of a task; `box` is used by OcrRegion / IdentifyElement only.
std::string instruction(Task task, const LocBox& box = {});

enum class ChatStyle {
  Granite,  // <|start_of_role|>user<|end_of_role|>...<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>
  SmolVlm,  // <|im_start|>User:...<end_of_utterance>\nAssistant:  (SmolDocling; not oracle-checked)
};

struct PromptConfig {
  int image_seq_len = 64;  // processor_config.json
  ChatStyle style = ChatStyle::Granite;
  // Reads processor_config.json and picks the style from chat_template.jinja (or
  // tokenizer_config.json's chat_template). Throws std::runtime_error naming the file.
  static PromptConfig load(const std::string& model_dir);
  static PromptConfig load(const ModelFiles& files);  // files read once (model_files.h)
};

struct Prompt {
  std::vector<int32_t> ids;
  std::vector<int32_t> image_positions;  // indices into ids of every <image> token, in order
  int rows = 0, cols = 0;                // grid the prompt was built for (0 x 0: unsplit)
  int n_tiles = 0;                       // image blocks in the prompt (0 for text only)
};

// The text that replaces one <image>: per row r, per col c "<fake_token_around_image><row_r_col_c>"
// + "<image>" x seq_len, "\n" after each row, then "\n<fake_token_around_image><global-img>" +
// "<image>" x seq_len + "<fake_token_around_image>". Unsplit (0 x 0): only the global block.
std::string expand_image(int rows, int cols, int image_seq_len);

// The chat template for one user message and the generation prompt; `with_image` puts one <image>
// before the text.
std::string chat_text(const std::string& user_text, bool with_image, ChatStyle style);

class PromptBuilder {
 public:
  PromptBuilder(const Tokenizer& tok, const PromptConfig& cfg);

  // Image + instruction for a rows x cols grid (PixelTiles::rows/cols).
  Prompt build(const std::string& instruction_text, int rows, int cols) const;
  Prompt build(Task task, int rows, int cols, const LocBox& box = {}) const {
    return build(instruction(task, box), rows, cols);
  }
  // Text only (no image).
  Prompt build_text(const std::string& text) const;

  int32_t image_token_id() const { return image_id_; }
  int32_t eos_id() const { return tok_->eos_id; }

 private:
  Prompt finish(const std::string& text, int rows, int cols, int n_tiles) const;

  const Tokenizer* tok_;
  PromptConfig cfg_;
  int32_t image_id_;
};

}  // namespace docling::vision
