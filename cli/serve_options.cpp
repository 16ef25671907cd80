// docling-cpp serve: reading a request's options (docling-serve's names), from a multipart
// form or a JSON body. Applied where docling-cpp has the feature; accepted and reported
// (a line in the response's "warnings") where it has not; unknown names are a 422.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "cli.hpp"
#include "serve.hpp"

namespace dcli::serve {

HttpError invalid(const std::string& where, const std::string& name, const std::string& msg) {
  Json loc = Json::array({"body"});
  if (!where.empty()) loc.push_back(where);
  if (!name.empty()) loc.push_back(name);
  return HttpError(422, Json::array({{{"type", "value_error"}, {"loc", loc}, {"msg", msg}}}));
}

namespace {

enum class Kind { Str, StrList, Bool, Number, Range, Object };

struct Known {
  const char* name;
  Kind kind;
  bool applied;
  const char* dflt;  // docling-serve's default as JSON; a differing value of an unapplied option is reported
};

// docling-serve's ConvertDocumentsRequestOptions (docling-jobkit), as of docling-serve 1.x.
constexpr Known kOptions[] = {
    {"from_formats", Kind::StrList, true, nullptr},
    {"to_formats", Kind::StrList, true, nullptr},
    {"image_export_mode", Kind::Str, true, nullptr},
    {"pipeline", Kind::Str, true, nullptr},
    {"page_range", Kind::Range, true, nullptr},
    {"document_timeout", Kind::Number, true, nullptr},
    {"abort_on_error", Kind::Bool, true, nullptr},
    {"md_page_break_placeholder", Kind::Str, true, nullptr},
    {"return_as_file", Kind::Bool, true, nullptr},  // before v1: a zip answer
    {"do_ocr", Kind::Bool, false, "true"},  // pages without text go to the model (pipeline auto/vlm)
    {"force_ocr", Kind::Bool, false, "false"},
    {"ocr_engine", Kind::Str, false, nullptr},
    {"ocr_lang", Kind::StrList, false, nullptr},
    {"pdf_backend", Kind::Str, false, nullptr},
    {"table_mode", Kind::Str, false, nullptr},
    {"table_cell_matching", Kind::Bool, false, "true"},
    {"do_table_structure", Kind::Bool, false, "true"},
    {"include_images", Kind::Bool, false, "true"},
    {"images_scale", Kind::Number, false, "2.0"},
    {"do_code_enrichment", Kind::Bool, false, "false"},
    {"do_formula_enrichment", Kind::Bool, false, "false"},
    {"do_picture_classification", Kind::Bool, false, "false"},
    {"do_chart_extraction", Kind::Bool, false, "false"},
    {"do_picture_description", Kind::Bool, false, "false"},
    {"picture_description_area_threshold", Kind::Number, false, nullptr},
    {"picture_description_local", Kind::Object, false, "null"},
    {"picture_description_api", Kind::Object, false, "null"},
    {"picture_description_preset", Kind::Str, false, nullptr},
    {"picture_description_custom_config", Kind::Object, false, "null"},
    {"vlm_pipeline_model", Kind::Str, false, "null"},
    {"vlm_pipeline_model_local", Kind::Object, false, "null"},
    {"vlm_pipeline_model_api", Kind::Object, false, "null"},
    {"vlm_pipeline_preset", Kind::Str, false, nullptr},
    {"vlm_pipeline_custom_config", Kind::Object, false, "null"},
    {"layout_preset", Kind::Str, false, nullptr},
    {"table_structure_preset", Kind::Str, false, nullptr},
};

// docling's InputFormat values.
constexpr const char* kInputFormats[] = {"docx", "pptx", "html", "image", "pdf", "asciidoc", "md", "csv",
                                         "xlsx", "xml_uspto", "xml_jats", "xml_xbrl", "mets_gbs",
                                         "json_docling", "audio", "vtt", "latex"};

const Known* known(const std::string& name) {
  for (const Known& k : kOptions)
    if (name == k.name) return &k;
  return nullptr;
}

bool one_of(const std::string& v, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (v == n) return true;
  return false;
}

// A form field's text as the option's JSON type (lists gather repeated fields).
Json form_value(const Known& k, const std::string& v) {
  auto bad = [&](const char* what) { return invalid("", k.name, std::string("expected ") + what); };
  switch (k.kind) {
    case Kind::Str: return v;
    case Kind::StrList: return Json::array({v});
    case Kind::Bool:
      if (one_of(v, {"true", "True", "1", "on", "yes"})) return true;
      if (one_of(v, {"false", "False", "0", "off", "no"})) return false;
      throw bad("a boolean");
    case Kind::Number: {
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !std::isfinite(d)) throw bad("a number");
      return d;
    }
    case Kind::Range: {  // repeated fields (docling-serve's form) or "3-7"
      size_t dash = v.find('-', 1);
      if (dash == std::string::npos) return Json::array({form_value({k.name, Kind::Number, true, nullptr}, v)});
      return Json::array({form_value({k.name, Kind::Number, true, nullptr}, v.substr(0, dash)),
                          form_value({k.name, Kind::Number, true, nullptr}, v.substr(dash + 1))});
    }
    case Kind::Object:
      try {
        return Json::parse(v);
      } catch (const Json::exception&) {
        throw bad("a JSON object");
      }
  }
  return v;
}

std::vector<std::string> strings(const Known& k, const Json& v) {
  std::vector<std::string> out;
  if (v.is_string()) out.push_back(v.get<std::string>());
  else if (v.is_array())
    for (const Json& e : v) {
      if (!e.is_string()) throw invalid("options", k.name, "expected a list of strings");
      out.push_back(e.get<std::string>());
    }
  else throw invalid("options", k.name, "expected a string or a list of strings");
  return out;
}

void check_type(const Known& k, const Json& v) {
  bool ok = true;
  switch (k.kind) {
    case Kind::Str: ok = v.is_string() || (v.is_null() && k.dflt); break;
    case Kind::StrList: ok = v.is_string() || v.is_array() || v.is_null(); break;
    case Kind::Bool: ok = v.is_boolean(); break;
    case Kind::Number: ok = v.is_number() || v.is_null(); break;
    case Kind::Range: ok = v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number(); break;
    case Kind::Object: ok = v.is_object() || v.is_null(); break;
  }
  if (!ok) throw invalid("options", k.name, "wrong type");
}

docling::Pipeline pipeline_of(const std::string& v, const Settings& s) {
  if (v == "standard" || v == "legacy") return s.standard_pipeline;
  if (v == "vlm") {
    if (!s.has_model) throw invalid("options", "pipeline", "pipeline 'vlm' needs a model; this server has none (start it with --model DIR)");
    return docling::Pipeline::Vlm;
  }
  if (v == "text") return docling::Pipeline::Text;  // docling-cpp's own names
  if (v == "auto") return s.has_model ? docling::Pipeline::Auto : docling::Pipeline::Text;
  throw invalid("options", "pipeline", "expected standard, vlm (or docling-cpp's text, auto), got '" + escape(v) + "'");
}

void apply_formats(const Known& k, const Json& v, RequestOptions& o) {
  o.formats.clear();
  for (const std::string& f : strings(k, v)) {
    docling::Format fmt;
    if (f == "md") fmt = docling::Format::Markdown;
    else if (f == "json") fmt = docling::Format::Json;
    else if (f == "html") fmt = docling::Format::Html;
    else if (f == "text") fmt = docling::Format::Text;
    else if (f == "doctags") fmt = docling::Format::DocTags;
    else throw invalid("options", k.name, "'" + escape(f) + "' is not one of md, json, html, text, doctags");
    if (std::find(o.formats.begin(), o.formats.end(), fmt) == o.formats.end()) o.formats.push_back(fmt);
  }
}

void apply_range(const Json& v, RequestOptions& o) {
  double a = v[0].get<double>(), b = v[1].get<double>();
  if (a < 1 || b < a || a != std::floor(a) || b != std::floor(b))
    throw invalid("options", "page_range", "expected [first, last] with 1 <= first <= last");
  if (a == 1 && b >= 2147483647.0) return;  // docling's default range: every page
  o.pages = std::to_string(int64_t(a)) + "-" + (b >= 2147483647.0 ? std::string() : std::to_string(int64_t(b)));
}

void apply_one(const Known& k, const Json& v, RequestOptions& o, const Settings& s) {
  std::string n = k.name;
  if (n == "to_formats") apply_formats(k, v, o);
  else if (n == "from_formats") {
    o.from_formats = strings(k, v);
    for (const std::string& f : o.from_formats)
      if (std::none_of(std::begin(kInputFormats), std::end(kInputFormats), [&](const char* x) { return f == x; }))
        throw invalid("options", n, "'" + escape(f) + "' is not an input format docling knows");
  } else if (n == "image_export_mode") {
    std::string m = v.get<std::string>();
    if (m == "placeholder") o.image_mode = docling::ImageMode::Placeholder;
    else if (m == "embedded") o.image_mode = docling::ImageMode::Embedded;
    else if (m == "referenced") o.image_mode = docling::ImageMode::Referenced;
    else throw invalid("options", n, "expected embedded, placeholder or referenced");
  } else if (n == "pipeline") o.pipeline = pipeline_of(v.get<std::string>(), s);
  else if (n == "page_range") apply_range(v, o);
  else if (n == "document_timeout") {
    if (!v.is_null() && v.get<double>() <= 0) throw invalid("options", n, "expected a number of seconds above 0");
    o.document_timeout_s = v.is_null() ? 0 : v.get<double>();
  } else if (n == "abort_on_error") o.abort_on_error = v.get<bool>();
  else if (n == "md_page_break_placeholder") {
    if (!v.get<std::string>().empty()) o.md_page_break = v.get<std::string>();
  } else if (n == "return_as_file") o.zip = o.zip || v.get<bool>();
}

// Applies a JSON object of options; unknown names are one 422 naming them all.
void apply_all(const Json& opts, RequestOptions& o, const Settings& s, const char* where) {
  if (!opts.is_object()) throw invalid(where, "", "expected an object of options");
  std::string unknown;
  for (auto it = opts.begin(); it != opts.end(); ++it)
    if (!known(it.key())) unknown += (unknown.empty() ? "" : ", ") + escape(it.key());
  if (!unknown.empty()) throw invalid(where, "", "unknown option(s): " + unknown);
  o.pipeline = s.standard_pipeline;
  std::string ignored;
  for (auto it = opts.begin(); it != opts.end(); ++it) {
    const Known& k = *known(it.key());
    check_type(k, it.value());
    if (k.applied) apply_one(k, it.value(), o, s);
    else if (!k.dflt || Json::parse(k.dflt) != it.value())
      ignored += (ignored.empty() ? "" : ", ") + std::string(k.name);
  }
  if (!ignored.empty()) o.warnings.push_back("options accepted but not applied by docling-cpp: " + ignored);
  if (o.image_mode == docling::ImageMode::Referenced && !o.zip) {
    o.image_mode = docling::ImageMode::Placeholder;
    o.warnings.push_back("image_export_mode 'referenced' needs a zip target (its images are files); placeholder used");
  }
}

}  // namespace

