#include "vision/weights.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "kernels/kernels.h"
#include "vision/quant.h"

namespace docling::vision {

using namespace kernels;

namespace {

bool file_exists(const std::string& p) {
  struct stat sb {};
  return stat(p.c_str(), &sb) == 0 && S_ISREG(sb.st_mode);
}

// Gives the kernel the pages of a mapped matrix back once its int8 copy exists (they are
// re-read from the file if the BF16 view is used again, e.g. for embedding lookups).
void release_pages(const void* p, size_t bytes) {
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t b = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  uintptr_t e = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(page - 1);
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
}

struct Binder {
  Weights& w;

  Mat mat(const std::string& name, int rows, int cols) {
    const TensorView& t = w.file.get(name, {rows, cols});
    return from_view(t, rows, cols);
  }
  Mat from_view(const TensorView& t, int rows, int cols) {
    Mat m;
    m.rows = rows;
    m.cols = cols;
    if (t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::F64) {
      // A full-precision checkpoint: converted once to BF16 (round to nearest even), the
      // file's pages given back. The published checkpoints store BF16 and are used in place.
      std::vector<float> f = w.file.to_f32(t);
      w.owned.emplace_back(f.size());
      uint16_t* dst = w.owned.back().data();
      for (size_t i = 0; i < f.size(); ++i) dst[i] = f32_to_bf16(f[i]);
      release_pages(t.data, t.nbytes);
      m.w = dst;
      return m;
    }
    if (t.dtype != DType::BF16)
      throw std::runtime_error(w.file.path() + ": tensor '" + t.name + "' is " + dtype_name(t.dtype) +
                               "; expected BF16, F16 or F32 weights");
    if (reinterpret_cast<uintptr_t>(t.data) % alignof(uint16_t) == 0) {
      m.w = static_cast<const uint16_t*>(t.data);
    } else {  // the format does not promise alignment; copy the rare odd one
      w.owned.emplace_back(size_t(t.numel()));
      std::memcpy(w.owned.back().data(), t.data, t.nbytes);
      m.w = w.owned.back().data();
    }
    return m;
  }
  std::vector<float> vec(const std::string& name, std::vector<int64_t> shape) {
    return w.file.to_f32(w.file.get(name, shape));
  }
};

// Once a matrix has a copy its products use, the mapped BF16 pages go back to the kernel
// (a heap copy made at bind time stays).
void release_view(const Weights& w, const Mat& m) {
  for (const auto& o : w.owned)
    if (o.data() == m.w) return;  // a heap copy, not a view into the mapping
  release_pages(m.w, size_t(m.rows) * size_t(m.cols) * 2);
}

void quantize(Weights& w, Mat& m, int group) {
  if (m.q || !m.w) return;
  const int ng = int8_groups(m.cols, group);
  w.qdata.emplace_back(size_t(m.rows) * size_t(m.cols));
  w.qscale.emplace_back(size_t(m.rows) * size_t(ng));
  quantize_rows_int8(m.w, m.rows, m.cols, group, w.qdata.back().data(), w.qscale.back().data());
  m.q = w.qdata.back().data();
  m.scale = w.qscale.back().data();
  m.group = group > 0 && group < m.cols ? group : m.cols;
  release_view(w, m);
}

// Panel forms of the decoder's matrices, in one block (large pages span matrices), each
// starting on a cache line; the mapped BF16 pages are given back (a tied lm_head shares them
// with the embedding table, whose lookups fault the rows they need back in).
void panelize(Weights& w, const std::vector<Mat*>& mats) {
  const BLayout layout = preferred_panel_layout();
  auto span = [&](const Mat& m) { return (panel_elems(m.rows, m.cols, layout) + 31) / 32 * 32; };
  int64_t total = 0;
  for (const Mat* m : mats)
    if (!m->p && m->w) total += span(*m);
  w.panels.resize(size_t(total));
  int64_t at = 0;
  for (Mat* m : mats) {
    if (m->p || !m->w) continue;
    to_panels(m->w, m->rows, m->cols, m->cols, w.panels.data() + at, layout);
    m->p = w.panels.data() + at;
    m->pl = layout;
    at += span(*m);
    release_view(w, *m);
  }
}

}  // namespace

void linear(const float* x, int M, const Mat& w, const float* bias, float* y, bool accumulate) {
  gemm(linear_gemm(x, M, w, bias, y, accumulate));
}

Gemm linear_gemm(const float* x, int M, const Mat& w, const float* bias, float* y, bool accumulate) {
  Gemm g;
  g.M = M; g.N = w.rows; g.K = w.cols; g.x = x; g.ldx = w.cols;
  g.layout = BLayout::NK; g.ldb = w.cols; g.bias = bias; g.y = y; g.ldy = w.rows; g.accumulate = accumulate;
  g.xtype = w.x;
  if (w.q) {
    g.b = w.q; g.btype = BType::I8; g.bscale = w.scale; g.group = w.group;
  } else if (w.p) {
    g.b = w.p; g.btype = BType::BF16; g.layout = w.pl;
  } else {
    g.b = w.w; g.btype = BType::BF16;
  }
  return g;
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::F32: return "f32";
    case Precision::BF16: return "bf16";
    case Precision::INT8: return "int8";
  }
  return "?";
}

