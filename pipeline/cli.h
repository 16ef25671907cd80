// The docling-cpp commands. Each takes the arguments after its name and returns the
// process exit code (kExit*); messages go to stderr, data to files or stdout.
#pragma once

#include <string>
#include <vector>

namespace docling {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;     // some inputs failed (the others were written)
constexpr int kExitUsage = 2;      // bad arguments, missing model
constexpr int kExitPartial = 3;    // --strict: everything written, but some pages are incomplete
constexpr int kExitInterrupted = 130;

int cli_main(int argc, char** argv);
int cmd_export(const std::vector<std::string>& args);
int cmd_convert(const std::vector<std::string>& args);
int cmd_generate(const std::vector<std::string>& args);

// Shared by the commands.
void print_error(const std::string& msg);              // "docling-cpp: error: msg"
void print_warning(const std::string& msg);            // "docling-cpp: warning: msg"
void set_threads(int n);                               // 0 = all cores

}  // namespace docling
