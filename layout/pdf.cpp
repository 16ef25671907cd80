#include "layout/pdf.h"

#include <poppler-document.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <pthread.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>

#include "core/geometry.h"
#include "layout/inflate_guard.h"

namespace docling {

namespace {

// Poppler reports problems through one global callback; keep the last message of this
// thread so that errors can quote it, and keep Poppler quiet on stderr.
thread_local std::string t_poppler_msg;

void poppler_message(const std::string& msg, void*) {
  if (t_poppler_msg.size() < 512) t_poppler_msg = msg;
}

void install_poppler_hook() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(poppler_message, nullptr); });
}

std::string poppler_detail() {
  if (t_poppler_msg.empty()) return "";
  return " (poppler: " + t_poppler_msg + ")";
}

// Runs fn() on a thread whose stack is `bytes` of address space (pages are committed only as
// used), or on this thread when none can be made (an address-space limit). Poppler's font scan
// recurses once per nested form XObject with no limit: 60,000 levels overflow a main thread's
// 8 MB and 20,000 a TBB worker's 4 MB (issue 19 #6); 256 MB holds about a million.
template <class F>
void run_with_stack(size_t bytes, F& fn) {
  struct Call {
    F* fn;
    std::exception_ptr err;
  } call{&fn, nullptr};
  auto body = [](void* p) -> void* {
    Call* c = static_cast<Call*>(p);
    try {
      (*c->fn)();
    } catch (...) {
      c->err = std::current_exception();
    }
    return nullptr;
  };
  pthread_attr_t attr;
  pthread_t th;
  bool started = false;
  if (pthread_attr_init(&attr) == 0) {
    started = pthread_attr_setstacksize(&attr, bytes) == 0 && pthread_create(&th, &attr, body, &call) == 0;
    pthread_attr_destroy(&attr);
  }
  if (!started) return fn();
  pthread_join(th, nullptr);
  if (call.err) std::rethrow_exception(call.err);
}

constexpr size_t kPopplerStack = size_t(256) << 20;

// Forms nest no deeper than a file has streams, and each stream starts with the keyword
// "stream" in the file's bytes (streams are never inside object streams). A fresh thread per
// page costs about a third of the text layer's time (cold caches), so only files with more
// "stream" keywords than this go to the large stack; any caller's stack holds this many levels.
constexpr size_t kDirectStreamKeywords = 2000;

size_t count_stream_keywords(const uint8_t* p, size_t len) {
  static const char kw[] = "stream";
  const size_t n = sizeof kw - 1;
  size_t count = 0;
  for (size_t i = 0; i + n <= len;) {
    const void* hit = memmem(p + i, len - i, kw, n);
    if (!hit) break;
    ++count;
    i = size_t(static_cast<const uint8_t*>(hit) - p) + 1;
  }
  return count;
}

// A file's bytes, mapped read-only (the pre-open scans of a PDF Poppler then opens by path).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) data_ = static_cast<const uint8_t*>(p), size_ = size_t(st.st_size);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

enum class Format { Pdf, Png, Jpeg, Unknown };

