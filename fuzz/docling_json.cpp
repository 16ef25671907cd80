// A DoclingDocument JSON (what `docling-cpp export` and convert read) -> Document -> every exporter.
// A clean exception is the expected answer to bad input; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"

using namespace docling;

FUZZ_TARGET(docling_json) {
  Document doc;
  try {
    doc = read_docling_json(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception&) {
    return 0;
  }
  fuzz::export_all(doc, unsigned(size % 8));
  return 0;
}
