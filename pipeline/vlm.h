// The VLM page converter: one page image → granite-docling → DocTags → the page's
// document, with the steps split so a scheduler can run them as stages:
//   render (layout) → prepare (image processor + prompt) → encode (vision) →
//   generate (decoder, streaming into the DocTags parser) → finish (page document).
//
// Takes: a checkpoint folder, page images. Gives: per page the
// DocTags text, a one-page Document (page 1, sized by the 72-dpi page image) and status.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/document.h"
#include "doctags/parser.h"
#include "core/image.h"
#include "layout/text_layer.h"
#include "pipeline/quality.h"
#include "vision/generate.h"
#include "vision/image_processor.h"
#include "vision/model.h"
#include "vision/prompt.h"
#include "vision/tokenizer.h"

namespace docling {

class PageSource;

struct VlmOptions {
  double dpi = 144;                 // docling renders pages at scale 2.0 for the model
  bool direct_render = false;       // render straight at the processor's step-1 size
  int max_new_tokens = 8192;        // docling's granite-docling setting
  bool loop_guard = true;           // end a page that repeats itself (kept, with a warning)
  bool force_backend_text = false;  // text items take the PDF text inside their box
  bool picture_images = true;       // pictures get crops of the page image
  bool embed_page_images = true;    // pages[].image in the document (as docling's VLM pipeline)
  std::string prompt;               // instruction; empty = "Convert this page to docling."
  bool speculate = true;            // text-layer and prompt-lookup drafts (greedy-exact)
  bool check_text_layer = true;     // compare text items with the text layer in their box
  double text_layer_threshold = 0.4;  // normalized edit distance above which an item is suspect
};

class VlmEngine {
 public:
  // Loads config, weights (memory-mapped), tokenizer, processor and prompt settings with the
  // model's load options (weights bf16 or int8, the KV cache's precision).
  // Throws std::runtime_error naming the file.
  static std::unique_ptr<VlmEngine> load(const std::string& dir, const vision::LoadOptions& opt = {});

  const std::string& dir() const { return dir_; }
  const vision::Model& model() const { return model_; }
  const vision::Tokenizer& tokenizer() const { return tok_; }
  const vision::ImageProcessorConfig& processor() const { return proc_; }
  const vision::PromptBuilder& prompts() const { return *prompts_; }

 private:
  VlmEngine(std::string dir, vision::Model m, vision::Tokenizer t, vision::ImageProcessorConfig p,
            vision::PromptConfig pc);
  std::string dir_;
  vision::Model model_;
  vision::Tokenizer tok_;
  vision::ImageProcessorConfig proc_;
  vision::PromptConfig prompt_cfg_;
  std::unique_ptr<vision::PromptBuilder> prompts_;
};

// One page moving through the stages. Plain data: each stage fills its part.
struct VlmPage {
  int page_no = 0;               // in the source document (1-based)
  Image page_image;              // 72 dpi (smaller past the raster limits): crops, pages[].image
  Size page_size;                // in points; 0 x 0: the page image's size
  Image model_image;             // what the processor gets (144 dpi, or step-1 size)
  bool model_image_is_step1 = false;
  std::optional<TextPage> text;  // text layer, for force_backend_text

  vision::PixelTiles tiles;
  vision::Prompt prompt;
  std::vector<float> features;   // [n_image_rows][hidden]

  // Generation state (set by vlm_begin_generate; the page must not move until the end).
  std::unique_ptr<DocTagsParser> parser;
  std::unique_ptr<vision::IncrementalDecoder> text_decoder;

  std::vector<int32_t> tokens;
  std::vector<float> logprobs;   // of each token, as chosen
  ItemWatch watch;               // which tokens made which item
  size_t fed = 0;                // tokens fed to the parser
  Confidence confidence;         // the whole page's
  TextLayerCheck layer_check;    // text items against the PDF's text layer
  std::string doctags;           // decoded output, special tokens kept
  vision::StopReason stop = vision::StopReason::MaxTokens;
  std::vector<std::string> warnings;
  Document doc;                  // one page (page_no 1); append with offset page_no - 1
  bool ok = false;
};

// Renders the page images (72 dpi and the model's) and reads the text layer when needed.
// Throws PdfError.
void vlm_render(const PageSource& src, int page_no, const VlmEngine& e, const VlmOptions& o, VlmPage& p);
// Image processor + prompt ids.
void vlm_prepare(const VlmEngine& e, const VlmOptions& o, VlmPage& p);
// Vision encoder + connector over the page's tiles.
void vlm_encode(const VlmEngine& e, VlmPage& p);
// Generation, in two halves around a batch decoder: options whose callbacks stream tokens
// into the page's parser, then the page's document from the result.
vision::GenerateOptions vlm_begin_generate(const VlmEngine& e, const VlmOptions& o, VlmPage& p,
                                           const std::function<bool()>& cancelled = {});
void vlm_end_generate(const VlmOptions& o, VlmPage& p, vision::GenerateResult r,
                      const std::function<bool()>& cancelled = {});

// force_backend_text: each text item with a box takes the text layer's text inside it
// (kept as the model wrote it when the text layer has nothing there).
int replace_with_text_layer(Document& doc, const TextPage& text, double scale_x, double scale_y);

}  // namespace docling