Format sniff(const uint8_t* p, size_t n) {
  if (n >= 8 && std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return Format::Png;
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return Format::Jpeg;
  // PDF readers accept the header anywhere in the first 1024 bytes.
  size_t lim = std::min<size_t>(n, 1024);
  for (size_t i = 0; i + 5 <= lim; ++i)
    if (std::memcmp(p + i, "%PDF-", 5) == 0) return Format::Pdf;
  return Format::Unknown;
}

std::string page_tag(const std::string& file, int page) {
  return "'" + file + "' page " + std::to_string(page);
}

std::string dims(int w, int h) { return std::to_string(w) + " x " + std::to_string(h) + " px"; }

// --- PDF --------------------------------------------------------------------------

class PdfSource final : public PageSource {
 public:
  PdfSource(std::string name, RasterLimits limits, std::vector<uint8_t> bytes)
      : PageSource(std::move(name), limits), bytes_(std::move(bytes)) {}

  void load(const std::string& path, const std::string& password) {
    // The scans before Poppler: one view of the bytes (a mapping when opened by path).
    std::unique_ptr<MappedFile> mapped;
    const uint8_t* data = bytes_.data();
    size_t size = bytes_.size();
    if (bytes_.empty()) {
      mapped = std::make_unique<MappedFile>(path);  // unreadable: Poppler reports it
      data = mapped->data();
      size = mapped->size();
    }
    many_streams_ = count_stream_keywords(data, size) > kDirectStreamKeywords;
    check_inflation(data, size);
    t_poppler_msg.clear();
    if (bytes_.empty())
      doc_.reset(poppler::document::load_from_file(path, password, password));
    else
      doc_.reset(poppler::document::load_from_raw_data(
          reinterpret_cast<const char*>(bytes_.data()), static_cast<int>(bytes_.size()),
          password, password));
    if (!doc_)
      throw PdfError(PdfError::Kind::Corrupt, name_, 0,
                     "'" + name_ + "': damaged or truncated PDF, cannot be parsed" +
                         poppler_detail());
    // Poppler tries the password as owner and as user password, but not the empty user
    // password: a file that opens without one (owner password only) would be refused when
    // the caller gives a password it does not need.
    if (doc_->is_locked() && !password.empty()) doc_->unlock("", "");
    if (doc_->is_locked()) {
      if (password.empty())
        throw PdfError(PdfError::Kind::Encrypted, name_, 0,
                       "'" + name_ + "': PDF is encrypted and needs a password");
      throw PdfError(PdfError::Kind::WrongPassword, name_, 0,
                     "'" + name_ + "': wrong password for encrypted PDF");
    }
    int n = doc_->pages();
    if (n <= 0)
      throw PdfError(PdfError::Kind::NoPages, name_, 0,
                     "'" + name_ + "': PDF has no pages" + poppler_detail());
    pages_.resize(n);
    info_.resize(n);
  }

  // Refuses a file with a compressed-stream bomb before Poppler inflates it page by page.
  void check_inflation(const uint8_t* data, size_t size) {
    if (limits_.max_inflated_bytes == 0 || !data) return;
    auto bomb = layout::find_inflate_bomb(data, size, limits_.max_inflated_bytes);
    if (!bomb) return;
    std::string which = bomb->object >= 0 ? "a compressed stream (object " + std::to_string(bomb->object) + ")" : "a compressed stream";
    throw PdfError(PdfError::Kind::Corrupt, name_, 0,
                   "'" + name_ + "': " + which + " inflates past the limit of " +
                       (bomb->cap >= (uint64_t(1) << 20) ? std::to_string(bomb->cap >> 20) + " MiB"
                                                          : std::to_string(bomb->cap) + " bytes") +
                       " (limits.max_inflated_bytes): refused as a decompression bomb");
  }

  const char* mimetype() const override { return "application/pdf"; }
  int page_count() const override { return static_cast<int>(pages_.size()); }

  Size page_size(int page_no) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return info(page_no).size;
  }
  int page_rotation(int page_no) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return info(page_no).rotation;
  }

  Image render_size(int page_no, int width, int height) const override {
    check_raster(page_no, width, height);
    std::lock_guard<std::mutex> lock(mu_);
    const Info& in = info(page_no);
    poppler::page* pg = page(page_no);
    if (!renderer_) {
      renderer_ = std::make_unique<poppler::page_renderer>();
      renderer_->set_render_hint(poppler::page_renderer::antialiasing, true);
      renderer_->set_render_hint(poppler::page_renderer::text_antialiasing, true);
      renderer_->set_image_format(poppler::image::format_argb32);
    }
    double xres = width * 72.0 / in.size.width, yres = height * 72.0 / in.size.height;
    t_poppler_msg.clear();
    poppler::image im = renderer_->render_page(pg, xres, yres, 0, 0, width, height);
    if (!im.is_valid() || im.width() <= 0 || im.height() <= 0)
      throw PdfError(PdfError::Kind::Corrupt, name_, page_no,
                     page_tag(name_, page_no) + ": rendering failed" + poppler_detail());
    return to_rgb(im, width, height);
  }

  std::vector<TextWord> words(int page_no) const override {
    std::lock_guard<std::mutex> lock(mu_);
    poppler::page* pg = page(page_no);
    std::vector<poppler::text_box> boxes;
    auto list = [&] { boxes = pg->text_list(poppler::page::text_list_include_font); };
    if (many_streams_)
      run_with_stack(kPopplerStack, list);
    else
      list();
    std::vector<TextWord> out;
    out.reserve(boxes.size());
    for (const poppler::text_box& tb : boxes) {
      poppler::byte_array utf8 = tb.text().to_utf8();
      if (utf8.empty()) continue;
      TextWord w;
      w.text.assign(utf8.data(), utf8.size());
      poppler::rectf r = tb.bbox();
      w.l = r.x(), w.t = r.y(), w.r = r.x() + r.width(), w.b = r.y() + r.height();
      if (tb.has_font_info()) {
        w.font_size = tb.get_font_size();
        w.font_name = tb.get_font_name(0);
        size_t plus = w.font_name.find('+');
        if (plus == 6) w.font_name.erase(0, 7);  // subset tag "ABCDEF+"
        w.bold = is_bold_font(w.font_name);
        w.italic = is_italic_font(w.font_name);
        w.mono = is_mono_font(w.font_name);
        w.horizontal = tb.get_wmode(0) != poppler::text_box::vertical_wmode;
      }
      w.vertical_mode = !w.horizontal;
      w.quarter = tb.rotation();  // 0..3; on a page with /Rotate 90, upright text is 1
      if (tb.rotation() != 0) w.horizontal = false;
      w.space_after = tb.has_space_after();
      out.push_back(std::move(w));
    }
    return out;
  }

 private:
  struct Info {
    bool known = false;
    Size size;
    int rotation = 0;
  };

  void check(int page_no) const { check_page(page_no); }

  poppler::page* page(int page_no) const {
    check(page_no);
    auto& slot = pages_[page_no - 1];
    if (!slot) {
      t_poppler_msg.clear();
      slot.reset(doc_->create_page(page_no - 1));
      if (!slot)
        throw PdfError(PdfError::Kind::BadPage, name_, page_no,
                       page_tag(name_, page_no) + ": page cannot be read" + poppler_detail());
    }
    return slot.get();
  }

  const Info& info(int page_no) const {
    check(page_no);
    Info& in = info_[page_no - 1];
    if (in.known) return in;
    poppler::page* pg = page(page_no);
    poppler::rectf box = pg->page_rect(poppler::crop_box);
    double w = std::fabs(box.width()), h = std::fabs(box.height());
    if (!(w > 0) || !(h > 0) || !std::isfinite(w) || !std::isfinite(h))
      throw PdfError(PdfError::Kind::BadPage, name_, page_no,
                     page_tag(name_, page_no) + ": invalid page size");
    switch (pg->orientation()) {
      case poppler::page::landscape: in.rotation = 90; break;
      case poppler::page::upside_down: in.rotation = 180; break;
      case poppler::page::seascape: in.rotation = 270; break;
      default: in.rotation = 0; break;
    }
    if (in.rotation == 90 || in.rotation == 270) std::swap(w, h);
    in.size = {w, h};
    in.known = true;
    return in;
  }

  // Poppler's ARGB32 is native-endian 0xAARRGGBB per pixel, opaque on white paper.
  static Image to_rgb(const poppler::image& im, int width, int height) {
    Image out(width, height);
    int w = std::min(width, im.width()), h = std::min(height, im.height());
    const char* data = im.const_data();
    // Poppler hands back an image without pixels when its allocation failed.
    if (!data) throw std::bad_alloc();
    int stride = im.bytes_per_row();
    for (int y = 0; y < h; ++y) {
      const uint32_t* src = reinterpret_cast<const uint32_t*>(data + size_t(y) * stride);
      uint8_t* dst = out.row(y);
      for (int x = 0; x < w; ++x) {
        uint32_t px = src[x];
        dst[3 * x + 0] = uint8_t(px >> 16);
        dst[3 * x + 1] = uint8_t(px >> 8);
        dst[3 * x + 2] = uint8_t(px);
      }
    }
    return out;
  }

  std::vector<uint8_t> bytes_;  // must outlive doc_ when loaded from memory
  bool many_streams_ = false;   // forms may nest deeper than a caller's stack holds
  std::unique_ptr<poppler::document> doc_;
  mutable std::vector<std::unique_ptr<poppler::page>> pages_;
  mutable std::vector<Info> info_;
  mutable std::unique_ptr<poppler::page_renderer> renderer_;
  mutable std::mutex mu_;
};

