// Private to kernels/: what the AMX code (amx.cpp, attention_bf16.cpp) shares: the target
// attribute and the one tile configuration they all use.
#pragma once

#include <immintrin.h>

#include <cstdint>

#define AMX_FN __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

namespace docling::kernels::detail {

// Palette 1 with the 8 tiles all 16 rows x 64 bytes (16 x 32 bf16, 16 x 16 pairs or f32 sums).
// A thread loads it before its first tile instruction and releases the tiles when done.
struct TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

AMX_FN inline void load_tile_config() {
  alignas(64) TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  _tile_loadconfig(&cfg);
}

}  // namespace docling::kernels::detail
