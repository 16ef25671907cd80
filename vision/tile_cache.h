// Identical tiles encoded once: blank margins and repeated backgrounds give tiles with
// the same pixels; the vision encoder + connector run once per distinct tile of a batch
// and the features are copied to the duplicates. Outputs are bit-identical to encoding
// every tile (a tile's features depend only on its own pixels).
//
// Takes: normalized CHW tiles [n][3][size][size] (vision/image_processor). Gives: features
// [n][image_seq_len][text hidden], as Model::encode_tiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vision/model.h"

namespace docling::vision {

// 64-bit content hash of n floats (their bit patterns).
uint64_t tile_hash(const float* data, size_t n);

// For each tile, the index of the first tile with exactly the same bits (itself if none).
std::vector<int> duplicate_tiles(const float* tiles, int n_tiles, size_t tile_floats);

struct TileDedupStats {
  int tiles = 0;   // tiles asked for
  int encoded = 0; // distinct tiles run through the encoder
};

// Model::encode_tiles with each distinct tile encoded once.
std::vector<float> encode_tiles_dedup(const Model& model, const float* tiles, int n_tiles,
                                      TileDedupStats* stats = nullptr);

}  // namespace docling::vision
