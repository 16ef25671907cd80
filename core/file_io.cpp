#include "core/file_io.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <fstream>
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

constexpr size_t kNameMax = 255;  // bytes in one file name (NAME_MAX on Linux file systems)

// Writes `content` to a new temporary beside `path`; returns its name.
fs::path write_temporary(const fs::path& path, const std::string& content) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) throw FileError(path.parent_path().string() + ": cannot create folder: " + ec.message());
  // Unique per process and call, so parallel writers never share a temporary; short, so
  // a name near the 255-byte limit still has room for it.
  static std::atomic<unsigned> counter{0};
  std::string id = std::to_string(getpid()) + "." + std::to_string(counter++);
  fs::path tmp = path;
  tmp += ".tmp" + id;
  // A name near the limit has no room for the suffix: then a short name in the same folder
  // (remove_stale_temporaries knows both forms).
  if (tmp.filename().native().size() > kNameMax) tmp = path.parent_path() / (".dl" + id + ".tmp");
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

namespace {

// Digits at s[i..] as a number; advances i. -1 when there are none (or too many).
long long digits(const std::string& s, size_t& i) {
  size_t start = i;
  long long n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 18) n = n * 10 + (s[i++] - '0');
  return i == start || (i < s.size() && s[i] >= '0' && s[i] <= '9') ? -1 : n;
}

// "<PID>.<N>" exactly at s[i..end): the PID, else -1.
long long pid_counter(const std::string& s, size_t i, size_t end) {
  long long pid = digits(s, i);
  if (pid <= 0 || i >= end || s[i] != '.') return -1;
  ++i;
  return digits(s, i) >= 0 && i == end ? pid : -1;
}

// The writer's PID when `name` is one of write_temporary's names, else -1.
long long temporary_pid(const std::string& name) {
  if (name.rfind(".dl", 0) == 0 && name.size() > 7 && name.compare(name.size() - 4, 4, ".tmp") == 0)
    return pid_counter(name, 3, name.size() - 4);
  size_t at = name.rfind(".tmp");
  if (at == std::string::npos || at == 0) return -1;
  return pid_counter(name, at + 4, name.size());
}

// A zombie (killed, not yet reaped: a killed convert worker whose supervisor died too, until
// init reaps it) writes nothing more: dead.
bool process_alive(long long pid) {
  if (pid > 0x7fffffff) return false;
  if (!(::kill(pid_t(pid), 0) == 0 || errno == EPERM)) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: trust kill()
  size_t paren = line.rfind(')');  // the name may hold spaces and parentheses
  return !(paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z');
}

}  // namespace

std::vector<fs::path> remove_stale_temporaries(const fs::path& dir) {
  std::vector<fs::path> removed;
  std::error_code ec;
  const auto day_ago = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    long long pid = temporary_pid(it->path().filename().string());
    if (pid < 0) continue;
    std::error_code e2;
    if (!it->is_regular_file(e2) || it->is_symlink(e2)) continue;  // ours are plain files
    bool stale = !process_alive(pid) || it->last_write_time(e2) < day_ago;
    if (stale && fs::remove(it->path(), e2)) removed.push_back(it->path());
  }
  return removed;
}

FileBatch::~FileBatch() {
  for (auto& [tmp, path] : files_) std::remove(tmp.c_str());
}

void FileBatch::add(const fs::path& path, const std::string& content) {
  files_.emplace_back(write_temporary(path, content), path);
}

std::vector<fs::path> FileBatch::commit() {
  // What makes a rename fail once its temporary is written beside it: a folder in the way.
  // Checked for all first, so a failing batch replaces no earlier file.
  for (auto& [tmp, path] : files_) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      throw FileError(path.string() + ": cannot write: a folder is in the way");
  }
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
