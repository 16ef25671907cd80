#include "pipeline/quality.h"

#include <algorithm>
#include <cmath>

#include "core/utf8.h"

namespace docling {

namespace {

constexpr const char* kConfidenceKey = "docling_cpp__confidence";
constexpr const char* kTextLayerKey = "docling_cpp__text_layer";

double round4(double v) { return std::round(v * 1e4) / 1e4; }

Json& meta_of(Node& n) {
  if (!n.meta.is_object()) n.meta = Json::object();
  return n.meta;
}

// Code points with every whitespace run as one space and no space at either end.
std::u32string squeeze(std::string_view s) {
  std::u32string out;
  bool space = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t c = utf8_next(s, i);
    bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x3000;
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(U' ');
    space = false;
    out.push_back(char32_t(c));
  }
  return out;
}

}  // namespace

double Confidence::score() const { return tokens ? std::exp(mean_logprob) : 0; }

const char* Confidence::grade() const {
  double s = score();
  return s < 0.5 ? "poor" : s < 0.8 ? "fair" : s < 0.9 ? "good" : "excellent";
}

Confidence confidence_of(const std::vector<float>& lp, size_t first, size_t last) {
  Confidence c;
  if (lp.empty() || first >= lp.size()) return c;
  last = std::min(last, lp.size() - 1);
  double sum = 0, mn = 0;
  for (size_t i = first; i <= last; ++i) {
    sum += lp[i];
    mn = std::min(mn, double(lp[i]));
  }
  c.tokens = int(last - first + 1);
  c.mean_logprob = sum / c.tokens;
  c.min_logprob = mn;
  return c;
}

void ItemWatch::after_token(const Document& doc, size_t token_index) {
  const size_t now[5] = {doc.texts.size(), doc.tables.size(), doc.pictures.size(), doc.key_value_items.size(),
                         doc.form_items.size()};
  const RefKind kinds[5] = {RefKind::Text, RefKind::Table, RefKind::Picture, RefKind::KeyValue, RefKind::Form};
  bool any = false;
  for (int k = 0; k < 5; ++k) {
    for (size_t i = seen_[k]; i < now[k]; ++i) spans_.push_back({Ref{kinds[k], int(i)}, next_first_, token_index});
    any = any || now[k] > seen_[k];
    seen_[k] = now[k];
  }
  if (any) next_first_ = token_index + 1;
}

Confidence annotate_confidence(Document& doc, const std::vector<float>& logprobs, const std::vector<ItemTokens>& spans) {
  for (const ItemTokens& s : spans) {
    Node* n = doc.node(s.item);
    Confidence c = confidence_of(logprobs, s.first, s.last);
    if (!n || c.tokens == 0) continue;
    meta_of(*n)[kConfidenceKey] = Json{{"mean_logprob", round4(c.mean_logprob)},
                                       {"min_logprob", round4(c.min_logprob)},
                                       {"score", round4(c.score())},
                                       {"grade", c.grade()},
                                       {"tokens", c.tokens}};
  }
  return logprobs.empty() ? Confidence{} : confidence_of(logprobs, 0, logprobs.size() - 1);
}

double normalized_edit_distance(std::string_view a, std::string_view b) {
  std::u32string x = squeeze(a), y = squeeze(b);
  if (x.empty() && y.empty()) return 0;
  constexpr size_t kMaxChars = 4000;  // a page-long paragraph: its start is a fair sample
  x.resize(std::min(x.size(), kMaxChars));
  y.resize(std::min(y.size(), kMaxChars));
  if (x.size() < y.size()) std::swap(x, y);
  std::vector<size_t> row(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= x.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= y.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (x[i - 1] == y[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return double(row[y.size()]) / double(x.size());
}

TextLayerCheck check_text_layer(Document& doc, const TextPage& text, double sx, double sy, double threshold) {
  TextLayerCheck out;
  double height = doc.pages.empty() ? 0 : doc.pages.front().size.height;
  for (TextItem& t : doc.texts) {
    if (t.prov.empty() || t.text.empty()) continue;
    BoundingBox b = t.prov.front().bbox.to_top_left(height);
    std::string layer = text_in_rect(text, b.l * sx, b.t * sy, b.r * sx, b.b * sy);
    if (squeeze(layer).empty()) continue;  // no words there (a scan, a drawing): nothing to compare
    double d = normalized_edit_distance(t.text, layer);
    bool suspect = d > threshold;
    meta_of(t)[kTextLayerKey] = Json{{"distance", round4(d)}, {"suspect", suspect}};
    ++out.checked;
    if (suspect) out.suspects.push_back(t.self);
  }
  return out;
}

}  // namespace docling
