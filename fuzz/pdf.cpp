// PDF bytes -> our Poppler wrapper (open_source_bytes): page count, sizes, rotation, the text
// layer's words and lines, a small raster, then the text backend's Document and every exporter.
// Small page and raster limits keep one input fast (Poppler itself is not instrumented: coverage
// guides the fuzzer through our code, Poppler's crashes still show).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_common.h"
#include "layout/pdf.h"
#include "layout/text_backend.h"
#include "layout/text_layer.h"

using namespace docling;

FUZZ_TARGET(pdf) {
  OpenOptions opt;
  opt.limits.max_side = 1024;
  opt.limits.max_pixels = 1 << 20;
  if (size % 4 == 1) opt.password = "1234";
  std::unique_ptr<PageSource> src;
  try {
    src = open_source_bytes(std::vector<uint8_t>(data, data + size), "fuzz.pdf", opt);
  } catch (const std::exception&) {
    return 0;
  }
  const int n = src->page_count();
  std::vector<int> pages;
  for (int p = 1; p <= n && p <= 3; ++p) {
    pages.push_back(p);
    try {
      src->page_size(p);
      src->page_rotation(p);
      int w = 0, h = 0;
      src->raster_size(p, 72, &w, &h);
      TextPage tp = read_text_page(*src, p);
      text_in_rect(tp, 0, 0, tp.width / 2, tp.height / 2);
      if (p == 1) src->render_fit(p, 48);
    } catch (const std::exception&) {
    }
  }
  try {
    src->page_size(0);
  } catch (const std::exception&) {
  }
  TextBackendResult r = convert_text_layer(*src, pages);
  fuzz::export_all(r.doc, unsigned(size % 8));
  return 0;
}
