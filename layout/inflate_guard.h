// A compressed-stream bomb check run on a PDF's bytes before Poppler opens them.
//
// poppler-cpp offers no hook to stop a stream that inflates to gigabytes (a 1.6 KB file can
// hold three nested Flate layers that expand to 64 GiB), so every Flate-encoded stream is
// inflated here once, through all of its leading Flate filters, counting bytes and stopping
// at the cap. Streams are found by their `stream` keyword after a dictionary; data that does
// not inflate (encrypted, damaged, other filters) is left to Poppler.
//
// Takes: the bytes of a PDF and a cap in bytes per stream. Gives: the first stream past the
// cap (its object number when the file names one), or nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace docling::layout {

struct InflateBomb {
  long object = -1;    // "N 0 obj" before the stream; -1 when not found
  uint64_t cap = 0;    // the limit it went past
};

std::optional<InflateBomb> find_inflate_bomb(const uint8_t* pdf, size_t size, uint64_t cap);

}  // namespace docling::layout
