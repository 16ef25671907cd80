// Batched decode against its roofline, alone (no page, no vision): how close each batch size
// comes to the larger of its compute time at the machine's peak and its memory time (decoder
// weights + every sequence's K/V at the measured read bandwidth); then where a step's time goes
// (its products and its attention, alone and interleaved as in a step, and the attention's K/V
// read alone).
//
//   bench_decode_roofline [--model DIR] [--context N] [--steps N] [--batches 1,4,8]
//                         [--threads N] [--tune 1] [--out FILE.json]
//
// --model: as bench_model_bench (default: the full-size random checkpoint, made if missing).
// --context: tokens already in every sequence's cache (default 878: a 13-tile page's prompt).
// --tune 1: the decode parameters measured first (kernels::tune_decode_params from the CPU
// table's entry, as the CLI does on first use) instead of the table's.
// Batch sizes run in interleaved rounds so that other load hits them alike.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include "bench/bench_env.h"
#include "bench/model_probe.h"
#include "bench/random_checkpoint.h"
#include "pipeline/kernel_tuning.h"
#include "vision/model.h"

using namespace docling;
using namespace docling::vision;
using namespace docling::bench;
using ordered_json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

struct Args {
  std::string model, out = "decode_roofline.json";
  int context = 878, steps = 64, threads = 0, rounds = 8;
  bool tune = false;  // measure the decode parameters first, as the CLI does on first use
  std::vector<int> batches = {1, 4, 8};
};

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") a.model = v;
    else if (k == "--out") a.out = v;
    else if (k == "--context") a.context = std::atoi(v.c_str());
    else if (k == "--steps") a.steps = std::atoi(v.c_str());
    else if (k == "--threads") a.threads = std::atoi(v.c_str());
    else if (k == "--rounds") a.rounds = std::atoi(v.c_str());
    else if (k == "--batches") a.batches = positive_list(v);
    else if (k == "--tune") a.tune = v == "1" || v == "yes";
    else return false;
  }
  if (argc % 2 == 0) return false;
  if (a.threads <= 0) a.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  if (a.model.empty()) {
    const char* env = std::getenv("DOCLING_BENCH_MODEL");
    a.model = env && *env ? env : DOCLING_BENCH_MODEL_DIR;
  }
  return a.context >= 1 && a.steps >= a.rounds && a.rounds >= 1 && !a.batches.empty();
}

// Measures the decode parameters as the CLI does on first use and puts them in use; says how
// the measurement went.
std::string tune_here() {
  const pipeline::DecodeMeasurement m = pipeline::measure_decode_params();
  kernels::KernelSettings s = kernels::current_settings();
  s.decode = m.result.best;
  kernels::configure(s);
  const kernels::DecodeParams& d = m.result.best;
  return "decode parameters " + m.note + ": prefetch " + std::to_string(d.prefetch_rows) + " rows, single pass up to " +
         std::to_string(d.single_pass_rows) + " rows, turns of " + std::to_string(d.turn_rows) + " rows x " +
         std::to_string(d.turn_k) + " k, outputs " + (d.stream_outputs ? "streamed" : "stored");
}

// Fills slot 0 with `n` tokens of text (ids spread over the vocabulary) and copies it to the others.
void fill_context(const Decoder& dec, DecoderWorkspace& ws, KVCache& cache, int n) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) ids[size_t(i)] = int32_t((i * 7919 + 13) % 50000);
  GenerateOptions g;
  g.max_new_tokens = 1;
  g.stop_at_eos = false;
  g.loop.enabled = false;
  generate_greedy(dec, ws, cache, 0, ids.data(), n, nullptr, 0, g);
  cache.len[0] = n;
  for (int s = 1; s < cache.slots; ++s) cache.copy_slot(s, 0);
}

// Sums `bytes` at p as 16 lanes of 32-bit words, which the compiler turns
// into wide loads, asking for the lines 4 KB ahead into L2 as it goes: a head's K or V is only
// ~112 KB at the default context, too short for the hardware's prefetchers alone (a plain word
// loop read it at 18-25 GB/s where this reads 27-30 on the AMX Xeon of bench/README.md).
uint64_t read_stream(const char* p, size_t bytes) {
  const uint32_t* w = reinterpret_cast<const uint32_t*>(p);
  const size_t n = bytes / 4;
  uint32_t s[16] = {};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __builtin_prefetch(w + i + 1024, 0, 2);
    for (int j = 0; j < 16; ++j) s[j] += w[i + j];
  }
  uint64_t total = 0;
  for (; i < n; ++i) total += w[i];
  for (uint32_t v : s) total += v;
  return total;
}

