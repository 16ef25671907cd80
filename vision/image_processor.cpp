#include "vision/image_processor.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "vision/model_files.h"
#include <stdexcept>

namespace docling::vision {

// ---------------------------------------------------------------------------------------------
// Config

// Longest edge a configuration may ask for: far past any checkpoint (2048), short of sizes
// whose pixel buffers would not fit in memory.
constexpr int64_t kMaxEdge = 1 << 14;

ImageProcessorConfig ImageProcessorConfig::load(const std::string& model_dir) {
  return load(ModelFiles::read(model_dir));
}

ImageProcessorConfig ImageProcessorConfig::load(const ModelFiles& files) {
  const std::string path = files.path("preprocessor_config.json");
  const nlohmann::json* jp = files.json("preprocessor_config.json");
  if (!jp) throw std::runtime_error(path + ": cannot open");
  const nlohmann::json& j = *jp;
  if (!j.is_object()) throw std::runtime_error(path + ": not a JSON object");
  ImageProcessorConfig c;
  // {"longest_edge": N} with N a pixel count a page could have (2^40 would wrap in an int).
  auto edge = [&](const char* key, int dflt) {
    if (!j.contains(key)) return dflt;
    const auto& o = j[key];
    if (!o.is_object()) throw std::runtime_error(std::string("'") + key + "' must be {\"longest_edge\": N}");
    if (!o.contains("longest_edge")) return dflt;
    const auto& v = o["longest_edge"];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > kMaxEdge)
      throw std::runtime_error(std::string(key) + ".longest_edge " + v.dump() + " is not in 1.." +
                               std::to_string(kMaxEdge));
    return v.get<int>();
  };
  try {
    c.do_resize = j.value("do_resize", c.do_resize);
    c.longest_edge = edge("size", c.longest_edge);
    c.do_image_splitting = j.value("do_image_splitting", c.do_image_splitting);
    c.tile_size = edge("max_image_size", c.tile_size);
    c.resample = j.value("resample", c.resample);
    c.do_rescale = j.value("do_rescale", c.do_rescale);
    c.rescale_factor = j.value("rescale_factor", c.rescale_factor);
    c.do_normalize = j.value("do_normalize", c.do_normalize);
    for (const char* key : {"image_mean", "image_std"}) {
      if (!j.contains(key)) continue;
      float* dst = key[6] == 'm' ? c.mean : c.std;
      const auto& v = j[key];
      for (int i = 0; i < 3; ++i) dst[i] = v.is_array() ? v.at(v.size() == 1 ? 0 : i).get<float>()
                                                        : v.get<float>();
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": unexpected value (" + e.what() + ")");
  }
  if (c.resample != 1)
    throw std::runtime_error(path + ": resample " + std::to_string(c.resample) +
                             " not supported (only 1 = LANCZOS)");
  if (c.tile_size > c.longest_edge)
    throw std::runtime_error(path + ": max_image_size.longest_edge " + std::to_string(c.tile_size) +
                             " (the tile) is larger than size.longest_edge " + std::to_string(c.longest_edge));
  if (!(std::isfinite(c.rescale_factor) && c.rescale_factor > 0))
    throw std::runtime_error(path + ": rescale_factor must be a positive number");
  for (int i = 0; i < 3; ++i) {
    if (!std::isfinite(c.mean[i])) throw std::runtime_error(path + ": image_mean must be finite numbers");
    if (!(std::isfinite(c.std[i]) && c.std[i] > 0))
      throw std::runtime_error(path + ": image_std must be positive numbers (it divides)");
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Sizes (HF's integer recipes, copied literally: int() truncates, math.ceil on doubles)

void idefics3_step1_size(int w, int h, int longest_edge, int* out_w, int* out_h) {
  double aspect = double(w) / double(h);
  if (w >= h) {
    w = longest_edge;
    h = int(double(w) / aspect);
    if (h % 2) h += 1;
  } else {
    h = longest_edge;
    w = int(double(h) * aspect);
    if (w % 2) w += 1;
  }
  h = std::max(h, 1);
  w = std::max(w, 1);
  // HF then scales below 4096 (MAX_IMAGE_SIZE), keeping the aspect.
  const int kMax = 4096;
  aspect = double(w) / double(h);
  if (w >= h && w > kMax) {
    w = kMax;
    h = int(double(w) / aspect);
  } else if (h > w && h > kMax) {
    h = kMax;
    w = int(double(h) * aspect);
  }
  *out_w = std::max(w, 1);
  *out_h = std::max(h, 1);
}

void idefics3_step2_size(int w, int h, int tile, int* out_w, int* out_h) {
  double aspect = double(w) / double(h);
  auto up = [tile](double v) { return int(std::ceil(v / tile)) * tile; };
  if (w >= h) {
    w = up(w);
    h = up(int(double(w) / aspect));
  } else {
    h = up(h);
    w = up(int(double(h) * aspect));
  }
  *out_w = w;
  *out_h = h;
}

// ---------------------------------------------------------------------------------------------
// Pillow LANCZOS (Resample.c semantics)

namespace {

// x86-64: also build an AVX2 version of the hot loops, chosen at load time (int32 multiplies
// only vectorize from SSE4.1 on, and the baseline is SSE2).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DOCLING_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DOCLING_AVX2_CLONES
#endif

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

double lanczos(double x) {
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3.0);
  return 0.0;
}

// Fixed-point filter taps for one axis: output o reads in[first[o] .. first[o]+count[o]).
struct Taps {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> k;  // out * ksize
};

Taps make_taps(int in, int out) {
  Taps t;
  // Pillow passes the box edges as floats; (float)in - 0.0f is exact for image sizes.
  double scale = double(float(in) - 0.0f) / out;
  double filterscale = std::max(scale, 1.0);
  double support = 3.0 * filterscale;
  t.ksize = int(std::ceil(support)) * 2 + 1;
  t.first.resize(out);
  t.count.resize(out);
  t.k.assign(size_t(out) * t.ksize, 0);
  std::vector<double> w(t.ksize);
  double ss = 1.0 / filterscale;  // Pillow multiplies by the reciprocal; keep it for exactness
  for (int o = 0; o < out; ++o) {
    double center = 0.0 + (o + 0.5) * scale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in) xmax = in;
    xmax -= xmin;
    double sum = 0.0;
    for (int j = 0; j < xmax; ++j) {
      w[j] = lanczos((j + xmin - center + 0.5) * ss);
      sum += w[j];
    }
    int32_t* k = &t.k[size_t(o) * t.ksize];
    for (int j = 0; j < xmax; ++j) {
      double v = sum != 0.0 ? w[j] / sum : w[j];
      v *= double(1 << kPrecisionBits);
      k[j] = v < 0 ? int32_t(-0.5 + v) : int32_t(0.5 + v);
    }
    t.first[o] = xmin;
    t.count[o] = xmax;
  }
  return t;
}

inline uint8_t clip8(int32_t acc) {
  acc >>= kPrecisionBits;  // arithmetic shift, as Pillow's lookup index
  return uint8_t(acc < 0 ? 0 : acc > 255 ? 255 : acc);
}

// acc[i] += in[i] * k over a row. The hot loop of both passes: built for AVX2 as well (int32
// multiplies need SSE4.1+ to vectorize) and picked at load time.
DOCLING_AVX2_CLONES
void accumulate_row(int32_t* __restrict acc, const uint8_t* __restrict in, int32_t k, size_t n) {
  for (size_t i = 0; i < n; ++i) acc[i] += int32_t(in[i]) * k;
}

DOCLING_AVX2_CLONES
void clip_row(uint8_t* __restrict out, const int32_t* __restrict acc, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = clip8(acc[i]);
}

// Vertical pass: dst row y = sum_j k[j] * src row (first[y] + j). Accumulates whole rows so the
// inner loop runs over contiguous bytes; one accumulator row per task, not per pixel.
void resample_v(const Image& src, Image& dst, const Taps& t) {
  const size_t n = size_t(dst.width) * 3;
  tbb::parallel_for(tbb::blocked_range<int>(0, dst.height, 8), [&](const tbb::blocked_range<int>& r) {
    std::vector<int32_t> acc(n);
    for (int y = r.begin(); y < r.end(); ++y) {
      std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
      const int32_t* k = &t.k[size_t(y) * t.ksize];
      for (int j = 0; j < t.count[y]; ++j) accumulate_row(acc.data(), src.row(t.first[y] + j), k[j], n);
      clip_row(dst.row(y), acc.data(), n);
    }
  });
}

// Horizontal pass for two rows at once (they share every tap load). Scalar: three channels per
// tap map badly onto vector lanes, and transposing to reuse the vertical kernel cost more than it
// saved (measured).
void resample_row_pair_h(const uint8_t* in0, const uint8_t* in1, uint8_t* out0, uint8_t* out1,
                         const Taps& t, int W) {
  for (int x = 0; x < W; ++x) {
    const int32_t* k = &t.k[size_t(x) * t.ksize];
    const size_t f = size_t(t.first[x]) * 3;
    const uint8_t *p = in0 + f, *q = in1 + f;
    int32_t a0 = 1 << (kPrecisionBits - 1), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
    for (int j = 0, n = t.count[x]; j < n; ++j, p += 3, q += 3) {
      const int32_t kj = k[j];
      a0 += p[0] * kj;
      a1 += p[1] * kj;
      a2 += p[2] * kj;
      b0 += q[0] * kj;
      b1 += q[1] * kj;
      b2 += q[2] * kj;
    }
    out0[3 * x] = clip8(a0);
    out0[3 * x + 1] = clip8(a1);
    out0[3 * x + 2] = clip8(a2);
    out1[3 * x] = clip8(b0);
    out1[3 * x + 1] = clip8(b1);
    out1[3 * x + 2] = clip8(b2);
  }
}

// Horizontal pass: dst row y from source row y0 + y.
void resample_h(const Image& src, Image& dst, int y0, const Taps& t) {
  const int pairs = (dst.height + 1) / 2;
  tbb::parallel_for(tbb::blocked_range<int>(0, pairs, 8), [&](const tbb::blocked_range<int>& r) {
    for (int i = r.begin(); i < r.end(); ++i) {
      const int ya = 2 * i, yb = std::min(ya + 1, dst.height - 1);  // odd height: last row twice
      resample_row_pair_h(src.row(y0 + ya), src.row(y0 + yb), dst.row(ya), dst.row(yb), t, dst.width);
    }
  });
}

}  // namespace

Image resize_lanczos(const Image& src, int out_w, int out_h) {
  if (src.empty() || out_w <= 0 || out_h <= 0)
    throw std::invalid_argument("resize_lanczos: empty image or size");
  if (src.rgb.size() != size_t(src.width) * src.height * 3)
    throw std::invalid_argument("resize_lanczos: pixel buffer does not match the image size");
  bool need_h = out_w != src.width, need_v = out_h != src.height;
  if (!need_h && !need_v) return src;
  Taps tv = make_taps(src.height, out_h);
  if (!need_h) {
    Image out(out_w, out_h);
    resample_v(src, out, tv);
    return out;
  }
  Taps th = make_taps(src.width, out_w);
  // Like Pillow, the horizontal pass only covers the source rows the vertical pass reads.
  int y_first = 0, y_last = src.height;
  if (need_v) {
    y_first = tv.first[0];
    y_last = tv.first[out_h - 1] + tv.count[out_h - 1];
    for (int& f : tv.first) f -= y_first;
  }
  Image tmp(out_w, y_last - y_first);
  resample_h(src, tmp, y_first, th);
  if (!need_v) return tmp;
  Image out(out_w, out_h);
  resample_v(tmp, out, tv);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Processor

namespace {

// u8 -> normalized float for each channel, HF's exact arithmetic: rescale in float64 then cast to
// float32, normalize in float32.
void make_lut(const ImageProcessorConfig& cfg, float lut[3][256]) {
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) {
      float x = cfg.do_rescale ? float(double(v) * cfg.rescale_factor) : float(v);
      if (cfg.do_normalize) x = (x - cfg.mean[c]) / cfg.std[c];
      lut[c][v] = x;
    }
}

// Tile [x0, x0+T) x [y0, y0+T) of img into CHW floats (and optionally HWC u8).
void emit_tile(const Image& img, int x0, int y0, int T, const float lut[3][256], float* dst,
               uint8_t* u8) {
  const size_t plane = size_t(T) * T;
  for (int y = 0; y < T; ++y) {
    const uint8_t* p = img.row(y0 + y) + size_t(x0) * 3;
    float* r = dst + size_t(y) * T;
    for (int x = 0; x < T; ++x) {
      r[x] = lut[0][p[3 * x]];
      r[plane + x] = lut[1][p[3 * x + 1]];
      r[2 * plane + x] = lut[2][p[3 * x + 2]];
    }
    if (u8) std::memcpy(u8 + size_t(y) * T * 3, p, size_t(T) * 3);
  }
}

}  // namespace

PixelTiles preprocess_image(const Image& page, const ImageProcessorConfig& cfg,
                            const PreprocessOptions& opt) {
  PixelTiles out;
  preprocess_image(page, cfg, opt, out);
  return out;
}

void preprocess_image(const Image& page, const ImageProcessorConfig& cfg, const PreprocessOptions& opt,
                      PixelTiles& out) {
  if (page.empty()) throw std::invalid_argument("preprocess_image: empty image");
  const int T = cfg.tile_size;
  out.rows = out.cols = 0;
  out.tile_size = T;

  Image step1;
  const Image* cur = &page;
  if (cfg.do_resize && !opt.skip_step1) {
    idefics3_step1_size(page.width, page.height, cfg.longest_edge, &out.step1_w, &out.step1_h);
    step1 = resize_lanczos(page, out.step1_w, out.step1_h);
    cur = &step1;
  }
  out.step1_w = cur->width;
  out.step1_h = cur->height;

  Image step2;
  if (cfg.do_image_splitting) {
    idefics3_step2_size(cur->width, cur->height, T, &out.step2_w, &out.step2_h);
  } else {
    out.step2_w = out.step2_h = T;  // HF squares the image to the tile size instead of splitting
  }
  if (out.step2_w != cur->width || out.step2_h != cur->height) {
    step2 = resize_lanczos(*cur, out.step2_w, out.step2_h);
    cur = &step2;
  }
  if (cur != &step1) step1 = Image();  // no longer needed

  const bool split = cfg.do_image_splitting && (cur->width > T || cur->height > T);
  if (split) {
    out.rows = (cur->height + T - 1) / T;
    out.cols = (cur->width + T - 1) / T;
  }
  out.n_tiles = split ? out.rows * out.cols + 1 : 1;
  // Step 2 makes both sides multiples of T, so every crop and the global view are exactly T x T.
  if (cur->width != (split ? out.cols * T : T) || cur->height != (split ? out.rows * T : T))
    throw std::logic_error("preprocess_image: step-2 size is not a tile multiple");

  float lut[3][256];
  make_lut(cfg, lut);
  out.pixels.resize(size_t(out.n_tiles) * out.tile_floats());
  if (opt.keep_u8) out.u8.resize(size_t(out.n_tiles) * T * T * 3);
  else out.u8.clear();
  auto u8_tile = [&](int i) { return opt.keep_u8 ? out.u8.data() + size_t(i) * T * T * 3 : nullptr; };

  Image global;
  if (split) global = resize_lanczos(*cur, T, T);
  const int n_crops = split ? out.rows * out.cols : 0;
  tbb::parallel_for(0, out.n_tiles, [&](int i) {
    float* dst = out.pixels.data() + size_t(i) * out.tile_floats();
    if (i < n_crops)
      emit_tile(*cur, (i % out.cols) * T, (i / out.cols) * T, T, lut, dst, u8_tile(i));
    else
      emit_tile(split ? global : *cur, 0, 0, T, lut, dst, u8_tile(i));
  });
}

}  // namespace docling::vision
