// Ink on a page that the text layer does not explain: pictures, rules and scans.
//
// From a low-resolution rendering of the page (36-50 dpi is enough) and the boxes of the page's
// words: pixels that differ from the page background and lie outside every word box are grouped
// into regions (pixels up to two apart join, so the bars of a chart make one region). A region
// that is thin and long is a rule; one made of horizontal and vertical strokes around text is a
// table grid or a frame; one mostly covered by words is a shaded text box; one under the minimum
// size is decoration. What is left is a picture. A page whose background itself is an image
// (a region covering most of the page, or a background that is noisy everywhere, as a scan's)
// with the words lying on it is text over an image: an OCR layer over a scan, most likely.
//
// Takes: Image (core/image.h, RGB) of the page at `dpi`, word boxes in page points (top-left
// origin, the rendered frame). Gives: PageInk (boxes in page points).
#pragma once

#include <vector>

#include "core/image.h"
#include "layout/text_layer.h"

namespace docling {

struct InkOptions {
  double min_picture = 24;     // points: a picture is at least this wide and this tall
  double max_rule = 4;         // points: a region this thin (and long) is a rule
  double scan_cover = 0.7;     // a region over this share of the page is a page-sized image
  double noisy_share = 0.3;    // share of the page's non-text pixels slightly off the background
};

struct PageInk {
  std::vector<InkBox> pictures;  // picture regions, page points
  std::vector<InkBox> rules;     // thin long regions (rules, table borders), page points
  double image_cover = 0;        // largest region's box / page area
  double noisy = 0;              // share of non-text pixels slightly off the background
  bool text_over_image = false;  // words lie on a page-sized image (image_cover or noisy)
};

PageInk find_page_ink(const Image& img, double page_w, double page_h, const std::vector<TextWord>& words,
                      const InkOptions& opt = {});

// Straight rules one by one (table borders, booktabs rules), for tables drawn with lines. Needs
// about 72 dpi: a rule a point or two from the text beside it must stay apart from its glyphs.
// A horizontal rule is a run of dark pixels at least `min_len` long whose vertical extent is at
// most `max_thick` (vertical ones the same way turned); runs broken where other lines cross or
// glyphs touch are joined over gaps up to `max_gap`; runs lying mostly inside word boxes (the
// strokes of glyphs) are dropped. Boxes in page points, thin along their rule.
struct RuleLines {
  std::vector<InkBox> h, v;
};
RuleLines find_rule_lines(const Image& img, double page_w, double page_h, const std::vector<TextWord>& words,
                          double min_len = 12, double max_thick = 4, double max_gap = 4);

}  // namespace docling
