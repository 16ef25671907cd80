// Symmetric int8 quantization of BF16 weight matrices, for the INT8 weight mode.
//
// Takes: a BF16 matrix [rows, cols] (nn.Linear layout: rows = output channels).
// Gives: int8 values q and f32 scales, W[r, c] ≈ q[r, c] * scale[r * groups + c / group],
// groups = ceil(cols / group). One scale per output channel and run of `group` input
// columns; scale = max|W| / 127 over the run, q = round(W / scale) in [-127, 127].
#pragma once

#include <cstdint>

namespace docling::vision {

// group <= 0 or >= cols: one scale per row. Parallel over rows.
void quantize_rows_int8(const uint16_t* w, int rows, int cols, int group, int8_t* q, float* scale);

// Number of scales per row for a group size (as the gemm kernel counts them).
inline int int8_groups(int cols, int group) {
  int g = group > 0 && group < cols ? group : cols;
  return cols > 0 ? (cols + g - 1) / g : 0;
}

}  // namespace docling::vision
