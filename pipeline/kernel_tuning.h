// The decode kernels' block sizes for this machine, measured once and kept in a folder: one
// JSON file per CPU model, thread count and kernel level (the measurement depends on all
// three), reused by every later engine on a machine of that kind.
//
// Takes: the folder, the thread count the engine computes with. Gives: the parameters and a
// line saying where they came from. Runs kernels::tune_decode_params (about a second, on the
// calling thread's arena) when the folder holds no usable file, then writes one atomically.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "kernels/tune.h"

namespace docling::pipeline {

struct TunedParams {
  kernels::DecodeParams params;
  std::string note;     // "measured (... ms against ... ms for the table's) and kept in FILE", "from FILE"
  std::string warning;  // the file could not be written (the measurement is still used)
};

// The cache file's name for this CPU, thread count and kernel level (the parameters are
// measured with that level's kernels), e.g.
// "decode-AMD-EPYC-9R14-96-Core-Processor-f25m17s1-t2-avx512.json".
std::string tuning_file_name(const kernels::CpuId& cpu, int threads, kernels::Isa isa = kernels::active_isa());

// The parameters as the cache file's "decode" object holds them.
nlohmann::json decode_params_json(const kernels::DecodeParams& p);

// The parameters measured from this CPU's table entry (kernels::tune_decode_params, about a
// second, at the active kernel level). `measure` sets the measurement's size (tests shrink it);
// its `start` is replaced by the table's entry.
struct DecodeMeasurement {
  kernels::TuneResult result;
  std::string table_row;  // the table row the search started from
  std::string note;       // "measured (... ms against ... ms for the ... table row)"
};
DecodeMeasurement measure_decode_params(const kernels::TuneOptions& measure = kernels::TuneOptions{});

// Reads `dir`/tuning_file_name(); a missing, unreadable or invalid file (or one written for
// another CPU or parameter set) is measured again and replaced.
// `measure` as for measure_decode_params.
TunedParams cached_decode_params(const std::filesystem::path& dir, int threads,
                                 const kernels::TuneOptions& measure = kernels::TuneOptions{});

}  // namespace docling::pipeline
