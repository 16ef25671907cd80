// The ledger: one JSON line per finished document in the output folder, so a batch that
// dies at any moment can be resumed, and a scheduler or person can see what is done.
//
// Takes: finished documents (after their outputs were renamed into place), ledger files.
// Gives: docling-cpp.ledger[.I-of-N].jsonl, appended and fsync'ed line by line; the entries
// of every ledger in a folder, tolerating a torn last line (a run killed mid-append).
// Plain C++ and POSIX (no docling types), so tests compile it on its own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dcli {

struct PageError {
  int page = 0;        // 1-based; 0 = the document as a whole
  std::string reason;  // the library's message
};

struct LedgerEntry {
  std::string input;   // path relative to its input root, '/'-separated ("-" for stdin)
  uint64_t size = 0;
  std::string sha256;  // of the input's bytes, lowercase hex
  std::string status;  // SUCCESS, PARTIAL or FAILURE (a cancelled document gets no line)
  int pages_ok = 0, pages_failed = 0;
  std::vector<PageError> errors;
  std::vector<std::string> outputs;  // relative to the output folder
  double seconds = 0;   // the document's conversion time
  double finished = 0;  // Unix time its line was written
  std::string version;  // docling-cpp's
  std::string settings; // settings_hash() of the run
};

// One line, keys in a fixed order, '\n'-terminated. Bytes that are not UTF-8 (a file name
// can hold any) become U+FFFD: json_key() applies the same to names looked up.
std::string to_line(const LedgerEntry& e);
std::optional<LedgerEntry> from_line(std::string_view line);
std::string json_key(const std::string& name);

// The folder's ledger for a shard label ("" or "2-of-8"), and every ledger in a folder
// (sorted by name).
std::string ledger_file_name(const std::string& shard_label);
std::vector<std::filesystem::path> find_ledgers(const std::filesystem::path& dir);

struct LedgerRead {
  std::vector<LedgerEntry> entries;  // in file order
  int bad_lines = 0;                 // complete lines that do not parse (skipped)
  bool torn_tail = false;            // the file ends inside a line (a killed append)
};
// A missing file reads as empty. Throws std::runtime_error when it cannot be read.
LedgerRead read_ledger(const std::filesystem::path& file);
// The lines from byte `from` on (a run's own lines, from where its ledger ended when opened).
LedgerRead read_ledger(const std::filesystem::path& file, uint64_t from);

// Appends lines to one ledger. Open takes an exclusive lock (two runs of one shard must not
// interleave; the lock dies with the process) and cuts a torn last line off, so the next line
// starts clean. Each append is one write() followed by fdatasync().
class LedgerWriter {
 public:
  LedgerWriter() = default;
  ~LedgerWriter();
  LedgerWriter(const LedgerWriter&) = delete;
  LedgerWriter& operator=(const LedgerWriter&) = delete;
  // Throws std::runtime_error naming the file (locked by another run, cannot be written).
  // Returns the number of bytes cut off.
  uint64_t open(const std::filesystem::path& file);
  void append(const LedgerEntry& e);  // throws std::runtime_error
  bool is_open() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// What a run knows of earlier ones: the last entry per input (later lines win).
struct LedgerIndex {
  std::unordered_map<std::string, LedgerEntry> last;
  void add(LedgerEntry e) { last[e.input] = std::move(e); }
  const LedgerEntry* find(const std::string& key) const {
    auto it = last.find(key);
    return it == last.end() ? nullptr : &it->second;
  }
};

// SHA-256 of a file's bytes as lowercase hex (OpenSSL), reading at most max_bytes; `size`
// receives the byte count. Throws std::runtime_error (refused kinds as read_input_file).
std::string sha256_file(const std::filesystem::path& file, uint64_t max_bytes, uint64_t* size);
std::string sha256_hex(std::string_view bytes);

}  // namespace dcli
