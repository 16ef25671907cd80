// docling-cpp: the command-line program, a client of the public API (include/docling/).
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.hpp"

#if defined(__SANITIZE_ADDRESS__)
// Fontconfig (through Poppler) keeps a cache for the life of the process, which
// LeakSanitizer reports. Not ours: suppress just that.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#endif

namespace {

void usage(FILE* to) {
  std::fprintf(to,
               "docling-cpp %s - PDF and page images to Markdown, HTML, JSON, DocTags and text\n"
               "\n"
               "usage:\n"
               "  docling-cpp convert FILES|DIRS|- [-o OUTDIR] [--to md,json,html,doctags,text,chunks] [options]\n"
               "      PDFs and PNG/JPEG pages (folders searched recursively) through the text layer\n"
               "      and/or granite-docling-258M. Outputs keep each input's relative path.\n"
               "  docling-cpp export FILE.doctags|FILE.json|- [-o OUTDIR|-] [--to ...] [options]\n"
               "      DocTags or a DoclingDocument JSON to the other formats.\n"
               "  docling-cpp generate --image PAGE.png|FILE.pdf [--model DIR] [--prompt TEXT]\n"
               "      [--max-new-tokens N] [--print-ids] [--page N]\n"
               "      The model's raw output for one page (special tokens kept).\n"
               "  docling-cpp serve [--host H] [--port 5001] [--api-key KEY] [--max-queue N] [options]\n"
               "      A docling-serve v1 compatible HTTP service on one shared engine.\n"
               "\n"
               "Run 'docling-cpp COMMAND --help' for a command's options and environment variables.\n"
               "Exit codes: 0 all written (incomplete pages are warned about), 1 some inputs failed,\n"
               "2 usage or setup error, 3 (convert --strict) some pages incomplete, 130 interrupted.\n",
               docling::version());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return dcli::kExitUsage;
  }
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return dcli::kExitOk;
  }
  if (cmd == "--version" || cmd == "-V") {
    std::printf("docling-cpp %s\n", docling::version());
    return dcli::kExitOk;
  }
  try {
    if (cmd == "convert") return dcli::cmd_convert(argc - 1, argv + 1);
    if (cmd == "export") return dcli::cmd_export(argc - 1, argv + 1);
    if (cmd == "generate") return dcli::cmd_generate(argc - 1, argv + 1);
    if (cmd == "serve") return dcli::cmd_serve(argc - 1, argv + 1);
    if (cmd == "status") return dcli::cmd_status(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    dcli::print_error(dcli::escape(e.what()));
    return dcli::kExitFailed;
  }
  dcli::print_error("unknown command '" + dcli::escape(cmd) + "' (convert, export, generate; see --help)");
  return dcli::kExitUsage;
}
