// Crash and runaway containment in `convert` (issue 15 "Hostile input", issue 19 items 6 and
// 10): the batch runs in a worker process its supervisor restarts; a crash, an abort, a page
// over the time or memory limit fails one document (a FAILURE ledger line naming the signal or
// limit and the page) and the others are converted as in-process. Faults come from real PDFs
// (nested form XObjects, a Flate bomb) and from the CLI worker's test hook
// DOCLING_CPP_TEST_FAULT (read by the CLI only, never by the library).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"
#include "tests/pdf_fixtures.h"

namespace fs = std::filesystem;

namespace {

const fs::path kData = DOCLING_TEST_DATA;

using docling::testing::CliRun;
using docling::testing::q;
using docling::testing::slurp;

fs::path temp_dir(const std::string& name) { return docling::testing::temp_dir("cli_isolation", name); }

CliRun cli(const std::string& args, const std::string& prefix = "") {
  static fs::path home = temp_dir("home");
  return docling::testing::run_cli(DOCLING_CLI, args, home, 120, "", prefix);
}

struct Line {
  std::string status, reason;
  int count = 0;
};

// The ledger by input; `count` says how many lines each input has.
std::map<std::string, Line> ledger(const fs::path& out) {
  std::map<std::string, Line> m;
  std::istringstream in(slurp(out / "docling-cpp.ledger.jsonl"));
  for (std::string l; std::getline(in, l);) {
    if (l.empty()) continue;
    auto j = nlohmann::json::parse(l);
    Line& x = m[j["input"].get<std::string>()];
    x.status = j["status"];
    x.reason = j["pages"]["errors"].empty() ? "" : j["pages"]["errors"][0]["reason"].get<std::string>();
    ++x.count;
  }
  return m;
}

size_t line_count(const fs::path& out) {
  std::string s = slurp(out / "docling-cpp.ledger.jsonl");
  return size_t(std::count(s.begin(), s.end(), '\n'));
}

bool has_temporary(const fs::path& dir) {
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp") != std::string::npos) return true;
  return false;
}

// Small PDFs of the test data, plus copies named for the faults.
fs::path corpus(const std::string& name, const std::vector<std::string>& extra) {
  fs::path dir = temp_dir(name);
  for (const char* f : {"multi_page.pdf", "normal_4pages.pdf", "code_and_formula.pdf", "right_to_left_01.pdf"})
    fs::copy_file(kData / "pdfs" / f, dir / f);
  for (const std::string& e : extra) fs::copy_file(kData / "pdfs" / "multi_page.pdf", dir / e);
  return dir;
}

// A one-page PDF whose page draws form XObject 1, which draws form 2, ... `depth` deep.
std::string nested_forms_pdf(int depth) {
  std::vector<std::string> objs = {
      "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 << /Type /Font "
      "/Subtype /Type1 /BaseFont /Helvetica >> >> /XObject << /X 5 0 R >> >> /Contents 4 0 R >>"};
  std::string c = "BT /F1 12 Tf 72 720 Td (Nested forms) Tj ET /X Do";
  objs.push_back("<< /Length " + std::to_string(c.size()) + " >>\nstream\n" + c + "\nendstream");
  for (int i = 0; i < depth; ++i) {
    bool last = i + 1 == depth;
    std::string s = last ? "BT /F1 10 Tf 72 700 Td (deep) Tj ET" : "/X Do";
    std::string res = last ? "/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >>"
                           : "/XObject << /X " + std::to_string(6 + i) + " 0 R >>";
    objs.push_back("<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << " + res + " >> /Length " +
                   std::to_string(s.size()) + " >>\nstream\n" + s + "\nendstream");
  }
  return docling::testing::pdf_from_objects(objs);
}

// --- a Flate bomb, deflated by hand (fixed Huffman codes) ---------------------------------------

struct Bits {
  std::string out;
  uint32_t acc = 0;
  int n = 0;
  void put(uint32_t v, int count) {  // LSB first
    acc |= v << n;
    n += count;
    while (n >= 8) out += char(acc & 0xFF), acc >>= 8, n -= 8;
  }
  void huff(uint32_t code, int len) {  // Huffman codes go MSB first
    uint32_t r = 0;
    for (int i = 0; i < len; ++i) r |= ((code >> i) & 1) << (len - 1 - i);
    put(r, len);
  }
  void literal(uint8_t b) { b < 144 ? huff(0x30 + b, 8) : huff(0x190 + b - 144, 9); }
  // A match of length 3..258 at distance 1..32 (the only ones used here).
  void match(int len, int dist) {
    static const int base[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const int extra[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    int c = 28;
    while (base[c] > len) --c;
    int sym = 257 + c;
    sym < 280 ? huff(uint32_t(sym - 256), 7) : huff(uint32_t(0xC0 + sym - 280), 8);
    put(uint32_t(len - base[c]), extra[c]);
    static const int dbase[] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33};
    static const int dextra[] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4};
    int d = 9;
    while (dbase[d] > dist) --d;
    huff(uint32_t(d), 5);
    put(uint32_t(dist - dbase[d]), dextra[d]);
  }
};

// zlib data: literals, then back-references at distance `period` wherever the data repeats.
std::string deflate_periodic(const std::string& data, int period) {
  Bits b;
  b.out = "\x78\x01";
  b.put(1, 1);  // the last block
  b.put(1, 2);  // fixed codes
  size_t i = 0;
  while (i < data.size()) {
    size_t len = 0;
    if (i >= size_t(period))
      while (len < 258 && i + len < data.size() && data[i + len] == data[i + len - size_t(period)]) ++len;
    if (len >= 3) b.match(int(len), period), i += len;
    else b.literal(uint8_t(data[i])), ++i;
  }
  b.huff(0, 7);  // end of block
  if (b.n) b.put(0, 8 - b.n);
  return b.out + std::string(4, '\0');  // Adler-32 left zero: the bomb is stopped long before it
}

// A page whose content stream inflates twice to `gib` GiB of spaces (a 1 GiB bomb is ~50 KB).
std::string flate_bomb_pdf(int gib) {
  Bits inner;
  inner.out = "\x78\x01";
  inner.put(1, 1);
  inner.put(1, 2);
  inner.literal(' ');
  for (uint64_t left = (uint64_t(gib) << 30) - 1; left >= 258; left -= 258) inner.match(258, 1);
  inner.huff(0, 7);
  if (inner.n) inner.put(0, 8 - inner.n);
  std::string stream = deflate_periodic(inner.out + std::string(4, '\0'), 13);  // 13 codes of 8 bits repeat
  std::string page = "<< /Length " + std::to_string(stream.size()) + " /Filter [/FlateDecode /FlateDecode] >>\nstream\n" +
                     stream + "\nendstream";
  std::vector<std::string> objs = {"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>", page};
  return docling::testing::pdf_from_objects(objs);
}

void write(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

const std::string kText = " --pipeline text --to md,json --threads 1 -q";

}  // namespace

// A segfault and an abort each fail their document alone; every other document converts to
// the same bytes as an in-process run; one ledger line each; no temporaries.
TEST(CliIsolation, CrashesFailOneDocumentEach) {
  fs::path in = corpus("crash_in", {"crash.pdf", "abort.pdf"});
  fs::path out = temp_dir("crash_out"), ref = temp_dir("crash_ref");
  CliRun r = cli("convert " + q(in) + " -o " + q(out) + kText, "DOCLING_CPP_TEST_FAULT=segv:crash.pdf,abort:abort.pdf");
  EXPECT_EQ(r.code, 1) << r.err;
  auto l = ledger(out);
  ASSERT_EQ(l.size(), 6u) << r.err;
  for (auto& [k, x] : l) EXPECT_EQ(x.count, 1) << k;
  EXPECT_EQ(l["crash.pdf"].status, "FAILURE");
  EXPECT_NE(l["crash.pdf"].reason.find("page 1: crashed (SIGSEGV)"), std::string::npos) << l["crash.pdf"].reason;
  EXPECT_NE(l["crash.pdf"].reason.find("crash.pdf"), std::string::npos);
  EXPECT_NE(l["abort.pdf"].reason.find("SIGABRT"), std::string::npos) << l["abort.pdf"].reason;
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("4 succeeded, 0 partial, 2 failed"), std::string::npos) << r.err;
  EXPECT_FALSE(has_temporary(out));

