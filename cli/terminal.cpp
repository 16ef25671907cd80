// The progress line and signal handling (see cli.hpp).
#include <chrono>
#include <csignal>
#include <cstdio>

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
  ++done_;
  pages_ += pages;
  draw();
}

void Progress::clear_line() {
  if (enabled_ && drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

void Progress::draw() {
  if (!enabled_) return;
  double t = elapsed();
  double per_hour = t > 0 ? pages_ * 3600.0 / t : 0;
  char eta[32] = "?";
  if (done_ > 0 && done_ < total_) {
    double left = t / done_ * (total_ - done_);
    std::snprintf(eta, sizeof eta, "%dm%02ds", int(left) / 60, int(left) % 60);
  } else if (done_ == total_) {
    std::snprintf(eta, sizeof eta, "0s");
  }
  // Counts only: no file name reaches the terminal unescaped.
  std::fprintf(stderr, "\r\033[K[%d/%d documents] %d pages, %.0f pages/h, ETA %s", done_, total_, pages_, per_hour,
               eta);
  std::fflush(stderr);
  drawn_ = true;
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
