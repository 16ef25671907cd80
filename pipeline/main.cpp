// docling-cpp: the command-line program (see pipeline/cli.h).
#include "pipeline/cli.h"

#if defined(__SANITIZE_ADDRESS__)
// Fontconfig (through Poppler) keeps a cache for the life of the process, which
// LeakSanitizer reports. Not ours: suppress just that.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#endif

int main(int argc, char** argv) { return docling::cli_main(argc, argv); }
