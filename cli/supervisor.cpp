// The convert supervisor and its worker's journal (see supervisor.hpp).
#include "supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "ledger.hpp"

namespace fs = std::filesystem;

namespace dcli {

using json = nlohmann::json;

// --- the worker's side ------------------------------------------------------------------------

void Journal::send(const std::string& line) {
  if (fd_ < 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t done = 0; done < line.size();) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the supervisor is gone: PR_SET_PDEATHSIG ends this process
    done += size_t(n);
  }
}

namespace {
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }
}  // namespace

void Journal::run(const std::string& ledger, uint64_t offset, const std::string& settings, double page_timeout_s) {
  if (on()) send(dump({{"e", "run"}, {"ledger", ledger}, {"offset", offset}, {"settings", settings}, {"timeout", page_timeout_s}}));
}
void Journal::document(size_t id, const std::string& key, const std::string& name, uint64_t size, const std::string& sha) {
  if (on()) send(dump({{"e", "doc"}, {"id", id}, {"key", key}, {"name", name}, {"size", size}, {"sha", sha}}));
}
void Journal::page(size_t id, int page) {
  if (on()) send("{\"e\":\"page\",\"id\":" + std::to_string(id) + ",\"p\":" + std::to_string(page) + "}\n");
}
void Journal::page_done(size_t id, int page) {
  if (on()) send("{\"e\":\"done\",\"id\":" + std::to_string(id) + ",\"p\":" + std::to_string(page) + "}\n");
}
void Journal::end(size_t id) {
  if (on()) send("{\"e\":\"end\",\"id\":" + std::to_string(id) + "}\n");
}

