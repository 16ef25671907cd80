// The C++ Idefics3 model against the Hugging Face reference tensors
// (tests/data/oracle/README.md): tiny random-weight checkpoint, same code path as the real one.
#include <gtest/gtest.h>

#include <png.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vision/config.h"
#include "vision/connector.h"
#include "vision/encoder.h"
#include "kernels/kernels.h"
#include "vision/model.h"
#include "vision/safetensors.h"

using namespace docling::vision;
using namespace docling::kernels;
using docling::bf16_to_f32;
using docling::f32_to_bf16;
using docling::f16_to_f32;
namespace fs = std::filesystem;

namespace {

const std::string kData = DOCLING_TEST_DATA;
const std::string kOracle = kData + "/oracle";
const std::string kTiny = kOracle + "/tiny-idefics3";
const std::string kReal = kData + "/models/granite-docling-258M";

// Thresholds from the oracle README §6.
constexpr float kVisionTol = 1e-4f, kFeatureTol = 5e-4f, kDecoderTol = 5e-3f, kLogitTol = 1e-3f;

const SafeTensors& ref() {
  static SafeTensors r = SafeTensors::open(kOracle + "/reference.safetensors");
  return r;
}

std::vector<float> ref_f32(const std::string& name) { return ref().to_f32(name); }

std::vector<int32_t> ref_i32(const std::string& name) {
  const TensorView& t = ref().get(name);
  EXPECT_EQ(t.dtype, DType::I32);
  std::vector<int32_t> v(size_t(t.numel()));
  std::memcpy(v.data(), t.data, t.nbytes);
  return v;
}

const Model& tiny() {
  static Model m = Model::load(kTiny);
  return m;
}

float max_abs_diff(const float* a, const float* b, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; ++i) {
    float d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) m = d;  // NaN-aware: a NaN makes the result NaN-large
  }
  return m;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  return max_abs_diff(a.data(), b.data(), std::min(a.size(), b.size()));
}

// RGB8 PNG -> interleaved bytes.
std::vector<uint8_t> read_png(const std::string& path, int* w, int* h) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path.c_str())) throw std::runtime_error(path + ": " + img.message);
  img.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> buf(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, buf.data(), 0, nullptr)) throw std::runtime_error(path + ": " + img.message);
  *w = int(img.width);
  *h = int(img.height);
  return buf;
}

// README §3 step 4 on the 512x512 crop at (x0, y0): CHW floats.
void tile_to_float(const std::vector<uint8_t>& rgb, int width, int x0, int y0, float* out) {
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 512; ++y)
      for (int x = 0; x < 512; ++x) {
        uint8_t u = rgb[(size_t(y0 + y) * width + x0 + x) * 3 + c];
        float v = float(double(u) * 0.00392156862745098);
        out[(size_t(c) * 512 + y) * 512 + x] = (v - 0.5f) / 0.5f;
      }
}

// All 13 tiles of the oracle page: 12 crops of the step-2 image (row-major) + the global view.
const std::vector<float>& page_tiles() {
  static std::vector<float> tiles = [] {
    const size_t tile = 3 * 512 * 512;
    std::vector<float> t(13 * tile);
    int w, h;
    auto step2 = read_png(kOracle + "/preprocess/step2_resized_1536x2048.png", &w, &h);
    EXPECT_EQ(w, 1536);
    EXPECT_EQ(h, 2048);
    for (int i = 0; i < 12; ++i) tile_to_float(step2, w, (i % 3) * 512, (i / 3) * 512, t.data() + i * tile);
    auto global = read_png(kOracle + "/preprocess/step3_global_512x512.png", &w, &h);
    EXPECT_EQ(w, 512);
    tile_to_float(global, w, 0, 0, t.data() + 12 * tile);
    return t;
  }();
  return tiles;
}

struct Captured {
  std::map<std::string, std::vector<float>> t;
  Tap tap() {
    return [this](const char* name, int index, int layer, const float* d, int rows, int cols) {
      std::string key = std::string(name) + "/" + std::to_string(index) + "/" + std::to_string(layer);
      t[key].assign(d, d + size_t(rows) * cols);
    };
  }
};

