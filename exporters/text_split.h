// Text splitting of docling-core's HybridChunker: semchunk 3.2.5 for plain text and the line
// chunker (LineBasedTokenChunker) for tables whose header is repeated.
//
// Takes: UTF-8 text (or table lines and a header prefix), a token budget, a TokenCounter.
// Gives: the pieces exactly as the Python reference cuts them (lengths and indexes in code
//        points, as Python str), see tests/data/conformance/chunks/README.md §6.3-6.4.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/chunk_tokenizer.h"

namespace docling::chunk {

// semchunk 3.2.5 chunk(text, chunk_size, token_counter) with no overlap/offsets, outermost call:
// empty / whitespace-only chunks dropped. The token counter is wrapped by semchunk's shortcut
// (texts longer than 6 * chunk_size code points are judged by a prefix).
std::vector<std::string> semchunk(std::string_view utf8, size_t chunk_size, const TokenCounter& tc);

// docling-core's LineBasedTokenChunker as HybridChunker's table path uses it (§6.4): lines,
// prefix (header lines joined), limit. omit_header_on_overflow (no fixture covers it): a line
// that fits alone but not with the prefix closes the current piece (the prefix alone, if nothing
// else was added) and goes into a piece without the prefix.
std::vector<std::string> line_chunk(const std::vector<std::string>& lines, const std::string& prefix,
                                    size_t max_tokens, bool omit_header_on_overflow,
                                    const TokenCounter& tc);

}  // namespace docling::chunk
