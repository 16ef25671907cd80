// Page boxes → DocTags location tokens, as docling-core's DocumentToken.get_location:
// the box in top-left page coordinates is divided by the page size, scaled by 500,
// rounded half-to-even and clamped to 0..499, in the order l, t, r, b.
//
// Takes: a BoundingBox and its page size. Gives: "<loc_l><loc_t><loc_r><loc_b>".
#pragma once

#include <array>
#include <string>

#include "doctags/document.h"

namespace docling {

// One normalised coordinate (v in page units / page extent) as a token value.
int loc_value(double normalized, int size = 500);

// Token values l, t, r, b for a box on a page of width w and height h.
std::array<int, 4> loc_values(const BoundingBox& box, double page_w, double page_h, int xsize = 500,
                              int ysize = 500);

std::string loc_tokens(const BoundingBox& box, double page_w, double page_h, int xsize = 500,
                       int ysize = 500);

}  // namespace docling
