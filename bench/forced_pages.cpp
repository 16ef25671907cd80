#include "bench/forced_pages.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "layout/pdf.h"

namespace fs = std::filesystem;

namespace docling::bench {

ForcedPage model_input(const std::string& pdf, int page, const vision::PromptBuilder& builder,
                       const vision::ImageProcessorConfig& processor) {
  ForcedPage p;
  p.name = fs::path(pdf).filename().string() + " p" + std::to_string(page);
  Image img = open_source(pdf)->render(page, 144);
  vision::preprocess_image(img, processor, {}, p.tiles);
  p.prompt = builder.build(vision::Task::ConvertPage, p.tiles.rows, p.tiles.cols);
  return p;
}

std::vector<fs::path> doctags_documents(int most) {
  std::vector<fs::path> docs;
  for (const auto& e : fs::directory_iterator(DOCLING_TEST_DATA "/pdfs"))
    if (e.path().extension() == ".doctags" && fs::exists(fs::path(e.path()).replace_extension(".pdf")))
      docs.push_back(e.path());
  std::sort(docs.begin(), docs.end());
  if (int(docs.size()) > most) docs.resize(size_t(std::max(0, most)));
  return docs;
}

bool load_forced_page(const fs::path& doctags, const vision::Tokenizer& tok, const vision::PromptBuilder& builder,
                      const vision::ImageProcessorConfig& processor, int tokens, ForcedPage& out) {
  std::ifstream in(doctags);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (size_t b = text.find("<page_break>"); b != std::string::npos) text = text.substr(0, b) + "</doctag>";
  std::vector<int32_t> forced = tok.encode(text);
  if (int(forced.size()) > tokens) forced.resize(size_t(tokens));
  if (forced.size() < 2) return false;
  out = model_input(fs::path(doctags).replace_extension(".pdf").string(), 1, builder, processor);
  out.name = doctags.stem().string();
  out.forced = std::move(forced);
  return true;
}

}  // namespace docling::bench