// --- PNG / JPEG ---------------------------------------------------------------------

class ImageSource final : public PageSource {
 public:
  ImageSource(std::string name, RasterLimits limits, Image img, const char* mime)
      : PageSource(std::move(name), limits), img_(std::move(img)), mime_(mime) {}

  const char* mimetype() const override { return mime_; }
  int page_count() const override { return 1; }
  Size page_size(int page_no) const override {
    check_page(page_no);
    return {double(img_.width), double(img_.height)};
  }
  int page_rotation(int page_no) const override {
    check_page(page_no);
    return 0;
  }
  Image render_size(int page_no, int width, int height) const override {
    check_raster(page_no, width, height);
    if (width == img_.width && height == img_.height) return img_;
    return resize_image(img_, width, height);
  }
  std::vector<TextWord> words(int page_no) const override {
    check_page(page_no);
    return {};
  }

 private:
  Image img_;
  const char* mime_;
};

std::unique_ptr<PageSource> open_any(const std::string& name, const std::string& path,
                                     std::vector<uint8_t> bytes, const uint8_t* head,
                                     size_t head_n, const OpenOptions& opt) {
  install_poppler_hook();
  switch (sniff(head, head_n)) {
    case Format::Pdf: {
      auto src = std::make_unique<PdfSource>(name, opt.limits, std::move(bytes));
      src->load(path, opt.password);
      return src;
    }
    case Format::Png:
    case Format::Jpeg: {
      bool png = sniff(head, head_n) == Format::Png;
      if (bytes.empty()) {
        FILE* f = std::fopen(path.c_str(), "rb");
        if (!f) throw PdfError(PdfError::Kind::NotFound, name, 0, "'" + name + "': cannot read file");
        uint8_t buf[65536];
        size_t k;
        while ((k = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + k);
        std::fclose(f);
      }
      int w = 0, h = 0;
      if (peek_image_size(bytes, &w, &h) &&
          (w > opt.limits.max_side || h > opt.limits.max_side ||
           int64_t(w) * h > opt.limits.max_pixels))
        throw PdfError(PdfError::Kind::PageTooLarge, name, 1,
                       page_tag(name, 1) + ": image is too large (" + dims(w, h) + ")");
      Image img;
      try {
        img = decode_image(bytes, name);
      } catch (const std::exception& e) {
        throw PdfError(PdfError::Kind::Corrupt, name, 0,
                       "'" + name + "': damaged image: " + e.what());
      }
      if (img.empty())
        throw PdfError(PdfError::Kind::Corrupt, name, 0, "'" + name + "': image has no pixels");
      if (img.width > opt.limits.max_side || img.height > opt.limits.max_side ||
          int64_t(img.width) * img.height > opt.limits.max_pixels)  // the header peek missed it
        throw PdfError(PdfError::Kind::PageTooLarge, name, 1,
                       page_tag(name, 1) + ": image is too large (" + dims(img.width, img.height) + ")");
      return std::make_unique<ImageSource>(name, opt.limits, std::move(img),
                                           png ? "image/png" : "image/jpeg");
    }
    case Format::Unknown: break;
  }
  if (head_n == 0) throw PdfError(PdfError::Kind::NotPdf, name, 0, "'" + name + "': file is empty");
  throw PdfError(PdfError::Kind::NotPdf, name, 0,
                 "'" + name + "': not a PDF, PNG or JPEG file (no %PDF- header)");
}

}  // namespace