  CliRun rr = cli("convert " + q(in) + " -o " + q(ref) + kText + " --no-isolation");
  EXPECT_EQ(rr.code, 0) << rr.err;
  for (const char* f : {"multi_page", "normal_4pages", "code_and_formula", "right_to_left_01"}) {
    EXPECT_EQ(l[std::string(f) + ".pdf"].status, "SUCCESS") << f;
    for (const char* ext : {".md", ".json"})
      EXPECT_EQ(slurp(out / (std::string(f) + ext)), slurp(ref / (std::string(f) + ext))) << f << ext;
  }
  EXPECT_FALSE(fs::exists(out / "crash.md"));
  // A rerun has nothing left to do, and still exits as the archive did.
  CliRun again = cli("convert " + q(in) + " -o " + q(out) + kText);
  EXPECT_EQ(again.code, 1) << again.err;
  EXPECT_EQ(line_count(out), 6u);
}

// Two documents in flight when the worker dies: each is converted alone; only the guilty one fails.
TEST(CliIsolation, SuspectsAreConvertedAlone) {
  fs::path in = temp_dir("suspects_in"), out = temp_dir("suspects_out");
  fs::copy_file(kData / "pdfs" / "multi_page.pdf", in / "a.pdf");
  fs::copy_file(kData / "pdfs" / "normal_4pages.pdf", in / "b.pdf");
  // a: 1 s, then a crash; b: 2 s on its first page, so both are in flight when a dies.
  CliRun r = cli("convert " + q(in) + " -o " + q(out) + " --pipeline text --threads 2 -q",
                 "DOCLING_CPP_TEST_FAULT=sleep:a.pdf,segv:a.pdf,sleep:b.pdf,sleep:b.pdf");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("2 documents in flight"), std::string::npos) << r.err;
  auto l = ledger(out);
  ASSERT_EQ(l.size(), 2u) << r.err;
  EXPECT_EQ(l["a.pdf"].status, "FAILURE");
  EXPECT_NE(l["a.pdf"].reason.find("SIGSEGV"), std::string::npos);
  EXPECT_EQ(l["b.pdf"].status, "SUCCESS");
  EXPECT_EQ(l["a.pdf"].count + l["b.pdf"].count, 2);
  EXPECT_TRUE(fs::exists(out / "b.md"));
}

