// The public C++ API: one Engine shared by many threads (results equal to one-at-a-time
// conversions), streaming pages, cancellation, bytes and files, typed errors, batches and
// region instructions. Uses the tiny random-weight checkpoint: its output is nonsense, but
// every stage runs, and the same input must give the same output however it is scheduled.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "docling/docling.hpp"

namespace fs = std::filesystem;
using namespace docling;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const fs::path kTiny = kData / "oracle" / "tiny-idefics3";

std::vector<fs::path> pdfs() {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(kData / "pdfs"))
    if (e.path().extension() == ".pdf") v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<uint8_t> slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

EngineOptions tiny_engine(int batch = 4) {
  EngineOptions o = engine_defaults();
  o.model_dir = kTiny.string();
  o.batch_size = batch;
  o.max_new_tokens = 64;
  return o;
}

ConvertOptions first_page(int tokens = 24) {
  ConvertOptions c = convert_defaults();
  c.pipeline = Pipeline::Vlm;
  c.pages = "1";
  c.max_new_tokens = tokens;
  return c;
}

// What must not depend on scheduling: the document as JSON and DocTags, and the counts.
std::string fingerprint(const ConvertResult& r) {
  return std::string(to_string(r.status)) + "|" + std::to_string(r.generated_tokens) + "|" +
         std::to_string(r.model_pages) + "|" + r.document.export_to(Format::DocTags) + "|" + r.document.to_json();
}

}  // namespace

TEST(Engine, EightThreadsOnOneEngineEqualOneAtATime) {
  Engine engine(tiny_engine());
  ASSERT_TRUE(engine.has_model());
  std::vector<fs::path> files = pdfs();
  ASSERT_GE(files.size(), 8u);
  files.resize(8);
  std::vector<std::string> alone;
  for (const fs::path& f : files) {
    ConvertResult r = engine.convert(f, first_page());
    ASSERT_NE(r.status, Status::Failure) << f << (r.errors.empty() ? "" : r.errors[0].message);
    EXPECT_EQ(r.model_pages, 1) << f;
    EXPECT_GT(r.generated_tokens, 0) << f;
    alone.push_back(fingerprint(r));
  }
  std::vector<std::string> together(files.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < files.size(); ++i)
    threads.emplace_back([&, i] { together[i] = fingerprint(engine.convert(files[i], first_page())); });
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(together[i], alone[i]) << files[i];
}

