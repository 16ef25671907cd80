// Options every command reads: engine settings from flags and DOCLING_* variables, the
// model's folder, export options (see cli.hpp).
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace fs = std::filesystem;

namespace dcli {

const char* const kEnvironmentHelp =
    "Environment (a flag wins over its variable):\n"
    "  DOCLING_MODEL=DIR            the model folder, as --model\n"
    "  XDG_CACHE_HOME, HOME         where the default model folders are (XDG_CACHE_HOME or ~/.cache)\n"
    "  DOCLING_WEIGHTS=bf16|int8    as --weights\n"
    "  DOCLING_KV=f16|f32           as --kv-cache\n"
    "  DOCLING_ISA=scalar|avx2|avx512  as --isa\n"
    "  DOCLING_INT8_ACTIVATIONS=1   as --int8-activations\n"
    "  DOCLING_BF16_DOT=1           as --bf16-dot\n"
    "  DOCLING_AMX=0                as --no-amx\n"
    "  DOCLING_HEAD_SCREEN=0        as --no-head-screen\n"
    "  DOCLING_VISION_PRECISION=f32|bf16|int8|auto  as --vision-precision\n"
    "  DOCLING_DECODE_PRECISION=f32|bf16  as --decode-precision\n"
    "  DOCLING_KERNEL_TUNING=DIR|off  as --kernel-tuning\n"
    "  DOCLING_CHUNK_TOKENIZER=PATH as --chunk-tokenizer; HF_HOME, HF_HUB_CACHE: the Hugging Face\n"
    "                               cache searched for all-MiniLM-L6-v2\n";

std::string env_var(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::filesystem::path user_cache_dir() {
  if (std::string c = env_var("XDG_CACHE_HOME"); !c.empty()) return c;
  if (std::string h = env_var("HOME"); !h.empty()) return fs::path(h) / ".cache";
  return ".cache";
}

namespace {

// The flag's value, else the variable's; `where` says which, for messages.
std::string pick(const std::string& flag_value, const char* flag, const char* var, std::string& where) {
  if (!flag_value.empty()) {
    where = std::string("--") + flag;
    return flag_value;
  }
  where = var;
  return env_var(var);
}

[[noreturn]] void bad_value(const std::string& where, const std::string& v, const char* expected) {
  if (where.rfind("--", 0) == 0) throw UsageError(where + ": expected " + expected + ", got '" + escape(v) + "'");
  throw UsageError(where + "=" + escape(v) + ": expected " + expected);
}

}  // namespace

void add_engine_flags(CLI::App& app, EngineFlags& f, bool convert) {
  app.add_option("--model", f.model,
                 "granite-docling-258M checkpoint folder (else $DOCLING_MODEL, else\n"
                 "~/.cache/docling-cpp/models/granite-docling-258M or the Hugging Face cache)")
      ->type_name("DIR");
  app.add_option("--weights", f.weights,
                 convert ? "int8: weights quantized at load (less memory, slower decode)\n(default: bf16; $DOCLING_WEIGHTS)"
                         : "int8: weights quantized at load (default: bf16; $DOCLING_WEIGHTS)")
      ->type_name("bf16|int8");
  app.add_option("--kv-cache", f.kv_cache,
                 "decoder KV cache: f16 (default) or f32 (exact, twice the memory\nand attention traffic; $DOCLING_KV)")
      ->type_name("f16|f32");
  app.add_option("--threads", f.threads, "worker threads (default: all cores)")->type_name("N");
  if (convert) app.add_option("--batch", f.batch, "pages decoded together by the model (default: 4)")->type_name("N");
  app.add_option("--isa", f.isa,
                 "highest instruction set the kernels use: best (default), avx512,\navx2, scalar ($DOCLING_ISA)")
      ->type_name("NAME")
      ->group("Kernels");
  app.add_flag("--int8-activations", f.int8_activations,
               "AVX512-VNNI decode with 8-bit activations, for int8 weights\n($DOCLING_INT8_ACTIVATIONS=1)")
      ->group("Kernels");
  app.add_flag("--bf16-dot", f.bf16_dot,
               "AVX512-BF16 products (rounds activations to bf16; slower on the\nCPUs measured; $DOCLING_BF16_DOT=1)")
      ->group("Kernels");
  app.add_flag("--no-head-screen", f.no_head_screen,
               "decode steps take the full output head instead of its int8 screen\n"
               "(the same tokens; log-probabilities exact instead of within 1e-2;\n58 MB less memory; $DOCLING_HEAD_SCREEN=0)")
      ->group("Kernels");
  app.add_flag("--no-amx", f.no_amx,
               "keep products off the AMX tiles: bf16 ones on vdpbf16ps, the f32\nprefill on FMA ($DOCLING_AMX=0)")
      ->group("Kernels");
  app.add_option("--vision-precision", f.vision_precision,
                 "vision encoder products: f32 (exact), bf16 (AVX512-BF16 or AMX),\nint8, "
                 "or auto (default: the fastest within the accuracy budget on this\nCPU; $DOCLING_VISION_PRECISION)")
      ->type_name("f32|bf16|int8|auto")
      ->group("Kernels");
  app.add_option("--decode-precision", f.decode_precision,
                 "decoder products in decode steps: f32 (default, exact) or bf16\n"
                 "(AVX512-BF16: faster, 99.1% greedy agreement measured; $DOCLING_DECODE_PRECISION)")
      ->type_name("f32|bf16")
      ->group("Kernels");
  app.add_option("--kernel-tuning", f.kernel_tuning,
                 "folder where the decoder's kernel block sizes, measured for this CPU\n"
                 "on first use (about a second), are kept; off: the built-in table\n"
                 "(default: ~/.cache/docling-cpp/kernels; $DOCLING_KERNEL_TUNING)")
      ->type_name("DIR|off")
      ->group("Kernels");
}

docling::EngineOptions engine_options(const EngineFlags& f) {
  docling::EngineOptions o = docling::engine_defaults();
  std::string where;
  std::string w = pick(f.weights, "weights", "DOCLING_WEIGHTS", where);
  if (w == "int8") o.weights = docling::Weights::Int8;
  else if (w.empty() || w == "bf16") o.weights = docling::Weights::Bf16;
  else bad_value(where, w, "bf16 or int8");

  std::string kv = pick(f.kv_cache, "kv-cache", "DOCLING_KV", where);
  if (kv == "f32") o.kv_cache = docling::KvCache::F32;
  else if (kv.empty() || kv == "f16") o.kv_cache = docling::KvCache::F16;
  else bad_value(where, kv, "f16 or f32");

  std::string isa = pick(f.isa, "isa", "DOCLING_ISA", where);
  if (isa.empty() || isa == "best") o.max_isa = docling::Isa::Best;
  else if (isa == "avx512") o.max_isa = docling::Isa::Avx512;
  else if (isa == "avx2") o.max_isa = docling::Isa::Avx2;
  else if (isa == "scalar") o.max_isa = docling::Isa::Scalar;
  else bad_value(where, isa, "best, avx512, avx2 or scalar");

  std::string vp = pick(f.vision_precision, "vision-precision", "DOCLING_VISION_PRECISION", where);
  if (vp.empty() || vp == "auto") o.vision_precision = docling::VisionPrecision::Auto;
  else if (vp == "f32") o.vision_precision = docling::VisionPrecision::F32;
  else if (vp == "bf16") o.vision_precision = docling::VisionPrecision::Bf16;
  else if (vp == "int8") o.vision_precision = docling::VisionPrecision::Int8;
  else bad_value(where, vp, "f32, bf16, int8 or auto");

  std::string dp = pick(f.decode_precision, "decode-precision", "DOCLING_DECODE_PRECISION", where);
  if (dp.empty() || dp == "f32") o.decode_precision = docling::DecodePrecision::F32;
  else if (dp == "bf16") o.decode_precision = docling::DecodePrecision::Bf16;
  else bad_value(where, dp, "f32 or bf16");

  std::string tuning = pick(f.kernel_tuning, "kernel-tuning", "DOCLING_KERNEL_TUNING", where);
  if (tuning == "off") o.kernel_tuning_dir.clear();
  else o.kernel_tuning_dir = tuning.empty() ? (user_cache_dir() / "docling-cpp" / "kernels").string() : tuning;

  o.int8_activations = f.int8_activations || env_var("DOCLING_INT8_ACTIVATIONS") == "1";
  o.bf16_dot = f.bf16_dot || env_var("DOCLING_BF16_DOT") == "1";
  o.amx = !f.no_amx && env_var("DOCLING_AMX") != "0";
  o.screen_head = !f.no_head_screen && env_var("DOCLING_HEAD_SCREEN") != "0";
  if (!f.threads.empty()) o.threads = int(whole_number("threads", f.threads, 0, 1024));
  if (!f.batch.empty()) o.batch_size = int(whole_number("batch", f.batch, 1, 64));
  return o;
}

ModelLookup find_model(const std::string& flag) {
  ModelLookup m;
  auto only = [&](const fs::path& dir) {
    m.tried.push_back(dir);
    if (docling::is_model_dir(dir)) m.found = dir.string();
    return m;
  };
  if (!flag.empty()) return only(flag);  // an explicit folder is the only one looked at
  if (std::string e = env_var("DOCLING_MODEL"); !e.empty()) return only(e);
  for (const fs::path& dir : docling::standard_model_dirs(user_cache_dir())) {
    m.tried.push_back(dir);
    if (m.found.empty() && docling::is_model_dir(dir)) m.found = dir.string();
  }
  return m;
}

namespace {

docling::Pipeline parse_pipeline(const std::string& s) {
  if (s == "vlm") return docling::Pipeline::Vlm;
  if (s == "text") return docling::Pipeline::Text;
  if (s == "auto") return docling::Pipeline::Auto;
  throw UsageError("--pipeline: expected vlm, text or auto, got '" + escape(s) + "'");
}

}  // namespace

std::unique_ptr<docling::Engine> open_engine(const std::string& flag, const EngineFlags& ef, docling::EngineOptions eo,
                                             bool quiet, bool load_must_succeed, const std::string& without_model,
                                             docling::Pipeline& pipeline) {
  bool given = !flag.empty();
  pipeline = given ? parse_pipeline(flag) : docling::Pipeline::Default;
  if (pipeline == docling::Pipeline::Text) return std::make_unique<docling::Engine>(eo);
  std::unique_ptr<docling::Engine> engine;
  ModelLookup m = find_model(ef.model);
  if (!m.found.empty()) {
    eo.model_dir = m.found;
    try {
      engine = std::make_unique<docling::Engine>(eo);
    } catch (const docling::ModelError& e) {
      if (pipeline == docling::Pipeline::Vlm || load_must_succeed) throw UsageError(escape(e.what()));
      print_warning("the model could not be loaded (" + escape(e.what()) + "); using the text layer");
    }
  } else if (pipeline == docling::Pipeline::Vlm) {
    throw UsageError(missing_model(m));
  } else if (!quiet || !ef.model.empty()) {
    print_warning(missing_model(m) + "\n" + without_model);
  }
  if (!engine) {
    eo.model_dir.clear();
    engine = std::make_unique<docling::Engine>(eo);
  }
  if (!given) pipeline = engine->has_model() ? docling::Pipeline::Vlm : docling::Pipeline::Auto;
  return engine;
}

std::string missing_model(const ModelLookup& m) {
  std::vector<fs::path> shown;  // the folders as messages show names
  for (const fs::path& p : m.tried) shown.emplace_back(display(p));
  return docling::missing_model_message(shown) +
         "\nPass the folder with --model DIR or set DOCLING_MODEL=DIR (the first default folder above\n"
         "needs neither).";
}

void add_export_flags(CLI::App& app, ExportFlags& f, bool with_pages, const char* default_mode) {
  const char* g = "Export";
  app.add_option("--image-mode", f.image_mode,
                 std::string("pictures as placeholder, embedded (data: URIs) or referenced\n"
                             "(files in OUTDIR/<name>_artifacts/); default: ") + default_mode)
      ->type_name("MODE")
      ->group(g);
  f.page_break_given =
      app.add_option("--page-break-placeholder", f.page_break, "text between pages in Markdown/text")
          ->type_name("TEXT")
          ->group(g);
  if (with_pages)
    app.add_option("--pages", f.pages, "only these pages, e.g. 1,3-5")->type_name("LIST")->group(g);
  app.add_flag("--md-compact-tables", f.md_compact_tables, "Markdown tables without padding")->group(g);
  app.add_flag("--doctags-minified", f.doctags_minified, "DocTags without newlines between elements")->group(g);
  app.add_flag("--html-split-page", f.html_split_page,
               "HTML as a layout view: each page image with the items' boxes and labels\nbeside that page's content")
      ->group(g);
  app.add_option("--exclude-labels", f.exclude_labels,
                 "leave out items with these labels (e.g. picture,page_header);\nmay be repeated")
      ->type_name("LIST")
      ->allow_extra_args(false)
      ->group(g);
  add_chunk_flags(app, f.chunks);
}

docling::ExportOptions export_options(const ExportFlags& f, docling::ImageMode default_mode) {
  docling::ExportOptions o = docling::export_defaults();
  o.image_mode = default_mode;
  if (f.image_mode == "placeholder") o.image_mode = docling::ImageMode::Placeholder;
  else if (f.image_mode == "embedded") o.image_mode = docling::ImageMode::Embedded;
  else if (f.image_mode == "referenced") o.image_mode = docling::ImageMode::Referenced;
  else if (!f.image_mode.empty())
    throw UsageError("--image-mode: expected placeholder, embedded or referenced, got '" + escape(f.image_mode) + "'");
  if (f.page_break_given && f.page_break_given->count() > 0) o.page_break_placeholder = f.page_break;
  o.md_compact_tables = f.md_compact_tables;
  o.doctags_minified = f.doctags_minified;
  o.html_split_page = f.html_split_page;
  for (const std::string& list : f.exclude_labels) {
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = std::min(list.find(',', start), list.size());
      std::string name = list.substr(start, end - start);
      name.erase(0, name.find_first_not_of(' '));
      name.erase(name.find_last_not_of(' ') + 1);
      if (!name.empty()) o.excluded_labels.push_back(name);
      start = end + 1;
    }
  }
  // The library checks label names when it exports: an empty document says now.
  try {
    docling::ExportOptions probe = o;
    probe.image_mode = docling::ImageMode::Placeholder;
    (void)docling::DoclingDocument().export_to(docling::Format::Markdown, probe);
  } catch (const docling::InvalidArgumentError& e) {
    throw UsageError(std::string("--exclude-labels: ") + e.what());
  }
  o.chunks = chunk_options(f.chunks);
  return o;
}

void write_stdout(const docling::DoclingDocument& doc, docling::Format f, const docling::ExportOptions& o) {
  std::string text = doc.export_to(f, o);
  bool lines = f == docling::Format::Chunks;  // JSON lines: an empty document is an empty stream
  std::cout << text << (!lines && (text.empty() || text.back() != '\n') ? "\n" : "");
  std::cout.flush();
}

}  // namespace dcli
