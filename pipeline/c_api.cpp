// The C API (include/docling/docling.h) over the C++ API: handles own C++ objects, options
// are copied field by field into their C++ counterparts, and every entry point catches what
// the C++ side throws and turns it into a status and a per-thread message.
//
// Takes: C structs and handles. Gives: docling::Engine / ConvertResult / DoclingDocument calls.
#include "docling/docling.h"

#include <algorithm>
#include <cstdlib>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "docling/docling.hpp"

static_assert(int(DOCLING_ERR_INVALID_ARGUMENT) == int(docling::ErrorCode::InvalidArgument));
static_assert(int(DOCLING_ERR_MODEL) == int(docling::ErrorCode::Model));
static_assert(int(DOCLING_ERR_INPUT) == int(docling::ErrorCode::Input));
static_assert(int(DOCLING_ERR_OUTPUT) == int(docling::ErrorCode::Output));
static_assert(int(DOCLING_ERR_CANCELLED) == int(docling::ErrorCode::Cancelled));
static_assert(int(DOCLING_ERR_OUT_OF_MEMORY) == int(docling::ErrorCode::OutOfMemory));
static_assert(int(DOCLING_ERR_INTERNAL) == int(docling::ErrorCode::Internal));
static_assert(int(DOCLING_LOG_ERROR) == int(docling::LogLevel::Error));
static_assert(int(DOCLING_VISION_PRECISION_INT8) == int(docling::VisionPrecision::Int8));
static_assert(int(DOCLING_VISION_PRECISION_BF16) == int(docling::VisionPrecision::Bf16));
static_assert(int(DOCLING_DECODE_PRECISION_BF16) == int(docling::DecodePrecision::Bf16));

struct docling_engine {
  docling::Engine engine;
  explicit docling_engine(const docling::EngineOptions& o) : engine(o) {}
};

struct docling_cancel_token {
  docling::CancelToken token;
};

// Owned (from_doctags / from_json) or borrowed (a result's document, a page in a callback).
// Items are made on first request (once, whichever thread asks first).
struct docling_document {
  std::unique_ptr<docling::DoclingDocument> owned;
  const docling::DoclingDocument* doc = nullptr;
  mutable std::once_flag items_once;
  mutable std::vector<docling::Item> items;
};

struct docling_result {
  docling::ConvertResult r;
  docling_document view;  // borrows r.document
};

