// DocTags text (a model's output, or a .doctags file given to `export`) -> parser -> Document ->
// every exporter. The input's length picks the parse mode (whole / streamed in chunks, with or
// without page images, header flags) and the export options, so seeds stay plain DocTags.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "doctags/parser.h"
#include "fuzz_common.h"

using namespace docling;

FUZZ_TARGET(doctags) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const unsigned mode = unsigned(size % 8);
  DocTagsParseOptions opt;
  opt.header_flags = mode & 4;
  Document doc;
  if (mode & 1) {
    // Streamed as a model emits it, with <page_break> splitting pages; chunk sizes from the bytes.
    opt.page_break_splits = true;
    DocTagsParser p(doc, opt);
    Image img(37, 53, 200);
    p.begin_page((mode & 2) ? &img : nullptr);
    size_t i = 0;
    while (i < size) {
      size_t n = 1 + data[i] % 23;
      if (n > size - i) n = size - i;
      p.feed(text.substr(i, n));
      i += n;
    }
    p.finish();
  } else {
    std::vector<std::string> pages = split_multipage_doctags(text);
    std::vector<Image> images;
    if (mode & 2)
      for (size_t k = 0; k < pages.size(); ++k) images.emplace_back(int(20 + k % 7), int(30 + k % 5), 128);
    DocTagsReport rep;
    doc = from_doctags_and_image_pairs(pages, (mode & 2) ? &images : nullptr, "fuzz", opt, &rep);
  }
  fuzz::export_all(doc, mode);
  return 0;
}
