#include "bench/model_probe.h"

#include "kernels/aligned.h"
#include "kernels/amx.h"  // the tile configuration the kernels use

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "bench/run_together.h"
#include "kernels/kernels.h"

namespace docling::bench {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Timing, CPU time, memory

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

double cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}


// VmHWM (peak resident set) in MB; getrusage's ru_maxrss as a fallback.
double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

// The name /proc/cpuinfo gives, with cpuid's family and model: a VM may show only "AMD EPYC".
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, name = "unknown";
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      size_t c = line.find(':');
      name = c == std::string::npos ? line : line.substr(c + 2);
      break;
    }
  const kernels::CpuId id = kernels::cpu_id();
  return name + " (family " + std::to_string(id.family) + " model " + std::to_string(id.model) + ")";
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Peak: the throughput of the instruction the bf16 path runs on, all threads at once.
// With the AVX512-BF16 path on: vdpbf16ps (bf16 pairs, f32 accumulate). Otherwise (the default)
// the engine widens bf16 to f32 and uses FMA, so the peak is f32 FMA throughput at the widest
// width available.
// Independent accumulator chains hide the FMA latency; x = x*b + c converges, never overflows.


#if defined(__x86_64__)
#define CHAINS12(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11)
#define CHAINS16(OP) CHAINS12(OP) OP(12) OP(13) OP(14) OP(15)

__attribute__((target("avx2,fma"))) static float peak_loop_avx2(int64_t iters) {
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
#define DECL(i) __m256 a##i = _mm256_set1_ps(1.0f + i);
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, b, c);
#define SUM(i) s = _mm256_add_ps(s, a##i);
  CHAINS12(DECL)
  for (int64_t it = 0; it < iters; ++it) { CHAINS12(STEP) }
  __m256 s = _mm256_setzero_ps();
  CHAINS12(SUM)
  return _mm256_cvtss_f32(s);
#undef DECL
#undef STEP
#undef SUM
}

// (_mm512_reduce_add_ps trips a false -Wuninitialized in GCC 12's headers.)
__attribute__((target("avx512f"))) static float hsum512(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  float s = 0;
  for (float x : t) s += x;
  return s;
}

__attribute__((target("avx512f"))) static float peak_loop_avx512(int64_t iters) {
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
#define DECL(i) __m512 a##i = _mm512_set1_ps(1.0f + i);
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, b, c);
#define SUM(i) s = _mm512_add_ps(s, a##i);
  CHAINS16(DECL)
  for (int64_t it = 0; it < iters; ++it) { CHAINS16(STEP) }
  __m512 s = _mm512_setzero_ps();
  CHAINS16(SUM)
  return hsum512(s);
#undef DECL
#undef STEP
#undef SUM
}

__attribute__((target("avx512f,avx512bf16"))) static float peak_loop_avx512bf16(int64_t iters) {
  const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
  const __m512bh y = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f));
#define DECL(i) __m512 a##i = _mm512_set1_ps(float(i));
#define STEP(i) a##i = _mm512_dpbf16_ps(a##i, x, y);
#define SUM(i) s = _mm512_add_ps(s, a##i);
  CHAINS16(DECL)
  for (int64_t it = 0; it < iters; ++it) { CHAINS16(STEP) }
  __m512 s = _mm512_setzero_ps();
  CHAINS16(SUM)
  return hsum512(s);
#undef DECL
#undef STEP
#undef SUM
}
#endif

// AMX: 2 x 2 tiles of sums from x and B tiles that stay in L1, 4 tdpbf16ps an iteration
// (16 x 16 x 32 multiply-adds each); has_amx_bf16() (checked by peak_kernels) got the OS's grant.
AMX_FN static float peak_loop_amx(int64_t iters) {
  alignas(64) static thread_local uint16_t a[2][512], b[2][512];
  alignas(64) float c[256];
  for (int i = 0; i < 512; ++i) a[0][i] = a[1][i] = b[0][i] = b[1][i] = 0x3a83;  // ~1e-3 in bf16
  docling::kernels::detail::load_tile_config();
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t it = 0; it < iters; ++it) {
    _tile_loadd(4, a[0], 64);
    _tile_loadd(5, a[1], 64);
    _tile_loadd(6, b[0], 64);
    _tile_loadd(7, b[1], 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, c, 64);
  _tile_release();
  return c[0];
}

static float peak_loop_scalar(int64_t iters) {
  float a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int64_t it = 0; it < iters; ++it)
    for (float& v : a) v = v * 0.999f + 1e-3f;
  float s = 0;
  for (float v : a) s += v;
  return s;
}


