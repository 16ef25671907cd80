// The ledger (see ledger.hpp).
#include "ledger.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace dcli {

namespace {

using ojson = nlohmann::ordered_json;

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

// Our own lines nest three deep; anything deeper is not ours, and refusing it before the
// parser runs keeps a hostile file from costing stack.
bool shallow(std::string_view line) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > 8) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

}  // namespace

std::string json_key(const std::string& name) { return ojson::parse(dump(ojson(name))).get<std::string>(); }

std::string to_line(const LedgerEntry& e) {
  ojson errors = ojson::array();
  for (const PageError& p : e.errors) errors.push_back(ojson{{"page", p.page}, {"reason", p.reason}});
  ojson j;
  j["input"] = e.input;
  j["size"] = e.size;
  j["sha256"] = e.sha256;
  j["status"] = e.status;
  j["pages"] = ojson{{"ok", e.pages_ok}, {"failed", e.pages_failed}, {"errors", errors}};
  j["outputs"] = e.outputs;
  j["seconds"] = double(int64_t(e.seconds * 1000 + 0.5)) / 1000;  // ms: more is noise
  j["finished"] = double(int64_t(e.finished * 1000 + 0.5)) / 1000;
  j["version"] = e.version;
  j["settings"] = e.settings;
  return dump(j) + "\n";
}

std::optional<LedgerEntry> from_line(std::string_view line) {
  if (line.size() > (64u << 20) || !shallow(line)) return std::nullopt;
  try {
    ojson j = ojson::parse(line);
    LedgerEntry e;
    e.input = j.at("input").get<std::string>();
    e.size = j.at("size").get<uint64_t>();
    e.sha256 = j.at("sha256").get<std::string>();
    e.status = j.at("status").get<std::string>();
    const ojson& p = j.at("pages");
    e.pages_ok = p.at("ok").get<int>();
    e.pages_failed = p.at("failed").get<int>();
    for (const ojson& x : p.value("errors", ojson::array()))
      e.errors.push_back({x.at("page").get<int>(), x.at("reason").get<std::string>()});
    e.outputs = j.at("outputs").get<std::vector<std::string>>();
    e.seconds = j.value("seconds", 0.0);
    e.finished = j.value("finished", 0.0);
    e.version = j.value("version", "");
    e.settings = j.at("settings").get<std::string>();
    if (e.status != "SUCCESS" && e.status != "PARTIAL" && e.status != "FAILURE") return std::nullopt;
    return e;
  } catch (const std::exception&) {
    return std::nullopt;  // not JSON, or not a ledger line
  }
}

std::string ledger_file_name(const std::string& shard_label) {
  return shard_label.empty() ? "docling-cpp.ledger.jsonl" : "docling-cpp.ledger." + shard_label + ".jsonl";
}

std::vector<fs::path> find_ledgers(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    bool named = n.rfind("docling-cpp.ledger.", 0) == 0 && n.size() > 6 && n.compare(n.size() - 6, 6, ".jsonl") == 0;
    std::error_code e2;
    if (named && it->is_regular_file(e2)) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

LedgerRead read_ledger(const fs::path& file) { return read_ledger(file, 0); }

LedgerRead read_ledger(const fs::path& file, uint64_t from) {
  LedgerRead r;
  std::error_code ec;
  if (!fs::exists(file, ec)) return r;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot be read: " + std::strerror(errno));
  if (from && !in.seekg(std::streamoff(from))) return r;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) {  // no '\n' after it: a line cut short by a kill; whatever it holds is not trusted
      r.torn_tail = !line.empty();
      break;
    }
    if (line.empty()) continue;
    if (std::optional<LedgerEntry> e = from_line(line)) r.entries.push_back(std::move(*e));
    else ++r.bad_lines;
  }
  if (in.bad()) throw std::runtime_error(file.string() + ": read error");
  return r;
}

namespace {

[[noreturn]] void fail(const fs::path& p, const std::string& what) {
  throw std::runtime_error(p.string() + ": " + what + ": " + std::strerror(errno));
}

// Bytes after the last '\n' (a torn line): read backwards in blocks.
uint64_t torn_bytes(int fd, uint64_t size) {
  char buf[4096];
  uint64_t end = size;
  while (end > 0) {
    uint64_t start = end > sizeof buf ? end - sizeof buf : 0;
    ssize_t n = ::pread(fd, buf, size_t(end - start), off_t(start));
    if (n <= 0) return 0;  // unreadable: leave the file as it is
    for (ssize_t i = n; i-- > 0;)
      if (buf[i] == '\n') return size - (start + uint64_t(i) + 1);
    end = start;
  }
  return size;  // no newline at all: the only line is torn
}

}  // namespace

uint64_t LedgerWriter::open(const fs::path& file) {
  path_ = file;
  bool existed = fs::exists(file);
  fd_ = ::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(file, "cannot be opened");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    errno = err;
    if (err == EWOULDBLOCK) throw std::runtime_error(file.string() + ": another run is writing this ledger (same output folder and shard)");
    fail(file, "cannot be locked");
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail(file, "cannot be read");
  uint64_t cut = torn_bytes(fd_, uint64_t(st.st_size));
  if (cut && (::ftruncate(fd_, off_t(uint64_t(st.st_size) - cut)) != 0 || ::fdatasync(fd_) != 0))
    fail(file, "cannot be repaired");
  if (!existed) {  // the new name must survive a power loss too
    int dir = ::open(file.parent_path().empty() ? "." : file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  return cut;
}

void LedgerWriter::append(const LedgerEntry& e) {
  std::string line = to_line(e);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail(path_, "cannot be read");
  // One write() of a whole line: a kill lands before or after it. Only a crash of the
  // machine can leave part of it, which the next open() cuts off.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      if (::ftruncate(fd_, st.st_size) != 0) {}  // a disk-full half line must not glue onto the next
      errno = err;
      fail(path_, "cannot be written");
    }
    done += size_t(n);
  }
  if (::fdatasync(fd_) != 0) fail(path_, "cannot be flushed to disk");
}

LedgerWriter::~LedgerWriter() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dcli
