// Fits DecodeParams (kernels/kernels.h) to this machine by measuring: bf16 panel products of
// the decoder's shapes, with weights well beyond the last-level cache, at the batch sizes
// asked for, for each candidate value of one parameter at a time (coordinate descent from a
// starting point). Takes about a second; it changes the process-wide kernel settings while it
// runs and restores them after, so run it before other work uses the kernels.
//
// Takes: TuneOptions. Gives: the fastest parameters found and the time of each tried.
#pragma once

#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace docling::kernels {

struct ProductShape {
  int n = 0, k = 0;  // y[rows, n] = x[rows, k] · W[n, k]^T
};

struct TuneOptions {
  // One decoder layer's products (granite-docling's shapes: q, k, v, o, gate, up, down).
  std::vector<ProductShape> shapes = {{576, 576}, {192, 576}, {192, 576}, {576, 576},
                                      {1536, 576}, {1536, 576}, {576, 1536}};
  std::vector<int> batches = {4, 8};  // rows per product; the score is the sum of their times
  int weight_mib = 96;                // copies of the layer up to this size (beyond the caches)
  int repeats = 5;                    // the best of this many runs per candidate
  DecodeParams start;                 // where the search begins (e.g. the table's entry)
};

struct TuneTrial {
  DecodeParams params;
  double seconds = 0;  // one pass over the weights at every batch size, best of the repeats
};

struct TuneResult {
  DecodeParams best;
  double start_seconds = 0, best_seconds = 0;  // the starting point's time and the best time
  std::vector<TuneTrial> trials;               // in the order tried
};

// Throws std::invalid_argument for an empty shape list or batches outside [1, 16].
TuneResult tune_decode_params(const TuneOptions& options = {});

}  // namespace docling::kernels
