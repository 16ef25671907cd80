// The docling-cpp commands. Each takes the arguments after its name and returns the
// process exit code (kExit*); messages go to stderr, data to files or stdout.
#pragma once

#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "vision/model.h"

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

// Settings from the environment, read here (the command line's layer) and by the bench
// programs; the library reads none. DOCLING_ISA=scalar|avx2|avx512 caps the instruction set,
// DOCLING_INT8_ACTIVATIONS=1 and DOCLING_BF16_DOT=1 turn on those kernel paths (cli_main
// applies them); DOCLING_WEIGHTS=bf16|int8 (else throws) and DOCLING_KV=f16|f32 give the
// model's load options (--weights overrides the first).
kernels::KernelSettings env_kernel_settings();
vision::LoadOptions env_load_options();

}  // namespace docling
