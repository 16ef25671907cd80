#include "bench/random_checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "vision/safetensors.h"

namespace docling::bench {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

static const char* kGenerator = "docling-cpp bench/random_checkpoint v1";
static const char* kMarker = "bench-random.json";

int64_t TensorSpec::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t total_params(const std::vector<TensorSpec>& specs) {
  int64_t n = 0;
  for (const TensorSpec& s : specs) n += s.numel();
  return n;
}

std::vector<TensorSpec> idefics3_tensors(const vision::ModelConfig& cfg) {
  const vision::VisionConfig& v = cfg.vision;
  const vision::TextConfig& t = cfg.text;
  std::vector<TensorSpec> out;
  auto add = [&](std::string name, std::vector<int64_t> shape, float std, float mean = 0.0f) {
    out.push_back({std::move(name), std::move(shape), std, mean});
  };
  // Linear weights ~ 1/sqrt(fan_in) keep each product near unit scale; the residual branches
  // (out_proj, fc2, o_proj, down_proj) are halved so 12/30 layers of residual sums stay tame.
  auto lin = [](int64_t fan_in, float gain = 1.0f) { return gain / std::sqrt(float(fan_in)); };
  const float bias = 0.01f, gain_noise = 0.02f;

  const std::string vp = "model.vision_model.";
  int64_t D = v.hidden, I = v.intermediate, cpp = int64_t(v.channels) * v.patch_size * v.patch_size;
  add(vp + "embeddings.patch_embedding.weight", {D, v.channels, v.patch_size, v.patch_size}, lin(cpp));
  add(vp + "embeddings.patch_embedding.bias", {D}, bias);
  add(vp + "embeddings.position_embedding.weight", {v.num_patches(), D}, 0.02f);
  for (int l = 0; l < v.layers; ++l) {
    std::string p = vp + "encoder.layers." + std::to_string(l) + ".";
    for (const char* n : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      bool out_proj = std::strcmp(n, "out_proj") == 0;
      add(p + "self_attn." + n + ".weight", {D, D}, lin(D, out_proj ? 0.5f : 1.0f));
      add(p + "self_attn." + n + ".bias", {D}, bias);
    }
    add(p + "mlp.fc1.weight", {I, D}, lin(D));
    add(p + "mlp.fc1.bias", {I}, bias);
    add(p + "mlp.fc2.weight", {D, I}, lin(I, 0.5f));
    add(p + "mlp.fc2.bias", {D}, bias);
    for (const char* n : {"layer_norm1", "layer_norm2"}) {
      add(p + n + ".weight", {D}, gain_noise, 1.0f);
      add(p + n + ".bias", {D}, bias);
    }
  }
  add(vp + "post_layernorm.weight", {D}, gain_noise, 1.0f);
  add(vp + "post_layernorm.bias", {D}, bias);

  add("model.connector.modality_projection.proj.weight", {t.hidden, cfg.connector_in()}, lin(cfg.connector_in()));

  const std::string tp = "model.text_model.";
  int64_t H = t.hidden, qd = int64_t(t.heads) * t.head_dim, kvd = int64_t(t.kv_heads) * t.head_dim;
  add(tp + "embed_tokens.weight", {t.vocab, H}, 0.02f);
  for (int l = 0; l < t.layers; ++l) {
    std::string p = tp + "layers." + std::to_string(l) + ".";
    add(p + "self_attn.q_proj.weight", {qd, H}, lin(H));
    add(p + "self_attn.k_proj.weight", {kvd, H}, lin(H));
    add(p + "self_attn.v_proj.weight", {kvd, H}, lin(H));
    add(p + "self_attn.o_proj.weight", {H, qd}, lin(qd, 0.5f));
    add(p + "mlp.gate_proj.weight", {t.intermediate, H}, lin(H));
    add(p + "mlp.up_proj.weight", {t.intermediate, H}, lin(H));
    add(p + "mlp.down_proj.weight", {H, t.intermediate}, lin(t.intermediate, 0.5f));
    add(p + "input_layernorm.weight", {H}, gain_noise, 1.0f);
    add(p + "post_attention_layernorm.weight", {H}, gain_noise, 1.0f);
  }
  add(tp + "norm.weight", {H}, gain_noise, 1.0f);
  if (!cfg.tie_word_embeddings) add("lm_head.weight", {t.vocab, H}, 0.02f);

  std::sort(out.begin(), out.end(), [](const TensorSpec& a, const TensorSpec& b) { return a.name < b.name; });
  return out;
}

namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Fills `n` values of one tensor, continuing its stream `state`: uniform with the spec's
// mean and standard deviation (two 24-bit draws per 64-bit word).
void fill(const TensorSpec& s, uint64_t& state, uint16_t* out, int64_t n) {
  const float half = s.std * std::sqrt(3.0f), scale = 2.0f * half / 16777216.0f;
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    uint64_t r = splitmix64(state);
    out[i] = f32_to_bf16(s.mean - half + (float((r >> 40) & 0xFFFFFF) + 0.5f) * scale);
    out[i + 1] = f32_to_bf16(s.mean - half + (float((r >> 8) & 0xFFFFFF) + 0.5f) * scale);
  }
  if (i < n) out[i] = f32_to_bf16(s.mean - half + (float(splitmix64(state) >> 40) + 0.5f) * scale);
}

