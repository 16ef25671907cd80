#include "pipeline/kernel_tuning.h"

#include <cstdio>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/file_io.h"

namespace fs = std::filesystem;

namespace docling::pipeline {

namespace {

// Bumped when the parameters or their meaning change, so older files are measured again
// (2: prefetch_rows is a distance into L2; 3: panels are stored in pairs, one stream each;
// 4: stream_outputs).
constexpr int kFormat = 4;

}  // namespace

nlohmann::json decode_params_json(const kernels::DecodeParams& p) {
  return {{"prefetch_rows", p.prefetch_rows},
          {"single_pass_rows", p.single_pass_rows},
          {"turn_rows", p.turn_rows},
          {"turn_k", p.turn_k},
          {"stream_outputs", p.stream_outputs}};
}

namespace {

// The file's parameters when it is ours, for this CPU and kernel level, and valid; else nothing.
bool read_params(const fs::path& file, const kernels::CpuId& cpu, kernels::Isa isa, kernels::DecodeParams& out) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return false;
  try {
    const nlohmann::json j = nlohmann::json::parse(read_file(file, 1 << 16));
    if (j.value("format", 0) != kFormat || j.value("cpu", std::string()) != cpu.brand ||
        j.value("isa", std::string()) != kernels::isa_name(isa))
      return false;
    const nlohmann::json& d = j.at("decode");
    kernels::DecodeParams p;
    p.prefetch_rows = d.at("prefetch_rows").get<int>();
    p.single_pass_rows = d.at("single_pass_rows").get<int>();
    p.turn_rows = d.at("turn_rows").get<int>();
    p.turn_k = d.at("turn_k").get<int>();
    p.stream_outputs = d.at("stream_outputs").get<int>();
    if (!kernels::decode_params_error(p).empty()) return false;
    out = p;
    return true;
  } catch (const std::exception&) {
    return false;  // unreadable or not ours: measured again
  }
}

std::string ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", s * 1e3);
  return buf;
}

}  // namespace

std::string tuning_file_name(const kernels::CpuId& cpu, int threads, kernels::Isa isa) {
  std::string name = "decode-";
  for (char c : cpu.brand.empty() ? std::string("unknown-cpu") : cpu.brand) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep) name += c;
    else if (name.back() != '-') name += '-';
  }
  if (name.back() != '-') name += '-';
  return name + "f" + std::to_string(cpu.family) + "m" + std::to_string(cpu.model) + "s" +
         std::to_string(cpu.stepping) + "-t" + std::to_string(threads) + "-" + kernels::isa_name(isa) + ".json";
}

DecodeMeasurement measure_decode_params(const kernels::TuneOptions& measure) {
  DecodeMeasurement m;
  kernels::TuneOptions o = measure;
  o.start = kernels::decode_params_for_cpu(kernels::cpu_id(), &m.table_row);
  m.result = kernels::tune_decode_params(o);
  m.note = "measured (" + ms(m.result.best_seconds) + " against " + ms(m.result.start_seconds) + " for the " +
           m.table_row + " table row)";
  return m;
}

TunedParams cached_decode_params(const fs::path& dir, int threads, const kernels::TuneOptions& measure) {
  const kernels::CpuId cpu = kernels::cpu_id();
  const kernels::Isa isa = kernels::active_isa();
  const fs::path file = dir / tuning_file_name(cpu, threads, isa);
  TunedParams t;
  if (read_params(file, cpu, isa, t.params)) {
    t.note = "from " + file.string();
    return t;
  }
  const DecodeMeasurement m = measure_decode_params(measure);
  const kernels::TuneResult& r = m.result;
  t.params = r.best;
  t.note = m.note + " and kept in " + file.string();
  nlohmann::json j = {{"format", kFormat},      {"cpu", cpu.brand},       {"family", cpu.family},
                      {"model", cpu.model},     {"stepping", cpu.stepping}, {"threads", threads},
                      {"isa", kernels::isa_name(isa)},
                      {"table_row", m.table_row}, {"decode", decode_params_json(r.best)},
                      {"seconds", r.best_seconds}, {"table_seconds", r.start_seconds}};
  try {
    fs::create_directories(dir);
    write_file_atomic(file, j.dump(1) + "\n");
  } catch (const std::exception& e) {
    t.warning = "decode kernel tuning: could not keep the measurement in " + file.string() + ": " + e.what();
  }
  return t;
}

}  // namespace docling::pipeline
