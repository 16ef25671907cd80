#include "exporters/geometry.h"

#include <algorithm>
#include <cmath>

namespace docling {

int loc_value(double v, int size) {
  // Python round(): half to even; std::nearbyint does that in the default FE mode.
  double r = std::nearbyint(static_cast<double>(size) * v);
  if (std::isnan(r)) r = 0;
  r = std::clamp(r, 0.0, static_cast<double>(size - 1));
  return static_cast<int>(r);
}

std::array<int, 4> loc_values(const BoundingBox& box, double page_w, double page_h, int xsize, int ysize) {
  BoundingBox b = box.to_top_left(page_h);
  double x0 = b.l / page_w, y0 = b.t / page_h, x1 = b.r / page_w, y1 = b.b / page_h;
  return {loc_value(std::min(x0, x1), xsize), loc_value(std::min(y0, y1), ysize),
          loc_value(std::max(x0, x1), xsize), loc_value(std::max(y0, y1), ysize)};
}

std::string loc_tokens(const BoundingBox& box, double page_w, double page_h, int xsize, int ysize) {
  auto v = loc_values(box, page_w, page_h, xsize, ysize);
  std::string out;
  for (int x : v) out += "<loc_" + std::to_string(x) + ">";
  return out;
}

}  // namespace docling