Weights Weights::load(const std::string& dir, const ModelConfig& cfg, WeightType type, int group, Precision vision,
                      Precision decode, bool screen_head) {
  Weights w = bind(dir, cfg);
  w.vision = vision;
  if (vision != Precision::F32) {
    std::vector<Mat*> mats = {&w.patch, &w.proj};
    for (auto& L : w.vision_layers)
      for (Mat* m : {&L.q, &L.k, &L.v, &L.o, &L.fc1, &L.fc2}) mats.push_back(m);
    for (Mat* m : mats) {
      if (vision == Precision::INT8) quantize(w, *m, 0);  // per output channel, as XType::I8 needs
      m->x = vision == Precision::INT8 ? XType::I8 : XType::BF16;
    }
  }
  if (type == WeightType::BF16) {
    std::vector<Mat*> mats;
    for (auto& L : w.text_layers)
      for (Mat* m : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) mats.push_back(m);
    mats.push_back(&w.lm_head);
    // From the BF16 rows, before their pages go back; only where its kernel can run.
    if (screen_head && decode == Precision::F32 && head_screen_usable())
      w.head_screen = make_head_screen(w.lm_head.w, w.lm_head.rows, w.lm_head.cols, w.lm_head.cols);
    panelize(w, mats);
    if (decode == Precision::BF16)
      for (Mat* m : mats) m->x = XType::BF16;
    return w;
  }
  w.type = type;
  // The int8 copies are stable: inner vectors keep their buffers when the outer ones grow.
  quantize(w, w.patch, group);
  for (auto& L : w.vision_layers)
    for (Mat* m : {&L.q, &L.k, &L.v, &L.o, &L.fc1, &L.fc2}) quantize(w, *m, group);
  quantize(w, w.proj, group);
  for (auto& L : w.text_layers)
    for (Mat* m : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) quantize(w, *m, group);
  quantize(w, w.lm_head, group);  // tied: embed keeps only its BF16 view, for lookups
  return w;
}

