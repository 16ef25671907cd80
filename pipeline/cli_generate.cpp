// docling-cpp generate: the model's raw output for one page image.
#include <cstdio>
#include <iostream>

#include "layout/pdf.h"
#include "pipeline/args.h"
#include "pipeline/cli.h"
#include "pipeline/vlm.h"

namespace docling {

namespace {

const char* kHelp =
    "usage: docling-cpp generate --image PAGE.png|PAGE.jpg|FILE.pdf [options]\n"
    "\n"
    "Runs granite-docling on one page and prints the generated text with special tokens\n"
    "(the raw DocTags), streaming. A PDF page is rendered at 144 dpi as docling does; an\n"
    "image is used as it is.\n"
    "\n"
    "  --model DIR            checkpoint folder (else $DOCLING_MODEL, else the default cache)\n"
    "  --prompt TEXT          instruction (default: \"Convert this page to docling.\"), e.g.\n"
    "                         \"Convert table to OTSL.\", \"Convert formula to LaTeX.\"\n"
    "  --weights bf16|int8    int8: weights quantized at load\n"
    "  --max-new-tokens N     token limit (default: 8192)\n"
    "  --print-ids            print the generated token ids first, on one line\n"
    "  --page N               page of a PDF (default: 1)\n"
    "  --no-loop-guard        do not stop output that repeats itself\n"
    "  --threads N            worker threads (default: all cores)\n";

}  // namespace

int cmd_generate(const std::vector<std::string>& argv) {
  std::vector<OptionSpec> specs = {{"help", false},           {"h", false},        {"model", true}, {"weights", true},
                                   {"image", true},           {"prompt", true},    {"max-new-tokens", true},
                                   {"print-ids", false},      {"page", true},      {"no-loop-guard", false},
                                   {"threads", true}};
  std::unique_ptr<VlmEngine> engine;
  VlmOptions opt;
  VlmPage page;
  bool print_ids = false;
  try {
    Args args(argv, specs);
    if (args.flag("help") || args.flag("h")) {
      std::fputs(kHelp, stdout);
      return kExitOk;
    }
    if (!args.positional().empty()) throw ArgError("unexpected argument '" + args.positional()[0] + "'");
    std::optional<std::string> image = args.get("image");
    if (!image) throw ArgError("--image PAGE.png is required");
    opt.max_new_tokens = int(args.get_int("max-new-tokens", 8192, 1, 1 << 20));
    opt.prompt = args.get_or("prompt", "");
    opt.loop_guard = !args.flag("no-loop-guard");
    opt.embed_page_images = false;
    opt.picture_images = false;
    print_ids = args.flag("print-ids");
    set_threads(int(args.get_int("threads", 0, 0, 1024)));
    int page_no = int(args.get_int("page", 1, 1, 1 << 20));

    ModelSearch ms = find_model(args.get_or("model", ""));
    if (!ms.found) throw ArgError(missing_model_message(ms));
    std::unique_ptr<PageSource> src = open_source(*image);
    if (std::string(src->mimetype()) == "application/pdf") {
      page.page_image = src->render(page_no, 72);
      page.model_image = src->render(page_no, 144);
    } else {
      if (page_no != 1) throw ArgError("--page: an image has one page");
      page.model_image = load_image(*image);
    }
    engine = VlmEngine::load(*ms.found, args.get_or("weights", ""), env_load_options());
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitUsage;
  }

  vlm_prepare(*engine, opt, page);
  vlm_encode(*engine, page);
  vision::GenerateOptions g = vlm_begin_generate(*engine, opt, page);
  if (!print_ids) {  // stream: print each piece as the page's decoder completes it
    auto feed = g.on_token;
    g.on_token = [&, feed](int32_t id) {
      size_t before = page.doctags.size();
      feed(id);
      std::fwrite(page.doctags.data() + before, 1, page.doctags.size() - before, stdout);
      std::fflush(stdout);
    };
  }
  int n_rows = page.prompt.n_tiles * engine->model().config().image_seq_len;
  size_t streamed = 0;
  vision::GenerateResult r = engine->model().generate(page.prompt.ids, page.features.data(), n_rows, g);
  if (!print_ids) streamed = page.doctags.size();
  vlm_end_generate(opt, page, std::move(r));
  if (print_ids) {
    for (size_t i = 0; i < page.tokens.size(); ++i) std::printf(i ? " %d" : "%d", page.tokens[i]);
    std::printf("\n");
  }
  std::printf("%s\n", page.doctags.c_str() + streamed);
  for (const std::string& w : page.warnings) print_warning(w);
  return kExitOk;
}

}  // namespace docling
