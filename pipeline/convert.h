// Converting one source document: a PDF or page image through the text-layer backend,
// the VLM, or both (auto), or a DocTags / DoclingDocument JSON file read as is.
//
// Takes: a Source (pipeline/sources.h), options, and the VLM engine when one is loaded.
// Gives: the Document plus its status (success, partial, failure), with every error and
// warning naming the file and page.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/document.h"
#include "core/file_io.h"
#include "docling/engine.hpp"  // PageMessage
#include "layout/pdf.h"
#include "layout/text_backend.h"
#include "pipeline/sources.h"
#include "pipeline/vlm.h"

namespace docling {

enum class PipelineKind {
  Text,  // text layer only; pages without text get a warning
  Vlm,   // the model on every page; the text layer is the fallback for a failed page
  Auto,  // text layer where the page has text, the model for pages without (scans)
};

struct JobOptions {
  PipelineKind pipeline = PipelineKind::Auto;
  std::string pages;     // "1-3,7"; empty = all
  std::string password;
  VlmOptions vlm;
  TextBackendOptions text;
  RasterLimits limits;
  uint64_t max_input_bytes = kDefaultMaxFileBytes;  // a larger file or buffer is refused
  const std::atomic<bool>* cancel = nullptr;  // set by Ctrl-C: stop between pages
  // Boxes of every item and table cell in this origin; unset: as docling's pipelines write
  // them (text-layer pages bottom-left with top-left table cells, model pages top-left).
  std::optional<CoordOrigin> coord_origin;
  int page_image_dpi = 0;  // > 0: every page's pages[].image rendered at this resolution
};

// A text-layer page's boxes as JobOptions::coord_origin says (unset: docling's choice).
void set_text_layer_origin(Document& doc, const JobOptions& opt);

enum class DocStatus { Success, Partial, Failure, Cancelled };

// A model page's quality (pipeline/quality.h); suspects are refs into JobResult::doc.
struct PageQualityInfo {
  int page = 0;
  Confidence confidence;
  int checked = 0;
  std::vector<Ref> suspects;
};

struct JobResult {
  Document doc;
  std::vector<PageQualityInfo> quality;  // model pages, in page order
  DocStatus status = DocStatus::Failure;
  std::vector<PageMessage> errors;    // {page, "file: page N: what"}: the reason for failure/partial
  std::vector<PageMessage> warnings;  // noted, output still complete
  int pages = 0, vlm_pages = 0, text_pages = 0;
  double seconds = 0;
  int generated_tokens = 0;
};

// One document in flight, for a scheduler that runs its model pages elsewhere:
//   begin_document → (each model page: vlm_* stages, then end_vlm_page) → end_document.
struct DocJob {
  Source src;
  std::optional<std::vector<uint8_t>> bytes;  // the input in memory (src.path then only names it)
  JobResult result;
  uint64_t hash = 0;  // binary_hash of the file, for the document's origin
  std::unique_ptr<PageSource> source;
  std::vector<int> selected, text_pages, vlm_pages;  // page numbers
  TextBackendResult text;                           // the text layer's pages
  bool have_text = false;
  std::vector<std::unique_ptr<VlmPage>> vlm;        // one per vlm_pages entry
  double t0 = 0;
};
// Opens the source, selects and routes pages, runs the text layer. Returns false when
// nothing is left for the model (the document is complete or failed: end_document next).
bool begin_document(DocJob& job, const JobOptions& opt, const VlmEngine* engine);
// Records a model page's outcome: `error` when a stage threw. A page cancelled by the
// caller (no error, VlmPage::ok false) is not a failure: it just is not done.
void end_vlm_page(DocJob& job, size_t i, const std::string* error);
// Assembles the pages (model page, else the text layer's), sets status and time.
void end_document(DocJob& job, const JobOptions& opt);

// docling-core's create_hash of the file bytes: the low 64 bits of their SHA-256.
uint64_t binary_hash(const std::vector<uint8_t>& bytes);

}  // namespace docling
