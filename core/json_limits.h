// JSON from outside the program (a DoclingDocument, a model folder's configs, a safetensors
// header), parsed with a bound on nesting depth.
//
// Takes: JSON text. Gives: the parsed value, or an exception. nlohmann's parser itself is
// iterative, but copying, dump(), comparing and walking a value recurse once per level, so a
// file nested 100,000 deep would overflow the stack long after the parse succeeded. Real files
// nest a few levels (DoclingDocument meta: under 10); kMaxJsonDepth leaves ample room.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>

namespace docling {

constexpr int kMaxJsonDepth = 512;

struct JsonDepthError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws JsonDepthError ("JSON nested deeper than N levels at byte B") when arrays and objects
// in `text` nest deeper than max_depth. Strings are skipped; malformed text is left to the parser.
void check_json_depth(std::string_view text, int max_depth = kMaxJsonDepth);

// check_json_depth, then parse. Throws JsonDepthError or nlohmann::json::parse_error.
nlohmann::json parse_json(std::string_view text, int max_depth = kMaxJsonDepth);
nlohmann::ordered_json parse_ordered_json(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace docling
