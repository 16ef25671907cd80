// docling-cpp serve: the answers. One document in the body: docling-serve's
// ConvertDocumentResponse ({"document": {filename, md_content, json_content, html_content,
// text_content, doctags_content}, status, errors, processing_time, timings}) plus a
// "warnings" list (docling-serve's clients ignore fields they do not know). Several
// documents, or a zip target: a zip of <name>.<ext> files, as docling-serve answers.
#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli.hpp"
#include "serve.hpp"

namespace fs = std::filesystem;

namespace dcli::serve {

namespace {

std::string quoted(const std::string& s) { return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string content_field(const DocResult& d, docling::Format f) {
  auto it = d.content.find(f);
  if (it == d.content.end()) return "null";
  return f == docling::Format::Json ? it->second : quoted(it->second);  // the document's JSON as it is exported
}

}  // namespace

Json error_items(const std::vector<std::string>& errors) {
  Json out = Json::array();
  for (const std::string& e : errors)
    out.push_back({{"component_type", "pipeline"}, {"module_name", "docling-cpp"}, {"error_message", e}});
  return out;
}

std::string response_json(const Task& t) {
  const DocResult& d = t.results.front();
  std::string out = "{\"document\":{\"filename\":" + quoted(d.filename);
  out += ",\"md_content\":" + content_field(d, docling::Format::Markdown);
  out += ",\"json_content\":" + content_field(d, docling::Format::Json);
  out += ",\"html_content\":" + content_field(d, docling::Format::Html);
  out += ",\"text_content\":" + content_field(d, docling::Format::Text);
  out += ",\"doctags_content\":" + content_field(d, docling::Format::DocTags);
  Json rest = {{"status", d.status},
               {"errors", error_items(d.errors)},
               {"processing_time", t.processing_time},
               {"timings",
                {{"document_total", {{"scope", "document"}, {"count", 1}, {"avg", d.seconds}, {"times", {d.seconds}}}}}}};
  Json warnings = t.options.warnings;
  for (const std::string& w : d.warnings) warnings.push_back(w);
  rest["warnings"] = warnings;
  std::string tail = rest.dump(-1, ' ', false, Json::error_handler_t::replace);
  return out + "}," + tail.substr(1);  // the rest's members after the document
}

namespace {

// A zip written into a string.
class Zip {
 public:
  Zip() : a_(archive_write_new()) {
    archive_write_set_format_zip(a_);
    archive_write_open(a_, &out_, nullptr, &Zip::write, nullptr);
  }
  ~Zip() { archive_write_free(a_); }
  void add(const std::string& name, const std::string& data) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, la_int64_t(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, std::time(nullptr), 0);
    if (archive_write_header(a_, e) != ARCHIVE_OK) fail(e);
    if (!data.empty() && archive_write_data(a_, data.data(), data.size()) < 0) fail(e);
    archive_entry_free(e);
  }
  std::string finish() {
    if (archive_write_close(a_) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a_));
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(archive_entry* e) {
    archive_entry_free(e);
    throw std::runtime_error(std::string("zip: ") + archive_error_string(a_));
  }
  static la_ssize_t write(archive*, void* self, const void* buf, size_t n) {
    static_cast<std::string*>(self)->append(static_cast<const char*>(buf), n);
    return la_ssize_t(n);
  }
  archive* a_;
  std::string out_;
};

// The output name of an upload: its base name without the extension, printable, unique.
std::string stem_of(const std::string& filename, std::set<std::string>& used) {
  std::string base = fs::path(filename).filename().string();
  std::string stem = fs::path(base).stem().string();
  for (char& c : stem)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  if (stem.empty() || stem == "." || stem == "..") stem = "document";
  std::string name = stem;
  for (int k = 2; !used.insert(name).second; ++k) name = stem + "-" + std::to_string(k);
  return name;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The files save() writes (referenced images included) go through a private folder.
void add_saved(Zip& zip, const DocResult& d, const std::string& stem, const RequestOptions& o) {
  static std::atomic<unsigned> seq{0};
  fs::path dir = fs::temp_directory_path() /
                 ("docling-serve-" + std::to_string(::getpid()) + "-" + std::to_string(seq++));
  fs::create_directories(dir);
  try {
    docling::ExportOptions eo = docling::export_defaults();
    eo.image_mode = o.image_mode;
    eo.page_break_placeholder = o.md_page_break;
    d.document->save(dir, stem, o.formats, eo);
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) zip.add(fs::relative(e.path(), dir).generic_string(), slurp(e.path()));
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  fs::remove_all(dir);
}

}  // namespace

std::string response_zip(Task& t) {
  Zip zip;
  std::set<std::string> used;
  for (DocResult& d : t.results) {
    if (!d.document) continue;  // failed or skipped: nothing to write, as docling-serve
    add_saved(zip, d, stem_of(d.filename, used), t.options);
    d.document.reset();
  }
  return zip.finish();
}

Json version_json() {
  return {{"docling-serve", "1.22.0 (v1 API shapes, as implemented by docling-cpp)"},
          {"docling-cpp", docling::version()},
          {"docling-core", "DoclingDocument 1.x JSON (docling-core exports)"}};
}

std::string iso_time() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  int ms = int(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

void log_line(const Json& j) {
  static std::mutex mu;
  std::string line = j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace dcli::serve
