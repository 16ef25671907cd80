// GFLOP/s of this project's gemm (BF16 and INT8 weights, f32 activations) against OpenBLAS
// (sgemm with the weights converted to f32, sbgemm with bf16 inputs) and oneDNN (f32 and bf16
// matmul) on the model's real shapes. The libraries are loaded at run time (dlopen) so the
// project does not depend on them; a missing one is reported and skipped.
//
//   bench_gemm_bench [--threads N] [--quick] [--no-libs] [--only NAME-SUBSTRING]
// Prints the f32 FMA peak (the bf16 path's instruction on AVX2 CPUs) on the same threads
// at the start and end, and our bf16 GFLOP/s as a fraction of the first.
#include <dlfcn.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <tbb/global_control.h>

#if __has_include(<dnnl.h>)
#include <dnnl.h>
#define HAVE_DNNL_HEADERS 1
#endif

#include "bench/run_together.h"
#include "kernels/kernels.h"
#include "bench/bench_env.h"  // env_kernel_settings, env_load_options (the library reads no env)
#include "vision/safetensors.h"
#include "vision/quant.h"

using namespace docling::vision;
using namespace docling::kernels;
using docling::bf16_to_f32;
using docling::f32_to_bf16;
using docling::f16_to_f32;
using docling::f32_to_bf16;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best time of repeated calls, at least `min_s` in total after one warm-up call.
double best_time(const std::function<void()>& f, double min_s) {
  f();
  double best = 1e30, total = 0;
  int reps = 0;
  while (total < min_s || reps < 3) {
    double t = now();
    f();
    double dt = now() - t;
    best = std::min(best, dt);
    total += dt;
    ++reps;
  }
  return best;
}

// f32 FMA peak (the instruction the bf16 path runs on without AVX512-BF16): 12 independent
// ymm chains per thread, `threads` threads started together, best of 3. 0 without AVX2+FMA.
__attribute__((target("avx2,fma"))) float fma_loop(int64_t iters) {
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(1.0f + i);
  for (int64_t it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], b, c);
  __m256 s = _mm256_setzero_ps();
  for (int i = 0; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  return _mm256_cvtss_f32(s);
}

volatile float g_sink;

double fma_peak(int threads) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
  const int64_t iters = 20'000'000;  // ~0.1 s
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    const double dt = docling::bench::run_together(threads, [&] { g_sink = fma_loop(iters); });
    best = std::max(best, threads * double(iters) * 12 * 16 / dt / 1e9);
  }
  return best;
}

struct Shape {
  const char* name;
  int M, N, K;
};

// --- OpenBLAS through dlopen ---
struct OpenBlas {
  using sgemm_t = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                           int);
  using sbgemm_t = void (*)(int, int, int, int, int, int, float, const uint16_t*, int, const uint16_t*, int, float,
                            float*, int);
  sgemm_t sgemm = nullptr;
  sbgemm_t sbgemm = nullptr;
  explicit OpenBlas(int threads) {
    void* h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    sgemm = reinterpret_cast<sgemm_t>(dlsym(h, "cblas_sgemm"));
    sbgemm = reinterpret_cast<sbgemm_t>(dlsym(h, "cblas_sbgemm"));
    if (auto set = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"))) set(threads);
  }
};
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

#ifdef HAVE_DNNL_HEADERS
// --- oneDNN (v2 C API) through dlopen ---
struct Dnnl {
  bool ok = false;
  decltype(&dnnl_engine_create) engine_create = nullptr;
  decltype(&dnnl_stream_create) stream_create = nullptr;
  decltype(&dnnl_memory_desc_init_by_tag) md_init = nullptr;
  decltype(&dnnl_matmul_desc_init) matmul_init = nullptr;
  decltype(&dnnl_primitive_desc_create) pd_create = nullptr;
  decltype(&dnnl_primitive_desc_query) pd_query = nullptr;
  decltype(&dnnl_primitive_create) prim_create = nullptr;
  decltype(&dnnl_memory_create) mem_create = nullptr;
  decltype(&dnnl_primitive_execute) execute = nullptr;
  decltype(&dnnl_stream_wait) wait = nullptr;
  dnnl_engine_t engine = nullptr;
  dnnl_stream_t stream = nullptr;

