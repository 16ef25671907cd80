#include "vision/config.h"

#include <climits>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/json_limits.h"
#include "vision/image_processor.h"
#include "vision/model_files.h"

namespace docling::vision {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& src, const std::string& what) {
  throw std::runtime_error(src + ": " + what);
}

// A file beside `src` (config.json) for messages: "dir/processor_config.json".
std::string sibling(const std::string& src, const char* name) {
  size_t slash = src.find_last_of('/');
  return slash == std::string::npos ? name : src.substr(0, slash + 1) + name;
}

// A value for a message: short, whatever it is.
std::string shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

bool present(const json& j, const char* key) { return j.is_object() && j.contains(key) && !j[key].is_null(); }

// Sizes and counts far past any real checkpoint are refused: they would only make the loader
// allocate absurd tables (a RoPE table of max_position_embeddings x head_dim, say).
constexpr int64_t kNoDefault = INT64_MIN;

// An integer in [lo, hi]; absent (or null): `dflt`, or an error when there is none. Another
// type, or a number past the range (2^40 would wrap in an int), is an error naming the key.
int get_int(const json& j, const char* key, const std::string& src, const std::string& where, int64_t lo,
            int64_t hi, int64_t dflt = kNoDefault) {
  if (!present(j, key)) {
    if (dflt == kNoDefault) fail(src, "missing '" + where + key + "'");
    return int(dflt);
  }
  const json& v = j[key];
  if (!v.is_number_integer()) fail(src, "'" + where + key + "' must be an integer, got " + shown(v));
  // JSON's non-negative integers are unsigned: `lo` applies to them too (0 heads divided by zero).
  bool in = v.is_number_unsigned()
                ? v.get<uint64_t>() <= uint64_t(hi) && (lo <= 0 || v.get<uint64_t>() >= uint64_t(lo))
                : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  if (!in)
    fail(src, "'" + where + key + "' = " + shown(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return int(v.get<int64_t>());
}

// A finite number in (0, hi]; absent: `dflt`.
double get_pos(const json& j, const char* key, const std::string& src, const std::string& where, double dflt,
               double hi) {
  if (!present(j, key)) return dflt;
  const json& v = j[key];
  if (!v.is_number()) fail(src, "'" + where + key + "' must be a number, got " + shown(v));
  double d = v.get<double>();
  if (!std::isfinite(d) || d <= 0 || d > hi)
    fail(src, "'" + where + key + "' = " + shown(v) + " must be positive and at most " + shown(json(hi)));
  return d;
}

std::string get_str_or(const json& j, const char* key, const std::string& dflt) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : dflt;
}

// A token id: an integer, or a list whose first element is one (HF allows several EOS ids);
// -1 when absent. Must name a token of the vocabulary.
int token_id(const json& j, const char* key, const std::string& src, const std::string& where, int vocab,
             int dflt) {
  if (present(j, key) && j[key].is_array()) {
    if (j[key].empty()) return dflt;
    json first = {{key, j[key][0]}};
    return get_int(first, key, src, where, 0, vocab - 1);
  }
  return get_int(j, key, src, where, 0, vocab - 1, dflt);
}

constexpr int64_t kMaxWidth = 1 << 16;      // hidden sizes
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxFfn = 1 << 20;        // intermediate sizes
constexpr int64_t kMaxVocab = (1 << 24) + 1;  // the tokenizer's id range is 0..2^24
constexpr int64_t kMaxPositions = 1 << 20;

VisionConfig parse_vision(const json& v, const std::string& src) {
  if (!v.is_object()) fail(src, "missing 'vision_config'");
  std::string act = get_str_or(v, "hidden_act", "gelu_pytorch_tanh");
  if (act != "gelu_pytorch_tanh")
    fail(src, "unsupported vision_config.hidden_act '" + act + "' (only gelu_pytorch_tanh)");
  const std::string w = "vision_config.";
  VisionConfig c;
  c.hidden = get_int(v, "hidden_size", src, w, 1, kMaxWidth);
  c.layers = get_int(v, "num_hidden_layers", src, w, 1, kMaxLayers);
  c.heads = get_int(v, "num_attention_heads", src, w, 1, c.hidden);
  c.intermediate = get_int(v, "intermediate_size", src, w, 1, kMaxFfn);
  c.image_size = get_int(v, "image_size", src, w, 1, 8192);
  c.patch_size = get_int(v, "patch_size", src, w, 1, c.image_size);
  c.channels = get_int(v, "num_channels", src, w, 1, 4, 3);
  c.layer_norm_eps = float(get_pos(v, "layer_norm_eps", src, w, 1e-6, 1));
  if (c.hidden % c.heads) fail(src, "vision hidden_size not divisible by num_attention_heads");
  if (c.image_size % c.patch_size) fail(src, "vision image_size not divisible by patch_size");
  c.head_dim = c.hidden / c.heads;
  return c;
}

TextConfig parse_text(const json& t, const std::string& src) {
  if (!t.is_object()) fail(src, "missing 'text_config'");
  std::string type = get_str_or(t, "model_type", "llama");
  if (type != "llama") fail(src, "unsupported text_config.model_type '" + type + "' (only llama)");
  std::string act = get_str_or(t, "hidden_act", "silu");
  if (act != "silu") fail(src, "unsupported text_config.hidden_act '" + act + "' (only silu)");
  if (t.value("attention_bias", false) || t.value("mlp_bias", false))
    fail(src, "unsupported text_config: attention_bias / mlp_bias must be false");
  if (t.contains("rope_scaling") && !t["rope_scaling"].is_null())
    fail(src, "unsupported text_config.rope_scaling " + shown(t["rope_scaling"]) + " (only null)");
  const std::string w = "text_config.";
  if (get_int(t, "pretraining_tp", src, w, 1, 1, 1) != 1) fail(src, "unsupported text_config.pretraining_tp != 1");
  TextConfig c;
  c.hidden = get_int(t, "hidden_size", src, w, 1, kMaxWidth);
  c.layers = get_int(t, "num_hidden_layers", src, w, 1, kMaxLayers);
  c.heads = get_int(t, "num_attention_heads", src, w, 1, c.hidden);
  c.kv_heads = get_int(t, "num_key_value_heads", src, w, 1, c.heads, c.heads);
  c.intermediate = get_int(t, "intermediate_size", src, w, 1, kMaxFfn);
  c.vocab = get_int(t, "vocab_size", src, w, 1, kMaxVocab);
  c.max_positions = get_int(t, "max_position_embeddings", src, w, 1, kMaxPositions, 8192);
  c.rms_norm_eps = float(get_pos(t, "rms_norm_eps", src, w, 1e-6, 1));
  c.rope_theta = get_pos(t, "rope_theta", src, w, 10000.0, 1e12);
  c.head_dim = get_int(t, "head_dim", src, w, 2, 1024, c.hidden / c.heads);
  if (c.head_dim % 2) fail(src, "text_config.head_dim must be even (RoPE)");
  if (c.heads % c.kv_heads) fail(src, "num_attention_heads not divisible by num_key_value_heads");
  return c;
}

// tokenizer_config.json's added tokens against the model: every id inside the vocabulary, and
// <image> (when listed) the config's image_token_id. Also the stop token </doctag>.
void check_added_tokens(const json& tk, ModelConfig& c, const std::string& src, const std::string& tsrc) {
  if (!tk.is_object()) fail(tsrc, "not a JSON object");
  if (!present(tk, "added_tokens_decoder")) return;
  const json& added = tk["added_tokens_decoder"];
  if (!added.is_object()) fail(tsrc, "'added_tokens_decoder' must be an object {id: {content}}");
  for (auto it = added.begin(); it != added.end(); ++it) {
    const std::string& k = it.key();
    long long id = -1;
    if (!k.empty() && k.size() <= 10 && k.find_first_not_of("0123456789") == std::string::npos) id = std::stoll(k);
    if (id < 0 || id >= c.text.vocab)
      fail(tsrc, "added token id '" + k + "' is not inside the model's vocabulary (0.." +
                     std::to_string(c.text.vocab - 1) + ", config.json text_config.vocab_size)");
    if (!it.value().is_object() || !it.value().contains("content") || !it.value()["content"].is_string())
      fail(tsrc, "added token " + k + " has no string 'content'");
    const std::string content = it.value()["content"].get<std::string>();
    if (content == "</doctag>") c.doctag_end_id = int(id);
    if (content == "<image>" && id != c.image_token_id)
      fail(src, "image_token_id " + std::to_string(c.image_token_id) + " is not <image> (" +
                    sibling(src, "tokenizer_config.json") + " gives <image> the id " + k + ")");
  }
}

// Up to this many prompt tokens besides the images (chat template, instruction, tile markers).
constexpr int kPromptText = 64;

void check_positions(const ModelConfig& c, int max_images, const std::string& src, const std::string& why) {
  int64_t need = int64_t(max_images) * (c.image_seq_len + 3) + kPromptText + 1;
  if (c.text.max_positions < need)
    fail(src, "text_config.max_position_embeddings " + std::to_string(c.text.max_positions) +
                  " is too small: a page prompt of up to " + std::to_string(max_images) + " images of " +
                  std::to_string(c.image_seq_len) + " tokens needs at least " + std::to_string(need) +
                  " positions" + why);
}

// `processor` and `tokenizer` (processor_config.json, tokenizer_config.json) may be null.
ModelConfig parse_config_json(const json& j, const std::string& src, const json* processor, const json* tokenizer) {
  if (!j.is_object()) fail(src, "not a JSON object");
  std::string type = get_str_or(j, "model_type", "");
  if (type != "idefics3") {
    std::string arch = j.contains("architectures") ? shown(j["architectures"]) : "?";
    fail(src, "unsupported model_type '" + type + "' (architectures " + arch +
                  "); only Idefics3 checkpoints such as ibm-granite/granite-docling-258M are supported");
  }
  ModelConfig c;
  c.vision = parse_vision(j.value("vision_config", json()), src);
  c.text = parse_text(j.value("text_config", json()), src);
  int side = c.vision.patches_per_side();
  c.scale_factor = get_int(j, "scale_factor", src, "", 1, side, 2);
  if (side % c.scale_factor) fail(src, "patches per side not divisible by scale_factor");
  c.image_seq_len = c.vision.num_patches() / (c.scale_factor * c.scale_factor);
  const int vocab = c.text.vocab;
  c.image_token_id = get_int(j, "image_token_id", src, "", 0, vocab - 1);
  const json& t = j["text_config"];
  c.eos_token_id = token_id(j, "eos_token_id", src, "", vocab, token_id(t, "eos_token_id", src, "text_config.", vocab, -1));
  c.bos_token_id = token_id(j, "bos_token_id", src, "", vocab, token_id(t, "bos_token_id", src, "text_config.", vocab, -1));
  c.pad_token_id = token_id(j, "pad_token_id", src, "", vocab, token_id(t, "pad_token_id", src, "text_config.", vocab, -1));
  c.tie_word_embeddings = j.value("tie_word_embeddings", t.value("tie_word_embeddings", true));
  check_positions(c, 1, src, "");

  if (processor) {
    const std::string psrc = sibling(src, "processor_config.json");
    const json& p = *processor;
    if (!p.is_object()) fail(psrc, "not a JSON object");
    int n = get_int(p, "image_seq_len", psrc, "", 1, 1 << 16, c.image_seq_len);
    if (n != c.image_seq_len)
      fail(src, "processor_config image_seq_len " + std::to_string(n) + " does not match the model's " +
                    std::to_string(c.image_seq_len));
  }
  if (tokenizer) check_added_tokens(*tokenizer, c, src, sibling(src, "tokenizer_config.json"));
  return c;
}

// An optional JSON text of a file beside `src`, parsed; null when empty.
std::optional<json> parse_optional(const std::string& text, const std::string& src, const char* name) {
  if (text.empty()) return std::nullopt;
  try {
    return parse_json(text);
  } catch (const std::exception& e) {
    fail(sibling(src, name), std::string("invalid: ") + e.what());
  }
}

// parse_config_json with json type errors (a value of another type than expected) named.
ModelConfig parse_checked(const json& j, const std::string& src, const json* processor, const json* tokenizer) {
  try {
    return parse_config_json(j, src, processor, tokenizer);
  } catch (const nlohmann::json::exception& e) {
    fail(src, e.what());
  }
}

}  // namespace