std::string header_json(const std::vector<TensorSpec>& specs, int64_t* data_bytes) {
  ordered_json h;
  h["__metadata__"] = {{"format", "pt"}};
  int64_t off = 0;
  for (const TensorSpec& s : specs) {
    int64_t nb = s.numel() * 2;
    h[s.name] = {{"dtype", "BF16"}, {"shape", s.shape}, {"data_offsets", {off, off + nb}}};
    off += nb;
  }
  *data_bytes = off;
  std::string text = h.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data region starts 8-byte aligned
  return text;
}

void write_all(std::FILE* f, const void* p, size_t n, const std::string& path) {
  if (std::fwrite(p, 1, n, f) != n) throw std::runtime_error(path + ": write failed (disk full?)");
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool marker_ok(const fs::path& dir, uint64_t seed, bool any_seed) {
  std::error_code ec;
  fs::path m = dir / kMarker, st = dir / "model.safetensors";
  if (!fs::is_regular_file(m, ec) || !fs::is_regular_file(st, ec) || !fs::is_regular_file(dir / "config.json", ec))
    return false;
  auto j = nlohmann::json::parse(slurp(m), nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("generator", "") != kGenerator) return false;
  if (!any_seed && j.value("seed", uint64_t(0)) != seed) return false;
  return int64_t(fs::file_size(st, ec)) == j.value("model_bytes", int64_t(-1));
}

}  // namespace

bool is_random_checkpoint(const std::string& dir) { return marker_ok(dir, 0, true); }

bool ensure_random_checkpoint(const std::string& dir_s, const std::string& template_dir, uint64_t seed,
                              bool verbose) {
  fs::path dir(dir_s), tmpl(template_dir);
  if (marker_ok(dir, seed, false)) return false;
  auto t0 = std::chrono::steady_clock::now();
  vision::ModelConfig cfg = vision::load_config(template_dir);  // throws naming the file
  std::vector<TensorSpec> specs = idefics3_tensors(cfg);

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir.string() + ": cannot create folder: " + ec.message());
  fs::remove(dir / kMarker, ec);
  // Config, tokenizer and processor files as published.
  for (const auto& e : fs::directory_iterator(tmpl)) {
    std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.rfind("model.safetensors", 0) == 0 || name == kMarker) continue;
    fs::copy_file(e.path(), dir / name, fs::copy_options::overwrite_existing, ec);
    if (ec) throw std::runtime_error((dir / name).string() + ": copy failed: " + ec.message());
  }

  int64_t data_bytes = 0;
  std::string header = header_json(specs, &data_bytes);
  std::string final_path = (dir / "model.safetensors").string();
  std::string tmp_path = final_path + ".tmp." + std::to_string(getpid());
  if (verbose)
    std::fprintf(stderr, "generating random checkpoint %s (%lld tensors, %.1f M params, %.0f MB, seed %llu)...\n",
                 final_path.c_str(), (long long)specs.size(), total_params(specs) / 1e6, (data_bytes + 8.0) / 1e6,
                 (unsigned long long)seed);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(tmp_path.c_str(), "wb"), &std::fclose);
  if (!f) throw std::runtime_error(tmp_path + ": cannot open for writing: " + std::strerror(errno));
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(header.size()) >> (8 * i));
  write_all(f.get(), len, 8, tmp_path);
  write_all(f.get(), header.data(), header.size(), tmp_path);
  std::vector<uint16_t> buf(size_t(1) << 20);
  for (const TensorSpec& s : specs) {
    uint64_t state = seed * 0x9E3779B97F4A7C15ull ^ fnv1a(s.name);  // per tensor: order-independent
    for (int64_t done = 0, n = s.numel(); done < n;) {
      int64_t k = std::min<int64_t>(n - done, int64_t(buf.size()));
      fill(s, state, buf.data(), k);
      write_all(f.get(), buf.data(), size_t(k) * 2, tmp_path);
      done += k;
    }
  }
  if (std::fflush(f.get()) != 0) throw std::runtime_error(tmp_path + ": write failed");
  f.reset();
  fs::rename(tmp_path, final_path, ec);
  if (ec) throw std::runtime_error(final_path + ": rename failed: " + ec.message());

  ordered_json m;
  m["generator"] = kGenerator;
  m["seed"] = seed;
  m["template"] = fs::absolute(tmpl).lexically_normal().string();
  m["tensors"] = specs.size();
  m["params"] = total_params(specs);
  m["model_bytes"] = int64_t(fs::file_size(final_path));
  m["note"] = "random weights with the real names and shapes; for benchmarks only";
  std::ofstream((dir / kMarker).string()) << m.dump(2) << "\n";
  if (verbose)
    std::fprintf(stderr, "  done in %.1f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return true;
}

}  // namespace docling::bench
