// Converting one source document: a PDF or page image through the text-layer backend,
// the VLM, or both (auto), or a DocTags / DoclingDocument JSON file read as is.
//
// Takes: a Source (pipeline/sources.h), options, and the VLM engine when one is loaded.
// Gives: the Document plus its status (success, partial, failure), with every error and
// warning naming the file and page.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "doctags/document.h"
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
PipelineKind parse_pipeline(const std::string& s);  // throws std::invalid_argument
const char* to_string(PipelineKind k);

struct ConvertOptions {
  PipelineKind pipeline = PipelineKind::Auto;
  std::string pages;     // "1-3,7"; empty = all
  std::string password;
  VlmOptions vlm;
  TextBackendOptions text;
  RasterLimits limits;
  const std::atomic<bool>* cancel = nullptr;  // set by Ctrl-C: stop between pages
  // Progress: called after each page with (pages done in this document, pages selected).
  std::function<void(int, int)> on_page;
};

enum class DocStatus { Success, Partial, Failure, Cancelled };
const char* to_string(DocStatus s);

struct ConvertResult {
  Document doc;
  DocStatus status = DocStatus::Failure;
  std::vector<std::string> errors;    // "file: page N: what" — the reason for failure/partial
  std::vector<std::string> warnings;  // noted, output still complete
  int pages = 0, vlm_pages = 0, text_pages = 0;
  double seconds = 0;
  int generated_tokens = 0;
};

// Never throws for bad input: errors are in the result.
ConvertResult convert_document(const Source& src, const ConvertOptions& opt, const VlmEngine* engine);

// docling-core's create_hash of the file bytes: the low 64 bits of their SHA-256.
uint64_t binary_hash(const std::vector<uint8_t>& bytes);

}  // namespace docling
