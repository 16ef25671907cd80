// DoclingDocument JSON: read (schema 1.0.0 .. 1.10.0, migrating old layouts) and write
// (docling-core's export_to_dict / save_as_json shape, schema 1.10.0).
//
// Takes: JSON text or a parsed JSON value. Gives: a Document, or JSON.
#pragma once

#include <stdexcept>
#include <string>

#include "core/document.h"

namespace docling {

struct JsonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parse a DoclingDocument. Throws JsonError naming what is wrong (bad JSON, wrong
// schema_name, a version newer than 1.10.0, a dangling reference).
Document read_docling_json(const std::string& text);
Document read_docling_json(const Json& value);

// The document as docling-core's export_to_dict() gives it (None fields omitted,
// the computed table `grid` included).
Json to_docling_json(const Document& doc);

// save_as_json: indent 2, non-ASCII escaped as \uXXXX, Python float repr, no final newline.
std::string write_docling_json(const Document& doc);

// The `data` object of a table (table_cells, num_rows, num_cols, orientation, grid), as
// written in tables[] and in a picture's meta.tabular_chart.chart_data.
Json table_data_to_json(const TableData& data);

// Python's repr() of a float: shortest round-trip digits, "1.0" for integral values,
// exponent form outside 1e-4 <= |v| < 1e16 ("1e-05", "1e+16"), NaN/Infinity as json.dumps.
std::string python_float_repr(double v);

}  // namespace docling
