// How far to trust a model page: the model's own confidence (log-probabilities of the tokens
// it chose, per item and per page, graded as docling's ConfidenceReport grades), and a check
// of each text item against the PDF's text layer inside its box (a misread or a hallucination
// shows as a large edit distance).
//
// Results go into the items' meta under docling-cpp's own namespace (docling-core keeps
// "namespace__name" fields): "docling_cpp__confidence" and "docling_cpp__text_layer". The
// exporters do not print this namespace; JSON and chunks carry it.
//
// Takes: a page Document, the generated tokens' log-probabilities, the text layer.
// Gives: meta on the items, and the page's summary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/document.h"
#include "layout/text_layer.h"

namespace docling {

struct Confidence {
  double mean_logprob = 0, min_logprob = 0;
  int tokens = 0;
  double score() const;       // exp(mean_logprob): the geometric mean probability, 0..1
  const char* grade() const;  // "poor" < 0.5 <= "fair" < 0.8 <= "good" < 0.9 <= "excellent"
};
Confidence confidence_of(const std::vector<float>& logprobs, size_t first, size_t last);  // [first, last]

// The tokens that made one item: from the token after the previous item closed to its own.
struct ItemTokens {
  Ref item;
  size_t first = 0, last = 0;
};

// Call after each generated token has been fed to the parser (and once after finish()):
// items that appeared since are attributed to the tokens since the last item.
class ItemWatch {
 public:
  void after_token(const Document& doc, size_t token_index);
  const std::vector<ItemTokens>& spans() const { return spans_; }

 private:
  size_t seen_[5] = {};  // texts, tables, pictures, key-value items, form items
  size_t next_first_ = 0;
  std::vector<ItemTokens> spans_;
};

// Meta "docling_cpp__confidence" on each item; returns the whole page's confidence.
Confidence annotate_confidence(Document& doc, const std::vector<float>& logprobs, const std::vector<ItemTokens>& spans);

// Levenshtein distance over code points, whitespace runs as one space, divided by the longer
// length (0 = equal, 1 = nothing in common).
double normalized_edit_distance(std::string_view a, std::string_view b);

struct TextLayerCheck {
  int checked = 0;               // text items with a box over text-layer words
  std::vector<Ref> suspects;     // distance above the threshold
};
// Each text item with a box is compared with the text layer's words in that box (`sx`, `sy`:
// document points to text-layer points); meta "docling_cpp__text_layer" {distance, suspect}.
TextLayerCheck check_text_layer(Document& doc, const TextPage& text, double sx, double sy, double threshold = 0.4);

}  // namespace docling
