// Archives as inputs (see archive.hpp): listing members once, and reading them forward with
// one libarchive handle per archive that every worker shares.
#include "archive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace fs = std::filesystem;

namespace dcli {

namespace {

// Compound suffixes first: the longest match is the one stripped.
const char* const kSuffixes[] = {".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2", ".tgz", ".tzst",
                                 ".txz",    ".tbz2",    ".zip",    ".tar"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

size_t suffix_length(const std::string& name) {
  std::string n = lower(name);
  for (const char* s : kSuffixes) {
    size_t k = std::strlen(s);
    if (n.size() > k && n.compare(n.size() - k, k, s) == 0) return k;
  }
  return 0;
}

// An open archive: zip and tar only, with the decompressors built into libarchive (never an
// external program started on untrusted bytes). The descriptor is checked first, as
// read_input_file does: a FIFO or device named like an archive is refused, not waited on.
struct Handle {
  archive* a = nullptr;
  int fd = -1;
  ~Handle() {
    if (a) archive_read_free(a);
    if (fd >= 0) ::close(fd);
  }
};

std::string libarchive_error(archive* a) {
  const char* m = a ? archive_error_string(a) : nullptr;
  return escape(m ? m : "unknown libarchive error");
}

std::unique_ptr<Handle> open_archive(const fs::path& file, std::string& error) {
  auto h = std::make_unique<Handle>();
  h->fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (h->fd < 0) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(h->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "not a regular file";
    return nullptr;
  }
  h->a = archive_read_new();
  if (!h->a) {
    error = "out of memory";
    return nullptr;
  }
  archive_read_support_format_zip(h->a);
  archive_read_support_format_tar(h->a);
  archive_read_support_filter_gzip(h->a);
  archive_read_support_filter_bzip2(h->a);
  archive_read_support_filter_xz(h->a);
  archive_read_support_filter_zstd(h->a);
  if (archive_read_open_fd(h->a, h->fd, 1 << 16) != ARCHIVE_OK) {
    error = libarchive_error(h->a);
    return nullptr;
  }
  return h;
}

// The member's name as stored: UTF-8 when libarchive knows the encoding (zip's flag), else
// the raw bytes (tar), so the same archive gives the same keys on every machine.
std::string entry_name(archive_entry* e) {
  const char* n = archive_entry_pathname_utf8(e);
  if (!n) n = archive_entry_pathname(e);
  return n ? n : "";
}

bool is_damage(int r) { return r == ARCHIVE_FATAL || r == ARCHIVE_RETRY; }

Source failed_archive(const fs::path& file, const std::string& key, const std::string& why) {
  Source s{file, key, key};
  s.archive = file;
  s.error = why;
  return s;
}

// Why a member that is not a plain file is skipped; "" for a folder (nothing to say).
std::string not_a_file(archive_entry* e) {
  if (archive_entry_hardlink(e)) return "a hard link; links are not followed";
  switch (archive_entry_filetype(e)) {
    case AE_IFREG: return {};
    case AE_IFDIR: return {};
    case AE_IFLNK: return "a symbolic link; links are not followed";
    default: return "not a regular file (a device, pipe or socket)";
  }
}

}  // namespace

bool is_archive(const fs::path& p) { return suffix_length(p.filename().string()) > 0; }

std::string archive_stem(const std::string& name) { return name.substr(0, name.size() - suffix_length(name)); }

std::string clean_member_name(const std::string& raw, std::string& why) {
  why.clear();
  for (unsigned char c : raw)
    if (c < 0x20 || c == 0x7f) return why = "its name holds a control character", "";
  if (raw.find('\\') != std::string::npos) return why = "its name holds a backslash (a Windows path)", "";
  if (!raw.empty() && raw[0] == '/') return why = "its name is an absolute path", "";
  if (raw.size() >= 2 && std::isalpha((unsigned char)raw[0]) && raw[1] == ':')
    return why = "its name starts with a drive letter", "";
  std::string out;
  for (size_t i = 0; i <= raw.size();) {
    size_t j = std::min(raw.find('/', i), raw.size());
    std::string part = raw.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return why = "its name climbs out with '..'", "";
    out += (out.empty() ? "" : "/") + part;
  }
  if (out.empty()) why = "it has no name";
  return out;
}

void list_archive(const fs::path& file, const std::string& key, const std::string& stem,
                  const std::vector<Kind>& wanted, std::vector<Source>& out) {
  const std::string base = stem.empty() ? key : stem;
  std::string error;
  std::unique_ptr<Handle> h = open_archive(file, error);
  if (!h) {
    out.push_back(failed_archive(file, key, "cannot be read as an archive: " + error));
    return;
  }
  auto warn = [&](const std::string& member, const std::string& why) {
    print_warning(display(file) + ": member '" + escape(member) + "' skipped: " + why);
  };
  size_t first = out.size();
  std::unordered_map<std::string, size_t> seen;  // clean name -> index in out
  std::vector<size_t> replaced;                  // earlier copies of a member named again
  int nested = 0;
  std::string last;
  for (size_t ordinal = 0;; ++ordinal) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(h->a, &e);
    if (r == ARCHIVE_EOF) break;
    if (is_damage(r)) {
      std::string where = last.empty() ? "at its start" : "after member '" + escape(last) + "'";
      out.push_back(failed_archive(file, key, "damaged archive (" + where + "): " + libarchive_error(h->a)));
      break;
    }
    std::string raw = entry_name(e);
    if (r == ARCHIVE_FAILED) {  // this header is unusable; the next may be fine
      warn(raw, "unreadable header: " + libarchive_error(h->a));
      continue;
    }
    last = raw;
    if (archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e)) continue;
    std::string why;
    std::string name = clean_member_name(raw, why);
    if (!why.empty()) {
      warn(raw, why);
      continue;
    }
    bool nest = is_archive(name);
    bool want = std::find(wanted.begin(), wanted.end(), kind_of(name)) != wanted.end();
    if (!nest && !want) continue;
    if (std::string link = not_a_file(e); !link.empty()) {
      warn(raw, link);
      continue;
    }
    if (nest) {
      ++nested;
      continue;
    }
    Source s{file / name, base + "/" + fs::path(name).replace_extension().generic_string(), key + "/" + name};
    s.archive = file;
    s.member = raw;
    s.ordinal = ordinal;
    auto [it, fresh] = seen.emplace(name, out.size());
    if (!fresh) {
      warn(name, "an earlier copy; the archive names it again and the last copy is read");
      replaced.push_back(it->second);
      it->second = out.size();
    }
    out.push_back(std::move(s));
  }
  if (!replaced.empty()) {
    std::sort(replaced.begin(), replaced.end());
    size_t w = first;
    for (size_t i = first, k = 0; i < out.size(); ++i) {
      if (k < replaced.size() && replaced[k] == i) {
        ++k;
        continue;
      }
      if (w != i) out[w] = std::move(out[i]);
      ++w;
    }
    out.resize(w);
  }
  if (nested)
    print_warning(display(file) + ": " + std::to_string(nested) +
                  " archive(s) inside it not read (archives in archives are not expanded)");
  if (out.size() == first) print_warning(display(file) + ": no PDF or image member");
}

