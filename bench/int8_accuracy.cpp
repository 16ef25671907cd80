// Accuracy and speed of the INT8 weight mode against BF16 on a full-size random checkpoint
// (bench/random_checkpoint.h): one 512x512 tile through vision + connector, then a prompt
// with its 64 image rows and `steps` greedy tokens.
//
//   bench_int8_accuracy [MODEL_DIR] [--steps N] [--group G]
//
// Prints: image-feature error; logit error (max, mean, relative to the logits' spread) and
// top-1 agreement with INT8 teacher-forced on the BF16 greedy ids; how far a free INT8 greedy
// run follows the BF16 one; seconds per tile and decode tokens/s of both modes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/random_checkpoint.h"
#include "kernels/kernels.h"
#include "vision/model.h"

using namespace docling::vision;
using namespace docling::kernels;
using docling::bf16_to_f32;
using docling::f32_to_bf16;
using docling::f16_to_f32;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Teacher-forced logits of `m` on prompt + forced ids (the last forced id is not fed).
std::vector<float> forced_logits(const Model& m, const std::vector<int32_t>& prompt, const float* feats, int n_feat,
                                 const std::vector<int32_t>& forced, double* decode_s) {
  const int V = m.config().text.vocab, H = m.config().text.hidden, n = int(prompt.size());
  const int steps = int(forced.size());
  KVCache cache(m.config().text, 1, n + steps, KvType::F32);
  DecoderWorkspace ws;
  std::vector<float> emb(size_t(n) * H), all(size_t(steps) * V);
  m.decoder().embed(prompt.data(), n, feats, n_feat, emb.data());
  std::vector<int32_t> slots(size_t(n), 0);
  int32_t last = n - 1;
  m.decoder().forward(ws, cache, emb.data(), slots.data(), n, &last, 1, all.data());
  double t0 = now();
  for (int s = 1; s < steps; ++s) {
    int32_t row = 0;
    m.decoder().embed_ids(&forced[size_t(s - 1)], 1, emb.data());
    m.decoder().forward(ws, cache, emb.data(), slots.data(), 1, &row, 1, all.data() + size_t(s) * V);
  }
  *decode_s = now() - t0;
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = DOCLING_BENCH_MODEL_DIR;
  int steps = 64, group = 64;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) steps = std::max(2, std::atoi(argv[++i]));
    else if (a == "--group" && i + 1 < argc) group = std::atoi(argv[++i]);
    else if (a[0] != '-') dir = a;
    else {
      std::fprintf(stderr, "usage: %s [MODEL_DIR] [--steps N] [--group G]\n", argv[0]);
      return 2;
    }
  }
  try {
    docling::bench::ensure_random_checkpoint(dir, DOCLING_TEST_DATA "/models/granite-docling-258M");
    LoadOptions lo;
    lo.weights = WeightType::BF16;
    Model bf = Model::load(dir, lo);
    lo.weights = WeightType::INT8;
    lo.int8_group = group;
    double t = now();
    Model q8 = Model::load(dir, lo);
    std::printf("INT8 load (quantize, group %d): %.2f s\n", group, now() - t);
    const ModelConfig& c = bf.config();
    const int S = c.vision.image_size, rows = c.image_seq_len, V = c.text.vocab;
    // a smooth deterministic "page" tile in [-1, 1]
    std::vector<float> tile(size_t(3) * S * S);
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < S; ++y)
        for (int x = 0; x < S; ++x)
          tile[(size_t(ch) * S + y) * S + x] = std::sin(0.05f * x + 0.3f * ch) * std::cos(0.031f * y) * 0.9f;
    t = now();
    auto fb = bf.encode_tiles(tile.data(), 1);
    double vis_bf = now() - t;
    t = now();
    auto fq = q8.encode_tiles(tile.data(), 1);
    double vis_q8 = now() - t;
    double fe = 0, fs = 0, fmax = 0;
    for (size_t i = 0; i < fb.size(); ++i) {
      fmax = std::max(fmax, double(std::fabs(fb[i] - fq[i])));
      fe += std::fabs(fb[i] - fq[i]);
      fs += std::fabs(fb[i]);
    }
    std::printf("image features: max |int8 - bf16| %.3g, mean %.3g (mean |bf16| %.3g)\n", fmax, fe / fb.size(),
                fs / fb.size());
    // prompt: role header, the tile's image rows, an instruction, the assistant header
    std::vector<int32_t> prompt = {100264, 882, 100265, 100339, 100340};
    for (int i = 0; i < rows; ++i) prompt.push_back(c.image_token_id);
    for (int32_t id : {100339, 12281, 420, 2199, 311, 4733, 2785, 13, 100257, 198, 100264, 78191, 100265})
      prompt.push_back(id);
    GenerateOptions o;
    o.max_new_tokens = steps;
    o.stop_at_eos = false;
    o.loop.enabled = false;
    std::vector<float> ref;
    o.on_logits = [&](int, const float* l, int v) { ref.insert(ref.end(), l, l + v); };
    t = now();
    GenerateResult rb = bf.generate(prompt, fb.data(), rows, o);
    double gen_bf = now() - t;
    o.on_logits = nullptr;
    t = now();
    GenerateResult rq = q8.generate(prompt, fb.data(), rows, o);  // same features: decoder error only
    double gen_q8 = now() - t;
    double dec_bf = 0, dec_q8 = 0;
    auto got = forced_logits(q8, prompt, fb.data(), rows, rb.tokens, &dec_q8);
    forced_logits(bf, prompt, fb.data(), rows, rb.tokens, &dec_bf);
    double emax = 0, esum = 0, s1 = 0, s2 = 0;
    int agree = 0;
    for (int s = 0; s < steps; ++s) {
      const float* a = got.data() + size_t(s) * V;
      const float* b = ref.data() + size_t(s) * V;
      for (int i = 0; i < V; ++i) {
        double d = std::fabs(a[i] - b[i]);
        emax = std::max(emax, d);
        esum += d;
        s1 += b[i];
        s2 += double(b[i]) * b[i];
      }
      agree += argmax(a, V) == rb.tokens[size_t(s)];
    }
    const double n = double(steps) * V, mean = s1 / n, sd = std::sqrt(std::max(0.0, s2 / n - mean * mean));
    int prefix = 0, same = 0;
    while (prefix < steps && rq.tokens[size_t(prefix)] == rb.tokens[size_t(prefix)]) ++prefix;
    for (int s = 0; s < steps; ++s) same += rq.tokens[size_t(s)] == rb.tokens[size_t(s)];
    std::printf("logits (teacher-forced on the bf16 ids, %d steps): max err %.3g, mean err %.3g, logit std %.3g "
                "(mean err / std %.3g)\n", steps, emax, esum / n, sd, esum / n / sd);
    std::printf("greedy: teacher-forced top-1 agreement %d/%d; free int8 run equals bf16 for the first %d ids "
                "(%d/%d positions equal)\n", agree, steps, prefix, same, steps);
    std::printf("speed: vision %.2f s/tile bf16, %.2f s/tile int8; decode %.1f tok/s bf16, %.1f tok/s int8 "
                "(generate incl. prefill: %.2f s bf16, %.2f s int8)\n", vis_bf, vis_q8,
                (steps - 1) / dec_bf, (steps - 1) / dec_q8, gen_bf, gen_q8);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
