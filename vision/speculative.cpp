#include "vision/speculative.h"

#include <algorithm>
#include <cstring>

namespace docling::vision {

// --- prompt lookup -------------------------------------------------------------------------

PromptLookupDrafter::PromptLookupDrafter(const PromptLookupOptions& opt) : opt_(opt) {
  opt_.min_ngram = std::max(opt_.min_ngram, 1);
  opt_.max_ngram = std::max(opt_.max_ngram, opt_.min_ngram);
  last_.resize(size_t(opt_.max_ngram - opt_.min_ngram + 1));
}

uint64_t PromptLookupDrafter::hash(size_t end, int n) const {
  uint64_t h = 0xcbf29ce484222325ull ^ uint64_t(n);
  for (size_t i = end - size_t(n); i < end; ++i) h = (h ^ uint32_t(hist_[i])) * 0x100000001b3ull;
  return h;
}

void PromptLookupDrafter::push(int32_t token) {
  hist_.push_back(token);
  const size_t s = hist_.size();
  // The n-gram that ends just before the new token is now known to be followed by it.
  for (int n = opt_.min_ngram; n <= opt_.max_ngram; ++n)
    if (s - 1 >= size_t(n)) last_[size_t(n - opt_.min_ngram)][hash(s - 1, n)] = int32_t(s - 1);
}

int PromptLookupDrafter::propose(int32_t* out, int max) {
  const size_t s = hist_.size();
  for (int n = opt_.max_ngram; n >= opt_.min_ngram && max > 0; --n) {
    if (s < size_t(n)) continue;
    const auto& m = last_[size_t(n - opt_.min_ngram)];
    auto it = m.find(hash(s, n));
    if (it == m.end()) continue;
    const size_t p = size_t(it->second);
    if (!std::equal(hist_.begin() + long(p - size_t(n)), hist_.begin() + long(p), hist_.begin() + long(s - size_t(n))))
      continue;  // hash collision
    int k = int(std::min(size_t(max), s - p));
    std::copy_n(hist_.begin() + long(p), k, out);
    return k;
  }
  return 0;
}

// --- text layer ----------------------------------------------------------------------------

namespace {

// Parses "<loc_a><loc_b><loc_c><loc_d" or "...<loc_d>" (the whole string); returns the
// length through the last digit, or 0.
size_t parse_box(const std::string& s, int v[4]) {
  size_t i = 0;
  for (int k = 0; k < 4; ++k) {
    if (s.compare(i, 5, "<loc_") != 0) return 0;
    i += 5;
    int val = 0, digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) val = val * 10 + (s[i++] - '0'), ++digits;
    if (digits == 0) return 0;
    v[k] = val;
    if (k < 3) {
      if (i >= s.size() || s[i] != '>') return 0;
      ++i;
    }
  }
  size_t end = i;
  if (i < s.size() && s[i] == '>') ++i;
  return i == s.size() ? end : 0;
}

}  // namespace

TextLayerDrafter::TextLayerDrafter(const Tokenizer& tok, std::vector<TextWord> words, double page_w, double page_h,
                                   const TextLayerOptions& opt)
    : tok_(&tok), words_(std::move(words)), w_(page_w), h_(page_h), opt_(opt) {}

void TextLayerDrafter::on_box(int x0, int y0, int x1, int y1, size_t head_len) {
  box_[0] = x0, box_[1] = y0, box_[2] = x1, box_[3] = y1;
  head_.clear();
  head_synced_ = false;
  region_words_.clear();
  region_.clear();
  word_of_.clear();
  cursor_ = 0;
  if (w_ <= 0 || h_ <= 0) return;
  // The reader's rule (docling-core): coordinate = N / 500 * extent.
  const double m = opt_.margin_loc;
  const double l = (x0 - m) / 500.0 * w_, t = (y0 - m) / 500.0 * h_;
  const double r = (x1 + m) / 500.0 * w_, b = (y1 + m) / 500.0 * h_;
  std::string joined;
  for (const TextWord& w : words_) {
    if (w.text.empty()) continue;
    double cx = 0.5 * (w.l + w.r), cy = 0.5 * (w.t + w.b);
    if (cx < l || cx > r || cy < t || cy > b) continue;
    std::string piece = region_words_.empty() ? w.text : " " + w.text;
    for (int32_t id : tok_->encode_ordinary(piece)) {
      region_.push_back(id);
      word_of_.push_back(int32_t(region_words_.size()));
    }
    joined += piece;
    region_words_.push_back(w.text);
  }
  if (region_words_.empty()) return;
  ++boxes_;
  // The element text follows the box directly: "...<loc_d>First word second ...". The
  // tokens since the element's tag are tokenized together with it, as the model saw them.
  head_ = tok_->encode_ordinary(elem_text_.substr(0, head_len) + ">" + joined);
  head_synced_ = head_.size() >= elem_.size() && std::equal(elem_.begin(), elem_.end(), head_.begin());
}

