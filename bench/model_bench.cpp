// Speed of the VLM engine on one page with a full-size model: machine peak, stage times,
// decode tokens/s at several batch sizes, end-to-end seconds per page against the compute
// floor, thread utilization and peak memory. Prints a summary and writes a JSON report.
//
//   bench_model [--model DIR] [--threads N] [--tokens N] [--out FILE.json] [--quick]
//               [--pdf FILE --page N] [--batches 1,4,8] [--seed N] [--template DIR]
//               [--include NAME=FILE.json]...
//
// --model: a checkpoint folder used as is (the real model, the oracle's tiny one), or a cache
// folder where a random-weight checkpoint with the real shapes is generated once (default
// $DOCLING_BENCH_MODEL, else <build>/bench-model). Generation is forced to exactly --tokens
// tokens (stop tokens and the loop guard off), so every run does the same work.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <nlohmann/json.hpp>
#include <tbb/global_control.h>

#include "bench/model_probe.h"
#include "bench/random_checkpoint.h"
#include "bench/run_together.h"
#include "doctags/docling_json.h"
#include "doctags/parser.h"
#include "exporters/markdown.h"
#include "kernels/kernels.h"
#include "layout/pdf.h"
#include "bench/bench_env.h"  // env_kernel_settings, env_load_options (the library reads no env)
#include "vision/image_processor.h"
#include "vision/model.h"
#include "vision/prompt.h"
#include "vision/tokenizer.h"

using namespace docling;
using namespace docling::vision;
using namespace docling::kernels;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ordered_json = nlohmann::ordered_json;
using namespace docling::bench;

// ---------------------------------------------------------------------------------------------

struct Args {
  std::string model, out = "bench_model.json", tmpl = DOCLING_TEST_DATA "/models/granite-docling-258M";
  std::string pdf = DOCLING_SOURCE_DIR "/samples/article.pdf";
  int page = 1, threads = 0, tokens = -1;
  uint64_t seed = 1234;
  bool quick = false;
  std::vector<int> batches = {1, 4, 8};
  std::vector<std::pair<std::string, std::string>> includes;
};

static void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--model DIR] [--threads N] [--tokens N] [--out FILE.json] [--quick]\n"
               "          [--pdf FILE] [--page N] [--batches 1,4,8] [--seed N] [--template DIR]\n"
               "          [--include NAME=FILE.json]...\n",
               argv0);
}

static bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto val = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (s == "--quick") a.quick = true;
    else if (s == "-h" || s == "--help") return false;
    else if (!(v = val())) return false;
    else if (s == "--model") a.model = v;
    else if (s == "--out") a.out = v;
    else if (s == "--template") a.tmpl = v;
    else if (s == "--pdf") a.pdf = v;
    else if (s == "--page") a.page = std::atoi(v);
    else if (s == "--threads") a.threads = std::atoi(v);
    else if (s == "--tokens") a.tokens = std::atoi(v);
    else if (s == "--seed") a.seed = std::strtoull(v, nullptr, 10);
    else if (s == "--batches") a.batches = positive_list(v);
    else if (s == "--include") {
      std::string kv = v;
      size_t eq = kv.find('=');
      if (eq == std::string::npos) return false;
      a.includes.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else return false;
  }
  if (a.threads <= 0) a.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  if (a.tokens < 0) a.tokens = a.quick ? 32 : 256;
  a.tokens = std::max(a.tokens, 2);
  if (a.model.empty()) {
    const char* env = std::getenv("DOCLING_BENCH_MODEL");
    a.model = env && *env ? env : DOCLING_BENCH_MODEL_DIR;
  }
  return a.page >= 1 && !a.batches.empty();
}