// Issue 19 #10: a Flate bomb (50 KB inflating to 1 GiB) ends within the page time limit with
// the page named; a hung page alike; the batch goes on.
TEST(CliIsolation, PageTimeLimitEndsABombAndAHang) {
  fs::path in = corpus("bomb_in", {"hang.pdf"}), out = temp_dir("bomb_out");
  std::string bomb = flate_bomb_pdf(1);
  EXPECT_LT(bomb.size(), 200000u);
  write(in / "bomb.pdf", bomb);
  auto t0 = std::chrono::steady_clock::now();
  // The bomb check is off here: the page time limit is what is tested (the next test has the check).
  CliRun r = cli("convert " + q(in) + " -o " + q(out) + kText + " --page-timeout 2 --max-inflated-mb 0",
                 "DOCLING_CPP_TEST_FAULT=hang:hang.pdf");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(secs, 40) << r.err;
  auto l = ledger(out);
  ASSERT_EQ(l.size(), 6u) << r.err;
  EXPECT_EQ(l["bomb.pdf"].status, "FAILURE");
  EXPECT_NE(l["bomb.pdf"].reason.find("page 1: over the page time limit of 2 s"), std::string::npos) << l["bomb.pdf"].reason;
  EXPECT_NE(l["hang.pdf"].reason.find("page 1: over the page time limit of 2 s"), std::string::npos) << l["hang.pdf"].reason;
  EXPECT_EQ(l["multi_page.pdf"].status, "SUCCESS");
  EXPECT_EQ(l["normal_4pages.pdf"].status, "SUCCESS");
  EXPECT_FALSE(has_temporary(out));
  EXPECT_EQ(cli("convert " + q(in) + " -o " + q(out) + " --page-timeout soon").code, 2);
}

