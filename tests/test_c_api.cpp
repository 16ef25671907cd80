// The C API (include/docling/docling.h) from C++: option structs of another size, the per-thread
// message, partial and cancelled conversions, passwords, export options, one engine shared by
// threads. tests/python/test_c_api.py covers the same surface through the shared library.
#include "docling/docling.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"  // the process-wide settings an engine applies

namespace fs = std::filesystem;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const fs::path kTiny = kData / "oracle" / "tiny-idefics3";
const fs::path kOnePage = kData / "pdfs" / "2305.03393v1-pg9.pdf";
const fs::path kMultiPage = kData / "pdfs" / "multi_page.pdf";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string rstrip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

docling_engine_options engine_opts(const char* model = nullptr) {
  docling_engine_options o;
  EXPECT_EQ(docling_engine_default_options(&o, sizeof o), DOCLING_OK);
  o.model_dir = model;
  o.threads = 2;  // CI has two cores
  return o;
}

docling_convert_options convert_opts(docling_pipeline p) {
  docling_convert_options o;
  EXPECT_EQ(docling_convert_default_options(&o, sizeof o), DOCLING_OK);
  o.pipeline = p;
  return o;
}

// Owning wrappers so a failed assertion does not leak.
struct Engine {
  docling_engine* h = nullptr;
  docling_status status;
  explicit Engine(const docling_engine_options& o) : status(docling_engine_load(&o, &h)) {}
  ~Engine() { docling_engine_free(h); }
};
struct Result {
  docling_result* h = nullptr;
  docling_status status;
  Result(const Engine& e, const fs::path& file, const docling_convert_options& o)
      : status(docling_convert_file(e.h, file.c_str(), &o, &h)) {}
  ~Result() { docling_result_free(h); }
};
struct Text {
  char* p = nullptr;
  size_t n = 0;
  ~Text() { docling_free(p); }
  std::string str() const { return p ? std::string(p, n) : std::string(); }
};

std::string export_doc(const docling_document* d, docling_format f, const docling_export_options* o = nullptr) {
  Text t;
  EXPECT_EQ(docling_document_export(d, f, o, &t.p, &t.n), DOCLING_OK) << docling_last_error();
  EXPECT_EQ(t.p ? std::strlen(t.p) : 0, t.n);  // NUL-terminated at n
  return t.str();
}

const docling_engine& text_engine() {
  static Engine e(engine_opts());
  return *e.h;
}

}  // namespace