// Matrix products of the model's own shapes (its weights) through kernels.h, alone: the
// GFLOP/s and weight GB/s each reaches at a few row counts. Explains stage speeds.
static ordered_json kernel_probe(const Weights& w, bool quick) {
  struct Shape {
    const char* name;
    Mat m;
  };
  const TextLayerWeights& t = w.text_layers.front();
  std::vector<Shape> shapes = {{"text_q", t.q},     {"text_gate", t.gate}, {"text_down", t.down},
                               {"lm_head", w.lm_head}, {"vision_fc1", w.vision_layers.front().fc1},
                               {"vision_fc2", w.vision_layers.front().fc2}};
  ordered_json out = ordered_json::array();
  std::vector<float> x, y;
  for (int M : {1, 8, quick ? 64 : 1024}) {
    for (const Shape& s : shapes) {
      x.assign(size_t(M) * s.m.cols, 0.01f);
      y.resize(size_t(M) * s.m.rows);
      if (M > 8 && !std::strcmp(s.name, "lm_head")) continue;  // prompts need one row of logits, not M
      double flops = 2.0 * M * s.m.rows * s.m.cols, bytes = 2.0 * s.m.rows * s.m.cols;
      // The decoder's matrices as loaded (panels) and as the file stores them (NK rows).
      for (bool panels : {true, false}) {
        if (panels && !s.m.p) continue;
        Mat m = s.m;
        if (!panels) m.p = nullptr;
        double budget = quick ? 0.05 : 0.3, spent = 0, best = 1e30;
        for (int r = 0; r < 9 && (r < 3 || spent < budget); ++r) {  // best of >= 2 after a warm-up call
          double t0 = now_s();
          linear(x.data(), M, m, nullptr, y.data());
          double dt = now_s() - t0;
          if (r > 0) best = std::min(best, dt), spent += dt;
        }
        out.push_back({{"shape", s.name}, {"layout", panels ? "panel" : "nk"}, {"M", M}, {"N", s.m.rows},
                       {"K", s.m.cols}, {"ms", best * 1e3}, {"gflops", flops / best / 1e9},
                       {"weight_gb_per_s", bytes / best / 1e9}});
      }
    }
  }
  return out;
}

