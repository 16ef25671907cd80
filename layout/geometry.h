// Page coordinates <-> DocTags location tokens, exactly as docling-core does it.
//
// Writer (docling-core DocumentToken.get_location): the box is made TOPLEFT, each
// coordinate divided by the page width/height, then tok = clamp(round(500 * v), 0, 499)
// with Python's round (half to even), in the order min x, min y, max x, max y.
// Reader (load_from_doctags): coordinate = (N / 500.0) * W in double, no clamping.
//
// Takes: doctags/document.h BoundingBox. Gives: LocBox and token strings.
#pragma once

#include <string>

#include "doctags/document.h"

namespace docling {

constexpr int kLocGrid = 500;

struct LocBox {
  int l = 0, t = 0, r = 0, b = 0;
  friend bool operator==(const LocBox& a, const LocBox& b) {
    return a.l == b.l && a.t == b.t && a.r == b.r && a.b == b.b;
  }
};

// Python round(): nearest integer, ties to even.
double round_half_even(double x);

// One coordinate already divided by the page extent -> token value in [0, 499].
// (Named apart from exporters/geometry.h loc_value, which does the same.)
int loc_token_value(double normalized);

// A page box (any origin) on a page of width x height -> the four tokens.
LocBox to_loc(const BoundingBox& box, double page_width, double page_height);

// Tokens -> TOPLEFT box on a page (or image) of width x height: (N / 500.0) * W.
BoundingBox from_loc(const LocBox& loc, double width, double height);

// "<loc_l><loc_t><loc_r><loc_b>"
std::string loc_tokens(const LocBox& loc);

}  // namespace docling