Json options_schema() {
  Json props = Json::object();
  for (const Known& k : kOptions) {
    Json p;
    switch (k.kind) {
      case Kind::Str: p = {{"type", "string"}}; break;
      case Kind::StrList: p = {{"type", "array"}, {"items", {{"type", "string"}}}}; break;
      case Kind::Bool: p = {{"type", "boolean"}}; break;
      case Kind::Number: p = {{"type", "number"}}; break;
      case Kind::Range: p = {{"type", "array"}, {"items", {{"type", "integer"}}}, {"minItems", 2}, {"maxItems", 2}}; break;
      case Kind::Object: p = {{"type", "object"}}; break;
    }
    p["description"] = k.applied ? "applied" : "accepted, not applied (reported in warnings)";
    props[k.name] = p;
  }
  props["to_formats"]["items"]["enum"] = {"md", "json", "html", "text", "doctags"};
  props["image_export_mode"]["enum"] = {"embedded", "placeholder", "referenced"};
  props["pipeline"]["enum"] = {"standard", "vlm", "legacy", "text", "auto"};
  return {{"type", "object"}, {"additionalProperties", false}, {"properties", props}};
}

RequestOptions options_from_form(const std::vector<std::pair<std::string, std::string>>& fields, const Settings& s) {
  Json opts = Json::object();
  RequestOptions o;
  for (const auto& [name, value] : fields) {
    if (name == "target_type") {
      if (value != "inbody" && value != "zip") throw invalid("", name, "expected inbody or zip");
      o.zip = value == "zip";
      continue;
    }
    const Known* k = known(name);
    if (!k) {
      opts[name] = value;  // reported with the others by apply_all
      continue;
    }
    Json v = form_value(*k, value);
    bool list = k->kind == Kind::StrList || k->kind == Kind::Range;
    if (list && opts.contains(name)) opts[name].insert(opts[name].end(), v.begin(), v.end());
    else opts[name] = v;
  }
  if (opts.contains("page_range") && opts["page_range"].size() == 1) opts["page_range"].push_back(opts["page_range"][0]);
  apply_all(opts, o, s, "");
  return o;
}