ModelConfig parse_config(const std::string& config_json, const std::string& src,
                         const std::string& processor_json, const std::string& tokenizer_json) {
  json j;
  try {
    j = parse_json(config_json);  // bounded nesting: the values below are copied recursively
  } catch (const std::exception& e) {
    fail(src, std::string("invalid JSON: ") + e.what());
  }
  std::optional<json> p = parse_optional(processor_json, src, "processor_config.json");
  std::optional<json> tk = parse_optional(tokenizer_json, src, "tokenizer_config.json");
  return parse_checked(j, src, p ? &*p : nullptr, tk ? &*tk : nullptr);
}

ModelConfig load_config(const std::string& dir) { return load_config(ModelFiles::read(dir)); }

ModelConfig load_config(const ModelFiles& files) {
  const std::string path = files.path("config.json");
  const json* j = files.json("config.json");
  if (!j) fail(path, "cannot read model config (is this a model folder?)");
  ModelConfig c = parse_checked(*j, path, files.json("processor_config.json"), files.json("tokenizer_config.json"));
  // The page prompt's size follows the image processor: the longest edge in tiles, squared,
  // plus the global image.
  if (files.json("preprocessor_config.json")) {
    ImageProcessorConfig ip = ImageProcessorConfig::load(files);  // validated there, errors name it
    int per_side = ip.do_image_splitting ? (ip.longest_edge + ip.tile_size - 1) / ip.tile_size : 0;
    check_positions(c, per_side * per_side + 1, path,
                    " (preprocessor_config.json: longest edge " + std::to_string(ip.longest_edge) +
                        " in tiles of " + std::to_string(ip.tile_size) + ")");
  }
  return c;
}

}  // namespace docling::vision