namespace {

// What a reader read past before a worker asked for it.
struct Kept {
  std::string bytes, error;
};

// One archive's forward reader. Workers ask for members in about the order they are listed;
// the reader goes forward, keeping expected members it passes, and reopens only when asked
// for a member behind it that it did not keep (or after damage).
class Reader {
 public:
  explicit Reader(fs::path file) : file_(std::move(file)) {}

  void expect(size_t ordinal, const std::string& member) {
    std::lock_guard<std::mutex> lock(mu_);
    expected_[ordinal] = member;
    expecting_ = true;
  }

  std::string read(const Source& src, uint64_t max_bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    expected_.erase(src.ordinal);
    if (auto it = kept_.find(src.ordinal); it != kept_.end()) {
      Kept k = std::move(it->second);
      kept_bytes_ -= k.bytes.size();
      kept_.erase(it);
      close_when_done();
      if (!k.error.empty()) throw std::runtime_error(k.error);
      return std::move(k.bytes);
    }
    if (!h_ || src.ordinal < next_) reopen();
    for (;;) {
      archive_entry* e = nullptr;
      int r = archive_read_next_header(h_->a, &e);
      if (r == ARCHIVE_EOF || is_damage(r)) {
        std::string why = r == ARCHIVE_EOF ? "not found: the archive changed since it was listed"
                                           : "damaged archive: " + libarchive_error(h_->a);
        h_.reset();
        throw std::runtime_error(why + " (archive " + display(file_) + ", member '" + escape(src.member) + "')");
      }
      size_t at = next_++;
      if (r == ARCHIVE_FAILED) continue;
      if (at < src.ordinal) {
        if (auto x = expected_.find(at); x != expected_.end() && !kept_.count(at)) keep(at, e, x->second, max_bytes);
        if (!h_)  // keeping it met damage that ends the stream: nothing after it can be read
          throw std::runtime_error("damaged archive before this member (archive " + display(file_) + ", member '" +
                                   escape(src.member) + "')");
        continue;
      }
      if (at > src.ordinal) throw std::runtime_error("not found (archive " + display(file_) + ")");
      std::string bytes = take(e, src.member, max_bytes);
      close_when_done();
      return bytes;
    }
  }

