// The progress line and signal handling (see cli.hpp).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "cli.hpp"

namespace dcli {

namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Progress::Progress(int documents, bool enabled) : total_(documents), enabled_(enabled), start_(now_s()) {}

double Progress::elapsed() const { return now_s() - start_; }

void Progress::document_done(int pages) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  pages_ += pages;
  draw(true);
}

void Progress::skipped(size_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < current_.size(); ++i)
    if (current_[i].first == id) current_.erase(current_.begin() + long(i--));
  ++skipped_;
}

void Progress::started(size_t id, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  current_.push_back({id, {name, 0}});
  draw(false);
}

void Progress::page_done(size_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : current_)
    if (c.first == id) ++c.second.second, ++pages_;
  draw(false);
}

void Progress::finished(size_t id, int pages, const char* status) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < current_.size(); ++i) {
    if (current_[i].first != id) continue;
    pages_ -= current_[i].second.second;  // streamed pages are counted again below
    current_.erase(current_.begin() + long(i));
    break;
  }
  std::string st = status;
  if (st == "cancelled") {
    ++cancelled_;  // its pages were not written: they do not count
  } else {
    ++done_;
    pages_ += pages;
    ++(st == "success" ? ok_ : st == "partial" ? partial_ : failed_);
  }
  draw(true);
}

void Progress::redraw() {
  std::lock_guard<std::mutex> lock(mu_);
  draw(true);
}

void Progress::clear_line() {
  std::lock_guard<std::mutex> lock(mu_);
  if (enabled_ && drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

namespace {

// Seconds left: the documents still to convert at the pace of those done so far.
double eta_s(double elapsed, int done, int left) { return done > 0 ? elapsed / done * left : -1; }

std::string clock(double s) {
  if (s < 0) return "?";
  char buf[32];
  long t = long(s);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

// The tail of a name that fits `width` columns (bytes; names are escaped already).
std::string fit(const std::string& name, size_t width) {
  if (name.size() <= width) return name;
  size_t cut = name.size() - (width - 3);
  while (cut < name.size() && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) ++cut;  // UTF-8 start
  return "..." + name.substr(cut);
}

}  // namespace

void Progress::draw(bool force) {
  if (!enabled_) return;
  double t = elapsed();
  if (!force && t - last_draw_ < 0.2) return;  // pages can finish faster than a terminal wants lines
  last_draw_ = t;
  int todo = total_ - skipped_;
  double per_hour = t > 0 ? pages_ * 3600.0 / t : 0;
  std::string eta = done_ >= todo ? "0s" : clock(eta_s(t, done_, todo - done_));
  std::string now;
  if (!current_.empty()) {
    const auto& c = current_.back();  // the latest started: the others show in the JSON file
    now = " | " + fit(c.second.first, 40) + " p" + std::to_string(c.second.second);
    if (current_.size() > 1) now += " +" + std::to_string(current_.size() - 1);
  }
  std::fprintf(stderr, "\r\033[K[%d/%d documents] %d pages, %.0f pages/h, ETA %s%s", done_ + skipped_, total_, pages_,
               per_hour, eta.c_str(), now.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

std::string Progress::json(const std::string& state) const {
  std::lock_guard<std::mutex> lock(mu_);
  double t = elapsed();
  int todo = total_ - skipped_;
  auto quoted = [](const std::string& s) {  // names are escaped (no control bytes): quote and backslash remain
    std::string o = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') o += '\\';
      o += c;
    }
    return o + "\"";
  };
  std::string cur;
  for (const auto& c : current_) {
    if (!cur.empty()) cur += ',';
    cur += "{\"input\":";
    cur += quoted(c.second.first);
    cur += ",\"pages_done\":";
    cur += std::to_string(c.second.second);
    cur += '}';
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"state\":%s,\"pid\":%d,\"elapsed_s\":%.1f,\"documents\":{\"total\":%d,\"skipped\":%d,"
                "\"done\":%d,\"success\":%d,\"partial\":%d,\"failure\":%d,\"cancelled\":%d,\"in_flight\":%zu},"
                "\"pages_done\":%d,\"pages_per_hour\":%.0f,\"eta_s\":%.0f,",
                quoted(state).c_str(), int(getpid()), t, total_, skipped_, done_, ok_, partial_, failed_, cancelled_,
                current_.size(), pages_, t > 0 ? pages_ * 3600.0 / t : 0.0,
                done_ >= todo ? 0.0 : eta_s(t, done_, todo - done_));
  return std::string(buf) + "\"current\":[" + cur + "]}\n";
}

namespace {

docling::CancelToken* g_token = nullptr;
volatile std::sig_atomic_t g_signalled = 0;
struct sigaction g_old_int, g_old_term;

extern "C" void on_signal(int) {
  g_signalled = 1;
  if (g_token) g_token->cancel();  // a lock-free atomic store: safe in a handler
  // The next SIGINT or SIGTERM takes the default action: the process ends at once.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace

SignalScope::SignalScope(docling::CancelToken& token) {
  g_token = &token;
  g_signalled = 0;
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

SignalScope::~SignalScope() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  g_token = nullptr;
}

bool SignalScope::signalled() const { return g_signalled != 0; }

}  // namespace dcli