const char* to_string(PdfError::Kind k) {
  switch (k) {
    case PdfError::Kind::NotFound: return "not_found";
    case PdfError::Kind::NotPdf: return "not_pdf";
    case PdfError::Kind::Corrupt: return "corrupt";
    case PdfError::Kind::Encrypted: return "encrypted";
    case PdfError::Kind::WrongPassword: return "wrong_password";
    case PdfError::Kind::NoPages: return "no_pages";
    case PdfError::Kind::BadPage: return "bad_page";
    case PdfError::Kind::PageTooLarge: return "page_too_large";
  }
  return "unknown";
}

void PageSource::check_page(int page_no) const {
  if (page_no < 1 || page_no > page_count())
    throw PdfError(PdfError::Kind::BadPage, name_, page_no,
                   page_tag(name_, page_no) + ": no such page (document has " +
                       std::to_string(page_count()) + " pages)");
}

bool PageSource::raster_fits(int width, int height) const {
  return width > 0 && height > 0 && width <= limits_.max_side && height <= limits_.max_side &&
         int64_t(width) * height <= limits_.max_pixels;
}

void PageSource::check_raster(int page_no, int width, int height) const {
  check_page(page_no);
  if (!raster_fits(width, height))
    throw PdfError(PdfError::Kind::PageTooLarge, name_, page_no,
                   page_tag(name_, page_no) + ": raster of " + dims(width, height) +
                       " is outside the limits (max side " + std::to_string(limits_.max_side) +
                       " px, max " + std::to_string(limits_.max_pixels) + " px)");
}

void PageSource::raster_size(int page_no, double dpi, int* width, int* height) const {
  Size s = page_size(page_no);
  double k = dpi / 72.0;
  double w = round_half_even(s.width * k), h = round_half_even(s.height * k);
  // Clamp before converting so an absurd page or dpi cannot overflow int.
  *width = int(std::clamp(w, 1.0, 1e9));
  *height = int(std::clamp(h, 1.0, 1e9));
}

