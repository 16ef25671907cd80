#include "vision/tile_cache.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace docling::vision {

uint64_t tile_hash(const float* data, size_t n) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data);
  const size_t bytes = n * sizeof(float);
  uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  for (; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= h >> 29;
  return h * 0xc4ceb9fe1a85ec53ull;
}

std::vector<int> duplicate_tiles(const float* tiles, int n_tiles, size_t tile_floats) {
  std::vector<int> first(size_t(std::max(n_tiles, 0)));
  std::unordered_multimap<uint64_t, int> seen;
  for (int i = 0; i < n_tiles; ++i) {
    const float* t = tiles + size_t(i) * tile_floats;
    uint64_t h = tile_hash(t, tile_floats);
    first[size_t(i)] = i;
    auto range = seen.equal_range(h);
    for (auto it = range.first; it != range.second; ++it)  // equal hash: confirm the bits
      if (std::memcmp(tiles + size_t(it->second) * tile_floats, t, tile_floats * sizeof(float)) == 0) {
        first[size_t(i)] = it->second;
        break;
      }
    if (first[size_t(i)] == i) seen.emplace(h, i);
  }
  return first;
}

std::vector<float> encode_tiles_dedup(const Model& model, const float* tiles, int n_tiles, TileDedupStats* stats) {
  const ModelConfig& c = model.config();
  const size_t tile_floats = size_t(c.vision.channels) * size_t(c.vision.image_size) * size_t(c.vision.image_size);
  const size_t feat = size_t(c.image_seq_len) * size_t(c.text.hidden);
  std::vector<int> first = duplicate_tiles(tiles, n_tiles, tile_floats);
  std::vector<int> uniq;  // distinct tiles, in order
  std::vector<int> slot(first.size());
  for (int i = 0; i < n_tiles; ++i) {
    if (first[size_t(i)] == i) {
      slot[size_t(i)] = int(uniq.size());
      uniq.push_back(i);
    } else {
      slot[size_t(i)] = slot[size_t(first[size_t(i)])];
    }
  }
  if (stats) *stats = TileDedupStats{n_tiles, int(uniq.size())};
  if (int(uniq.size()) == n_tiles) return model.encode_tiles(tiles, n_tiles);
  std::vector<float> packed(uniq.size() * tile_floats);
  for (size_t u = 0; u < uniq.size(); ++u)
    std::memcpy(packed.data() + u * tile_floats, tiles + size_t(uniq[u]) * tile_floats, tile_floats * sizeof(float));
  std::vector<float> enc = model.encode_tiles(packed.data(), int(uniq.size()));
  std::vector<float> out(size_t(n_tiles) * feat);
  for (int i = 0; i < n_tiles; ++i)
    std::memcpy(out.data() + size_t(i) * feat, enc.data() + size_t(slot[size_t(i)]) * feat, feat * sizeof(float));
  return out;
}

}  // namespace docling::vision
