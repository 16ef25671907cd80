// Register-only peaks of the AVX-512 product instructions, to compare the gemm paths with:
// f32 FMA on zmm (the f32 path), vdpbf16ps on zmm (the AVX512-BF16 path) and vpdpbusd on zmm
// (the int8 vision path, AVX512-VNNI; GOP/s, 2 per multiply-add), all threads at once, with
// 8, 16 and 28 independent chains (latency vs. throughput).
//   bench_bf16_peak [--threads N]   (default: all cores)
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench/run_together.h"

namespace {

// Operations per thread per measurement (~0.1 s at one vdpbf16ps every 2 cycles).
constexpr int64_t kOps = 128'000'000;

template <int C>
__attribute__((target("avx512f"))) float sum_chains(const __m512* a) {
  alignas(64) float t[16];
  __m512 s = a[0];
  for (int i = 1; i < C; ++i) s = _mm512_add_ps(s, a[i]);
  _mm512_store_ps(t, s);
  return t[0] + t[15];
}

// C independent accumulator chains: few chains measure latency, many measure throughput.
template <int C>
__attribute__((target("avx512f"))) float fma_loop() {
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
  __m512 a[C];
  for (int i = 0; i < C; ++i) a[i] = _mm512_set1_ps(1.0f + i);
  for (int64_t it = 0; it < kOps / C; ++it)
#pragma GCC unroll 28
    for (int i = 0; i < C; ++i) a[i] = _mm512_fmadd_ps(a[i], b, c);
  return sum_chains<C>(a);
}

template <int C>
__attribute__((target("avx512f,avx512bf16"))) float dpbf16_loop() {
  const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
  const __m512bh y = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
  __m512 a[C];
  for (int i = 0; i < C; ++i) a[i] = _mm512_set1_ps(float(i));
  for (int64_t it = 0; it < kOps / C; ++it)
#pragma GCC unroll 28
    for (int i = 0; i < C; ++i) a[i] = _mm512_dpbf16_ps(a[i], x, y);
  return sum_chains<C>(a);
}

// vpdpbusd: 16 lanes x 4 byte products. Inline asm: GCC 12's intrinsic copies the
// accumulator around each instruction (kernels/int8_avx512.cpp).
template <int C>
__attribute__((target("avx512f,avx512vnni"))) float dpbusd_loop() {
  const __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-2);
  __m512i a[C];
  for (int i = 0; i < C; ++i) a[i] = _mm512_set1_epi32(i);
  for (int64_t it = 0; it < kOps / C; ++it)
#pragma GCC unroll 28
    for (int i = 0; i < C; ++i) asm("vpdpbusd %2, %1, %0" : "+v"(a[i]) : "v"(x), "v"(y));
  __m512i s = a[0];
  for (int i = 1; i < C; ++i) s = _mm512_add_epi32(s, a[i]);
  return float(_mm512_reduce_add_epi32(s));
}

volatile float g_sink;

// GFLOP/s of `loop` (flop_per_op per instruction) on `threads` threads started together; best of 3.
double peak(float (*loop)(), double flop_per_op, int threads) {
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    const double dt = docling::bench::run_together(threads, [&] { g_sink = loop(); });
    best = std::max(best, threads * double(kOps) * flop_per_op / dt / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = int(std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--threads N]\n", argv[0]);
      return 2;
    }
  }
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) {
    std::printf("no AVX-512 on this CPU\n");
    return 0;
  }
  // zmm: 16 lanes x 2 flops (FMA); vdpbf16ps: 16 lanes x 2 products x 2 flops.
  std::printf("threads %d, GFLOP/s with 8/16/28 chains: f32 FMA zmm %.1f %.1f %.1f", threads,
              peak(fma_loop<8>, 32, threads), peak(fma_loop<16>, 32, threads), peak(fma_loop<28>, 32, threads));
  if (__builtin_cpu_supports("avx512bf16"))
    std::printf("; vdpbf16ps zmm %.1f %.1f %.1f", peak(dpbf16_loop<8>, 64, threads), peak(dpbf16_loop<16>, 64, threads),
                peak(dpbf16_loop<28>, 64, threads));
  if (__builtin_cpu_supports("avx512vnni"))
    std::printf("; vpdpbusd zmm (GOP/s) %.1f %.1f %.1f", peak(dpbusd_loop<8>, 128, threads),
                peak(dpbusd_loop<16>, 128, threads), peak(dpbusd_loop<28>, 128, threads));
  std::printf("\n");
  return 0;
}
