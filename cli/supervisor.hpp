// Crash and runaway containment for `convert`: a supervisor process runs the batch in ONE
// worker process (this program again, same arguments), watches what it reports, and when
// the worker dies (a signal) or a page goes over a limit, gives the guilty document its
// FAILURE ledger line and starts the worker again, which resumes from the ledger.
//
// Why one restartable worker and not a process per document: a normal batch costs one exec
// and a pipe write per page, nothing per document; the engine (and a model) loads once. Only
// after a crash with several documents in flight does it pay: each suspect is converted
// alone, in a fresh worker, to find which one really crashes (the innocent are converted
// then, normally).
//
// Takes: convert's arguments; the worker's journal (one JSON line per event on a pipe).
// Gives: the batch's exit code; FAILURE ledger lines naming the signal or limit and the page.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace dcli {

// The worker's side: what it is doing, one line per event, each written with one write()
// (atomic on a pipe, visible to the supervisor even if the next instruction crashes).
class Journal {
 public:
  explicit Journal(int fd = -1) : fd_(fd) {}
  bool on() const { return fd_ >= 0; }
  // The batch's ledger (this shard's file), its size when this worker opened it, the settings
  // hash its lines carry and the page time limit in seconds (0: none).
  void run(const std::string& ledger, uint64_t offset, const std::string& settings, double page_timeout_s);
  void document(size_t id, const std::string& key, const std::string& name, uint64_t size, const std::string& sha);
  void page(size_t id, int page);       // a page's work starts
  void page_done(size_t id, int page);  // a model page finished (the text layer's end together)
  void end(size_t id);                  // its ledger line is written (or it was cancelled)

 private:
  void send(const std::string& line);
  int fd_;
  std::mutex mu_;
};

struct Isolation {
  std::vector<std::string> args;  // convert's arguments (without "convert")
  uint64_t max_memory_mb = 0;     // the worker's resident memory cap; 0: none
  std::string progress_json;      // --progress-json: a dead worker's temporary is removed
  bool quiet = false;
};

// Runs the batch in worker processes (see above) and returns its exit code.
int supervise(const Isolation& iso);

// The default memory cap: three quarters of the machine's memory (MB; 0 when unknown).
uint64_t default_max_memory_mb();

// A TEST HOOK, read only by the CLI's worker (never by the library): DOCLING_CPP_TEST_FAULT
// = "KIND:NAME[,KIND:NAME...]" makes page 1 of every input whose path ends with NAME do
// KIND, in the order listed: segv (raise SIGSEGV), abort, hang (sleep forever), sleep (1 s),
// memory (allocate and touch memory until killed). Unset: nothing, at the cost of one lookup.
void test_fault(const std::string& path, int page);

}  // namespace dcli
