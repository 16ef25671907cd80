// Streaming DocTags parser: text chunks (as a model emits them) → a DoclingDocument.
//
// Feed any split of the page text (one byte at a time gives the same document as the whole
// string); each element is added to the document when its close tag arrives, and
// finish() ends the page. Well-formed input gives exactly what docling-core's
// load_from_doctags gives (coordinates (N/500.0)*W on the page image size, captions placed
// before their table/picture, OTSL spans without header flags, picture classes in meta,
// picture crops, list items without prov when there is no image, ...).
//
// Malformed input never throws; it is repaired and reported in warnings() with page and
// byte offset (see parser.cpp for the rules): an element left open is kept with its text up
// to the next block tag (or the end: the page is flagged truncated), stray text becomes a
// text item, unknown tags are dropped, ragged OTSL rows are padded, exact repeats of an
// element and long runs of the same element (model loops) are dropped and flagged.
//
// Takes: DocTags text, optional page images (layout/image.h). Gives: a Document.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.h"
#include "core/image.h"
#include "core/utf8.h"

namespace docling {

struct DocTagsParseOptions {
  bool embed_page_images = true;    // pages[].image = the page image as a PNG data URI
  bool picture_images = true;       // pictures[].image = crop of the page image
  bool header_flags = false;        // opt-in: ched/rhed/srow set column_header/row_header/row_section
  bool page_break_splits = false;   // streaming: <page_break> ends the page and begins the next
  int max_repeats = 8;              // same tag+text in a row beyond this is a loop (dropped)
  size_t max_warnings_per_page = 200;
};

enum class WarningKind : uint8_t {
  Unclosed,       // element closed by a later tag, or still open at the end (truncation)
  StrayClose,     // close tag without an open element
  StrayText,      // text outside any element
  UnknownTag,     // tag not in the vocabulary / not valid here (dropped)
  Misplaced,      // known tag in a place it cannot be (e.g. <key_1> outside a region)
  RaggedTable,    // OTSL rows of different lengths (padded)
  NoLocation,     // element without four <loc_N> (kept without provenance)
  Repeated,       // exact repeat of the previous element or a loop (dropped)
  Truncated,      // page ended inside the document (no </doctag>, open elements, cut tag)
  Suppressed,     // too many warnings on this page; the rest are not recorded
  BadLocation,    // <loc_N> past the 0..500 grid (clamped to 500)
};

struct ParseWarning {
  int page = 0;        // 1-based page number
  size_t offset = 0;   // byte offset in that page's DocTags text
  WarningKind kind = WarningKind::UnknownTag;
  std::string message;
};

struct PageStatus {
  int page_no = 0;
  bool truncated = false;  // generation cut: open elements or no </doctag> at the end
  bool loop = false;       // repeated elements were dropped
  bool ended = false;      // </doctag> seen
  int items = 0;           // items added from this page
  size_t bytes = 0;        // DocTags bytes fed
};

class DocTagsParser {
 public:
  // Adds pages and items to `doc` (which must outlive the parser).
  explicit DocTagsParser(Document& doc, DocTagsParseOptions options = {});
  ~DocTagsParser();
  DocTagsParser(const DocTagsParser&) = delete;
  DocTagsParser& operator=(const DocTagsParser&) = delete;

  // Starts the next page (number = last page of doc + 1) and returns its number. The page
  // image (at 72 dpi) sets the page size (1x1 without one) and is used for crops; it must stay
  // alive until finish(). A page_size in points (width and height > 0) says the image is at
  // another scale: boxes follow page_size, crops the image. feed() without begin_page()
  // starts a page without an image.
  int begin_page(const Image* image = nullptr, Size page_size = {});
  void feed(std::string_view chunk);
  // Ends the current page: closes what is still open (flagging truncation). Idempotent.
  void finish();

  bool page_open() const;
  // Current page: </doctag> seen (the model is done), or a loop was detected (a
  // generation loop may stop early on either).
  bool ended() const;
  bool loop_detected() const;

  const std::vector<ParseWarning>& warnings() const;
  const std::vector<PageStatus>& pages() const;  // one per page begun

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What the convenience functions report besides the document.
struct DocTagsReport {
  std::vector<ParseWarning> warnings;
  std::vector<PageStatus> pages;
};

// One page string (+ optional page image) appended as the next page of `doc`.
void add_doctags_page(Document& doc, std::string_view doctags, const Image* image = nullptr,
                      const DocTagsParseOptions& options = {}, DocTagsReport* report = nullptr);

// DocTagsDocument.from_doctags_and_image_pairs + load_from_doctags: one string per page.
// `images` may be null; otherwise it must have one image per page (std::invalid_argument).
Document from_doctags_and_image_pairs(const std::vector<std::string>& pages,
                                      const std::vector<Image>* images = nullptr,
                                      const std::string& name = "Document",
                                      const DocTagsParseOptions& options = {},
                                      DocTagsReport* report = nullptr);

// DocTagsDocument.from_multipage_doctags_and_images: exact leading "<doctag>" and trailing
// "</doctag>" removed, split on "<page_break>", each part trimmed.
std::vector<std::string> split_multipage_doctags(std::string_view doctags);
Document from_multipage_doctags(std::string_view doctags,
                                const std::vector<Image>* images = nullptr,
                                const std::string& name = "Document",
                                const DocTagsParseOptions& options = {},
                                DocTagsReport* report = nullptr);

const char* to_string(WarningKind kind);

// Python str.strip() (Unicode whitespace) on UTF-8 text. (len(): utf8_length_strict in
// core/utf8.h.)
std::string_view python_strip(std::string_view s);

}  // namespace docling
