// docling's ground truth as teacher-forcing input (bench_vision_precision, bench_decode_precision):
// the documents of tests/data/pdfs that have DocTags, each one's first page as the model sees it
// (rendered at 144 dpi, as docling does, then tiled) and the first tokens of its DocTags.
// Takes: the model's tokenizer, prompt builder and image processor. Gives: ForcedPage.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vision/image_processor.h"
#include "vision/prompt.h"
#include "vision/tokenizer.h"

namespace docling::bench {

struct ForcedPage {
  std::string name;
  vision::PixelTiles tiles;
  vision::Prompt prompt;
  std::vector<int32_t> forced;  // the ground truth's tokens
};

// The model's input for page `page` of `pdf`: tiles and the conversion prompt (forced empty).
ForcedPage model_input(const std::string& pdf, int page, const vision::PromptBuilder& builder,
                       const vision::ImageProcessorConfig& processor);

// The first `most` .doctags files of tests/data/pdfs with a PDF beside them, by name.
std::vector<std::filesystem::path> doctags_documents(int most);

// The first page of a .doctags file's PDF and the first `tokens` tokens of that page's DocTags
// (cut at the first <page_break>). False when they give fewer than 2 tokens.
bool load_forced_page(const std::filesystem::path& doctags, const vision::Tokenizer& tok,
                      const vision::PromptBuilder& builder, const vision::ImageProcessorConfig& processor, int tokens,
                      ForcedPage& out);

}  // namespace docling::bench