Weights Weights::bind(const std::string& dir, const ModelConfig& cfg) {
  std::string path = dir + "/model.safetensors";
  if (!file_exists(path))
    throw std::runtime_error(path + ": model weights not found. Download the model ibm-granite/granite-docling-258M "
                             "from Hugging Face into " + dir +
                             " (e.g. `huggingface-cli download ibm-granite/granite-docling-258M --local-dir " + dir +
                             "`)");
  Weights w;
  w.file = SafeTensors::open(path);
  Binder b{w};
  const VisionConfig& v = cfg.vision;
  const TextConfig& t = cfg.text;
  const std::string vp = "model.vision_model.";

  const TensorView& patch = w.file.get(vp + "embeddings.patch_embedding.weight",
                                       {v.hidden, v.channels, v.patch_size, v.patch_size});
  w.patch = b.from_view(patch, v.hidden, v.channels * v.patch_size * v.patch_size);
  w.patch_b = b.vec(vp + "embeddings.patch_embedding.bias", {v.hidden});
  w.pos_embed = b.vec(vp + "embeddings.position_embedding.weight", {v.num_patches(), v.hidden});
  for (int l = 0; l < v.layers; ++l) {
    std::string p = vp + "encoder.layers." + std::to_string(l) + ".";
    VisionLayerWeights L;
    L.q = b.mat(p + "self_attn.q_proj.weight", v.hidden, v.hidden);
    L.k = b.mat(p + "self_attn.k_proj.weight", v.hidden, v.hidden);
    L.v = b.mat(p + "self_attn.v_proj.weight", v.hidden, v.hidden);
    L.o = b.mat(p + "self_attn.out_proj.weight", v.hidden, v.hidden);
    L.q_b = b.vec(p + "self_attn.q_proj.bias", {v.hidden});
    L.k_b = b.vec(p + "self_attn.k_proj.bias", {v.hidden});
    L.v_b = b.vec(p + "self_attn.v_proj.bias", {v.hidden});
    L.o_b = b.vec(p + "self_attn.out_proj.bias", {v.hidden});
    L.fc1 = b.mat(p + "mlp.fc1.weight", v.intermediate, v.hidden);
    L.fc1_b = b.vec(p + "mlp.fc1.bias", {v.intermediate});
    L.fc2 = b.mat(p + "mlp.fc2.weight", v.hidden, v.intermediate);
    L.fc2_b = b.vec(p + "mlp.fc2.bias", {v.hidden});
    L.ln1_w = b.vec(p + "layer_norm1.weight", {v.hidden});
    L.ln1_b = b.vec(p + "layer_norm1.bias", {v.hidden});
    L.ln2_w = b.vec(p + "layer_norm2.weight", {v.hidden});
    L.ln2_b = b.vec(p + "layer_norm2.bias", {v.hidden});
    w.vision_layers.push_back(std::move(L));
  }
  w.post_ln_w = b.vec(vp + "post_layernorm.weight", {v.hidden});
  w.post_ln_b = b.vec(vp + "post_layernorm.bias", {v.hidden});

  w.proj = b.mat("model.connector.modality_projection.proj.weight", t.hidden, cfg.connector_in());

  const std::string tp = "model.text_model.";
  w.embed = b.mat(tp + "embed_tokens.weight", t.vocab, t.hidden);
  int qd = t.heads * t.head_dim, kvd = t.kv_heads * t.head_dim;
  for (int l = 0; l < t.layers; ++l) {
    std::string p = tp + "layers." + std::to_string(l) + ".";
    TextLayerWeights L;
    L.q = b.mat(p + "self_attn.q_proj.weight", qd, t.hidden);
    L.k = b.mat(p + "self_attn.k_proj.weight", kvd, t.hidden);
    L.v = b.mat(p + "self_attn.v_proj.weight", kvd, t.hidden);
    L.o = b.mat(p + "self_attn.o_proj.weight", t.hidden, qd);
    L.gate = b.mat(p + "mlp.gate_proj.weight", t.intermediate, t.hidden);
    L.up = b.mat(p + "mlp.up_proj.weight", t.intermediate, t.hidden);
    L.down = b.mat(p + "mlp.down_proj.weight", t.hidden, t.intermediate);
    L.input_norm = b.vec(p + "input_layernorm.weight", {t.hidden});
    L.post_attention_norm = b.vec(p + "post_attention_layernorm.weight", {t.hidden});
    w.text_layers.push_back(std::move(L));
  }
  w.final_norm = b.vec(tp + "norm.weight", {t.hidden});
  if (w.file.has("lm_head.weight"))
    w.lm_head = b.mat("lm_head.weight", t.vocab, t.hidden);
  else if (cfg.tie_word_embeddings)
    w.lm_head = w.embed;
  else
    throw std::runtime_error(path + ": tensor 'lm_head.weight' not found and tie_word_embeddings is false");
  return w;
}

}  // namespace docling::vision
