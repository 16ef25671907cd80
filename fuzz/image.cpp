// PNG/JPEG bytes -> decode_image and peek_image_size, and the same bytes as a one-page document
// through open_source_bytes (page size, raster, resize). A decoded image goes back through
// encode_png -> decode_image and must come back equal.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/image.h"
#include "fuzz_common.h"
#include "layout/pdf.h"

using namespace docling;

FUZZ_TARGET(image) {
  std::vector<uint8_t> bytes(data, data + size);
  int w = 0, h = 0;
  // decode_image allows 2^28 pixels; callers bound it with the header's size first, as this does.
  // An image whose header hides its size (peek fails) and decodes large still shows as an OOM.
  if (peek_image_size(bytes, &w, &h) && int64_t(w) * h > (int64_t(1) << 22)) return 0;
  try {
    Image img = decode_image(bytes, "fuzz.png");
    if (img.rgb.size() != size_t(img.width) * size_t(img.height) * 3) {
      std::fprintf(stderr, "decode_image: %dx%d with %zu bytes\n", img.width, img.height, img.rgb.size());
      std::abort();
    }
    // The round trip only for small images: a large one is slow under the sanitizers, not wrong.
    Image back = img.rgb.size() <= (3u << 20) ? decode_image(encode_png(img), "round trip") : img;
    if (back.width != img.width || back.height != img.height || back.rgb != img.rgb) {
      std::fprintf(stderr, "PNG round trip differs\n");
      std::abort();
    }
    img.crop(-3, 2, img.width / 2 + 5, img.height + 7);
  } catch (const std::exception&) {
  }
  try {
    OpenOptions opt;
    opt.limits.max_side = 2048;
    opt.limits.max_pixels = 1 << 21;
    std::unique_ptr<PageSource> src = open_source_bytes(std::move(bytes), "fuzz.png", opt);
    src->page_size(1);
    src->render_fit(1, 40);
    src->render_size(1, 7, 3);
    src->words(1);
  } catch (const std::exception&) {
  }
  return 0;
}
