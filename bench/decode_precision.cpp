// The decoder's decode-step products with bf16 activations (LoadOptions::decode = BF16:
// vdpbf16ps on AVX512-BF16 CPUs) against the exact f32 path, on one checkpoint: the accuracy
// budget a default must meet, and the speed of a decode step.
//
//   bench_decode_precision [--model DIR] [--pages N] [--tokens N] [--threads N] [--out FILE.json]
//
// --model: a checkpoint folder (default: the full-size random checkpoint, made if missing).
// Teacher forcing over docling's ground-truth DocTags (tests/data/pdfs/*.doctags, the first
// --pages documents, first page, first --tokens tokens): the page's image features (one
// vision pass, shared), the prompt as one prefill (f32 in both: more than 16 rows), then the
// DocTags tokens one decode step at a time, as generation runs them. At every position the
// argmax of the bf16 run is compared with the f32 run's (agreement), with the logit error
// (max, mean / the logits' std). Speed: ms per decode step at batch 1, 4 and 8 (878-token
// context), both paths interleaved.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <tbb/global_control.h>

#include "bench/forced_pages.h"
#include "bench/model_probe.h"
#include "bench/random_checkpoint.h"
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

using bench::ForcedPage;

// Logits (V per position) of the positions that predict forced[0..T): the prompt in one
// forward (its last row's logits), then forced[0..T-1) one token per step.
std::vector<float> stepped_logits(const Model& m, const ForcedPage& p, const std::vector<float>& feats) {
  const ModelConfig& c = m.config();
  const Decoder& dec = m.decoder();
  const int P = int(p.prompt.ids.size()), T = int(p.forced.size()), V = c.text.vocab, H = c.text.hidden;
  std::vector<float> emb(size_t(P) * H), logits(size_t(T) * V);
  dec.embed(p.prompt.ids.data(), P, feats.data(), p.tiles.n_tiles * c.image_seq_len, emb.data());
  KVCache cache(c.text, 1, P + T + 1, KvType::F16);
  DecoderWorkspace ws;
  std::vector<int32_t> slots(size_t(P), 0);
  int32_t last = P - 1;
  dec.forward(ws, cache, emb.data(), slots.data(), P, &last, 1, logits.data());
  for (int t = 0; t + 1 < T; ++t) {
    dec.embed_ids(&p.forced[size_t(t)], 1, emb.data());
    int32_t slot = 0, row = 0;
    dec.forward(ws, cache, emb.data(), &slot, 1, &row, 1, logits.data() + size_t(t + 1) * V);
  }
  return logits;
}

struct Score {
  int64_t agree = 0, positions = 0;
  double logit_max = 0, logit_abs = 0, logit_n = 0, std_sum = 0;
  int pages = 0;
};

