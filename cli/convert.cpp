// docling-cpp convert: PDFs and page images → documents → md, json, html, doctags, text.
//
// A batch keeps a ledger in the output folder (ledger.hpp): each finished document gets a line
// after its files are renamed into place, and a rerun skips what a ledger already lists with
// the same bytes and settings, so a run killed at any moment is finished by running it again.
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "ledger.hpp"
#include "shard.hpp"
#include "supervisor.hpp"

namespace fs = std::filesystem;

namespace dcli {

namespace {

struct Flags {
  std::vector<std::string> inputs;
  std::string output = ".", to = "md", pipeline, pages, password, max_new_tokens, max_input, max_inflated;
  std::string coord_origin, page_images_dpi;
  bool force_backend_text = false, render_direct = false, no_loop_guard = false, no_page_images = false,
       no_speculate = false, ordered = false, strict = false, quiet = false, no_text_layer_check = false;
  EngineFlags engine;
  ExportFlags exports;
  // Archives: the ledger, resuming, shards, progress for schedulers.
  bool resume = false, no_resume = false, redo_failed = false, dry_run = false;
  std::string from_list, shard, shards, progress_json;
  // Bad input: the worker process, its limits (supervisor.hpp).
  bool no_isolation = false;
  std::string page_timeout, max_memory;
  int worker_fd = -1;             // hidden: this process is the supervisor's worker
  std::vector<std::string> only;  // hidden: convert only these inputs (ledger keys)
  std::string this_run_from;      // hidden: this run's ledger lines start at this byte
};

void add_isolation_flags(CLI::App& app, Flags& f) {
  const char* g = "Bad input and limits";
  app.add_option("--page-timeout", f.page_timeout,
                 "a document whose page makes no progress for SECONDS fails with that page\n"
                 "named, and the batch goes on (default: 60; 1800 with the model; 0: none)")
      ->type_name("SECONDS")->group(g);
  app.add_option("--max-memory", f.max_memory,
                 "the conversion's resident memory cap: over it, the document in progress\n"
                 "fails and the batch goes on (default: 3/4 of the machine's memory; 0: none)")
      ->type_name("MB")->group(g);
  app.add_flag("--no-isolation", f.no_isolation,
               "convert in this process (default: a worker process, so a crash or a limit\n"
               "fails one document, not the batch; the limits need the worker)")->group(g);
  app.add_option("--isolation-worker", f.worker_fd)->group("");
  app.add_option("--isolation-only", f.only)->group("");
  app.add_option("--isolation-from", f.this_run_from)->group("");
}

void add_batch_flags(CLI::App& app, Flags& f) {
  const char* g = "Batches and archives";
  app.add_option("--from-list", f.from_list, "convert the files named in FILE, one a line ('-': stdin)")
      ->type_name("FILE")->group(g);
  app.add_flag("--resume", f.resume,
               "skip documents the output folder's ledger lists with the same bytes and\n"
               "settings (the default: a rerun finishes an interrupted batch)")->group(g);
  app.add_flag("--no-resume", f.no_resume, "convert every document again, whatever the ledger says")->group(g);
  app.add_flag("--redo-failed", f.redo_failed, "convert only the documents the ledger lists as failed")->group(g);
  app.add_option("--shard", f.shard,
                 "convert shard I of N (0-based; a stable hash of each input's path);\n"
                 "default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX")->type_name("I/N")->group(g);
  app.add_option("--shards", f.shards, "the number of shards of a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)")
      ->type_name("N")->group(g);
  app.add_option("--progress-json", f.progress_json,
                 "rewrite FILE (atomically, every 2 s and at the end) with the batch's progress")
      ->type_name("FILE")->group(g);
  app.add_flag("--dry-run", f.dry_run, "print the inputs this run would convert (after shard and ledger), one a line")
      ->group(g);
}

void add_flags(CLI::App& app, Flags& f) {
  setup_app(app, "usage: docling-cpp convert FILES|DIRS|- [-o OUTDIR] [--to FORMATS] [options]",
            "Converts PDFs and PNG/JPEG pages (folders are searched recursively) and writes\n"
            "OUTDIR/<relative path without extension>.{md,json,html,doctags,txt}, each file as soon\n"
            "as its document is done (atomically: a file is whole or absent). '-' reads stdin.\n"
            "OUTDIR/docling-cpp.ledger.jsonl records each finished document; a rerun skips those.");
  app.add_option("inputs", f.inputs, "PDF and PNG/JPEG files, folders, or - for stdin")->type_name("FILES|DIRS|-");
  app.add_option("-o,--output", f.output, "output folder (default: .); '-' writes one format to stdout")
      ->type_name("DIR");
  app.add_option("--to", f.to, "md,json,html,doctags,text,chunks (default: md)")->type_name("LIST");
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
  app.add_option("--max-inflated-mb", f.max_inflated,
                 "refuse a PDF with a compressed stream that inflates past N MiB\n"
                 "(a decompression bomb; default 512, 0: no check)")->type_name("N");
  app.add_flag("--force-backend-text", f.force_backend_text, "text items take the PDF's text inside the model's boxes");
  app.add_flag("--render-direct", f.render_direct, "render pages straight at the model's input size");
  app.add_flag("--no-loop-guard", f.no_loop_guard, "do not stop pages that repeat themselves");
  app.add_flag("--no-page-images", f.no_page_images, "leave page images out of the document");
  app.add_option("--page-images", f.page_images_dpi,
                 "every page's image (text-layer pages too) at DPI in the document; written\n"
                 "as files with --image-mode referenced (default: model pages at 72 dpi)")
      ->type_name("DPI");
  app.add_option("--coord-origin", f.coord_origin,
                 "bottomleft or topleft: every box in that origin (default: as docling, text-layer\n"
                 "pages bottom-left with top-left table cells, model pages top-left)")
      ->type_name("ORIGIN");
  app.add_flag("--no-text-layer-check", f.no_text_layer_check,
               "do not compare the model's text items with the PDF's text layer");
  app.add_flag("--no-speculate", f.no_speculate,
               "no draft tokens from the text layer or earlier output\n"
               "(drafts never change the output, they only save steps)");
  app.add_flag("--ordered", f.ordered, "write documents in input order");
  app.add_flag("--strict", f.strict, "exit 3 when some pages are incomplete (default: 0, with warnings)");
  app.add_flag("-q,--quiet", f.quiet, "no progress and no per-document lines");
  add_export_flags(app, f.exports, false, "embedded");
  add_batch_flags(app, f);
  add_isolation_flags(app, f);
  app.footer(std::string(kEnvironmentHelp) +
             "  SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT (or _MIN, _MAX)   the shard, as --shard\n"
             "  JOB_COMPLETION_INDEX         the shard of a Kubernetes Indexed Job (with --shards N)\n"
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
  Shard shard;
  std::string settings;  // settings_hash()
};

// The model as its bytes define it, not by where it lies (each node of a cluster may keep its
// own copy): the config's hash and the weights' size.
std::string model_identity(const std::string& dir) {
  if (dir.empty()) return "none";
  std::error_code ec;
  uint64_t weights = fs::file_size(fs::path(dir) / "model.safetensors", ec);
  std::string config;
  try {
    config = sha256_file(fs::path(dir) / "config.json", uint64_t(1) << 24, nullptr);
  } catch (const std::exception&) {
    config = "?";
  }
  return config + "/" + std::to_string(ec ? 0 : weights);
}

// Every setting that can change a document's output bytes or its outcome, one per line. Not
// here, on purpose: threads, batch size and drafts (the output is the same by design; the
// tests check it), the password itself (only whether one was given: a hash of it would be a
// way to guess it). A new option that changes outputs belongs here.
std::string settings_text(const Setup& s) {
  const docling::ConvertOptions& c = s.convert;
  const docling::EngineOptions& e = s.engine->options();
  const docling::ExportOptions& x = s.exports;
  std::ostringstream o;
  o << "version=" << docling::version() << "\nformats=";
  for (docling::Format fm : s.formats) o << docling::extension(fm) << ",";
  o << "\npipeline=" << int(c.pipeline) << "\nmodel=" << model_identity(e.model_dir) << "\nweights=" << int(e.weights)
    << "\nkv=" << int(e.kv_cache) << "\nisa=" << int(e.max_isa) << "\nint8_activations=" << e.int8_activations
    << "\nbf16_dot=" << e.bf16_dot << "\npages=" << c.pages << "\npassword=" << !c.password.empty()
    << "\nvision_precision=" << int(e.vision_precision)  // Engine::options() holds the resolved precision
    << (e.decode_precision == docling::DecodePrecision::F32 ? "" : "\ndecode_precision=bf16")  // older ledgers stay valid
    << (e.amx ? "" : "\namx=0") << (e.screen_head ? "" : "\nhead_screen=0")  // log-probabilities in the JSON
    << "\nmax_new_tokens=" << c.max_new_tokens << "\nforce_backend_text=" << c.force_backend_text
    << "\nrender_direct=" << c.render_direct << "\nloop_guard=" << c.loop_guard << "\npage_images=" << c.page_images
    << "\nmax_input_bytes=" << c.limits.max_input_bytes << "\nmax_side=" << c.limits.max_side
    << "\nmax_pixels=" << c.limits.max_pixels << "\nmax_inflated_bytes=" << c.limits.max_inflated_bytes << "\nimage_mode=" << int(x.image_mode)
    << "\npage_break=" << (x.page_break_placeholder ? "1:" + *x.page_break_placeholder : "0")
    << "\nmd_compact_tables=" << x.md_compact_tables << "\ndoctags_minified=" << x.doctags_minified
    << "\nbox_origin=" << int(c.box_origin) << "\npage_image_dpi=" << c.page_image_dpi
    << "\ncheck_text_layer=" << c.check_text_layer << "\nhtml_split_page=" << x.html_split_page
    << "\nexcluded_labels=";
  for (const std::string& l : x.excluded_labels) o << l << ",";
  const docling::ChunkOptions& k = x.chunks;
  o << "\nchunks=" << int(k.chunker) << "," << k.tokenizer << "," << k.max_tokens << ","
    << k.merge_peers << k.repeat_table_header << k.omit_header_on_overflow << k.always_emit_headings
    << k.merge_list_items << "," << int(k.table_format) << "," << int(k.item_format) << ",[" << k.delim << "]";
  o << "\n";
  return o.str();
}

Shard pick_shard(const Flags& f) {
  try {
    int shards = f.shards.empty() ? 0 : int(whole_number("shards", f.shards, 1, 1000000));
    if (!f.shard.empty()) return parse_shard(f.shard);
    std::optional<Shard> env = shard_from_environment([](const char* n) { return std::getenv(n); }, shards);
    if (!env && shards) throw UsageError("--shards is for JOB_COMPLETION_INDEX, which is not set (or give --shard I/N)");
    return env.value_or(Shard{});
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

std::vector<Source> gather(const Flags& f) {
  if (f.inputs.empty() && f.from_list.empty()) throw UsageError("no input (PDF or image files, folders, or -)");
  std::vector<Source> all = collect_sources(f.inputs, {Kind::Pdf, Kind::Image});
  if (!f.from_list.empty()) {
    if (f.from_list == "-" && std::find(f.inputs.begin(), f.inputs.end(), "-") != f.inputs.end())
      throw UsageError("stdin cannot hold both a document and --from-list");
    std::vector<Source> listed = list_sources(f.from_list);
    all.insert(all.end(), listed.begin(), listed.end());
  }
  if (all.empty()) throw UsageError("no PDF or image files found in the given inputs");
  // This shard's archive members, so their archives are read once, front to back.
  Shard shard = pick_shard(f);
  std::vector<Source> mine;
  for (const Source& s : all)
    if (!s.archive.empty() && owns(shard, json_key(s.key))) mine.push_back(s);
  expect_members(mine);
  return all;
}

Setup setup(const Flags& f) {
  Setup s;
  try {
    s.formats = docling::parse_formats(f.to);
  } catch (const docling::InvalidArgumentError& e) {
    throw UsageError(std::string("--to: ") + e.what());
  }
  s.exports = export_options(f.exports, docling::ImageMode::Embedded);
  if (f.output == "-" && s.formats.size() != 1) throw UsageError("-o - writes one format; pick it with --to");
  if (f.resume + f.no_resume + f.redo_failed > 1) throw UsageError("--resume, --no-resume and --redo-failed exclude each other");
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
  c.check_text_layer = !f.no_text_layer_check;
  if (!f.page_images_dpi.empty()) c.page_image_dpi = int(whole_number("page-images", f.page_images_dpi, 18, 600));
  if (f.coord_origin == "topleft") c.box_origin = docling::BoxOrigin::TopLeft;
  else if (f.coord_origin == "bottomleft") c.box_origin = docling::BoxOrigin::BottomLeft;
  else if (!f.coord_origin.empty())
    throw UsageError("--coord-origin: expected bottomleft or topleft, got '" + escape(f.coord_origin) + "'");
  c.speculate = !f.no_speculate;
  c.limits.max_input_bytes = max_input_bytes(f.max_input);
  if (!f.max_inflated.empty())
    c.limits.max_inflated_bytes = uint64_t(whole_number("max-inflated-mb", f.max_inflated, 0, 1 << 20)) << 20;
  s.shard = pick_shard(f);
  s.sources = gather(f);
  s.engine = open_engine(f.pipeline, f.engine, eo, f.quiet, false, "Converting from the text layer only.", c.pipeline);
  s.settings = sha256_hex(settings_text(s)).substr(0, 16);
  return s;
}

// --- the ledger ---------------------------------------------------------------------------------

enum class Mode { Resume, All, RedoFailed };

struct Books {
  Mode mode = Mode::Resume;
  fs::path outdir;
  LedgerIndex index;   // what earlier runs finished (entries of this shard's inputs)
  LedgerIndex this_run;  // lines this run's earlier workers (or their supervisor) wrote: done
  LedgerWriter writer; // this shard's ledger; closed when writing to stdout
  fs::path ledger;          // its path
  uint64_t ledger_size = 0; // its size once opened (where this worker's lines start)
};

// Reads every ledger in the folder: shards may have been cut differently before, and a
// document done by any run counts. Only this shard's inputs are kept (memory for 10^7 lines).
void load_ledgers(Books& b, const Shard& shard, bool quiet) {
  for (const fs::path& file : find_ledgers(b.outdir)) {
    LedgerRead r = read_ledger(file);
    if (r.bad_lines) print_warning(display(file) + ": " + std::to_string(r.bad_lines) + " line(s) that are not ledger lines were skipped");
    for (LedgerEntry& e : r.entries)
      if (owns(shard, e.input)) b.index.add(std::move(e));
    (void)quiet;
  }
}

bool outputs_exist(const fs::path& outdir, const LedgerEntry& e) {
  std::error_code ec;
  for (const std::string& o : e.outputs)
    if (!fs::exists(outdir / o, ec)) return false;
  return true;
}

// Whether a document with these bytes is left to do. Resume: not when a line lists the same
// bytes and settings and its files are still there (a failure counts as done: broken files
// fail again; --redo-failed retries them). RedoFailed: only documents whose last line failed.
bool wanted(const Books& b, const std::string& key, const std::string& sha, const std::string& settings) {
  if (b.this_run.find(json_key(key))) return false;  // whatever the mode: never twice in one run
  if (b.mode == Mode::All) return true;
  const LedgerEntry* e = b.index.find(json_key(key));
  if (b.mode == Mode::RedoFailed) return e && e->status == "FAILURE";
  return !(e && e->sha256 == sha && e->settings == settings && outputs_exist(b.outdir, *e));
}

const char* ledger_status(docling::Status s) {
  return s == docling::Status::Success ? "SUCCESS" : s == docling::Status::Partial ? "PARTIAL" : "FAILURE";
}

// --- one document -------------------------------------------------------------------------------

// A document as the workers hand it to the writer.
struct Done {
  bool skipped = false;
  bool this_run = false;       // skipped: this run's earlier worker did it
  int skipped_pages = 0;       // this_run: its line's pages
  std::string skipped_status;  // the ledger's, when skipped
  docling::ConvertResult result;
  std::string sha256;
  uint64_t size = 0;
};

struct Summary {
  int ok = 0, partial = 0, failed = 0, cancelled = 0, skipped = 0, pages = 0;
  int failed_before = 0, partial_before = 0;  // skipped documents whose line says so
};

// Reads (capped), hashes and, unless the ledger has it, converts one input. Errors reading
// become the document's failure. Bytes are hashed and converted from one read, so the
// ledger's hash is of what was converted even if the file changes meanwhile.
Done run_one(const Setup& s, const Books& b, const Source& src, std::vector<uint8_t>* stdin_bytes,
             const docling::ConvertOptions& options, const std::function<void(const Done&)>& starting) {
  Done d;
  std::string bytes;
  try {
    if (stdin_bytes) bytes.assign(stdin_bytes->begin(), stdin_bytes->end());
    else bytes = read_source(src, s.convert.limits.max_input_bytes);
  } catch (const std::exception& e) {
    d.result.errors.push_back({0, src.name() + ": " + e.what()});
    return d;  // sha256 "" and size 0: a rerun that cannot read it either finds this line
  }
  d.size = bytes.size();
  d.sha256 = sha256_hex(bytes);
  if (!wanted(b, src.key, d.sha256, s.settings)) {
    d.skipped = true;
    if (const LedgerEntry* e = b.this_run.find(json_key(src.key))) {
      d.this_run = true;
      d.skipped_status = e->status;
      d.skipped_pages = e->pages_ok + e->pages_failed;
    } else if (const LedgerEntry* e = b.index.find(json_key(src.key))) {
      d.skipped_status = e->status;
    }
    return d;
  }
  starting(d);
  std::string name = src.is_stdin() ? "stdin" : src.path.string();
  d.result = s.engine->convert(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name, options);
  return d;
}

struct Batch {
  const Flags& f;
  Setup& s;
  Books& books;
  Progress& progress;
  Journal& journal;
  Summary sum;
  std::mutex mu;  // the writer's: saving, printing, the ledger, the summary
};

LedgerEntry entry_for(const Batch& bt, const Source& src, const Done& d, const std::vector<fs::path>& written) {
  LedgerEntry e;
  e.input = json_key(src.key);
  e.size = d.size;
  e.sha256 = d.sha256;
  e.status = ledger_status(d.result.status);
  std::vector<int> bad;
  for (const docling::PageMessage& m : d.result.errors) {
    e.errors.push_back({m.page, m.message});
    if (m.page > 0 && std::find(bad.begin(), bad.end(), m.page) == bad.end()) bad.push_back(m.page);
  }
  e.pages_failed = int(bad.size());
  e.pages_ok = d.result.status == docling::Status::Failure ? 0 : std::max(0, d.result.pages - e.pages_failed);
  for (const fs::path& p : written) e.outputs.push_back(p.lexically_relative(bt.books.outdir).generic_string());
  std::sort(e.outputs.begin(), e.outputs.end());
  e.seconds = d.result.timings.total_s;
  e.finished = double(std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count()) / 1000;
  e.version = docling::version();
  e.settings = bt.s.settings;
  return e;
}

// Saves a finished document (all formats or none), then records it: a line is written only
// after its files are in place, so a line always means "done". Cancelled documents get
// neither files nor a line nor messages (their unfinished pages are not failures).
void write_one(Batch& bt, const Source& src, Done& d) {
  docling::ConvertResult& r = d.result;
  if (r.status == docling::Status::Cancelled) {
    ++bt.sum.cancelled;
    return;
  }
  std::vector<fs::path> written;
  if (r.status == docling::Status::Success || r.status == docling::Status::Partial) {
    try {
      if (bt.f.output == "-") write_stdout(r.document, bt.s.formats.front(), bt.s.exports);
      else {
        check_output_name(bt.f.output, src.stem);
        written = r.document.save(bt.f.output, src.stem, bt.s.formats, bt.s.exports);
      }
    } catch (const std::exception& e) {
      r.status = docling::Status::Failure;
      r.errors.push_back({0, src.name() + ": " + escape(e.what())});
    }
  }
  bt.progress.clear_line();
  for (const docling::PageMessage& e : r.errors)
    (r.status == docling::Status::Failure ? print_error : print_warning)(escape(e.message));
  if (bt.books.writer.is_open()) bt.books.writer.append(entry_for(bt, src, d, written));  // throws: the batch stops
  switch (r.status) {
    case docling::Status::Success: ++bt.sum.ok; break;
    case docling::Status::Partial: ++bt.sum.partial; break;
    default: ++bt.sum.failed; break;
  }
  bt.sum.pages += r.pages;
  if (!bt.f.quiet && r.status != docling::Status::Failure)
    std::fprintf(stderr, "%s %s: %d page(s) in %.2f s\n", docling::to_string(r.status), src.name().c_str(), r.pages,
                 r.timings.total_s);
}

// --- the batch ----------------------------------------------------------------------------------

// A thread with a deep stack: Poppler recurses once per nested form XObject (20,000 levels
// need about 8 MiB), std::thread gets the default (8 MiB, or less under a lower ulimit -s).
// Address space only: pages are touched as the recursion goes.
constexpr size_t kDocumentStackBytes = size_t(64) << 20;

class StackThread {
 public:
  explicit StackThread(std::function<void()> fn) : fn_(std::move(fn)) {
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, kDocumentStackBytes);
    int rc = pthread_create(&thread_, &a, &StackThread::main, this);
    pthread_attr_destroy(&a);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "cannot start a thread");
  }
  StackThread(const StackThread&) = delete;
  StackThread& operator=(const StackThread&) = delete;
  void join() { pthread_join(thread_, nullptr); }

 private:
  static void* main(void* self) {
    static_cast<StackThread*>(self)->fn_();
    return nullptr;
  }
  std::function<void()> fn_;
  pthread_t thread_;
};

// Workers take documents in order; results go to the writer as they finish, or in input
// order with --ordered (finished ones wait for the earlier ones).
class Pool {
 public:
  Pool(Batch& bt, const std::vector<Source>& todo, std::vector<uint8_t>* stdin_bytes, const docling::CancelToken& cancel)
      : bt_(bt), todo_(todo), stdin_(stdin_bytes), cancel_(cancel), parked_(bt.f.ordered ? todo.size() : 0) {}

  void run(int workers) {
    std::vector<std::unique_ptr<StackThread>> threads;  // every document on a deep stack
    for (int w = 0; w < workers; ++w) threads.push_back(std::make_unique<StackThread>([this] { work(); }));
    for (auto& t : threads) t->join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    for (size_t i; !cancel_.cancelled() && !failed_ && (i = next_++) < todo_.size();) {
      const Source& src = todo_[i];
      docling::ConvertOptions o = bt_.s.convert;
      Journal& j = bt_.journal;
      if (streams_pages())
        o.on_page = [this, i, &j](const docling::PageResult& p) {
          j.page_done(i, p.page);
          bt_.progress.page_done(i);
        };
      o.on_page_start = [i, &j, &src](int page) {
        j.page(i, page);
        test_fault(src.key, page);
      };
      bt_.progress.started(i, src.name());
      auto starting = [i, &j, &src](const Done& d) {
        j.document(i, json_key(src.key), src.is_stdin() ? "stdin" : src.path.string(), d.size, d.sha256);
      };
      Done d = run_one(bt_.s, bt_.books, src, src.is_stdin() ? stdin_ : nullptr, o, starting);
      deliver(i, std::move(d));
      j.end(i);
    }
  }

  // The model's pages come one by one; the text layer's arrive together at the end (and
  // cost a copy each when asked for), so they are counted with their document.
  bool streams_pages() const { return bt_.s.engine->has_model() && bt_.s.convert.pipeline != docling::Pipeline::Text; }

  void deliver(size_t i, Done d) {
    std::lock_guard<std::mutex> lock(bt_.mu);
    if (!bt_.f.ordered) return finish(i, d);
    parked_[i] = std::move(d);
    for (; next_out_ < parked_.size() && parked_[next_out_]; ++next_out_) {
      finish(next_out_, *parked_[next_out_]);
      parked_[next_out_].reset();
    }
  }

  void finish(size_t i, Done& d) {
    if (failed_) return;
    try {
      if (d.skipped && d.this_run) {  // an earlier worker of this run: counted as this run's
        ++(d.skipped_status == "SUCCESS" ? bt_.sum.ok : d.skipped_status == "PARTIAL" ? bt_.sum.partial : bt_.sum.failed);
        bt_.sum.pages += d.skipped_pages;
        bt_.progress.skipped(i);
        return;
      }
      if (d.skipped) {
        ++bt_.sum.skipped;
        bt_.sum.failed_before += d.skipped_status == "FAILURE";
        bt_.sum.partial_before += d.skipped_status == "PARTIAL";
        bt_.progress.skipped(i);
        return;
      }
      write_one(bt_, todo_[i], d);
      bt_.progress.finished(i, d.result.pages, docling::to_string(d.result.status));
    } catch (...) {  // the ledger cannot be written: stop taking documents, report once
      error_ = std::current_exception();
      failed_ = true;
    }
  }

  Batch& bt_;
  const std::vector<Source>& todo_;
  std::vector<uint8_t>* stdin_;
  const docling::CancelToken& cancel_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  std::vector<std::optional<Done>> parked_;
  size_t next_out_ = 0;
};

int worker_count(const docling::Engine& e, size_t documents) {
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  const docling::EngineOptions& o = e.options();
  // As Engine::convert_all: with a model, enough documents to keep its pages in flight.
  int w = e.has_model() ? std::max(o.pages_in_flight, 2) : (o.threads > 0 ? o.threads : cores);
  return std::max(1, std::min<int>(w, int(documents)));
}

// Rewrites the --progress-json file atomically (temporary + rename: a poller never reads
// half a file) and redraws the terminal line, every 2 s until stopped.
class Ticker {
 public:
  Ticker(Progress& p, std::string file) : progress_(p), file_(std::move(file)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Ticker() { stop("finished"); }
  void stop(const std::string& state) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    cv_.notify_all();
    thread_.join();
    write(state);
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stopped_; })) {
      lock.unlock();
      progress_.redraw();
      write("running");
      lock.lock();
    }
  }
  void write(const std::string& state) {
    if (file_.empty()) return;
    std::string tmp = file_ + ".tmp." + std::to_string(getpid());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << progress_.json(state);
      if (!out) return;  // a status file is a courtesy: never stops the batch
    }
    std::error_code ec;
    fs::rename(tmp, file_, ec);
    if (ec) fs::remove(tmp, ec);
  }

  Progress& progress_;
  std::string file_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::thread thread_;
};

