// Reading standard input for the old CLI (formats and errors are the public API's now).
#pragma once

#include <string>

#include "core/file_io.h"
#include "docling/document.hpp"
#include "docling/errors.hpp"

namespace docling {

std::string read_stdin();

}  // namespace docling
