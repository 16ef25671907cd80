// A converted document (docling-core's DoclingDocument) and its exports.
//
// Takes: a conversion result, DocTags, or DoclingDocument JSON. Gives: the document's items
// in reading order, and the document as Markdown, HTML, JSON, DocTags or plain text, the
// way docling-core exports it.
#pragma once

#include "docling/export.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace docling {

// An RGB image, 8 bits per channel, rows top to bottom.
struct PageImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
  bool empty() const { return width <= 0 || height <= 0; }
};
// PNG or JPEG from a file or from memory. Throws InputError naming the file.
DOCLING_API PageImage load_page_image(const std::filesystem::path& file);
DOCLING_API PageImage decode_page_image(const uint8_t* data, size_t size, const std::string& name = "image");

// A box on a page in points, origin at the page's top-left corner.
struct Box {
  double left = 0, top = 0, right = 0, bottom = 0;
};

// One item of the document in reading order: the body tree (where items of the furniture
// layer, like page headers, are marked), then the furniture tree.
struct Item {
  std::string ref;     // JSON pointer, "#/texts/3"
  std::string label;   // docling-core's label: "section_header", "text", "table", "picture", ...
  std::string text;    // the text; Markdown of a table; caption of a picture
  int level = 0;       // heading level (1 = top), list nesting depth
  int page = 0;        // 1-based page of the first provenance; 0 when the item has none
  Box box;             // on that page (meaningless when page is 0)
  bool furniture = false;  // page header/footer layer
};

enum class Format {
  Markdown, Html, Json, DocTags, Text,
  Chunks,  // RAG chunks, one JSON object a line (".chunks.jsonl"); see ChunkOptions
};
DOCLING_API const char* extension(Format f);  // "md", "html", "json", "doctags", "txt", "chunks.jsonl"
// "md,html,json,doctags,text" (also "markdown", "txt", "dt"). Throws InvalidArgumentError.
DOCLING_API std::vector<Format> parse_formats(const std::string& list);

enum class ImageMode {
  Placeholder,  // "<!-- image -->" where a picture stands
  Embedded,     // data: URIs
  Referenced,   // files beside the output (save() writes them)
};

// RAG chunks as docling-core's chunkers make them (HierarchicalChunker, HybridChunker).
enum class Chunker {
  Hierarchical,  // one chunk per paragraph, list, table or picture, with its heading path
  Hybrid,        // the same, fitted to a token budget: split by items and text, small peers merged
  Page,          // one chunk per page (docling-core's PageChunker)
};
enum class ChunkTableFormat {
  Triplets,         // "row, column = value. ..." (docling-core's default for chunks)
  Markdown,         // padded Markdown table
  MarkdownCompact,  // compact Markdown table, with Markdown-export escaping and "<!-- image -->"
                    // placeholders (what docling-core gives for MarkdownParams(compact_tables=True))
  Html,             // one-line <table>
};
enum class ChunkItemFormat { Markdown, Html };  // how the other items render

struct ChunkOptions {
  Chunker chunker = Chunker::Hybrid;    // docling-core's HybridChunker
  // A Hugging Face tokenizer: a folder (tokenizer.json, vocab.txt, or vocab.json + merges.txt)
  // or one of those files. Hybrid needs one; with Hierarchical it only fills num_tokens.
  std::string tokenizer;
  int max_tokens = 0;                   // 0: the tokenizer's own limit (sentence_bert_config.json
                                        // max_seq_length, else model_max_length)
  bool merge_peers = true;              // hybrid: join neighbours with equal headings that fit
  bool repeat_table_header = true;      // hybrid: a split table repeats its header in each piece
  bool omit_header_on_overflow = false; // hybrid: a header too big for the first row goes alone
  bool always_emit_headings = false;    // sections without content still give a heading chunk
  bool merge_list_items = true;         // deprecated upstream: lists are always one chunk
  std::string delim = "\n";             // between headings and text, and between merged chunks
  ChunkTableFormat table_format = ChunkTableFormat::Triplets;
  ChunkItemFormat item_format = ChunkItemFormat::Markdown;
};

