#include "pipeline/exports.h"

#include <cstdio>
#include <iostream>

#include "doctags/docling_json.h"
#include "exporters/doctags_writer.h"
#include "exporters/html.h"
#include "exporters/markdown.h"
#include "exporters/text.h"
#include "core/image.h"

namespace fs = std::filesystem;

namespace docling {

namespace {

void apply_filter(ExportFilter& f, const ExportSettings& s) {
  f.labels &= ~s.excluded_labels;
  if (s.pages) f.pages = s.pages;
}

// JSON has no page filter upstream; here --pages keeps only those pages' content.
Document select_pages_of(const Document& doc, const std::set<int>& pages) {
  Document out;
  out.schema_name = doc.schema_name;
  out.version = doc.version;
  out.name = doc.name;
  out.origin = doc.origin;
  out.extra = doc.extra;
  std::vector<int> list(pages.begin(), pages.end());
  append_document(out, doc, 0, &list);
  return out;
}

}  // namespace

std::string render(const Document& doc, Format f, const ExportSettings& s) {
  switch (f) {
    case Format::Markdown: {
      MarkdownOptions o;
      apply_filter(o.filter, s);
      o.image_mode = s.image_mode;
      o.page_break_placeholder = s.page_break_placeholder;
      o.compact_tables = s.md_compact_tables;
      return export_markdown(doc, o);
    }
    case Format::Html: {
      HtmlOptions o;
      apply_filter(o.filter, s);
      o.image_mode = s.image_mode;
      return export_html(doc, o);
    }
    case Format::DocTags: {
      DocTagsOptions o;
      apply_filter(o.filter, s);
      o.minified = s.doctags_minified;
      return export_doctags(doc, o);
    }
    case Format::Text: {
      TextOptions o;
      apply_filter(o.filter, s);
      o.compact_tables = s.md_compact_tables;
      o.page_break_placeholder = s.page_break_placeholder;
      return export_text(doc, o);
    }
    case Format::Json:
      if (s.pages) return write_docling_json(select_pages_of(doc, *s.pages));
      return write_docling_json(doc);
  }
  return {};
}

namespace {

uint64_t fnv1a(const std::vector<uint8_t>& b) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t c : b) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Writes one data: URI image; returns the relative path, or "" when it is not a data URI.
std::string externalize(std::optional<ImageRef>& img, int index, const fs::path& dir, const fs::path& rel) {
  if (!img) return {};
  const std::string& uri = img->uri;
  size_t comma = uri.find(',');
  if (uri.rfind("data:", 0) != 0 || comma == std::string::npos || comma < 12) return {};
  if (uri.compare(comma - 7, 7, ";base64") != 0) return {};
  std::vector<uint8_t> bytes;
  if (!base64_decode(std::string_view(uri).substr(comma + 1), bytes)) return {};
  std::string ext = img->mimetype == "image/jpeg" ? "jpg" : "png";
  char name[64];
  std::snprintf(name, sizeof name, "image_%06d_%016llx.%s", index, (unsigned long long)fnv1a(bytes), ext.c_str());
  write_file_atomic(dir / name, std::string(bytes.begin(), bytes.end()));
  img->uri = (rel / name).generic_string();
  return img->uri;
}

}  // namespace

int externalize_images(Document& doc, const fs::path& artifacts_dir, const fs::path& relative_to) {
  fs::path rel = fs::proximate(artifacts_dir, relative_to.empty() ? fs::path(".") : relative_to);
  int n = 0;
  for (PictureItem& p : doc.pictures)
    if (!externalize(p.image, n, artifacts_dir, rel).empty()) ++n;
  for (PageItem& p : doc.pages)
    if (!externalize(p.image, n, artifacts_dir, rel).empty()) ++n;
  return n;
}

std::vector<fs::path> write_outputs(const Document& doc, const std::vector<Format>& formats, const ExportSettings& s,
                                    const std::string& out_dir, const fs::path& stem) {
  std::vector<fs::path> written;
  if (out_dir == "-") {
    for (Format f : formats) {
      std::string text = render(doc, f, s);
      std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : "");
    }
    std::cout.flush();
    return written;
  }
  const Document* d = &doc;
  Document copy;
  fs::path base = fs::path(out_dir) / stem;
  if (s.image_mode == ImageMode::Referenced) {
    copy = doc;
    fs::path artifacts = base.parent_path() / (base.filename().string() + "_artifacts");
    externalize_images(copy, artifacts, base.parent_path());
    d = &copy;
  }
  for (Format f : formats) {
    fs::path path = base;
    path += std::string(".") + extension(f);
    std::string text = render(*d, f, s);
    // Text files end with a newline (as docling-core's reference files do); JSON as saved.
    if (f != Format::Json && (text.empty() || text.back() != '\n')) text += '\n';
    write_file_atomic(path, text);
    written.push_back(path);
  }
  return written;
}

}  // namespace docling
