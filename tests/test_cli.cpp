// The docling-cpp program end to end: export against docling-core's files, convert on
// the samples and on bad inputs, generate against the oracle's greedy ids.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"
#include "tests/pdf_fixtures.h"
#include "vision/safetensors.h"

namespace fs = std::filesystem;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const fs::path kConf = kData / "conformance";
const fs::path kRoot = kData.parent_path().parent_path();
const fs::path kTiny = kData / "oracle" / "tiny-idefics3";

using docling::testing::CliRun;
using docling::testing::q;
using docling::testing::slurp;

std::string chomp(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

fs::path temp_dir(const std::string& name) { return docling::testing::temp_dir("cli", name); }

// No model unless --model; `env` adds NAME=VALUE settings.
CliRun cli(const std::string& args, const std::string& stdin_file = "", const std::string& env = "") {
  static fs::path home = temp_dir("home");
  return docling::testing::run_cli(DOCLING_CLI, args, home, 300, stdin_file, env);
}

}  // namespace

TEST(Cli, VersionHelpAndUsageErrors) {
  CliRun v = cli("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("docling-cpp " DOCLING_VERSION), std::string::npos);
  CliRun h = cli("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("convert"), std::string::npos);
  for (const char* c : {"convert --help", "export --help", "generate --help"}) EXPECT_EQ(cli(c).code, 0) << c;
  CliRun bad = cli("frobnicate");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("unknown command"), std::string::npos);
  fs::path in = kConf / "doc2out_dummy_doc" / "input.json";
  EXPECT_EQ(cli("export " + q(in) + " --to pdf -o -").code, 2);
  EXPECT_EQ(cli("export " + q(in) + " --image-mode fancy -o -").code, 2);
  EXPECT_EQ(cli("export " + q(in) + " --exclude-labels nolabel -o -").code, 2);
  EXPECT_EQ(cli("export " + q(in) + " --pages 0 -o -").code, 2);
  EXPECT_EQ(cli("convert " + q(kRoot / "samples") + " --threads x").code, 2);
  EXPECT_EQ(cli("convert " + q(kRoot / "samples") + " --weights fp4").code, 2);
  // An unknown option is a usage error naming it, in every command.
  for (const char* c : {"convert", "export", "generate"}) {
    CliRun u = cli(std::string(c) + " " + q(in) + " --frobnicate");
    EXPECT_EQ(u.code, 2) << c;
    EXPECT_NE(u.err.find("docling-cpp: error: unknown option '--frobnicate'"), std::string::npos) << c << u.err;
  }
  CliRun twice = cli("export " + q(in) + " --to md --to html -o -");
  EXPECT_EQ(twice.code, 2);
  EXPECT_NE(twice.err.find("--to"), std::string::npos) << twice.err;
}

// Engine settings come from flags, else DOCLING_* variables; a bad value names its source.
TEST(Cli, EnvironmentAndFlagsSetTheEngine) {
  std::string in = q(kRoot / "samples" / "article.pdf") + " --pipeline text --to md -o - -q";
  CliRun kv = cli("convert " + in, "", "DOCLING_KV=f64");
  EXPECT_EQ(kv.code, 2);
  EXPECT_NE(kv.err.find("DOCLING_KV=f64: expected f16 or f32"), std::string::npos) << kv.err;
  // The flag wins over the variable.
  EXPECT_EQ(cli("convert " + in + " --kv-cache f32", "", "DOCLING_KV=f64").code, 0);
  CliRun isa = cli("convert " + in + " --isa sse2");
  EXPECT_EQ(isa.code, 2);
  EXPECT_NE(isa.err.find("--isa: expected best, avx512, avx2 or scalar, got 'sse2'"), std::string::npos) << isa.err;
  CliRun w = cli("convert " + in, "", "DOCLING_WEIGHTS=fp4");
  EXPECT_EQ(w.code, 2);
  EXPECT_NE(w.err.find("DOCLING_WEIGHTS=fp4"), std::string::npos) << w.err;
  // DOCLING_MODEL is where the model is looked for (and the only place).
  CliRun m = cli("convert " + q(kRoot / "samples" / "article.pdf") + " --pipeline vlm -o -", "",
                 "DOCLING_MODEL=/nonexistent/from-env");
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("/nonexistent/from-env"), std::string::npos) << m.err;
  // Scalar kernels and an f32 cache give the tiny model's greedy output all the same.
  std::string gen = "generate --model " + q(kTiny) + " --image " + q(kData / "oracle" / "page.png") + " --max-new-tokens 8";
  CliRun a = cli(gen), b = cli(gen + " --isa scalar", "", "DOCLING_KV=f32");
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  // --decode-precision: checked, and bf16 runs (its ids may differ from f32's on AVX512-BF16).
  CliRun dp = cli(gen + " --decode-precision fp8");
  EXPECT_EQ(dp.code, 2);
  EXPECT_NE(dp.err.find("--decode-precision: expected f32 or bf16, got 'fp8'"), std::string::npos) << dp.err;
  CliRun dpe = cli(gen, "", "DOCLING_DECODE_PRECISION=half");
  EXPECT_EQ(dpe.code, 2);
  EXPECT_NE(dpe.err.find("DOCLING_DECODE_PRECISION=half"), std::string::npos) << dpe.err;
  EXPECT_EQ(cli(gen + " --decode-precision bf16").code, 0);
  // The decode kernels are measured on first use and kept under the cache home (by default;
  // the runner turns it off); the ids do not change. --kernel-tuning names another folder.
  fs::path cache = temp_dir("tuning");
  auto kept = [](const fs::path& dir) {
    int n = 0;
    if (fs::is_directory(dir))
      for (const auto& f : fs::directory_iterator(dir)) n += f.path().extension() == ".json";
    return n;
  };
  CliRun t = cli(gen, "", "XDG_CACHE_HOME=" + q(cache) + " DOCLING_KERNEL_TUNING=");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.out, a.out);
  EXPECT_EQ(kept(cache / "docling-cpp" / "kernels"), 1);
  CliRun f = cli(gen + " --kernel-tuning " + q(cache / "mine"));
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_EQ(kept(cache / "mine"), 1);
  fs::remove_all(cache);
}

