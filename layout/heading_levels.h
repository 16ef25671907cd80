// Section-header levels and the document title for the text-layer backend.
//
// A heading's level comes first from its numbering ("3" -> 1, "3.1" -> 2, "A.2.1" -> 3,
// "IV." -> 1), then, for unnumbered headings, from its style (font size, then weight)
// ranked against the styles the numbered headings use, or against each other when
// nothing is numbered. The title is the first heading of the first page when it is set
// larger than every other heading.
//
// Takes: HeadingInfo per section header, in document order. Gives: a level per heading
// (1..6) and the index of the title (or -1).
#pragma once

#include <string>
#include <vector>

namespace docling {

struct HeadingInfo {
  std::string text;
  double font_size = 0;
  bool bold = false;
  int page_no = 1;
  double top_frac = 0;  // top of the heading / page height
};

// Depth of a leading section number followed by a space: "3.1. Staffing" -> 2,
// "2 Methods" -> 1, "A.1 Proofs" -> 2, "IV. Results" -> 1; 0 when unnumbered.
int numbering_depth(const std::string& text);

struct HeadingLevels {
  std::vector<int> level;  // one per heading
  int title = -1;          // index of the heading that is the document title
};

HeadingLevels assign_heading_levels(const std::vector<HeadingInfo>& heads, int first_page);

}  // namespace docling