static ordered_json stage_json(const Stage& s, int threads) {
  return {{"seconds", s.wall}, {"cpu_seconds", s.cpu}, {"thread_utilization", s.util(threads)}};
}

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) {
    usage(argv[0]);
    return 2;
  }
  configure(env_kernel_settings());  // DOCLING_ISA, DOCLING_BF16_DOT, ... (a program may read env)
  try {
    tbb::global_control tbb_threads(tbb::global_control::max_allowed_parallelism, size_t(a.threads));
    ordered_json R;
    R["date"] = utc_now();
    R["cpu"] = cpu_model();
    R["threads"] = a.threads;
    R["loadavg_at_start"] = loadavg();  // other work on the machine skews every number
    R["quick"] = a.quick;
    R["kernel_isa"] = isa_name(active_isa());

    // --- the model ---------------------------------------------------------------------------
    bool given = fs::is_regular_file(fs::path(a.model) / "model.safetensors") && !bench::is_random_checkpoint(a.model);
    double t_gen = 0;
    if (!given) {
      double t0 = now_s();
      if (bench::ensure_random_checkpoint(a.model, a.tmpl, a.seed)) t_gen = now_s() - t0;
    }
    R["model"] = {{"dir", fs::absolute(a.model).lexically_normal().string()},
                  {"weights", given ? "as given" : "random (real names and shapes, bf16)"}};
    if (!given) R["model"]["seed"] = a.seed, R["model"]["generate_seconds"] = t_gen;

    // --- peak ----------------------------------------------------------------------------------
    std::vector<PeakKernel> kernels = peak_kernels();
    const PeakKernel& best = kernels.front();
    int trials = a.quick ? 1 : 3;
    double sec = a.quick ? 0.05 : 0.3;
    const double peak_start = measure_peak(best, a.threads, trials, sec);
    double peak_1t = measure_peak(best, 1, trials, sec);
    double peak = peak_start;  // raised by a second measurement at the end (other load may depress one)
    R["machine_bf16_peak_gflops"] = peak;
    R["peak"] = {{"method", best.name}, {"what", best.what}, {"threads", a.threads},
                 {"gflops_all_threads_start", peak}, {"gflops_one_thread", peak_1t}};
    std::printf("peak (%s): %.1f GFLOP/s on %d threads, %.1f on one\n", best.name, peak, a.threads, peak_1t);

    Stage load;
    load.start();
    Model model = Model::load(a.model, env_load_options());
    Tokenizer tok = Tokenizer::load(a.model);
    PromptBuilder builder(tok, PromptConfig::load(a.model));
    ImageProcessorConfig pcfg = ImageProcessorConfig::load(a.model);
    load.stop();
    const ModelConfig& cfg = model.config();
    const Decoder& dec = model.decoder();
    FlopModel fm(cfg);
    R["model"]["load_seconds"] = load.wall;
    R["model"]["vision"] = {{"hidden", cfg.vision.hidden}, {"layers", cfg.vision.layers}};
    R["model"]["text"] = {{"hidden", cfg.text.hidden}, {"layers", cfg.text.layers}, {"vocab", cfg.text.vocab}};
    std::printf("model %s (%s), loaded in %.2f s; vision precision %s\n", a.model.c_str(), given ? "as given" : "random",
                load.wall, precision_name(model.weights().vision));

    auto src = open_source(a.pdf);
    const int N = a.tokens;
    GenerateOptions gopt;  // forced length: no stops, no loop guard
    gopt.max_new_tokens = N;
    gopt.stop_at_eos = false;
    gopt.loop.enabled = false;

    // --- warm-up: fault in weights, grow scratch (not timed) ------------------------------------
    PixelTiles tiles;
    if (!a.quick) {
      Image img = src->render(a.page, 144);
      preprocess_image(img, pcfg, {}, tiles);
      Stage one;
      one.start();
      std::vector<float> f = model.encode_tiles(tiles.tile(tiles.n_tiles - 1), 1);
      one.stop();
      R["vision_single_tile"] = stage_json(one, a.threads);
      R["vision_single_tile"]["gflops"] = fm.vision_tile() / one.wall / 1e9;
      Prompt p = builder.build_text("Convert this page to docling.");
      GenerateOptions w = gopt;
      w.max_new_tokens = 2;
      model.generate(p.ids, nullptr, 0, w);
    }

    // --- one page end to end ------------------------------------------------------------------
    Stage render, pre, prompt_s, vision, prefill, decode, parse, exp, total;
    total.start();
    render.start();
    Image img = src->render(a.page, 144);
    render.stop();
    pre.start();
    preprocess_image(img, pcfg, {}, tiles);
    pre.stop();
    prompt_s.start();
    Prompt prompt = builder.build(Task::ConvertPage, tiles.rows, tiles.cols);
    prompt_s.stop();
    vision.start();
    std::vector<float> feats = model.encode_tiles(tiles.pixels.data(), tiles.n_tiles);
    vision.stop();

    const int P = int(prompt.ids.size());
    int max_batch = *std::max_element(a.batches.begin(), a.batches.end());
    KVCache cache(cfg.text, std::max(max_batch, 1), P + N + 2, model.decoder().kv_type());
    DecoderWorkspace ws;
    bool first = true;
    gopt.on_token = [&](int32_t) {
      if (first) prefill.stop(), decode.start(), first = false;
    };
    prefill.start();
    GenerateResult gen = generate_greedy(dec, ws, cache, 0, prompt.ids.data(), P, feats.data(),
                                         tiles.n_tiles * cfg.image_seq_len, gopt);
    decode.stop();

    parse.start();
    std::vector<int32_t> valid;
    for (int32_t id : gen.tokens)
      if (tok.valid_id(id)) valid.push_back(id);
    std::string doctags = tok.decode(valid);
    Document doc;
    DocTagsParseOptions po;
    po.embed_page_images = false;  // docling's default: no page images in the output
    DocTagsReport rep;
    add_doctags_page(doc, doctags, &img, po, &rep);
    parse.stop();
    exp.start();
    std::string md = export_markdown(doc);
    std::string json = write_docling_json(doc);
    exp.stop();
    total.stop();
    double rss_page = peak_rss_mb();

    int gen_n = int(gen.tokens.size());
    double vision_flops = tiles.n_tiles * fm.vision_tile();
    double prefill_flops = fm.prefill(P);
    double decode_flops = 0;
    for (int i = 1; i < gen_n; ++i) decode_flops += fm.decode_step(P + i - 1);
    double page_flops = vision_flops + prefill_flops + decode_flops;
    double vision_gflops = vision_flops / vision.wall / 1e9;

    R["page"] = {{"pdf", a.pdf}, {"page", a.page}, {"render_dpi", 144}, {"width", img.width},
                 {"height", img.height}, {"grid", std::to_string(tiles.rows) + "x" + std::to_string(tiles.cols)},
                 {"tiles", tiles.n_tiles}, {"prompt_tokens", P}, {"generated_tokens", gen_n},
                 {"doctags_bytes", doctags.size()}, {"items", doc.texts.size() + doc.tables.size() + doc.pictures.size()},
                 {"parse_warnings", rep.warnings.size()}, {"markdown_bytes", md.size()}, {"json_bytes", json.size()}};
    R["flops"] = {{"vision_per_tile", fm.vision_tile()}, {"encoder_per_tile", fm.encoder_tile},
                  {"connector_per_tile", fm.connector_tile}, {"vision_page", vision_flops},
                  {"prefill_page", prefill_flops}, {"decode_per_token_at_prompt", fm.decode_step(P)},
                  {"decode_page", decode_flops}, {"page", page_flops},
                  {"counted", "matrix products and attention (2 per multiply-add); norms, activations, softmax, "
                              "RoPE not counted"}};
    R["stages"] = {{"render", stage_json(render, a.threads)},         {"preprocess", stage_json(pre, a.threads)},
                   {"prompt", stage_json(prompt_s, a.threads)},       {"vision", stage_json(vision, a.threads)},
                   {"prefill", stage_json(prefill, a.threads)},       {"decode", stage_json(decode, a.threads)},
                   {"parse", stage_json(parse, a.threads)},           {"export", stage_json(exp, a.threads)},
                   {"total", stage_json(total, a.threads)}};
    R["preprocess_seconds"] = pre.wall;
    R["vision_seconds_per_tile"] = vision.wall / tiles.n_tiles;
    R["vision_gflops"] = vision_gflops;
    auto derive = [&] {  // the fields that depend on the peak
      R["machine_bf16_peak_gflops"] = peak;
      R["vision_fraction_of_peak"] = vision_gflops / peak;
      R["vision_fraction_of_peak_per_cpu_second"] = vision_flops / (vision.cpu * std::max(peak_1t, peak / a.threads) * 1e9);
      R["compute_floor_seconds_per_page"] = page_flops / (peak * 1e9);
      R["seconds_per_page_over_floor"] = total.wall * peak * 1e9 / page_flops;
    };
    derive();
    R["prefill_tokens_per_s"] = P / prefill.wall;
    R["prefill_gflops"] = prefill_flops / prefill.wall / 1e9;
    R["decode_tokens_per_s_in_page"] = (gen_n - 1) / decode.wall;
    R["seconds_per_page"] = total.wall;
    R["seconds_per_page_covers"] = "render at 144 dpi, preprocess, prompt, vision, prefill, " + std::to_string(N) +
                                   " generated tokens at batch 1, parse, export (Markdown + JSON); one page at a time";
    R["pages_per_hour"] = 3600.0 / total.wall;
    R["thread_utilization"] = total.util(a.threads);
    R["peak_rss_mb_one_page"] = rss_page;

    std::printf("page %s p%d: %dx%d px, %d tiles (%dx%d + global), prompt %d tokens, %d generated\n",
                a.pdf.c_str(), a.page, img.width, img.height, tiles.n_tiles, tiles.rows, tiles.cols, P, gen_n);
    std::printf("  %-10s %9s %9s %6s\n", "stage", "seconds", "cpu s", "util");
    for (auto& [name, s] : std::vector<std::pair<const char*, Stage*>>{
             {"render", &render}, {"preprocess", &pre}, {"prompt", &prompt_s}, {"vision", &vision},
             {"prefill", &prefill}, {"decode", &decode}, {"parse", &parse}, {"export", &exp}, {"total", &total}})
      std::printf("  %-10s %9.3f %9.3f %5.0f%%\n", name, s->wall, s->cpu, 100 * s->util(a.threads));
    std::printf("vision: %.3f s/tile, %.1f GFLOP/s (%.1f GFLOP/tile)\n", vision.wall / tiles.n_tiles, vision_gflops,
                fm.vision_tile() / 1e9);
    std::printf("prefill: %.1f tokens/s (%.1f GFLOP/s); decode in page: %.1f tokens/s\n", P / prefill.wall,
                prefill_flops / prefill.wall / 1e9, (gen_n - 1) / decode.wall);
    std::printf("page: %.2f s (%.0f pages/hour), %.1f GFLOP\n", total.wall, 3600.0 / total.wall, page_flops / 1e9);

    // --- batched decoding ---------------------------------------------------------------------
    // Every slot continues the page's prompt: copy its K/V from slot 0 (the prompt's prefix).
    for (int s = 1; s < cache.slots; ++s) cache.copy_slot(s, 0);
    int steps = a.quick ? std::min(N, 16) : N, rounds = a.quick ? 2 : 8;
    std::vector<BatchDecode> runs;
    for (int B : a.batches) runs.emplace_back(dec, ws, cache, B, P, gen.tokens);
    for (int r = 0; r < rounds; ++r)
      for (BatchDecode& bd : runs) bd.run(dec, ws, cache, steps * (r + 1) / rounds - steps * r / rounds);
    ordered_json dec_tps, dec_json = ordered_json::object();
    double tps1 = 0, tps8 = 0;
    double wbytes = decoder_weight_bytes(cfg, dec.screens_head());
    // Roofline of a step: the larger of its FLOPs at the peak and its bytes (weights + K/V) at
    // the measured read bandwidth; the fraction is that time over the measured one.
    // The engine's peak memory, read before the bandwidth probe: the probe's buffer is the bench's own.
    const double rss = peak_rss_mb();
    const double bw = measure_read_bandwidth(a.threads, a.quick ? 256 : 1024, a.quick ? 2 : 4);
    R["memory_read_gb_per_s"] = bw;
    std::printf("memory read bandwidth: %.1f GB/s on %d threads\n", bw, a.threads);
    std::printf("decode, %d steps from a %d-token context (%d interleaved rounds):\n  %5s %12s %12s %9s %8s %8s %6s %9s\n",
                steps, P, rounds, "batch", "tok/s/seq", "tok/s total", "GFLOP/s", "GB/s w", "GB/s all", "util",
                "roofline");
    for (const BatchDecode& br : runs) {
      int B = br.B;
      double per_seq = steps / br.stage.wall, agg = B * per_seq;
      double bytes = br.bytes, roof_s = br.roofline_seconds(peak, bw), roof = roof_s / br.stage.wall;
      if (B == 1) tps1 = agg;
      if (B == 8) tps8 = agg;
      dec_tps[std::to_string(B)] = agg;
      dec_json[std::to_string(B)] = {{"steps", steps},
                                     {"seconds", br.stage.wall},
                                     {"tokens_per_s_per_sequence", per_seq},
                                     {"tokens_per_s_aggregate", agg},
                                     {"ms_per_step", 1e3 * br.stage.wall / steps},
                                     {"gflops", br.flops / br.stage.wall / 1e9},
                                     {"weight_gb_per_s", wbytes * steps / br.stage.wall / 1e9},
                                     {"bytes_per_s", bytes / br.stage.wall},
                                     {"thread_utilization", br.stage.util(a.threads)},
                                     {"roofline_seconds", roof_s},
                                     {"roofline_fraction", roof},
                                     {"roofline_bound", br.compute_bound(peak, bw) ? "compute" : "memory"}};
      std::printf("  %5d %12.1f %12.1f %9.1f %8.1f %8.1f %5.0f%% %8.0f%%\n", B, per_seq, agg, br.flops / br.stage.wall / 1e9,
                  wbytes * steps / br.stage.wall / 1e9, bytes / br.stage.wall / 1e9, 100 * br.stage.util(a.threads),
                  100 * roof);
    }
    R["decode_tokens_per_s"] = dec_tps;
    R["decode"] = dec_json;
    R["decode"]["context_tokens"] = P;
    R["decode"]["decoder_weight_bytes_per_step"] = wbytes;
    if (tps1 > 0 && tps8 > 0) R["decode_batch8_over_batch1"] = tps8 / tps1;

    // Pages/hour if decoding ran at the batch-8 aggregate rate (continuous batching), the
    // other stages unchanged: an estimate, not a measurement.
    if (tps8 > 0) {
      double s = total.wall - decode.wall + (gen_n - 1) / tps8;
      R["pages_per_hour_estimate_batch8_decode"] = 3600.0 / s;
    }

    double peak_end = measure_peak(best, a.threads, trials, sec);
    peak = std::max(peak_start, peak_end);
    peak_1t = std::max(peak_1t, measure_peak(best, 1, trials, sec));
    R["peak"]["gflops_one_thread"] = peak_1t;
    R["peak"]["gflops_all_threads_end"] = peak_end;
    derive();
    double floor_s = page_flops / (peak * 1e9);
    std::printf("peak again: %.1f GFLOP/s; using %.1f\n", peak_end, peak);
    std::printf("vision %.0f%% of peak (%.0f%% per CPU-second received); page %.2f s vs compute floor %.2f s: %.2fx\n",
                100 * vision_gflops / peak, 100 * vision_flops / (vision.cpu * std::max(peak_1t, peak / a.threads) * 1e9), total.wall, floor_s,
                total.wall / floor_s);
    R["kernel_probe"] = kernel_probe(model.weights(), a.quick);
    std::printf("kernel probe (linear(), model shapes):\n");
    for (const auto& k : R["kernel_probe"])
      if (k["M"] <= 8 || k["shape"] == "vision_fc1")
        std::printf("  %-10s %-5s M=%-5d %5dx%-5d %8.3f ms %7.1f GFLOP/s %6.1f GB/s\n",
                    k["shape"].get<std::string>().c_str(), k["layout"].get<std::string>().c_str(), k["M"].get<int>(),
                    k["N"].get<int>(), k["K"].get<int>(), k["ms"].get<double>(), k["gflops"].get<double>(),
                    k["weight_gb_per_s"].get<double>());
    R["peak_rss_mb"] = rss;
    R["peak_rss_note"] = "VmHWM of the whole run: weights (mmap) + one page + KV cache of " +
                         std::to_string(max_batch) + " sequences";

    for (auto& [name, path] : a.includes) {
      std::ifstream in(path);
      auto j = ordered_json::parse(in, nullptr, false);
      if (j.is_discarded()) throw std::runtime_error(path + ": not valid JSON (--include " + name + ")");
      if (name == "text_layer" && j.contains("pages_per_s")) {
        R["text_layer_pages_per_s"] = j["pages_per_s"];
        R["text_layer"] = {{"dir", j.value("dir", "")}, {"pages", j.value("total_pages", 0)},
                           {"seconds", j.value("total_s", 0.0)}, {"pages_per_s", j["pages_per_s"]},
                           {"note", "one thread, best of repeats per document"}};
      } else {
        R[name] = j;
      }
    }

    // End to end through the convert scheduler (bench/run's fixed-page pipeline run): the
    // page time and memory the issue asks about; the one-page batch-1 numbers stay beside it.
    double page_s = total.wall, peak_rss = rss;
    std::string rss_what = "VmHWM: weights (mmap) + one page + KV cache of " + std::to_string(max_batch) + " sequences";
    if (R.contains("pipeline") && R["pipeline"].contains("seconds_per_page")) {
      const auto& p = R["pipeline"];
      const double per_page_tokens = p.value("generated_tokens", 0) / std::max(1.0, p.value("pages", 1) * 1.0);
      if (per_page_tokens < 0.9 * N)
        std::printf("warning: the pipeline run generated %.0f tokens per page, not %d\n", per_page_tokens, N);
      page_s = p["seconds_per_page"].get<double>();
      peak_rss = std::max(rss, p.value("peak_rss_mb", 0.0));
      rss_what = "VmHWM of the pipeline run (" + std::to_string(p.value("max_pages_in_flight", 0)) +
                 " pages in flight, batch " + std::to_string(p.value("batch", 0)) + ") and of this run";
      R["seconds_per_page_single"] = total.wall;
      R["seconds_per_page"] = page_s;
      R["seconds_per_page_covers"] = std::to_string(p.value("pages", 0)) + " one-page documents (the same page, " +
                                     std::to_string(int(per_page_tokens + 0.5)) +
                                     " tokens each) through the convert scheduler: render, preprocess, vision, "
                                     "prefill, continuous-batching decode at batch " + std::to_string(p.value("batch", 0)) +
                                     ", parse, export, write; wall time / pages";
      R["pages_per_hour"] = 3600.0 / page_s;
      R["seconds_per_page_over_floor"] = page_s / floor_s;
      R["peak_rss_mb"] = peak_rss;
      R["peak_rss_note"] = rss_what;
      std::printf("pipeline: %.2f s per page (%.0f pages/hour) vs floor %.2f s: %.2fx; peak RSS %.0f MB\n", page_s,
                  3600.0 / page_s, floor_s, page_s / floor_s, p.value("peak_rss_mb", 0.0));
    }

    auto target = [&](const char* what, double measured, double goal, bool at_least) {
      return ordered_json{{"what", what}, {"target", goal}, {"measured", measured},
                          {"met", at_least ? measured >= goal : measured <= goal}};
    };
    R["targets"] = {
        {"vision_fraction_of_peak", target(">= 0.60", vision_gflops / peak, 0.60, true)},
        {"decode_batch8_over_batch1", target(">= 4", tps1 > 0 && tps8 > 0 ? tps8 / tps1 : 0.0, 4.0, true)},
        {"seconds_per_page_over_floor", target("<= 1.5", page_s / floor_s, 1.5, false)},
        {"peak_rss_mb", target("<= 1536 (issue: with 8 pages in flight)", peak_rss, 1536, false)}};
    std::printf("peak RSS %.0f MB (%.0f MB after the page)\n", rss, rss_page);
    std::printf("targets: vision %.0f%% of peak (>= 60%%), batch-8/batch-1 %.2fx (>= 4x), page/floor %.2fx (<= 1.5x), "
                "RSS %.0f MB (<= 1536)\n",
                100 * vision_gflops / peak, tps1 > 0 && tps8 > 0 ? tps8 / tps1 : 0.0, page_s / floor_s, peak_rss);

    std::string tmp = a.out + ".tmp";
    {
      std::ofstream o(tmp);
      o << R.dump(2) << "\n";
      if (!o) throw std::runtime_error(a.out + ": cannot write");
    }
    fs::rename(tmp, a.out);
    std::printf("report: %s\n", a.out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
