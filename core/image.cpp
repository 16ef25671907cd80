#include "core/image.h"
#include "core/file_io.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>

namespace docling {

Image Image::crop(int x0, int y0, int x1, int y1) const {
  x0 = std::max(0, std::min(x0, width));
  x1 = std::max(x0, std::min(x1, width));
  y0 = std::max(0, std::min(y0, height));
  y1 = std::max(y0, std::min(y1, height));
  Image out(x1 - x0, y1 - y0);
  if (x1 == x0) return out;  // no pixels: memcpy to a null row is undefined even for 0 bytes
  for (int y = y0; y < y1; ++y)
    std::memcpy(out.row(y - y0), row(y) + size_t(x0) * 3, size_t(x1 - x0) * 3);
  return out;
}

namespace {

bool is_png(const std::vector<uint8_t>& b) {
  return b.size() >= 8 && png_sig_cmp(b.data(), 0, 8) == 0;
}
bool is_jpeg(const std::vector<uint8_t>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

Image decode_png(const std::vector<uint8_t>& bytes, const std::string& what) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, bytes.data(), bytes.size()))
    throw ImageError(what + ": not a readable PNG (" + img.message + ")");
  img.format = PNG_FORMAT_RGB;
  if (img.width == 0 || img.height == 0 || uint64_t(img.width) * img.height > (1ull << 28)) {
    png_image_free(&img);
    throw ImageError(what + ": PNG size out of range");
  }
  Image out(int(img.width), int(img.height));
  png_color white{255, 255, 255};  // alpha is composited on white, as a page would show it
  if (!png_image_finish_read(&img, &white, out.rgb.data(), 0, nullptr))
    throw ImageError(what + ": corrupt PNG (" + img.message + ")");
  return out;
}

struct JpegErr {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

Image decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& what) {
  jpeg_decompress_struct cinfo;
  JpegErr err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  Image out;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw ImageError(what + ": corrupt JPEG (" + err.message + ")");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;  // libjpeg-turbo converts gray/YCbCr (CMYK errors out)
  jpeg_start_decompress(&cinfo);
  if (uint64_t(cinfo.output_width) * cinfo.output_height > (1ull << 28)) {
    jpeg_destroy_decompress(&cinfo);
    throw ImageError(what + ": JPEG size out of range");
  }
  out = Image(int(cinfo.output_width), int(cinfo.output_height));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW r = out.row(int(cinfo.output_scanline));
    jpeg_read_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}

}  // namespace

Image decode_image(const std::vector<uint8_t>& bytes, const std::string& what) {
  if (is_png(bytes)) return decode_png(bytes, what);
  if (is_jpeg(bytes)) return decode_jpeg(bytes, what);
  throw ImageError(what + ": not a PNG or JPEG image");
}

Image load_image(const std::string& path) {
  std::string bytes = read_file(path);
  return decode_image(std::vector<uint8_t>(bytes.begin(), bytes.end()), path);
}

std::vector<uint8_t> encode_png(const Image& img) {
  png_image p;
  std::memset(&p, 0, sizeof p);
  p.version = PNG_IMAGE_VERSION;
  p.width = png_uint_32(img.width);
  p.height = png_uint_32(img.height);
  p.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&p, nullptr, &size, 0, img.rgb.data(), 0, nullptr))
    throw ImageError(std::string("PNG encode failed: ") + p.message);
  std::vector<uint8_t> out(size);
  if (!png_image_write_to_memory(&p, out.data(), &size, 0, img.rgb.data(), 0, nullptr))
    throw ImageError(std::string("PNG encode failed: ") + p.message);
  out.resize(size);
  return out;
}

void save_png(const Image& img, const std::string& path) {
  auto bytes = encode_png(img);
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!f) throw ImageError(path + ": cannot write");
}

std::string base64_encode(const uint8_t* d, size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = uint32_t(d[i]) << 16 | uint32_t(d[i + 1]) << 8 | d[i + 2];
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == n) {
    uint32_t v = uint32_t(d[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == n) {
    uint32_t v = uint32_t(d[i]) << 16 | uint32_t(d[i + 1]) << 8;
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

bool base64_decode(std::string_view text, std::vector<uint8_t>& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char ch : text) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else if (ch == '=') { ++pad; continue; }
    else if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
    else return false;
    if (pad) return false;  // data after padding
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t(acc >> bits));
    }
  }
  return pad <= 2;
}

std::string png_data_uri(const Image& img) {
  auto png = encode_png(img);
  return "data:image/png;base64," + base64_encode(png.data(), png.size());
}

bool peek_image_size(const std::vector<uint8_t>& b, int* w, int* h) {
  if (is_png(b) && b.size() >= 24) {
    *w = int(uint32_t(b[16]) << 24 | uint32_t(b[17]) << 16 | uint32_t(b[18]) << 8 | b[19]);
    *h = int(uint32_t(b[20]) << 24 | uint32_t(b[21]) << 16 | uint32_t(b[22]) << 8 | b[23]);
    return true;
  }
  if (!is_jpeg(b)) return false;
  // Markers found as libjpeg finds them (next_marker): bytes before a 0xFF are skipped (a
  // corrupt file still decodes), fill 0xFF bytes too; stopping at the first odd byte instead
  // let a JPEG that libjpeg decodes at full size pass the callers' size limits unseen.
  size_t i = 2;
  while (i + 1 < b.size()) {
    if (b[i] != 0xFF) { ++i; continue; }
    size_t j = i + 1;
    while (j < b.size() && b[j] == 0xFF) ++j;
    if (j + 7 >= b.size()) return false;
    uint8_t m = b[j];
    if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { i = j + 1; continue; }  // no length
    if (m == 0xDA || m == 0xD9) return false;  // scan data or the end before a frame header
    bool sof = (m >= 0xC0 && m <= 0xCF) && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof) {
      *h = int(b[j + 4]) << 8 | b[j + 5];
      *w = int(b[j + 6]) << 8 | b[j + 7];
      return true;
    }
    i = j + 1 + (size_t(b[j + 1]) << 8 | b[j + 2]);
  }
  return false;
}

}  // namespace docling
