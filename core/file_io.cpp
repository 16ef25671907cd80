#include "core/file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace fs = std::filesystem;

namespace docling {

std::string read_file(const fs::path& path, uint64_t max_bytes) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw FileError(path.string() + ": cannot open: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw FileError(path.string() + ": is a folder");
  if (!S_ISREG(st.st_mode)) throw FileError(path.string() + ": not a regular file (a device, pipe or socket)");
  if (uint64_t(st.st_size) > max_bytes)
    throw FileError(path.string() + ": " + std::to_string(st.st_size) + " bytes, over the input limit of " +
                    std::to_string(max_bytes));
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw FileError(path.string() + ": cannot open: " + std::strerror(errno));
  std::string s(size_t(st.st_size), '\0');
  size_t got = std::fread(s.data(), 1, s.size(), f);
  bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) throw FileError(path.string() + ": read error");
  s.resize(got);  // the file may have shrunk since stat; it never reads past the cap
  return s;
}

namespace {

// Writes `content` to a new temporary beside `path`; returns its name.
fs::path write_temporary(const fs::path& path, const std::string& content) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) throw FileError(path.parent_path().string() + ": cannot create folder: " + ec.message());
  // Unique per process and call, so parallel writers never share a temporary; short, so
  // a name near the 255-byte limit still has room for it.
  static std::atomic<unsigned> counter{0};
  fs::path tmp = path;
  tmp += ".tmp" + std::to_string(getpid()) + "." + std::to_string(counter++);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw FileError(path.string() + ": cannot write: " + std::strerror(errno));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok &= std::fflush(f) == 0;
  ok &= fsync(fileno(f)) == 0 || errno == EINVAL;
  ok &= std::fclose(f) == 0;
  if (!ok) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw FileError(path.string() + ": cannot write: " + why);
  }
  return tmp;
}

void rename_into_place(const fs::path& tmp, const fs::path& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw FileError(path.string() + ": cannot write: " + why);
  }
}

}  // namespace

void write_file_atomic(const fs::path& path, const std::string& content) {
  rename_into_place(write_temporary(path, content), path);
}

FileBatch::~FileBatch() {
  for (auto& [tmp, path] : files_) std::remove(tmp.c_str());
}

void FileBatch::add(const fs::path& path, const std::string& content) {
  files_.emplace_back(write_temporary(path, content), path);
}

std::vector<fs::path> FileBatch::commit() {
  std::vector<fs::path> done;
  try {
    for (auto& [tmp, path] : files_) {
      rename_into_place(tmp, path);
      done.push_back(path);
    }
  } catch (...) {
    for (const fs::path& p : done) std::remove(p.c_str());  // all or nothing
    throw;
  }
  files_.clear();
  return done;
}

}  // namespace docling