// The model is found in the standard folder under $XDG_CACHE_HOME (else ~/.cache) with
// neither --model nor $DOCLING_MODEL.
TEST(Cli, ModelInTheStandardFolderIsFound) {
  fs::path cache = temp_dir("xdg");
  fs::create_directories(cache / "docling-cpp" / "models");
  fs::create_directory_symlink(kTiny, cache / "docling-cpp" / "models" / "granite-docling-258M");
  std::string gen = "generate --image " + q(kData / "oracle" / "page.png") + " --max-new-tokens 4";
  CliRun found = cli(gen, "", "XDG_CACHE_HOME=" + q(cache));
  EXPECT_EQ(found.code, 0) << found.err;
  CliRun with_flag = cli(gen + " --model " + q(kTiny));
  EXPECT_EQ(found.out, with_flag.out);
  CliRun none = cli(gen);  // HOME is an empty folder
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("docling-cpp/models/granite-docling-258M"), std::string::npos) << none.err;
}

// Export flags map to the export options: repeated --exclude-labels add up, an open page
// range runs to the last page.
TEST(CliExport, RepeatedAndOpenOptions) {
  fs::path in = kConf / "doc2out_activities_page_breaks" / "input.json";
  std::string base = "export " + q(in) + " --to md -o - --page-break-placeholder '<!-- page break -->'";
  CliRun all = cli(base), one = cli(base + " --exclude-labels picture,page_header"),
         two = cli(base + " --exclude-labels picture --exclude-labels ' page_header'");
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(one.out, two.out);
  EXPECT_NE(all.out, one.out);
  CliRun open = cli(base + " --pages 2-"), closed = cli(base + " --pages 2-99"), page1 = cli(base + " --pages 1");
  ASSERT_EQ(open.code, 0) << open.err;
  EXPECT_EQ(open.out, closed.out);
  EXPECT_NE(open.out, page1.out);
  EXPECT_EQ(cli(base + " --pages 3-2").code, 2);
  EXPECT_EQ(cli(base + " --pages 1,x").code, 2);
}

