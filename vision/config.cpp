#include "vision/config.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/json_limits.h"

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

bool read_file(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

int get_int(const json& j, const char* key, const std::string& src, const std::string& where) {
  if (!j.contains(key) || !j[key].is_number_integer())
    fail(src, "missing or non-integer '" + where + key + "'");
  return j[key].get<int>();
}

int get_int_or(const json& j, const char* key, int dflt) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int>() : dflt;
}

double get_num_or(const json& j, const char* key, double dflt) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : dflt;
}

std::string get_str_or(const json& j, const char* key, const std::string& dflt) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : dflt;
}

void positive(int v, const std::string& src, const std::string& name) {
  if (v <= 0) fail(src, "'" + name + "' must be positive, got " + std::to_string(v));
}

VisionConfig parse_vision(const json& v, const std::string& src) {
  if (!v.is_object()) fail(src, "missing 'vision_config'");
  std::string act = get_str_or(v, "hidden_act", "gelu_pytorch_tanh");
  if (act != "gelu_pytorch_tanh")
    fail(src, "unsupported vision_config.hidden_act '" + act + "' (only gelu_pytorch_tanh)");
  VisionConfig c;
  c.hidden = get_int(v, "hidden_size", src, "vision_config.");
  c.layers = get_int(v, "num_hidden_layers", src, "vision_config.");
  c.heads = get_int(v, "num_attention_heads", src, "vision_config.");
  c.intermediate = get_int(v, "intermediate_size", src, "vision_config.");
  c.image_size = get_int(v, "image_size", src, "vision_config.");
  c.patch_size = get_int(v, "patch_size", src, "vision_config.");
  c.channels = get_int_or(v, "num_channels", 3);
  c.layer_norm_eps = float(get_num_or(v, "layer_norm_eps", 1e-6));
  for (auto [val, name] : {std::pair{c.hidden, "hidden_size"}, {c.layers, "num_hidden_layers"},
                           {c.heads, "num_attention_heads"}, {c.intermediate, "intermediate_size"},
                           {c.image_size, "image_size"}, {c.patch_size, "patch_size"},
                           {c.channels, "num_channels"}})
    positive(val, src, std::string("vision_config.") + name);
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
    fail(src, "unsupported text_config.rope_scaling " + t["rope_scaling"].dump() + " (only null)");
  if (get_int_or(t, "pretraining_tp", 1) != 1) fail(src, "unsupported text_config.pretraining_tp != 1");
  TextConfig c;
  c.hidden = get_int(t, "hidden_size", src, "text_config.");
  c.layers = get_int(t, "num_hidden_layers", src, "text_config.");
  c.heads = get_int(t, "num_attention_heads", src, "text_config.");
  c.kv_heads = get_int_or(t, "num_key_value_heads", c.heads);
  c.intermediate = get_int(t, "intermediate_size", src, "text_config.");
  c.vocab = get_int(t, "vocab_size", src, "text_config.");
  c.max_positions = get_int_or(t, "max_position_embeddings", 8192);
  c.rms_norm_eps = float(get_num_or(t, "rms_norm_eps", 1e-6));
  c.rope_theta = get_num_or(t, "rope_theta", 10000.0);
  for (auto [val, name] : {std::pair{c.hidden, "hidden_size"}, {c.layers, "num_hidden_layers"},
                           {c.heads, "num_attention_heads"}, {c.kv_heads, "num_key_value_heads"},
                           {c.intermediate, "intermediate_size"}, {c.vocab, "vocab_size"},
                           {c.max_positions, "max_position_embeddings"}})
    positive(val, src, std::string("text_config.") + name);
  c.head_dim = t.contains("head_dim") && t["head_dim"].is_number_integer() ? t["head_dim"].get<int>()
                                                                           : c.hidden / c.heads;
  positive(c.head_dim, src, "text_config.head_dim");
  if (c.head_dim % 2) fail(src, "text_config.head_dim must be even (RoPE)");
  if (c.heads % c.kv_heads) fail(src, "num_attention_heads not divisible by num_key_value_heads");
  return c;
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
  if (!j.is_object()) fail(src, "not a JSON object");
  std::string type = get_str_or(j, "model_type", "");
  if (type != "idefics3") {
    std::string arch = j.contains("architectures") ? j["architectures"].dump() : "?";
    fail(src, "unsupported model_type '" + type + "' (architectures " + arch +
                  "); only Idefics3 checkpoints such as ibm-granite/granite-docling-258M are supported");
  }
  ModelConfig c;
  c.vision = parse_vision(j.value("vision_config", json()), src);
  c.text = parse_text(j.value("text_config", json()), src);
  c.scale_factor = get_int_or(j, "scale_factor", 2);
  positive(c.scale_factor, src, "scale_factor");
  int side = c.vision.patches_per_side();
  if (side % c.scale_factor) fail(src, "patches per side not divisible by scale_factor");
  c.image_seq_len = c.vision.num_patches() / (c.scale_factor * c.scale_factor);
  c.image_token_id = get_int(j, "image_token_id", src, "");
  const json& t = j["text_config"];
  c.eos_token_id = get_int_or(j, "eos_token_id", get_int_or(t, "eos_token_id", -1));
  c.bos_token_id = get_int_or(j, "bos_token_id", get_int_or(t, "bos_token_id", -1));
  c.pad_token_id = get_int_or(j, "pad_token_id", get_int_or(t, "pad_token_id", -1));
  c.tie_word_embeddings = j.value("tie_word_embeddings", t.value("tie_word_embeddings", true));

  if (!processor_json.empty()) {
    try {
      json p = parse_json(processor_json);
      int n = get_int_or(p, "image_seq_len", c.image_seq_len);
      if (n != c.image_seq_len)
        fail(src, "processor_config image_seq_len " + std::to_string(n) + " does not match the model's " +
                      std::to_string(c.image_seq_len));
    } catch (const nlohmann::json::exception& e) {
      fail(sibling(src, "processor_config.json"), std::string("invalid: ") + e.what());
    } catch (const JsonDepthError& e) {
      fail(sibling(src, "processor_config.json"), e.what());
    }
  }
  if (!tokenizer_json.empty()) {
    try {
      json tk = parse_json(tokenizer_json);
      if (tk.contains("added_tokens_decoder"))
        for (auto it = tk["added_tokens_decoder"].begin(); it != tk["added_tokens_decoder"].end(); ++it)
          if (it.value().value("content", "") == "</doctag>") c.doctag_end_id = std::stoi(it.key());
    } catch (const std::exception& e) {
      fail(sibling(src, "tokenizer_config.json"), std::string("invalid: ") + e.what());
    }
  }
  return c;
}

ModelConfig load_config(const std::string& dir) {
  std::string path = dir + "/config.json", text, proc, tok;
  if (!read_file(path, &text)) fail(path, "cannot read model config (is this a model folder?)");
  read_file(dir + "/processor_config.json", &proc);
  read_file(dir + "/tokenizer_config.json", &tok);
  return parse_config(text, path, proc, tok);
}

}  // namespace docling::vision
