// An input document and what kind it is.
//
// Takes: a path. Gives: Source entries and their kind by extension.
#pragma once

#include <filesystem>

namespace docling {

struct Source {
  std::filesystem::path path;  // the file, or the name of bytes in memory
  std::filesystem::path stem;  // output name without extension
};

enum class InputKind { Pdf, Image, DocTags, DoclingJson, Unknown };
InputKind input_kind(const std::filesystem::path& p);  // by extension

}  // namespace docling
