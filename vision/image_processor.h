// Idefics3 image preprocessing, bit-exact with Hugging Face's slow Idefics3ImageProcessor
// (transformers 4.56, Pillow LANCZOS on uint8 RGB).
//
// Takes: a page Image (RGB8) and the model folder's preprocessor_config.json.
// Gives: PixelTiles — the tile grid (rows x cols + one global view) as float CHW tiles, ready for
//        the vision encoder, in the order the prompt's <image> blocks expect (row-major, global last).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/image.h"

namespace docling::vision {

class ModelFiles;

// preprocessor_config.json of an Idefics3 checkpoint. Defaults are granite-docling's.
struct ImageProcessorConfig {
  bool do_resize = true;
  int longest_edge = 2048;          // size.longest_edge: step 1 target
  bool do_image_splitting = true;
  int tile_size = 512;              // max_image_size.longest_edge: tile side and step-2 multiple
  int resample = 1;                 // PIL filter id; only 1 (LANCZOS) is implemented
  bool do_rescale = true;
  double rescale_factor = 0.00392156862745098;
  bool do_normalize = true;
  float mean[3] = {0.5f, 0.5f, 0.5f};
  float std[3] = {0.5f, 0.5f, 0.5f};

  // Reads <model_dir>/preprocessor_config.json; throws std::runtime_error naming the file.
  static ImageProcessorConfig load(const std::string& model_dir);
  static ImageProcessorConfig load(const ModelFiles& files);  // files read once (model_files.h)
};

struct PreprocessOptions {
  // The caller already rendered the page at step1_size() (e.g. straight from the PDF): skip the
  // first LANCZOS resize. Not bit-identical to HF (which resizes a rendered bitmap) but faster.
  bool skip_step1 = false;
  bool keep_u8 = false;  // also return the uint8 tiles (HWC RGB)
};

struct PixelTiles {
  int rows = 0, cols = 0;  // grid; 0 x 0 when the image is one unsplit tile
  int n_tiles = 0;         // rows*cols + 1 (global view last), or 1 when unsplit
  int tile_size = 0;
  int step1_w = 0, step1_h = 0, step2_w = 0, step2_h = 0;  // sizes after steps 1 and 2
  std::vector<float> pixels;  // [n_tiles][3][tile_size][tile_size], normalized
  std::vector<uint8_t> u8;    // [n_tiles][tile_size][tile_size][3] when keep_u8

  size_t tile_floats() const { return size_t(3) * tile_size * tile_size; }
  const float* tile(int i) const { return pixels.data() + size_t(i) * tile_floats(); }
};

// Step 1: longest edge to `longest_edge`, aspect kept, short side truncated and made even.
void idefics3_step1_size(int w, int h, int longest_edge, int* out_w, int* out_h);
// Step 2: each side up to a multiple of `tile` (aspect not kept; HF's exact integer recipe).
void idefics3_step2_size(int w, int h, int tile, int* out_w, int* out_h);

// Pillow's Image.resize(size, LANCZOS) on RGB8, bit for bit (fixed-point, horizontal pass into an
// 8-bit intermediate, then vertical). Same size returns a copy. Parallel over rows (TBB).
Image resize_lanczos(const Image& src, int out_w, int out_h);

// The whole processor for one image. Throws std::invalid_argument on an empty image.
PixelTiles preprocess_image(const Image& page, const ImageProcessorConfig& cfg,
                            const PreprocessOptions& opt = {});
// Same, reusing `out`'s buffers (41 MB of floats for a 13-tile page): keep one PixelTiles per
// worker to avoid faulting in fresh pages for every page.
void preprocess_image(const Image& page, const ImageProcessorConfig& cfg, const PreprocessOptions& opt,
                      PixelTiles& out);

}  // namespace docling::vision
