#include "pipeline/cli.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>

#include <tbb/global_control.h>

namespace docling {

namespace {

const char* kUsage =
    "docling-cpp " DOCLING_VERSION
    " - PDF and page images to Markdown, HTML, JSON, DocTags and text\n"
    "\n"
    "usage:\n"
    "  docling-cpp convert FILES|DIRS|- [-o OUTDIR] [--to md,json,html,doctags,text] [options]\n"
    "      PDFs and PNG/JPEG pages (folders searched recursively) through the text layer\n"
    "      and/or granite-docling-258M. Outputs keep each input's relative path.\n"
    "  docling-cpp export FILE.doctags|FILE.json|- [-o OUTDIR|-] [--to ...] [options]\n"
    "      DocTags or a DoclingDocument JSON to the other formats.\n"
    "  docling-cpp generate --image PAGE.png|FILE.pdf [--model DIR] [--prompt TEXT]\n"
    "      [--max-new-tokens N] [--print-ids] [--page N]\n"
    "      The model's raw output for one page (special tokens kept).\n"
    "\n"
    "Run 'docling-cpp COMMAND --help' for a command's options.\n"
    "Exit codes: 0 all written (incomplete pages are warned about), 1 some inputs failed,\n"
    "2 usage or setup error, 3 (convert --strict) some pages incomplete, 130 interrupted.\n";

}  // namespace

void print_error(const std::string& msg) { std::fprintf(stderr, "docling-cpp: error: %s\n", msg.c_str()); }
void print_warning(const std::string& msg) { std::fprintf(stderr, "docling-cpp: warning: %s\n", msg.c_str()); }

void set_threads(int n) {
  static std::unique_ptr<tbb::global_control> ctl;
  ctl.reset();
  if (n > 0) ctl = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, size_t(n));
}

// --- the environment: the only place that reads it (see cli.h) -------------------------------

kernels::KernelSettings env_kernel_settings() {
  kernels::KernelSettings s;
  if (const char* e = std::getenv("DOCLING_ISA")) {  // an unknown value leaves the CPU's best
    const std::string v(e);
    s.max_isa = v == "scalar" ? kernels::Isa::Scalar : v == "avx2" ? kernels::Isa::Avx2 : kernels::Isa::Avx512;
  }
  const char* act = std::getenv("DOCLING_INT8_ACTIVATIONS");
  s.int8_activations = act && std::strcmp(act, "1") == 0;
  const char* bf = std::getenv("DOCLING_BF16_DOT");
  s.bf16_dot = bf && std::strcmp(bf, "1") == 0;
  return s;
}

vision::LoadOptions env_load_options() {
  vision::LoadOptions o;
  if (const char* e = std::getenv("DOCLING_WEIGHTS"); e && *e && std::strcmp(e, "bf16") != 0) {
    if (std::strcmp(e, "int8") != 0)
      throw std::runtime_error(std::string("DOCLING_WEIGHTS=") + e + ": expected bf16 or int8");
    o.weights = vision::WeightType::INT8;
  }
  const char* kv = std::getenv("DOCLING_KV");
  o.kv = kv && std::strcmp(kv, "f32") == 0 ? vision::KvType::F32 : vision::KvType::F16;
  return o;
}

int cli_main(int argc, char** argv) {
  kernels::configure(env_kernel_settings());
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version" || args[0] == "-V") {
    std::printf("docling-cpp %s\n", DOCLING_VERSION);
    return kExitOk;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  try {
    if (cmd == "convert") return cmd_convert(args);
    if (cmd == "export") return cmd_export(args);
    if (cmd == "generate") return cmd_generate(args);
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitFailed;
  }
  print_error("unknown command '" + cmd + "' (convert, export, generate; see --help)");
  return kExitUsage;
}

}  // namespace docling