  Dnnl() {
    void* h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
#define SYM(var, name) var = reinterpret_cast<decltype(var)>(dlsym(h, name)); if (!var) return
    SYM(engine_create, "dnnl_engine_create");
    SYM(stream_create, "dnnl_stream_create");
    SYM(md_init, "dnnl_memory_desc_init_by_tag");
    SYM(matmul_init, "dnnl_matmul_desc_init");
    SYM(pd_create, "dnnl_primitive_desc_create");
    SYM(pd_query, "dnnl_primitive_desc_query");
    SYM(prim_create, "dnnl_primitive_create");
    SYM(mem_create, "dnnl_memory_create");
    SYM(execute, "dnnl_primitive_execute");
    SYM(wait, "dnnl_stream_wait");
#undef SYM
    ok = engine_create(&engine, dnnl_cpu, 0) == dnnl_success &&
         stream_create(&stream, engine, dnnl_stream_default_flags) == dnnl_success;
  }

  // y[M,N] = x[M,K] · W[N,K]^T; src/weights of type dt (data given in that type). Returns the
  // GFLOP/s, or 0 when oneDNN has no implementation; *impl gets the kernel's name.
  double run(const Shape& s, dnnl_data_type_t dt, const void* x, const void* w, float* y, double min_s,
             std::string* impl) {
    dnnl_memory_desc_t src, wei, dst;
    dnnl_dims_t ds = {s.M, s.K}, dw = {s.K, s.N}, dd = {s.M, s.N};
    md_init(&src, 2, ds, dt, dnnl_ab);
    md_init(&wei, 2, dw, dt, dnnl_ba);  // [K, N] stored as [N][K]: the nn.Linear layout
    md_init(&dst, 2, dd, dnnl_f32, dnnl_ab);
    dnnl_matmul_desc_t md;
    if (matmul_init(&md, &src, &wei, nullptr, &dst) != dnnl_success) return 0;
    dnnl_primitive_desc_t pd;
    if (pd_create(&pd, &md, nullptr, engine, nullptr) != dnnl_success) return 0;
    const char* name = nullptr;
    pd_query(pd, dnnl_query_impl_info_str, 0, &name);
    *impl = name ? name : "?";
    dnnl_primitive_t prim;
    if (prim_create(&prim, pd) != dnnl_success) return 0;
    dnnl_memory_t ms, mw, mdst;
    mem_create(&ms, &src, engine, const_cast<void*>(x));
    mem_create(&mw, &wei, engine, const_cast<void*>(w));
    mem_create(&mdst, &dst, engine, y);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, mdst}};
    double t = best_time([&] {
      execute(prim, stream, 3, args);
      wait(stream);
    }, min_s);
    return 2.0 * s.M * s.N * s.K / t / 1e9;
  }
};
#endif

}  // namespace

int main(int argc, char** argv) {
  configure(docling::env_kernel_settings());
  int threads = 2;
  double min_s = 0.3;
  bool libs = true;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--quick") min_s = 0.05;
    else if (a == "--no-libs") libs = false;
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--threads N] [--quick] [--no-libs] [--only NAME]\n", argv[0]);
      return 2;
    }
  }
  setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);  // before oneDNN's OpenMP starts
  tbb::global_control tc(tbb::global_control::max_allowed_parallelism, size_t(threads));
  OpenBlas blas(threads);
#ifdef HAVE_DNNL_HEADERS
  Dnnl dnnl;
  const bool have_dnnl = dnnl.ok;
#else
  const bool have_dnnl = false;
