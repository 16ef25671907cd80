// Page sources: a PDF (through Poppler's C++ API) or a PNG/JPEG image treated as a
// one-page document, as docling treats images (page size = pixels at 72 dpi).
//
// Takes: a file path or bytes, an optional password. Gives: page count, page sizes in
// points (page /Rotate applied), RGB rasters (layout/image.h) and text-layer words.
//
// Threads: calls on one source are serialized by an internal lock (Poppler documents
// are not safe for concurrent use); open the file once per thread to render in parallel.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/document.h"
#include "core/image.h"
#include "layout/text_layer.h"

namespace docling {

struct PdfError : std::runtime_error {
  enum class Kind {
    NotFound,       // missing file, directory, unreadable
    NotPdf,         // neither PDF nor PNG/JPEG
    Corrupt,        // Poppler cannot parse it (truncated, damaged) or image decode failed
    Encrypted,      // needs a password and none was given
    WrongPassword,  // a password was given and it is wrong
    NoPages,        // parses but has zero pages
    BadPage,        // page number out of range, page missing or with an invalid size
    PageTooLarge,   // raster would exceed RasterLimits
  };
  Kind kind;
  std::string file;
  int page;  // 1-based; 0 when the error is about the whole file

  PdfError(Kind k, std::string f, int p, const std::string& what)
      : std::runtime_error(what), kind(k), file(std::move(f)), page(p) {}
};

const char* to_string(PdfError::Kind k);

// Rasters above these sizes are refused (PdfError::PageTooLarge) instead of
// allocating gigabytes for a poster-sized or malicious page.
struct RasterLimits {
  int max_side = 20000;                 // pixels, either dimension
  int64_t max_pixels = 100'000'000;     // width * height (300 MB as RGB)
  // A Flate stream of a PDF that inflates past this (through all its Flate layers) makes the
  // file refused before Poppler reads it (layout/inflate_guard.h); 0 = no check.
  uint64_t max_inflated_bytes = uint64_t(512) << 20;
};

struct OpenOptions {
  std::string password;  // tried as owner and as user password
  RasterLimits limits;
};

class PageSource {
 public:
  virtual ~PageSource() = default;

  const std::string& name() const { return name_; }  // path or the name given to open_bytes
  virtual const char* mimetype() const = 0;          // application/pdf, image/png, image/jpeg
  virtual int page_count() const = 0;

  // Page size in points with the page rotation applied (90/270 swap width and
  // height), as docling reports it. page_no is 1-based; out of range throws BadPage.
  virtual Size page_size(int page_no) const = 0;
  // Rotation of the page (0, 90, 180, 270); always 0 for images.
  virtual int page_rotation(int page_no) const = 0;

  // Raster size at `dpi`: round_half_even(points * dpi / 72), at least 1 (docling
  // renders then resizes to round(size * scale)).
  void raster_size(int page_no, double dpi, int* width, int* height) const;
  // RGB raster at `dpi` (72 = one pixel per point; docling's VLM input is 144).
  Image render(int page_no, double dpi) const;
  // RGB raster of exactly width x height (aspect not preserved).
  virtual Image render_size(int page_no, int width, int height) const = 0;
  // RGB raster whose longer side is `max_side` pixels, aspect preserved.
  Image render_fit(int page_no, int max_side) const;
  // Whether a raster of this size is within the RasterLimits (render would not refuse it).
  bool raster_fits(int width, int height) const;

  // Words of the text layer, in Poppler's reading order; empty for images.
  virtual std::vector<TextWord> words(int page_no) const = 0;

 protected:
  explicit PageSource(std::string name, RasterLimits limits)
      : name_(std::move(name)), limits_(limits) {}
  void check_page(int page_no) const;
  void check_raster(int page_no, int width, int height) const;

  std::string name_;
  RasterLimits limits_;
};

// Open a PDF, PNG or JPEG file (detected from its bytes, not its name). Throws PdfError.
std::unique_ptr<PageSource> open_source(const std::string& path, const OpenOptions& opt = {});
// Same from memory; `name` is used in messages.
std::unique_ptr<PageSource> open_source_bytes(std::vector<uint8_t> bytes, const std::string& name,
                                              const OpenOptions& opt = {});

// Bilinear / box-filter resize used for image sources (and available to callers).
Image resize_image(const Image& src, int width, int height);

}  // namespace docling