 private:
  void reopen() {
    std::string error;
    h_ = open_archive(file_, error);
    next_ = 0;
    if (!h_) throw std::runtime_error("archive " + display(file_) + " cannot be opened again: " + error);
  }

  // The current member's bytes, capped: what is decompressed counts, not the header's size.
  std::string take(archive_entry* e, const std::string& member, uint64_t max_bytes) {
    const std::string where = " (archive " + display(file_) + ", member '" + escape(member) + "')";
    if (entry_name(e) != member) throw std::runtime_error("not found: the archive changed since it was listed" + where);
    std::string out;
    if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
      out.reserve(size_t(std::min<uint64_t>({uint64_t(archive_entry_size(e)), max_bytes, uint64_t(1) << 24})));
    char buf[1 << 16];
    for (;;) {
      la_ssize_t n = archive_read_data(h_->a, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        std::string why = "damaged data: " + libarchive_error(h_->a) + where;
        if (n == ARCHIVE_FATAL) h_.reset();  // nothing more can be read from this handle
        throw std::runtime_error(why);
      }
      if (out.size() + uint64_t(n) > max_bytes)
        throw std::runtime_error("over the input limit of " + std::to_string(max_bytes) +
                                 " bytes (see --max-input-bytes)" + where);
      out.append(buf, size_t(n));
    }
    return out;
  }

  // Keeps a member a worker will ask for (bounded: past the budget it is read again later).
  void keep(size_t at, archive_entry* e, const std::string& member, uint64_t max_bytes) {
    constexpr uint64_t kBudget = uint64_t(1) << 30;
    if (kept_bytes_ >= kBudget) return;
    Kept k;
    try {
      k.bytes = take(e, member, max_bytes);
    } catch (const std::runtime_error& x) {
      k.error = x.what();
    }
    kept_bytes_ += k.bytes.size();
    kept_[at] = std::move(k);
  }

  // Every expected member served: the descriptor goes back (a folder of 10^4 archives must
  // not hold 10^4 of them).
  void close_when_done() {
    if (expecting_ && expected_.empty() && kept_.empty()) h_.reset();
  }

  std::mutex mu_;
  fs::path file_;
  std::unique_ptr<Handle> h_;
  size_t next_ = 0;                          // the ordinal of the next header
  std::map<size_t, std::string> expected_;   // ordinal -> name, not served yet
  std::map<size_t, Kept> kept_;
  uint64_t kept_bytes_ = 0;
  bool expecting_ = false;
};

struct Registry {
  std::mutex mu;
  std::map<fs::path, std::shared_ptr<Reader>> readers;
};

std::shared_ptr<Reader> reader_for(const fs::path& file) {
  static Registry r;
  std::lock_guard<std::mutex> lock(r.mu);
  std::shared_ptr<Reader>& p = r.readers[file];
  if (!p) p = std::make_shared<Reader>(file);
  return p;
}

}  // namespace

void expect_members(const std::vector<Source>& sources) {
  for (const Source& s : sources)
    if (!s.archive.empty() && s.error.empty()) reader_for(s.archive)->expect(s.ordinal, s.member);
}

std::string read_member(const Source& src, uint64_t max_bytes) {
  if (!src.error.empty()) throw std::runtime_error(src.error);
  return reader_for(src.archive)->read(src, max_bytes);
}

}  // namespace dcli
