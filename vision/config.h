// Model configuration of an Idefics3 checkpoint (granite-docling-258M and its tiny test twin).
//
// Takes: a checkpoint folder (config.json; processor_config.json and tokenizer_config.json
// are read when present). Gives: plain numbers. Architectures other than Idefics3 with a
// SigLIP-style vision tower and a Llama text model are rejected with a clear message.
#pragma once

#include <string>

namespace docling::vision {

class ModelFiles;

struct VisionConfig {
  int hidden = 0;        // D
  int layers = 0;
  int heads = 0;
  int head_dim = 0;      // hidden / heads
  int intermediate = 0;  // MLP width
  int image_size = 0;    // tile side in pixels (512)
  int patch_size = 0;    // 16
  int channels = 3;
  float layer_norm_eps = 1e-6f;

  int patches_per_side() const { return image_size / patch_size; }
  int num_patches() const { return patches_per_side() * patches_per_side(); }
};

struct TextConfig {
  int hidden = 0;
  int layers = 0;
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int intermediate = 0;
  int vocab = 0;
  int max_positions = 0;
  float rms_norm_eps = 1e-5f;
  double rope_theta = 10000.0;
};

struct ModelConfig {
  VisionConfig vision;
  TextConfig text;
  int scale_factor = 0;     // pixel-shuffle factor (4)
  int image_seq_len = 0;    // tokens per tile = num_patches / scale_factor^2 (64)
  int image_token_id = -1;  // <image>
  int eos_token_id = -1;    // <|end_of_text|>
  int bos_token_id = -1;
  int pad_token_id = -1;
  int doctag_end_id = -1;   // </doctag> from tokenizer_config.json, -1 when unknown
  bool tie_word_embeddings = true;

  int connector_in() const { return vision.hidden * scale_factor * scale_factor; }
};

// Reads `<dir>/config.json`. Throws std::runtime_error naming the file on missing or
// malformed files, missing keys and unsupported architectures / options.
ModelConfig load_config(const std::string& dir);
// Same, from a folder's files read once (vision/model_files.h).
ModelConfig load_config(const ModelFiles& files);

// Same, from the JSON text of config.json (`source` names it in messages); the optional
// processor/tokenizer JSON texts may be empty.
ModelConfig parse_config(const std::string& config_json, const std::string& source,
                         const std::string& processor_json = "", const std::string& tokenizer_json = "");

}  // namespace docling::vision
