// Files in and out: whole-file reads with a size cap, and atomic writes.
//
// Takes: paths and bytes. Gives: file contents, and files that either exist whole or not
// at all. Errors are FileError naming the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace docling {

struct FileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a regular file (a FIFO, device or folder is refused: /dev/zero would never end).
// Throws FileError when the file is larger than max_bytes.
constexpr uint64_t kDefaultMaxFileBytes = uint64_t(2) << 30;  // 2 GiB
std::string read_file(const std::filesystem::path& path, uint64_t max_bytes = kDefaultMaxFileBytes);

// Writes to a short temporary name beside `path` and renames it over `path`, so a reader
// (or a crash) never sees a half-written file. Creates parent folders.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

// Temporaries that a killed process left in `dir` (not below it): names of the pattern
// write_file_atomic and FileBatch use ("<name>.tmp<PID>.<N>", ".dl<PID>.<N>.tmp") whose
// process is gone, or that are older than a day (the PID may have been reused). Removes
// them and returns their paths; a missing folder gives none. Never throws.
std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& dir);

// Files that appear together or not at all (a document's formats): add() writes each to a
// temporary beside its final name, commit() renames them all into place. Destroyed without
// commit(), or when a write fails, the temporaries are removed and no final file appears.
class FileBatch {
 public:
  FileBatch() = default;
  FileBatch(const FileBatch&) = delete;
  FileBatch& operator=(const FileBatch&) = delete;
  ~FileBatch();
  void add(const std::filesystem::path& path, const std::string& content);  // throws FileError
  std::vector<std::filesystem::path> commit();                              // throws FileError

 private:
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> files_;  // temporary, final
};

}  // namespace docling