// By default a stream inflating past 512 MiB refuses the file before Poppler reads a page.
TEST(CliIsolation, InflationCapRefusesABomb) {
  fs::path in = corpus("inflate_in", {}), out = temp_dir("inflate_out");
  write(in / "bomb.pdf", flate_bomb_pdf(1));
  auto t0 = std::chrono::steady_clock::now();
  CliRun r = cli("convert " + q(in) + " -o " + q(out) + kText);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(secs, 40) << r.err;
  auto l = ledger(out);
  EXPECT_EQ(l["bomb.pdf"].status, "FAILURE");
  EXPECT_NE(l["bomb.pdf"].reason.find("inflates past the limit of 512 MiB"), std::string::npos) << l["bomb.pdf"].reason;
  EXPECT_EQ(l["multi_page.pdf"].status, "SUCCESS");
  // A cap above the bomb's size lets it through to Poppler (and the page limit).
  CliRun big = cli("convert " + q(in / "bomb.pdf") + " -o " + q(temp_dir("inflate_big")) + kText +
                   " --max-inflated-mb 2048 --page-timeout 1");
  EXPECT_EQ(big.err.find("inflates past"), std::string::npos) << big.err;
  EXPECT_EQ(cli("convert " + q(in) + " -o " + q(out) + " --max-inflated-mb lots").code, 2);
}

TEST(CliIsolation, MemoryLimitFailsTheDocument) {
  fs::path in = corpus("mem_in", {"fat.pdf"}), out = temp_dir("mem_out");
  CliRun r = cli("convert " + q(in) + " -o " + q(out) + kText + " --max-memory 800", "DOCLING_CPP_TEST_FAULT=memory:fat.pdf");
  EXPECT_EQ(r.code, 1) << r.err;
  auto l = ledger(out);
  ASSERT_EQ(l.size(), 5u) << r.err;
  EXPECT_NE(l["fat.pdf"].reason.find("page 1: over the memory limit of 800 MB"), std::string::npos) << l["fat.pdf"].reason;
  EXPECT_EQ(l["multi_page.pdf"].status, "SUCCESS");
}

// A restarted worker does not redo this run's documents, whatever --no-resume and
// --redo-failed say, and the run ends (no loop on a document that fails again).
TEST(CliIsolation, RestartsKeepResumeModes) {
  fs::path in = corpus("modes_in", {"crash.pdf"}), out = temp_dir("modes_out");
  std::string fault = "DOCLING_CPP_TEST_FAULT=segv:crash.pdf";
  EXPECT_EQ(cli("convert " + q(in) + " -o " + q(out) + kText, fault).code, 1);
  ASSERT_EQ(line_count(out), 5u);
  CliRun all = cli("convert " + q(in) + " -o " + q(out) + kText + " --no-resume", fault);
  EXPECT_EQ(all.code, 1) << all.err;
  EXPECT_EQ(line_count(out), 10u) << all.err;
  for (auto& [k, x] : ledger(out)) EXPECT_EQ(x.count, 2) << k;
  CliRun redo = cli("convert " + q(in) + " -o " + q(out) + kText + " --redo-failed", fault);
  EXPECT_EQ(redo.code, 1) << redo.err;
  EXPECT_EQ(line_count(out), 11u) << redo.err;
  EXPECT_EQ(ledger(out)["crash.pdf"].count, 3);
}

