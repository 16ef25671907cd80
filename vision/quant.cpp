#include "vision/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace docling::vision {

namespace {

inline float bf16_f32(uint16_t v) {
  uint32_t u = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

void quantize_row(const uint16_t* w, int cols, int group, int8_t* q, float* scale) {
  for (int c0 = 0, gi = 0; c0 < cols; c0 += group, ++gi) {
    const int c1 = std::min(cols, c0 + group);
    float mx = 0.0f;
    for (int c = c0; c < c1; ++c) mx = std::max(mx, std::fabs(bf16_f32(w[c])));
    const float s = mx > 0.0f && std::isfinite(mx) ? mx / 127.0f : 1.0f, inv = 1.0f / s;
    scale[gi] = s;
    for (int c = c0; c < c1; ++c) {
      float v = std::nearbyint(bf16_f32(w[c]) * inv);
      q[c] = std::isnan(v) ? int8_t(0) : int8_t(std::clamp(v, -127.0f, 127.0f));
    }
  }
}

}  // namespace

void quantize_rows_int8(const uint16_t* w, int rows, int cols, int group, int8_t* q, float* scale) {
  if (rows <= 0 || cols <= 0) return;
  const int G = group > 0 && group < cols ? group : cols, ng = int8_groups(cols, group);
  tbb::parallel_for(tbb::blocked_range<int>(0, rows, 64), [&](const tbb::blocked_range<int>& r) {
    for (int i = r.begin(); i < r.end(); ++i)
      quantize_row(w + int64_t(i) * cols, cols, G, q + int64_t(i) * cols, scale + int64_t(i) * ng);
  });
}

}  // namespace docling::vision
