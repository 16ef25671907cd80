// The tensors of an Idefics3 checkpoint, bound by name from <dir>/model.safetensors.
//
// Takes: a model folder and its ModelConfig. Gives: matrices as BF16 views into the mapped
// file (never copied), small vectors (norm gains, biases, position table) as f32 copies.
// Every shape is checked against the config; errors name the file and tensor. A folder
// without model.safetensors gets a message saying how to download the model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vision/config.h"
#include "vision/safetensors.h"

namespace docling::vision {

// A BF16 matrix [rows, cols] (row-major; for nn.Linear rows = out, cols = in).
struct Mat {
  const uint16_t* w = nullptr;
  int rows = 0, cols = 0;
};

struct VisionLayerWeights {
  Mat q, k, v, o, fc1, fc2;
  std::vector<float> q_b, k_b, v_b, o_b, fc1_b, fc2_b;
  std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;
};

struct TextLayerWeights {
  Mat q, k, v, o, gate, up, down;
  std::vector<float> input_norm, post_attention_norm;
};

struct Weights {
  // vision tower
  Mat patch;                     // [D, C*P*P], the conv kernel flattened in (c, y, x) order
  std::vector<float> patch_b;    // [D]
  std::vector<float> pos_embed;  // [num_patches, D]
  std::vector<VisionLayerWeights> vision_layers;
  std::vector<float> post_ln_w, post_ln_b;
  // connector
  Mat proj;                      // [text hidden, D * scale^2]
  // text model
  Mat embed;                     // [vocab, hidden]
  std::vector<TextLayerWeights> text_layers;
  std::vector<float> final_norm;
  Mat lm_head;                   // == embed when tied / absent

  // Reads <dir>/model.safetensors. The returned object owns the mapping.
  static Weights load(const std::string& dir, const ModelConfig& cfg);

  SafeTensors file;
  std::vector<std::vector<uint16_t>> owned;  // copies of tensors the file stores misaligned
};

}  // namespace docling::vision
