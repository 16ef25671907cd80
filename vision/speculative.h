// Greedy-exact speculative decoding: cheap guesses ("drafts") of the next tokens are
// checked by the model in one forward over [last token, d1..dk]; the longest prefix of
// drafts equal to the model's own argmax is kept, plus one token from the model's logits
// after it. Every emitted token is therefore the token plain greedy decoding emits; drafts
// only save decoder steps (see BatchDecoder, which runs the verification).
//
// Two draft sources:
//  - PromptLookupDrafter: the last n tokens (n = max_ngram..min_ngram) of the page's own
//    output matched against earlier output; proposes what followed the latest match.
//  - TextLayerDrafter: when the output has opened an element and written its box
//    (<loc_x0><loc_y0><loc_x1><loc_y1>, location tags spelled with ordinary pieces), the
//    PDF text-layer words inside that box, in reading order, tokenized as the model writes
//    them (directly after the box, words separated by one space), are proposed.
//
// Takes: generated tokens (push), a Tokenizer and text-layer words (layout/text_layer.h).
// Gives: draft tokens (propose). A drafter belongs to one sequence and is used by one
// thread at a time (the thread that steps its decoder).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "layout/text_layer.h"
#include "vision/tokenizer.h"

namespace docling::vision {

class Drafter {
 public:
  virtual ~Drafter() = default;
  // Sees every token the sequence emits, in order (accepted drafts and model tokens alike).
  virtual void push(int32_t token) = 0;
  // Writes up to `max` guesses of the tokens that follow; returns how many.
  virtual int propose(int32_t* out, int max) = 0;
};

struct PromptLookupOptions {
  int min_ngram = 2, max_ngram = 4;
};

class PromptLookupDrafter : public Drafter {
 public:
  explicit PromptLookupDrafter(const PromptLookupOptions& opt = {});
  void push(int32_t token) override;
  int propose(int32_t* out, int max) override;

 private:
  uint64_t hash(size_t end, int n) const;  // of hist_[end - n, end)

  PromptLookupOptions opt_;
  std::vector<int32_t> hist_;
  // Per n: hash of an n-gram -> index of the token that followed its latest occurrence.
  std::vector<std::unordered_map<uint64_t, int32_t>> last_;
};

struct TextLayerOptions {
  // A word belongs to a box when its centre lies inside the box grown by this many
  // location units (boxes are rounded to the 500 grid).
  double margin_loc = 1.0;
  int resync_ngram = 2;  // tokens matched to find our place again after a wrong draft
};

class TextLayerDrafter : public Drafter {
 public:
  // words: the page's text layer in page points (top-left origin), reading order;
  // page_w, page_h: the page size in points (the frame of the model's location tokens).
  TextLayerDrafter(const Tokenizer& tok, std::vector<TextWord> words, double page_w, double page_h,
                   const TextLayerOptions& opt = {});
  void push(int32_t token) override;
  int propose(int32_t* out, int max) override;

  int boxes_seen() const { return boxes_; }  // element boxes that had words inside

 private:
  void on_box(int x0, int y0, int x1, int y1, size_t head_len);
  void advance_cursor();

  const Tokenizer* tok_;
  std::vector<TextWord> words_;
  double w_, h_;
  TextLayerOptions opt_;

  std::vector<int32_t> elem_;  // ordinary tokens since the last special token
  std::string elem_text_;      // their bytes
  int box_[4] = {-1, -1, -1, -1};
  int boxes_ = 0;
  // Element head: the tokens the model writes from the element's first location tag
  // through the end of its text, if the text is the text layer's.
  std::vector<int32_t> head_;
  bool head_synced_ = false;
  // Text inside the current box as separate words (region_ = their tokens with the model's
  // spacing, word_of_ = word index of each token) while the element is open.
  std::vector<std::string> region_words_;
  std::vector<int32_t> region_;
  std::vector<int32_t> word_of_;
  int cursor_ = 0;  // region_ index of the next unmatched token
};

// Asks each drafter in turn; the first that proposes anything wins. All see every token.
class CombinedDrafter : public Drafter {
 public:
  void add(std::unique_ptr<Drafter> d) { parts_.push_back(std::move(d)); }
  void push(int32_t token) override;
  int propose(int32_t* out, int max) override;

 private:
  std::vector<std::unique_ptr<Drafter>> parts_;
};

// The drafter for one page: text-layer drafts first (when the page has words), prompt
// lookup otherwise.
std::unique_ptr<Drafter> make_page_drafter(const Tokenizer& tok, std::vector<TextWord> words, double page_w,
                                           double page_h);

// Counts for one sequence.
struct SpecStats {
  int steps = 0;     // decoder forwards that produced tokens for this sequence (prefill included)
  int drafted = 0;   // draft tokens sent to verification
  int accepted = 0;  // draft tokens the model confirmed
};

// Replays a known token stream (teacher forcing) through a drafter, as verification would
// see it when the model's greedy output is `truth`: each step proposes up to max_draft
// tokens, keeps the prefix equal to the truth and one more token. Returns the steps
// (one per forward); `stats` gets the counts. No model involved: for estimates and tests.
int simulate_drafts(Drafter& d, const std::vector<int32_t>& truth, int max_draft, SpecStats* stats = nullptr);

}  // namespace docling::vision
