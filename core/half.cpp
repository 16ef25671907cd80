#include "core/half.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace docling {

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) {
    u = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    u = sign;
  } else {  // subnormal: normalize
    int e = -1;
    do { man <<= 1; ++e; } while (!(man & 0x400));
    u = sign | uint32_t(112 - e) << 23 | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float x) {
  x = std::clamp(x, -65504.0f, 65504.0f);  // NaN passes through clamp unchanged
  uint32_t f;
  std::memcpy(&f, &x, 4);
  const uint32_t sign = (f >> 16) & 0x8000u, abs = f & 0x7fffffffu;
  if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
  if (abs >= 0x38800000u) {                                // normal half
    uint32_t m = abs - 0x38000000u;                         // rebias exponent 127 -> 15
    m += 0x0fffu + ((m >> 13) & 1u);                        // round to nearest even
    return uint16_t(sign | (m >> 13));
  }
  // Subnormal half (or zero): value = abs * 2^24 in units of the half's smallest step.
  float a;
  std::memcpy(&a, &abs, 4);
  return uint16_t(sign | uint32_t(std::nearbyint(a * 16777216.0f)));  // ties to even (default mode)
}

}  // namespace docling
