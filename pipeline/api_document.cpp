// The public document (include/docling/document.hpp) over the internal tree.
#include <cstdio>
#include <set>
#include <sstream>

#include "core/file_io.h"
#include "core/image.h"
#include "doctags/docling_json.h"
#include "doctags/parser.h"
#include "exporters/doctags_writer.h"
#include "exporters/html.h"
#include "exporters/markdown.h"
#include "exporters/text.h"
#include "pipeline/api_internal.h"

namespace fs = std::filesystem;

namespace docling {

// --- small public functions -------------------------------------------------------------

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::Model: return "model";
    case ErrorCode::Input: return "input";
    case ErrorCode::Output: return "output";
    case ErrorCode::Cancelled: return "cancelled";
    case ErrorCode::OutOfMemory: return "out of memory";
    case ErrorCode::Internal: return "internal";
  }
  return "?";
}

const char* extension(Format f) {
  switch (f) {
    case Format::Markdown: return "md";
    case Format::Html: return "html";
    case Format::Json: return "json";
    case Format::DocTags: return "doctags";
    case Format::Text: return "txt";
    case Format::Chunks: return "chunks.jsonl";
  }
  return "out";
}

std::vector<Format> parse_formats(const std::string& list) {
  std::vector<Format> out;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    Format f;
    if (name == "md" || name == "markdown") f = Format::Markdown;
    else if (name == "html") f = Format::Html;
    else if (name == "json") f = Format::Json;
    else if (name == "doctags" || name == "dt") f = Format::DocTags;
    else if (name == "text" || name == "txt") f = Format::Text;
    else if (name == "chunks") f = Format::Chunks;
    else throw InvalidArgumentError("unknown output format '" + name + "' (use md, html, json, doctags, text, chunks)");
    bool seen = false;
    for (Format g : out) seen |= g == f;
    if (!seen) out.push_back(f);
  }
  if (out.empty()) throw InvalidArgumentError("no output format given");
  return out;
}

ExportOptions export_defaults() { return ExportOptions{}; }

namespace {

PageImage to_public(Image img) { return PageImage{img.width, img.height, std::move(img.rgb)}; }

}  // namespace

PageImage load_page_image(const fs::path& file) {
  try {
    return to_public(load_image(file.string()));
  } catch (const std::exception& e) {
    throw InputError(e.what());
  }
}

PageImage decode_page_image(const uint8_t* data, size_t size, const std::string& name) {
  try {
    return to_public(decode_image(std::vector<uint8_t>(data, data + size), name));
  } catch (const std::exception& e) {
    throw InputError(e.what());
  }
}

// --- the document ------------------------------------------------------------------------

const Document& tree(const DoclingDocument& d) { return d.impl()->doc; }
Document& tree(DoclingDocument& d) { return d.impl()->doc; }

DoclingDocument wrap(Document doc) {
  DoclingDocument d;
  tree(d) = std::move(doc);
  return d;
}