// Reads every layer's K and V of B sequences as the attention does (one task per sequence and
// kv head: its K, then its V), with nothing but a sum: the most the memory gives the
// attention's access pattern, to hold the attention alone against.
void read_kv_layer(const KVCache& cache, int B, int l, std::vector<uint64_t>& sums) {
  const size_t head = size_t(cache.head_stride) * cache.element_size();
  tbb::parallel_for(
      tbb::blocked_range<int>(0, B * cache.kv_heads, 1),
      [&](const tbb::blocked_range<int>& r) {
        for (int u = r.begin(); u < r.end(); ++u) {
          const int b = u / cache.kv_heads, g = u % cache.kv_heads, n = cache.len[size_t(b)];
          sums[size_t(u)] += read_stream(static_cast<const char*>(cache.k_at(b, l)) + g * head, cache.k_bytes(n)) +
                             read_stream(static_cast<const char*>(cache.v_at(b, l)) + g * head, cache.v_bytes(n));
        }
      },
      tbb::simple_partitioner());
}

// A batch-B step taken apart: its products (every layer's, then the output head) and its K/V
// attention (every layer, B sequences of the cache at their current length), each alone, then
// the two interleaved layer by layer as a step runs them (norms, RoPE and the rest left out),
// and the attention's K/V read with nothing else (read_kv_layer). Each of the four starts from
// emptied caches: this host's last-level cache can hold most of a batch-1 step's weights and
// K/V. Milliseconds per step, best of `reps`.
struct StepParts {
  double products = 0, attention = 0, products_in_step = 0, attention_in_step = 0, kv_read = 0;
};

