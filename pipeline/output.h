// The output formats a user can ask for (file writes are core/file_io.h).
//
// Takes: paths and bytes. Gives: files that either exist whole or not at all.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/file_io.h"

namespace docling {

struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Format { Markdown, Html, Json, DocTags, Text };

const char* extension(Format f);  // "md", "html", "json", "doctags", "txt"
// "md,html,json,doctags,text" (also "markdown", "txt"); throws OutputError on an unknown name.
std::vector<Format> parse_formats(const std::string& list);

std::string read_stdin();

}  // namespace docling