// A file name cannot forge a message line or send terminal escapes: control characters in
// names are escaped in every message.
TEST(Cli, ControlCharactersInFileNamesAreEscaped) {
  fs::path dir = temp_dir("evil"), out = temp_dir("evil_out");
  const std::string bad = "x\ndocling-cpp: error: forged\x1b[31m";  // a newline and an ESC in the name
  std::ofstream(dir / (bad + ".pdf")) << "not a PDF\n";
  fs::create_directories(dir / "sub");
  fs::copy_file(kRoot / "samples" / "article.pdf", dir / "sub" / (bad + ".pdf"));
  fs::copy_file(kRoot / "samples" / "article.pdf", dir / (bad + "2.pdf"));
  CliRun r = cli("convert " + q(dir / (bad + ".pdf")) + " " + q(dir / (bad + "2.pdf")) + " " +
                 q(dir / "sub" / (bad + ".pdf")) + " --to md -o " + q(out));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("\ndocling-cpp: error: forged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("x\\ndocling-cpp: error: forged\\x1b[31m"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("output renamed to"), std::string::npos) << r.err;  // the two same names
  EXPECT_TRUE(fs::exists(out / (bad + "2.md")));  // the files keep their names
  EXPECT_TRUE(fs::exists(out / (bad + "-2.md")));
  // export too.
  std::ofstream(dir / (bad + ".json")) << "{";
  CliRun e = cli("export " + q(dir / (bad + ".json")) + " -o " + q(out));
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err.find('\x1b'), std::string::npos) << e.err;
  EXPECT_EQ(e.err.find("\ndocling-cpp: error: forged"), std::string::npos) << e.err;
}

// Each case: export options → the file docling-core wrote with the same parameters.
TEST(CliExport, MatchesDoclingCoreFiles) {
  struct Case {
    const char* dir;
    const char* args;
    const char* to;
    const char* ext;
    const char* expected;
  };
  const Case cases[] = {
      {"doc2out_dummy_doc", "", "md", "md", "expected.md"},
      {"doc2out_dummy_doc", "", "html", "html", "expected.html"},
      {"doc2out_dummy_doc", "", "doctags", "doctags", "expected.doctags"},
      {"doc2out_dummy_doc", "--doctags-minified", "doctags", "doctags", "expected.min.doctags"},
      {"doc2out_2206.01062", "--page-break-placeholder '<!-- page break -->'", "md", "md", "expected.paged.md"},
      {"doc2out_2206.01062", "--pages 1,2", "doctags", "doctags", "expected.pages_1_2.doctags"},
      {"doc2out_activities_page_breaks",
       "--page-break-placeholder '<!-- page break -->' --exclude-labels picture", "md", "md", "expected.md"},
      {"doc2out_activities_page_breaks", "--exclude-labels picture --page-break-placeholder ''", "md", "md",
       "expected.pb_empty.md"},
      {"doc2out_activities_page_breaks", "--pages 2", "md", "md", "expected.page2.md"},
      {"doc2out_activities_page_breaks", "--pages 1", "html", "html", "expected.page1.html"},
      {"doc2out_constructed_doc", "--image-mode embedded", "md", "md", "expected.embedded.md"},
      {"doc2out_constructed_doc", "--image-mode embedded", "html", "html", "expected.embedded.html"},
      {"doc2out_docling_2305.03393v1-pg9", "--md-compact-tables", "md", "md", "expected.md"},
  };
  fs::path out = temp_dir("export");
  int pass = 0;
  for (const Case& c : cases) {
    fs::path in = kConf / c.dir / "input.json";
    CliRun r = cli("export " + q(in) + " --to " + c.to + " -o " + q(out) + " " + c.args);
    ASSERT_EQ(r.code, 0) << c.dir << " " << c.args << "\n" << r.err;
    // Files end with one newline; docling-core's fixture files have it or not: compare
    // without a final newline.
    std::string got = chomp(slurp(out / (std::string("input.") + c.ext)));
    std::string want = chomp(slurp(kConf / c.dir / c.expected));
    if (got == want) ++pass;
    EXPECT_EQ(got, want) << c.dir << " " << c.expected << " (" << c.args << ")";
  }
  std::printf("CLI export: %d/%zu byte-equal with docling-core\n", pass, std::size(cases));
}

TEST(CliExport, StdinToStdout) {
  fs::path dir = kConf / "doc2out_dummy_doc";
  CliRun r = cli("export - --to md -o -", (dir / "input.json").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(chomp(r.out), chomp(slurp(dir / "expected.md")));
}

TEST(CliExport, DocTagsWithPageImageGivesDoclingJson) {
  fs::path dir = kConf / "dt2doc_page_with_picture";
  fs::path out = temp_dir("dt_json");
  CliRun r = cli("export " + q(dir / "input.doctags") + " --page-image " + q(dir / "page.png") + " --to json -o " + q(out));
  ASSERT_EQ(r.code, 0) << r.err;
  auto strip = [](nlohmann::json j) {
    std::function<void(nlohmann::json&)> rec = [&](nlohmann::json& v) {
      if (v.is_object()) {
        v.erase("uri");
        v.erase("image_uri");
        for (auto& [k, x] : v.items()) rec(x);
      } else if (v.is_array()) {
        for (auto& x : v) rec(x);
      }
    };
    rec(j);
    return j;
  };
  auto got = strip(nlohmann::json::parse(slurp(out / "input.json")));
  auto want = strip(nlohmann::json::parse(slurp(dir / "expected.json")));
  EXPECT_EQ(got, want);
  // A count mismatch between pages and images is an error naming the counts.
  CliRun bad = cli("export " + q(dir / "input.doctags") + " --page-image " + q(dir / "page.png") + " --page-image " +
                q(dir / "page.png") + " --to json -o " + q(out));
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("2 --page-image"), std::string::npos) << bad.err;
}

TEST(CliExport, ReferencedImagesAreWrittenBeside) {
  fs::path dir = kConf / "dt2doc_page_with_picture";
  fs::path out = temp_dir("referenced");
  CliRun r = cli("export " + q(dir / "input.doctags") + " --page-image " + q(dir / "page.png") +
              " --to md,json --image-mode referenced -o " + q(out));
  ASSERT_EQ(r.code, 0) << r.err;
  std::string md = slurp(out / "input.md");
  size_t at = md.find("![Image](input_artifacts/image_000000_");
  ASSERT_NE(at, std::string::npos) << md;
  std::string rel = md.substr(at + 9, md.find(')', at) - at - 9);
  std::string png = slurp(out / rel);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  auto j = nlohmann::json::parse(slurp(out / "input.json"));
  EXPECT_EQ(j["pictures"][0]["image"]["uri"].get<std::string>(), rel);
  EXPECT_EQ(j["pages"]["1"]["image"]["uri"].get<std::string>().rfind("input_artifacts/", 0), 0u);
}

TEST(CliExport, BadInputNamesTheFile) {
  fs::path dir = temp_dir("bad_export");
  std::ofstream(dir / "broken.json") << "{\"schema_name\": \"DoclingDocument\", \"version\": ";
  CliRun r = cli("export " + q(dir / "broken.json") + " " + q(kConf / "doc2out_dummy_doc" / "input.json") +
              " --to md -o " + q(dir));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("broken.json"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir / "input.md"));  // the good input is still written
  EXPECT_EQ(cli("export " + q(dir / "missing.doctags") + " -o " + q(dir)).code, 2);
}

