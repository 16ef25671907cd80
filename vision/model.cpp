#include "vision/model.h"

#include <algorithm>

#include "vision/connector.h"
#include "vision/encoder.h"
#include "vision/model_files.h"

namespace docling::vision {

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
  impl->w = Weights::load(files.dir(), impl->cfg, opt.weights, opt.int8_group);
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
