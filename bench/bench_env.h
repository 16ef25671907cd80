// The environment variables the bench programs honour (the library reads none):
// DOCLING_ISA=scalar|avx2|avx512, DOCLING_INT8_ACTIVATIONS=1, DOCLING_BF16_DOT=1,
// DOCLING_WEIGHTS=bf16|int8, DOCLING_KV=f16|f32, DOCLING_DECODE_PRECISION=f32|bf16,
// DOCLING_DECODE_PREFETCH=N (DecodeParams::prefetch_rows), DOCLING_DECODE_STREAM=0|1
// (DecodeParams::stream_outputs).
#pragma once

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/kernels.h"
#include "vision/model.h"

namespace docling {

inline kernels::KernelSettings env_kernel_settings() {
  kernels::KernelSettings s;
  if (const char* e = std::getenv("DOCLING_ISA")) {  // an unknown value leaves the CPU's best
    const std::string v(e);
    s.max_isa = v == "scalar" ? kernels::Isa::Scalar : v == "avx2" ? kernels::Isa::Avx2 : kernels::Isa::Avx512;
  }
  const char* act = std::getenv("DOCLING_INT8_ACTIVATIONS");
  s.int8_activations = act && std::strcmp(act, "1") == 0;
  const char* bf = std::getenv("DOCLING_BF16_DOT");
  s.bf16_dot = bf && std::strcmp(bf, "1") == 0;
  const char* amx = std::getenv("DOCLING_AMX");
  s.amx = !(amx && std::strcmp(amx, "0") == 0);
  const char* avx_vnni = std::getenv("DOCLING_AVX_VNNI");
  s.avx_vnni = !(avx_vnni && std::strcmp(avx_vnni, "0") == 0);
  // Either overrides the CPU table's entry.
  const char* ahead = std::getenv("DOCLING_DECODE_PREFETCH");
  const char* stream = std::getenv("DOCLING_DECODE_STREAM");
  if ((ahead && *ahead) || (stream && *stream)) {
    kernels::DecodeParams d = kernels::decode_params_for_cpu(kernels::cpu_id());
    if (ahead && *ahead) d.prefetch_rows = std::atoi(ahead);
    if (stream && *stream) d.stream_outputs = std::atoi(stream);
    s.decode = d;
  }
  return s;
}

inline vision::LoadOptions env_load_options() {
  vision::LoadOptions o;
  if (const char* e = std::getenv("DOCLING_WEIGHTS"); e && *e && std::strcmp(e, "bf16") != 0) {
    if (std::strcmp(e, "int8") != 0) throw std::runtime_error(std::string("DOCLING_WEIGHTS=") + e + ": expected bf16 or int8");
    o.weights = vision::WeightType::INT8;
  }
  const char* kv = std::getenv("DOCLING_KV");
  o.kv = kv && std::strcmp(kv, "f32") == 0 ? vision::KvType::F32 : vision::KvType::F16;
  // The vision precision: f32 unless asked (the programs' figures compare with f32 runs); "auto" is
  // the library's table for this CPU.
  if (const char* v = std::getenv("DOCLING_VISION_PRECISION"); v && *v && std::strcmp(v, "f32") != 0) {
    const std::string s(v);
    if (s == "bf16") o.vision = vision::Precision::BF16;
    else if (s == "int8") o.vision = vision::Precision::INT8;
    else if (s == "auto") o.vision = vision::auto_vision_precision();
    else throw std::runtime_error("DOCLING_VISION_PRECISION=" + s + ": expected f32, bf16, int8 or auto");
  }
  if (const char* d = std::getenv("DOCLING_DECODE_PRECISION"); d && *d && std::strcmp(d, "f32") != 0) {
    if (std::strcmp(d, "bf16") != 0) throw std::runtime_error(std::string("DOCLING_DECODE_PRECISION=") + d + ": expected f32 or bf16");
    o.decode = vision::Precision::BF16;
  }
  if (const char* h = std::getenv("DOCLING_HEAD_SCREEN"); h && std::strcmp(h, "0") == 0) o.screen_head = false;
  return o;
}

}  // namespace docling