// Issue 19 #6: forms nested 20,000 deep convert as the second document of a batch, even under
// a 4 MiB stack limit (the documents' threads have their own stacks); 60,000 deep converts or
// is contained; the other documents are converted either way.
TEST(CliIsolation, DeeplyNestedFormsAreContained) {
  fs::path in = temp_dir("nested_in"), out = temp_dir("nested_out"), out2 = temp_dir("nested_out2");
  fs::copy_file(kData / "pdfs" / "multi_page.pdf", in / "a.pdf");
  write(in / "b.pdf", nested_forms_pdf(20000));
  fs::copy_file(kData / "pdfs" / "normal_4pages.pdf", in / "c.pdf");
  CliRun r = cli("convert " + q(in) + " -o " + q(out) + " --pipeline text --threads 2 -q --no-isolation",
                 "prlimit --stack=4194304");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(out / "b.md").find("Nested forms"), std::string::npos);

  write(in / "d.pdf", nested_forms_pdf(60000));
  CliRun d = cli("convert " + q(in) + " -o " + q(out2) + " --pipeline text --threads 2 -q", "prlimit --stack=4194304");
  auto l = ledger(out2);
  ASSERT_EQ(l.size(), 4u) << d.err;
  for (auto& [k, x] : l) EXPECT_EQ(x.count, 1) << k;
  for (const char* k : {"a.pdf", "b.pdf", "c.pdf"}) EXPECT_EQ(l[k].status, "SUCCESS") << k;
  if (l["d.pdf"].status == "FAILURE") {
    EXPECT_NE(l["d.pdf"].reason.find("(SIG"), std::string::npos) << l["d.pdf"].reason;
  } else {
    EXPECT_EQ(l["d.pdf"].status, "SUCCESS");
  }
}

// SIGTERM to the supervisor reaches the worker once: the batch stops as in-process (exit 130,
// finished documents kept, no error), the worker does not outlive it; a rerun finishes.
TEST(CliIsolation, TerminateIsForwarded) {
  fs::path in = corpus("term_in", {"e.pdf", "f.pdf", "g.pdf", "h.pdf"}), out = temp_dir("term_out");
  fs::path err = out.parent_path() / ("iso_term_err_" + std::to_string(getpid()) + ".txt");
  fs::path progress = out.parent_path() / ("iso_term_progress_" + std::to_string(getpid()) + ".json");
  std::string args = "convert " + q(in) + " -o " + q(out) + kText + " --progress-json " + q(progress);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string cmd = "DOCLING_CPP_TEST_FAULT=sleep:.pdf exec '" DOCLING_CLI "' " + args + " 2>" + q(err);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  for (int i = 0; i < 1000 && (line_count(out) < 1 || !fs::exists(progress)); ++i) usleep(10 * 1000);
  int worker = 0;
  try {
    worker = nlohmann::json::parse(slurp(progress))["pid"].get<int>();
  } catch (const std::exception&) {
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  std::string log = slurp(err);
  EXPECT_EQ(WEXITSTATUS(status), 130) << log;
  EXPECT_NE(log.find("interrupted"), std::string::npos) << log;
  EXPECT_EQ(log.find("error:"), std::string::npos) << log;
  EXPECT_NE(worker, 0);
  EXPECT_NE(worker, pid);
  if (worker) {
    EXPECT_NE(kill(worker, 0), 0) << "the worker outlived its supervisor";
  }
  size_t done = line_count(out);
  EXPECT_GE(done, 1u);
  EXPECT_LT(done, 8u);
  CliRun rest = cli(args);
  EXPECT_EQ(rest.code, 0) << rest.err;
  auto l = ledger(out);
  EXPECT_EQ(l.size(), 8u);
  for (auto& [k, x] : l) EXPECT_EQ(x.count, 1) << k;
  EXPECT_FALSE(has_temporary(out));
  fs::remove(err);
  fs::remove(progress);
}
