#include "pipeline/convert.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>

#include "core/image.h"
#include "doctags/docling_json.h"
#include "doctags/parser.h"
#include "layout/page_range.h"

namespace docling {

// --- SHA-256 (FIPS 180-4), for the document's binary_hash -------------------------------

namespace {

struct Sha256 {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

  static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

  void block(const uint8_t* p) {
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }

  void digest(const uint8_t* data, size_t n, uint8_t out[32]) {
    size_t full = n / 64 * 64;
    for (size_t i = 0; i < full; i += 64) block(data + i);
    uint8_t tail[128] = {};
    size_t rest = n - full;
    if (rest) std::memcpy(tail, data + full, rest);
    tail[rest] = 0x80;
    size_t len = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = uint64_t(n) * 8;
    for (int i = 0; i < 8; ++i) tail[len - 1 - i] = uint8_t(bits >> (8 * i));
    for (size_t i = 0; i < len; i += 64) block(tail + i);
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 4; ++j) out[4 * i + j] = uint8_t(h[i] >> (24 - 8 * j));
  }
};

}  // namespace

uint64_t binary_hash(const std::vector<uint8_t>& bytes) {
  uint8_t d[32];
  Sha256().digest(bytes.data(), bytes.size(), d);
  uint64_t v = 0;
  for (int i = 24; i < 32; ++i) v = v << 8 | d[i];
  return v;
}

// --- conversion ---------------------------------------------------------------------------

namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string display_name(const Source& s) { return s.path.string(); }

PageMessage page_msg(const std::string& file, int page, const std::string& what) {
  return {page, file + ": page " + std::to_string(page) + ": " + what};
}

// A message about the whole document, naming the file once (many messages already do).
PageMessage doc_msg(const std::string& file, const std::string& what, int page = 0) {
  return {page, what.find(file) == std::string::npos ? file + ": " + what : what};
}

bool cancelled(const JobOptions& o) { return o.cancel && o.cancel->load(); }

// The input's bytes: given in memory, or read from its file (size capped).
std::vector<uint8_t> input_bytes(DocJob& job, const JobOptions& opt) {
  if (job.bytes) {
    if (job.bytes->size() > opt.max_input_bytes)
      throw FileError(display_name(job.src) + ": " + std::to_string(job.bytes->size()) +
                      " bytes, over the input limit of " + std::to_string(opt.max_input_bytes));
    std::vector<uint8_t> b = std::move(*job.bytes);
    job.bytes.reset();
    return b;
  }
  std::string in = read_file(job.src.path, opt.max_input_bytes);
  return std::vector<uint8_t>(in.begin(), in.end());
}

// What the input is: by its name's extension, else (bytes without a known name) by content.
InputKind kind_of(const DocJob& job) {
  InputKind k = input_kind(job.src.path);
  if (k != InputKind::Unknown || !job.bytes) return k;
  const std::vector<uint8_t>& b = *job.bytes;
  size_t i = 0;
  while (i < b.size() && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) ++i;
  if (i < b.size() && b[i] == '{') return InputKind::DoclingJson;
  if (i < b.size() && b[i] == '<' && b.size() - i >= 8 && std::memcmp(&b[i], "<doctag>", 8) == 0) return InputKind::DocTags;
  return InputKind::Pdf;  // PDF, PNG or JPEG: the opener tells them apart by content
}

// DocTags or DoclingDocument JSON given to `convert`: read, nothing to infer.
void convert_parsed_input(DocJob& job, const JobOptions& opt, InputKind kind, JobResult& r) {
  const Source& src = job.src;
  std::vector<uint8_t> bytes = input_bytes(job, opt);
  std::string text(bytes.begin(), bytes.end());
  if (kind == InputKind::DoclingJson) {
    r.doc = read_docling_json(text);
  } else {
    DocTagsReport rep;
    r.doc = from_doctags_and_image_pairs(split_multipage_doctags(text), nullptr, "Document", {}, &rep);
    for (const ParseWarning& w : rep.warnings)
      r.warnings.push_back(page_msg(display_name(src), w.page, std::string(to_string(w.kind)) + ": " + w.message));
  }
  r.pages = int(r.doc.pages.size());
  r.status = DocStatus::Success;
}

}  // namespace