#endif
  std::printf("threads %d, isa %s; OpenBLAS %s (sbgemm %s); oneDNN %s\n", threads, isa_name(active_isa()),
              blas.sgemm ? "loaded" : "not found", blas.sbgemm ? "yes" : "no", have_dnnl ? "loaded" : "not found");
  const Shape shapes[] = {
      {"vision qkv/o", 1024, 768, 768},   {"vision fc1", 1024, 3072, 768},  {"vision fc2", 1024, 768, 3072},
      {"prefill q/o", 1000, 576, 576},    {"prefill gate", 1000, 1536, 576}, {"prefill down", 1000, 576, 1536},
      {"decode q M=1", 1, 576, 576},      {"decode gate M=1", 1, 1536, 576}, {"decode down M=1", 1, 576, 1536},
      {"decode gate M=4", 4, 1536, 576},  {"decode gate M=8", 8, 1536, 576}, {"decode down M=8", 8, 576, 1536},
      {"lm_head M=1", 1, 100352, 576},    {"lm_head M=8", 8, 100352, 576},
  };
  const double peak0 = fma_peak(threads);
  std::printf("f32 FMA peak on %d threads: %.1f GFLOP/s\n", threads, peak0);
  std::printf("%-16s %5s %6s %5s | %8s %5s %8s | %8s %8s | %8s %8s   (GFLOP/s)\n", "shape", "M", "N", "K", "ours-bf16", "%peak",
              "ours-i8", "oblas-f32", "oblas-bf", "dnnl-f32", "dnnl-bf16");
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::string dnnl_impls;
  for (const Shape& s : shapes) {
    std::vector<float> x(size_t(s.M) * s.K), wf(size_t(s.N) * s.K), y(size_t(s.M) * s.N);
    for (auto& v : x) v = nd(rng);
    for (auto& v : wf) v = 0.05f * nd(rng);
    std::vector<uint16_t> wb(wf.size()), xb(x.size());
    for (size_t i = 0; i < wf.size(); ++i) wb[i] = f32_to_bf16(wf[i]);
    for (size_t i = 0; i < x.size(); ++i) xb[i] = f32_to_bf16(x[i]);
    std::vector<int8_t> wq(wf.size());
    std::vector<float> sc(size_t(s.N) * size_t(int8_groups(s.K, 64)));
    quantize_rows_int8(wb.data(), s.N, s.K, 64, wq.data(), sc.data());
    if (!only.empty() && std::string(s.name).find(only) == std::string::npos) continue;
    const double flop = 2.0 * s.M * s.N * s.K;
    auto gf = [&](double t) { return flop / t / 1e9; };
    Gemm g;
    g.M = s.M; g.N = s.N; g.K = s.K; g.x = x.data(); g.ldx = s.K; g.ldb = s.K; g.y = y.data(); g.ldy = s.N;
    g.b = wb.data(); g.btype = BType::BF16;
    double ours_bf = gf(best_time([&] { gemm(g); }, min_s));
    g.b = wq.data(); g.btype = BType::I8; g.bscale = sc.data(); g.group = 64;
    double ours_i8 = gf(best_time([&] { gemm(g); }, min_s));
    double ob_f32 = 0, ob_bf = 0, dn_f32 = 0, dn_bf = 0;
    if (libs && blas.sgemm)
      ob_f32 = gf(best_time([&] {
        blas.sgemm(kRowMajor, kNoTrans, kTrans, s.M, s.N, s.K, 1.0f, x.data(), s.K, wf.data(), s.K, 0.0f, y.data(), s.N);
      }, min_s));
    if (libs && blas.sbgemm)
      ob_bf = gf(best_time([&] {
        blas.sbgemm(kRowMajor, kNoTrans, kTrans, s.M, s.N, s.K, 1.0f, xb.data(), s.K, wb.data(), s.K, 0.0f, y.data(),
                    s.N);
      }, min_s));
#ifdef HAVE_DNNL_HEADERS
    if (libs && have_dnnl) {
      std::string i1, i2;
      dn_f32 = dnnl.run(s, dnnl_f32, x.data(), wf.data(), y.data(), min_s, &i1);
      dn_bf = dnnl.run(s, dnnl_bf16, xb.data(), wb.data(), y.data(), min_s, &i2);
      if (dnnl_impls.empty()) dnnl_impls = "oneDNN kernels: f32 " + i1 + ", bf16 " + i2;
    }
#endif
    std::printf("%-16s %5d %6d %5d | %8.1f %4.0f%% %8.1f | %8.1f %8.1f | %8.1f %8.1f\n", s.name, s.M, s.N, s.K, ours_bf,
                peak0 > 0 ? 100 * ours_bf / peak0 : 0.0, ours_i8, ob_f32, ob_bf, dn_f32, dn_bf);
  }
  if (!dnnl_impls.empty()) std::printf("%s\n", dnnl_impls.c_str());
  std::printf("f32 FMA peak on %d threads at the end: %.1f GFLOP/s\n", threads, fma_peak(threads));
  return 0;
}
