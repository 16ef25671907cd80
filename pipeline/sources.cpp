#include "pipeline/sources.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace docling {

namespace fs = std::filesystem;

InputKind input_kind(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".pdf") return InputKind::Pdf;
  if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") return InputKind::Image;
  if (ext == ".doctags" || ext == ".dt") return InputKind::DocTags;
  if (ext == ".json") return InputKind::DoclingJson;
  return InputKind::Unknown;
}

}  // namespace docling
