// Between the public API (include/docling/) and the stages: the public document's inside,
// and the conversions of public option types into the stages' own.
//
// Takes: public option and document types. Gives: internal ones, and back.
#pragma once

#include <set>

#include "core/document.h"
#include "docling/document.hpp"
#include "docling/errors.hpp"
#include "exporters/common.h"

namespace docling {

struct DoclingDocument::Impl {
  Document doc;
};

// The internal tree of a public document, and a public document made from a tree.
const Document& tree(const DoclingDocument& d);
Document& tree(DoclingDocument& d);
DoclingDocument wrap(Document doc);

// The document in one format (images must already be files for ImageMode::Referenced).
std::string render(const Document& doc, Format f, const ExportOptions& o);

// RAG chunks (pipeline/api_chunks.cpp), and as JSON lines (Format::Chunks).
std::vector<Chunk> chunk_document(const Document& doc, const ChunkOptions& o);
std::string chunk_lines(const Document& doc, const ChunkOptions& o);

// Labels by docling-core's names; throws InvalidArgumentError naming an unknown one.
LabelSet label_set(const std::vector<std::string>& names);

}  // namespace docling