StepParts step_parts(const Model& model, const KVCache& cache, int B, int reps, int threads) {
  const ModelConfig& cfg = model.config();
  const Weights& w = model.weights();
  const TextConfig& c = cfg.text;
  const int H = c.hidden, hd = c.head_dim, qd = c.heads * hd, kvd = c.kv_heads * hd, I = c.intermediate;
  // Line-aligned as the decoder's workspace is (streamed outputs need whole aligned lines).
  auto buf = [&](int cols) { return kernels::aligned_vector<float>(size_t(B) * size_t(cols), 0.01f); };
  kernels::aligned_vector<float> x = buf(H), q = buf(qd), k = buf(kvd), v = buf(kvd), att = buf(qd), gate = buf(I);
  kernels::aligned_vector<float> up = buf(I), y = buf(H), logits = buf(c.vocab);
  auto products_before = [&](int l) {  // q, k and v: what the attention waits for
    const TextLayerWeights& L = w.text_layers[size_t(l)];
    const kernels::Gemm g[3] = {linear_gemm(x.data(), B, L.q, nullptr, q.data()),
                                linear_gemm(x.data(), B, L.k, nullptr, k.data()),
                                linear_gemm(x.data(), B, L.v, nullptr, v.data())};
    kernels::gemm_group(g, 3);
  };
  auto products_after = [&](int l) {
    const TextLayerWeights& L = w.text_layers[size_t(l)];
    linear(att.data(), B, L.o, nullptr, y.data());
    const kernels::Gemm g[2] = {linear_gemm(x.data(), B, L.gate, nullptr, gate.data()),
                                linear_gemm(x.data(), B, L.up, nullptr, up.data())};
    kernels::gemm_group(g, 2);
    linear(gate.data(), B, L.down, nullptr, y.data());
  };
  std::vector<kernels::KvAttention> list(static_cast<size_t>(B));
  auto attention = [&](int l) {
    for (int b = 0; b < B; ++b) {
      kernels::KvAttention& a = list[size_t(b)];
      const int n = cache.len[size_t(b)];
      a.n_q = 1; a.q_pos0 = n - 1; a.n_kv = n; a.heads = c.heads; a.kv_heads = c.kv_heads; a.head_dim = hd;
      a.q = q.data() + int64_t(b) * qd; a.ldq = qd; a.type = cache.type;
      a.k = cache.k_at(b, l); a.v = cache.v_at(b, l); a.kv_stride = cache.head_stride;
      a.out = att.data() + int64_t(b) * qd; a.ldo = qd; a.scale = float(1.0 / std::sqrt(double(hd)));
    }
    kernels::kv_attention(list.data(), B);
  };
  // The output head as a step runs it: through its int8 screen where the decoder has one.
  std::vector<int32_t> tokens(static_cast<size_t>(B));
  std::vector<float> logprobs(static_cast<size_t>(B));
  auto head = [&] {
    const kernels::Gemm g = linear_gemm(x.data(), B, w.lm_head, nullptr, logits.data());
    if (!kernels::screened_greedy(w.head_screen, g, tokens.data(), logprobs.data())) kernels::gemm(g);
  };
  // Reading 1 GiB on every thread (the bandwidth probe's buffer, kept between calls) empties the caches.
  auto evict = [threads] { measure_read_bandwidth(threads, 1024, 1); };
  auto timed = [](double& ms, const auto& f) {  // adds f's time to ms
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<uint64_t> sums(size_t(B) * size_t(c.kv_heads));
  StepParts p{1e30, 1e30, 1e30, 1e30, 1e30};
  for (int r = 0; r < reps; ++r) {
    StepParts t;
    evict();
    timed(t.products, [&] {
      for (int l = 0; l < c.layers; ++l) products_before(l), products_after(l);
      head();
    });
    evict();
    timed(t.attention, [&] {
      for (int l = 0; l < c.layers; ++l) attention(l);
    });
    evict();
    timed(t.kv_read, [&] {
      for (int l = 0; l < c.layers; ++l) read_kv_layer(cache, B, l, sums);
    });
    evict();
    for (int l = 0; l < c.layers; ++l) {
      timed(t.products_in_step, [&] { products_before(l); });
      timed(t.attention_in_step, [&] { attention(l); });
      timed(t.products_in_step, [&] { products_after(l); });
    }
    timed(t.products_in_step, head);
    p = {std::min(p.products, t.products), std::min(p.attention, t.attention),
         std::min(p.products_in_step, t.products_in_step), std::min(p.attention_in_step, t.attention_in_step),
         std::min(p.kv_read, t.kv_read)};
  }
  volatile uint64_t sink = 0;  // the sums are used
  for (uint64_t v : sums) sink = sink + v;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) {
    std::fprintf(stderr, "usage: %s [--model DIR] [--context N] [--steps N] [--rounds N] [--batches 1,4,8] "
                         "[--threads N] [--tune 1] [--out FILE.json]\n", argv[0]);
    return 2;
  }
  kernels::configure(env_kernel_settings());
  try {
    tbb::global_control tbb_threads(tbb::global_control::max_allowed_parallelism, size_t(a.threads));
    std::string tuned;  // what --tune found, for the report
    if (a.tune) tuned = tune_here();
    if (!fs::is_regular_file(fs::path(a.model) / "model.safetensors") || bench::is_random_checkpoint(a.model))
      bench::ensure_random_checkpoint(a.model, DOCLING_TEST_DATA "/models/granite-docling-258M", 1234);
    const vision::LoadOptions lo = env_load_options();
    Model model = Model::load(a.model, lo);
    const Decoder& dec = model.decoder();
    const ModelConfig& cfg = model.config();
    const int max_b = *std::max_element(a.batches.begin(), a.batches.end());
    KVCache cache(cfg.text, max_b, a.context + a.steps + 2, dec.kv_type());
    DecoderWorkspace ws;
    fill_context(dec, ws, cache, a.context);
    std::vector<int32_t> seed = {100, 200, 300, 400, 500, 600, 700, 800};

    // The peak of the instruction the decode products run on: vdpbf16ps with bf16 decode
    // activations on an AVX512-BF16 CPU, else f32 FMA.
    const bool bf16_decode = lo.decode == vision::Precision::BF16 && kernels::has_avx512_bf16();
    const std::vector<PeakKernel> peaks = peak_kernels(bf16_decode || kernels::bf16_dot());
    const PeakKernel& best = peaks.front();
    const double peak = measure_peak(best, a.threads, 3, 0.3);
    // The bandwidth other tenants leave this machine moves by half between minutes, so each
    // round measures it next to its steps and each round's steps are held to that figure.
    std::vector<BatchDecode> runs;
    for (int B : a.batches) runs.emplace_back(dec, ws, cache, B, a.context, seed);
    std::vector<std::vector<double>> fractions(runs.size());
    std::vector<double> bws;
    for (int r = 0; r < a.rounds; ++r) {
      const double bw_r = measure_read_bandwidth(a.threads, 512, 3);
      bws.push_back(bw_r);
      for (size_t i = 0; i < runs.size(); ++i) {
        BatchDecode& bd = runs[i];
        const double wall0 = bd.stage.wall, flops0 = bd.flops, bytes0 = bd.bytes;
        bd.run(dec, ws, cache, a.steps * (r + 1) / a.rounds - a.steps * r / a.rounds);
        const double roof = std::max((bd.flops - flops0) / (peak * 1e9), (bd.bytes - bytes0) / (bw_r * 1e9));
        const double wall = bd.stage.wall - wall0;
        fractions[i].push_back(roof / wall);
      }
    }
    const double bw = median(bws);
    const double wbytes = decoder_weight_bytes(cfg, dec.screens_head());

    ordered_json R;
    R["date"] = utc_now();
    R["cpu"] = cpu_model();
    R["threads"] = a.threads;
    R["loadavg_at_start"] = loadavg();
    R["kernel_isa"] = kernels::isa_name(kernels::active_isa());
    R["decode_precision"] = bf16_decode ? "bf16" : "f32";
    R["head_screen"] = dec.screens_head();
    R["peak"] = {{"method", best.name}, {"gflops", peak}};
    R["memory_read_gb_per_s"] = bw;  // the median of the rounds'
    R["memory_read_gb_per_s_rounds"] = bws;
    R["context_tokens"] = a.context;
    R["decode_params"] = pipeline::decode_params_json(*kernels::current_settings().decode);
    R["decode_params"]["measured"] = a.tune;
    R["decoder_weight_bytes_per_step"] = wbytes;
    std::printf("%s, %d threads, %s, %s decode products; peak %.1f GFLOP/s (%s), read %.1f GB/s (median of "
                "%.1f-%.1f); context %d, %d steps\n",
                cpu_model().c_str(), a.threads, kernels::isa_name(kernels::active_isa()), bf16_decode ? "bf16" : "f32",
                peak, best.name, bw,
                *std::min_element(bws.begin(), bws.end()), *std::max_element(bws.begin(), bws.end()), a.context,
                a.steps);
    if (a.tune) std::printf("%s\n", tuned.c_str());
    std::printf("  %5s %10s %11s %9s %8s %9s %8s\n", "batch", "ms/step", "tok/s total", "GFLOP/s", "GB/s",
                "roof ms", "roofline");
    for (size_t i = 0; i < runs.size(); ++i) {
      const BatchDecode& br = runs[i];
      // The roofline fraction is the median of the rounds' (each against its own bandwidth).
      const double bytes = br.bytes, roof_s = br.roofline_seconds(peak, bw), roof = median(fractions[i]);
      const char* bound = br.compute_bound(peak, bw) ? "compute" : "memory";
      R["batches"][std::to_string(br.B)] = {
          {"ms_per_step", 1e3 * br.stage.wall / a.steps}, {"tokens_per_s", br.B * a.steps / br.stage.wall},
          {"gflops", br.flops / br.stage.wall / 1e9},     {"gb_per_s", bytes / br.stage.wall / 1e9},
          {"roofline_ms_per_step", 1e3 * roof_s / a.steps},
          {"roofline_fraction", roof},                     {"roofline_fraction_rounds", fractions[i]},
          {"bound", bound}};
      std::printf("  %5d %10.2f %11.1f %9.1f %8.1f %9.2f %7.0f%%  (%s-bound)\n", br.B, 1e3 * br.stage.wall / a.steps,
                  br.B * a.steps / br.stage.wall, br.flops / br.stage.wall / 1e9, bytes / br.stage.wall / 1e9,
                  1e3 * roof_s / a.steps, 100 * roof, bound);
    }
    // Where a step's time goes: products and attention alone, then interleaved as in a step.
    std::printf("a step's parts, ms (GB/s): its products and its attention alone, then interleaved layer by layer;\n"
                "the attention's K/V read alone with nothing but a sum (what the memory gives its access pattern)\n"
                "  %5s %16s %16s %18s %18s %16s\n", "batch", "products alone", "attention alone", "products in step",
                "attention in step", "K/V read alone");
    for (const BatchDecode& br : runs) {
      const StepParts p = step_parts(model, cache, br.B, 8, a.threads);
      double kv = 0;
      for (int b = 0; b < br.B; ++b) kv += kv_bytes_per_step(cfg, cache.len[size_t(b)], int(cache.element_size()));
      R["batches"][std::to_string(br.B)]["parts_ms"] = {
          {"products_alone", p.products}, {"attention_alone", p.attention},
          {"products_in_step", p.products_in_step}, {"attention_in_step", p.attention_in_step},
          {"kv_read_alone", p.kv_read},
          {"weight_bytes", wbytes}, {"kv_bytes", kv}};
      auto gbs = [](double bytes, double ms) { return bytes / ms / 1e6; };
      std::printf("  %5d %8.2f (%5.1f) %8.2f (%5.1f) %10.2f (%5.1f) %10.2f (%5.1f) %8.2f (%5.1f)\n", br.B, p.products,
                  gbs(wbytes, p.products), p.attention, gbs(kv, p.attention), p.products_in_step,
                  gbs(wbytes, p.products_in_step), p.attention_in_step, gbs(kv, p.attention_in_step), p.kv_read,
                  gbs(kv, p.kv_read));
    }
    std::ofstream(a.out) << R.dump(1) << "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_decode_roofline: %s\n", e.what());
    return 1;
  }
  return 0;
}
