// docling-cpp convert: PDFs and page images → documents → md, json, html, doctags, text.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include <tbb/parallel_for.h>

#include "layout/page_range.h"
#include "pipeline/cli.h"
#include "pipeline/convert.h"
#include "pipeline/exports.h"
#include "pipeline/scheduler.h"
#include "pipeline/sources.h"

namespace fs = std::filesystem;

namespace docling {

namespace {

const char* kHelp =
    "usage: docling-cpp convert FILES|DIRS|- [-o OUTDIR] [--to FORMATS] [options]\n"
    "\n"
    "Converts PDFs and PNG/JPEG pages (folders are searched recursively) and writes\n"
    "OUTDIR/<relative path without extension>.{md,json,html,doctags,txt}, each file as soon\n"
    "as its document is done (atomically: a file is whole or absent).\n"
    "\n"
    "  -o, --output DIR         output folder (default: .); '-' writes one format to stdout\n"
    "  --to LIST                md,json,html,doctags,text (default: md)\n"
    "  --pipeline KIND          vlm: granite-docling on every page (default when a model is found)\n"
    "                           text: the PDF text layer only (default without a model)\n"
    "                           auto: text layer, and the model for pages without text\n"
    "  --model DIR              granite-docling-258M checkpoint folder (else $DOCLING_MODEL,\n"
    "                           else ~/.cache/docling-cpp/models/granite-docling-258M)\n"
    "  --pages LIST             pages to convert, e.g. 1-3,7\n"
    "  --password PW            password of encrypted PDFs\n"
    "  --threads N              worker threads (default: all cores)\n"
    "  --batch N                pages decoded together by the model (default: 4)\n"
    "  --weights bf16|int8      int8: weights quantized at load (less memory, slower decode)\n"
    "  --max-new-tokens N       token limit per page (default: 8192)\n"
    "  --force-backend-text     text items take the PDF's text inside the model's boxes\n"
    "  --render-direct          render pages straight at the model's input size\n"
    "  --no-loop-guard          do not stop pages that repeat themselves\n"
    "  --no-page-images         leave page images out of the document\n"
    "  --no-speculate           no draft tokens from the text layer or earlier output\n"
    "                           (drafts never change the output, they only save steps)\n"
    "  --ordered                write documents in input order\n"
    "  --strict                 exit 3 when some pages are incomplete (default: 0, with warnings)\n"
    "  -q, --quiet              no progress and no per-document lines\n"
    "  --image-mode MODE        embedded (default), placeholder, referenced\n"
    "  --page-break-placeholder T, --md-compact-tables, --doctags-minified,\n"
    "  --exclude-labels LIST    as for export\n";

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

struct Summary {
  int ok = 0, partial = 0, failed = 0, cancelled = 0, pages = 0;
};

}  // namespace

int cmd_convert(const std::vector<std::string>& argv) {
  std::vector<OptionSpec> specs = {
      {"help", false},           {"h", false},           {"o", true},           {"output", true},
      {"to", true},              {"pipeline", true},     {"model", true}, {"weights", true},       {"pages", true},
      {"password", true},        {"threads", true},      {"batch", true},       {"max-new-tokens", true},
      {"force-backend-text", false}, {"render-direct", false}, {"no-loop-guard", false},
      {"no-page-images", false}, {"no-speculate", false}, {"ordered", false}, {"strict", false},     {"q", false},          {"quiet", false}};
  for (const OptionSpec& s : export_option_specs(false)) specs.push_back(s);

  ConvertOptions opt;
  SchedulerOptions sched;
  std::vector<Format> formats;
  ExportSettings settings;
  std::string out_dir;
  std::vector<Source> sources;
  std::unique_ptr<VlmEngine> engine;
  bool quiet = false, strict = false;
  try {
    Args args(argv, specs);
    if (args.flag("help") || args.flag("h")) {
      std::fputs(kHelp, stdout);
      return kExitOk;
    }
    if (args.positional().empty()) throw ArgError("no input (PDF or image files, folders, or -)");
    formats = parse_formats(args.get_or("to", "md"));
    settings = export_settings(args, ImageMode::Embedded, false);
    out_dir = args.get("o") ? *args.get("o") : args.get_or("output", ".");
    if (out_dir == "-" && formats.size() != 1) throw ArgError("-o - writes one format; pick it with --to");
    opt.pages = args.get_or("pages", "");
    if (!opt.pages.empty()) parse_page_spans(opt.pages);  // syntax errors are usage errors
    opt.password = args.get_or("password", "");
    opt.vlm.max_new_tokens = int(args.get_int("max-new-tokens", 8192, 1, 1 << 20));
    opt.vlm.force_backend_text = args.flag("force-backend-text");
    opt.vlm.direct_render = args.flag("render-direct");
    opt.vlm.loop_guard = !args.flag("no-loop-guard");
    opt.vlm.embed_page_images = !args.flag("no-page-images");
    opt.vlm.speculate = !args.flag("no-speculate");
    sched.threads = int(args.get_int("threads", 0, 0, 1024));
    sched.batch = int(args.get_int("batch", 4, 1, 64));
    sched.ordered = args.flag("ordered");
    strict = args.flag("strict");
    if (auto w = args.get("weights"); w && *w != "bf16" && *w != "int8")
      throw ArgError("--weights: expected bf16 or int8, got '" + *w + "'");
    quiet = args.flag("q") || args.flag("quiet");
    set_threads(sched.threads);
    sources = collect_sources(args.positional(), {InputKind::Pdf, InputKind::Image});
    if (sources.empty()) throw ArgError("no PDF or image files found in the given inputs");

    // The model: required for vlm, used by auto when present, the default when found.
    std::optional<std::string> kind = args.get("pipeline");
    if (kind) opt.pipeline = parse_pipeline(*kind);
    if (!kind || opt.pipeline != PipelineKind::Text) {
      ModelSearch ms = find_model(args.get_or("model", ""));
      if (ms.found) {
        try {
          engine = VlmEngine::load(*ms.found, args.get_or("weights", ""), env_load_options());
        } catch (const std::exception& e) {
          if (opt.pipeline == PipelineKind::Vlm && kind) throw;
          print_warning(std::string("the model could not be loaded (") + e.what() + "); using the text layer");
        }
      } else if (kind && opt.pipeline == PipelineKind::Vlm) {
        throw ArgError(missing_model_message(ms));
      } else if (!quiet || args.get("model")) {
        print_warning(missing_model_message(ms) + "\nConverting from the text layer only.");
      }
      if (!kind) opt.pipeline = engine ? PipelineKind::Vlm : PipelineKind::Auto;
    }
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitUsage;
  }

  // Two inputs with the same relative name would overwrite each other: number them.
  std::set<std::string> used;
  for (Source& s : sources) {
    std::string base = s.is_stdin() ? "stdin" : s.stem.generic_string();
    std::string name = base;
    for (int k = 2; !used.insert(name).second; ++k) name = base + "-" + std::to_string(k);
    if (name != base) print_warning((s.is_stdin() ? std::string("<stdin>") : s.path.string()) + ": output renamed to " + name);
    s.stem = name;
  }

  g_interrupted.store(false);
  std::signal(SIGINT, on_sigint);
  opt.cancel = &g_interrupted;

  std::mutex mu;
  Summary sum;
  Progress progress(int(sources.size()), !quiet && isatty(STDERR_FILENO));
  auto finish = [&](const Source& src, ConvertResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    progress.clear_line();
    const std::string name = src.is_stdin() ? "<stdin>" : src.path.string();
    if (r.status != DocStatus::Failure && r.status != DocStatus::Cancelled) {
      try {
        write_outputs(r.doc, formats, settings, out_dir, src.stem);
      } catch (const std::exception& e) {
        r.status = DocStatus::Failure;
        r.errors.push_back(name + ": " + e.what());
      }
    }
    for (const std::string& e : r.errors)
      (r.status == DocStatus::Failure ? print_error : print_warning)(e);
    switch (r.status) {
      case DocStatus::Success: ++sum.ok; break;
      case DocStatus::Partial: ++sum.partial; break;
      case DocStatus::Failure: ++sum.failed; break;
      case DocStatus::Cancelled: ++sum.cancelled; break;
    }
    sum.pages += r.pages;
    if (!quiet && r.status != DocStatus::Failure)
      std::fprintf(stderr, "%s %s: %d page(s) in %.2f s\n", to_string(r.status), name.c_str(), r.pages, r.seconds);
    progress.document_done(r.pages);
  };

  double t0 = progress.elapsed();
  run_documents(sources, opt, engine.get(), sched, progress, finish);
  double secs = progress.elapsed() - t0;
  std::signal(SIGINT, SIG_DFL);

  progress.clear_line();
  std::fprintf(stderr, "docling-cpp: %zu document(s): %d succeeded, %d partial, %d failed%s (%d pages, %.1f s)\n",
               sources.size(), sum.ok, sum.partial, sum.failed,
               g_interrupted ? ", interrupted" : "", sum.pages, secs);
  if (g_interrupted) return kExitInterrupted;
  if (sum.failed) return kExitFailed;
  return sum.partial && strict ? kExitPartial : kExitOk;
}

}  // namespace docling
