// Input discovery: the files and folders named on the command line become a list of
// documents, each with the relative name its outputs get.
//
// Takes: paths ("-" = stdin). Gives: Source entries in a stable order.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace docling {

struct Source {
  std::filesystem::path path;  // empty for stdin
  std::filesystem::path stem;  // output name without extension, relative to OUTDIR
  bool is_stdin() const { return path.empty(); }
};

enum class InputKind { Pdf, Image, DocTags, DoclingJson, Unknown };
InputKind input_kind(const std::filesystem::path& p);  // by extension

// Files are taken as given (any extension: a wrong one fails later, with its name).
// Folders are searched recursively for files whose kind is in `wanted`, sorted by path;
// outputs keep the path relative to the folder. Throws std::runtime_error for a path
// that does not exist.
std::vector<Source> collect_sources(const std::vector<std::string>& args,
                                    const std::vector<InputKind>& wanted);

}  // namespace docling
