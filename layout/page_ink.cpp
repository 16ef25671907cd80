#include "layout/page_ink.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace docling {

namespace {

// The page background: the most common colour (5 bits a channel) over a sparse sample.
std::array<int, 3> background(const Image& img) {
  std::vector<uint32_t> hist(1u << 15, 0);
  uint32_t best = 0, key = 0x7FFF;
  for (int y = 0; y < img.height; y += 2) {
    const uint8_t* p = img.row(y);
    for (int x = 0; x < img.width; x += 2) {
      uint32_t k = uint32_t(p[3 * x] >> 3) << 10 | uint32_t(p[3 * x + 1] >> 3) << 5 | uint32_t(p[3 * x + 2] >> 3);
      if (++hist[k] > best) best = hist[k], key = k;
    }
  }
  return {int((key >> 10) << 3) + 4, int(((key >> 5) & 31) << 3) + 4, int((key & 31) << 3) + 4};
}

struct Region {
  int x0, y0, x1, y1;  // inclusive pixel bounds
  int pixels = 0, stroke = 0;  // ink pixels; those on a long horizontal or vertical run
};

}  // namespace

PageInk find_page_ink(const Image& img, double page_w, double page_h, const std::vector<TextWord>& words,
                      const InkOptions& opt) {
  PageInk out;
  const int W = img.width, H = img.height;
  if (W < 4 || H < 4 || page_w <= 0 || page_h <= 0) return out;
  const double sx = W / page_w, sy = H / page_h;  // pixels per point
  const size_t n = size_t(W) * size_t(H);

  // Word boxes as pixels (one pixel of margin: antialiased glyph edges).
  std::vector<uint8_t> text(n, 0);
  double text_area = 0;
  for (const TextWord& w : words) {
    int x0 = std::max(0, int(std::floor(w.l * sx)) - 1), x1 = std::min(W - 1, int(std::ceil(w.r * sx)) + 1);
    int y0 = std::max(0, int(std::floor(w.t * sy)) - 1), y1 = std::min(H - 1, int(std::ceil(w.b * sy)) + 1);
    for (int y = y0; y <= y1; ++y) std::fill(text.begin() + long(size_t(y) * W + x0), text.begin() + long(size_t(y) * W + x1 + 1), 1);
    text_area += std::max(0.0, w.r - w.l) * std::max(0.0, w.b - w.t);
  }

  // Ink: clearly off the background and outside the words.
  std::array<int, 3> bg = background(img);
  std::vector<uint8_t> ink(n, 0);
  size_t off = 0, free_px = 0;
  for (int y = 0; y < H; ++y) {
    const uint8_t* p = img.row(y);
    for (int x = 0; x < W; ++x) {
      int d = std::max({std::abs(p[3 * x] - bg[0]), std::abs(p[3 * x + 1] - bg[1]), std::abs(p[3 * x + 2] - bg[2])});
      size_t i = size_t(y) * W + x;
      if (text[i]) continue;
      ++free_px;
      if (d > 6) ++off;
      ink[i] = d > 12;
    }
  }
  out.noisy = free_px ? double(off) / double(free_px) : 0;

  // Long strokes: ink pixels on a horizontal or vertical run of at least `run` pixels.
  const int run = 6;
  std::vector<uint8_t> stroke(n, 0);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W;) {
      int e = x;
      while (e < W && ink[size_t(y) * W + e]) ++e;
      if (e - x >= run)
        for (int k = x; k < e; ++k) stroke[size_t(y) * W + k] = 1;
      x = e + 1;
    }
  for (int x = 0; x < W; ++x)
    for (int y = 0; y < H;) {
      int e = y;
      while (e < H && ink[size_t(e) * W + x]) ++e;
      if (e - y >= run)
        for (int k = y; k < e; ++k) stroke[size_t(k) * W + x] = 1;
      y = e + 1;
    }

  // Regions: ink pixels up to two apart (a flood fill over a 5x5 neighbourhood).
  std::vector<int> label(n, -1), stack;
  std::vector<Region> regions;
  for (size_t s = 0; s < n; ++s) {
    if (!ink[s] || label[s] >= 0) continue;
    int id = int(regions.size());
    Region r{int(s % W), int(s / W), int(s % W), int(s / W)};
    label[s] = id;
    stack.assign(1, int(s));
    while (!stack.empty()) {
      int i = stack.back();
      stack.pop_back();
      int x = i % W, y = i / W;
      r.x0 = std::min(r.x0, x), r.x1 = std::max(r.x1, x), r.y0 = std::min(r.y0, y), r.y1 = std::max(r.y1, y);
      ++r.pixels;
      r.stroke += stroke[size_t(i)];
      for (int dy = -2; dy <= 2; ++dy) {
        int yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (int dx = -2; dx <= 2; ++dx) {
          int xx = x + dx;
          if (xx < 0 || xx >= W) continue;
          size_t j = size_t(yy) * W + xx;
          if (ink[j] && label[j] < 0) label[j] = id, stack.push_back(int(j));
        }
      }
    }
    regions.push_back(r);
  }

  // Parts of one figure (icons in a row, a chart's legend) a few points apart: one region.
  const double near = 6;
  auto thin = [&](const Region& r) { return std::min((r.x1 - r.x0 + 1) / sx, (r.y1 - r.y0 + 1) / sy) <= opt.max_rule; };
  for (bool merged = true; merged;) {
    merged = false;
    for (size_t a = 0; a < regions.size(); ++a)
      for (size_t b = a + 1; b < regions.size(); ++b) {
        Region &p = regions[a], &q = regions[b];
        if (p.pixels == 0 || q.pixels == 0 || thin(p) || thin(q)) continue;
        double gx = std::max(p.x0, q.x0) - std::min(p.x1, q.x1), gy = std::max(p.y0, q.y0) - std::min(p.y1, q.y1);
        if (gx / sx > near || gy / sy > near) continue;
        p.x0 = std::min(p.x0, q.x0), p.y0 = std::min(p.y0, q.y0), p.x1 = std::max(p.x1, q.x1), p.y1 = std::max(p.y1, q.y1);
        p.pixels += q.pixels, p.stroke += q.stroke;
        q.pixels = 0;
        merged = true;
      }
  }

  const double page_area = page_w * page_h;
  for (const Region& r : regions) {
    if (r.pixels == 0) continue;
    InkBox b{r.x0 / sx, r.y0 / sy, (r.x1 + 1) / sx, (r.y1 + 1) / sy};
    double w = b.r - b.l, h = b.b - b.t, area = w * h;
    if (std::min(w, h) <= opt.max_rule) {
      if (std::max(w, h) >= 2 * opt.min_picture) out.rules.push_back(b);
      continue;
    }
    if (w < opt.min_picture || h < opt.min_picture) continue;
    // Words inside the region's box.
    double inside = 0;
    for (const TextWord& t : words) {
      double iw = std::min(t.r, b.r) - std::max(t.l, b.l), ih = std::min(t.b, b.b) - std::max(t.t, b.t);
      if (iw > 0 && ih > 0) inside += iw * ih;
    }
    double fill = double(r.pixels) / double((r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1));
    // Strokes around words: a table grid or a frame (its lines are rules).
    if (r.stroke >= 0.9 * r.pixels && fill < 0.3) {
      out.rules.push_back(b);
      continue;
    }
    if (fill >= 0.3) out.image_cover = std::max(out.image_cover, area / page_area);
    if (area / page_area >= opt.scan_cover) continue;  // the page's background, not a picture on it
    if (inside > 0.4 * area) continue;  // a shaded box of text
    out.pictures.push_back(b);
  }
  bool has_text = text_area > 0;
  out.text_over_image = has_text && (out.image_cover >= opt.scan_cover || out.noisy >= opt.noisy_share);
  return out;
}

}  // namespace docling

