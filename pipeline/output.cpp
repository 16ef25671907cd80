#include "pipeline/output.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace docling {

const char* extension(Format f) {
  switch (f) {
    case Format::Markdown: return "md";
    case Format::Html: return "html";
    case Format::Json: return "json";
    case Format::DocTags: return "doctags";
    case Format::Text: return "txt";
  }
  return "out";
}

std::vector<Format> parse_formats(const std::string& list) {
  std::vector<Format> out;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    Format f;
    if (name == "md" || name == "markdown") f = Format::Markdown;
    else if (name == "html") f = Format::Html;
    else if (name == "json") f = Format::Json;
    else if (name == "doctags" || name == "dt") f = Format::DocTags;
    else if (name == "text" || name == "txt") f = Format::Text;
    else throw OutputError("unknown output format '" + name + "' (use md, html, json, doctags, text)");
    bool seen = false;
    for (Format g : out) seen |= g == f;
    if (!seen) out.push_back(f);
  }
  if (out.empty()) throw OutputError("no output format given");
  return out;
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) throw OutputError(path.parent_path().string() + ": cannot create folder: " + ec.message());
  // Unique per process and call, so parallel writers never share a temporary.
  static std::atomic<unsigned> counter{0};
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw OutputError(path.string() + ": cannot write: " + std::strerror(errno));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok &= std::fflush(f) == 0;
  ok &= fsync(fileno(f)) == 0 || errno == EINVAL;
  ok &= std::fclose(f) == 0;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw OutputError(path.string() + ": cannot write: " + why);
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw OutputError(path.string() + ": cannot open");
  std::string s((std::istreambuf_iterator<char>(f)), {});
  if (f.bad()) throw OutputError(path.string() + ": read error");
  return s;
}

std::string read_stdin() {
  return std::string((std::istreambuf_iterator<char>(std::cin)), {});
}

}  // namespace docling