TEST(CliConvert, SamplesWithTheTextLayer) {
  fs::path out = temp_dir("samples");
  CliRun r = cli("convert " + q(kRoot / "samples") + " -o " + q(out) + " --to md,json,html,doctags,text");
  // The scanned samples have no text layer and no model is present: partial, warned
  // about, exit 0 (3 only with --strict).
  EXPECT_EQ(r.code, 0) << r.err;
  for (const char* stem : {"article", "report", "scanned_page", "article_page"})
    for (const char* ext : {"md", "json", "html", "doctags", "txt"})
      EXPECT_TRUE(fs::exists(out / (std::string(stem) + "." + ext))) << stem << "." << ext;
  EXPECT_NE(r.err.find("scanned_page.pdf: page 1: no text layer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("huggingface-cli download ibm-granite/granite-docling-258M"), std::string::npos);
  EXPECT_NE(r.err.find("4 document(s): 2 succeeded, 2 partial, 0 failed"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(slurp(out / "report.json"));
  EXPECT_EQ(j["schema_name"], "DoclingDocument");
  EXPECT_EQ(j["name"], "report");
  EXPECT_EQ(j["origin"]["filename"], "report.pdf");
  EXPECT_EQ(j["pages"].size(), 3u);
  // Page numbers survive into provenance, and the furniture layer has the running headers.
  std::set<int> prov_pages;
  for (auto& t : j["texts"])
    for (auto& p : t["prov"]) prov_pages.insert(p["page_no"].get<int>());
  EXPECT_EQ(prov_pages, (std::set<int>{1, 2, 3}));
  int furniture = 0;
  for (auto& t : j["texts"]) furniture += t["content_layer"] == "furniture";
  EXPECT_GE(furniture, 6);  // running header and footer lines on three pages
  EXPECT_NE(slurp(out / "article.md").find("## 1. Introduction"), std::string::npos);
}

TEST(CliConvert, PageSelectionKeepsPageNumbers) {
  fs::path out = temp_dir("pages");
  CliRun r = cli("convert " + q(kRoot / "samples" / "report.pdf") + " --pages 2 --to json -o " + q(out));
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(slurp(out / "report.json"));
  ASSERT_EQ(j["pages"].size(), 1u);
  EXPECT_EQ(j["pages"]["2"]["page_no"], 2);
  CliRun past = cli("convert " + q(kRoot / "samples" / "report.pdf") + " --pages 9 --to json -o " + q(out));
  EXPECT_EQ(past.code, 1);
  EXPECT_NE(past.err.find("report.pdf"), std::string::npos) << past.err;
}

TEST(CliConvert, BadInputsFailAloneAndNothingIsLost) {
  fs::path in = temp_dir("bad_in"), out = temp_dir("bad_out");
  fs::copy_file(kRoot / "samples" / "article.pdf", in / "good.pdf");
  std::string pdf = slurp(kRoot / "samples" / "report.pdf");
  std::ofstream(in / "truncated.pdf", std::ios::binary) << pdf.substr(0, pdf.size() / 3);
  std::ofstream(in / "empty.pdf");
  std::ofstream(in / "notes.pdf") << "this is not a PDF\n";
  std::ofstream(in / "garbage.png") << "\x89PNG\r\n\x1a\nnot really";
  fs::copy_file(kData / "pdfs" / "robustness" / "2206.01062_pg3_password_1234.pdf", in / "locked.pdf");
  std::ofstream(in / "zero.pdf", std::ios::binary) << docling::testing::make_pdf({});
  // An earlier result of the good document must survive a failing rerun.
  CliRun first = cli("convert " + q(in / "good.pdf") + " --to md -o " + q(out));
  ASSERT_EQ(first.code, 0) << first.err;
  std::string before = slurp(out / "good.md");

  CliRun r = cli("convert " + q(in) + " --to md -o " + q(out) + " -q");
  EXPECT_EQ(r.code, 1) << r.err;
  for (const char* f : {"truncated.pdf", "empty.pdf", "notes.pdf", "garbage.png", "locked.pdf", "zero.pdf"}) {
    EXPECT_NE(r.err.find("error: '" + (in / f).string() + "'"), std::string::npos) << f << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out / (fs::path(f).stem().string() + ".md"))) << f;
  }
  // good.pdf is in the ledger with the same bytes and settings: resumed, not converted again.
  EXPECT_NE(r.err.find("7 document(s): 0 succeeded, 0 partial, 6 failed, 1 already done"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(out / "good.md"), before);
  // No temporary files are left behind (the ledger is the run's record).
  for (auto& e : fs::directory_iterator(out))
    if (e.path().filename() != "docling-cpp.ledger.jsonl") {
      EXPECT_EQ(e.path().extension(), ".md") << e.path();
    }
  // The password opens it.
  CliRun open = cli("convert " + q(in / "locked.pdf") + " --password 1234 --to md -o " + q(out));
  EXPECT_EQ(open.code, 0) << open.err;
  EXPECT_TRUE(fs::exists(out / "locked.md"));
}

TEST(CliConvert, SameNamesDoNotOverwrite) {
  fs::path a = temp_dir("dup_a"), b = temp_dir("dup_b"), out = temp_dir("dup_out");
  fs::copy_file(kRoot / "samples" / "article.pdf", a / "x.pdf");
  fs::copy_file(kRoot / "samples" / "report.pdf", b / "x.pdf");
  CliRun r = cli("convert " + q(a / "x.pdf") + " " + q(b / "x.pdf") + " --to md -o " + q(out) + " -q");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / "x.md"));
  EXPECT_TRUE(fs::exists(out / "x-2.md"));
  EXPECT_NE(slurp(out / "x.md"), slurp(out / "x-2.md"));
}

TEST(CliConvert, VlmWithoutModelSaysHowToGetIt) {
  CliRun r = cli("convert " + q(kRoot / "samples" / "article.pdf") + " --pipeline vlm -o -");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("granite-docling-258M"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--model"), std::string::npos);
  CliRun g = cli("generate --image " + q(kData / "oracle" / "page.png") + " --model /nonexistent/model");
  EXPECT_EQ(g.code, 2);
  EXPECT_NE(g.err.find("/nonexistent/model"), std::string::npos) << g.err;
}

// The tiny random checkpoint produces nonsense, but every stage runs: render, tiles,
// encoder, generation into the parser, document assembly, page images, exports.
TEST(CliConvert, VlmAndAutoWithTheTinyModel) {
  fs::path out = temp_dir("vlm");
  CliRun r = cli("convert " + q(kRoot / "samples" / "scanned_page.pdf") + " " + q(kRoot / "samples" / "article.pdf") +
              " --pipeline auto --model " + q(kTiny) + " --max-new-tokens 6 --to json,md -o " + q(out) + " -q --strict");
  // The scan went to the model and hit the 6-token limit: partial.
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("scanned_page.pdf: page 1: generation reached the token limit (6)"), std::string::npos)
      << r.err;
  auto j = nlohmann::json::parse(slurp(out / "scanned_page.json"));
  ASSERT_EQ(j["pages"].size(), 1u);
  EXPECT_EQ(j["pages"]["1"]["size"]["width"], 595.0);
  EXPECT_EQ(j["pages"]["1"]["image"]["uri"].get<std::string>().rfind("data:image/png;base64,", 0), 0u);
  EXPECT_EQ(j["pages"]["1"]["image"]["size"]["width"], 595.0);
  // The article has a text layer: auto kept the text backend (same Markdown as --pipeline text).
  fs::path out2 = temp_dir("vlm_text");
  cli("convert " + q(kRoot / "samples" / "article.pdf") + " --pipeline text --to md -o " + q(out2));
  EXPECT_EQ(slurp(out / "article.md"), slurp(out2 / "article.md"));
}

TEST(CliGenerate, PrintIdsMatchesTheOracle) {
  auto st = docling::vision::SafeTensors::open((kData / "oracle" / "reference.safetensors").string());
  const auto& t = st.get("image.generated_ids");
  const int32_t* ids = static_cast<const int32_t*>(t.data);
  std::string want;
  for (int64_t i = 0; i < t.numel(); ++i) want += (i ? " " : "") + std::to_string(ids[i]);
  CliRun r = cli("generate --model " + q(kTiny) + " --image " + q(kData / "oracle" / "page.png") + " --max-new-tokens " +
              std::to_string(t.numel()) + " --print-ids");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), want);
  // int8 weights: runs, and the first greedy ids still agree with the reference (the
  // tiny model's near-ties may differ later; test_model_int8 bounds the error).
  CliRun i8 = cli("generate --model " + q(kTiny) + " --weights int8 --image " + q(kData / "oracle" / "page.png") +
                  " --max-new-tokens 4 --print-ids");
  ASSERT_EQ(i8.code, 0) << i8.err;
  EXPECT_EQ(i8.out.substr(0, i8.out.find(' ')), want.substr(0, want.find(' ')));
  // The streaming form prints the same text as the text after the ids.
  CliRun s = cli("generate --model " + q(kTiny) + " --image " + q(kData / "oracle" / "page.png") +
              " --max-new-tokens " + std::to_string(t.numel()));
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out, r.out.substr(r.out.find('\n') + 1));
}

