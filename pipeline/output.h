// Writing results: atomic file writes and the output formats a user can ask for.
//
// Takes: paths and bytes. Gives: files that either exist whole or not at all.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace docling {

struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Format { Markdown, Html, Json, DocTags, Text };

const char* extension(Format f);  // "md", "html", "json", "doctags", "txt"
// "md,html,json,doctags,text" (also "markdown", "txt"); throws OutputError on an unknown name.
std::vector<Format> parse_formats(const std::string& list);

// Writes to a temporary file beside `path` and renames it over `path`, so a reader (or a
// crash) never sees a half-written file. Creates parent folders. Throws OutputError.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

std::string read_file(const std::filesystem::path& path);  // throws OutputError
std::string read_stdin();

}  // namespace docling