// This shard's inputs (in input order), and the output folder's books opened for writing.
std::vector<Source> plan(const Flags& f, Setup& s, Books& b) {
  rename_duplicates(s.sources);  // before sharding: every shard names outputs the same way
  std::vector<Source> mine;
  for (const Source& src : s.sources)
    if (owns(s.shard, json_key(src.key)) &&
        (f.only.empty() || std::find(f.only.begin(), f.only.end(), json_key(src.key)) != f.only.end()))
      mine.push_back(src);
  b.mode = f.no_resume ? Mode::All : f.redo_failed ? Mode::RedoFailed : Mode::Resume;
  if (f.output == "-") {
    b.mode = Mode::All;  // nothing is kept on disk: nothing to resume
    return mine;
  }
  b.outdir = f.output;
  fs::create_directories(b.outdir);
  if (!f.dry_run) {
    fs::path file = b.outdir / ledger_file_name(s.shard.label());
    // A worker may start while the one its supervisor just killed still holds the lock.
    for (int tries = f.worker_fd >= 0 ? 50 : 1;; --tries) {
      try {
        if (uint64_t cut = b.writer.open(file))
          print_warning(display(file) + ": removed a torn last line (" + std::to_string(cut) +
                        " bytes) left by a run killed while writing it");
        break;
      } catch (const std::runtime_error&) {
        if (tries <= 1) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    b.ledger = file;
    std::error_code ec;
    b.ledger_size = fs::file_size(file, ec);
    remove_stale_temporaries(f.output, mine);
    if (!f.this_run_from.empty())
      for (LedgerEntry& e : read_ledger(file, uint64_t(whole_number("isolation-from", f.this_run_from, 0, LONG_MAX))).entries)
        b.this_run.add(std::move(e));
  }
  if (b.mode != Mode::All) load_ledgers(b, s.shard, f.quiet);
  return mine;
}

// A worker process does the batch unless asked not to, or unless it cannot be run again as
// it was: stdin (an input or the list) is read once, and stdout (-o -) is the caller's.
bool isolated(const Flags& f) {
  return f.worker_fd < 0 && !f.no_isolation && !f.dry_run && f.output != "-" && f.from_list != "-" &&
         std::find(f.inputs.begin(), f.inputs.end(), "-") == f.inputs.end();
}

// --page-timeout: the flag, else 60 s for text-layer work (a page takes milliseconds; 10^5
// text objects take seconds) and 30 min where the model runs (a page legitimately takes
// minutes on 2 cores, and waits behind the other pages in flight).
double page_timeout_s(const Flags& f, const Setup* s) {
  if (!f.page_timeout.empty()) return double(whole_number("page-timeout", f.page_timeout, 0, 1000000));
  bool model = s && s->engine->has_model() && s->convert.pipeline != docling::Pipeline::Text;
  return model ? 1800 : 60;
}

// --dry-run: the inputs left to do, one a line (escaped), hashing each as a run would.
int dry_run(const Setup& s, const Books& b, const std::vector<Source>& todo) {
  for (const Source& src : todo) {
    if (src.is_stdin()) {
      std::printf("-\n");
      continue;
    }
    std::string sha;
    try {
      sha = sha256_hex(read_source(src, s.convert.limits.max_input_bytes));
    } catch (const std::exception&) {
    }
    if (wanted(b, src.key, sha, s.settings)) std::printf("%s\n", escape(src.key).c_str());
  }
  return kExitOk;
}

}  // namespace

int cmd_convert(int argc, char** argv) {
  CLI::App app;
  Flags f;
  add_flags(app, f);
  if (int code = parse(app, argc, argv); code >= 0) return code;
  if (isolated(f)) {
    Isolation iso;
    try {
      page_timeout_s(f, nullptr);  // usage errors before any worker starts
      iso.max_memory_mb = f.max_memory.empty() ? default_max_memory_mb()
                                               : uint64_t(whole_number("max-memory", f.max_memory, 0, 1L << 40));
    } catch (const UsageError& e) {
      print_error(e.what());
      return kExitUsage;
    }
    iso.args.assign(argv + 1, argv + argc);
    iso.progress_json = f.progress_json;
    iso.quiet = f.quiet;
    return supervise(iso);
  }
  Setup s;
  Books books;
  std::vector<Source> todo;
  double timeout = 0;
  try {
    s = setup(f);
    todo = plan(f, s, books);
    timeout = page_timeout_s(f, &s);
  } catch (const UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const docling::Error& e) {  // options out of range, a model that does not load
    print_error(escape(e.what()));
    return kExitUsage;
  } catch (const std::exception& e) {  // the output folder or its ledger
    print_error(escape(e.what()));
    return kExitUsage;
  }
  if (f.dry_run) return dry_run(s, books, todo);
  Journal journal(f.worker_fd);
  journal.run(books.ledger.string(), books.ledger_size, s.settings, timeout);

  Summary pre;
  std::vector<uint8_t> stdin_bytes;
  for (const Source& src : todo) {
    if (!src.is_stdin()) continue;
    try {  // the CLI reads stdin; the library gets bytes (named "stdin": its document's name)
      stdin_bytes = read_stdin(s.convert.limits.max_input_bytes);
    } catch (const std::exception& e) {
      print_error(src.name() + ": " + e.what());
      ++pre.failed;
      todo.erase(std::find_if(todo.begin(), todo.end(), [](const Source& x) { return x.is_stdin(); }));
    }
    break;
  }

  docling::CancelToken cancel;
  s.convert.cancel = &cancel;
  Progress progress(int(todo.size()), !f.quiet && isatty(STDERR_FILENO));
  Batch bt{f, s, books, progress, journal, pre, {}};
  bool interrupted = false;
  std::string fatal;
  {
    Ticker ticker(progress, f.progress_json);
    SignalScope signals(cancel);
    try {
      Pool(bt, todo, &stdin_bytes, cancel).run(worker_count(*s.engine, todo.size()));
    } catch (const docling::Error& e) {
      fatal = escape(e.what());
    } catch (const std::exception& e) {
      fatal = escape(e.what());
    }
    interrupted = signals.signalled();
    ticker.stop(!fatal.empty() ? "failed" : interrupted ? "interrupted" : "finished");
  }
  double secs = progress.elapsed();
  progress.clear_line();
  if (!fatal.empty()) print_error(fatal + " (the batch stopped; finished documents stay written)");
  Summary& sum = bt.sum;
  std::string skipped;
  if (sum.skipped) skipped = ", " + std::to_string(sum.skipped) + " already done";
  if (sum.failed_before) skipped += " (" + std::to_string(sum.failed_before) + " of them failed: --redo-failed retries)";
  std::fprintf(stderr, "docling-cpp: %zu document(s): %d succeeded, %d partial, %d failed%s%s (%d pages, %.1f s)\n",
               todo.size(), sum.ok, sum.partial, sum.failed, skipped.c_str(), interrupted ? ", interrupted" : "",
               sum.pages, secs);
  if (!fatal.empty()) return kExitUsage;
  if (interrupted) return kExitInterrupted;
  // The exit code is the archive's, not this run's: documents an earlier run finished count as
  // they ended, so a batch resumed after a kill exits as an uninterrupted one would.
  if (sum.failed || sum.failed_before) return kExitFailed;
  return (sum.partial || sum.partial_before) && f.strict ? kExitPartial : kExitOk;
}

}  // namespace dcli