namespace {

// docling-serve's base64 decoder accepts the standard alphabet with padding; so do we
// (whitespace skipped, URL-safe letters too).
bool base64_decode(const std::string& in, std::string& out) {
  auto val = [](unsigned char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  out.clear();
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  bool pad = false;
  for (unsigned char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      pad = true;
      continue;
    }
    int v = val(c);
    if (v < 0 || pad) return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  return bits < 6;
}

Document file_source(const Json& src, size_t i, const Settings& s) {
  std::string where = "sources[" + std::to_string(i) + "]";
  if (!src.is_object() || !src.contains("base64_string") || !src["base64_string"].is_string())
    throw invalid(where, "base64_string", "a file source needs base64_string and filename");
  Document d;
  d.filename = src.value("filename", std::string("file") + std::to_string(i) + ".pdf");
  if (d.filename.empty()) d.filename = "file.pdf";
  const std::string& b64 = src["base64_string"].get_ref<const std::string&>();
  if (b64.size() / 4 * 3 > s.max_file_bytes + 3)
    throw HttpError(413, "'" + escape(d.filename) + "' is larger than the server's limit of " +
                             std::to_string(s.max_file_bytes >> 20) + " MiB (--max-file-mb)");
  if (!base64_decode(b64, d.bytes)) throw invalid(where, "base64_string", "not valid base64");
  if (d.bytes.size() > s.max_file_bytes)
    throw HttpError(413, "'" + escape(d.filename) + "' is larger than the server's limit of " +
                             std::to_string(s.max_file_bytes >> 20) + " MiB (--max-file-mb)");
  return d;
}

[[noreturn]] void refuse_http_source() {
  throw HttpError(400, "http sources are not fetched: docling-cpp serve has no URL allow-list configured; "
                       "send the file itself (POST /v1/convert/file, or a file source with base64_string)");
}

void read_sources(const Json& body, const Settings& s, std::vector<Document>& docs) {
  size_t i = 0;
  if (body.contains("sources")) {
    if (!body["sources"].is_array()) throw invalid("", "sources", "expected a list");
    for (const Json& src : body["sources"]) {
      std::string kind = src.is_object() ? src.value("kind", std::string("file")) : "";
      if (kind == "http") refuse_http_source();
      if (kind != "file") throw invalid("sources", "kind", "expected a source of kind file (or http)");
      docs.push_back(file_source(src, i++, s));
    }
  }
  if (body.contains("http_sources") && !body["http_sources"].empty()) refuse_http_source();
  if (body.contains("file_sources")) {
    if (!body["file_sources"].is_array()) throw invalid("", "file_sources", "expected a list");
    for (const Json& src : body["file_sources"]) docs.push_back(file_source(src, i++, s));
  }
  if (docs.empty()) throw invalid("", "sources", "no source given (sources or file_sources)");
}

}  // namespace

RequestOptions options_from_source(const Json& body, const Settings& s, std::vector<Document>& docs) {
  if (!body.is_object()) throw invalid("", "", "expected a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it)
    if (!one_of(it.key(), {"options", "sources", "file_sources", "http_sources", "target"}))
      throw invalid("", it.key(), "unknown field (expected options, sources, file_sources, http_sources, target)");
  RequestOptions o;
  if (body.contains("target")) {
    const Json& t = body["target"];
    std::string kind = t.is_object() ? t.value("kind", std::string()) : "";
    if (kind != "inbody" && kind != "zip") throw invalid("target", "kind", "expected inbody or zip");
    o.zip = kind == "zip";
  }
  apply_all(body.value("options", Json::object()), o, s, "options");
  read_sources(body, s, docs);
  return o;
}

}  // namespace dcli::serve