void test_fault(const std::string& path, int page) {
  static const std::string spec = env_var("DOCLING_CPP_TEST_FAULT");
  if (spec.empty() || page != 1) return;
  size_t at = 0;
  while (at < spec.size()) {
    size_t comma = spec.find(',', at);
    std::string item = spec.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? spec.size() : comma + 1;
    size_t colon = item.find(':');
    if (colon == std::string::npos) continue;
    std::string kind = item.substr(0, colon), name = item.substr(colon + 1);
    if (name.empty() || path.size() < name.size() || path.compare(path.size() - name.size(), name.size(), name) != 0)
      continue;
    if (kind == "segv") {  // die by the signal even where a sanitizer has its own handler
      ::signal(SIGSEGV, SIG_DFL);
      ::raise(SIGSEGV);
    }
    if (kind == "abort") std::abort();
    if (kind == "sleep") std::this_thread::sleep_for(std::chrono::seconds(1));
    if (kind == "hang")
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    if (kind == "memory")
      for (;;) {  // touched, so it counts as resident
        size_t n = size_t(32) << 20;
        if (char* p = static_cast<char*>(std::malloc(n))) std::memset(p, 1, n);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
  }
}

// --- the supervisor ---------------------------------------------------------------------------

namespace {

volatile sig_atomic_t g_worker = 0;   // the running worker's pid
volatile sig_atomic_t g_signals = 0;  // SIGINT/SIGTERM received

extern "C" void forward(int sig) {
  g_signals = g_signals + 1;
  pid_t w = pid_t(g_worker);
  if (w > 0) ::kill(w, sig);  // the worker's own handler cancels; its second signal ends it
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// sig < 0: the worker exited with code -sig with documents unfinished (a sanitizer reports a
// crash and exits instead of dying by the signal).
std::string signal_name(int sig) {
  if (sig < 0) return "exit code " + std::to_string(-sig) + " mid-document";
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

struct Doc {
  std::string key, name, sha;
  uint64_t size = 0;
  int page = 0;         // the page started last (0: opening the document)
  double since = 0;     // the document's last sign of progress
  double started = 0;
};

// What one worker did.
struct Outcome {
  bool exited = false;
  int code = 0, sig = 0;
  bool killed = false;                               // by us, for a limit
  std::vector<std::pair<Doc, std::string>> guilty;   // over the time limit, with the reason
  bool over_memory = false;
  std::vector<Doc> in_flight;                        // when it died
  bool progressed = false;                           // some document ended
};

struct State {
  const Isolation& iso;
  bool have_run = false;
  std::string ledger, settings;
  uint64_t from = 0;        // this run's ledger lines start here
  double page_timeout = 0;  // seconds; 0: none
  std::map<size_t, Doc> docs;
  std::string buf;
};

void on_event(State& st, Outcome& out, const json& j, double now) {
  std::string e = j.value("e", "");
  if (e == "run") {
    if (!st.have_run) {  // the first worker's view: later ones see this run's lines too
      st.ledger = j.value("ledger", "");
      st.from = j.value("offset", uint64_t(0));
      st.settings = j.value("settings", "");
    }
    st.page_timeout = j.value("timeout", 0.0);
    st.have_run = true;
    return;
  }
  size_t id = j.value("id", size_t(0));
  if (e == "doc") {
    Doc d;
    d.key = j.value("key", "");
    d.name = j.value("name", "");
    d.sha = j.value("sha", "");
    d.size = j.value("size", uint64_t(0));
    d.since = d.started = now;
    st.docs[id] = d;
  } else if (e == "page" || e == "done") {
    auto it = st.docs.find(id);
    if (it == st.docs.end()) return;
    if (e == "page") it->second.page = j.value("p", 0);
    it->second.since = now;
  } else if (e == "end") {
    st.docs.erase(id);
    out.progressed = true;
  }
}

void feed(State& st, Outcome& out, const char* data, size_t n) {
  st.buf.append(data, n);
  size_t start = 0;
  double now = now_s();
  for (size_t nl; (nl = st.buf.find('\n', start)) != std::string::npos; start = nl + 1) {
    try {
      on_event(st, out, json::parse(st.buf.begin() + long(start), st.buf.begin() + long(nl)), now);
    } catch (const std::exception&) {
    }  // not ours: ignored
  }
  st.buf.erase(0, start);
}

uint64_t resident_mb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/statm");
  uint64_t size = 0, rss = 0;
  f >> size >> rss;
  return rss * uint64_t(sysconf(_SC_PAGESIZE)) >> 20;
}

std::string where(const Doc& d) {
  return d.page > 0 ? "page " + std::to_string(d.page) + ": " : "";
}
std::string before_pages(const Doc& d) { return d.page > 0 ? "" : " before its first page (opening the document)"; }

// Starts a worker and follows it until it ends (limits enforced here).
Outcome run_worker(State& st, const std::vector<std::string>& extra) {
  Outcome out;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("cannot make a pipe: ") + std::strerror(errno));
  std::vector<std::string> args = {"docling-cpp", "convert"};
  args.insert(args.end(), st.iso.args.begin(), st.iso.args.end());
  args.push_back("--isolation-worker");
  args.push_back(std::to_string(fds[1]));
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The program's real path, so the worker shows as docling-cpp in ps (not "exe").
  std::error_code ec;
  std::string exe = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec || exe.empty() || exe.find(" (deleted)") != std::string::npos) exe = "/proc/self/exe";
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("cannot start a worker: ") + std::strerror(errno));
  if (pid == 0) {
    // Its own process group: a terminal's Ctrl-C reaches the supervisor only, which forwards
    // it once (twice would end the worker at once). It dies with the supervisor (kill -9).
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(137);
    ::fcntl(fds[1], F_SETFD, 0);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  g_worker = pid;
  st.docs.clear();
  st.buf.clear();
  double last_memory_check = 0;
  char buf[65536];
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r > 0) {
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n > 0) feed(st, out, buf, size_t(n));
      else if (n == 0 || errno != EINTR) break;  // the worker has gone
    }
    if (out.killed) continue;
    double now = now_s();
    if (st.page_timeout > 0)
      for (const auto& [id, d] : st.docs)
        if (now - d.since > st.page_timeout) {
          char t[32];
          std::snprintf(t, sizeof t, "%g", st.page_timeout);
          out.guilty.push_back({d, d.name + ": " + where(d) + "over the page time limit of " + t + " s" + before_pages(d)});
        }
    if (st.iso.max_memory_mb && now - last_memory_check > 0.25) {
      last_memory_check = now;
      out.over_memory = resident_mb(pid) > st.iso.max_memory_mb;
    }
    if (!out.guilty.empty() || out.over_memory) {
      ::kill(pid, SIGKILL);
      out.killed = true;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_worker = 0;
  for (const auto& [id, d] : st.docs) out.in_flight.push_back(d);
  if (WIFEXITED(status)) {
    out.exited = true;
    out.code = WEXITSTATUS(status);
    // A batch that ends on its own has finished every document it started, unless it was
    // interrupted or stopped on an error of its own (the ledger): anything else is a crash.
    if (!st.docs.empty() && out.code != kExitInterrupted && out.code != kExitUsage) {
      out.exited = false;
      out.sig = -std::max(out.code, 1);
    }
  } else {
    out.sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  }
  if (!st.iso.progress_json.empty()) {  // a killed worker's half-written status file
    std::error_code ec;
    fs::remove(st.iso.progress_json + ".tmp." + std::to_string(pid), ec);
  }
  return out;
}

