// DoclingDocument JSON: read (schema 1.0.0 .. 1.10.0, migrating old layouts) and write
// (docling-core's export_to_dict / save_as_json shape, schema 1.10.0).
//
// Takes: JSON text or a parsed JSON value. Gives: a Document, or JSON.
#pragma once

#include <stdexcept>
#include <string>

#include "doctags/document.h"

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

}  // namespace docling