// Continuous batching and speculative drafts change how the decoder is driven, never what
// it writes: the same pages give the same DocTags one at a time, batched, with drafts.
TEST(CliConvert, BatchingAndDraftsGiveTheSameOutput) {
  std::string in = q(kRoot / "samples" / "report.pdf") + " " + q(kRoot / "samples" / "article.pdf") + " " +
                   q(kRoot / "samples" / "scanned_page.pdf");
  std::string common = " --pipeline vlm --model " + q(kTiny) + " --max-new-tokens 32 --to doctags,json --strict ";
  fs::path a = temp_dir("b1"), b = temp_dir("b3");
  CliRun r1 = cli("convert " + in + common + "--batch 1 --no-speculate -o " + q(a));
  CliRun r3 = cli("convert " + in + common + "--batch 3 --ordered -o " + q(b));
  ASSERT_EQ(r1.code, 3) << r1.err;
  ASSERT_EQ(r3.code, 3) << r3.err;
  for (const char* stem : {"report", "article", "scanned_page"}) {
    std::string da = slurp(a / (std::string(stem) + ".doctags")), db = slurp(b / (std::string(stem) + ".doctags"));
    EXPECT_FALSE(da.empty());
    EXPECT_EQ(da, db) << stem;
    EXPECT_EQ(slurp(a / (std::string(stem) + ".json")), slurp(b / (std::string(stem) + ".json"))) << stem;
  }
  // One thread: the graph's work runs on the calling thread (this once deadlocked).
  fs::path c = temp_dir("t1");
  CliRun t1 = cli("convert " + in + common + "--batch 2 --threads 1 -q -o " + q(c));
  ASSERT_EQ(t1.code, 3) << t1.err;
  EXPECT_EQ(slurp(a / "report.doctags"), slurp(c / "report.doctags"));
  // --ordered: the per-document lines follow the input order.
  size_t p1 = r3.err.find("partial " + (kRoot / "samples" / "report.pdf").string()),
         p2 = r3.err.find("partial " + (kRoot / "samples" / "article.pdf").string()),
         p3 = r3.err.find("partial " + (kRoot / "samples" / "scanned_page.pdf").string());
  ASSERT_NE(p3, std::string::npos) << r3.err;
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
}

