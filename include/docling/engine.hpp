// The conversion engine: load the model once, convert many documents from many threads.
//
//   docling::EngineOptions eo = docling::engine_defaults();
//   eo.model_dir = "/models/granite-docling-258M";
//   docling::Engine engine(eo);                        // throws ModelError
//   docling::ConvertResult r = engine.convert("paper.pdf");
//   std::string md = r.document.to_markdown();
//
// One Engine is shared by any number of threads: pages of concurrent convert() calls share
// the model's decoder steps (continuous batching across callers), and pages in flight are
// bounded engine-wide, so memory does not grow with the number of callers.
//
// Takes: EngineOptions (model folder and machine settings), then files or bytes with
// ConvertOptions. Gives: ConvertResult (status, per-page errors and warnings, timings, the
// DoclingDocument). The library reads no environment variables and prints nothing: messages go to
// the results, and to EngineOptions::log when set.
#pragma once

#include "docling/export.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "docling/document.hpp"
#include "docling/errors.hpp"

namespace docling {

DOCLING_API const char* version();  // "0.2.0"

enum class Weights { Bf16, Int8 };    // int8: quantized at load (less memory, small accuracy cost)
enum class KvCache { F16, F32 };      // f32: exact, twice the memory and attention traffic
enum class Isa { Best, Avx512, Avx2, Scalar };  // highest instruction set the kernels may use
// Arithmetic of the vision encoder's and connector's matrix products (not the decoder's).
// F32: exact (f32 activations, bf16 weights widened); Bf16: activations rounded to bf16,
// vdpbf16ps (AVX512-BF16; elsewhere it runs as F32); Int8: int8 weights per output channel,
// int8 activations per token (VNNI, AVX2 or portable). Auto: the fastest precision that met
// the accuracy budget on this CPU class (bench/README.md), F32 where unmeasured.
enum class VisionPrecision { Auto, F32, Bf16, Int8 };
// Arithmetic of the decoder's products in decode steps (prompt prefill stays f32). F32: exact;
// Bf16: activations rounded to bf16 for vdpbf16ps (AVX512-BF16; elsewhere it runs as F32):
// batch-8 decode steps 12% faster on the Zen 4 measured, but 99.1% teacher-forced agreement,
// under the 99.5% a default needs (bench/README.md). Bf16 weights only.
enum class DecodePrecision { F32, Bf16 };
enum class LogLevel { Debug, Info, Warning, Error };
using LogCallback = std::function<void(LogLevel, const std::string&)>;

struct EngineOptions {
  std::string model_dir;         // checkpoint folder; "" = no model (text-layer pipeline only)
  Weights weights = Weights::Bf16;
  KvCache kv_cache = KvCache::F16;
  int threads = 0;               // compute threads for the model; 0 = all cores
  int batch_size = 4;            // pages decoded together (1..64)
  int pages_in_flight = 8;       // pages rendered and waiting or generating, engine-wide (1..256)
  int max_new_tokens = 8192;     // upper bound of ConvertOptions::max_new_tokens (1..131072)
  // Kernel settings. They are process-wide (one dispatch table per process): the last
  // Engine constructed sets them.
  Isa max_isa = Isa::Best;
  bool int8_activations = false;  // AVX512-VNNI decode with 8-bit activations (int8 weights)
  bool bf16_dot = false;          // AVX512-BF16 products (rounds activations to bf16)
  bool amx = true;                // AMX tiles where the CPU has them: bf16 products with many rows, and
                                  // the f32 prefill (at f32 accuracy: activations in three bf16 parts)
  VisionPrecision vision_precision = VisionPrecision::Auto;  // vision encoder + connector products
  DecodePrecision decode_precision = DecodePrecision::F32;    // decoder products in decode steps
  // Decode steps choose their tokens through an int8 screen of the output head where the CPU
  // has vpdpbusd (AVX512-VNNI, AVX-VNNI): the same tokens as the full head at half its bytes, log-
  // probabilities within 1e-2 of the full softmax's, 58 MB more memory. BF16 weights, F32 decode.
  bool screen_head = true;
  // Block sizes of the decoder's products, fitted to this CPU. "" (default): the built-in
  // table by CPU family. A folder: the first engine with a model on a machine of a kind
  // measures them (about a second) and keeps them there in a file per CPU model and thread
  // count; later engines read that file.
  std::string kernel_tuning_dir;
  LogCallback log;                // called from any thread; never while a lock of ours is held
};
DOCLING_API EngineOptions engine_defaults();

// Where a model is looked for when EngineOptions::model_dir is empty is the caller's
// business (the CLI: --model, $DOCLING_MODEL, a cache folder). These help: the standard
// folders under `cache_home` (e.g. $XDG_CACHE_HOME or ~/.cache) in order, the first that
// holds config.json + model.safetensors, and a message saying how to get the model.
DOCLING_API std::vector<std::filesystem::path> standard_model_dirs(const std::filesystem::path& cache_home);
DOCLING_API bool is_model_dir(const std::filesystem::path& dir);
DOCLING_API std::string missing_model_message(const std::vector<std::filesystem::path>& looked_in);

enum class Pipeline {
  Default,  // Vlm when the engine has a model, else Text
  Vlm,      // the model on every page; the text layer where a page fails
  Text,     // the PDF text layer only (pages without text get an error)
  Auto,     // the text layer, and the model for pages without one (scans)
};

// A flag a caller sets from any thread to stop a conversion: pages not yet generated are
// abandoned, the call returns Status::Cancelled with what was finished.
class CancelToken {
 public:
  void cancel() noexcept { flag_.store(true); }
  bool cancelled() const noexcept { return flag_.load(); }

