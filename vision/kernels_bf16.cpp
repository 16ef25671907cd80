// AVX512-BF16 matrix products (vdpbf16ps): see gemm_avx512_bf16 in vision/kernels.h.
#include "vision/kernels.h"

namespace docling::vision {

bool has_avx512_bf16() {
  static const bool cpu = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
  }();
  return cpu && active_isa() == Isa::Avx512;
}

// Not written yet: every product takes the f32 FMA path.
bool gemm_avx512_bf16(const Gemm&, bool) { return false; }

}  // namespace docling::vision
