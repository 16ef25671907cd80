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

std::string read_stdin() {
  return std::string((std::istreambuf_iterator<char>(std::cin)), {});
}

}  // namespace docling
