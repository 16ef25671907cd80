#include "vision/connector.h"

#include <cstring>
#include <vector>

#include "kernels/kernels.h"

namespace docling::vision {

using namespace kernels;

void pixel_shuffle(const float* x, int side, int D, int s, float* out) {
  const int nb = side / s;
  for (int hb = 0; hb < nb; ++hb)
    for (int wb = 0; wb < nb; ++wb) {
      float* dst = out + int64_t(hb * nb + wb) * s * s * D;
      for (int dy = 0; dy < s; ++dy)
        for (int dx = 0; dx < s; ++dx) {
          const float* src = x + int64_t((s * hb + dy) * side + (s * wb + dx)) * D;
          std::memcpy(dst + (dy * s + dx) * D, src, sizeof(float) * D);
        }
    }
}

void run_connector(const ModelConfig& cfg, const Weights& w, const float* hidden, int n_tiles, float* out,
                   const Tap* tap) {
  const VisionConfig& v = cfg.vision;
  const int s = cfg.scale_factor, side = v.patches_per_side(), D = v.hidden;
  const int tokens = cfg.image_seq_len, fin = cfg.connector_in();
  std::vector<float> shuffled(size_t(n_tiles) * tokens * fin);
  for (int t = 0; t < n_tiles; ++t) {
    float* sh = shuffled.data() + int64_t(t) * tokens * fin;
    pixel_shuffle(hidden + int64_t(t) * v.num_patches() * D, side, D, s, sh);
    if (tap && *tap) (*tap)("connector.pixel_shuffle", t, -1, sh, tokens, fin);
  }
  linear(shuffled.data(), n_tiles * tokens, w.proj, nullptr, out);
}

}  // namespace docling::vision
