#include "pipeline/output.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace docling {

std::string read_stdin() {
  return std::string((std::istreambuf_iterator<char>(std::cin)), {});
}

}  // namespace docling
