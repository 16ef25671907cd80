// A full-size Idefics3 checkpoint with random weights, for benchmarks: the folder looks like the
// official one (config, tokenizer and processor files copied from a template folder) and
// model.safetensors holds every tensor the real checkpoint has, same names, shapes and dtype
// (BF16), filled with deterministic random values scaled so activations stay finite (linear
// weights ~ 1/sqrt(fan_in), norm gains ~ 1, small biases).
//
// Takes: a template folder (config.json + tokenizer/processor files, no weights needed), a seed.
// Gives: a cached folder; generated once, reused while its marker file says it is complete.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vision/config.h"

namespace docling::bench {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  float std = 0.0f;   // spread of the random part (uniform with this standard deviation)
  float mean = 0.0f;  // 1 for norm gains
  int64_t numel() const;
};

// Every tensor of an Idefics3 checkpoint with config `cfg`, in the names save_pretrained uses
// (no lm_head.weight when the embeddings are tied), sorted by name.
std::vector<TensorSpec> idefics3_tensors(const vision::ModelConfig& cfg);

// Parameter count of the list.
int64_t total_params(const std::vector<TensorSpec>& specs);

// Ensures `dir` holds a complete random checkpoint made from `template_dir` with `seed`;
// writes it (model.safetensors through a temporary file and rename, then the marker file
// bench-random.json) when missing or stale. Returns true when it had to generate.
// Throws std::runtime_error naming the file on I/O errors.
bool ensure_random_checkpoint(const std::string& dir, const std::string& template_dir, uint64_t seed = 1234,
                              bool verbose = true);

// True when `dir` has the marker of a complete random checkpoint (any seed).
bool is_random_checkpoint(const std::string& dir);

}  // namespace docling::bench
