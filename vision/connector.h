// Idefics3 connector: pixel shuffle (space-to-depth by scale_factor) then a linear
// projection (no bias) into the text model's hidden size.
//
// Takes: vision last_hidden_state [n_tiles][num_patches][D]. Gives: image features
// [n_tiles][image_seq_len][text hidden]. Shuffle order (as Hugging Face): output token
// t = hb*(side/s) + wb; feature f = dy*(s*D) + dx*D + d reads patch (s*hb+dy, s*wb+dx), channel d.
#pragma once

#include "vision/config.h"
#include "vision/tap.h"
#include "vision/weights.h"

namespace docling::vision {

// One tile: [num_patches][D] -> [image_seq_len][D*s*s].
void pixel_shuffle(const float* x, int side, int D, int s, float* out);

void run_connector(const ModelConfig& cfg, const Weights& w, const float* hidden, int n_tiles, float* out,
                   const Tap* tap = nullptr);

}  // namespace docling::vision
