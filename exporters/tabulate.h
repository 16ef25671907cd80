// Markdown tables laid out like Python tabulate(tablefmt="github", disable_numparse=True)
// with docling-core's column alignment (right for columns whose body cells all parse
// as int/float per tabulate's type detection), plus docling's compact layout.
//
// Takes: rows of cell strings (first row = header). Gives: the table text.
#pragma once

#include <string>
#include <vector>

namespace docling {

enum class PyType { None, Bool, Int, Float, Str };

// tabulate's _type(s) with number parsing: Python int()/float() acceptance.
PyType tabulate_type(const std::string& s);
bool py_int_parses(const std::string& s);
bool py_float_parses(const std::string& s);

// GitHub layout: padded columns (header width + 2 minimum), dash separator.
std::string tabulate_github(const std::vector<std::vector<std::string>>& rows);
// Compact layout: "| a | b |" rows and a "| - | - |" separator.
std::string compact_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace docling