// One chunk: what to embed, and where it came from.
struct Chunk {
  std::string text;             // the content
  std::string contextualized;   // headings and text joined by ChunkOptions::delim (embed this)
  std::vector<std::string> headings;  // outermost first
  std::vector<std::string> items;     // refs of the document items, "#/texts/3"
  std::vector<int> pages;             // pages those items are on, ascending
  int num_tokens = -1;                // tokens of `contextualized`; -1 without a tokenizer
  std::string json;  // the chunk as one JSON line: docling-core's DocChunk.export_json_dict()
                     // plus "contextualized" and "num_tokens"
};

struct ExportOptions {
  ImageMode image_mode = ImageMode::Placeholder;   // docling-core's default
  std::optional<std::string> page_break_placeholder;  // text between pages (Markdown, text)
  std::vector<int> pages;                          // only these pages (1-based); empty = all
  bool md_compact_tables = false;                  // Markdown tables without padding
  bool doctags_minified = false;                   // DocTags without newlines between elements
  std::vector<std::string> excluded_labels;        // e.g. {"picture", "page_header"}
  bool html_split_page = false;  // HTML as a layout view: each page image with the items' boxes
                                 // and labels beside that page's content (pages without an
                                 // image get a blank page of their size)
  ChunkOptions chunks;                             // Format::Chunks
};
DOCLING_API ExportOptions export_defaults();

class DOCLING_API DoclingDocument {
 public:
  DoclingDocument();  // empty, named "Document"
  ~DoclingDocument();
  DoclingDocument(const DoclingDocument&);
  DoclingDocument& operator=(const DoclingDocument&);
  DoclingDocument(DoclingDocument&&) noexcept;
  DoclingDocument& operator=(DoclingDocument&&) noexcept;

  // Reading. Throw InputError with the reason (and the byte offset for JSON).
  static DoclingDocument from_json(std::string_view docling_json);
  // DocTags of one page, or of several pages separated by <page_break>; `page_images`
  // (one per page, or none) give page sizes and picture crops as docling-core does.
  // Tag problems are tolerated; `warnings` (if given) receives one line per problem.
  static DoclingDocument from_doctags(std::string_view doctags, const std::vector<PageImage>& page_images = {},
                               std::vector<std::string>* warnings = nullptr);

  std::string name() const;
  int page_count() const;
  std::vector<Item> items() const;

  // The document in one format. Referenced images need save() (they must be files).
  std::string export_to(Format format, const ExportOptions& options = export_defaults()) const;
  std::string to_markdown() const { return export_to(Format::Markdown); }
  // RAG chunks. Throws InvalidArgumentError for a tokenizer that does not load or options that
  // cannot work (Hybrid without a tokenizer, a tokenizer with no limit and max_tokens 0).
  std::vector<Chunk> chunk(const ChunkOptions& options = ChunkOptions{}) const;
  std::string to_json() const { return export_to(Format::Json); }

  // Writes DIR/STEM.<ext> for each format, atomically (a file is whole or absent; either all
  // formats are written or none), with referenced images in DIR/STEM_artifacts/.
  // STEM may name a subfolder but not leave DIR (InvalidArgumentError). Returns the files written.
  // Throws OutputError.
  std::vector<std::filesystem::path> save(const std::filesystem::path& dir, const std::string& stem,
                                          const std::vector<Format>& formats,
                                          const ExportOptions& options = export_defaults()) const;
  // Temporaries that a save() killed mid-write (SIGKILL, power loss) left in `dir` (not
  // below it): removed when their process is gone or they are a day old. Returns them.
  // Only the library's own temporary names are touched. Never throws.
  static std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& dir);

  struct Impl;
  // For the library's own use: the internal tree.
  Impl* impl() const { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace docling
