// SigLIP-style vision encoder of Idefics3 (patch conv, position embeddings, pre-LN
// transformer layers with a gelu_tanh MLP, post LayerNorm).
//
// Takes: full tiles, float CHW [n_tiles][channels][image_size][image_size], normalized
// as the image processor does ((x/255 - 0.5) / 0.5). Gives: last_hidden_state
// [n_tiles][num_patches][vision hidden], patches row-major (p = row*side + col).
// Position ids are the identity 0..num_patches-1 (full tiles, no padding; not the
// transformers 4.55-4.57 regression). Tiles are encoded one after another; each uses all
// threads.
#pragma once

#include "vision/config.h"
#include "vision/tap.h"
#include "vision/weights.h"

namespace docling::vision {

void encode_vision(const ModelConfig& cfg, const Weights& w, const float* tiles, int n_tiles, float* out,
                   const Tap* tap = nullptr);

}  // namespace docling::vision
