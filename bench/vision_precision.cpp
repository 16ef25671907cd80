// The vision precisions (f32, bf16, int8: vision::Precision) side by side on one checkpoint:
// speed of the vision encoder + connector and the accuracy budget a default must meet.
//
//   bench_vision_precision [--model DIR] [--pdf F --page P] [--pages N] [--tokens N] [--reps N]
//                          [--threads N] [--out FILE.json]
//
// --model: a checkpoint folder (default: the full-size random checkpoint, made if missing,
// bench/README.md; the oracle's tiny-idefics3 works as well).
// Per precision, against f32 on the same weights:
//  - speed: seconds per tile of encode_tiles on two tiles (one batch of the encoder), the
//    precisions interleaved, best of --reps; GFLOP/s (213.8 + 0.9 GFLOP per full-size tile)
//    and the fraction of the measured register-only peak of the instruction the products run
//    on (f32 FMA, vdpbf16ps, vpdpbusd; all threads);
//  - cosine of the connector output to f32, per tile, over all tiles of --pdf page --page
//    (default samples/article.pdf page 1, rendered at 144 dpi as docling does): min and mean;
//  - teacher forcing over docling's ground-truth DocTags (tests/data/pdfs/*.doctags, the
//    first --pages documents, first page, first --tokens tokens): the page's prompt with that
//    precision's image features, then the DocTags tokens; argmax at every position compared
//    with the f32 run's argmax (agreement), and the logit error (max, mean / logits' std).
// Prints a table and writes --out (JSON): vision_precisions {f32|bf16|int8: {s_per_tile,
// cosine_min, teacher_forced_agreement, ...}}, vision_default_precision (the library's
// auto_vision_precision on this CPU) and the peaks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <immintrin.h>

#include <nlohmann/json.hpp>
#include <tbb/global_control.h>

#include "bench/bench_env.h"  // env_kernel_settings (the library reads no env)
#include "bench/forced_pages.h"
#include "bench/model_probe.h"
#include "bench/random_checkpoint.h"
#include "bench/run_together.h"
#include "kernels/kernels.h"
#include "vision/image_processor.h"
#include "vision/model.h"
#include "vision/prompt.h"
#include "vision/tokenizer.h"

using namespace docling;
using namespace docling::vision;
using ordered_json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

// --- peaks: vpdpbusd here (28 independent chains, all threads at once); the others: probe_peak --

constexpr int64_t kPeakOps = 64'000'000;  // instructions per thread per measurement
volatile float g_sink;

__attribute__((target("avx512f,avx512vnni"))) float dpbusd() {
  const __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-2);
  __m512i a[28];
  for (int i = 0; i < 28; ++i) a[i] = _mm512_set1_epi32(i);
  for (int64_t it = 0; it < kPeakOps / 28; ++it)
#pragma GCC unroll 28
    for (int i = 0; i < 28; ++i) asm("vpdpbusd %2, %1, %0" : "+v"(a[i]) : "v"(x), "v"(y));
  __m512i s = a[0];
  for (int i = 1; i < 28; ++i) s = _mm512_add_epi32(s, a[i]);
  return float(_mm512_reduce_add_epi32(s));
}

// The same on 256 bits (AVX-VNNI, VEX-encoded): 14 chains.
__attribute__((target("avx2,avxvnni"))) float dpbusd_ymm() {
  const __m256i x = _mm256_set1_epi8(3), y = _mm256_set1_epi8(-2);
  __m256i a[14];
  for (int i = 0; i < 14; ++i) a[i] = _mm256_set1_epi32(i);
  for (int64_t it = 0; it < kPeakOps / 14; ++it)
#pragma GCC unroll 14
    for (int i = 0; i < 14; ++i) asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(a[i]) : "x"(x), "x"(y));
  __m256i s = a[0];
  for (int i = 1; i < 14; ++i) s = _mm256_add_epi32(s, a[i]);
  return float(_mm256_extract_epi32(s, 0));
}

// GOP/s (2 per multiply-add) of `loop` with `ops_per_instr` on `threads` threads; best of 3.
double peak(float (*loop)(), double ops_per_instr, int threads) {
  double best = 0;
  for (int t = 0; t < 3; ++t) {
    const double dt = bench::run_together(threads, [&] { g_sink = loop(); });
    best = std::max(best, threads * double(kPeakOps) * ops_per_instr / dt / 1e9);
  }
  return best;
}

// f32 FMA at the widest width and vdpbf16ps: the 16-chain loops of bench/model_probe (an
// array of 28 FMA chains here was kept partly in memory by GCC and read low). The first of
// `names` this CPU has; 0 if none.
double probe_peak(int threads, std::initializer_list<const char*> names) {
  for (const bench::PeakKernel& k : bench::peak_kernels(true, true))
    for (const char* n : names)
      if (std::string(k.name) == n) return bench::measure_peak(k, threads, 3, 0.3);
  return 0;
}

