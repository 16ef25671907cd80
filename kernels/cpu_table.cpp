// The CPU as cpuid names it, and the table of decode parameters by CPU family.
#include <cpuid.h>

#include <cstring>

#include "kernels/kernels.h"

namespace docling::kernels {

namespace {

std::string brand_string() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000004u) return {};
  char text[49] = {};
  for (unsigned leaf = 0; leaf < 3; ++leaf) {
    unsigned r[4] = {};
    __get_cpuid(0x80000002u + leaf, &r[0], &r[1], &r[2], &r[3]);
    std::memcpy(text + 16 * leaf, r, 16);
  }
  std::string s(text);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  const size_t first = s.find_first_not_of(' ');
  return first == std::string::npos ? std::string() : s.substr(first);
}

}  // namespace

CpuId cpu_id() {
  CpuId id;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return id;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  id.amd = std::strcmp(vendor, "AuthenticAMD") == 0;
  id.intel = std::strcmp(vendor, "GenuineIntel") == 0;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    const int base_family = int((a >> 8) & 0xf), base_model = int((a >> 4) & 0xf);
    id.family = base_family == 0xf ? base_family + int((a >> 20) & 0xff) : base_family;
    id.model = base_family == 0xf || base_family == 0x6 ? base_model | int((a >> 12) & 0xf0) : base_model;
    id.stepping = int(a & 0xf);
  }
  id.brand = brand_string();
  return id;
}

// Rows come from measurements: the block sizes the kernels were written with (on a Zen 3 EPYC)
// and the L2 prefetch distance chosen on a Zen 4 EPYC, all of which tune_decode_params() kept
// there (no candidate was 3% faster, three runs; again with the panels in pairs). Zen 3 has not
// been measured with the L2 distance.
// A CPU that is not listed gets the generic row (the same values); the CLI measures it on
// first use (tune_decode_params) and caches the result.
// Intel: the outputs of batched decode products are streamed (stream_outputs), measured on a
// Xeon with AMX (family 6, model 167 under KVM): batch-8 steps 21.9 against 22.7 ms (means of
// three pairs of runs; batch 4 the same within noise); not measured on AMD, which keeps plain
// stores. The CLI's first-use measurement does not try it: it times the products alone, where
// streaming always looks faster, while the step pays part of it back when it reads the outputs.
DecodeParams decode_params_for_cpu(const CpuId& cpu, std::string* row) {
  const char* name = "generic";
  DecodeParams p;
  if (cpu.amd && cpu.family == 25) {
    const int m = cpu.model;
    const bool zen4 = (m >= 0x10 && m <= 0x1f) || (m >= 0x60 && m <= 0x7f) || (m >= 0xa0 && m <= 0xaf);
    name = zen4 ? "AMD Zen 4" : "AMD Zen 3";
  } else if (cpu.intel) {
    name = "Intel";
    p.stream_outputs = 1;
  }
  if (row) *row = name;
  return p;
}

}  // namespace docling::kernels
