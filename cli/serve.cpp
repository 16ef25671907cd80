// docling-cpp serve: being written (see the open issue); refuses to run until then.
#include "cli.hpp"

namespace dcli {

int cmd_serve(int, char**) {
  print_error("'serve' is not available in this build yet");
  return kExitUsage;
}

}  // namespace dcli