// --- the model's work ----------------------------------------------------------------------

double cosine(const float* a, const float* b, size_t n) {
  double d = 0, na = 0, nb = 0;
  for (size_t i = 0; i < n; ++i) d += double(a[i]) * b[i], na += double(a[i]) * a[i], nb += double(b[i]) * b[i];
  return na > 0 && nb > 0 ? d / std::sqrt(na * nb) : (na == nb ? 1.0 : 0.0);
}

using bench::ForcedPage;

// Logits of the positions that predict forced[0..T): the prompt's last row, then each forced
// token but the last, in one forward pass (f32 KV cache).
std::vector<float> forced_logits(const Model& m, const ForcedPage& p, const std::vector<float>& feats) {
  const ModelConfig& c = m.config();
  const int P = int(p.prompt.ids.size()), T = int(p.forced.size()), n = P + T - 1, V = c.text.vocab;
  std::vector<int32_t> ids = p.prompt.ids;
  ids.insert(ids.end(), p.forced.begin(), p.forced.end() - 1);
  std::vector<float> emb(size_t(n) * c.text.hidden), logits(size_t(T) * V);
  m.decoder().embed(ids.data(), n, feats.data(), p.tiles.n_tiles * c.image_seq_len, emb.data());
  KVCache cache(c.text, 1, n + 1, KvType::F32);
  DecoderWorkspace ws;
  std::vector<int32_t> slots(size_t(n), 0), rows(static_cast<size_t>(T));
  for (int t = 0; t < T; ++t) rows[size_t(t)] = P - 1 + t;
  m.decoder().forward(ws, cache, emb.data(), slots.data(), n, rows.data(), T, logits.data());
  return logits;
}