// Ctrl-C (or SIGTERM): the run stops soon, says so, exits 130; what was finished stays
// written and nothing half-written appears.
static void interrupt_keeps_finished_documents(int sig) {
  fs::path out = temp_dir("sigint"), ref = temp_dir("sigint_ref");
  fs::path err = out.parent_path() / ("sigint_err_" + std::to_string(::getpid()) + ".txt");
  std::string args = q(kRoot / "samples" / "article.pdf") + " " + q(kRoot / "samples" / "scanned_page.pdf") +
                     " --pipeline auto --model " + q(kTiny) + " --no-loop-guard --max-new-tokens 6000 --to md";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string cmd = "exec '" DOCLING_CLI "' convert " + args + " -o " + q(out) + " 2>" + q(err);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  // The article (text layer) is written first; the scan is still being generated.
  for (int i = 0; i < 600 && !fs::exists(out / "article.md"); ++i) usleep(50 * 1000);
  ASSERT_TRUE(fs::exists(out / "article.md"));
  kill(pid, sig);
  int status = 0;
  bool ended = false;
  for (int i = 0; i < 1200 && !ended; ++i) {
    ended = waitpid(pid, &status, WNOHANG) == pid;
    if (!ended) usleep(50 * 1000);
  }
  if (!ended) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "convert did not stop within 60 s of signal " << sig;
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::string log = slurp(err);
  EXPECT_NE(log.find("interrupted"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(out / "scanned_page.md"));
  for (auto& e : fs::directory_iterator(out))
    if (e.path().filename() != "docling-cpp.ledger.jsonl") {
      EXPECT_EQ(e.path().filename(), "article.md");
    }
  cli("convert " + q(kRoot / "samples" / "article.pdf") + " --pipeline text --to md -o " + q(ref));
  EXPECT_EQ(slurp(out / "article.md"), slurp(ref / "article.md"));
  fs::remove(err);
}

TEST(CliConvert, InterruptKeepsFinishedDocuments) { interrupt_keeps_finished_documents(SIGINT); }
TEST(CliConvert, TerminateKeepsFinishedDocuments) { interrupt_keeps_finished_documents(SIGTERM); }

// A poster-sized page is past the raster limits at 144 dpi (28800 px) and even at 72 dpi
// (207 Mpx): the model gets it straight at the processor's step-1 size, the page image is
// rendered smaller, the page keeps its size in points, and warnings name the page. The
// text layer is not used for it.
TEST(CliConvert, EnormousPageGoesToTheModelRenderedSmaller) {
  fs::path in = temp_dir("poster_in"), out = temp_dir("poster_out");
  std::ofstream(in / "poster.pdf", std::ios::binary) << docling::testing::make_pdf(
      {{"0 0 612 792", "BT /F1 20 Tf 30 700 Td (Normal page) Tj ET"},
       {"0 0 14400 14400", "BT /F1 400 Tf 300 7000 Td (Huge page text) Tj ET"}});
  CliRun r = cli("convert " + q(in / "poster.pdf") + " --pipeline vlm --model " + q(kTiny) +
                 " --max-new-tokens 4 --to json,md -q --strict -o " + q(out));
  EXPECT_EQ(r.code, 3) << r.err;  // --strict: warnings count
  EXPECT_EQ(r.err.find("the model failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("poster.pdf: page 2: page too large to render at 144 dpi"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("poster.pdf: page 2: page of 14400x14400 pt: page image rendered at 4096x4096 px"),
            std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("page 1: page"), std::string::npos) << r.err;  // the normal page renders as before
  auto j = nlohmann::json::parse(slurp(out / "poster.json"));
  ASSERT_EQ(j["pages"].size(), 2u);
  EXPECT_EQ(j["pages"]["2"]["size"]["width"], 14400.0);
  EXPECT_EQ(j["pages"]["2"]["image"]["size"]["width"], 4096.0);
  EXPECT_EQ(j["pages"]["2"]["image"]["dpi"], 20);  // 72 * 4096 / 14400
  EXPECT_EQ(j["pages"]["1"]["image"]["dpi"], 72);
  EXPECT_EQ(slurp(out / "poster.md").find("Huge page text"), std::string::npos);
}

// A checkpoint saved in float32 (torch_dtype=float32) loads too: its weights are rounded
// to bf16 once, which is exact for a bf16 model saved as f32, so the output is identical.
TEST(CliGenerate, Float32CheckpointGivesTheSameIds) {
  fs::path dir = temp_dir("f32_model");
  for (auto& e : fs::directory_iterator(kTiny))
    if (e.path().filename() != "model.safetensors") fs::copy_file(e.path(), dir / e.path().filename());
  auto st = docling::vision::SafeTensors::open((kTiny / "model.safetensors").string());
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, t] : st.tensors()) {
    std::vector<float> f = st.to_f32(t);
    size_t begin = data.size();
    data.append(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(float));
    header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  uint64_t n = h.size();
  std::ofstream out(dir / "model.safetensors", std::ios::binary);
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << h << data;
  out.close();
  std::string image = q(kData / "oracle" / "page.png");
  CliRun a = cli("generate --model " + q(kTiny) + " --image " + image + " --max-new-tokens 12 --print-ids");
  CliRun b = cli("generate --model " + q(dir) + " --image " + image + " --max-new-tokens 12 --print-ids");
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  fs::remove_all(dir);
}
