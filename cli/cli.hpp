// What the docling-cpp commands share: exit codes, messages, the options every command
// reads (from flags and the environment), input discovery, the progress line, signals.
//
// Takes: argv, the environment, the public API (include/docling/ only). Gives: exit codes;
// messages on stderr, data in files or on stdout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "docling/docling.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace dcli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;     // some inputs failed (the others were written)
constexpr int kExitUsage = 2;      // bad arguments, missing model
constexpr int kExitPartial = 3;    // --strict: everything written, but some pages are incomplete
constexpr int kExitInterrupted = 130;

int cmd_convert(int argc, char** argv);  // argv[0] is the command's name
int cmd_export(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_serve(int argc, char** argv);   // cli/serve.cpp
int cmd_status(int argc, char** argv);  // cli/status.cpp

// A bad argument, a bad environment variable or a missing model: exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --- messages ---------------------------------------------------------------------------------

// Control characters (newline, ESC, C1 controls, DEL) as visible escapes ("\n", "\x1b"), so
// a file name cannot start a forged message line or drive the terminal.
std::string escape(std::string_view s);
std::string display(const std::filesystem::path& p);  // escape(p.string())
void print_error(const std::string& msg);    // "docling-cpp: error: msg"
void print_warning(const std::string& msg);  // "docling-cpp: warning: msg"

// --- parsing ----------------------------------------------------------------------------------

// A command's parser with docling-cpp's conventions (help on -h/--help).
void setup_app(CLI::App& app, const std::string& usage_line, const std::string& description);
// Parses; unknown options are usage errors naming the option. Returns -1 to go on, else the
// exit code (0 after --help, 2 after a usage error, which it has printed).
int parse(CLI::App& app, int argc, char** argv);

// "--NAME wants a whole number from LO to HI, got 'V'" otherwise.
long whole_number(const std::string& name, const std::string& v, long lo, long hi);

struct PageSpan {
  int first = 1, last = -1;  // last -1: open end ("5-")
};
// "1-3,7", "5-": throws UsageError("--pages: ...") for 0, reversed ranges or garbage.
std::vector<PageSpan> parse_page_list(const std::string& spec);
// The pages of spans in a document of `page_count` pages (an open end stops there).
std::vector<int> expand_pages(const std::vector<PageSpan>& spans, int page_count);

// Engine settings: flags first, then DOCLING_* environment variables, then the defaults.
struct EngineFlags {
  std::string model, weights, kv_cache, isa, threads, batch, max_new_tokens;
  std::string vision_precision, decode_precision, kernel_tuning;
  bool int8_activations = false, bf16_dot = false, no_amx = false, no_head_screen = false;
};
// Adds --model, --weights, --kv-cache, --isa, --threads (and, when `convert`, --batch);
// --max-new-tokens is the command's own.
void add_engine_flags(CLI::App& app, EngineFlags& f, bool convert);
// Everything but model_dir. Throws UsageError naming the flag or variable.
docling::EngineOptions engine_options(const EngineFlags& f);
extern const char* const kEnvironmentHelp;  // the variables, for --help

// The engine for --pipeline `flag` (vlm, text, auto; "" = the default, which becomes vlm with a
// model and auto without): with the model when vlm needs it or auto/the default can use it.
// vlm without a model is a usage error; otherwise no model is a warning ending in
// `without_model` (not when `quiet` and no --model was given). A model that does not load is a
// usage error when vlm was asked for or `load_must_succeed`, else a warning and the text layer.
std::unique_ptr<docling::Engine> open_engine(const std::string& flag, const EngineFlags& ef, docling::EngineOptions eo,
                                             bool quiet, bool load_must_succeed, const std::string& without_model,
                                             docling::Pipeline& pipeline);

// Where the model is: --model, else $DOCLING_MODEL (each the only place looked at), else
// standard_model_dirs($XDG_CACHE_HOME or ~/.cache).
struct ModelLookup {
  std::vector<std::filesystem::path> tried;
  std::string found;  // "" when none holds a model
};
ModelLookup find_model(const std::string& flag);
std::string missing_model(const ModelLookup& m);  // the library's message plus how to pass it

// $NAME, or "" when it is not set.
std::string env_var(const char* name);
// $XDG_CACHE_HOME, else ~/.cache, else ".cache".
std::filesystem::path user_cache_dir();
// The Hugging Face hub caches, first to last: $HF_HUB_CACHE, $HF_HOME/hub, <user cache>/huggingface/hub.
std::vector<std::filesystem::path> hf_hub_caches();
// A folder holding tokenizer.json, vocab.txt, or vocab.json + merges.txt.
bool is_tokenizer_dir(const std::filesystem::path& dir);
// The newest snapshot of model ORG/NAME in `hub` (hub/models--ORG--NAME/snapshots/REV/) that
// holds a tokenizer; "" when there is none.
std::string hf_cached_tokenizer(const std::filesystem::path& hub, const std::string& model);

// The --chunk* flags (cli/chunk_flags.cpp); empty = the default.
struct ChunkFlags {
  std::string chunker, tokenizer, max_tokens, delim, table_format, doc_format, merge_peers, merge_list_items,
      always_emit_headings, repeat_table_header, omit_header_on_overflow;
};
void add_chunk_flags(CLI::App& app, ChunkFlags& f);
// Also finds the tokenizer (--chunk-tokenizer, $DOCLING_CHUNK_TOKENIZER, the Hugging Face cache)
// and loads it once to check it. Throws UsageError.
docling::ChunkOptions chunk_options(const ChunkFlags& f);

// Export options shared by convert and export.
struct ExportFlags {
  std::string image_mode, page_break, pages;
  CLI::Option* page_break_given = nullptr;
  bool md_compact_tables = false, doctags_minified = false, html_split_page = false;
  std::vector<std::string> exclude_labels;
  ChunkFlags chunks;
};
void add_export_flags(CLI::App& app, ExportFlags& f, bool with_pages, const char* default_mode);
// Checks every value (labels included); throws UsageError. Pages are not set (see expand_pages).
docling::ExportOptions export_options(const ExportFlags& f, docling::ImageMode default_mode);
// One format to stdout, as the files have it (text ends with a newline).
void write_stdout(const docling::DoclingDocument& doc, docling::Format f, const docling::ExportOptions& o);

// --- inputs -----------------------------------------------------------------------------------

struct Source {
  std::filesystem::path path;  // empty for stdin
  std::string stem;            // output name without extension, relative to OUTDIR
  std::string key;             // the ledger's name: path relative to its input root ("-": stdin)
  // An archive's member (cli/archive.hpp): `path` is then archive/member (for messages), the
  // member is read from `archive` by its place among the archive's headers (0-based `ordinal`)
  // and its name as stored. `error` set: a damaged archive, whose reading fails with it.
  std::filesystem::path archive{};
  std::string member{};
  size_t ordinal = 0;
  std::string error{};
  bool is_stdin() const { return path.empty(); }
  std::string name() const { return is_stdin() ? "<stdin>" : display(path); }  // for messages
};
enum class Kind { Pdf, Image, DocTags, Json, Other };
Kind kind_of(const std::filesystem::path& p);  // by extension
// Files as given (a wrong kind fails later, with its name); folders searched recursively for
// `wanted` kinds, sorted, outputs keeping the relative path as walked (a linked file is
// named by the link, never by its target; linked folders inside are not followed, with a
// warning). Throws UsageError for a missing path.
std::vector<Source> collect_sources(const std::vector<std::string>& args, const std::vector<Kind>& wanted);
// --from-list: one path a line ("-" reads the list from stdin); empty lines and lines
// starting with '#' are skipped. An entry keeps its path as written (lexically normalized),
// so outputs mirror the tree; an absolute entry, or one that climbs out with "..", is keyed
// by its absolute path without the leading '/'. Throws UsageError for an unreadable list.
std::vector<Source> list_sources(const std::string& list_file);
// Two inputs with the same output name: the later ones get "-2", "-3" (with a warning), never
// the name of another input.
void rename_duplicates(std::vector<Source>& sources);
// Throws std::runtime_error when OUTDIR/STEM.<ext> (or STEM_artifacts/) would not lie
// inside `outdir` after normalization.
void check_output_name(const std::filesystem::path& outdir, const std::string& stem);
// Removes temporaries that killed earlier runs left in the folders this run writes (OUTDIR,
// the folders of the stems, their _artifacts folders), with one warning.
void remove_stale_temporaries(const std::filesystem::path& outdir, const std::vector<Source>& sources);

// Input is capped: a file or stdin over `max_bytes` is refused (std::runtime_error saying
// so), and only regular files are read (a device or pipe could be endless).
std::vector<uint8_t> read_stdin(uint64_t max_bytes);
std::string read_input_file(const std::filesystem::path& path, uint64_t max_bytes);
// A source's bytes (capped as read_input_file); not for stdin, which read_stdin reads once.
std::string read_source(const Source& src, uint64_t max_bytes);
// The sources a batch will read, in the order workers take them: archive members are then
// read by one forward pass per archive, however many workers (cli/archive.hpp).
void expect_members(const std::vector<Source>& sources);
// --max-input-bytes N: the option, and its value (the library's default when not given).
void add_max_input_flag(CLI::App& app, std::string& value);
uint64_t max_input_bytes(const std::string& value);

// --- the terminal -----------------------------------------------------------------------------

// Documents done, pages, pages/hour, ETA and the file being converted on one stderr line
// (silent when disabled), moving per page where pages stream (the model's pipelines).
// Thread-safe: workers report pages, the batch reports documents.
class Progress {
 public:
  Progress(int documents, bool enabled);
  void document_done(int pages);  // a document finished, none of its pages streamed
  void clear_line();  // before printing a message
  double elapsed() const;

  // A batch in detail. `id` is the document's index in the batch.
  void skipped(size_t id);                      // a started document the ledger already has
  void started(size_t id, const std::string& name);  // name as shown (escaped)
  void page_done(size_t id);                    // a page of a started document finished
  void finished(size_t id, int pages, const char* status);  // status: "success", ... as to_string
  void redraw();                                // now, if enabled (a timer calls it)
  // The state as one JSON object (for --progress-json): counts, pages/hour, ETA, current files.
  std::string json(const std::string& state) const;

 private:
  void draw(bool force);
  mutable std::mutex mu_;
  int total_, done_ = 0, pages_ = 0, skipped_ = 0, ok_ = 0, partial_ = 0, failed_ = 0, cancelled_ = 0;
  std::vector<std::pair<size_t, std::pair<std::string, int>>> current_;  // id, (name, pages so far)
  bool enabled_, drawn_ = false;
  double start_, last_draw_ = 0;
};

// SIGINT and SIGTERM cancel `token` while alive; a second signal ends the process at once
// (the default action). Restores the previous handlers.
class SignalScope {
 public:
  explicit SignalScope(docling::CancelToken& token);
  ~SignalScope();
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
  bool signalled() const;
};

}  // namespace dcli