struct Score {
  std::string name;
  double s_per_tile = 1e30, cos_min = 1, cos_sum = 0;
  int tiles = 0;
  int64_t agree = 0, positions = 0;
  double logit_max = 0, logit_abs = 0, logit_n = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir = DOCLING_BENCH_MODEL_DIR, out_path, pdf = DOCLING_SOURCE_DIR "/samples/article.pdf";
  int page_no = 1, pages = 3, tokens = 256, reps = 3, threads = int(std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--model") model_dir = next();
    else if (a == "--pdf") pdf = next();
    else if (a == "--page") page_no = std::max(1, std::atoi(next().c_str()));
    else if (a == "--pages") pages = std::max(0, std::atoi(next().c_str()));
    else if (a == "--tokens") tokens = std::max(2, std::atoi(next().c_str()));
    else if (a == "--reps") reps = std::max(1, std::atoi(next().c_str()));
    else if (a == "--threads") threads = std::max(1, std::atoi(next().c_str()));
    else if (a == "--out") out_path = next();
    else {
      std::fprintf(stderr,
                   "usage: %s [--model DIR] [--pdf F --page P] [--pages N] [--tokens N] [--reps N] [--threads N] "
                   "[--out FILE.json]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    kernels::configure(env_kernel_settings());  // DOCLING_ISA, DOCLING_AMX, DOCLING_AVX_VNNI, ...
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
    const bool random = !fs::exists(fs::path(model_dir) / "model.safetensors") || bench::is_random_checkpoint(model_dir);
    if (random) bench::ensure_random_checkpoint(model_dir, DOCLING_TEST_DATA "/models/granite-docling-258M");
    const Precision precs[] = {Precision::F32, Precision::BF16, Precision::INT8};
    std::vector<std::unique_ptr<Model>> models;
    for (Precision p : precs) {
      LoadOptions lo;
      lo.vision = p;
      models.push_back(std::make_unique<Model>(Model::load(model_dir, lo)));
    }
    const ModelConfig& cfg = models[0]->config();
    const double flops = bench::FlopModel(cfg).vision_tile();  // encoder + connector, one tile
    Tokenizer tok = Tokenizer::load(model_dir);
    PromptBuilder builder(tok, PromptConfig::load(model_dir));
    ImageProcessorConfig pcfg = ImageProcessorConfig::load(model_dir);

    // Peaks of the instructions the precisions run on.
    __builtin_cpu_init();
    const bool avx512 = kernels::active_isa() == kernels::Isa::Avx512;
    const double p_fma = probe_peak(threads, {"avx512_fma_f32", "avx2_fma_f32"});
    const bool amx = kernels::has_amx_bf16();
    const double p_bf16 = probe_peak(threads, {amx ? "amx_bf16_tdpbf16ps" : "avx512bf16_vdpbf16ps"});
    const bool vnni = kernels::i8_uses_vnni(), avx_vnni = kernels::i8_uses_avx_vnni();
    const double p_vnni = vnni ? peak(dpbusd, 128, threads) : avx_vnni ? peak(dpbusd_ymm, 64, threads) : 0;
    std::printf("CPU %s, %d threads, kernels %s; peaks GOP/s: f32 FMA %.0f, %s %.0f, vpdpbusd%s %.0f\n",
                bench::cpu_model().c_str(), threads, kernels::isa_name(kernels::active_isa()), p_fma,
                amx ? "AMX tdpbf16ps" : "vdpbf16ps", p_bf16, avx_vnni ? " ymm" : "", p_vnni);
    // What each precision's products run on here, and that instruction's peak.
    const char* instr[3] = {avx512 ? "f32 FMA zmm" : "f32 FMA ymm",
                            amx ? "AMX tdpbf16ps" : kernels::has_avx512_bf16() ? "vdpbf16ps" : (avx512 ? "f32 FMA zmm" : "f32 FMA ymm"),
                            vnni       ? "vpdpbusd"
                            : avx_vnni ? "vpdpbusd ymm"
                            : kernels::active_isa() == kernels::Isa::Scalar ? "scalar"
                                                                            : "vpmaddubsw+vpmaddwd ymm"};
    const double pk[3] = {p_fma, kernels::has_avx512_bf16() ? p_bf16 : p_fma, vnni || avx_vnni ? p_vnni : p_fma};

    // --- the page: tiles, cosine per tile ---------------------------------------------------
    const ForcedPage main_page = bench::model_input(pdf, page_no, builder, pcfg);
    const int n_tiles = main_page.tiles.n_tiles, rows = cfg.image_seq_len, H = cfg.text.hidden;
    std::vector<Score> sc(3);
    std::vector<std::vector<float>> feats(3);
    for (int p = 0; p < 3; ++p) {
      sc[size_t(p)].name = precision_name(precs[p]);
      feats[size_t(p)] = models[size_t(p)]->encode_tiles(main_page.tiles.pixels.data(), n_tiles);
    }
    for (int p = 1; p < 3; ++p)
      for (int t = 0; t < n_tiles; ++t) {
        const size_t off = size_t(t) * rows * H;
        const double c = cosine(feats[size_t(p)].data() + off, feats[0].data() + off, size_t(rows) * H);
        sc[size_t(p)].cos_min = std::min(sc[size_t(p)].cos_min, c);
        sc[size_t(p)].cos_sum += c;
        sc[size_t(p)].tiles++;
      }
    sc[0].tiles = n_tiles, sc[0].cos_sum = n_tiles;

    // --- speed: two tiles (one encoder batch), interleaved, best of reps ---------------------
    const int two = std::min(2, n_tiles);
    for (int r = 0; r < reps; ++r)
      for (int p = 0; p < 3; ++p) {
        const double t0 = bench::now_s();
        models[size_t(p)]->encode_tiles(main_page.tiles.pixels.data(), two);
        sc[size_t(p)].s_per_tile = std::min(sc[size_t(p)].s_per_tile, (bench::now_s() - t0) / two);
      }

    // --- teacher forcing over the ground-truth DocTags --------------------------------------
    ordered_json per_page = ordered_json::array();
    for (const fs::path& d : bench::doctags_documents(pages)) {
      ForcedPage pg;
      if (!bench::load_forced_page(d, tok, builder, pcfg, tokens, pg)) continue;
      const int V = cfg.text.vocab, T = int(pg.forced.size());
      std::vector<float> ref_logits;
      std::vector<int> ref_arg(static_cast<size_t>(T));
      ordered_json pj = {{"document", pg.name}, {"tiles", pg.tiles.n_tiles}, {"tokens", T}};
      for (int p = 0; p < 3; ++p) {
        std::vector<float> f = models[size_t(p)]->encode_tiles(pg.tiles.pixels.data(), pg.tiles.n_tiles);
        std::vector<float> lg = forced_logits(*models[0], pg, f);  // the decoder is the same in all three
        Score& s = sc[size_t(p)];
        int agree = 0;
        for (int t = 0; t < T; ++t) {
          const float* l = lg.data() + size_t(t) * V;
          const int a = kernels::argmax(l, V);
          if (p == 0) {
            ref_arg[size_t(t)] = a;
            continue;
          }
          agree += a == ref_arg[size_t(t)];
          const float* r = ref_logits.data() + size_t(t) * V;
          for (int i = 0; i < V; ++i) {
            const double e = std::fabs(double(l[i]) - r[i]);
            s.logit_max = std::max(s.logit_max, e);
            s.logit_abs += e;
          }
          s.logit_n += V;
        }
        if (p == 0) {
          ref_logits = std::move(lg);
          agree = T;
        }
        s.agree += agree;
        s.positions += T;
        pj[precision_name(precs[p])] = double(agree) / T;
      }
      // The logits' spread (f32), for the relative error.
      double s1 = 0, s2 = 0;
      for (float v : ref_logits) s1 += v, s2 += double(v) * v;
      const double nn = double(ref_logits.size()), sd = std::sqrt(std::max(0.0, s2 / nn - (s1 / nn) * (s1 / nn)));
      pj["logit_std"] = sd;
      per_page.push_back(pj);
      std::printf("  %-28s %2d tiles %4d tokens: agreement bf16 %.4f int8 %.4f (logit std %.3g)\n", pg.name.c_str(),
                  pg.tiles.n_tiles, T, pj["bf16"].get<double>(), pj["int8"].get<double>(), sd);
    }
    double logit_std = 0;
    for (const auto& pj : per_page) logit_std += pj["logit_std"].get<double>() / double(per_page.size());

    // --- report ------------------------------------------------------------------------------
    std::string why;
    const Precision def = auto_vision_precision(&why);
    ordered_json R;
    R["cpu"] = bench::cpu_model();
    R["threads"] = threads;
    R["kernels"] = kernels::isa_name(kernels::active_isa());
    R["model"] = random ? "full-size random checkpoint (" + model_dir + ")" : model_dir;
    R["page"] = main_page.name;
    R["tiles"] = n_tiles;
    R["gflop_per_tile"] = flops / 1e9;
    R["peaks_gops"] = {{"f32_fma", p_fma}, {amx ? "amx_tdpbf16ps" : "vdpbf16ps", p_bf16}, {avx_vnni ? "vpdpbusd_ymm" : "vpdpbusd", p_vnni}};
    R["vision_default_precision"] = precision_name(def);
    R["vision_default_reason"] = why;
    ordered_json V;
    // The f32 floor: a tile's FLOPs at the f32 FMA peak, the fastest any f32 path could be.
    const double floor_s = p_fma > 0 ? flops / (p_fma * 1e9) : 0;
    R["f32_floor_s_per_tile"] = floor_s;
    std::printf("\n%-5s %10s %8s %7s %8s %-24s %10s %10s %12s %12s %10s\n", "prec", "s/tile", "GOP/s", "x f32",
                "/floor", "instruction", "% of peak", "cos min", "cos mean", "agreement", "logit err");
    for (int p = 0; p < 3; ++p) {
      const Score& s = sc[size_t(p)];
      const double gops = flops / s.s_per_tile / 1e9, frac = pk[p] > 0 ? gops / pk[p] : 0;
      const double agree = s.positions ? double(s.agree) / double(s.positions) : 1.0;
      const double mean_err = s.logit_n > 0 ? s.logit_abs / s.logit_n : 0;
      V[s.name] = {{"s_per_tile", s.s_per_tile},
                   {"cosine_min", s.cos_min},
                   {"cosine_mean", s.tiles ? s.cos_sum / s.tiles : 1.0},
                   {"teacher_forced_agreement", agree},
                   {"teacher_forced_positions", s.positions},
                   {"speedup_vs_f32", sc[0].s_per_tile / s.s_per_tile},
                   {"page_vision_seconds", s.s_per_tile * n_tiles},
                   {"over_f32_floor", floor_s > 0 ? s.s_per_tile / floor_s : 0},
                   {"gops", gops},
                   {"instruction", instr[p]},
                   {"fraction_of_instruction_peak", frac},
                   {"logit_max_err", s.logit_max},
                   {"logit_mean_err", mean_err},
                   {"logit_mean_err_over_std", logit_std > 0 ? mean_err / logit_std : 0}};
      std::printf("%-5s %10.3f %8.1f %7.2f %8.2f %-24s %9.1f%% %10.6f %12.6f %12.4f %10.3g\n", s.name.c_str(),
                  s.s_per_tile, gops, sc[0].s_per_tile / s.s_per_tile, floor_s > 0 ? s.s_per_tile / floor_s : 0.0,
                  instr[p], 100 * frac, s.cos_min,
                  s.tiles ? s.cos_sum / s.tiles : 1.0, agree, mean_err);
    }
    R["vision_precisions"] = V;
    R["teacher_forcing"] = {{"pages", per_page}, {"tokens_per_page_max", tokens}, {"logit_std_mean", logit_std}};
    std::printf("default here: %s\n", why.c_str());
    if (!out_path.empty()) {
      std::ofstream o(out_path);
      o << R.dump(2) << "\n";
      if (!o) throw std::runtime_error(out_path + ": cannot write");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
