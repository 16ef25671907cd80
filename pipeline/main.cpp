// docling-cpp: the command-line program.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("docling-cpp %s\n", DOCLING_VERSION);
    return 0;
  }
  std::printf("usage: docling-cpp export|convert|generate ... (see --help)\n");
  return argc > 1 ? 2 : 0;
}