namespace docling {

namespace {

struct Run {
  int b0, b1, a0, a1;  // across (rows of a horizontal rule) and along, inclusive pixel bounds
};

// Rules along one direction. A pixel is at `a * sa + b * sb`: `a` runs along the rule (A of
// them), `b` across it (B of them). `thick` and `gap` are pixels, `min_len` pixels.
std::vector<Run> scan_rules(const std::vector<uint8_t>& dark, const std::vector<uint8_t>& words, int A, int B,
                            size_t sa, size_t sb, int thick, int gap, int min_len) {
  // Thin: dark, on a dark run across the rule no longer than `thick` (glyph strokes and fills
  // are thicker, unless a glyph touches the rule there: a gap the joining bridges).
  std::vector<uint8_t> thin(dark.size(), 0);
  for (int a = 0; a < A; ++a)
    for (int b = 0; b < B;) {
      if (!dark[a * sa + b * sb]) {
        ++b;
        continue;
      }
      int e = b;
      while (e < B && dark[a * sa + e * sb]) ++e;
      if (e - b <= thick)
        for (int k = b; k < e; ++k) thin[a * sa + k * sb] = 1;
      b = e;
    }
  // Runs along each line of pixels, joined over short gaps; only long ones are kept (every line
  // of pixels a rule covers has it at its full length).
  std::vector<Run> runs;
  for (int b = 0; b < B; ++b) {
    int start = -1, last = -1;
    for (int a = 0; a <= A; ++a) {
      bool on = a < A && thin[a * sa + b * sb];
      if (on) {
        if (start < 0 || a - last - 1 > gap) {
          if (start >= 0 && last - start + 1 >= min_len) runs.push_back({b, b, start, last});
          start = a;
        }
        last = a;
      }
    }
    if (start >= 0 && last - start + 1 >= min_len) runs.push_back({b, b, start, last});
  }
  // Runs on neighbouring lines of pixels (a rule two or three pixels thick): one rule.
  std::vector<Run> segs;
  for (const Run& r : runs) {
    bool joined = false;
    for (size_t k = segs.size(); k-- > 0 && !joined;) {
      Run& s = segs[k];
      if (s.b1 < r.b0 - 1) continue;
      int ov = std::min(s.a1, r.a1) - std::max(s.a0, r.a0);
      if (s.b1 == r.b0 - 1 && 2 * ov >= std::min(s.a1 - s.a0, r.a1 - r.a0)) {
        s.b1 = r.b0, s.a0 = std::min(s.a0, r.a0), s.a1 = std::max(s.a1, r.a1);
        joined = true;
      }
    }
    if (!joined) segs.push_back(r);
  }
  std::vector<Run> out;
  for (const Run& s : segs) {
    if (s.b1 - s.b0 + 1 > thick) continue;
    int mid = (s.b0 + s.b1) / 2, in = 0;
    for (int a = s.a0; a <= s.a1; ++a) in += words[a * sa + size_t(mid) * sb];
    if (2 * in < s.a1 - s.a0 + 1) out.push_back(s);
  }
  return out;
}

}  // namespace

RuleLines find_rule_lines(const Image& img, double page_w, double page_h, const std::vector<TextWord>& words,
                          double min_len, double max_thick, double max_gap) {
  RuleLines out;
  const int W = img.width, H = img.height;
  if (W < 4 || H < 4 || page_w <= 0 || page_h <= 0) return out;
  const double sx = W / page_w, sy = H / page_h;
  const size_t n = size_t(W) * size_t(H);
  std::array<int, 3> bg = background(img);
  std::vector<uint8_t> dark(n, 0), inside(n, 0);
  for (int y = 0; y < H; ++y) {
    const uint8_t* p = img.row(y);
    for (int x = 0; x < W; ++x)
      dark[size_t(y) * W + x] =
          std::max({std::abs(p[3 * x] - bg[0]), std::abs(p[3 * x + 1] - bg[1]), std::abs(p[3 * x + 2] - bg[2])}) > 16;
  }
  // Word boxes as they are (no margin): a rule right under a line of text stays outside.
  for (const TextWord& w : words) {
    int x0 = std::max(0, int(std::floor(w.l * sx))), x1 = std::min(W - 1, int(std::ceil(w.r * sx)) - 1);
    int y0 = std::max(0, int(std::floor(w.t * sy))), y1 = std::min(H - 1, int(std::ceil(w.b * sy)) - 1);
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) inside[size_t(y) * W + x] = 1;
  }
  int thick_y = std::max(2, int(std::lround(max_thick * sy))), thick_x = std::max(2, int(std::lround(max_thick * sx)));
  int gap_x = std::max(1, int(std::lround(max_gap * sx))), gap_y = std::max(1, int(std::lround(max_gap * sy)));
  for (const Run& r : scan_rules(dark, inside, W, H, 1, size_t(W), thick_y, gap_x, int(std::ceil(min_len * sx)))) {
    InkBox b{r.a0 / sx, r.b0 / sy, (r.a1 + 1) / sx, (r.b1 + 1) / sy};
    // Underlines, underscores and the tops of capitals standing out of their word boxes: runs
    // inside one run of words (a word space apart) a few points above or just below. A rule
    // between table rows runs on over the gaps between the cells.
    double y = 0.5 * (b.t + b.b);
    std::vector<std::pair<double, double>> band;
    for (const TextWord& w : words)
      if (w.b > y - 5 && w.t < y + 2.5 && w.r > b.l - 2 && w.l < b.r + 2) band.push_back({w.l, w.r + 0.5 * std::max(w.font_size, 4.0)});
    std::sort(band.begin(), band.end());
    bool text = false;
    for (size_t k = 0; k < band.size() && !text;) {
      double l = band[k].first, r = band[k].second;
      for (++k; k < band.size() && band[k].first <= r; ++k) r = std::max(r, band[k].second);
      text = b.l >= l - 1.5 && b.r <= r + 1.5;
    }
    if (!text) out.h.push_back(b);
  }
  for (const Run& r : scan_rules(dark, inside, H, W, size_t(W), 1, thick_x, gap_y, int(std::ceil(min_len * sy))))
    out.v.push_back({r.b0 / sx, r.a0 / sy, (r.b1 + 1) / sx, (r.a1 + 1) / sy});
  return out;
}

}  // namespace docling
