#include "core/json_limits.h"

#include <string>

namespace docling {

void check_json_depth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        throw JsonDepthError("JSON nested deeper than " + std::to_string(max_depth) + " levels at byte " +
                             std::to_string(i));
    } else if (c == ']' || c == '}') {
      --depth;  // unbalanced text is the parser's to reject
    }
  }
}

nlohmann::json parse_json(std::string_view text, int max_depth) {
  check_json_depth(text, max_depth);
  return nlohmann::json::parse(text);
}

nlohmann::ordered_json parse_ordered_json(std::string_view text, int max_depth) {
  check_json_depth(text, max_depth);
  return nlohmann::ordered_json::parse(text);
}

}  // namespace docling
