// docling-cpp export: DocTags or DoclingDocument JSON → md, html, json, doctags, text.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace fs = std::filesystem;

namespace dcli {

namespace {

struct Flags {
  std::vector<std::string> inputs, page_images;
  std::string output = ".", to = "md", max_input;
  bool verbose = false;
  ExportFlags exports;
};

void add_flags(CLI::App& app, Flags& f) {
  setup_app(app, "usage: docling-cpp export FILE.doctags|FILE.json|- ... [-o OUTDIR|-] [--to FORMATS] [options]",
            "Writes OUTDIR/<input name>.{md,html,json,doctags,txt}. '-' reads stdin (JSON when it\n"
            "starts with '{', else DocTags) or, as OUTDIR, writes to stdout.");
  app.add_option("inputs", f.inputs, ".doctags or DoclingDocument .json files, folders, or - for stdin")
      ->type_name("FILES|DIRS|-");
  app.add_option("-o,--output", f.output, "output folder (default: .), '-' for stdout")->type_name("DIR");
  app.add_option("--to", f.to, "md,html,json,doctags,text,chunks (default: md)")->type_name("LIST");
  app.add_option("--page-image", f.page_images,
                 "page image of a DocTags input, one per page, in order\n"
                 "(sets page sizes and picture crops, as docling-core)")
      ->type_name("PNG")
      ->allow_extra_args(false);
  add_max_input_flag(app, f.max_input);
  app.add_flag("--verbose", f.verbose, "report DocTags problems the reader tolerated");
  add_export_flags(app, f.exports, true, "placeholder");
}

std::string read_all(const Source& src, uint64_t max_bytes) {
  if (src.is_stdin()) {
    std::vector<uint8_t> b = read_stdin(max_bytes);
    return std::string(b.begin(), b.end());
  }
  return read_input_file(src.path, max_bytes);
}

bool looks_like_json(const std::string& text) {
  for (char c : text)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c == '{';
  return false;
}

size_t count_pages(const std::string& doctags) {
  size_t n = 1;
  for (size_t at = doctags.find("<page_break>"); at != std::string::npos; at = doctags.find("<page_break>", at + 1)) ++n;
  return n;
}

docling::DoclingDocument load(const Source& src, const std::vector<docling::PageImage>& images, uint64_t max_bytes,
                              std::vector<std::string>& warnings) {
  Kind kind = src.is_stdin() ? Kind::Other : kind_of(src.path);
  if (!src.is_stdin() && kind != Kind::Json && kind != Kind::DocTags)  // before reading it
    throw std::runtime_error("not a DocTags (.doctags, .dt) or DoclingDocument (.json) file");
  std::string text = read_all(src, max_bytes);
  if (src.is_stdin()) kind = looks_like_json(text) ? Kind::Json : Kind::DocTags;
  if (kind == Kind::Json) {
    if (!images.empty()) throw std::runtime_error("--page-image applies to DocTags input only");
    return docling::DoclingDocument::from_json(text);
  }
  if (!images.empty() && images.size() != count_pages(text))
    throw std::runtime_error(std::to_string(count_pages(text)) + " page(s) of DocTags but " +
                             std::to_string(images.size()) + " --page-image file(s)");
  return docling::DoclingDocument::from_doctags(text, images, &warnings);
}

}  // namespace

int cmd_export(int argc, char** argv) {
  CLI::App app;
  Flags f;
  add_flags(app, f);
  if (int code = parse(app, argc, argv); code >= 0) return code;
  std::vector<docling::Format> formats;
  docling::ExportOptions options;
  std::vector<PageSpan> pages;
  std::vector<Source> sources;
  std::vector<docling::PageImage> images;
  uint64_t max_bytes = 0;
  try {
    if (f.inputs.empty()) throw UsageError("no input (a .doctags or .json file, or -)");
    try {
      formats = docling::parse_formats(f.to);
    } catch (const docling::InvalidArgumentError& e) {
      throw UsageError(std::string("--to: ") + e.what());
    }
    options = export_options(f.exports, docling::ImageMode::Placeholder);
    max_bytes = max_input_bytes(f.max_input);
    if (!f.exports.pages.empty()) pages = parse_page_list(f.exports.pages);
    sources = collect_sources(f.inputs, {Kind::DocTags, Kind::Json});
    if (sources.empty()) throw UsageError("no .doctags or .json files in the given folders");
    for (const std::string& p : f.page_images) {
      try {
        images.push_back(docling::load_page_image(p));
      } catch (const std::exception& e) {
        throw UsageError("--page-image " + display(p) + ": " + escape(e.what()));
      }
    }
    if (!images.empty() && sources.size() != 1) throw UsageError("--page-image needs exactly one DocTags input");
  } catch (const UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  }
  rename_duplicates(sources);  // as convert: two inputs never write one file
  if (f.output != "-") remove_stale_temporaries(f.output, sources);

  int failed = 0;
  for (const Source& src : sources) {
    try {
      std::vector<std::string> warnings;
      docling::DoclingDocument doc = load(src, images, max_bytes, warnings);
      if (f.verbose)
        for (const std::string& w : warnings) print_warning(src.name() + ": " + escape(w));
      docling::ExportOptions o = options;
      if (!pages.empty()) o.pages = expand_pages(pages, doc.page_count());
      if (f.output == "-") {
        for (docling::Format fmt : formats) write_stdout(doc, fmt, o);
      } else {
        check_output_name(f.output, src.stem);
        doc.save(f.output, src.stem, formats, o);
      }
    } catch (const std::exception& e) {
      print_error(src.name() + ": " + escape(e.what()));
      ++failed;
    }
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace dcli
