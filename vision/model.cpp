#include "vision/model.h"

#include <algorithm>
#include <string>

#include "kernels/kernels.h"

#include "vision/connector.h"
#include "vision/encoder.h"
#include "vision/model_files.h"

namespace docling::vision {

// The table behind auto_vision_precision: one row per CPU class measured with
// bench_vision_precision (speed per precision and the accuracy budget, bench/README.md).
// A class matches on the vendor and the kernels' features at the active level; the first
// row that matches wins, and a CPU no row names gets F32.
namespace {

struct CpuClass {
  const char* name;
  bool amd;         // vendor AMD (else Intel); only rows measured on that vendor
  bool avx512_bf16;  // vdpbf16ps usable (has_avx512_bf16)
  bool vnni;         // the int8 products use vpdpbusd (i8_uses_vnni)
  bool amx;          // the bf16 products and attention run on AMX tiles (has_amx_bf16)
  Precision pick;
  const char* why;
};

constexpr CpuClass kCpuClasses[] = {
    // 2-core AMD EPYC Zen 4 (family 25 model 17), full-size random checkpoint, article.pdf p1,
    // quiet: bf16 (products and attention) 1.68x f32 with 99.74% teacher-forced agreement
    // (cosine min 0.999996); int8 2.21x but 96.7% agreement (cosine min 0.99983): outside the budget.
    {"AMD Zen 4 class (AVX-512, AVX512-BF16, AVX512-VNNI)", true, true, true, false, Precision::BF16,
     "measured: 1.68x f32, 99.7% teacher-forced agreement; int8 2.2x but 96.7%"},
    // 2-core Intel Xeon with AMX (family 6 model 167 under KVM), same checkpoint and page: bf16
    // (products and attention on AMX tiles) 4.1-4.4x f32 with 99.74% teacher-forced agreement over
    // 768 tokens (cosine min 0.999996); int8 (vpdpbusd) 2.1x but 96.7%: outside the budget.
    {"Intel AMX class (AVX512-BF16, AMX-BF16)", false, true, true, true, Precision::BF16,
     "measured: 4.1-4.4x f32 on AMX tiles, 99.7% teacher-forced agreement; int8 2.1x but 96.7%"},
    // Intel with AVX512-BF16 and no AMX tiles (or AMX switched off): vdpbf16ps measured at half the
    // f32 FMA rate on an Emerald Rapids core (bench/README.md); int8 not measured there.
    {"Intel AVX512-BF16 class without AMX", false, true, true, false, Precision::F32,
     "vdpbf16ps measured slower than f32 FMA; int8 not measured"},
};

}  // namespace

Precision auto_vision_precision(std::string* why) {
  __builtin_cpu_init();
  const bool amd = __builtin_cpu_is("amd") != 0;
  const bool bf16 = kernels::has_avx512_bf16(), vnni = kernels::i8_uses_vnni(), amx = kernels::has_amx_bf16();
  for (const CpuClass& c : kCpuClasses)
    if (c.amd == amd && c.avx512_bf16 == bf16 && c.vnni == vnni && c.amx == amx) {
      if (why) *why = std::string(c.name) + ": " + precision_name(c.pick) + " (" + c.why + ")";
      return c.pick;
    }
  if (why)
    *why = std::string("f32 (no measurement for this CPU class: ") + (amd ? "AMD" : "not AMD") +
           ", kernels " + kernels::isa_name(kernels::active_isa()) + (bf16 ? ", AVX512-BF16" : "") +
           (vnni ? ", AVX512-VNNI" : "") + (amx ? ", AMX-BF16" : "") + ")";
  return Precision::F32;
}

struct Model::Impl {
  ModelConfig cfg;
  Weights w;
  std::unique_ptr<Decoder> dec;  // points at cfg and w, which never move (Impl is heap-held)
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(const std::string& dir) { return load(dir, LoadOptions{}); }

Model Model::load(const std::string& dir, const LoadOptions& opt) { return load(ModelFiles::read(dir), opt); }

Model Model::load(const ModelFiles& files, const LoadOptions& opt) {
  auto impl = std::make_unique<Impl>();
  impl->cfg = load_config(files);
  impl->w = Weights::load(files.dir(), impl->cfg, opt.weights, opt.int8_group, opt.vision, opt.decode, opt.screen_head);
  impl->dec = std::make_unique<Decoder>(impl->cfg, impl->w, opt.kv);
  return Model(std::move(impl));
}

const ModelConfig& Model::config() const { return impl_->cfg; }
const Weights& Model::weights() const { return impl_->w; }
const Decoder& Model::decoder() const { return *impl_->dec; }

std::vector<float> Model::encode_tiles(const float* tiles, int n_tiles, const Tap* tap) const {
  const ModelConfig& c = impl_->cfg;
  std::vector<float> hidden(size_t(n_tiles) * c.vision.num_patches() * c.vision.hidden);
  std::vector<float> out(size_t(n_tiles) * c.image_seq_len * c.text.hidden);
  if (n_tiles <= 0) return out;
  encode_vision(c, impl_->w, tiles, n_tiles, hidden.data(), tap);
  run_connector(c, impl_->w, hidden.data(), n_tiles, out.data(), tap);
  return out;
}

GenerateResult Model::generate(const std::vector<int32_t>& prompt, const float* image_features, int n_image_rows,
                               const GenerateOptions& opt, const Tap* tap) const {
  const TextConfig& t = impl_->cfg.text;
  int capacity = std::min<int64_t>(t.max_positions, int64_t(prompt.size()) + std::max(opt.max_new_tokens, 0) + 1);
  capacity = std::max(capacity, 1);
  KVCache cache(t, 1, capacity, opt.kv.value_or(impl_->dec->kv_type()));
  DecoderWorkspace ws;
  return generate_greedy(*impl_->dec, ws, cache, 0, prompt.data(), int(prompt.size()), image_features,
                         n_image_rows, opt, tap);
}

GenerateOptions Model::default_options() const {
  GenerateOptions o;
  o.stop_ids.push_back(impl_->cfg.eos_token_id);
  if (impl_->cfg.doctag_end_id >= 0) o.stop_ids.push_back(impl_->cfg.doctag_end_id);
  return o;
}

}  // namespace docling::vision
