// docling-cpp generate: the model's raw output for one page.
#include <cstdio>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace dcli {

namespace {

struct Flags {
  std::string image, prompt, max_new_tokens, page;
  bool print_ids = false, no_loop_guard = false;
  EngineFlags engine;
};

void add_flags(CLI::App& app, Flags& f) {
  setup_app(app, "usage: docling-cpp generate --image PAGE.png|PAGE.jpg|FILE.pdf [options]",
            "Runs granite-docling on one page and prints the generated text with special tokens\n"
            "(the raw DocTags). A PDF page is rendered at 144 dpi as docling does; an image is used\n"
            "as it is.");
  app.add_option("--image", f.image, "the page: a PNG/JPEG image or a PDF (required)")->type_name("FILE");
  add_engine_flags(app, f.engine, false);
  app.add_option("--prompt", f.prompt,
                 "instruction (default: \"Convert this page to docling.\"), or one of\n"
                 "\"Convert table to OTSL.\", \"Convert formula to LaTeX.\",\n"
                 "\"Convert code to text.\", \"Convert chart to table.\",\n"
                 "\"OCR the text in a specific location: <loc_x0><loc_y0><loc_x1><loc_y1>\",\n"
                 "\"Identify element at: <loc_x0><loc_y0><loc_x1><loc_y1>\" (an image only)")
      ->type_name("TEXT");
  app.add_option("--max-new-tokens", f.max_new_tokens, "token limit (default: 8192)")->type_name("N");
  app.add_flag("--print-ids", f.print_ids, "print the generated token ids first, on one line");
  app.add_option("--page", f.page, "page of a PDF (default: 1)")->type_name("N");
  app.add_flag("--no-loop-guard", f.no_loop_guard, "do not stop output that repeats itself");
  app.footer(kEnvironmentHelp);
}

// What the prompt asks: nothing (the whole page) or one of the model's instructions.
struct Task {
  std::optional<docling::Instruction> instruction;
  std::optional<docling::Box> loc;  // in DocTags units, 0..500
};

// "<loc_a><loc_b><loc_c><loc_d>" at the end of `s`.
std::optional<docling::Box> loc_box(const std::string& s) {
  int v[4];
  size_t at = 0;
  for (int& x : v) {
    if (s.compare(at, 5, "<loc_") != 0) return std::nullopt;
    size_t end = s.find('>', at);
    if (end == std::string::npos) return std::nullopt;
    x = int(whole_number("prompt's <loc_>", s.substr(at + 5, end - at - 5), 0, 500));
    at = end + 1;
  }
  if (at != s.size()) return std::nullopt;
  return docling::Box{double(v[0]), double(v[1]), double(v[2]), double(v[3])};
}

Task parse_prompt(const std::string& p) {
  using I = docling::Instruction;
  if (p.empty() || p == "Convert this page to docling.") return {};
  if (p == "Convert table to OTSL.") return {I::Table, {}};
  if (p == "Convert formula to LaTeX.") return {I::Formula, {}};
  if (p == "Convert code to text.") return {I::Code, {}};
  if (p == "Convert chart to table.") return {I::Chart, {}};
  for (auto [prefix, what] : {std::pair{"OCR the text in a specific location: ", I::Ocr},
                              std::pair{"Identify element at: ", I::Identify}}) {
    std::string pre = prefix;
    if (p.rfind(pre, 0) != 0) continue;
    if (auto box = loc_box(p.substr(pre.size()))) return {what, box};
    throw UsageError("--prompt: '" + pre + "' wants <loc_x0><loc_y0><loc_x1><loc_y1> (0..500)");
  }
  throw UsageError("--prompt: '" + escape(p) + "' is not one of granite-docling's instructions (see --help)");
}

void print_output(const std::vector<int32_t>& tokens, bool print_ids, const std::string& doctags) {
  if (print_ids) {
    for (size_t i = 0; i < tokens.size(); ++i) std::printf(i ? " %d" : "%d", tokens[i]);
    std::printf("\n");
  }
  std::printf("%s\n", doctags.c_str());
  std::fflush(stdout);
}

// The whole page through convert(): the page's result carries the model's output.
int convert_page(const docling::Engine& engine, const Flags& f, docling::ConvertOptions c, int page) {
  std::optional<docling::PageResult> got;
  c.pipeline = docling::Pipeline::Vlm;
  c.page_images = false;
  c.pages = std::to_string(page);
  c.on_page = [&](const docling::PageResult& p) {
    if (p.page == page) got = p;
  };
  got.reset();
  docling::ConvertResult r = engine.convert(f.image, c);
  if (!got || !got->from_model) {
    for (const docling::PageMessage& e : r.errors) print_error(escape(e.message));
    if (r.errors.empty()) print_error(display(f.image) + ": page " + std::to_string(page) + ": the model gave no output");
    return kExitFailed;
  }
  print_output(got->tokens, f.print_ids, got->doctags);
  for (const std::string& w : got->warnings) print_warning(escape(w));
  return kExitOk;
}

// A region instruction on the image.
int run_instruction(const docling::Engine& engine, const Flags& f, const docling::ConvertOptions& c, const Task& t) {
  docling::PageImage image = docling::load_page_image(f.image);
  std::optional<docling::Box> region;
  if (t.loc) {  // DocTags units to pixels (the centre of the unit, so the model gets the same loc back)
    auto px = [](double v, int extent) { return (v + 0.5) / 500.0 * extent; };
    region = docling::Box{px(t.loc->left, image.width), px(t.loc->top, image.height), px(t.loc->right, image.width),
                          px(t.loc->bottom, image.height)};
  }
  docling::InstructionResult r = engine.run(image, *t.instruction, region, c);
  print_output(r.tokens, f.print_ids, r.doctags);
  for (const std::string& w : r.warnings) print_warning(escape(w));
  return kExitOk;
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  CLI::App app;
  Flags f;
  add_flags(app, f);
  if (int code = parse(app, argc, argv); code >= 0) return code;
  std::unique_ptr<docling::Engine> engine;
  docling::ConvertOptions c = docling::convert_defaults();
  Task task;
  int page = 1;
  try {
    if (f.image.empty()) throw UsageError("--image PAGE.png is required");
    docling::EngineOptions eo = engine_options(f.engine);
    eo.batch_size = 1;  // one page: one decoder cache, not a batch's worth
    if (!f.max_new_tokens.empty()) {
      c.max_new_tokens = int(whole_number("max-new-tokens", f.max_new_tokens, 1, 131072));
      eo.max_new_tokens = std::max(eo.max_new_tokens, c.max_new_tokens);
    }
    c.loop_guard = !f.no_loop_guard;
    if (!f.page.empty()) page = int(whole_number("page", f.page, 1, 1 << 20));
    task = parse_prompt(f.prompt);
    Kind kind = kind_of(f.image);
    if (kind == Kind::Image && page != 1) throw UsageError("--page: an image has one page");
    // Missing API: a PDF page rendered to a PageImage (for instructions on a PDF page).
    if (task.instruction && kind != Kind::Image)
      throw UsageError("--prompt '" + escape(f.prompt) + "' runs on a PNG/JPEG page image only");
    ModelLookup m = find_model(f.engine.model);
    if (m.found.empty()) throw UsageError(missing_model(m));
    eo.model_dir = m.found;
    engine = std::make_unique<docling::Engine>(eo);
  } catch (const UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const docling::Error& e) {
    print_error(escape(e.what()));
    return kExitUsage;
  }
  try {
    // An image is the page as it is; a PDF page is rendered as docling renders it.
    if (!task.instruction && kind_of(f.image) == Kind::Image) task.instruction = docling::Instruction::Page;
    return task.instruction ? run_instruction(*engine, f, c, task) : convert_page(*engine, f, c, page);
  } catch (const std::exception& e) {
    print_error(display(f.image) + ": " + escape(e.what()));
    return kExitFailed;
  }
}

}  // namespace dcli
