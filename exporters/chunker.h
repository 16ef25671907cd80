// RAG chunks of a document, as docling-core's HierarchicalChunker and HybridChunker make them
// (docling-core b7a4298, semchunk 3.2.5): one chunk per top-level text, list, table or picture
// with its heading path; the hybrid chunker then fits each chunk into a token budget (splitting
// by items, then by text, then merging small neighbours with the same headings).
//
// Takes: a Document, ChunkerOptions and (hybrid) a TokenCounter.
// Gives: chunks (text, source items, headings), contextualize(), and each chunk's JSON as
//        docling-core's DocChunk.export_json_dict() writes it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/document.h"

namespace docling::chunk {

class TokenCounter;

// How a table renders inside a chunk.
enum class TableFormat {
  Triplets,         // "row, column = value. ..." (docling-core's TripletTableSerializer; the default)
  Markdown,         // padded Markdown table, chunking parameters otherwise unchanged
  MarkdownCompact,  // compact Markdown table with plain Markdown-export parameters: what
                    // docling-core gives for MarkdownParams(compact_tables=True), i.e. with
                    // the "<!-- image -->" placeholder and Markdown escaping switched back on
  Html,             // one-line <table> (caption inside)
};
// How every other item renders: docling-core's ChunkingDocSerializer (Markdown) or HTMLDocSerializer.
enum class ItemFormat { Markdown, Html };

struct ChunkerOptions {
  bool hybrid = true;               // false: HierarchicalChunker (no token budget)
  bool per_page = false;            // docling-core's PageChunker: one chunk per page (wins over hybrid)
  size_t max_tokens = 256;          // hybrid: budget of contextualize(chunk), headings included
  bool merge_peers = true;          // hybrid: merge neighbours with equal headings that fit together
  bool repeat_table_header = true;  // hybrid: a split table repeats its header rows in every piece
  bool omit_header_on_overflow = false;  // hybrid: a header that does not fit with the first row goes alone
  bool always_emit_headings = false;     // headings of sections without content become chunks of their own
  bool merge_list_items = true;          // deprecated upstream; lists are always one chunk
  std::string delim = "\n";              // joins headings and text (contextualize) and merged chunks
  TableFormat table_format = TableFormat::Triplets;
  ItemFormat item_format = ItemFormat::Markdown;
};

struct Chunk {
  std::string text;
  std::vector<Ref> items;             // the document items the text came from (JSON: doc_items)
  std::vector<std::string> headings;  // the heading path, outermost first (empty: none)
  bool with_origin = true;            // heading-only chunks carry no document origin
  bool plain_items = false;           // hybrid: headings were dropped (the table path no longer applies)
};

// Throws std::invalid_argument for options that cannot work (hybrid without a counter, a zero budget).
std::vector<Chunk> hierarchical_chunks(const Document& doc, const ChunkerOptions& opts);
std::vector<Chunk> hybrid_chunks(const Document& doc, const ChunkerOptions& opts, const TokenCounter& counter);
// One chunk per page: the page's items as the chunk serializer renders the whole document.
std::vector<Chunk> page_chunks(const Document& doc, const ChunkerOptions& opts);
// The chunker's choice by opts (counter may be null except for the hybrid chunker).
std::vector<Chunk> make_chunks(const Document& doc, const ChunkerOptions& opts, const TokenCounter* counter);

// Headings then text, joined by `delim` (what an embedding model should see).
std::string contextualize(const Chunk& c, const std::string& delim);

// The chunk as docling-core's export_json_dict(): text and meta (schema name and version,
// doc_items in the base DocItem schema, headings, origin). `doc_json` is to_docling_json(doc)
// (computed once per document by the caller).
Json chunk_json(const Json& doc_json, const Chunk& c);

}  // namespace docling::chunk
