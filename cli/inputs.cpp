// Input discovery: the files and folders named on the command line become documents, each
// with the relative name its outputs get; capped reads of files and stdin; the output
// folder's safety checks (see cli.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>

#include <openssl/evp.h>

#include <CLI/CLI.hpp>

#include "archive.hpp"
#include "cli.hpp"
#include "ledger.hpp"

namespace fs = std::filesystem;

namespace dcli {

Kind kind_of(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".pdf") return Kind::Pdf;
  if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") return Kind::Image;
  if (ext == ".doctags" || ext == ".dt") return Kind::DocTags;
  if (ext == ".json") return Kind::Json;
  return Kind::Other;
}

namespace {

// Archives are read for the documents in them (PDFs, images), not for DocTags or JSON.
bool reads_archives(const std::vector<Kind>& wanted) {
  return std::find(wanted.begin(), wanted.end(), Kind::Pdf) != wanted.end() ||
         std::find(wanted.begin(), wanted.end(), Kind::Image) != wanted.end();
}

// An archive's members, keyed below the archive's key and written below its stem.
void add_archive(const fs::path& file, const std::string& key, const std::vector<Kind>& wanted,
                 std::vector<Source>& out) {
  list_archive(file, key, archive_stem(key), wanted, out);
}

// The wanted files under `root`, named by the path below root as walked: the names come
// from directory entries, so they hold no ".." and never follow a link's target (which
// fs::relative would). Linked folders are not entered: no loops, no escape from the tree.
void walk(const fs::path& root, const std::vector<Kind>& wanted, std::vector<Source>& out) {
  std::vector<std::pair<fs::path, fs::path>> found;  // a file, its name below root
  std::vector<std::pair<fs::path, fs::path>> todo{{root, fs::path()}};  // a folder, its name below root
  while (!todo.empty()) {
    auto [dir, rel] = todo.back();
    todo.pop_back();
    std::error_code ec;
    for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::error_code e2;
      fs::path name = rel / it->path().filename();
      if (it->is_directory(e2)) {
        if (it->is_symlink(e2)) print_warning(display(it->path()) + ": a link to a folder; not followed");
        else todo.push_back({it->path(), name});
        continue;
      }
      if (!it->is_regular_file(e2)) continue;  // devices, pipes, sockets, broken links
      bool archive = reads_archives(wanted) && is_archive(name);
      if (!archive && std::find(wanted.begin(), wanted.end(), kind_of(name)) == wanted.end()) continue;
      found.push_back({it->path(), name});
    }
    if (ec) print_warning(display(dir) + ": cannot be listed: " + escape(ec.message()));
  }
  // Sorted as files; an archive's members then follow in archive order (the order it is read in).
  std::sort(found.begin(), found.end());
  for (auto& [path, name] : found) {
    std::string key = name.generic_string();
    if (reads_archives(wanted) && is_archive(name)) add_archive(path, key, wanted, out);
    else out.push_back({path, name.replace_extension().generic_string(), key});
  }
}

}  // namespace

std::vector<Source> collect_sources(const std::vector<std::string>& args, const std::vector<Kind>& wanted) {
  std::vector<Source> out;
  for (const std::string& a : args) {
    if (a == "-") {
      out.push_back({fs::path(), "stdin", "-"});
      continue;
    }
    fs::path p(a);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      walk(p, wanted, out);
    } else if (fs::exists(p, ec) && reads_archives(wanted) && is_archive(p)) {
      add_archive(p, p.filename().string(), wanted, out);
    } else if (fs::exists(p, ec)) {
      out.push_back({p, p.filename().replace_extension().string(), p.filename().string()});
    } else {
      throw UsageError(display(a) + ": no such file or folder");
    }
  }
  return out;
}

namespace {

// A list entry's key: as written when it stays below the current folder, else its absolute
// path without the root (so two lists naming the same files agree, and no key climbs out).
std::string list_key(const fs::path& entry) {
  fs::path p = entry.lexically_normal();
  bool climbs = !p.empty() && *p.begin() == "..";
  if (p.is_absolute() || climbs) p = fs::absolute(entry).lexically_normal().relative_path();
  return p.generic_string();
}

}  // namespace

std::vector<Source> list_sources(const std::string& list_file) {
  std::ifstream file;
  if (list_file != "-") {
    file.open(list_file, std::ios::binary);
    if (!file) throw UsageError("--from-list: " + display(list_file) + ": cannot be read: " + std::strerror(errno));
  }
  std::istream& in = list_file == "-" ? std::cin : file;
  std::vector<Source> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // lists written on Windows
    if (line.empty() || line[0] == '#') continue;
    std::string key = list_key(line);
    if (key.empty()) throw UsageError("--from-list: " + escape(line) + ": not a file name");
    if (is_archive(key)) {
      add_archive(fs::path(line), key, {Kind::Pdf, Kind::Image}, out);
      continue;
    }
    out.push_back({fs::path(line), fs::path(key).replace_extension().generic_string(), key});
  }
  if (in.bad()) throw UsageError("--from-list: " + display(list_file) + ": read error");
  return out;
}