void set_text_layer_origin(Document& doc, const JobOptions& opt) {
  // docling's standard (text-layer) pipeline writes bottom-left item boxes, top-left cells.
  set_coord_origin(doc, opt.coord_origin.value_or(CoordOrigin::BottomLeft), opt.coord_origin.has_value());
}

bool begin_document(DocJob& job, const JobOptions& opt, const VlmEngine* engine) {
  job.t0 = now_s();
  JobResult& r = job.result;
  r.status = DocStatus::Success;  // until something fails
  const Source& src = job.src;
  const std::string file = display_name(src);
  InputKind kind = kind_of(job);
  try {
    if (kind == InputKind::DocTags || kind == InputKind::DoclingJson) {
      convert_parsed_input(job, opt, kind, r);
      return false;
    }
    OpenOptions oo;
    oo.password = opt.password;
    oo.limits = opt.limits;
    std::vector<uint8_t> bytes = input_bytes(job, opt);
    job.hash = binary_hash(bytes);
    job.source = open_source_bytes(std::move(bytes), file, oo);
    PageSelection sel = select_pages(opt.pages, job.source->page_count());
    for (const std::string& w : sel.warnings) r.warnings.push_back(doc_msg(file, w));
    r.pages = int(sel.pages.size());
    job.selected = sel.pages;
    bool model = engine != nullptr;
    if (opt.pipeline == PipelineKind::Vlm && model) job.vlm_pages = sel.pages;
    else job.text_pages = sel.pages;

    // Text layer first (all its pages at once: headers and footers need several pages).
    if (!job.text_pages.empty()) {
      TextBackendOptions to = opt.text;
      to.check_scans = to.check_scans || (opt.pipeline == PipelineKind::Auto && model);
      job.text = convert_text_layer(*job.source, job.text_pages, to);
      set_text_layer_origin(job.text.doc, opt);
      job.have_text = true;
      for (int p : job.text.failed_pages) r.errors.push_back(page_msg(file, p, "cannot read the page"));
      for (int p : job.text.pages_without_text) {
        if (opt.pipeline == PipelineKind::Auto && model) job.vlm_pages.push_back(p);
        else
          r.errors.push_back(page_msg(file, p,
                                      model ? "no text layer (scanned page?); --pipeline auto or vlm reads it with the model"
                                            : "no text layer (scanned page?); its content needs the model (--model DIR)"));
      }
      // Text that cannot be trusted (garbled encoding, an OCR layer over a scan): the model
      // reads the page under auto; otherwise the text layer's reading stays, with a warning.
      for (int p : job.text.pages_unusable) {
        if (opt.pipeline == PipelineKind::Auto && model) job.vlm_pages.push_back(p);
        else r.warnings.push_back(page_msg(file, p, "unreliable text layer; --pipeline auto with a model reads it with the model"));
      }
      std::sort(job.vlm_pages.begin(), job.vlm_pages.end());
      r.text_pages = int(job.text_pages.size() - job.vlm_pages.size());
    }
    job.vlm.resize(job.vlm_pages.size());
    for (size_t i = 0; i < job.vlm.size(); ++i) {
      job.vlm[i] = std::make_unique<VlmPage>();
      job.vlm[i]->page_no = job.vlm_pages[i];
    }
    return !job.vlm.empty();
  } catch (const PdfError& e) {
    r.status = DocStatus::Failure;
    r.errors.push_back(doc_msg(file, e.what(), e.page));
  } catch (const std::exception& e) {
    r.status = DocStatus::Failure;
    r.errors.push_back(doc_msg(file, e.what()));
  }
  job.vlm.clear();
  job.vlm_pages.clear();
  return false;
}

void end_vlm_page(DocJob& job, size_t i, const std::string* error) {
  VlmPage& vp = *job.vlm[i];
  const std::string file = display_name(job.src);
  if (error) {
    vp.ok = false;
    job.result.errors.push_back(page_msg(file, vp.page_no, "the model failed (" + *error + "); text layer used"));
    return;
  }
  job.result.generated_tokens += int(vp.tokens.size());
  if (!vp.ok) return;  // interrupted: the page counts as not done
  for (const std::string& w : vp.warnings) job.result.errors.push_back(page_msg(file, vp.page_no, w));
  ++job.result.vlm_pages;
  job.result.quality.push_back(PageQualityInfo{vp.page_no, vp.confidence, vp.layer_check.checked, {}});
}

