// Page coordinates <-> DocTags location tokens, exactly as docling-core does it.
//
// Writer (docling-core DocumentToken.get_location): the box is made TOPLEFT, each
// coordinate divided by the page width/height, then tok = clamp(round(500 * v), 0, 499)
// with Python's round (half to even), in the order min x, min y, max x, max y.
// Reader (load_from_doctags): coordinate = (N / 500.0) * W in double, no clamping.
//
// Takes: doctags/document.h BoundingBox. Gives: LocBox and token strings (the text-layer
// backend and the DocTags writer both use these).
#pragma once

#include <string>

#include "core/document.h"

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

// One coordinate already divided by the page extent -> token value in [0, size - 1].
int loc_token_value(double normalized, int size = kLocGrid);

// A page box (any origin) on a page of width x height -> the four tokens (on a grid of
// xsize x ysize; DocTags uses 500 x 500).
LocBox to_loc(const BoundingBox& box, double page_width, double page_height, int xsize = kLocGrid,
              int ysize = kLocGrid);

// Tokens -> TOPLEFT box on a page (or image) of width x height: (N / 500.0) * W.
BoundingBox from_loc(const LocBox& loc, double width, double height);

// "<loc_l><loc_t><loc_r><loc_b>"
std::string loc_tokens(const LocBox& loc);

}  // namespace docling