void TextLayerDrafter::advance_cursor() {
  const int32_t t = elem_.back();
  const int n_reg = int(region_.size());
  if (cursor_ < n_reg && region_[size_t(cursor_)] == t) {
    ++cursor_;
    return;
  }
  // Lost our place: find the latest tokens in the region (after the cursor first).
  for (int n = std::min<int>(opt_.resync_ngram, int(elem_.size())); n >= 1; --n) {
    const int32_t* tail = elem_.data() + elem_.size() - size_t(n);
    for (int pass = 0; pass < 2; ++pass) {
      int from = pass == 0 ? cursor_ : 0, to = pass == 0 ? n_reg : std::min(cursor_ + n, n_reg);
      for (int p = std::max(from, 0); p + n <= to; ++p)
        if (std::equal(tail, tail + n, region_.begin() + p)) {
          cursor_ = p + n;
          return;
        }
    }
  }
  cursor_ = n_reg;  // nothing to offer until a match
}

void TextLayerDrafter::push(int32_t token) {
  if (!tok_->valid_id(token)) return;
  if (tok_->is_added(token)) {
    // A tag: element text starts afresh; a closing tag ends the box's region.
    std::string_view b = tok_->token_bytes(token);
    if (b.substr(0, 2) == "</") {
      region_words_.clear();
      region_.clear();
      word_of_.clear();
      cursor_ = 0;
      box_[0] = box_[1] = box_[2] = box_[3] = -1;
    }
    elem_.clear();
    elem_text_.clear();
    head_.clear();
    head_synced_ = false;
    return;
  }
  elem_.push_back(token);
  elem_text_ += tok_->token_bytes(token);
  if (head_synced_ && (elem_.size() > head_.size() || head_[elem_.size() - 1] != token)) head_synced_ = false;
  if (elem_text_.size() <= 40 && elem_text_[0] == '<') {
    int v[4];
    size_t head_len = parse_box(elem_text_, v);
    if (head_len && (v[0] != box_[0] || v[1] != box_[1] || v[2] != box_[2] || v[3] != box_[3])) {
      on_box(v[0], v[1], v[2], v[3], head_len);
      return;
    }
  }
  if (!region_.empty()) advance_cursor();
}

int TextLayerDrafter::propose(int32_t* out, int max) {
  if (max <= 0) return 0;
  if (head_synced_ && elem_.size() < head_.size()) {
    int k = int(std::min(size_t(max), head_.size() - elem_.size()));
    std::copy_n(head_.begin() + long(elem_.size()), k, out);
    return k;
  }
  const int n_reg = int(region_.size());
  if (n_reg == 0 || cursor_ >= n_reg) return 0;
  if (elem_.empty()) {
    // Right after a tag inside the box (a table cell): the next words, without the space
    // that separates them in the region's tokens.
    int w = word_of_[size_t(cursor_)];
    if (cursor_ > 0 && word_of_[size_t(cursor_ - 1)] == w) ++w;  // mid-word: skip to the next
    if (w >= int(region_words_.size())) return 0;
    std::string s;
    for (int i = w; i < int(region_words_.size()) && i < w + max; ++i) s += (i > w ? " " : "") + region_words_[size_t(i)];
    std::vector<int32_t> ids = tok_->encode_ordinary(s);
    int k = std::min(max, int(ids.size()));
    std::copy_n(ids.begin(), k, out);
    return k;
  }
  if (cursor_ == 0) return 0;  // no token of the region matched yet
  int k = std::min(max, n_reg - cursor_);
  std::copy_n(region_.begin() + cursor_, k, out);
  return k;
}

// --- combined ------------------------------------------------------------------------------

void CombinedDrafter::push(int32_t token) {
  for (auto& d : parts_) d->push(token);
}

int CombinedDrafter::propose(int32_t* out, int max) {
  for (auto& d : parts_) {
    int k = d->propose(out, max);
    if (k > 0) return k;
  }
  return 0;
}

std::unique_ptr<Drafter> make_page_drafter(const Tokenizer& tok, std::vector<TextWord> words, double page_w,
                                           double page_h) {
  auto d = std::make_unique<CombinedDrafter>();
  if (!words.empty()) d->add(std::make_unique<TextLayerDrafter>(tok, std::move(words), page_w, page_h));
  d->add(std::make_unique<PromptLookupDrafter>());
  return d;
}

// --- simulation ----------------------------------------------------------------------------

int simulate_drafts(Drafter& d, const std::vector<int32_t>& truth, int max_draft, SpecStats* stats) {
  SpecStats st;
  std::vector<int32_t> buf(size_t(std::max(max_draft, 0)));
  const size_t n = truth.size();
  size_t i = 0;
  while (i < n) {
    int room = int(std::min(size_t(max_draft), n - i - 1));  // the last token comes from the model
    int k = room > 0 ? d.propose(buf.data(), room) : 0;
    int a = 0;
    while (a < k && buf[size_t(a)] == truth[i + size_t(a)]) ++a;
    for (int j = 0; j <= a; ++j) d.push(truth[i + size_t(j)]);
    i += size_t(a) + 1;
    ++st.steps;
    st.drafted += k;
    st.accepted += a;
  }
  if (stats) *stats = st;
  return st.steps;
}

}  // namespace docling::vision