// Image features computed by this engine from the page tiles (shared by several tests).
struct PageRun {
  Captured cap;
  std::vector<float> features;
};
const PageRun& page_run() {
  static PageRun r = [] {
    PageRun p;
    Tap tap = p.cap.tap();
    p.features = tiny().encode_tiles(page_tiles().data(), 13, &tap);
    return p;
  }();
  return r;
}

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("docling_model_test_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace

// --- configuration and files --------------------------------------------------------------

// BF16 loading keeps the vision tower's matrices as mapped views and gives the decoder's
// (and the tied output head's) products a panel copy of the same values.
TEST(Oracle, DecoderMatricesGetPanels) {
  const Weights& w = tiny().weights();
  EXPECT_EQ(w.type, WeightType::BF16);
  EXPECT_EQ(w.vision_layers[0].fc1.p, nullptr);
  EXPECT_EQ(w.proj.p, nullptr);
  EXPECT_EQ(w.embed.p, nullptr);  // lookups read rows of the table
  ASSERT_NE(w.lm_head.p, nullptr);
  for (const TextLayerWeights& L : w.text_layers)
    for (const Mat* m : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) {
      ASSERT_NE(m->p, nullptr);
      for (int n = 0; n < m->rows; n += 5)
        for (int k = 0; k < m->cols; k += 3)
          ASSERT_EQ(m->p[panel_index(n, k, m->cols, m->pl)], m->w[int64_t(n) * m->cols + k]);
    }
}

TEST(ModelConfig, RealAndTiny) {
  ModelConfig real = load_config(kReal);
  EXPECT_EQ(real.vision.hidden, 768);
  EXPECT_EQ(real.vision.layers, 12);
  EXPECT_EQ(real.vision.heads, 12);
  EXPECT_EQ(real.vision.head_dim, 64);
  EXPECT_EQ(real.vision.intermediate, 3072);
  EXPECT_EQ(real.vision.num_patches(), 1024);
  EXPECT_EQ(real.text.hidden, 576);
  EXPECT_EQ(real.text.layers, 30);
  EXPECT_EQ(real.text.heads, 9);
  EXPECT_EQ(real.text.kv_heads, 3);
  EXPECT_EQ(real.text.head_dim, 64);
  EXPECT_EQ(real.text.intermediate, 1536);
  EXPECT_EQ(real.text.vocab, 100352);
  EXPECT_DOUBLE_EQ(real.text.rope_theta, 100000.0);
  EXPECT_FLOAT_EQ(real.text.rms_norm_eps, 1e-5f);
  EXPECT_FLOAT_EQ(real.vision.layer_norm_eps, 1e-6f);
  EXPECT_EQ(real.scale_factor, 4);
  EXPECT_EQ(real.image_seq_len, 64);
  EXPECT_EQ(real.connector_in(), 12288);
  EXPECT_EQ(real.image_token_id, 100270);
  EXPECT_EQ(real.eos_token_id, 100257);
  EXPECT_EQ(real.doctag_end_id, 100328);
  EXPECT_TRUE(real.tie_word_embeddings);

  ModelConfig t = load_config(kTiny);
  EXPECT_EQ(t.vision.hidden, 64);
  EXPECT_EQ(t.vision.heads, 4);
  EXPECT_EQ(t.vision.head_dim, 16);
  EXPECT_EQ(t.text.hidden, 64);
  EXPECT_EQ(t.text.kv_heads, 2);
  EXPECT_EQ(t.text.head_dim, 16);
  EXPECT_EQ(t.connector_in(), 1024);
  EXPECT_EQ(t.image_seq_len, 64);
}

TEST(ModelConfig, RejectsUnsupported) {
  std::ifstream f(kTiny + "/config.json");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = text;
    size_t p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    return s.replace(p, from.size(), to);
  };
  EXPECT_NO_THROW(parse_config(text, "config.json"));
  std::string m = message_of([&] { parse_config(with("\"idefics3\"", "\"llava\""), "cfg/config.json"); });
  EXPECT_NE(m.find("cfg/config.json"), std::string::npos) << m;
  EXPECT_NE(m.find("unsupported model_type 'llava'"), std::string::npos) << m;
  m = message_of([&] { parse_config(with("\"silu\"", "\"relu\""), "c.json"); });
  EXPECT_NE(m.find("hidden_act 'relu'"), std::string::npos) << m;
  m = message_of([&] { parse_config(with("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\"}"), "c.json"); });
  EXPECT_NE(m.find("rope_scaling"), std::string::npos) << m;
  m = message_of([&] { parse_config("{not json", "c.json"); });
  EXPECT_NE(m.find("c.json: invalid JSON"), std::string::npos) << m;
  m = message_of([&] { parse_config(text, "c.json", "{\"image_seq_len\": 81}"); });
  EXPECT_NE(m.find("image_seq_len 81"), std::string::npos) << m;
  m = message_of([&] { load_config("/nonexistent/model"); });
  EXPECT_NE(m.find("/nonexistent/model/config.json"), std::string::npos) << m;
}

