// docling-cpp convert: PDFs and page images → documents → md, json, html, doctags, text.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace fs = std::filesystem;

namespace dcli {

namespace {

struct Flags {
  std::vector<std::string> inputs;
  std::string output = ".", to = "md", pipeline, pages, password, max_new_tokens, max_input;
  bool force_backend_text = false, render_direct = false, no_loop_guard = false, no_page_images = false,
       no_speculate = false, ordered = false, strict = false, quiet = false;
  EngineFlags engine;
  ExportFlags exports;
};

void add_flags(CLI::App& app, Flags& f) {
  setup_app(app, "usage: docling-cpp convert FILES|DIRS|- [-o OUTDIR] [--to FORMATS] [options]",
            "Converts PDFs and PNG/JPEG pages (folders are searched recursively) and writes\n"
            "OUTDIR/<relative path without extension>.{md,json,html,doctags,txt}, each file as soon\n"
            "as its document is done (atomically: a file is whole or absent). '-' reads stdin.");
  app.add_option("inputs", f.inputs, "PDF and PNG/JPEG files, folders, or - for stdin")->type_name("FILES|DIRS|-");
  app.add_option("-o,--output", f.output, "output folder (default: .); '-' writes one format to stdout")
      ->type_name("DIR");
  app.add_option("--to", f.to, "md,json,html,doctags,text (default: md)")->type_name("LIST");
  app.add_option("--pipeline", f.pipeline,
                 "vlm: granite-docling on every page (default when a model is found)\n"
                 "text: the PDF text layer only (default without a model)\n"
                 "auto: text layer, and the model for pages without text")
      ->type_name("KIND");
  app.add_option("--pages", f.pages, "pages to convert, e.g. 1-3,7")->type_name("LIST");
  app.add_option("--password", f.password, "password of encrypted PDFs")->type_name("PW");
  add_engine_flags(app, f.engine, true);
  app.add_option("--max-new-tokens", f.max_new_tokens, "token limit per page (default: 8192)")->type_name("N");
  add_max_input_flag(app, f.max_input);
  app.add_flag("--force-backend-text", f.force_backend_text, "text items take the PDF's text inside the model's boxes");
  app.add_flag("--render-direct", f.render_direct, "render pages straight at the model's input size");
  app.add_flag("--no-loop-guard", f.no_loop_guard, "do not stop pages that repeat themselves");
  app.add_flag("--no-page-images", f.no_page_images, "leave page images out of the document");
  app.add_flag("--no-speculate", f.no_speculate,
               "no draft tokens from the text layer or earlier output\n"
               "(drafts never change the output, they only save steps)");
  app.add_flag("--ordered", f.ordered, "write documents in input order");
  app.add_flag("--strict", f.strict, "exit 3 when some pages are incomplete (default: 0, with warnings)");
  app.add_flag("-q,--quiet", f.quiet, "no progress and no per-document lines");
  add_export_flags(app, f.exports, false, "embedded");
  app.footer(std::string(kEnvironmentHelp) +
             "\nExit codes: 0 all written (incomplete pages are warned about), 1 some inputs failed,\n"
             "2 usage or setup error, 3 (--strict) some pages incomplete, 130 interrupted (SIGINT or\n"
             "SIGTERM: finished documents stay written; a second signal ends at once).\n");
}

// Everything a run needs, checked before any document is touched.
struct Setup {
  std::vector<docling::Format> formats;
  docling::ExportOptions exports;
  docling::ConvertOptions convert = docling::convert_defaults();
  std::vector<Source> sources;
  std::unique_ptr<docling::Engine> engine;
};

docling::Pipeline parse_pipeline(const std::string& s) {
  if (s == "vlm") return docling::Pipeline::Vlm;
  if (s == "text") return docling::Pipeline::Text;
  if (s == "auto") return docling::Pipeline::Auto;
  throw UsageError("--pipeline: expected vlm, text or auto, got '" + escape(s) + "'");
}

// The engine: with the model when vlm needs it, auto can use it, or the default finds it.
std::unique_ptr<docling::Engine> make_engine(const Flags& f, docling::EngineOptions eo, docling::Pipeline& pipeline) {
  bool given = !f.pipeline.empty();
  if (given && pipeline == docling::Pipeline::Text) return std::make_unique<docling::Engine>(eo);
  std::unique_ptr<docling::Engine> engine;
  ModelLookup m = find_model(f.engine.model);
  if (!m.found.empty()) {
    eo.model_dir = m.found;
    try {
      engine = std::make_unique<docling::Engine>(eo);
    } catch (const docling::ModelError& e) {
      if (pipeline == docling::Pipeline::Vlm && given) throw UsageError(escape(e.what()));
      print_warning("the model could not be loaded (" + escape(e.what()) + "); using the text layer");
    }
  } else if (given && pipeline == docling::Pipeline::Vlm) {
    throw UsageError(missing_model(m));
  } else if (!f.quiet || !f.engine.model.empty()) {
    print_warning(missing_model(m) + "\nConverting from the text layer only.");
  }
  if (!engine) {
    eo.model_dir.clear();
    engine = std::make_unique<docling::Engine>(eo);
  }
  if (!given) pipeline = engine->has_model() ? docling::Pipeline::Vlm : docling::Pipeline::Auto;
  return engine;
}

Setup setup(const Flags& f) {
  Setup s;
  if (f.inputs.empty()) throw UsageError("no input (PDF or image files, folders, or -)");
  try {
    s.formats = docling::parse_formats(f.to);
  } catch (const docling::InvalidArgumentError& e) {
    throw UsageError(std::string("--to: ") + e.what());
  }
  s.exports = export_options(f.exports, docling::ImageMode::Embedded);
  if (f.output == "-" && s.formats.size() != 1) throw UsageError("-o - writes one format; pick it with --to");
  docling::ConvertOptions& c = s.convert;
  if (!f.pages.empty()) parse_page_list(f.pages);  // syntax errors are usage errors
  c.pages = f.pages;
  c.password = f.password;
  docling::EngineOptions eo = engine_options(f.engine);
  if (!f.max_new_tokens.empty()) {
    c.max_new_tokens = int(whole_number("max-new-tokens", f.max_new_tokens, 1, 131072));
    eo.max_new_tokens = std::max(c.max_new_tokens, eo.max_new_tokens);
  }
  c.force_backend_text = f.force_backend_text;
  c.render_direct = f.render_direct;
  c.loop_guard = !f.no_loop_guard;
  c.page_images = !f.no_page_images;
  c.speculate = !f.no_speculate;
  c.limits.max_input_bytes = max_input_bytes(f.max_input);
  s.sources = collect_sources(f.inputs, {Kind::Pdf, Kind::Image});
  if (s.sources.empty()) throw UsageError("no PDF or image files found in the given inputs");
  c.pipeline = f.pipeline.empty() ? docling::Pipeline::Default : parse_pipeline(f.pipeline);
  s.engine = make_engine(f, eo, c.pipeline);
  return s;
}

struct Summary {
  int ok = 0, partial = 0, failed = 0, cancelled = 0, pages = 0;
};

}  // namespace

int cmd_convert(int argc, char** argv) {
  CLI::App app;
  Flags f;
  add_flags(app, f);
  if (int code = parse(app, argc, argv); code >= 0) return code;
  Setup s;
  try {
    s = setup(f);
  } catch (const UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const docling::Error& e) {  // options out of range, a model that does not load
    print_error(escape(e.what()));
    return kExitUsage;
  }
  rename_duplicates(s.sources);
  if (f.output != "-") remove_stale_temporaries(f.output, s.sources);

  Summary sum;
  std::vector<docling::Input> inputs;
  std::vector<size_t> source_of;  // inputs[k] is s.sources[source_of[k]]
  for (size_t i = 0; i < s.sources.size(); ++i) {
    docling::Input in;
    if (!s.sources[i].is_stdin()) {
      in.path = s.sources[i].path;
    } else {  // the CLI reads stdin; the library gets bytes (named "stdin": its document's name)
      in.path = "stdin";
      try {
        in.bytes = read_stdin(s.convert.limits.max_input_bytes);
      } catch (const std::exception& e) {
        print_error(s.sources[i].name() + ": " + e.what());
        ++sum.failed;
        continue;
      }
    }
    inputs.push_back(std::move(in));
    source_of.push_back(i);
  }

  docling::CancelToken cancel;
  s.convert.cancel = &cancel;
  docling::BatchOptions batch;
  batch.ordered = f.ordered;
  std::mutex mu;
  Progress progress(int(s.sources.size()), !f.quiet && isatty(STDERR_FILENO));
  auto done = [&](size_t k, docling::ConvertResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    const Source& src = s.sources[source_of[k]];
    progress.clear_line();
    std::vector<docling::PageMessage> errors = std::move(r.errors);
    if (r.status == docling::Status::Success || r.status == docling::Status::Partial) {
      try {
        if (f.output == "-") write_stdout(r.document, s.formats.front(), s.exports);
        else {
          check_output_name(f.output, src.stem);
          r.document.save(f.output, src.stem, s.formats, s.exports);
        }
      } catch (const std::exception& e) {
        r.status = docling::Status::Failure;
        errors.push_back({0, src.name() + ": " + escape(e.what())});
      }
    }
    for (const docling::PageMessage& e : errors)
      (r.status == docling::Status::Failure ? print_error : print_warning)(escape(e.message));
    switch (r.status) {
      case docling::Status::Success: ++sum.ok; break;
      case docling::Status::Partial: ++sum.partial; break;
      case docling::Status::Failure: ++sum.failed; break;
      case docling::Status::Cancelled: ++sum.cancelled; break;
    }
    sum.pages += r.pages;
    if (!f.quiet && r.status != docling::Status::Failure)
      std::fprintf(stderr, "%s %s: %d page(s) in %.2f s\n", docling::to_string(r.status), src.name().c_str(), r.pages,
                   r.timings.total_s);
    progress.document_done(r.pages);
  };

  double t0 = progress.elapsed();
  bool interrupted = false;
  {
    SignalScope signals(cancel);
    try {
      s.engine->convert_all(inputs, s.convert, batch, done);
    } catch (const docling::Error& e) {
      print_error(escape(e.what()));
      return kExitUsage;
    }
    interrupted = signals.signalled();
  }
  double secs = progress.elapsed() - t0;
  progress.clear_line();
  std::fprintf(stderr, "docling-cpp: %zu document(s): %d succeeded, %d partial, %d failed%s (%d pages, %.1f s)\n",
               s.sources.size(), sum.ok, sum.partial, sum.failed, interrupted ? ", interrupted" : "", sum.pages, secs);
  if (interrupted) return kExitInterrupted;
  if (sum.failed) return kExitFailed;
  return sum.partial && f.strict ? kExitPartial : kExitOk;
}

}  // namespace dcli