namespace {

// pages[].image of every page at `dpi` (text-layer pages have none by default; model pages
// have the 72-dpi image the model's page was parsed with).
void render_page_images(Document& doc, const PageSource& src, int dpi) {
  for (PageItem& page : doc.pages) {
    Image img = src.render(page.page_no, dpi);
    page.image = png_image_ref(img, dpi);
    crop_pictures(doc, page.page_no, img, dpi);  // text-layer pictures: a crop of this image
  }
}

// The suspects of each model page, as refs of the assembled document, and one warning a page.
void collect_suspects(JobResult& r, const std::string& file) {
  std::sort(r.quality.begin(), r.quality.end(), [](const auto& a, const auto& b) { return a.page < b.page; });
  for (const TextItem& t : r.doc.texts) {
    if (t.prov.empty() || !t.meta.is_object() || !t.meta.contains("docling_cpp__text_layer")) continue;
    if (!t.meta["docling_cpp__text_layer"].value("suspect", false)) continue;
    for (PageQualityInfo& q : r.quality)
      if (q.page == t.prov.front().page_no) q.suspects.push_back(t.self);
  }
  for (const PageQualityInfo& q : r.quality) {
    if (q.suspects.empty()) continue;
    std::string refs;
    for (size_t i = 0; i < q.suspects.size() && i < 8; ++i) refs += (i ? ", " : "") + q.suspects[i].pointer();
    if (q.suspects.size() > 8) refs += ", ...";
    r.warnings.push_back(page_msg(file, q.page, std::to_string(q.suspects.size()) + " of " + std::to_string(q.checked) +
                                                    " text item(s) disagree with the PDF's text layer (misread or "
                                                    "hallucinated?): " + refs));
  }
}

}  // namespace

void end_document(DocJob& job, const JobOptions& opt) {
  JobResult& r = job.result;
  const std::string file = display_name(job.src);
  if (job.source && r.status != DocStatus::Failure) {
    try {
      if (job.vlm_pages.empty()) {
        r.doc = std::move(job.text.doc);
      } else {
        // One document, page by page: the model's page, else the text layer's.
        Document doc;
        for (int p : job.selected) {
          auto it = std::find(job.vlm_pages.begin(), job.vlm_pages.end(), p);
          size_t i = size_t(it - job.vlm_pages.begin());
          if (it != job.vlm_pages.end() && job.vlm[i]->ok) {
            append_document(doc, job.vlm[i]->doc, p - 1);
            job.vlm[i].reset();
            continue;
          }
          std::vector<int> one = {p};
          bool in_text = job.have_text && std::find(job.text_pages.begin(), job.text_pages.end(), p) != job.text_pages.end();
          if (in_text) {
            append_document(doc, job.text.doc, 0, &one);
          } else {
            TextBackendResult t = convert_text_layer(*job.source, one, opt.text);
            set_text_layer_origin(t.doc, opt);
            append_document(doc, t.doc, 0, &one);
          }
        }
        r.doc = std::move(doc);
      }
      if (opt.coord_origin) set_coord_origin(r.doc, *opt.coord_origin, true);
      if (opt.page_image_dpi > 0) render_page_images(r.doc, *job.source, opt.page_image_dpi);
      collect_suspects(r, file);
      r.doc.origin = DocumentOrigin{job.source->mimetype(), job.src.path.filename().string(),
                                    job.hash, std::nullopt};
      if (cancelled(opt) && r.vlm_pages + r.text_pages < r.pages) r.status = DocStatus::Cancelled;
      else r.status = r.errors.empty() ? DocStatus::Success : DocStatus::Partial;
    } catch (const std::exception& e) {
      r.status = DocStatus::Failure;
      r.errors.push_back(doc_msg(file, e.what()));
    }
  }
  if (r.status != DocStatus::Failure) r.doc.name = job.src.path.stem().string();
  job.vlm.clear();
  job.source.reset();
  r.seconds = now_s() - job.t0;
}

}  // namespace docling