std::vector<PeakKernel> peak_kernels(bool with_vdpbf16ps, bool with_amx) {
  std::vector<PeakKernel> k;
#if defined(__x86_64__)
  if (with_amx && docling::kernels::has_amx_bf16())
    k.push_back({"amx_bf16_tdpbf16ps", "bf16 tile products (AMX tdpbf16ps, f32 accumulate)", peak_loop_amx,
                 4 * 16 * 16 * 32 * 2.0});
  if (with_vdpbf16ps && docling::kernels::has_avx512_bf16())
    k.push_back({"avx512bf16_vdpbf16ps", "bf16 dot products (vdpbf16ps zmm, f32 accumulate)", peak_loop_avx512bf16,
                 16 * 64.0});
  // Only the levels the kernels may use (DOCLING_ISA can hold them below the CPU's best); the
  // active level is never above what the CPU has.
  const docling::kernels::Isa level = docling::kernels::active_isa();
  if (level >= docling::kernels::Isa::Avx512)
    k.push_back({"avx512_fma_f32", "f32 FMA on zmm (bf16 widened to f32)", peak_loop_avx512, 16 * 32.0});
  if (level >= docling::kernels::Isa::Avx2)
    k.push_back({"avx2_fma_f32", "f32 FMA on ymm (bf16 widened to f32)", peak_loop_avx2, 12 * 16.0});
#endif
  k.push_back({"scalar", "scalar f32 multiply-add", peak_loop_scalar, 8 * 2.0});
  return k;
}

static volatile float g_sink;

// GFLOP/s of `k` on `threads` threads started together; best of `trials` runs of ~`seconds`.
double measure_peak(const PeakKernel& k, int threads, int trials, double seconds) {
  int64_t iters = 1 << 14;
  for (;;) {  // calibrate on one thread
    double t0 = now_s();
    g_sink = k.fn(iters);
    double dt = now_s() - t0;
    if (dt > 0.02) {
      iters = std::max<int64_t>(1, int64_t(iters * seconds / dt));
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int t = 0; t < trials; ++t) {
    const double dt = docling::bench::run_together(threads, [&] { g_sink = k.fn(iters); });
    best = std::max(best, threads * double(iters) * k.flops_per_iter / dt / 1e9);
  }
  return best;
}


// Bytes of decoder weights one decode step streams (bf16 matrices + output head).
double decoder_weight_bytes(const ModelConfig& c, bool screened_head) {
  const TextConfig& t = c.text;
  double H = t.hidden, qd = double(t.heads) * t.head_dim, kvd = double(t.kv_heads) * t.head_dim;
  double per_layer = H * (qd + 2 * kvd) + qd * H + 3 * H * t.intermediate;
  // The screen: one byte a weight and 12 a column (its scale and two sums).
  const double head = screened_head ? double(t.vocab) * (H + 12) : 2.0 * double(t.vocab) * H;
  return 2.0 * t.layers * per_layer + head;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<int> positive_list(const std::string& csv) {
  std::vector<int> out;
  std::stringstream ss(csv);
  for (std::string b; std::getline(ss, b, ',');)
    if (std::atoi(b.c_str()) > 0) out.push_back(std::atoi(b.c_str()));
  return out;
}

double kv_bytes_per_step(const ModelConfig& c, int ctx, int bytes_per_value) {
  const auto& t = c.text;
  return 2.0 * t.layers * double(ctx) * t.kv_heads * t.head_dim * bytes_per_value;
}

// Each thread sums its own contiguous part with wide loads; the buffer is written first so
// its pages exist (a never-written page reads the shared zero page, not memory). It is
// allocated as the decoder's weights and KV cache are (huge pages where the kernel gives
// them), so the probe reads as fast as they can.
double measure_read_bandwidth(int threads, int mib, int trials) {
  const size_t n = size_t(mib) << 18;  // floats
  // Kept for the next call: a bench measures every round, and the kernel clears new pages.
  static docling::kernels::large_ptr<float> buf;
  static size_t have = 0;
  if (have < n) {
    buf = docling::kernels::make_large<float>(n);
    for (size_t i = 0; i < n; ++i) buf.get()[i] = float(i & 1023);
    have = n;
  }
  const size_t part = n / size_t(threads) / 64 * 64;
  std::vector<float> sums(size_t(threads) * 16);
  std::atomic<int> next{0};
  double best = 0;
  for (int t = 0; t < trials; ++t) {
    next = 0;
    const double dt = run_together(threads, [&] {
      const int id = next.fetch_add(1);
      const float* p = buf.get() + size_t(id) * part;
      float s[16] = {};
      for (size_t i = 0; i < part; i += 16)
        for (int j = 0; j < 16; ++j) s[j] += p[i + j];
      float tot = 0;
      for (float v : s) tot += v;
      sums[size_t(id) * 16] = tot;
    });
    best = std::max(best, double(part) * threads * sizeof(float) / dt / 1e9);
  }
  return best;
}

}  // namespace docling::bench