// A program built against a newer header (a bigger struct) works with this library: the fields
// it knows get defaults, the ones it does not are left alone and ignored.
TEST(CApi, NewerCallerStructs) {
  struct Bigger {
    docling_convert_options o;
    int64_t future_field;
  } b;
  std::memset(&b, 0x7f, sizeof b);
  ASSERT_EQ(docling_convert_default_options(&b.o, sizeof b), DOCLING_OK);
  EXPECT_EQ(b.o.struct_size, sizeof b);
  EXPECT_EQ(b.future_field, 0x7f7f7f7f7f7f7f7fLL);
  docling_convert_options plain = convert_opts(DOCLING_PIPELINE_DEFAULT);
  EXPECT_EQ(b.o.max_new_tokens, plain.max_new_tokens);
  EXPECT_EQ(b.o.max_pixels, plain.max_pixels);
  b.o.pipeline = DOCLING_PIPELINE_TEXT;
  docling_result* r = nullptr;
  ASSERT_EQ(docling_convert_file(&text_engine(), kMultiPage.c_str(), &b.o, &r), DOCLING_OK) << docling_last_error();
  EXPECT_EQ(docling_result_status(r), DOCLING_CONVERSION_SUCCESS);
  docling_result_free(r);
  // Smaller than any struct of ours: refused, nothing written.
  docling_engine_options eo;
  eo.struct_size = 12345;
  EXPECT_EQ(docling_engine_default_options(&eo, sizeof(size_t)), DOCLING_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(eo.struct_size, 12345u);
}

// The decompression-bomb cap (ConvertOptions::limits.max_inflated_bytes) through the C struct:
// 512 MiB by default, also for a caller compiled before the field existed; a small cap refuses
// an ordinary PDF (its content streams inflate past 1 KiB), 0 turns the check off.
TEST(CApi, MaxInflatedBytes) {
  docling_convert_options o = convert_opts(DOCLING_PIPELINE_TEXT);
  EXPECT_EQ(o.max_inflated_bytes, uint64_t(512) << 20);
  docling_convert_options old;
  std::memset(&old, 0x7f, sizeof old);
  ASSERT_EQ(docling_convert_default_options(&old, offsetof(docling_convert_options, max_inflated_bytes)), DOCLING_OK);
  old.pipeline = DOCLING_PIPELINE_TEXT;
  docling_result* r = nullptr;
  ASSERT_EQ(docling_convert_file(&text_engine(), kMultiPage.c_str(), &old, &r), DOCLING_OK) << docling_last_error();
  EXPECT_EQ(docling_result_status(r), DOCLING_CONVERSION_SUCCESS);
  docling_result_free(r);
  o.max_inflated_bytes = 1024;
  r = nullptr;
  ASSERT_EQ(docling_convert_file(&text_engine(), kMultiPage.c_str(), &o, &r), DOCLING_OK) << docling_last_error();
  EXPECT_EQ(docling_result_status(r), DOCLING_CONVERSION_FAILURE);
  ASSERT_EQ(docling_result_error_count(r), 1u);
  std::string msg = docling_result_error(r, 0, nullptr);
  docling_result_free(r);
  EXPECT_NE(msg.find("1024 bytes (limits.max_inflated_bytes)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("multi_page.pdf"), std::string::npos) << msg;
  o.max_inflated_bytes = 0;
  r = nullptr;
  ASSERT_EQ(docling_convert_file(&text_engine(), kMultiPage.c_str(), &o, &r), DOCLING_OK) << docling_last_error();
  docling_result_free(r);
}

// The kernel tuning folder through the C struct: NULL by default (and for a caller compiled
// before the field); a folder gets the measurement file when an engine with a model loads.
TEST(CApi, KernelTuningDir) {
  docling_engine_options o = engine_opts(kTiny.c_str());
  EXPECT_EQ(o.kernel_tuning_dir, nullptr);
  docling_engine_options old;
  std::memset(&old, 0x7f, sizeof old);
  ASSERT_EQ(docling_engine_default_options(&old, offsetof(docling_engine_options, kernel_tuning_dir)), DOCLING_OK);
  const fs::path dir = fs::temp_directory_path() / ("docling-c-api-tuning-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string dir_text = dir.string();
  o.kernel_tuning_dir = dir_text.c_str();
  {
    Engine e(o);
    ASSERT_EQ(e.status, DOCLING_OK) << docling_last_error();
  }
  int files = 0;
  for (const auto& f : fs::directory_iterator(dir)) files += f.path().extension() == ".json";
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

// The decode precision through the C struct: f32 by default, bf16 loads, other values refused.
TEST(CApi, DecodePrecision) {
  docling_engine_options o = engine_opts(kTiny.c_str());
  EXPECT_EQ(o.decode_precision, DOCLING_DECODE_PRECISION_F32);
  o.decode_precision = DOCLING_DECODE_PRECISION_BF16;
  {
    Engine e(o);
    EXPECT_EQ(e.status, DOCLING_OK) << docling_last_error();
  }
  o.decode_precision = docling_decode_precision(7);
  Engine bad(o);
  EXPECT_EQ(bad.status, DOCLING_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(docling_last_error()).find("decode_precision"), std::string::npos);
}

// The AMX switch through the C struct: on by default and for a caller compiled before the
// field; an engine applies it to the kernels (process-wide).
TEST(CApi, AmxSwitch) {
  docling_engine_options o = engine_opts();
  EXPECT_TRUE(o.amx);
  o.amx = false;
  {
    Engine e(o);
    ASSERT_EQ(e.status, DOCLING_OK) << docling_last_error();
    EXPECT_FALSE(docling::kernels::current_settings().amx);
  }
  docling_engine_options old;
  std::memset(&old, 0, sizeof old);  // the field's bytes stay 0 (false) past the older size
  ASSERT_EQ(docling_engine_default_options(&old, offsetof(docling_engine_options, amx)), DOCLING_OK);
  {
    Engine e(old);
    ASSERT_EQ(e.status, DOCLING_OK) << docling_last_error();
    EXPECT_TRUE(docling::kernels::current_settings().amx);
  }
}

// The head screen's switch through the C struct: on by default and for a caller compiled
// before the field; off loads (the full head then picks the tokens).
TEST(CApi, HeadScreenSwitch) {
  docling_engine_options o = engine_opts(kTiny.c_str());
  EXPECT_TRUE(o.screen_head);
  docling_engine_options old;
  std::memset(&old, 0, sizeof old);
  ASSERT_EQ(docling_engine_default_options(&old, offsetof(docling_engine_options, screen_head)), DOCLING_OK);
  EXPECT_FALSE(old.screen_head);  // past the older size: the caller's bytes, untouched
  o.screen_head = false;
  Engine e(o);
  EXPECT_EQ(e.status, DOCLING_OK) << docling_last_error();
}

TEST(CApi, LastErrorIsClearedBySuccessAndKeptPerThread) {
  docling_engine_options o = engine_opts();
  o.batch_size = 0;
  docling_engine* e = nullptr;
  ASSERT_EQ(docling_engine_load(&o, &e), DOCLING_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(e, nullptr);
  std::string msg = docling_last_error();
  EXPECT_NE(msg, "");
  std::string other = "unset";
  std::thread([&] { other = docling_last_error(); }).join();
  EXPECT_EQ(other, "");
  EXPECT_EQ(docling_last_error(), msg);
  docling_format f;
  EXPECT_EQ(docling_parse_format("markdown", &f), DOCLING_OK);
  EXPECT_EQ(f, DOCLING_FORMAT_MARKDOWN);
  EXPECT_STREQ(docling_last_error(), "");
  EXPECT_EQ(docling_parse_format("md,html", &f), DOCLING_ERR_INVALID_ARGUMENT);
}

TEST(CApi, EveryFormatOneShotMatchesTheResultExport) {
  docling_convert_options o = convert_opts(DOCLING_PIPELINE_TEXT);
  Result r(Engine(engine_opts()), kMultiPage, o);  // the engine may go; the result stays valid
  ASSERT_EQ(r.status, DOCLING_OK);
  for (docling_format f : {DOCLING_FORMAT_MARKDOWN, DOCLING_FORMAT_HTML, DOCLING_FORMAT_JSON, DOCLING_FORMAT_DOCTAGS,
                           DOCLING_FORMAT_TEXT}) {
    Text t;
    ASSERT_EQ(docling_convert_file_to(&text_engine(), kMultiPage.c_str(), f, &o, &t.p, &t.n), DOCLING_OK);
    EXPECT_FALSE(t.str().empty());
    EXPECT_EQ(t.str(), export_doc(docling_result_document(r.h), f)) << docling_format_extension(f);
  }
}

TEST(CApi, ExportOptions) {
  std::string json = slurp(kData / "conformance" / "doc2out_constructed_doc" / "input.json");
  docling_document* d = nullptr;
  ASSERT_EQ(docling_document_from_json(json.data(), json.size(), &d), DOCLING_OK) << docling_last_error();
  docling_export_options o;
  ASSERT_EQ(docling_export_default_options(&o, sizeof o), DOCLING_OK);
  o.image_mode = DOCLING_IMAGE_EMBEDDED;
  const fs::path dir = kData / "conformance" / "doc2out_constructed_doc";
  EXPECT_EQ(rstrip(export_doc(d, DOCLING_FORMAT_MARKDOWN, &o)), rstrip(slurp(dir / "expected.embedded.md")));
  EXPECT_EQ(rstrip(export_doc(d, DOCLING_FORMAT_HTML, &o)), rstrip(slurp(dir / "expected.embedded.html")));
  EXPECT_EQ(rstrip(export_doc(d, DOCLING_FORMAT_MARKDOWN)), rstrip(slurp(dir / "expected.md")));
  ASSERT_EQ(docling_export_default_options(&o, sizeof o), DOCLING_OK);
  o.doctags_minified = true;
  std::string minified = export_doc(d, DOCLING_FORMAT_DOCTAGS, &o);
  std::string pretty = export_doc(d, DOCLING_FORMAT_DOCTAGS);
  EXPECT_LT(minified.size(), pretty.size());
  o.image_mode = docling_image_mode(9);
  Text t;
  EXPECT_EQ(docling_document_export(d, DOCLING_FORMAT_MARKDOWN, &o, &t.p, &t.n), DOCLING_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(docling_last_error()).find("image_mode"), std::string::npos);
  EXPECT_EQ(t.p, nullptr);
  docling_document_free(d);
}

TEST(CApi, Password) {
  const fs::path pdf = kData / "pdfs" / "robustness" / "2206.01062_pg3_password_1234.pdf";
  docling_convert_options o = convert_opts(DOCLING_PIPELINE_TEXT);
  {
    Result r(Engine(engine_opts()), pdf, o);
    ASSERT_EQ(r.status, DOCLING_OK);
    EXPECT_EQ(docling_result_status(r.h), DOCLING_CONVERSION_FAILURE);
    EXPECT_EQ(docling_result_error_code(r.h), DOCLING_ERR_INPUT);
    ASSERT_GE(docling_result_error_count(r.h), 1u);
    EXPECT_NE(std::string(docling_result_error(r.h, 0, nullptr)).find(pdf.filename().string()), std::string::npos);
  }
  o.password = "1234";
  Result r(Engine(engine_opts()), pdf, o);
  ASSERT_EQ(r.status, DOCLING_OK);
  EXPECT_EQ(docling_result_status(r.h), DOCLING_CONVERSION_SUCCESS);
  EXPECT_EQ(docling_result_page_count(r.h), 1);
}

// The tiny random checkpoint runs into the token limit: the page is kept, with an error.
TEST(CApi, PartialConversionThroughTheOneShotCall) {
  Engine e(engine_opts(kTiny.c_str()));
  ASSERT_EQ(e.status, DOCLING_OK) << docling_last_error();
  docling_convert_options o = convert_opts(DOCLING_PIPELINE_VLM);
  o.max_new_tokens = 6;
  o.loop_guard = false;
  {
    Result r(e, kOnePage, o);
    ASSERT_EQ(r.status, DOCLING_OK);
    ASSERT_EQ(docling_result_status(r.h), DOCLING_CONVERSION_PARTIAL);
    EXPECT_EQ(docling_result_error_code(r.h), DOCLING_OK);
    int32_t page = -1;
    ASSERT_NE(docling_result_error(r.h, 0, &page), nullptr);
    EXPECT_EQ(page, 1);
    EXPECT_EQ(docling_result_model_page_count(r.h), 1);
  }
  Text t;
  ASSERT_EQ(docling_convert_file_to(e.h, kOnePage.c_str(), DOCLING_FORMAT_DOCTAGS, &o, &t.p, &t.n), DOCLING_OK);
  EXPECT_NE(t.str().find("<doctag>"), std::string::npos);
  EXPECT_NE(std::string(docling_last_error()).find("page 1"), std::string::npos) << docling_last_error();
}

// Pages one at a time; the first page's callback cancels: the later pages are abandoned.
TEST(CApi, CancelFromThePageCallback) {
  docling_engine_options eo = engine_opts(kTiny.c_str());
  eo.batch_size = 1;
  eo.pages_in_flight = 1;
  Engine e(eo);
  ASSERT_EQ(e.status, DOCLING_OK) << docling_last_error();
  docling_cancel_token* tok = docling_cancel_token_create();
  ASSERT_NE(tok, nullptr);
  struct Seen {
    docling_cancel_token* tok;
    std::vector<int> pages;
  } seen{tok, {}};
  docling_convert_options o = convert_opts(DOCLING_PIPELINE_VLM);
  o.max_new_tokens = 8;
  o.cancel = tok;
  o.on_page = [](const docling_page_info* p, void* ud) {
    auto* s = static_cast<Seen*>(ud);
    s->pages.push_back(p->page);
    EXPECT_EQ(docling_document_page_count(p->document), 1);
    docling_cancel_token_cancel(s->tok);
  };
  o.on_page_user_data = &seen;
  {
    Result r(e, kMultiPage, o);
    ASSERT_EQ(r.status, DOCLING_OK);
    EXPECT_EQ(docling_result_status(r.h), DOCLING_CONVERSION_CANCELLED);
    EXPECT_EQ(docling_result_error_code(r.h), DOCLING_ERR_CANCELLED);
    EXPECT_GE(seen.pages.size(), 1u);
    EXPECT_LT(seen.pages.size(), 5u);
  }
  docling_cancel_token_free(tok);
}

// Threads share one model engine; each gets what it would get alone.
TEST(CApi, ThreadsShareOneModelEngine) {
  Engine e(engine_opts(kTiny.c_str()));
  ASSERT_EQ(e.status, DOCLING_OK) << docling_last_error();
  docling_convert_options o = convert_opts(DOCLING_PIPELINE_VLM);
  o.max_new_tokens = 12;
  Text alone;
  ASSERT_EQ(docling_convert_file_to(e.h, kOnePage.c_str(), DOCLING_FORMAT_DOCTAGS, &o, &alone.p, &alone.n), DOCLING_OK);
  std::vector<std::string> got(3);
  std::vector<docling_status> st(3);
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i)
    ts.emplace_back([&, i] {
      Text t;
      st[i] = docling_convert_file_to(e.h, kOnePage.c_str(), DOCLING_FORMAT_DOCTAGS, &o, &t.p, &t.n);
      got[i] = t.str();
    });
  for (auto& t : ts) t.join();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(st[i], DOCLING_OK);
    EXPECT_EQ(got[i], alone.str()) << "thread " << i;
  }
}

// Items of a document parsed from DocTags: a chart (a picture) in the body, the page header as
// furniture. (Their order is the C++ API's business; test_document checks it.)
TEST(CApi, ItemsOfADocTagsDocument) {
  const fs::path dir = kData / "conformance" / "dt2doc_barchart";
  std::string dt = slurp(dir / "input.doctags"), png = slurp(dir / "page.png");
  docling_bytes img{png.data(), png.size()};
  docling_document* d = nullptr;
  ASSERT_EQ(docling_document_from_doctags(dt.data(), dt.size(), &img, 1, &d), DOCLING_OK) << docling_last_error();
  size_t n = docling_document_item_count(d);
  ASSERT_EQ(n, 2u);
  std::vector<docling_item> items(n);
  for (size_t i = 0; i < n; ++i) {
    items[i].struct_size = sizeof(docling_item);
    ASSERT_EQ(docling_document_item(d, i, &items[i]), DOCLING_OK);
    EXPECT_EQ(items[i].page, 1);
    EXPECT_LT(items[i].left, items[i].right);
    EXPECT_LT(items[i].top, items[i].bottom);
  }
  const docling_item& header = items[0].furniture ? items[0] : items[1];
  const docling_item& chart = items[0].furniture ? items[1] : items[0];
  EXPECT_TRUE(header.furniture);
  EXPECT_STREQ(header.label, "page_header");
  EXPECT_STREQ(header.text, "Probability, Combinatorics and Control");
  EXPECT_FALSE(chart.furniture);
  EXPECT_STREQ(chart.label, "picture");
  docling_item past{};
  past.struct_size = sizeof past;
  EXPECT_EQ(docling_document_item(d, n, &past), DOCLING_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(past.ref, nullptr);
  docling_document_free(d);
}

TEST(CApi, Chunks) {
  const fs::path dir = kData / "conformance" / "chunks" / "hybrid_wiki_merge_64";
  std::string json = slurp(dir / "input.json");
  docling_document* d = nullptr;
  ASSERT_EQ(docling_document_from_json(json.data(), json.size(), &d), DOCLING_OK) << docling_last_error();
  docling_export_options o;
  ASSERT_EQ(docling_export_default_options(&o, sizeof o), DOCLING_OK);
  EXPECT_EQ(o.chunker, DOCLING_CHUNKER_HYBRID);
  // Hybrid without a tokenizer: refused with a reason.
  Text none;
  EXPECT_EQ(docling_document_export(d, DOCLING_FORMAT_CHUNKS, &o, &none.p, &none.n), DOCLING_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(docling_last_error()).find("tokenizer"), std::string::npos);
  const std::string tok = (kData / "conformance" / "chunks" / "tokenizers" / "all-MiniLM-L6-v2").string();
  o.chunk_tokenizer = tok.c_str();
  o.chunk_max_tokens = 64;
  std::string lines = export_doc(d, DOCLING_FORMAT_CHUNKS, &o);
  // The same chunks as docling-core's fixture, one JSON line each.
  auto expected = nlohmann::json::parse(slurp(dir / "expected.json"))["root"];
  std::stringstream ss(lines);
  std::string line;
  size_t n = 0;
  while (std::getline(ss, line)) {
    auto j = nlohmann::json::parse(line);
    ASSERT_LT(n, expected.size());
    EXPECT_EQ(j["text"], expected[n]["text"]);
    EXPECT_LE(j["num_tokens"].get<int>(), 64);
    ++n;
  }
  EXPECT_EQ(n, expected.size());
  // A caller built against the struct before the chunk fields: the defaults (hybrid, no
  // tokenizer) apply to the fields it does not have.
  docling_export_options old = o;
  old.struct_size = offsetof(docling_export_options, chunker);
  Text t;
  EXPECT_EQ(docling_document_export(d, DOCLING_FORMAT_CHUNKS, &old, &t.p, &t.n), DOCLING_ERR_INVALID_ARGUMENT);
  o.chunker = DOCLING_CHUNKER_HIERARCHICAL;
  o.chunk_tokenizer = nullptr;
  EXPECT_NE(export_doc(d, DOCLING_FORMAT_CHUNKS, &o).find("\"num_tokens\":null"), std::string::npos);
  EXPECT_STREQ(docling_format_extension(DOCLING_FORMAT_CHUNKS), "chunks.jsonl");
  docling_document_free(d);
}
