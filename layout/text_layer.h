// The PDF text layer: words (as Poppler gives them) and lines built from them.
//
// Coordinates are page points with a top-left origin and the page rotation applied,
// the same frame as PageSource::page_size and docling's TOPLEFT provenance boxes.
//
// Takes: words from a PageSource. Gives: TextPage (words, lines).
#pragma once

#include <string>
#include <vector>

namespace docling {

class PageSource;

struct TextWord {
  std::string text;         // UTF-8
  double l = 0, t = 0, r = 0, b = 0;
  double font_size = 0;     // 0 when Poppler gives none
  std::string font_name;    // subset prefix removed ("ABCDEF+Times-Bold" -> "Times-Bold")
  bool bold = false, italic = false, mono = false;  // guessed from the font name
  bool space_after = false; // Poppler saw a space after this word
  bool horizontal = true;   // false for rotated or vertical text
  int quarter = 0;          // Poppler's rotation of the word on the displayed page (quarter turns)
  bool vertical_mode = false;  // vertical writing mode (horizontal is false then at any rotation)
};

// One line: words on one baseline, without a column-sized gap between them.
struct TextLine {
  std::vector<int> words;   // indices into TextPage::words, in reading order
  std::string text;         // words joined with single spaces where the PDF has them
  double l = 0, t = 0, r = 0, b = 0;
  double font_size = 0;     // the most common size among the line's characters
  bool bold = false, italic = false, mono = false;  // most characters
  bool rtl = false;         // mostly right-to-left script: words ordered right to left
};

// A box in page points (top-left origin) found in the page's rendering (layout/page_ink.h).
struct InkBox {
  double l = 0, t = 0, r = 0, b = 0;
};

struct TextPage {
  int page_no = 1;
  double width = 0, height = 0;  // points, rotation applied
  int rotation = 0;              // the page's rotation (0, 90, 180, 270); see make_upright
  bool upright = false;          // make_upright ran: words and size are in the unrotated frame
  std::vector<TextWord> words;   // Poppler's reading order
  std::vector<TextLine> lines;   // top to bottom, then left to right
  std::vector<InkBox> pictures;  // picture regions from the rendering (same frame as words)
  std::vector<InkBox> hrules, vrules;  // horizontal / vertical rules from the rendering (same frame)
  bool text_over_image = false;  // the words lie on a page-sized image (a scan with an OCR layer)
  bool empty() const { return words.empty(); }
};

// Build lines from words: words whose vertical extents overlap form a row; a row is
// cut where the horizontal gap exceeds `gap_em` times the font size (columns, table
// cells); a lone bullet glyph stays with the text that follows it.
void build_lines(TextPage& page, double gap_em = 1.5);

// A rotated page's words in the page's own (unrotated) frame, where its text reads left to
// right, and the page's size swapped back for 90 and 270: lines, columns and paragraphs are
// then found as on an upright page. Call before build_lines; boxes found in that frame go back
// to the displayed page with to_display. A page with rotation 0 is left as it is.
void make_upright(TextPage& page);
// A box (top-left origin) in the upright frame of a page of display size `display` and
// rotation `rotation`, in the displayed page's coordinates.
void to_display(double& l, double& t, double& r, double& b, int rotation, double display_w, double display_h);

// A line of the given words of `page` (in reading order: right to left when `rtl`): its
// text, box and dominant style, as build_lines makes them.
TextLine make_line(const TextPage& page, std::vector<int> words, bool rtl);

// Words + lines of one page of a source (empty for image sources).
TextPage read_text_page(const PageSource& src, int page_no);

// The text-layer text inside a box (page points, top-left origin), as docling's
// get_text_in_rect: words with more than half of their own area inside, in reading
// order (lines top to bottom), joined with single spaces. Used by force_backend_text.
std::string text_in_rect(const TextPage& page, double l, double t, double r, double b);
// Helpers shared with the text backend.
bool is_bold_font(const std::string& font_name);
bool is_italic_font(const std::string& font_name);
bool is_mono_font(const std::string& font_name);
bool is_rtl_codepoint(unsigned cp);

}  // namespace docling