DoclingDocument::DoclingDocument() : impl_(std::make_unique<Impl>()) {}
DoclingDocument::~DoclingDocument() = default;
DoclingDocument::DoclingDocument(const DoclingDocument& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
DoclingDocument& DoclingDocument::operator=(const DoclingDocument& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(*o.impl_);
  return *this;
}
// A moved-from document is empty again, not null.
DoclingDocument::DoclingDocument(DoclingDocument&& o) noexcept : impl_(std::move(o.impl_)) {
  o.impl_.reset(new (std::nothrow) Impl());
}
DoclingDocument& DoclingDocument::operator=(DoclingDocument&& o) noexcept {
  if (this != &o) {
    impl_ = std::move(o.impl_);
    o.impl_.reset(new (std::nothrow) Impl());
  }
  return *this;
}

DoclingDocument DoclingDocument::from_json(std::string_view text) {
  try {
    return wrap(read_docling_json(std::string(text)));
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(std::string("DoclingDocument JSON: ") + e.what());
  }
}

DoclingDocument DoclingDocument::from_doctags(std::string_view doctags, const std::vector<PageImage>& page_images,
                                              std::vector<std::string>* warnings) {
  std::vector<std::string> pages;
  if (doctags.find("<page_break>") != std::string_view::npos) pages = split_multipage_doctags(doctags);
  else pages.emplace_back(doctags);
  if (!page_images.empty() && page_images.size() != pages.size())
    throw InvalidArgumentError(std::to_string(pages.size()) + " page(s) of DocTags but " +
                               std::to_string(page_images.size()) + " page image(s)");
  std::vector<Image> images;
  for (const PageImage& p : page_images) {
    Image img;
    img.width = p.width, img.height = p.height, img.rgb = p.rgb;
    if (img.rgb.size() != size_t(img.width) * img.height * 3)
      throw InvalidArgumentError("page image of " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                                 " with " + std::to_string(p.rgb.size()) + " bytes (expected w*h*3)");
    images.push_back(std::move(img));
  }
  DocTagsReport rep;
  Document doc = from_doctags_and_image_pairs(pages, images.empty() ? nullptr : &images, "Document", {}, &rep);
  if (warnings)
    for (const ParseWarning& w : rep.warnings)
      warnings->push_back("page " + std::to_string(w.page) + ", byte " + std::to_string(w.offset) + ": " +
                          to_string(w.kind) + ": " + w.message);
  return wrap(std::move(doc));
}

std::string DoclingDocument::name() const { return impl_->doc.name; }
int DoclingDocument::page_count() const { return int(impl_->doc.pages.size()); }

namespace {

// Rows of cells joined by " | ", one line per row.
std::string table_text(const TableData& data) {
  std::string out;
  for (const auto& row : data.grid()) {
    for (size_t c = 0; c < row.size(); ++c) out += (c ? " | " : "") + row[c].text;
    out += '\n';
  }
  if (!out.empty()) out.pop_back();
  return out;
}

struct ItemWalk {
  const Document& doc;
  std::vector<Item>& out;

  void node(const Ref& r, int list_depth, bool furniture) {
    const Node* n = doc.node(r);
    if (!n) return;
    bool list = r.kind == RefKind::Group &&
                (doc.groups[r.index].label == GroupLabel::List || doc.groups[r.index].label == GroupLabel::OrderedList);
    if (const DocItem* it = doc.item(r)) add(r, *it, list_depth, furniture || it->content_layer != ContentLayer::Body);
    for (const Ref& c : n->children) node(c, list_depth + (list ? 1 : 0), furniture);
  }

  void add(const Ref& r, const DocItem& it, int list_depth, bool furniture) {
    Item item;
    item.ref = r.pointer();
    item.label = it.label_name.empty() ? to_string(it.label) : it.label_name;
    item.furniture = furniture;
    if (r.kind == RefKind::Text) {
      const TextItem& t = doc.texts[r.index];
      item.text = t.text;
      item.level = it.label == Label::SectionHeader ? t.level : it.label == Label::ListItem ? list_depth : 0;
    } else if (r.kind == RefKind::Table) {
      item.text = table_text(doc.tables[r.index].data);
    }
    if (!it.prov.empty()) {
      const ProvenanceItem& p = it.prov.front();
      item.page = p.page_no;
      const PageItem* page = doc.page(p.page_no);
      BoundingBox b = p.bbox.origin == CoordOrigin::TopLeft ? p.bbox : p.bbox.to_top_left(page ? page->size.height : 0);
      item.box = Box{b.l, b.t, b.r, b.b};
    }
    out.push_back(std::move(item));
  }
};

}  // namespace

std::vector<Item> DoclingDocument::items() const {
  std::vector<Item> out;
  ItemWalk w{impl_->doc, out};
  w.node(Ref::body(), 0, false);
  w.node(Ref::furniture(), 0, true);
  return out;
}

LabelSet label_set(const std::vector<std::string>& names) {
  LabelSet set = 0;
  for (const std::string& name : names) {
    auto l = label_from(name);
    if (!l) throw InvalidArgumentError("unknown label '" + name + "' (e.g. picture, page_header, table)");
    set |= label_bit(*l);
  }
  return set;
}

namespace {

void apply_filter(ExportFilter& f, const ExportOptions& o) {
  f.labels &= ~label_set(o.excluded_labels);
  if (!o.pages.empty()) f.pages = std::set<int>(o.pages.begin(), o.pages.end());
}

// JSON has no page filter upstream; here `pages` keeps only those pages' content.
Document select_pages_of(const Document& doc, const std::vector<int>& pages) {
  Document out;
  out.schema_name = doc.schema_name;
  out.version = doc.version;
  out.name = doc.name;
  out.origin = doc.origin;
  out.extra = doc.extra;
  std::set<int> unique(pages.begin(), pages.end());
  std::vector<int> list(unique.begin(), unique.end());
  append_document(out, doc, 0, &list);
  return out;
}

}  // namespace

std::string render(const Document& doc, Format f, const ExportOptions& s) {
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
      o.split_page = s.html_split_page;
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
    case Format::Chunks:
      label_set(s.excluded_labels);
      return chunk_lines(doc, s.chunks);
    case Format::Json:
      label_set(s.excluded_labels);  // the same names are checked for every format
      if (!s.pages.empty()) return write_docling_json(select_pages_of(doc, s.pages));
      return write_docling_json(doc);
  }
  return {};
}