namespace {

// The first release's struct sizes: a caller's struct_size below these is not a struct of ours.
// They stay fixed when fields are appended.
constexpr size_t kEngineOptionsV1 = offsetof(docling_engine_options, vision_precision);  // before 0.2's field
constexpr size_t kConvertOptionsV1 = offsetof(docling_convert_options, box_origin);  // before 0.2's fields
constexpr size_t kExportOptionsV1 = offsetof(docling_export_options, chunker);  // before the chunk fields
constexpr size_t kItemV1 = sizeof(docling_item);
constexpr size_t kEngineStatsV1 = sizeof(docling_engine_stats);

thread_local std::string t_error;
thread_local bool t_error_lost = false;  // the message itself could not be stored

void set_error(const char* message) noexcept {
  try {
    t_error = message;
    t_error_lost = false;
  } catch (...) {
    t_error_lost = true;
  }
}

docling_status fail(docling_status s, const std::string& message) noexcept {
  set_error(message.c_str());
  return s;
}

docling_status from_code(docling::ErrorCode c) {
  int v = int(c);
  return v >= DOCLING_ERR_INVALID_ARGUMENT && v <= DOCLING_ERR_INTERNAL ? docling_status(v) : DOCLING_ERR_INTERNAL;
}

// Runs `f` with the thread's message cleared; whatever it throws becomes a status.
template <class F>
docling_status guard(F&& f) noexcept {
  try {
    t_error.clear();
    t_error_lost = false;
    return f();
  } catch (const docling::Error& e) {
    return fail(from_code(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(DOCLING_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(DOCLING_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(DOCLING_ERR_INTERNAL, "internal error: unknown exception");
  }
}

std::string str(const char* s) { return s ? std::string(s) : std::string(); }

// Defaults of a struct from the C++ defaults, so the two cannot drift apart.
void defaults(docling_engine_options& o) {
  docling::EngineOptions d = docling::engine_defaults();
  o = docling_engine_options{};
  o.struct_size = sizeof o;
  o.model_dir = nullptr;
  o.weights = docling_weights(int(d.weights));
  o.kv_cache = docling_kv_cache(int(d.kv_cache));
  o.threads = d.threads;
  o.batch_size = d.batch_size;
  o.pages_in_flight = d.pages_in_flight;
  o.max_new_tokens = d.max_new_tokens;
  o.max_isa = docling_isa(int(d.max_isa));
  o.int8_activations = d.int8_activations;
  o.bf16_dot = d.bf16_dot;
  o.vision_precision = docling_vision_precision(int(d.vision_precision));
  o.kernel_tuning_dir = nullptr;  // as the C++ default, ""
  o.decode_precision = docling_decode_precision(int(d.decode_precision));
  o.amx = d.amx;
  o.screen_head = d.screen_head;
}

void defaults(docling_convert_options& o) {
  docling::ConvertOptions d = docling::convert_defaults();
  o = docling_convert_options{};
  o.struct_size = sizeof o;
  o.pipeline = docling_pipeline(int(d.pipeline));
  o.max_new_tokens = d.max_new_tokens;
  o.force_backend_text = d.force_backend_text;
  o.render_direct = d.render_direct;
  o.loop_guard = d.loop_guard;
  o.page_images = d.page_images;
  o.speculate = d.speculate;
  o.box_origin = docling_box_origin(int(d.box_origin));
  o.max_input_bytes = d.limits.max_input_bytes;
  o.max_side = d.limits.max_side;
  o.max_pixels = d.limits.max_pixels;
  o.max_inflated_bytes = d.limits.max_inflated_bytes;
}

void defaults(docling_export_options& o) {
  docling::ExportOptions d = docling::export_defaults();
  o = docling_export_options{};
  o.struct_size = sizeof o;
  o.image_mode = docling_image_mode(int(d.image_mode));
  o.md_compact_tables = d.md_compact_tables;
  o.doctags_minified = d.doctags_minified;
  o.chunker = docling_chunker(int(d.chunks.chunker));
  o.chunk_tokenizer = nullptr;
  o.chunk_max_tokens = d.chunks.max_tokens;
}

template <class T>
docling_status fill_defaults(T* out, size_t size, size_t min_size, const char* fn) {
  if (!out || size < min_size)
    return fail(DOCLING_ERR_INVALID_ARGUMENT, std::string(fn) + ": options is NULL or struct_size " +
                                                  std::to_string(size) + " is smaller than " + std::to_string(min_size));
  T d;
  defaults(d);
  std::memcpy(static_cast<void*>(out), &d, std::min(size, sizeof d));  // a newer caller's tail stays as it is
  out->struct_size = size;
  return DOCLING_OK;
}

// The caller's struct over our defaults: fields past its struct_size keep their defaults.
template <class T>
docling_status read_struct(const T* in, T& v, size_t min_size, const char* what) {
  defaults(v);
  if (!in) return DOCLING_OK;
  if (in->struct_size < min_size)
    return fail(DOCLING_ERR_INVALID_ARGUMENT, std::string(what) + ".struct_size is " + std::to_string(in->struct_size) +
                                                  " (fill it with the *_default_options function)");
  std::memcpy(static_cast<void*>(&v), in, std::min(in->struct_size, sizeof v));
  return DOCLING_OK;
}

// An enum as the integer the caller stored: a C caller may put any int there, and reading it
// as the C++ enum type before it is checked would be undefined behaviour.
template <class E>
long raw(const E& e) {
  std::underlying_type_t<E> v;
  std::memcpy(&v, &e, sizeof v);
  return long(v);
}

docling_status bad_enum(const char* field, long value) {
  return fail(DOCLING_ERR_INVALID_ARGUMENT, std::string(field) + ": " + std::to_string(value) + " is out of range");
}

docling_status to_cpp(const docling_engine_options* in, docling::EngineOptions& o) {
  docling_engine_options c;
  if (docling_status s = read_struct(in, c, kEngineOptionsV1, "docling_engine_options")) return s;
  if (raw(c.weights) < 0 || raw(c.weights) > DOCLING_WEIGHTS_INT8) return bad_enum("docling_engine_options.weights", raw(c.weights));
  if (raw(c.kv_cache) < 0 || raw(c.kv_cache) > DOCLING_KV_CACHE_F32) return bad_enum("docling_engine_options.kv_cache", raw(c.kv_cache));
  if (raw(c.max_isa) < 0 || raw(c.max_isa) > DOCLING_ISA_SCALAR) return bad_enum("docling_engine_options.max_isa", raw(c.max_isa));
  if (raw(c.vision_precision) < 0 || raw(c.vision_precision) > DOCLING_VISION_PRECISION_INT8)
    return bad_enum("docling_engine_options.vision_precision", raw(c.vision_precision));
  if (raw(c.decode_precision) < 0 || raw(c.decode_precision) > DOCLING_DECODE_PRECISION_BF16)
    return bad_enum("docling_engine_options.decode_precision", raw(c.decode_precision));
  o = docling::engine_defaults();
  o.model_dir = str(c.model_dir);
  o.weights = docling::Weights(int(c.weights));
  o.kv_cache = docling::KvCache(int(c.kv_cache));
  o.threads = c.threads;
  o.batch_size = c.batch_size;
  o.pages_in_flight = c.pages_in_flight;
  o.max_new_tokens = c.max_new_tokens;
  o.max_isa = docling::Isa(int(c.max_isa));
  o.int8_activations = c.int8_activations;
  o.bf16_dot = c.bf16_dot;
  o.vision_precision = docling::VisionPrecision(int(c.vision_precision));
  o.kernel_tuning_dir = str(c.kernel_tuning_dir);
  o.decode_precision = docling::DecodePrecision(int(c.decode_precision));
  o.amx = c.amx;
  o.screen_head = c.screen_head;
  if (c.log) {
    docling_log_callback fn = c.log;
    void* ud = c.log_user_data;
    o.log = [fn, ud](docling::LogLevel l, const std::string& m) { fn(docling_log_level(int(l)), m.c_str(), ud); };
  }
  return DOCLING_OK;
}

docling_status to_cpp(const docling_convert_options* in, docling::ConvertOptions& o) {
  docling_convert_options c;
  if (docling_status s = read_struct(in, c, kConvertOptionsV1, "docling_convert_options")) return s;
  if (raw(c.pipeline) < 0 || raw(c.pipeline) > DOCLING_PIPELINE_AUTO) return bad_enum("docling_convert_options.pipeline", raw(c.pipeline));
  o = docling::convert_defaults();
  o.pipeline = docling::Pipeline(int(c.pipeline));
  o.pages = str(c.pages);
  o.password = str(c.password);
  o.max_new_tokens = c.max_new_tokens;
  o.force_backend_text = c.force_backend_text;
  o.render_direct = c.render_direct;
  o.loop_guard = c.loop_guard;
  o.page_images = c.page_images;
  o.speculate = c.speculate;
  if (raw(c.box_origin) < 0 || raw(c.box_origin) > DOCLING_BOX_ORIGIN_BOTTOM_LEFT)
    return bad_enum("docling_convert_options.box_origin", raw(c.box_origin));
  o.box_origin = docling::BoxOrigin(int(c.box_origin));
  o.limits.max_input_bytes = c.max_input_bytes;
  o.limits.max_side = c.max_side;
  o.limits.max_pixels = c.max_pixels;
  o.limits.max_inflated_bytes = c.max_inflated_bytes;
  o.cancel = c.cancel ? &c.cancel->token : nullptr;
  if (c.on_page) {
    docling_page_callback fn = c.on_page;
    void* ud = c.on_page_user_data;
    o.on_page = [fn, ud](const docling::PageResult& p) {
      docling_document view;
      view.doc = p.document;
      docling_page_info info{};
      info.page = p.page;
      info.from_model = p.from_model;
      info.document = p.document ? &view : nullptr;
      info.doctags = p.doctags.c_str();
      std::vector<const char*> warnings;
      for (const std::string& w : p.warnings) warnings.push_back(w.c_str());
      info.warnings = warnings.data();
      info.n_warnings = warnings.size();
      fn(&info, ud);
    };
  }
  return DOCLING_OK;
}

docling_status to_cpp(const docling_export_options* in, docling::ExportOptions& o) {
  docling_export_options c;
  if (docling_status s = read_struct(in, c, kExportOptionsV1, "docling_export_options")) return s;
  if (raw(c.image_mode) < 0 || raw(c.image_mode) > DOCLING_IMAGE_REFERENCED) return bad_enum("docling_export_options.image_mode", raw(c.image_mode));
  if ((c.n_pages && !c.pages) || (c.n_excluded_labels && !c.excluded_labels))
    return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_export_options: a list with a count but no array");
  o = docling::export_defaults();
  o.image_mode = docling::ImageMode(int(c.image_mode));
  if (c.page_break_placeholder) o.page_break_placeholder = std::string(c.page_break_placeholder);
  o.pages.assign(c.pages, c.pages + c.n_pages);
  o.md_compact_tables = c.md_compact_tables;
  o.doctags_minified = c.doctags_minified;
  for (size_t i = 0; i < c.n_excluded_labels; ++i) {
    if (!c.excluded_labels[i]) return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_export_options.excluded_labels: NULL entry");
    o.excluded_labels.emplace_back(c.excluded_labels[i]);
  }
  if (raw(c.chunker) < 0 || raw(c.chunker) > DOCLING_CHUNKER_PAGE) return bad_enum("docling_export_options.chunker", raw(c.chunker));
  o.chunks.chunker = docling::Chunker(int(c.chunker));
  o.chunks.tokenizer = str(c.chunk_tokenizer);
  o.chunks.max_tokens = c.chunk_max_tokens;
  return DOCLING_OK;
}

bool valid(const docling_format& f) { return raw(f) >= 0 && raw(f) <= DOCLING_FORMAT_CHUNKS; }

docling_status give_text(const std::string& s, char** out, size_t* len) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) return fail(DOCLING_ERR_OUT_OF_MEMORY, "out of memory (" + std::to_string(s.size()) + " bytes of output)");
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *out = p;
  if (len) *len = s.size();
  return DOCLING_OK;
}

docling_status export_doc(const docling::DoclingDocument& doc, docling_format format, const docling_export_options* opts,
                          char** out, size_t* len) {
  if (!valid(format)) return bad_enum("format", raw(format));
  docling::ExportOptions eo;
  if (docling_status s = to_cpp(opts, eo)) return s;
  return give_text(doc.export_to(docling::Format(int(format)), eo), out, len);
}

// The C++ result carries messages, not codes: a failed conversion is a document that could
// not be read (missing, broken, no text where text was asked for), a cancelled one is CANCELLED.
docling_status result_code(const docling::ConvertResult& r) {
  switch (r.status) {
    case docling::Status::Success:
    case docling::Status::Partial: return DOCLING_OK;
    case docling::Status::Cancelled: return DOCLING_ERR_CANCELLED;
    case docling::Status::Failure: break;
  }
  return DOCLING_ERR_INPUT;
}

std::string joined_errors(const docling::ConvertResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += (s.empty() ? "" : "\n") + e.message;
  if (s.empty()) s = std::string("conversion ") + docling::to_string(r.status);
  return s;
}

docling_result* new_result(docling::ConvertResult&& r) {
  auto h = std::make_unique<docling_result>();
  h->r = std::move(r);
  h->view.doc = &h->r.document;
  return h.release();
}

const std::vector<docling::PageMessage> kNoMessages;

const char* message_at(const std::vector<docling::PageMessage>& v, size_t i, int32_t* page) {
  if (page) *page = 0;
  if (i >= v.size()) return nullptr;
  if (page) *page = v[i].page;
  return v[i].message.c_str();
}

// Every item, or an exception (bad_alloc) for guard to report.
const std::vector<docling::Item>& items_of(const docling_document& d) {
  std::call_once(d.items_once, [&] { d.items = d.doc->items(); });
  return d.items;
}

}  // namespace

extern "C" {

const char* docling_version(void) { return docling::version(); }

const char* docling_status_string(docling_status status) {
  if (status == DOCLING_OK) return "ok";
  if (status >= DOCLING_ERR_INVALID_ARGUMENT && status <= DOCLING_ERR_INTERNAL)
    return docling::to_string(docling::ErrorCode(int(status)));
  return "unknown";
}

const char* docling_last_error(void) { return t_error_lost ? "out of memory (message lost)" : t_error.c_str(); }

void docling_free(void* buffer) { std::free(buffer); }

docling_status docling_engine_default_options(docling_engine_options* options, size_t struct_size) {
  return guard([&] { return fill_defaults(options, struct_size, kEngineOptionsV1, "docling_engine_default_options"); });
}

docling_status docling_convert_default_options(docling_convert_options* options, size_t struct_size) {
  return guard([&] { return fill_defaults(options, struct_size, kConvertOptionsV1, "docling_convert_default_options"); });
}

docling_status docling_export_default_options(docling_export_options* options, size_t struct_size) {
  return guard([&] { return fill_defaults(options, struct_size, kExportOptionsV1, "docling_export_default_options"); });
}

docling_status docling_parse_format(const char* name, docling_format* out) {
  return guard([&] {
    if (!name || !out) return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_parse_format: name and out must not be NULL");
    std::vector<docling::Format> f = docling::parse_formats(name);
    if (f.size() != 1) return fail(DOCLING_ERR_INVALID_ARGUMENT, std::string("not one format: '") + name + "'");
    *out = docling_format(int(f[0]));
    return DOCLING_OK;
  });
}

const char* docling_format_extension(docling_format format) {
  return valid(format) ? docling::extension(docling::Format(int(format))) : nullptr;
}

docling_status docling_engine_load(const docling_engine_options* options, docling_engine** out) {
  if (out) *out = nullptr;
  return guard([&] {
    if (!out) return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_engine_load: out must not be NULL");
    docling::EngineOptions eo;
    if (docling_status s = to_cpp(options, eo)) return s;
    *out = new docling_engine(eo);
    return DOCLING_OK;
  });
}

void docling_engine_free(docling_engine* engine) { delete engine; }

bool docling_engine_has_model(const docling_engine* engine) { return engine && engine->engine.has_model(); }

docling_status docling_engine_get_stats(const docling_engine* engine, docling_engine_stats* out) {
  return guard([&] {
    if (!engine || !out || out->struct_size < kEngineStatsV1)
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_engine_get_stats: engine and out (with struct_size) must be set");
    docling::EngineStats s = engine->engine.stats();
    docling_engine_stats c{};
    c.struct_size = out->struct_size;
    c.decoder_steps = s.decoder_steps;
    c.decoded_tokens = s.decoded_tokens;
    c.decoder_rows = s.decoder_rows;
    c.pages_encoded = s.pages_encoded;
    c.shared_steps = s.shared_steps;
    c.max_rows_in_a_step = s.max_rows_in_a_step;
    c.max_pages_in_a_step = s.max_pages_in_a_step;
    c.max_conversions_in_a_step = s.max_conversions_in_a_step;
    std::memcpy(static_cast<void*>(out), &c, std::min(out->struct_size, sizeof c));
    return DOCLING_OK;
  });
}

bool docling_is_model_dir(const char* dir) {
  try {
    return dir && docling::is_model_dir(std::filesystem::path(dir));
  } catch (...) {
    return false;
  }
}

docling_cancel_token* docling_cancel_token_create(void) { return new (std::nothrow) docling_cancel_token(); }

void docling_cancel_token_cancel(docling_cancel_token* token) {
  if (token) token->token.cancel();
}

bool docling_cancel_token_is_cancelled(const docling_cancel_token* token) { return token && token->token.cancelled(); }

void docling_cancel_token_free(docling_cancel_token* token) { delete token; }

docling_status docling_convert_file(const docling_engine* engine, const char* path, const docling_convert_options* options,
                                    docling_result** out) {
  if (out) *out = nullptr;
  return guard([&] {
    if (!engine || !path || !out)
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_convert_file: engine, path and out must not be NULL");
    docling::ConvertOptions co;
    if (docling_status s = to_cpp(options, co)) return s;
    *out = new_result(engine->engine.convert(std::filesystem::path(path), co));
    return DOCLING_OK;
  });
}

docling_status docling_convert_buffer(const docling_engine* engine, const void* data, size_t size, const char* name,
                                      const docling_convert_options* options, docling_result** out) {
  if (out) *out = nullptr;
  return guard([&] {
    if (!engine || !out || (!data && size))
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_convert_buffer: engine, data and out must not be NULL");
    docling::ConvertOptions co;
    if (docling_status s = to_cpp(options, co)) return s;
    static const uint8_t empty = 0;
    const uint8_t* bytes = data ? static_cast<const uint8_t*>(data) : &empty;
    *out = new_result(engine->engine.convert(bytes, size, name ? name : "buffer", co));
    return DOCLING_OK;
  });
}

docling_status docling_convert_file_to(const docling_engine* engine, const char* path, docling_format format,
                                       const docling_convert_options* options, char** out, size_t* len) {
  if (out) *out = nullptr;
  if (len) *len = 0;
  return guard([&] {
    if (!engine || !path || !out)
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_convert_file_to: engine, path and out must not be NULL");
    if (!valid(format)) return bad_enum("format", raw(format));
    docling::ConvertOptions co;
    if (docling_status s = to_cpp(options, co)) return s;
    docling::ConvertResult r = engine->engine.convert(std::filesystem::path(path), co);
    if (docling_status s = result_code(r)) return fail(s, joined_errors(r));
    if (docling_status s = export_doc(r.document, format, nullptr, out, len)) return s;
    if (r.status == docling::Status::Partial) set_error(joined_errors(r).c_str());
    return DOCLING_OK;
  });
}

void docling_result_free(docling_result* result) { delete result; }

docling_conversion_status docling_result_status(const docling_result* result) {
  return result ? docling_conversion_status(int(result->r.status)) : DOCLING_CONVERSION_FAILURE;
}

docling_status docling_result_error_code(const docling_result* result) {
  return result ? result_code(result->r) : DOCLING_ERR_INVALID_ARGUMENT;
}

int32_t docling_result_page_count(const docling_result* result) { return result ? result->r.pages : 0; }
int32_t docling_result_model_page_count(const docling_result* result) { return result ? result->r.model_pages : 0; }
int32_t docling_result_text_page_count(const docling_result* result) { return result ? result->r.text_pages : 0; }
int32_t docling_result_generated_tokens(const docling_result* result) { return result ? result->r.generated_tokens : 0; }
double docling_result_seconds(const docling_result* result) { return result ? result->r.timings.total_s : 0.0; }

size_t docling_result_error_count(const docling_result* result) { return result ? result->r.errors.size() : 0; }
const char* docling_result_error(const docling_result* result, size_t i, int32_t* page) {
  return message_at(result ? result->r.errors : kNoMessages, i, page);
}
size_t docling_result_warning_count(const docling_result* result) { return result ? result->r.warnings.size() : 0; }
const char* docling_result_warning(const docling_result* result, size_t i, int32_t* page) {
  return message_at(result ? result->r.warnings : kNoMessages, i, page);
}

const docling_document* docling_result_document(const docling_result* result) { return result ? &result->view : nullptr; }

docling_status docling_document_from_doctags(const char* doctags, size_t len, const docling_bytes* page_images,
                                             size_t n_images, docling_document** out) {
  if (out) *out = nullptr;
  return guard([&] {
    if ((!doctags && len) || !out || (n_images && !page_images))
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_document_from_doctags: doctags, page_images and out must not be NULL");
    std::vector<docling::PageImage> images;
    images.reserve(n_images);
    for (size_t i = 0; i < n_images; ++i) {
      const docling_bytes& b = page_images[i];
      if (!b.data && b.size) return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_document_from_doctags: page image with no data");
      images.push_back(docling::decode_page_image(static_cast<const uint8_t*>(b.data), b.size,
                                                  "page image " + std::to_string(i + 1)));
    }
    auto h = std::make_unique<docling_document>();
    h->owned = std::make_unique<docling::DoclingDocument>(
        docling::DoclingDocument::from_doctags(std::string_view(doctags ? doctags : "", len), images));
    h->doc = h->owned.get();
    *out = h.release();
    return DOCLING_OK;
  });
}

docling_status docling_document_from_json(const char* json, size_t len, docling_document** out) {
  if (out) *out = nullptr;
  return guard([&] {
    if ((!json && len) || !out)
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_document_from_json: json and out must not be NULL");
    auto h = std::make_unique<docling_document>();
    h->owned = std::make_unique<docling::DoclingDocument>(
        docling::DoclingDocument::from_json(std::string_view(json ? json : "", len)));
    h->doc = h->owned.get();
    *out = h.release();
    return DOCLING_OK;
  });
}

void docling_document_free(docling_document* document) {
  if (document && document->owned) delete document;  // a borrowed view belongs to its result
}

int32_t docling_document_page_count(const docling_document* document) {
  return document && document->doc ? document->doc->page_count() : 0;
}

size_t docling_document_item_count(const docling_document* document) {
  if (!document || !document->doc) return 0;
  try {
    return items_of(*document).size();
  } catch (...) {
    return 0;
  }
}

docling_status docling_document_item(const docling_document* document, size_t i, docling_item* out) {
  return guard([&] {
    if (!document || !document->doc || !out || out->struct_size < kItemV1)
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_document_item: document and out (with struct_size) must be set");
    const std::vector<docling::Item>& items = items_of(*document);
    if (i >= items.size())
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_document_item: item " + std::to_string(i) + " of " +
                                                    std::to_string(items.size()));
    const docling::Item& it = items[i];
    docling_item c{};
    c.struct_size = out->struct_size;
    c.ref = it.ref.c_str();
    c.label = it.label.c_str();
    c.text = it.text.c_str();
    c.level = it.level;
    c.page = it.page;
    c.left = it.box.left, c.top = it.box.top, c.right = it.box.right, c.bottom = it.box.bottom;
    c.furniture = it.furniture;
    std::memcpy(static_cast<void*>(out), &c, std::min(out->struct_size, sizeof c));
    return DOCLING_OK;
  });
}

docling_status docling_document_export(const docling_document* document, docling_format format,
                                       const docling_export_options* options, char** out, size_t* len) {
  if (out) *out = nullptr;
  if (len) *len = 0;
  return guard([&] {
    if (!document || !document->doc || !out)
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_document_export: document and out must not be NULL");
    return export_doc(*document->doc, format, options, out, len);
  });
}

docling_status docling_document_save(const docling_document* document, const char* dir, const char* stem,
                                     const docling_format* formats, size_t n_formats, const docling_export_options* options) {
  return guard([&] {
    if (!document || !document->doc || !dir || !stem || (n_formats && !formats))
      return fail(DOCLING_ERR_INVALID_ARGUMENT, "docling_document_save: document, dir, stem and formats must not be NULL");
    std::vector<docling::Format> f;
    for (size_t i = 0; i < n_formats; ++i) {
      if (!valid(formats[i])) return bad_enum("formats[i]", raw(formats[i]));
      f.push_back(docling::Format(int(formats[i])));
    }
    docling::ExportOptions eo;
    if (docling_status s = to_cpp(options, eo)) return s;
    document->doc->save(std::filesystem::path(dir), stem, f, eo);
    return DOCLING_OK;
  });
}

}  // extern "C"
