// Page images: a plain RGB8 pixel buffer, and PNG/JPEG decoding and PNG encoding.
//
// Takes: image files or encoded bytes. Gives: Image (width x height x 3, row-major RGB).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace docling {

struct ImageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3

  Image() = default;
  Image(int w, int h, uint8_t fill = 255) : width(w), height(h), rgb(size_t(w) * h * 3, fill) {}
  bool empty() const { return width <= 0 || height <= 0; }
  uint8_t* row(int y) { return rgb.data() + size_t(y) * width * 3; }
  const uint8_t* row(int y) const { return rgb.data() + size_t(y) * width * 3; }

  // The pixels of [x0,x1) x [y0,y1), clipped to the image.
  Image crop(int x0, int y0, int x1, int y1) const;
};

// Decode PNG or JPEG (detected from the bytes). Gray, palette, alpha and 16-bit PNGs are
// converted to RGB8 (alpha composited on white). Throws ImageError naming `what`.
Image decode_image(const std::vector<uint8_t>& bytes, const std::string& what = "image");
Image load_image(const std::string& path);

std::vector<uint8_t> encode_png(const Image& img);
void save_png(const Image& img, const std::string& path);

// "data:image/png;base64,...": how docling embeds images in JSON and HTML.
std::string png_data_uri(const Image& img);
std::string base64_encode(const uint8_t* data, size_t n);
// Decodes standard base64 (whitespace ignored, '=' padding optional); false on bad input.
bool base64_decode(std::string_view text, std::vector<uint8_t>& out);

// Sizes of the header only, without decoding (PNG and JPEG).
bool peek_image_size(const std::vector<uint8_t>& bytes, int* width, int* height);

}  // namespace docling
