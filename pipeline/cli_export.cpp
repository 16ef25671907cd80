// docling-cpp export: DocTags or DoclingDocument JSON → md, html, json, doctags, text.
#include <cstdio>
#include <filesystem>

#include "doctags/docling_json.h"
#include "doctags/parser.h"
#include "core/image.h"
#include "pipeline/cli.h"
#include "pipeline/exports.h"
#include "pipeline/sources.h"

namespace fs = std::filesystem;

namespace docling {

namespace {

const char* kHelp =
    "usage: docling-cpp export FILE.doctags|FILE.json|- ... [-o OUTDIR|-] [--to FORMATS] [options]\n"
    "\n"
    "Writes OUTDIR/<input name>.{md,html,json,doctags,txt}. '-' reads stdin (JSON when it\n"
    "starts with '{', else DocTags) or, as OUTDIR, writes to stdout.\n"
    "\n"
    "  -o, --output DIR              output folder (default: .), '-' for stdout\n"
    "  --to LIST                     md,html,json,doctags,text (default: md)\n"
    "  --image-mode MODE             placeholder (default), embedded, referenced\n"
    "  --page-break-placeholder T    text between pages in Markdown/text\n"
    "  --pages LIST                  only these pages, e.g. 1,3-5\n"
    "  --md-compact-tables           Markdown tables without padding\n"
    "  --doctags-minified            DocTags without newlines between elements\n"
    "  --exclude-labels LIST         leave out items with these labels (e.g. picture)\n"
    "  --page-image PNG              page image of a DocTags input, one per page, in order\n"
    "                                (sets page sizes and picture crops, as docling-core)\n";

bool looks_like_json(const std::string& text) {
  for (char c : text)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c == '{';
  return false;
}

Document load_input(const Source& src, const std::vector<Image>& images, std::vector<std::string>& warnings) {
  std::string text = src.is_stdin() ? read_stdin() : read_file(src.path);
  InputKind kind = src.is_stdin() ? (looks_like_json(text) ? InputKind::DoclingJson : InputKind::DocTags)
                                  : input_kind(src.path);
  if (kind == InputKind::DoclingJson) {
    if (!images.empty()) throw std::runtime_error("--page-image applies to DocTags input only");
    return read_docling_json(text);
  }
  if (kind != InputKind::DocTags)
    throw std::runtime_error("not a DocTags (.doctags, .dt) or DoclingDocument (.json) file");
  // One string per page: <page_break> separates pages, as docling-core's multi-page form.
  std::vector<std::string> pages;
  if (text.find("<page_break>") != std::string::npos) pages = split_multipage_doctags(text);
  else pages.push_back(text);
  if (!images.empty() && images.size() != pages.size())
    throw std::runtime_error(std::to_string(pages.size()) + " page(s) of DocTags but " +
                             std::to_string(images.size()) + " --page-image file(s)");
  DocTagsReport rep;
  Document doc = from_doctags_and_image_pairs(pages, images.empty() ? nullptr : &images, "Document", {}, &rep);
  for (const ParseWarning& w : rep.warnings)
    warnings.push_back("page " + std::to_string(w.page) + ", byte " + std::to_string(w.offset) + ": " +
                       to_string(w.kind) + ": " + w.message);
  return doc;
}

}  // namespace

int cmd_export(const std::vector<std::string>& argv) {
  std::vector<OptionSpec> specs = {{"help", false}, {"h", false},          {"o", true},
                                   {"output", true}, {"to", true},         {"page-image", true, true},
                                   {"verbose", false}};
  for (const OptionSpec& s : export_option_specs(true)) specs.push_back(s);
  std::vector<Format> formats;
  ExportSettings settings;
  std::string out_dir;
  std::vector<Source> sources;
  std::vector<Image> images;
  bool verbose = false;
  try {
    Args args(argv, specs);
    if (args.flag("help") || args.flag("h")) {
      std::fputs(kHelp, stdout);
      return kExitOk;
    }
    if (args.positional().empty()) throw ArgError("no input (a .doctags or .json file, or -)");
    formats = parse_formats(args.get_or("to", "md"));
    settings = export_settings(args, ImageMode::Placeholder, true);
    out_dir = args.get("o") ? *args.get("o") : args.get_or("output", ".");
    verbose = args.flag("verbose");
    sources = collect_sources(args.positional(), {InputKind::DocTags, InputKind::DoclingJson});
    if (sources.empty()) throw ArgError("no .doctags or .json files in the given folders");
    for (const std::string& p : args.all("page-image")) {
      try {
        images.push_back(load_image(p));
      } catch (const std::exception& e) {
        throw ArgError("--page-image " + p + ": " + e.what());
      }
    }
    if (!images.empty() && sources.size() != 1) throw ArgError("--page-image needs exactly one DocTags input");
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitUsage;
  }

  int failed = 0;
  for (const Source& src : sources) {
    std::string name = src.is_stdin() ? "<stdin>" : src.path.string();
    try {
      std::vector<std::string> warnings;
      Document doc = load_input(src, images, warnings);
      if (verbose)
        for (const std::string& w : warnings) print_warning(name + ": " + w);
      fs::path stem = src.is_stdin() ? fs::path("stdin") : src.stem;
      write_outputs(doc, formats, settings, out_dir, stem);
    } catch (const std::exception& e) {
      print_error(name + ": " + e.what());
      ++failed;
    }
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace docling
