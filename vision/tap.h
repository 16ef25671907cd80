// Debug taps: a callback that sees intermediate activations (tests compare them with the
// Hugging Face reference). Names used: "vision.embeddings", "vision.layer" (after each
// encoder layer), "vision.last_hidden", "connector.pixel_shuffle", "decoder.layer" (after
// each decoder layer), "decoder.final_norm". `index` is the tile (vision/connector) or the
// first row of the batch (decoder); `layer` is -1 where it does not apply.
#pragma once

#include <functional>

namespace docling::vision {

using Tap = std::function<void(const char* name, int index, int layer, const float* data, int rows, int cols)>;

}  // namespace docling::vision
