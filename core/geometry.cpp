#include "core/geometry.h"

#include <algorithm>
#include <cmath>

namespace docling {

double round_half_even(double x) {
  double r = std::round(x);  // half away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5) r = 2.0 * std::round(x / 2.0);
  return r;
}

int loc_token_value(double v, int size) {
  double tok = round_half_even(size * v);
  if (!(tok > 0)) return 0;  // also catches NaN
  if (tok > size - 1) return size - 1;
  return static_cast<int>(tok);
}

LocBox to_loc(const BoundingBox& box, double page_width, double page_height, int xsize, int ysize) {
  BoundingBox tl = box.to_top_left(page_height);
  // Same operation order as docling-core: divide first, then scale by 500.
  double x0 = tl.l / page_width, y0 = tl.t / page_height;
  double x1 = tl.r / page_width, y1 = tl.b / page_height;
  return {loc_token_value(std::min(x0, x1), xsize), loc_token_value(std::min(y0, y1), ysize),
          loc_token_value(std::max(x0, x1), xsize), loc_token_value(std::max(y0, y1), ysize)};
}

BoundingBox from_loc(const LocBox& loc, double width, double height) {
  BoundingBox b;
  b.l = (loc.l / 500.0) * width;
  b.t = (loc.t / 500.0) * height;
  b.r = (loc.r / 500.0) * width;
  b.b = (loc.b / 500.0) * height;
  b.origin = CoordOrigin::TopLeft;
  return b;
}

std::string loc_tokens(const LocBox& loc) {
  std::string s;
  for (int v : {loc.l, loc.t, loc.r, loc.b}) s += "<loc_" + std::to_string(v) + ">";
  return s;
}

}  // namespace docling