// ms per decode step of B sequences holding `ctx` tokens, over `steps` steps.
double step_ms(const Model& m, int B, int ctx, int steps) {
  const Decoder& dec = m.decoder();
  KVCache cache(m.config().text, B, ctx + steps + 2, KvType::F16);
  DecoderWorkspace ws;
  std::vector<int32_t> seed = {100, 200, 300, 400, 500, 600, 700, 800};
  bench::BatchDecode bd(dec, ws, cache, B, ctx, seed);
  bd.run(dec, ws, cache, steps);
  return 1e3 * bd.stage.wall / steps;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir = DOCLING_BENCH_MODEL_DIR, out_path;
  int pages = 3, tokens = 256, threads = int(std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--model") model_dir = next();
    else if (a == "--pages") pages = std::max(0, std::atoi(next().c_str()));
    else if (a == "--tokens") tokens = std::max(2, std::atoi(next().c_str()));
    else if (a == "--threads") threads = std::max(1, std::atoi(next().c_str()));
    else if (a == "--out") out_path = next();
    else {
      std::fprintf(stderr, "usage: %s [--model DIR] [--pages N] [--tokens N] [--threads N] [--out FILE.json]\n", argv[0]);
      return 2;
    }
  }
  try {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
    const bool random = !fs::exists(fs::path(model_dir) / "model.safetensors") || bench::is_random_checkpoint(model_dir);
    if (random) bench::ensure_random_checkpoint(model_dir, DOCLING_TEST_DATA "/models/granite-docling-258M");
    LoadOptions lo;
    lo.vision = Precision::BF16;  // the features only feed both decoders: the fast vision path
    const Model exact = Model::load(model_dir, lo);
    lo.decode = Precision::BF16;
    const Model bf16 = Model::load(model_dir, lo);
    const ModelConfig& cfg = exact.config();
    const bool native = kernels::has_avx512_bf16();
    std::printf("CPU %s, %d threads, kernels %s; bf16 decode products %s\n", bench::cpu_model().c_str(), threads,
                kernels::isa_name(kernels::active_isa()), native ? "through vdpbf16ps" : "run as f32 here (no AVX512-BF16)");

    Tokenizer tok = Tokenizer::load(model_dir);
    PromptBuilder builder(tok, PromptConfig::load(model_dir));
    ImageProcessorConfig pcfg = ImageProcessorConfig::load(model_dir);
    Score sc;
    ordered_json per_page = ordered_json::array();
    for (const fs::path& d : bench::doctags_documents(pages)) {
      ForcedPage pg;
      if (!bench::load_forced_page(d, tok, builder, pcfg, tokens, pg)) continue;
      const std::vector<float> feats = exact.encode_tiles(pg.tiles.pixels.data(), pg.tiles.n_tiles);
      const std::vector<float> ref = stepped_logits(exact, pg, feats), got = stepped_logits(bf16, pg, feats);
      const int V = cfg.text.vocab, T = int(pg.forced.size());
      int agree = 0;
      double s1 = 0, s2 = 0;
      for (int t = 0; t < T; ++t) {
        const float *r = ref.data() + size_t(t) * V, *g = got.data() + size_t(t) * V;
        agree += kernels::argmax(r, V) == kernels::argmax(g, V);
        for (int i = 0; i < V; ++i) {
          const double e = std::fabs(double(g[i]) - r[i]);
          sc.logit_max = std::max(sc.logit_max, e);
          sc.logit_abs += e;
          s1 += r[i], s2 += double(r[i]) * r[i];
        }
      }
      const double n = double(T) * V, sd = std::sqrt(std::max(0.0, s2 / n - (s1 / n) * (s1 / n)));
      sc.logit_n += n, sc.std_sum += sd, sc.pages++;
      sc.agree += agree, sc.positions += T;
      per_page.push_back({{"document", pg.name}, {"tiles", pg.tiles.n_tiles}, {"tokens", T},
                          {"agreement", double(agree) / T}, {"logit_std", sd}});
      std::printf("  %-28s %2d tiles %4d tokens: agreement %.4f (logit std %.3g)\n", pg.name.c_str(), pg.tiles.n_tiles,
                  T, double(agree) / T, sd);
    }
    const double agreement = sc.positions ? double(sc.agree) / double(sc.positions) : 0;
    const double logit_std = sc.pages ? sc.std_sum / sc.pages : 0, mean_err = sc.logit_n ? sc.logit_abs / sc.logit_n : 0;
    std::printf("teacher-forced agreement %.4f over %lld positions; logit error max %.4g, mean %.4g (logits' std %.3g)\n",
                agreement, (long long)sc.positions, sc.logit_max, mean_err, logit_std);

    ordered_json speed = ordered_json::object();
    std::printf("  %5s %12s %12s %8s\n", "batch", "f32 ms/step", "bf16 ms/step", "speedup");
    for (int B : {1, 4, 8}) {
      double f = 1e30, b = 1e30;
      for (int r = 0; r < 3; ++r) {  // interleaved: other load hits both alike
        f = std::min(f, step_ms(exact, B, 878, 16));
        b = std::min(b, step_ms(bf16, B, 878, 16));
      }
      speed[std::to_string(B)] = {{"f32_ms_per_step", f}, {"bf16_ms_per_step", b}};
      std::printf("  %5d %12.2f %12.2f %7.2fx\n", B, f, b, f / b);
    }
    ordered_json R;
    R["cpu"] = bench::cpu_model();
    R["threads"] = threads;
    R["kernels"] = kernels::isa_name(kernels::active_isa());
    R["bf16_native"] = native;
    R["model"] = random ? "full-size random checkpoint (" + model_dir + ")" : model_dir;
    R["teacher_forced_agreement"] = agreement;
    R["teacher_forced_positions"] = sc.positions;
    R["logit_error_max"] = sc.logit_max;
    R["logit_error_mean"] = mean_err;
    R["logit_std_mean"] = logit_std;
    R["pages"] = per_page;
    R["decode_ms_per_step"] = speed;
    if (!out_path.empty()) std::ofstream(out_path) << R.dump(1) << "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_decode_precision: %s\n", e.what());
    return 1;
  }
  return 0;
}