void rename_duplicates(std::vector<Source>& sources) {
  std::set<std::string> taken;  // every input's own name: a renamed output takes none of them
  for (const Source& s : sources) taken.insert(s.stem);
  std::set<std::string> used;
  for (Source& s : sources) {
    if (used.insert(s.stem).second) continue;
    std::string name;
    for (int k = 2; taken.count(name = s.stem + "-" + std::to_string(k)); ++k) {
    }
    taken.insert(name);
    used.insert(name);
    print_warning(s.name() + ": output renamed to " + escape(name) + " (an earlier input has the same name)");
    s.stem = name;
  }
}

void check_output_name(const fs::path& outdir, const std::string& stem) {
  // The stem gets an extension or "_artifacts" appended: check it with one.
  fs::path base = outdir.lexically_normal();
  fs::path rel = (outdir / (stem + ".x")).lexically_normal().lexically_relative(base);
  if (stem.empty() || rel.empty() || *rel.begin() == ".." || rel.is_absolute())
    throw std::runtime_error("output name '" + escape(stem) + "' would leave the output folder");
}

void remove_stale_temporaries(const fs::path& outdir, const std::vector<Source>& sources) {
  std::set<fs::path> dirs{outdir};
  for (const Source& s : sources) {
    fs::path base = outdir / s.stem;
    dirs.insert(base.parent_path());
    dirs.insert(base.parent_path() / (base.filename().string() + "_artifacts"));
  }
  std::vector<fs::path> removed;
  for (const fs::path& d : dirs)
    for (fs::path& p : docling::DoclingDocument::remove_stale_temporaries(d)) removed.push_back(std::move(p));
  if (removed.empty()) return;
  std::string list;
  for (size_t i = 0; i < removed.size() && i < 3; ++i) list += (i ? ", " : "") + display(removed[i]);
  if (removed.size() > 3) list += ", ...";
  print_warning("removed " + std::to_string(removed.size()) +
                " stale temporary file(s) left by an interrupted earlier run: " + list);
}

namespace {

[[noreturn]] void over_limit(uint64_t max_bytes) {
  throw std::runtime_error("over the input limit of " + std::to_string(max_bytes) +
                           " bytes (see --max-input-bytes)");
}

}  // namespace

std::vector<uint8_t> read_stdin(uint64_t max_bytes) {
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    if (bytes.size() + n > max_bytes) over_limit(max_bytes);  // stdin may never end (/dev/zero)
    bytes.insert(bytes.end(), buf, buf + n);
  }
  if (std::ferror(stdin)) throw std::runtime_error(std::string("read error: ") + std::strerror(errno));
  return bytes;
}

std::string read_source(const Source& src, uint64_t max_bytes) {
  if (!src.archive.empty()) return read_member(src, max_bytes);
  return read_input_file(src.path, max_bytes);
}

std::string read_input_file(const fs::path& path, uint64_t max_bytes) {
  // Opened without blocking (a FIFO with no writer would wait forever), then checked on the
  // descriptor itself, so the file cannot be swapped between the check and the read.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  std::string out;
  try {
    if (::fstat(fd, &st) != 0) throw std::runtime_error(std::string("cannot open: ") + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw std::runtime_error("is a folder");
    if (!S_ISREG(st.st_mode)) throw std::runtime_error("not a regular file (a device, pipe or socket)");
    if (uint64_t(st.st_size) > max_bytes)
      throw std::runtime_error(std::to_string(st.st_size) + " bytes, " + "over the input limit of " +
                               std::to_string(max_bytes) + " bytes (see --max-input-bytes)");
    out.resize(size_t(st.st_size));
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(std::string("read error: ") + std::strerror(errno));
      if (n == 0) break;  // it shrank since fstat; it never reads past the cap
      got += size_t(n);
    }
    out.resize(got);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr)) throw std::runtime_error("SHA-256 failed");
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += {hex[md[i] >> 4], hex[md[i] & 15]};
  return out;
}

std::string sha256_file(const fs::path& path, uint64_t max_bytes, uint64_t* size) {
  // Whole-file reads are capped and checked as for conversion (read_input_file), so hashing
  // never reads more than converting would.
  std::string bytes = read_input_file(path, max_bytes);
  if (size) *size = bytes.size();
  return sha256_hex(bytes);
}

void add_max_input_flag(CLI::App& app, std::string& value) {
  app.add_option("--max-input-bytes", value,
                 "refuse an input file (or stdin) larger than N bytes\n(default: " +
                     std::to_string(docling::convert_defaults().limits.max_input_bytes) + ")")
      ->type_name("N");
}

uint64_t max_input_bytes(const std::string& value) {
  if (value.empty()) return docling::convert_defaults().limits.max_input_bytes;
  return uint64_t(whole_number("max-input-bytes", value, 1, long(1) << 50));
}

}  // namespace dcli
