// Running the built docling-cpp from tests: a clean environment (no DOCLING_* variable, HOME
// in a temporary folder: no model unless the test names one), a time limit so a hang fails
// the test instead of the suite, stdout and stderr captured.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace docling::testing {

struct CliRun {
  int code = -1;  // exit code; -1 when killed by a signal
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A fresh folder in the temporary directory, named for the test program and the process.
inline std::filesystem::path temp_dir(const std::string& program, const std::string& name) {
  std::filesystem::path d =
      std::filesystem::temp_directory_path() / ("docling_" + program + "_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// `prefix` goes between the environment and the program: NAME=VALUE settings, or a wrapper
// such as a memory limit. stdin is /dev/null unless a file is given. The decode kernel
// measurement is off (DOCLING_KERNEL_TUNING=off; a prefix can set it again): every test's
// fresh HOME would otherwise measure for a second at its first model run.

inline CliRun run_cli(const std::string& cli, const std::string& args, const std::filesystem::path& home,
                      int timeout_s, const std::string& stdin_file = "", const std::string& prefix = "") {
  std::filesystem::path err = home / "stderr.txt";
  std::string cmd = "env -u DOCLING_MODEL -u XDG_CACHE_HOME -u DOCLING_KV -u DOCLING_WEIGHTS -u DOCLING_ISA "
                    "-u DOCLING_INT8_ACTIVATIONS -u DOCLING_BF16_DOT DOCLING_KERNEL_TUNING=off HOME=" + q(home) + " " + prefix + " timeout " +
                    std::to_string(timeout_s) + " '" + cli + "' " + args + " 2>" + q(err) + " <" +
                    q(stdin_file.empty() ? std::string("/dev/null") : stdin_file);
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = slurp(err);
  return r;
}

}  // namespace docling::testing
