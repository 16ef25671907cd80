// granite-docling-258M (Idefics3) on the CPU: the entry point other stages call.
//
//   Model m = Model::load("models/granite-docling-258M");   // config.json + model.safetensors
//   std::vector<float> feats = m.encode_tiles(pixels, n_tiles);  // from the image processor
//   GenerateResult r = m.generate(prompt_ids, feats.data(), n_tiles * m.config().image_seq_len,
//                                 m.default_options());
//
// Takes: a checkpoint folder; normalized CHW tiles; expanded prompt ids (with one <image>
// id per image-feature row). Gives: image features and greedily generated token ids.
// The model is read-only after load: const methods may run concurrently (each call makes
// its own scratch and KV cache). Errors are std::runtime_error naming the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vision/config.h"
#include "vision/decoder.h"
#include "vision/generate.h"
#include "vision/tap.h"
#include "vision/weights.h"

namespace docling::vision {

// How to load: BF16 keeps the vision tower's matrices as mapped and rearranges the decoder's
// into panels (faster decoding); INT8 quantizes the linear layers at load (about 200 MB less
// memory, but slower decoding than the bf16 panels; accuracy in README).
// kv: the KV cache's precision for generation with this model (f16: half the memory and the
// attention's traffic; f32: exact); GenerateOptions::kv and BatchOptions::kv may override it.
struct LoadOptions {
  WeightType weights = WeightType::BF16;
  int int8_group = 64;         // input columns per int8 scale (0: per output channel)
  KvType kv = KvType::F16;
  Precision vision = Precision::F32;  // the vision tower's and connector's products
  // The decoder's products in decode steps (at most 16 rows; prompt prefill stays f32): BF16
  // rounds their activations to bf16 for vdpbf16ps (AVX512-BF16 CPUs; F32 elsewhere). BF16
  // weights only (int8 weights keep their own path).
  Precision decode = Precision::F32;
  // Greedy decode steps choose their tokens through an int8 screen of the output head
  // (kernels/head_screen.h: the same tokens as the full product, read at half its bytes, +58 MB
  // at granite-docling's size) where the kernels have vpdpbusd (AVX512-VNNI, AVX-VNNI); BF16
  // weights, F32 decode.
  bool screen_head = true;
};

// The vision precision for this CPU at the kernels' active level: the fastest precision whose
// teacher-forced agreement with F32 met the budget (>= 99.5%) where it was measured
// (bench_vision_precision, bench/README.md), F32 on CPU classes not measured. `why` (optional)
// gets the CPU class and the reason.
Precision auto_vision_precision(std::string* why = nullptr);

class Model {
 public:
  static Model load(const std::string& dir);
  static Model load(const std::string& dir, const LoadOptions& opt);
  // From a folder's files read once (model_files.h); the weights are mapped from files.dir().
  static Model load(const ModelFiles& files, const LoadOptions& opt = {});

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const ModelConfig& config() const;
  const Weights& weights() const;
  const Decoder& decoder() const;

  // Vision encoder + connector. tiles: [n_tiles][channels][image_size][image_size].
  // Returns [n_tiles][image_seq_len][text hidden].
  std::vector<float> encode_tiles(const float* tiles, int n_tiles, const Tap* tap = nullptr) const;

  // Greedy generation. image_features: [n_image_rows][text hidden] (may be null when the
  // prompt has no <image> ids). The KV cache holds prompt + opt.max_new_tokens tokens.
  GenerateResult generate(const std::vector<int32_t>& prompt, const float* image_features, int n_image_rows,
                          const GenerateOptions& opt, const Tap* tap = nullptr) const;

  // Stops at <|end_of_text|> and </doctag> (when the tokenizer config names it).
  GenerateOptions default_options() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace docling::vision
