// docling-cpp: the command-line program (see pipeline/cli.h).
#include "pipeline/cli.h"

int main(int argc, char** argv) { return docling::cli_main(argc, argv); }
