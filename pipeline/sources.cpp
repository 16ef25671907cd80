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

std::vector<Source> collect_sources(const std::vector<std::string>& args,
                                    const std::vector<InputKind>& wanted) {
  std::vector<Source> out;
  for (const std::string& a : args) {
    if (a == "-") {
      out.push_back({fs::path(), fs::path("stdin")});
      continue;
    }
    fs::path p(a);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<Source> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        InputKind k = input_kind(it->path());
        if (std::find(wanted.begin(), wanted.end(), k) == wanted.end()) continue;
        fs::path rel = fs::relative(it->path(), p, ec);
        found.push_back({it->path(), rel.replace_extension()});
      }
      std::sort(found.begin(), found.end(), [](const Source& x, const Source& y) { return x.path < y.path; });
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back({p, p.filename().replace_extension()});
    } else {
      throw std::runtime_error(a + ": no such file or folder");
    }
  }
  return out;
}

}  // namespace docling