// The document's FAILURE line, written while no worker holds the ledger.
void record_failure(const State& st, const Doc& d, const std::string& reason) {
  LedgerEntry e;
  e.input = d.key;
  e.size = d.size;
  e.sha256 = d.sha;
  e.status = "FAILURE";
  e.pages_failed = d.page > 0 ? 1 : 0;
  e.errors.push_back({d.page, reason});
  e.seconds = now_s() - d.started;
  e.finished = double(std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count()) / 1000;
  e.version = docling::version();
  e.settings = st.settings;
  LedgerWriter w;
  w.open(st.ledger);
  w.append(e);
}

void clear_progress_line(const Isolation& iso) {
  if (!iso.quiet && isatty(STDERR_FILENO)) std::fputs("\r\033[K", stderr);
}

}  // namespace

uint64_t default_max_memory_mb() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || size <= 0) return 0;
  return uint64_t(pages) * uint64_t(size) / 4 * 3 >> 20;
}

int supervise(const Isolation& iso) {
  State st{iso, false, {}, {}, 0, 0, {}, {}};
  struct sigaction sa = {}, old_int, old_term;
  sa.sa_handler = forward;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  struct Restore {
    struct sigaction i, t;
    ~Restore() {
      sigaction(SIGINT, &i, nullptr);
      sigaction(SIGTERM, &t, nullptr);
    }
  } restore{old_int, old_term};

  std::deque<Doc> suspects;  // to convert alone, one worker each
  int blind = 0;             // crashes in a row with no document in flight
  for (;;) {
    if (g_signals) return kExitInterrupted;
    std::vector<std::string> extra;
    if (st.have_run) extra = {"--isolation-from", std::to_string(st.from)};
    bool alone = !suspects.empty();
    Doc suspect;
    if (alone) {
      suspect = suspects.front();
      suspects.pop_front();
      extra.push_back("--isolation-only");
      extra.push_back(suspect.key);
    }
    Outcome o;
    try {
      o = run_worker(st, extra);
    } catch (const std::exception& e) {
      print_error(escape(e.what()));
      return kExitUsage;
    }
    if (o.progressed) blind = 0;
    if (o.exited) {
      if (!alone || o.code == kExitInterrupted || o.code == kExitUsage) return o.code;
      continue;  // the suspect was converted (or failed cleanly): its line is written
    }
    if (g_signals && !o.killed) return kExitInterrupted;  // the forwarded second signal
    clear_progress_line(iso);
    if (!st.have_run) {
      print_error("the worker crashed (" + signal_name(o.sig) + ") before it started");
      return kExitUsage;
    }
    std::vector<std::pair<Doc, std::string>> guilty = o.guilty;
    if (guilty.empty()) {
      std::vector<Doc> docs = o.in_flight;
      if (alone && docs.empty()) docs.push_back(suspect);  // it died before reporting the document
      std::string what = o.over_memory ? "over the memory limit of " + std::to_string(iso.max_memory_mb) + " MB"
                         : o.sig == SIGKILL ? "killed (SIGKILL; the system's out-of-memory killer?)"
                                            : "crashed (" + signal_name(o.sig) + ")";
      if (docs.size() > 1 && !alone) {
        print_warning("the worker " + what + " with " + std::to_string(docs.size()) +
                      " documents in flight; converting each alone to find which");
        suspects.insert(suspects.end(), docs.begin(), docs.end());
        continue;
      }
      if (docs.empty()) {
        if (++blind >= 2) {
          print_error("the worker " + what + " twice outside any document; the batch stopped");
          return kExitUsage;
        }
        print_warning("the worker " + what + " outside any document; starting it again");
        continue;
      }
      for (const Doc& d : docs) guilty.push_back({d, d.name + ": " + where(d) + what + before_pages(d)});
    }
    for (const auto& [d, reason] : guilty) {
      try {
        record_failure(st, d, reason);
      } catch (const std::exception& e) {
        print_error(escape(e.what()) + " (the batch stopped; finished documents stay written)");
        return kExitUsage;
      }
      print_error(escape(reason));
    }
  }
}

}  // namespace dcli