 private:
  std::atomic<bool> flag_{false};
};

struct Limits {
  uint64_t max_input_bytes = uint64_t(2) << 30;  // a file or buffer larger is refused
  int max_side = 20000;                          // pixels per side of a rendered page
  int64_t max_pixels = 100'000'000;              // pixels of a rendered page
  uint64_t max_inflated_bytes = uint64_t(512) << 20;  // a PDF stream inflating past this: the file is refused (0: no check)
};

enum class Status { Success, Partial, Failure, Cancelled };
DOCLING_API const char* to_string(Status s);  // "success", "partial", "failure", "cancelled"

struct PageMessage {
  int page = 0;         // 1-based; 0 = the document as a whole
  std::string message;  // names the file and page
};

// A page as it finishes (streaming). `document` holds that page alone (page number as in
// the source); `doctags` is the model's output ("" for text-layer pages).
// How far to trust a page the model wrote. The same figures are in the JSON, on each item's
// meta: "docling_cpp__confidence" {mean_logprob, min_logprob, score, grade, tokens} and
// "docling_cpp__text_layer" {distance, suspect}.
struct PageQuality {
  int page = 0;
  double mean_logprob = 0, min_logprob = 0;  // natural log-probabilities of the tokens it chose
  double score = 0;                          // exp(mean_logprob), 0..1
  std::string grade;                         // as docling grades: poor, fair, good, excellent
  int checked_items = 0;                     // text items compared with the PDF's text layer
  std::vector<std::string> suspects;         // refs of those that disagree (misread? hallucinated?)
};

struct PageResult {
  int page = 0;
  bool from_model = false;
  const DoclingDocument* document = nullptr;
  std::string doctags;
  std::vector<std::string> warnings;
  std::vector<int32_t> tokens;  // the model's generated token ids (empty for text-layer pages)
  PageQuality quality;          // model pages
};
using PageCallback = std::function<void(const PageResult&)>;

// Where the boxes of items (prov) and table cells have their origin.
enum class BoxOrigin {
  Default,     // as docling writes them: text-layer pages bottom-left (table cells top-left, as
               // its standard pipeline), model pages top-left (as its VLM pipeline)
  TopLeft,     // every box, table cells included
  BottomLeft,  // every box, table cells included (PDF's own convention)
};

struct ConvertOptions {
  Pipeline pipeline = Pipeline::Default;
  std::string pages;                 // "1-3,7", "5-"; empty = all
  std::string password;              // of an encrypted PDF (tried as owner and as user password)
  int max_new_tokens = 8192;         // per page (docling's granite-docling setting)
  bool force_backend_text = false;   // text items take the PDF's text inside the model's boxes
  bool render_direct = false;        // render at the model's input size (no 144 dpi + resize)
  bool loop_guard = true;            // stop a page that repeats itself (kept, with a warning)
  bool page_images = true;           // pages[].image in the document (as docling's VLM pipeline)
  bool speculate = true;             // draft tokens from the text layer (never change the output)
  BoxOrigin box_origin = BoxOrigin::Default;
  bool check_text_layer = true;      // model pages: compare text items with the PDF's text layer
  int page_image_dpi = 0;            // > 0: pages[].image of every page (text-layer pages too)
                                     // rendered at this resolution; 0: as docling (model pages
                                     // at 72 dpi when page_images, text-layer pages none)
  Limits limits;
  const CancelToken* cancel = nullptr;  // optional; must outlive the call
  PageCallback on_page;              // optional; called on the calling thread as pages finish
  // Optional: called with a page's number (1-based) as its work starts (the text layer read,
  // the model's rendering), on the calling thread. Cheap by design: a caller watching for
  // pages that hang or crash (docling-cpp's supervisor) learns which page is in progress.
  std::function<void(int page)> on_page_start;
};
DOCLING_API ConvertOptions convert_defaults();

struct Timings {
  double total_s = 0;
};

struct ConvertResult {
  Status status = Status::Failure;
  DoclingDocument document;
  std::vector<PageMessage> errors;    // why the status is Partial or Failure
  std::vector<PageMessage> warnings;  // noted; the output is complete
  int pages = 0, model_pages = 0, text_pages = 0;
  int generated_tokens = 0;
  std::vector<PageQuality> quality;   // one per model page, in page order
  Timings timings;
};

// One input of a batch.
struct Input {
  std::filesystem::path path;     // a PDF, PNG/JPEG, .doctags or DoclingDocument .json file
  std::vector<uint8_t> bytes;     // or its bytes (path then only names it in messages)
};

struct BatchOptions {
  int workers = 0;        // documents converted at once; 0 = max(cores, pages_in_flight)
  bool ordered = false;   // deliver results in input order
};
// Called once per input, never from two threads at once.
using DocumentCallback = std::function<void(size_t index, ConvertResult&)>;

// What a region instruction asks the model.
enum class Instruction {
  Table,    // table -> OTSL
  Formula,  // formula -> LaTeX
  Code,     // code -> text
  Chart,    // chart -> table
  Ocr,      // the text inside `region`
  Identify, // the element at `region`
  Page,     // the whole image as a page -> DocTags (the image as it is, no 144-dpi rendering)
};
struct InstructionResult {
  std::string doctags;  // the model's output, special tokens kept
  DoclingDocument document;    // that output parsed (one page, the image's size)
  std::vector<std::string> warnings;
  std::vector<int32_t> tokens;  // the generated token ids
};

// What the engine's model has done since it was made (all callers together): evidence of
// cross-caller batching, for monitoring. Zeros without a model.
struct EngineStats {
  uint64_t decoder_steps = 0;   // decoder forwards
  uint64_t decoded_tokens = 0;  // tokens generated, every page
  uint64_t decoder_rows = 0;    // rows through those forwards (decode, draft and prefill rows)
  uint64_t pages_encoded = 0;   // page images through the vision encoder
  uint64_t shared_steps = 0;    // steps that gave tokens to pages of two or more conversions
  int max_rows_in_a_step = 0;
  int max_pages_in_a_step = 0;        // pages given a token by one step
  int max_conversions_in_a_step = 0;  // convert() documents / run() calls those pages belong to
};

class DOCLING_API Engine {
 public:
  // Loads the model (when model_dir is set): config, weights, tokenizer, processor.
  // Throws ModelError naming the file, InvalidArgumentError for options out of range.
  explicit Engine(const EngineOptions& options = engine_defaults());
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  bool has_model() const;
  const EngineOptions& options() const;
  EngineStats stats() const;  // any thread; counters read without stopping the model

  // Never throws for bad input: the result says what failed (InvalidArgumentError for
  // options out of range, OutOfMemory is reported as a failure).
  ConvertResult convert(const std::filesystem::path& file, const ConvertOptions& options = convert_defaults()) const;
  ConvertResult convert(const uint8_t* data, size_t size, const std::string& name,
                        const ConvertOptions& options = convert_defaults()) const;
  // Many documents at once, each delivered as soon as it is done (or in order).
  void convert_all(const std::vector<Input>& inputs, const ConvertOptions& options,
                   const BatchOptions& batch, const DocumentCallback& done) const;

  // One instruction on a page image; `region` (in image pixels) for Ocr and Identify.
  // Throws ModelError when the engine has no model.
  InstructionResult run(const PageImage& image, Instruction what, std::optional<Box> region = std::nullopt,
                        const ConvertOptions& options = convert_defaults()) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace docling