TEST(Engine, PagesStreamOnTheCallingThreadAsTheyFinish) {
  Engine engine(tiny_engine(2));
  ConvertOptions c = first_page(8);
  c.pages = "1-3";
  std::vector<int> seen;
  std::set<std::thread::id> threads;
  c.on_page = [&](const PageResult& p) {
    seen.push_back(p.page);
    threads.insert(std::this_thread::get_id());
    EXPECT_TRUE(p.from_model);
    EXPECT_FALSE(p.tokens.empty());
    EXPECT_FALSE(p.doctags.empty());
    ASSERT_NE(p.document, nullptr);
    EXPECT_EQ(p.document->page_count(), 1);
  };
  ConvertResult r = engine.convert(kData / "pdfs" / "multi_page.pdf", c);
  EXPECT_NE(r.status, Status::Failure);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(threads, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(r.document.page_count(), 3);
}

TEST(Engine, CancelStopsCleanlyWithoutPageErrors) {
  Engine engine(tiny_engine(1));
  CancelToken token;
  ConvertOptions c = first_page(8);
  c.pages = "";
  c.cancel = &token;
  int pages = 0;
  c.on_page = [&](const PageResult&) {
    ++pages;
    token.cancel();
  };
  ConvertResult r = engine.convert(kData / "pdfs" / "multi_page.pdf", c);
  EXPECT_EQ(r.status, Status::Cancelled);
  EXPECT_GE(pages, 1);
  EXPECT_LT(r.model_pages, 5);
  for (const PageMessage& m : r.errors) EXPECT_EQ(m.message.find("failed"), std::string::npos) << m.message;
  // Cancelled before the call: nothing is converted.
  ConvertResult none = engine.convert(kData / "pdfs" / "multi_page.pdf", c);
  EXPECT_EQ(none.status, Status::Cancelled);
  EXPECT_EQ(none.model_pages, 0);
}

TEST(Engine, BytesAndFilesGiveTheSameDocument) {
  Engine engine;  // no model: the text layer
  EXPECT_FALSE(engine.has_model());
  fs::path f = kData / "pdfs" / "normal_4pages.pdf";
  ConvertResult a = engine.convert(f);
  std::vector<uint8_t> bytes = slurp(f);
  ConvertResult b = engine.convert(bytes.data(), bytes.size(), "normal_4pages.pdf");
  ASSERT_EQ(a.status, Status::Success);
  EXPECT_EQ(a.document.to_markdown(), b.document.to_markdown());
  EXPECT_EQ(a.document.to_json(), b.document.to_json());
  EXPECT_EQ(a.pages, 4);
  EXPECT_EQ(a.text_pages, 4);
  // Items come in reading order with pages and boxes.
  std::vector<Item> items = a.document.items();
  ASSERT_FALSE(items.empty());
  int last_page = 0;
  for (const Item& it : items) {
    if (it.furniture) continue;
    EXPECT_GE(it.page, last_page) << it.ref;
    last_page = it.page;
    EXPECT_LE(it.box.left, it.box.right) << it.ref;
  }
}

TEST(Engine, BadInputIsAResultNotAnException) {
  Engine engine;
  ConvertResult missing = engine.convert(kData / "no_such.pdf");
  EXPECT_EQ(missing.status, Status::Failure);
  ASSERT_FALSE(missing.errors.empty());
  EXPECT_NE(missing.errors[0].message.find("no_such.pdf"), std::string::npos);
  const uint8_t junk[] = {'n', 'o', 't', ' ', 'a', ' ', 'p', 'd', 'f'};
  ConvertResult bad = engine.convert(junk, sizeof junk, "junk.pdf");
  EXPECT_EQ(bad.status, Status::Failure);
  ConvertOptions small = convert_defaults();
  small.limits.max_input_bytes = 100;
  ConvertResult big = engine.convert(kData / "pdfs" / "multi_page.pdf", small);
  EXPECT_EQ(big.status, Status::Failure);
  ASSERT_FALSE(big.errors.empty());
  EXPECT_NE(big.errors[0].message.find("limit"), std::string::npos) << big.errors[0].message;
}

TEST(Engine, TypedErrorsForOptionsAndModels) {
  EngineOptions o = engine_defaults();
  o.batch_size = 0;
  EXPECT_THROW(Engine{o}, InvalidArgumentError);
  o = engine_defaults();
  o.model_dir = (kData / "no_model_here").string();
  try {
    Engine e(o);
    FAIL() << "loaded a model from a missing folder";
  } catch (const ModelError& e) {
    EXPECT_EQ(e.code(), ErrorCode::Model);
    EXPECT_NE(std::string(e.what()).find("no_model_here"), std::string::npos);
  }
  Engine text;
  ConvertOptions c = convert_defaults();
  c.pipeline = Pipeline::Vlm;
  EXPECT_THROW(text.convert(kData / "pdfs" / "multi_page.pdf", c), ModelError);
  c = convert_defaults();
  c.pages = "3-1";
  EXPECT_THROW(text.convert(kData / "pdfs" / "multi_page.pdf", c), InvalidArgumentError);
  c = convert_defaults();
  c.max_new_tokens = 1 << 20;
  EXPECT_THROW(text.convert(kData / "pdfs" / "multi_page.pdf", c), InvalidArgumentError);
  EXPECT_THROW(parse_formats("md,pdf"), InvalidArgumentError);
}

TEST(Engine, ConvertAllDeliversEachInputOnceInOrder) {
  Engine engine(tiny_engine());
  std::vector<Input> inputs;
  for (const fs::path& f : pdfs()) inputs.push_back({f, {}});
  inputs.push_back({kData / "missing.pdf", {}});
  BatchOptions b;
  b.ordered = true;
  b.workers = 3;
  std::vector<size_t> order;
  std::map<size_t, Status> status;
  ConvertOptions c = first_page(4);
  engine.convert_all(inputs, c, b, [&](size_t i, ConvertResult& r) {
    order.push_back(i);
    status[i] = r.status;
  });
  ASSERT_EQ(order.size(), inputs.size());
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
  EXPECT_EQ(status[inputs.size() - 1], Status::Failure);
  for (size_t i = 0; i + 1 < inputs.size(); ++i) EXPECT_NE(status[i], Status::Failure) << inputs[i].path;
}

TEST(Engine, RegionInstructionOnAPageImage) {
  Engine engine(tiny_engine());
  PageImage page = load_page_image(kData / "oracle" / "page.png");
  ConvertOptions c = convert_defaults();
  c.max_new_tokens = 6;
  InstructionResult r = engine.run(page, Instruction::Table, std::nullopt, c);
  EXPECT_FALSE(r.tokens.empty());
  EXPECT_LE(r.tokens.size(), 6u);
  EXPECT_THROW(engine.run(page, Instruction::Ocr, std::nullopt, c), InvalidArgumentError);
  InstructionResult ocr = engine.run(page, Instruction::Ocr, Box{0, 0, double(page.width) / 2, double(page.height) / 2}, c);
  EXPECT_FALSE(ocr.tokens.empty());
  Engine text;
  EXPECT_THROW(text.run(page, Instruction::Code), ModelError);
}

TEST(Document, SaveWritesEveryFormatOrNone) {
  Engine engine;
  ConvertResult r = engine.convert(kData / "pdfs" / "multi_page.pdf");
  fs::path dir = fs::temp_directory_path() / ("docling_engine_save_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::vector<fs::path> written = r.document.save(dir, "doc", parse_formats("md,json,html"));
  EXPECT_EQ(written.size(), 3u);
  EXPECT_THROW(r.document.save(dir, "../escape", parse_formats("md")), InvalidArgumentError);
  EXPECT_THROW(r.document.save(dir, "/tmp/abs", parse_formats("md")), InvalidArgumentError);
  EXPECT_FALSE(fs::exists(dir.parent_path() / "escape.md"));
  EXPECT_NO_THROW(r.document.save(dir, "sub/inner", parse_formats("md")));
  for (const fs::path& p : written) EXPECT_TRUE(fs::exists(p)) << p;
  // A format whose place is taken by a folder: nothing of the second save appears.
  fs::create_directories(dir / "other.html");
  EXPECT_THROW(r.document.save(dir, "other", parse_formats("md,html")), OutputError);
  EXPECT_FALSE(fs::exists(dir / "other.md"));
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  fs::remove_all(dir);
}

// The library prints nothing: messages go to results (and the log callback), even for
// broken files whose parser (Poppler) has something to say.
TEST(Engine, PrintsNothingOnStdoutOrStderr) {
  fs::path dir = fs::temp_directory_path() / ("docling_engine_quiet_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<fs::path> inputs;
  for (const auto& e : fs::directory_iterator(kData / "pdfs" / "robustness")) inputs.push_back(e.path());
  inputs.push_back(kData / "pdfs" / "multi_page.pdf");
  std::fflush(stdout);
  std::fflush(stderr);
  int saved_out = ::dup(1), saved_err = ::dup(2);
  FILE* out = std::fopen((dir / "out").c_str(), "w");
  FILE* err = std::fopen((dir / "err").c_str(), "w");
  ::dup2(::fileno(out), 1);
  ::dup2(::fileno(err), 2);
  int failures = 0;
  {
    Engine engine(tiny_engine());
    for (const fs::path& f : inputs) failures += engine.convert(f, first_page(4)).status == Status::Failure;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  ::close(saved_out);
  ::close(saved_err);
  std::fclose(out);
  std::fclose(err);
  EXPECT_GT(failures, 0);  // the robustness set has broken files
  EXPECT_EQ(fs::file_size(dir / "out"), 0u);
  EXPECT_EQ(fs::file_size(dir / "err"), 0u);
  fs::remove_all(dir);
}

namespace {

// Every "bbox" object under `j` (items' prov and table cells), with whether it is a cell's.
void collect_boxes(const nlohmann::json& j, bool in_cells, std::vector<std::pair<nlohmann::json, bool>>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "bbox" && v.is_object()) out.push_back({v, in_cells});
      else collect_boxes(v, in_cells || k == "table_cells" || k == "grid", out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) collect_boxes(v, in_cells, out);
  }
}

}  // namespace

// Boxes as docling writes them for the text-layer pipeline (items bottom-left, table cells
// top-left), or every box in the origin asked for, at the same place on the page.
TEST(Engine, BoxOrigin) {
  Engine engine(engine_defaults());
  const fs::path pdf = kData / "pdfs" / "2305.03393v1-pg9.pdf";
  auto boxes = [&](BoxOrigin o) {
    ConvertOptions c = convert_defaults();
    c.pipeline = Pipeline::Text;
    c.box_origin = o;
    ConvertResult r = engine.convert(pdf, c);
    EXPECT_EQ(r.status, Status::Success);
    std::vector<std::pair<nlohmann::json, bool>> b;
    collect_boxes(nlohmann::json::parse(r.document.to_json()), false, b);
    return b;
  };
  auto def = boxes(BoxOrigin::Default), tl = boxes(BoxOrigin::TopLeft), bl = boxes(BoxOrigin::BottomLeft);
  ASSERT_GT(def.size(), 20u);
  ASSERT_EQ(tl.size(), def.size());
  ASSERT_EQ(bl.size(), def.size());
  size_t cells = 0;
  for (size_t i = 0; i < def.size(); ++i) {
    cells += def[i].second;
    EXPECT_EQ(def[i].first["coord_origin"], def[i].second ? "TOPLEFT" : "BOTTOMLEFT") << i;
    EXPECT_EQ(tl[i].first["coord_origin"], "TOPLEFT");
    EXPECT_EQ(bl[i].first["coord_origin"], "BOTTOMLEFT");
    // The same box: left/right unchanged, top and bottom mirrored (t + t' = page height).
    EXPECT_EQ(tl[i].first["l"], bl[i].first["l"]);
    double h1 = tl[i].first["t"].get<double>() + bl[i].first["t"].get<double>();
    double h2 = tl[i].first["b"].get<double>() + bl[i].first["b"].get<double>();
    EXPECT_NEAR(h1, h2, 1e-6);
    EXPECT_NEAR(h1, 792.0, 1.0);  // US Letter
  }
  EXPECT_GT(cells, 0u);
}
