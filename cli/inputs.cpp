// Input discovery: the files and folders named on the command line become documents, each
// with the relative name its outputs get (see cli.hpp).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "cli.hpp"

namespace fs = std::filesystem;

namespace dcli {

Kind kind_of(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".pdf") return Kind::Pdf;
  if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") return Kind::Image;
  if (ext == ".doctags" || ext == ".dt") return Kind::DocTags;
  if (ext == ".json") return Kind::Json;
  return Kind::Other;
}

std::vector<Source> collect_sources(const std::vector<std::string>& args, const std::vector<Kind>& wanted) {
  std::vector<Source> out;
  for (const std::string& a : args) {
    if (a == "-") {
      out.push_back({fs::path(), "stdin"});
      continue;
    }
    fs::path p(a);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<Source> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        if (std::find(wanted.begin(), wanted.end(), kind_of(it->path())) == wanted.end()) continue;
        fs::path rel = fs::relative(it->path(), p, ec);
        found.push_back({it->path(), rel.replace_extension().generic_string()});
      }
      std::sort(found.begin(), found.end(), [](const Source& x, const Source& y) { return x.path < y.path; });
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back({p, p.filename().replace_extension().string()});
    } else {
      throw UsageError(display(a) + ": no such file or folder");
    }
  }
  return out;
}

void rename_duplicates(std::vector<Source>& sources) {
  std::set<std::string> used;
  for (Source& s : sources) {
    std::string name = s.stem;
    for (int k = 2; !used.insert(name).second; ++k) name = s.stem + "-" + std::to_string(k);
    if (name != s.stem) print_warning(s.name() + ": output renamed to " + escape(name));
    s.stem = name;
  }
}

std::vector<uint8_t> read_stdin() {
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  return bytes;
}

}  // namespace dcli
