#include "layout/inflate_guard.h"

#include <zlib.h>

#include <cctype>
#include <cstring>
#include <string>
#include <vector>

namespace docling::layout {

namespace {

constexpr size_t kChunk = size_t(1) << 16;
constexpr size_t kDictLookBack = size_t(1) << 16;  // a stream dictionary longer than this is not checked
constexpr int kMaxLayers = 8;
// A layer that has written this much at a ratio below kBombRatio is an ordinary stream: it is
// not inflated further (the check must stay cheap on large, legitimate documents).
constexpr uint64_t kProbeBytes = uint64_t(1) << 20;
constexpr uint64_t kBombRatio = 64;

bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == 0; }

// Start of the dictionary that ends just before `end` (exclusive, at ">>"), or npos.
size_t dict_start(const uint8_t* p, size_t end) {
  size_t floor = end > kDictLookBack ? end - kDictLookBack : 0;
  int depth = 0;
  for (size_t i = end; i >= floor + 2; --i) {
    if (p[i - 1] == '>' && p[i - 2] == '>') {
      ++depth;
      --i;
    } else if (p[i - 1] == '<' && p[i - 2] == '<') {
      if (--depth == 0) return i - 2;
      --i;
    }
  }
  return std::string::npos;
}

// How many Flate filters the dictionary's /Filter begins with (0: none or not direct).
int leading_flate_filters(const std::string& dict) {
  size_t f = dict.find("/Filter");
  if (f == std::string::npos) return 0;
  size_t i = f + 7;
  auto skip = [&] { while (i < dict.size() && is_space(uint8_t(dict[i]))) ++i; };
  skip();
  bool array = i < dict.size() && dict[i] == '[';
  if (array) ++i;
  int n = 0;
  for (;;) {
    skip();
    if (i >= dict.size() || dict[i] != '/') break;
    size_t j = i + 1;
    while (j < dict.size() && std::isalnum(uint8_t(dict[j]))) ++j;
    std::string name = dict.substr(i + 1, j - i - 1);
    if (name != "FlateDecode" && name != "Fl") break;
    ++n;
    i = j;
    if (!array) break;
  }
  return std::min(n, kMaxLayers);
}

// "N G obj" before the dictionary, if it is there.
long object_number(const uint8_t* p, size_t dict) {
  size_t floor = dict > 64 ? dict - 64 : 0;
  std::string before(reinterpret_cast<const char*>(p + floor), dict - floor);
  size_t o = before.rfind("obj");
  if (o == std::string::npos) return -1;
  long num = -1, gen = -1;
  size_t start = before.find_last_not_of(" \t\r\n", o ? o - 1 : 0);
  // Walk back over "G" and "N".
  size_t g_end = start + 1, g_begin = before.find_last_not_of("0123456789", start);
  if (g_begin == std::string::npos || g_begin + 1 >= g_end) return -1;
  gen = std::strtol(before.substr(g_begin + 1, g_end - g_begin - 1).c_str(), nullptr, 10);
  size_t n_end = before.find_last_not_of(" \t\r\n", g_begin);
  if (n_end == std::string::npos) return -1;
  size_t n_begin = before.find_last_not_of("0123456789", n_end);
  n_begin = n_begin == std::string::npos ? 0 : n_begin + 1;
  if (n_begin > n_end) return -1;
  num = std::strtol(before.substr(n_begin, n_end - n_begin + 1).c_str(), nullptr, 10);
  return gen >= 0 ? num : -1;
}

// Output buffers of the layers, kept across the streams of a file.
using LayerBuffers = std::vector<uint8_t>[kMaxLayers];

// Layers of inflaters, each feeding the next; counts what each writes.
class Chain {
 public:
  Chain(int layers, uint64_t cap, LayerBuffers& out) : layers_(layers), cap_(cap), out_(out) {
    for (int l = 0; l < layers_; ++l) {
      std::memset(&z_[l], 0, sizeof z_[l]);
      ok_ &= inflateInit(&z_[l]) == Z_OK;
      open_ = l + 1;
    }
  }
  ~Chain() {
    for (int l = 0; l < open_; ++l) inflateEnd(&z_[l]);
  }
  // Feeds the stream's raw data; true when some layer went past the cap.
  bool run(const uint8_t* data, size_t size) {
    if (!ok_) return false;
    push(0, data, size);
    return over_;
  }

 private:
  void push(int layer, const uint8_t* data, size_t size) {
    if (layer == layers_ || done_) return;
    z_stream& z = z_[layer];
    std::vector<uint8_t>& out = out_[layer];
    out.resize(kChunk);
    z.next_in = const_cast<uint8_t*>(data);
    z.avail_in = unsigned(size);
    while (!done_) {
      z.next_out = out.data();
      z.avail_out = unsigned(out.size());
      int rc = inflate(&z, Z_NO_FLUSH);
      size_t got = out.size() - z.avail_out;
      written_[layer] += got;
      if (written_[layer] > cap_) over_ = done_ = true;
      else if (written_[layer] >= kProbeBytes && written_[layer] < kBombRatio * (z.total_in + 1)) done_ = true;
      else if (got) push(layer + 1, out.data(), got);
      if (rc != Z_OK) return;  // the end of this layer's stream, damage, or no progress possible
      if (z.avail_in == 0 && z.avail_out != 0) return;  // all input taken
    }
  }

  int layers_;
  uint64_t cap_;
  z_stream z_[kMaxLayers];
  uint64_t written_[kMaxLayers] = {};
  LayerBuffers& out_;
  int open_ = 0;
  bool ok_ = true, over_ = false, done_ = false;
};

}  // namespace

std::optional<InflateBomb> find_inflate_bomb(const uint8_t* p, size_t n, uint64_t cap) {
  static const char kw[] = "stream";
  LayerBuffers buffers;
  for (size_t i = 0; i + 6 < n;) {
    const void* hit = memmem(p + i, n - i, kw, 6);
    if (!hit) break;
    size_t at = size_t(static_cast<const uint8_t*>(hit) - p);
    i = at + 6;
    if (at >= 3 && std::memcmp(p + at - 3, "end", 3) == 0) continue;
    size_t data = at + 6;
    if (data < n && p[data] == '\r') ++data;
    if (data < n && p[data] == '\n') ++data;
    if (data == at + 6) continue;  // not the keyword (no end of line after it)
    size_t e = at;
    while (e > 0 && is_space(p[e - 1])) --e;
    if (e < 2 || p[e - 1] != '>' || p[e - 2] != '>') continue;
    size_t d = dict_start(p, e);
    if (d == std::string::npos) continue;
    int layers = leading_flate_filters(std::string(reinterpret_cast<const char*>(p + d), e - d));
    if (layers == 0) continue;
    Chain chain(layers, cap, buffers);
    if (chain.run(p + data, n - data)) return InflateBomb{object_number(p, d), cap};
  }
  return std::nullopt;
}

}  // namespace docling::layout