std::string DoclingDocument::export_to(Format format, const ExportOptions& options) const {
  return render(impl_->doc, format, options);
}

namespace {

uint64_t fnv1a(const std::vector<uint8_t>& b) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t c : b) h = (h ^ c) * 1099511628211ull;
  return h;
}

// One data: URI image into the batch; the image then points at the file by a relative path.
bool externalize(std::optional<ImageRef>& img, int index, const fs::path& dir, const fs::path& rel,
                 FileBatch& batch) {
  if (!img) return false;
  const std::string& uri = img->uri;
  size_t comma = uri.find(',');
  if (uri.rfind("data:", 0) != 0 || comma == std::string::npos || comma < 12) return false;
  if (uri.compare(comma - 7, 7, ";base64") != 0) return false;
  std::vector<uint8_t> bytes;
  if (!base64_decode(std::string_view(uri).substr(comma + 1), bytes)) return false;
  std::string ext = img->mimetype == "image/jpeg" ? "jpg" : "png";
  char name[64];
  std::snprintf(name, sizeof name, "image_%06d_%016llx.%s", index, (unsigned long long)fnv1a(bytes), ext.c_str());
  batch.add(dir / name, std::string(bytes.begin(), bytes.end()));
  img->uri = (rel / name).generic_string();
  return true;
}

int externalize_into(Document& doc, const fs::path& dir, const fs::path& relative_to, FileBatch& batch) {
  fs::path rel = fs::proximate(dir, relative_to.empty() ? fs::path(".") : relative_to);
  int n = 0;
  for (PictureItem& p : doc.pictures) n += externalize(p.image, n, dir, rel, batch);
  for (PageItem& p : doc.pages) n += externalize(p.image, n, dir, rel, batch);
  return n;
}

}  // namespace

std::vector<fs::path> DoclingDocument::save(const fs::path& dir, const std::string& stem,
                                            const std::vector<Format>& formats, const ExportOptions& options) const {
  if (stem.empty()) throw InvalidArgumentError("save: empty file name");
  // The files stay inside `dir`: no absolute stem, no step up.
  fs::path rel(stem);
  if (rel.is_absolute()) throw InvalidArgumentError("save: '" + stem + "' is an absolute path");
  for (const fs::path& part : rel)
    if (part == "..") throw InvalidArgumentError("save: '" + stem + "' leaves the output folder");
  try {
    fs::path base = dir / stem;
    const Document* d = &impl_->doc;
    Document copy;
    FileBatch batch;
    if (options.image_mode == ImageMode::Referenced) {
      copy = impl_->doc;
      externalize_into(copy, base.parent_path() / (base.filename().string() + "_artifacts"), base.parent_path(), batch);
      d = &copy;
    }
    for (Format f : formats) {
      fs::path path = base;
      path += std::string(".") + extension(f);
      std::string text = render(*d, f, options);
      // Text files end with a newline (as docling-core's reference files do); JSON as saved.
      if (f != Format::Json && f != Format::Chunks && (text.empty() || text.back() != '\n')) text += '\n';
      batch.add(path, text);
    }
    return batch.commit();
  } catch (const FileError& e) {
    throw OutputError(e.what());
  }
}

std::vector<fs::path> DoclingDocument::remove_stale_temporaries(const fs::path& dir) {
  return docling::remove_stale_temporaries(dir);
}

}  // namespace docling