Image PageSource::render(int page_no, double dpi) const {
  if (!(dpi > 0) || !std::isfinite(dpi))
    throw PdfError(PdfError::Kind::BadPage, name_, page_no,
                   page_tag(name_, page_no) + ": invalid dpi " + std::to_string(dpi));
  int w, h;
  raster_size(page_no, dpi, &w, &h);
  return render_size(page_no, w, h);
}

Image PageSource::render_fit(int page_no, int max_side) const {
  Size s = page_size(page_no);
  double k = max_side / std::max(s.width, s.height);
  int w = std::max(1, int(std::lround(s.width * k)));
  int h = std::max(1, int(std::lround(s.height * k)));
  return render_size(page_no, w, h);
}

std::unique_ptr<PageSource> open_source(const std::string& path, const OpenOptions& opt) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw PdfError(PdfError::Kind::NotFound, path, 0, "'" + path + "': no such file");
  if (S_ISDIR(st.st_mode))
    throw PdfError(PdfError::Kind::NotFound, path, 0, "'" + path + "': is a directory");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw PdfError(PdfError::Kind::NotFound, path, 0, "'" + path + "': cannot read file");
  uint8_t head[1024];
  size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  return open_any(path, path, {}, head, n, opt);
}

std::unique_ptr<PageSource> open_source_bytes(std::vector<uint8_t> bytes, const std::string& name,
                                              const OpenOptions& opt) {
  if (bytes.size() > size_t(INT32_MAX))
    throw PdfError(PdfError::Kind::NotPdf, name, 0, "'" + name + "': larger than 2 GB");
  std::vector<uint8_t> head(bytes.begin(), bytes.begin() + std::min<size_t>(bytes.size(), 1024));
  return open_any(name, "", std::move(bytes), head.data(), head.size(), opt);
}

// Upscaling: bilinear. Downscaling: box filter over the covered source pixels, which
// avoids the aliasing bilinear gives at large factors.
Image resize_image(const Image& src, int width, int height) {
  Image out(width, height);
  if (src.empty() || width <= 0 || height <= 0) return out;
  double sx = double(src.width) / width, sy = double(src.height) / height;
  for (int y = 0; y < height; ++y) {
    uint8_t* dst = out.row(y);
    double y0 = y * sy, y1 = (y + 1) * sy;
    for (int x = 0; x < width; ++x) {
      double x0 = x * sx, x1 = (x + 1) * sx;
      double acc[3] = {0, 0, 0};
      if (sx <= 1.0 && sy <= 1.0) {
        double fx = std::clamp((x + 0.5) * sx - 0.5, 0.0, src.width - 1.0);
        double fy = std::clamp((y + 0.5) * sy - 0.5, 0.0, src.height - 1.0);
        int ix = int(fx), iy = int(fy);
        int jx = std::min(ix + 1, src.width - 1), jy = std::min(iy + 1, src.height - 1);
        double ax = fx - ix, ay = fy - iy;
        const uint8_t *r0 = src.row(iy), *r1 = src.row(jy);
        for (int c = 0; c < 3; ++c)
          acc[c] = (r0[3 * ix + c] * (1 - ax) + r0[3 * jx + c] * ax) * (1 - ay) +
                   (r1[3 * ix + c] * (1 - ax) + r1[3 * jx + c] * ax) * ay;
      } else {
        int ix0 = int(x0), ix1 = std::min(src.width, std::max(ix0 + 1, int(std::ceil(x1))));
        int iy0 = int(y0), iy1 = std::min(src.height, std::max(iy0 + 1, int(std::ceil(y1))));
        double wsum = 0;
        for (int yy = iy0; yy < iy1; ++yy) {
          double wy = std::min<double>(yy + 1, y1) - std::max<double>(yy, y0);
          if (wy <= 0) wy = 1e-6;
          const uint8_t* r = src.row(yy);
          for (int xx = ix0; xx < ix1; ++xx) {
            double wx = std::min<double>(xx + 1, x1) - std::max<double>(xx, x0);
            if (wx <= 0) wx = 1e-6;
            double wgt = wx * wy;
            for (int c = 0; c < 3; ++c) acc[c] += r[3 * xx + c] * wgt;
            wsum += wgt;
          }
        }
        for (int c = 0; c < 3; ++c) acc[c] /= wsum;
      }
      for (int c = 0; c < 3; ++c) dst[3 * x + c] = uint8_t(std::clamp(acc[c] + 0.5, 0.0, 255.0));
    }
  }
  return out;
}

}  // namespace docling