TEST(SafeTensorsFile, ReadsTinyCheckpoint) {
  SafeTensors st = SafeTensors::open(kTiny + "/model.safetensors");
  EXPECT_EQ(st.tensors().size(), 58u);
  EXPECT_EQ(st.metadata().at("format"), "pt");
  const TensorView& pe = st.get("model.vision_model.embeddings.patch_embedding.weight", {64, 3, 16, 16});
  EXPECT_EQ(pe.dtype, DType::BF16);
  EXPECT_EQ(pe.nbytes, size_t(64 * 3 * 16 * 16 * 2));
  EXPECT_FALSE(st.has("lm_head.weight"));
  EXPECT_EQ(st.find("nope"), nullptr);
  // The reference file mixes dtypes.
  EXPECT_EQ(ref().get("image.input_ids").dtype, DType::I32);
  EXPECT_EQ(ref().get("image.patch_attention_mask").dtype, DType::U8);
  EXPECT_EQ(ref().metadata().at("tile_rows"), "4");
}

namespace {

// Minimal writer for tests, with the caller's key order and data order.
void write_safetensors(const std::string& path, const std::vector<std::tuple<std::string, std::string, std::vector<int64_t>,
                                                                               std::vector<uint8_t>>>& ts,
                       bool reverse_data) {
  std::string header = "{";
  std::vector<uint8_t> data;
  std::vector<size_t> order(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) order[i] = reverse_data ? ts.size() - 1 - i : i;
  std::map<size_t, std::pair<size_t, size_t>> offs;
  for (size_t i : order) {
    const auto& bytes = std::get<3>(ts[i]);
    offs[i] = {data.size(), data.size() + bytes.size()};
    data.insert(data.end(), bytes.begin(), bytes.end());
  }
  for (size_t i = 0; i < ts.size(); ++i) {
    std::string shape;
    for (auto d : std::get<2>(ts[i])) {
      if (!shape.empty()) shape.append(",");
      shape.append(std::to_string(d));
    }
    if (i) header.append(",");
    header.append("\"").append(std::get<0>(ts[i])).append("\":{\"dtype\":\"").append(std::get<1>(ts[i]));
    header.append("\",\"shape\":[").append(shape).append("],\"data_offsets\":[");
    header.append(std::to_string(offs[i].first)).append(",").append(std::to_string(offs[i].second)).append("]}");
  }
  header += ",\"__metadata__\":{\"k\":\"v\"}}";
  while (header.size() % 8) header += ' ';
  std::ofstream f(path, std::ios::binary);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) f.put(char((n >> (8 * i)) & 0xff));
  f << header;
  f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

template <class T>
std::vector<uint8_t> bytes_of(std::vector<T> v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace

TEST(SafeTensorsFile, KeyOrderAndDtypes) {
  std::string dir = temp_dir("order");
  std::string p = dir + "/t.safetensors";
  write_safetensors(p,
                    {{"zeta", "F32", {2, 2}, bytes_of(std::vector<float>{1.5f, -2.0f, 3.0f, 4.25f})},
                     {"alpha", "BF16", {3}, bytes_of(std::vector<uint16_t>{0x3f80, 0xc000, 0x4040})},
                     {"mid", "F16", {2}, bytes_of(std::vector<uint16_t>{0x3c00, 0xb800})},
                     {"ids", "I32", {2}, bytes_of(std::vector<int32_t>{-7, 100257})},
                     {"mask", "U8", {3}, {0, 1, 255}}},
                    /*reverse_data=*/true);
  SafeTensors st = SafeTensors::open(p);
  EXPECT_EQ(st.to_f32("zeta"), (std::vector<float>{1.5f, -2.0f, 3.0f, 4.25f}));
  EXPECT_EQ(st.to_f32("alpha"), (std::vector<float>{1.0f, -2.0f, 3.0f}));
  EXPECT_EQ(st.to_f32("mid"), (std::vector<float>{1.0f, -0.5f}));
  EXPECT_EQ(st.to_f32("ids"), (std::vector<float>{-7.0f, 100257.0f}));
  EXPECT_EQ(st.to_f32("mask"), (std::vector<float>{0.0f, 1.0f, 255.0f}));
  EXPECT_EQ(st.metadata().at("k"), "v");
  SafeTensors moved = std::move(st);  // the mapping moves with the object
  EXPECT_EQ(moved.get("zeta", {2, 2}).shape_str(), "[2, 2]");
  fs::remove_all(dir);
}

TEST(SafeTensorsFile, Errors) {
  std::string dir = temp_dir("errors");
  // missing file
  std::string m = message_of([&] { SafeTensors::open(dir + "/absent.safetensors"); });
  EXPECT_NE(m.find(dir + "/absent.safetensors: cannot open"), std::string::npos) << m;
  // truncated copies of the tiny checkpoint: header cut, data cut, tiny file
  std::ifstream in(kTiny + "/model.safetensors", std::ios::binary);
  std::string full((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t keep : {size_t(3), size_t(100), full.size() - 1000}) {
    std::string p = dir + "/cut.safetensors";
    std::ofstream(p, std::ios::binary).write(full.data(), std::streamsize(keep));
    m = message_of([&] { SafeTensors::open(p); });
    EXPECT_NE(m.find(p + ":"), std::string::npos) << m;
    EXPECT_NE(m.find("truncated"), std::string::npos) << keep << ": " << m;
  }
  // wrong shape and absent tensor name the tensor
  SafeTensors st = SafeTensors::open(kTiny + "/model.safetensors");
  m = message_of([&] { st.get("model.text_model.norm.weight", {65}); });
  EXPECT_NE(m.find("'model.text_model.norm.weight' has shape [64], expected [65]"), std::string::npos) << m;
  m = message_of([&] { st.get("model.text_model.nope"); });
  EXPECT_NE(m.find("model.safetensors: tensor 'model.text_model.nope' not found"), std::string::npos) << m;
  // byte size not matching dtype x shape
  std::string p = dir + "/bad.safetensors";
  write_safetensors(p, {{"x", "F32", {3}, bytes_of(std::vector<float>{1, 2})}}, false);
  m = message_of([&] { SafeTensors::open(p); });
  EXPECT_NE(m.find("tensor 'x': byte size 8 does not match F32 [3]"), std::string::npos) << m;
  write_safetensors(p, {{"x", "Q4", {1}, {0}}}, false);
  m = message_of([&] { SafeTensors::open(p); });
  EXPECT_NE(m.find("unsupported dtype"), std::string::npos) << m;
  fs::remove_all(dir);
}

TEST(ModelLoad, MissingWeightsTellsHowToDownload) {
  // The real checkpoint's folder ships configs and tokenizer only.
  std::string dir = temp_dir("noweights");
  fs::copy_file(kReal + "/config.json", dir + "/config.json");
  std::string m = message_of([&] { Model::load(dir); });
  EXPECT_NE(m.find(dir + "/model.safetensors"), std::string::npos) << m;
  EXPECT_NE(m.find("ibm-granite/granite-docling-258M"), std::string::npos) << m;
  EXPECT_NE(m.find("Hugging Face"), std::string::npos) << m;
  fs::remove_all(dir);
}

TEST(ModelLoad, WrongShapeAndTruncatedWeights) {
  std::string dir = temp_dir("mismatch");
  // Tiny weights under the real config: every shape differs; the first checked one is named.
  fs::copy_file(kReal + "/config.json", dir + "/config.json");
  fs::create_symlink(fs::absolute(kTiny + "/model.safetensors"), dir + "/model.safetensors");
  std::string m = message_of([&] { Model::load(dir); });
  EXPECT_NE(m.find("model.safetensors: tensor 'model.vision_model.embeddings.patch_embedding.weight' has shape "
                   "[64, 3, 16, 16], expected [768, 3, 16, 16]"),
            std::string::npos)
      << m;
  // Truncated weights.
  fs::remove(dir + "/config.json");
  fs::remove(dir + "/model.safetensors");
  fs::copy_file(kTiny + "/config.json", dir + "/config.json");
  {
    std::ifstream in(kTiny + "/model.safetensors", std::ios::binary);
    std::string full((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir + "/model.safetensors", std::ios::binary).write(full.data(), std::streamsize(full.size() / 2));
  }
  m = message_of([&] { Model::load(dir); });
  EXPECT_NE(m.find(dir + "/model.safetensors: tensor '"), std::string::npos) << m;
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
  fs::remove_all(dir);
}

TEST(ModelLoad, UntiedLmHeadIsUsed) {
  // The tiny checkpoint plus an explicit lm_head.weight = 2 * embed_tokens (exact in BF16):
  // every logit must come out exactly doubled.
  std::string dir = temp_dir("lmhead");
  fs::copy_file(kTiny + "/config.json", dir + "/config.json");
  SafeTensors src = SafeTensors::open(kTiny + "/model.safetensors");
  std::vector<std::tuple<std::string, std::string, std::vector<int64_t>, std::vector<uint8_t>>> ts;
  for (const auto& [name, t] : src.tensors()) {
    const auto* b = static_cast<const uint8_t*>(t.data);
    ts.emplace_back(name, "BF16", t.shape, std::vector<uint8_t>(b, b + t.nbytes));
  }
  const TensorView& emb = src.get("model.text_model.embed_tokens.weight");
  std::vector<uint16_t> head(size_t(emb.numel()));
  std::memcpy(head.data(), emb.data, emb.nbytes);
  for (auto& h : head)
    if ((h & 0x7f80) != 0 && (h & 0x7f80) != 0x7f00) h = uint16_t(h + 0x80);  // exponent + 1
  ts.emplace_back("lm_head.weight", "BF16", emb.shape, bytes_of(head));
  write_safetensors(dir + "/model.safetensors", ts, false);
  Model untied = Model::load(dir);
  auto ids = ref_i32("text.input_ids");
  std::vector<float> a, b;
  GenerateOptions o;
  o.max_new_tokens = 1;
  o.on_logits = [&](int, const float* l, int v) { a.assign(l, l + v); };
  tiny().generate(ids, nullptr, 0, o);
  o.on_logits = [&](int, const float* l, int v) { b.assign(l, l + v); };
  untied.generate(ids, nullptr, 0, o);
  ASSERT_EQ(a.size(), b.size());
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += (b[i] == 2.0f * a[i]);
  EXPECT_EQ(same, a.size());
  fs::remove_all(dir);
}

// --- vision --------------------------------------------------------------------------------

TEST(Oracle, PixelValuesFromPngMatchTile0) {
  auto ref0 = ref_f32("image.pixel_values_tile0");
  ASSERT_EQ(ref0.size(), size_t(3 * 512 * 512));
  EXPECT_EQ(max_abs_diff(ref0.data(), page_tiles().data(), ref0.size()), 0.0f);  // step 4 is bit-exact
}

TEST(Oracle, VisionTile0) {
  const Model& m = tiny();
  Captured cap;
  Tap tap = cap.tap();
  auto pix = ref_f32("image.pixel_values_tile0");  // HF's own float pixels
  std::vector<float> hidden(1024 * 64);
  encode_vision(m.config(), m.weights(), pix.data(), 1, hidden.data(), &tap);
  float e0 = max_abs_diff(cap.t["vision.embeddings/0/-1"], ref_f32("image.vision_embeddings_tile0"));
  float e1 = max_abs_diff(cap.t["vision.layer/0/0"], ref_f32("image.vision_hidden_after_layer0_tile0"));
  float e2 = max_abs_diff(hidden, ref_f32("image.vision_last_hidden_tile0"));
  std::printf("vision tile0: embeddings %.3g, after layer 0 %.3g, last hidden %.3g\n", e0, e1, e2);
  EXPECT_LT(e0, kVisionTol);
  EXPECT_LT(e1, kVisionTol);
  EXPECT_LT(e2, kVisionTol);
}

TEST(Oracle, VisionGlobalTileFromPng) {
  const auto& run = page_run();
  float e = max_abs_diff(run.cap.t.at("vision.last_hidden/12/-1"), ref_f32("image.vision_last_hidden_global"));
  std::printf("vision global: last hidden %.3g\n", e);
  EXPECT_LT(e, kVisionTol);
}

TEST(Oracle, ConnectorAndImageFeatures) {
  const auto& run = page_run();
  float e0 = max_abs_diff(run.cap.t.at("connector.pixel_shuffle/0/-1"), ref_f32("image.pixel_shuffle_tile0"));
  float e1 = max_abs_diff(run.features, ref_f32("image.image_features"));
  std::printf("pixel_shuffle tile0 %.3g, image_features (13 tiles) %.3g\n", e0, e1);
  EXPECT_LT(e0, kVisionTol);
  EXPECT_LT(e1, kFeatureTol);
}

TEST(Oracle, PixelShuffleOrder) {
  // Feature f = dy*(s*D) + dx*D + d of token (hb, wb) reads patch (s*hb+dy, s*wb+dx).
  const int side = 8, D = 3, s = 2;
  std::vector<float> x(side * side * D), out(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  pixel_shuffle(x.data(), side, D, s, out.data());
  int hb = 2, wb = 1, dy = 1, dx = 0, d = 2;
  int token = hb * (side / s) + wb, f = dy * s * D + dx * D + d;
  EXPECT_EQ(out[size_t(token * s * s * D + f)], x[size_t(((s * hb + dy) * side + s * wb + dx) * D + d)]);
}

// --- decoder -------------------------------------------------------------------------------

TEST(Oracle, EmbeddingsWithImageFeatures) {
  const Model& m = tiny();
  auto ids = ref_i32("image.input_ids");
  auto feats = ref_f32("image.image_features");
  ASSERT_EQ(ids.size(), 878u);
  std::vector<float> emb(ids.size() * 64);
  m.decoder().embed(ids.data(), int(ids.size()), feats.data(), 13 * 64, emb.data());
  EXPECT_EQ(max_abs_diff(emb, ref_f32("image.inputs_embeds")), 0.0f);  // lookups and copies only
  std::string msg = message_of([&] { m.decoder().embed(ids.data(), int(ids.size()), feats.data(), 13 * 64 - 1, emb.data()); });
  EXPECT_NE(msg.find("more <image> tokens"), std::string::npos) << msg;
}

TEST(Oracle, DecoderHiddenStates) {
  const Model& m = tiny();
  auto embeds = ref_f32("image.inputs_embeds");
  const int n = 878;
  KVCache cache(m.config().text, 1, n, KvType::F32);
  DecoderWorkspace ws;
  Captured cap;
  Tap tap = cap.tap();
  std::vector<int32_t> slots(n, 0);
  int32_t last = n - 1;
  std::vector<float> logits(100352);
  m.decoder().forward(ws, cache, embeds.data(), slots.data(), n, &last, 1, logits.data(), &tap);
  float e0 = max_abs_diff(cap.t["decoder.layer/0/0"], ref_f32("image.decoder_hidden_after_layer0"));
  float e1 = max_abs_diff(cap.t["decoder.final_norm/0/-1"], ref_f32("image.decoder_final_norm_hidden"));
  auto step = ref_f32("image.step_logits");
  float e2 = max_abs_diff(logits.data(), step.data(), logits.size());
  std::printf("decoder: after layer 0 %.3g, final norm %.3g, last-prompt logits %.3g\n", e0, e1, e2);
  EXPECT_LT(e0, kDecoderTol);
  EXPECT_LT(e1, kDecoderTol);
  EXPECT_LT(e2, kLogitTol);
  EXPECT_EQ(cache.len[0], n);
}

namespace {

struct StepLogits {
  std::vector<float> all;
  GenerateOptions opts(int max_new) {
    GenerateOptions o;
    o.max_new_tokens = max_new;
    o.stop_at_eos = false;  // the reference ran without an EOS stop
    o.loop.enabled = false;
    o.kv = KvType::F32;  // the reference's precision; the f16 cache is measured below
    o.on_logits = [this](int, const float* l, int v) { all.insert(all.end(), l, l + v); };
    return o;
  }
};

}  // namespace

TEST(Oracle, ImagePromptGenerationFromReferenceFeatures) {
  const Model& m = tiny();
  auto ids = ref_i32("image.input_ids");
  auto feats = ref_f32("image.image_features");
  StepLogits sl;
  std::vector<int32_t> streamed;
  GenerateOptions o = sl.opts(24);
  o.on_token = [&](int32_t t) { streamed.push_back(t); };
  GenerateResult r = m.generate(ids, feats.data(), 13 * 64, o);
  EXPECT_EQ(r.tokens, ref_i32("image.generated_ids"));
  EXPECT_EQ(streamed, r.tokens);
  EXPECT_EQ(r.stop, StopReason::MaxTokens);
  float e = max_abs_diff(sl.all, ref_f32("image.step_logits"));
  std::printf("image prompt: step_logits (24 x 100352) %.3g\n", e);
  EXPECT_LT(e, kLogitTol);
}

TEST(Oracle, F16KvCacheKeepsTheGreedyIds) {
  // The engine's default cache is f16: the same generation must give the same ids, with
  // logits within a small, stated distance of the f32 reference (measured: about 0.01).
  const Model& m = tiny();
  for (const char* which : {"image", "text"}) {
    const std::string w = which;
    auto ids = ref_i32(w + ".input_ids");
    auto feats = w == "image" ? ref_f32("image.image_features") : std::vector<float>();
    StepLogits sl;
    GenerateOptions o = sl.opts(24);
    o.kv = KvType::F16;
    GenerateResult r = m.generate(ids, feats.empty() ? nullptr : feats.data(), w == "image" ? 13 * 64 : 0, o);
    EXPECT_EQ(r.tokens, ref_i32(w + ".generated_ids")) << w;
    if (w == "image") {
      float e = max_abs_diff(sl.all, ref_f32("image.step_logits"));
      std::printf("f16 KV cache, image prompt: step_logits %.3g\n", e);
      EXPECT_LT(e, 0.05f);
      EXPECT_GT(e, 0.0f);  // it is the f16 path
    }
  }
}

TEST(Oracle, ImagePromptEndToEndFromPixels) {
  const Model& m = tiny();
  const auto& run = page_run();
  StepLogits sl;
  GenerateResult r = m.generate(ref_i32("image.input_ids"), run.features.data(), 13 * 64, sl.opts(24));
  EXPECT_EQ(r.tokens, ref_i32("image.generated_ids"));
  float e = max_abs_diff(sl.all, ref_f32("image.step_logits"));
  std::printf("image prompt from pixels: step_logits %.3g\n", e);
  EXPECT_LT(e, kLogitTol);
}

TEST(Oracle, TextPrompt) {
  const Model& m = tiny();
  auto ids = ref_i32("text.input_ids");
  ASSERT_EQ(ids.size(), 16u);
  StepLogits sl;
  GenerateResult r = m.generate(ids, nullptr, 0, sl.opts(24));
  EXPECT_EQ(r.tokens, ref_i32("text.generated_ids"));
  const int V = 100352;
  ASSERT_EQ(sl.all.size(), size_t(24) * V);
  float e0 = max_abs_diff(sl.all.data(), ref_f32("text.logits_last_prompt").data(), V);
  // Top-32 of every step: our logit at each reference id, and our own 32nd-largest value.
  auto top_v = ref_f32("text.step_logits_top32_values");
  auto top_i = ref_i32("text.step_logits_top32_ids");
  float e1 = 0, e2 = 0;
  for (int s = 0; s < 24; ++s) {
    const float* l = sl.all.data() + size_t(s) * V;
    for (int j = 0; j < 32; ++j) e1 = std::max(e1, std::fabs(l[top_i[size_t(s * 32 + j)]] - top_v[size_t(s * 32 + j)]));
    std::vector<float> row(l, l + V);
    std::nth_element(row.begin(), row.begin() + 31, row.end(), std::greater<float>());
    e2 = std::max(e2, std::fabs(row[31] - top_v[size_t(s * 32 + 31)]));
    EXPECT_EQ(top_i[size_t(s * 32)], r.tokens[size_t(s)]);
  }
  std::printf("text prompt: logits_last_prompt %.3g, top32 logits %.3g, 32nd value %.3g\n", e0, e1, e2);
  EXPECT_LT(e0, kLogitTol);
  EXPECT_LT(e1, kLogitTol);
  EXPECT_LT(e2, kLogitTol);
}

TEST(Oracle, BatchedDecodeMatchesSingleSequences) {
  // Two sequences (text prompt, image prompt) in one cache, decoded together one row each.
  const Model& m = tiny();
  const Decoder& dec = m.decoder();
  const int V = 100352, H = 64;
  auto text_ids = ref_i32("text.input_ids"), img_ids = ref_i32("image.input_ids");
  auto feats = ref_f32("image.image_features");
  auto text_gen = ref_i32("text.generated_ids"), img_gen = ref_i32("image.generated_ids");
  KVCache cache(m.config().text, 2, 1000, KvType::F32);
  DecoderWorkspace ws;
  std::vector<float> logits(2 * size_t(V));
  // Prefill both prompts in one forward: rows of slot 1 then slot 0.
  std::vector<float> emb((img_ids.size() + text_ids.size()) * H);
  dec.embed(img_ids.data(), int(img_ids.size()), feats.data(), 13 * 64, emb.data());
  dec.embed(text_ids.data(), int(text_ids.size()), nullptr, 0, emb.data() + img_ids.size() * H);
  std::vector<int32_t> slots(img_ids.size(), 1);
  slots.insert(slots.end(), text_ids.size(), 0);
  int32_t rows[2] = {int32_t(img_ids.size() - 1), int32_t(slots.size() - 1)};
  dec.forward(ws, cache, emb.data(), slots.data(), int(slots.size()), rows, 2, logits.data());
  auto img_steps = ref_f32("image.step_logits");
  auto text_last = ref_f32("text.logits_last_prompt");
  float e = std::max(max_abs_diff(logits.data(), img_steps.data(), V), max_abs_diff(logits.data() + V, text_last.data(), V));
  for (int step = 0; step < 8; ++step) {
    EXPECT_EQ(argmax(logits.data(), V), img_gen[size_t(step)]);
    EXPECT_EQ(argmax(logits.data() + V, V), text_gen[size_t(step)]);
    int32_t toks[2] = {img_gen[size_t(step)], text_gen[size_t(step)]}, sl[2] = {1, 0}, lr[2] = {0, 1};
    dec.embed_ids(toks, 2, emb.data());
    dec.forward(ws, cache, emb.data(), sl, 2, lr, 2, logits.data());
    e = std::max(e, max_abs_diff(logits.data(), img_steps.data() + size_t(step + 1) * V, V));
  }
  EXPECT_LT(e, kLogitTol);
  EXPECT_EQ(cache.len[1], int(img_ids.size()) + 8);
  EXPECT_EQ(cache.len[0], int(text_ids.size()) + 8);
  // Rows of one sequence must be contiguous.
  int32_t bad[3] = {0, 1, 0};
  std::string msg = message_of([&] { dec.forward(ws, cache, emb.data(), bad, 3, nullptr, 0, nullptr); });
  EXPECT_NE(msg.find("contiguous"), std::string::npos) << msg;
}

TEST(Generate, StopsAndLimits) {
  const Model& m = tiny();
  auto ids = ref_i32("text.input_ids");
  auto gen = ref_i32("text.generated_ids");
  GenerateOptions o = m.default_options();
  EXPECT_NE(std::find(o.stop_ids.begin(), o.stop_ids.end(), 100257), o.stop_ids.end());
  EXPECT_NE(std::find(o.stop_ids.begin(), o.stop_ids.end(), 100328), o.stop_ids.end());
  o.max_new_tokens = 24;
  o.stop_ids.push_back(gen[5]);  // first occurrence of that id ends generation, token kept
  size_t first = size_t(std::find(gen.begin(), gen.end(), gen[5]) - gen.begin());
  GenerateResult r = m.generate(ids, nullptr, 0, o);
  EXPECT_EQ(r.stop, StopReason::StopToken);
  EXPECT_EQ(r.tokens, std::vector<int32_t>(gen.begin(), gen.begin() + long(first) + 1));

  o = m.default_options();
  o.max_new_tokens = 24;
  o.stop_when = [](const std::vector<int32_t>& t) { return t.size() == 3; };
  r = m.generate(ids, nullptr, 0, o);
  EXPECT_EQ(r.stop, StopReason::StopCallback);
  EXPECT_EQ(r.tokens.size(), 3u);

  o = m.default_options();
  o.max_new_tokens = 5;
  r = m.generate(ids, nullptr, 0, o);
  EXPECT_EQ(r.stop, StopReason::MaxTokens);
  EXPECT_EQ(r.tokens, std::vector<int32_t>(gen.begin(), gen.begin() + 5));

  // Loop guard plumbing: a guard so strict that any token repeating within 8 places counts
  // as a loop ends generation there, keeping the tokens (compared with an unguarded run).
  o = m.default_options();
  o.max_new_tokens = 80;
  o.loop.enabled = false;
  GenerateResult free_run = m.generate(ids, nullptr, 0, o);
  size_t expect_end = 0;
  for (size_t i = 1; i < free_run.tokens.size() && !expect_end; ++i)
    for (size_t p = 1; p <= 8 && p <= i; ++p)
      if (free_run.tokens[i] == free_run.tokens[i - p]) expect_end = i + 1;
  ASSERT_GT(expect_end, 0u) << "the unguarded run has no near repeat; pick another guard";
  o.loop.enabled = true;
  o.loop.max_period = 8;
  o.loop.min_repeats = 1;
  o.loop.min_span = 1;
  r = m.generate(ids, nullptr, 0, o);
  EXPECT_EQ(r.stop, StopReason::Loop);
  EXPECT_NE(r.warning.find("repeats"), std::string::npos) << r.warning;
  EXPECT_EQ(r.tokens, std::vector<int32_t>(free_run.tokens.begin(), free_run.tokens.begin() + long(expect_end)));

  std::string msg = message_of([&] { m.generate(ids, nullptr, 3, m.default_options()); });
  EXPECT_NE(msg.find("image feature rows"), std::string::npos) << msg;
}
