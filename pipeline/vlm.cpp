#include "pipeline/vlm.h"

#include <cstdlib>
#include <filesystem>

#include "doctags/parser.h"
#include "layout/pdf.h"
#include "vision/model_files.h"
#include "vision/tile_cache.h"

namespace fs = std::filesystem;

namespace docling {

VlmEngine::VlmEngine(std::string dir, vision::Model m, vision::Tokenizer t, vision::ImageProcessorConfig p,
                     vision::PromptConfig pc)
    : dir_(std::move(dir)), model_(std::move(m)), tok_(std::move(t)), proc_(p), prompt_cfg_(pc) {
  prompts_ = std::make_unique<vision::PromptBuilder>(tok_, prompt_cfg_);
}

std::unique_ptr<VlmEngine> VlmEngine::load(const std::string& dir, const vision::LoadOptions& lo) {
  // Each config and tokenizer file is read and parsed once, for all four loaders.
  const vision::ModelFiles files = vision::ModelFiles::read(dir);
  vision::Model m = vision::Model::load(files, lo);
  vision::Tokenizer t = vision::Tokenizer::load(files);
  vision::ImageProcessorConfig p = vision::ImageProcessorConfig::load(files);
  vision::PromptConfig pc = vision::PromptConfig::load(files);
  return std::unique_ptr<VlmEngine>(new VlmEngine(dir, std::move(m), std::move(t), p, pc));
}

// A page past the raster limits (a map, a banner) is rendered smaller than docling would
// instead of leaving it to the text layer: the model image straight at the processor's step-1
// size (what the processor would shrink the 144-dpi raster to), the page image with its long
// side at kLargePageSide pixels; the page keeps its size in points and gets a warning.
constexpr int kLargePageSide = 4096;

void vlm_render(const PageSource& src, int page_no, const VlmEngine& e, const VlmOptions& o, VlmPage& p) {
  p.page_no = page_no;
  int w72 = 0, h72 = 0;
  src.raster_size(page_no, 72, &w72, &h72);
  p.page_size = {double(w72), double(h72)};
  if (src.raster_fits(w72, h72)) {
    p.page_image = src.render(page_no, 72);
  } else {
    p.page_image = src.render_fit(page_no, kLargePageSide);
    p.warnings.push_back("page of " + std::to_string(w72) + "x" + std::to_string(h72) +
                         " pt: page image rendered at " + std::to_string(p.page_image.width) + "x" +
                         std::to_string(p.page_image.height) + " px (raster limits)");
  }
  const bool step1 = e.processor().do_resize;
  int w = w72, h = h72;
  if (!o.direct_render) src.raster_size(page_no, o.dpi, &w, &h);
  if (o.direct_render || (step1 && !src.raster_fits(w, h))) {
    int sw = w, sh = h;
    if (step1) vision::idefics3_step1_size(w, h, e.processor().longest_edge, &sw, &sh);
    p.model_image = src.render_size(page_no, sw, sh);
    p.model_image_is_step1 = step1;
    if (!o.direct_render)
      p.warnings.push_back("page too large to render at " + std::to_string(int(o.dpi)) + " dpi; the model got " +
                           std::to_string(sw) + "x" + std::to_string(sh) + " px directly");
  } else {
    p.model_image = src.render(page_no, o.dpi);
  }
  if (o.force_backend_text || o.speculate || o.check_text_layer) p.text = read_text_page(src, page_no);
}

void vlm_prepare(const VlmEngine& e, const VlmOptions& o, VlmPage& p) {
  vision::PreprocessOptions po;
  po.skip_step1 = p.model_image_is_step1;
  vision::preprocess_image(p.model_image, e.processor(), po, p.tiles);
  p.model_image = Image();  // the tiles hold what the model needs
  const std::string instr = o.prompt.empty() ? vision::instruction(vision::Task::ConvertPage) : o.prompt;
  p.prompt = e.prompts().build(instr, p.tiles.rows, p.tiles.cols);
}

void vlm_encode(const VlmEngine& e, VlmPage& p) {
  p.features = vision::encode_tiles_dedup(e.model(), p.tiles.pixels.data(), p.tiles.n_tiles);
  p.tiles = vision::PixelTiles();
}

vision::GenerateOptions vlm_begin_generate(const VlmEngine& e, const VlmOptions& o, VlmPage& p,
                                           const std::function<bool()>& cancelled) {
  DocTagsParseOptions po;
  po.embed_page_images = o.embed_page_images;
  po.picture_images = o.picture_images;
  p.doc = Document();
  p.parser = std::make_unique<DocTagsParser>(p.doc, po);
  p.parser->begin_page(p.page_image.empty() ? nullptr : &p.page_image, p.page_size);
  p.text_decoder = std::make_unique<vision::IncrementalDecoder>(e.tokenizer());
  p.doctags.clear();

  vision::GenerateOptions g = e.model().default_options();
  g.max_new_tokens = o.max_new_tokens;
  g.loop.enabled = o.loop_guard;
  VlmPage* page = &p;
  g.on_token = [page](int32_t id) {
    std::string piece = page->text_decoder->push(id);
    page->doctags += piece;
    page->parser->feed(piece);
    page->watch.after_token(page->doc, page->fed++);
  };
  bool guard = o.loop_guard;
  g.stop_when = [page, guard, cancelled](const std::vector<int32_t>&) {
    return page->parser->ended() || (guard && page->parser->loop_detected()) || (cancelled && cancelled());
  };
  return g;
}

void vlm_end_generate(const VlmOptions& o, VlmPage& p, vision::GenerateResult r,
                      const std::function<bool()>& cancelled) {
  std::string rest = p.text_decoder->flush();
  p.doctags += rest;
  p.parser->feed(rest);
  p.parser->finish();
  p.watch.after_token(p.doc, p.fed ? p.fed - 1 : 0);  // items the end of the page closed
  p.features = std::vector<float>();
  p.tokens = std::move(r.tokens);
  p.logprobs = std::move(r.logprobs);
  p.confidence = annotate_confidence(p.doc, p.logprobs, p.watch.spans());
  p.stop = r.stop;
  if (!r.warning.empty()) p.warnings.push_back(r.warning);
  if (r.stop == vision::StopReason::MaxTokens)
    p.warnings.push_back("generation reached the token limit (" + std::to_string(o.max_new_tokens) +
                         "); the page may be incomplete");
  if (p.parser->loop_detected()) p.warnings.push_back("the model repeated an element; repeats were dropped");
  for (const ParseWarning& w : p.parser->warnings())
    if (w.kind == WarningKind::Truncated || w.kind == WarningKind::Suppressed)
      p.warnings.push_back("DocTags: " + w.message);
  p.parser.reset();
  p.text_decoder.reset();
  if (o.force_backend_text && p.text && !p.page_image.empty()) {
    const Size& page = p.doc.pages.front().size;  // as the parser set it (page_size or the image's)
    double sx = p.text->width / page.width, sy = p.text->height / page.height;
    replace_with_text_layer(p.doc, *p.text, sx, sy);
  } else if (o.check_text_layer && p.text && !p.doc.pages.empty()) {
    const Size& page = p.doc.pages.front().size;
    p.layer_check = check_text_layer(p.doc, *p.text, p.text->width / page.width, p.text->height / page.height,
                                     o.text_layer_threshold);
  }
  p.ok = !(cancelled && cancelled());
}

int replace_with_text_layer(Document& doc, const TextPage& text, double sx, double sy) {
  int n = 0;
  for (TextItem& t : doc.texts) {
    if (t.prov.empty()) continue;
    const BoundingBox& b = t.prov.front().bbox;
    BoundingBox tl = b.origin == CoordOrigin::TopLeft ? b : b.to_top_left(doc.pages.empty() ? 0 : doc.pages.front().size.height);
    std::string s = text_in_rect(text, tl.l * sx, tl.t * sy, tl.r * sx, tl.b * sy);
    if (s.empty()) continue;
    t.text = t.orig = s;
    ++n;
  }
  return n;
}

}  // namespace docling
