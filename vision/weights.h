// The tensors of an Idefics3 checkpoint, bound by name from <dir>/model.safetensors.
//
// Takes: a model folder and its ModelConfig. Gives: matrices as BF16 views into the mapped
// file (plus, for the decoder's, a panel copy made at load, or int8 copies in INT8 mode),
// small vectors (norm gains, biases, position table) as f32 copies.
// Every shape is checked against the config; errors name the file and tensor. A folder
// without model.safetensors gets a message saying how to download the model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/aligned.h"
#include "kernels/head_screen.h"
#include "kernels/kernels.h"
#include "vision/config.h"
#include "vision/safetensors.h"

namespace docling::vision {

// How the linear layers' matrices are kept in memory. INT8: quantized at load (symmetric,
// one scale per output channel and group of input columns, see vision/quant.h).
enum class WeightType : uint8_t { BF16, INT8 };

// Arithmetic of the vision tower's and the connector's products (not the decoder's), see
// kernels::XType. F32: exact. BF16: x rounded to bf16, vdpbf16ps (where AVX512-BF16 is absent,
// or the matrices are int8, the products run as F32). INT8: those matrices quantized at load
// with one scale per output channel, x per row at run time.
enum class Precision : uint8_t { F32, BF16, INT8 };
const char* precision_name(Precision p);  // "f32", "bf16", "int8"

// A BF16 matrix [rows, cols] (row-major; for nn.Linear rows = out, cols = in), plus its
// int8 form when the weights were loaded as INT8 (products then use q; w stays a view), or
// its panel form (kernels::preferred_panel_layout(); the decoder's matrices at BF16: products
// then use p).
struct Mat {
  const uint16_t* w = nullptr;
  int rows = 0, cols = 0;
  const uint16_t* p = nullptr;    // panel_elems(rows, cols, pl) or null
  kernels::BLayout pl = kernels::BLayout::Panel;  // p's layout
  const int8_t* q = nullptr;      // [rows, cols] or null
  const float* scale = nullptr;   // [rows, int8_groups(cols, group)]
  int group = 0;                  // input columns per scale
  kernels::XType x = kernels::XType::F32;  // how activations enter its products
};

// y[M, w.rows] (+)= x[M, w.cols] · Wᵀ + bias, with the int8 form when present.
void linear(const float* x, int M, const Mat& w, const float* bias, float* y, bool accumulate = false);
// The product linear() runs, for kernels::gemm_group.
kernels::Gemm linear_gemm(const float* x, int M, const Mat& w, const float* bias, float* y, bool accumulate = false);

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
  // BF16: the text layers' and lm_head's matrices are rearranged into panels (a copy made
  // once; the mapped pages are given back), the vision tower's used in place.
  // INT8: every linear matrix (vision, connector, text, lm_head; not the embedding table,
  // which is only looked up) is quantized with `group` input columns per scale.
  // vision: the vision tower's and connector's precision (INT8 quantizes their matrices per
  // output channel first, whatever `type` says).
  // decode: BF16 marks the decoder's panel matrices for bf16 activations (XType::BF16: decode
  // steps through vdpbf16ps); BF16 weights only.
  // screen_head: also an int8 screen of lm_head (kernels/head_screen.h) for greedy decode steps;
  // BF16 weights with F32 decode only.
  static Weights load(const std::string& dir, const ModelConfig& cfg, WeightType type = WeightType::BF16,
                      int group = 0, Precision vision = Precision::F32, Precision decode = Precision::F32,
                      bool screen_head = false);

  WeightType type = WeightType::BF16;
  Precision vision = Precision::F32;
  SafeTensors file;
  std::vector<std::vector<uint16_t>> owned;  // copies of tensors the file stores misaligned
  std::vector<std::vector<int8_t>> qdata;    // INT8 mode: quantized matrices
  std::vector<std::vector<float>> qscale;    //            and their scales
  kernels::large_vector<uint16_t> panels;  // BF16 mode: panel forms of the decoder's matrices, one after another
  kernels::HeadScreen head_screen;         // empty unless load(screen_head)

 private:
  // Every tensor as the file stores it: matrices as views, small vectors as f32 copies.
  static Weights bind(const std::string& dir, const ModelConfig& cfg);
};

}  // namespace docling::vision
