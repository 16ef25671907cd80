// Number formats of the weights and caches: bf16 and IEEE half (f16) bit patterns to and from
// f32. Plain scalar functions (the vector forms live in the kernels that use them).
//
// Takes: floats or bit patterns. Gives: the other.
#pragma once

#include <cstdint>

namespace docling {

// bf16 / f16 bit patterns to float (exact).
inline float bf16_to_f32(uint16_t v) {
  uint32_t u = uint32_t(v) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
float f16_to_f32(uint16_t v);

// float to bf16, round to nearest even (NaN stays NaN).
inline uint16_t f32_to_bf16(float v) {
  uint32_t u;
  __builtin_memcpy(&u, &v, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}
// float to IEEE half, round to nearest even; values beyond the f16 range saturate to +-65504.
uint16_t f32_to_f16(float x);

}  // namespace docling
