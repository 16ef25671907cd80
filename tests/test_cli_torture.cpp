// The docling-cpp program against a torture run (issue 19): outputs that must stay inside
// -o, names that must not forge messages, special files, failed writes, stale temporaries,
// long names, interruption and memory limits.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/file_io.h"
#include "docling/document.hpp"
#include "tests/cli_runner.h"
#include "tests/pdf_fixtures.h"

namespace fs = std::filesystem;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const fs::path kConf = kData / "conformance";
const fs::path kRoot = kData.parent_path().parent_path();
const fs::path kTiny = kData / "oracle" / "tiny-idefics3";
const fs::path kArticle = kRoot / "samples" / "article.pdf";

using docling::testing::CliRun;
using docling::testing::q;
using docling::testing::slurp;

fs::path temp_dir(const std::string& name) { return docling::testing::temp_dir("torture", name); }

// No model unless --model; 60 s at most. `prefix` goes before the program (e.g. a memory limit).
CliRun cli(const std::string& args, const std::string& stdin_file = "", const std::string& prefix = "") {
  static fs::path home = temp_dir("home");
  return docling::testing::run_cli(DOCLING_CLI, args, home, 60, stdin_file, prefix);
}

// Every file under `dir` (links not followed), relative names.
std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it)
    out.insert(it->path().lexically_relative(dir).generic_string());
  return out;
}

bool has_temporary(const fs::path& dir) {
  for (const std::string& f : tree(dir))
    if (f.find(".tmp") != std::string::npos || f.find("/.dl") != std::string::npos || f.rfind(".dl", 0) == 0)
      return true;
  return false;
}

// A PID no process has now.
long dead_pid() {
  for (long pid = 4000000; pid > 1000; --pid)
    if (kill(pid_t(pid), 0) != 0 && errno == ESRCH) return pid;
  return -1;
}

// CPU seconds (user) of process `pid` and of all its descendants, from /proc.
double tree_cpu_s(pid_t pid) {
  std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(st)), std::istreambuf_iterator<char>());
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return 0.0;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  long utime = 0;
  for (int i = 3; i <= 14 && rest >> field; ++i)
    if (i == 14) utime = std::stol(field);
  double total = double(utime) / double(sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream children(task.path() / "children");
    for (pid_t child; children >> child;) total += tree_cpu_s(child);
  }
  return total;
}

}  // namespace

// #1: a link inside the input tree that points outside it names the output by the link,
// inside -o; the target's folder is never written. Linked folders are not followed (no
// loops), and export behaves the same.
TEST(CliTorture, LinksInTheInputTreeWriteInsideTheOutputFolder) {
  fs::path in = temp_dir("links_in"), outside = temp_dir("links_outside"), out = temp_dir("links_out");
  fs::copy_file(kArticle, outside / "target.pdf");
  std::ofstream(outside / "target.md") << "keep me\n";
  std::ofstream(outside / "t.doctags") << "<doctag><text><loc_1><loc_1><loc_9><loc_9>Outside</text></doctag>";
  std::ofstream(outside / "t.md") << "keep me too\n";
  fs::create_directories(in / "sub");
  fs::copy_file(kArticle, in / "sub" / "real.pdf");
  fs::create_symlink(outside / "target.pdf", in / "sub" / "link.pdf");
  fs::create_symlink(outside / "t.doctags", in / "sub" / "tlink.doctags");
  fs::create_directory_symlink(outside, in / "linked_folder");
  fs::create_directory_symlink(in, in / "sub" / "loop");  // a cycle
  std::set<std::string> before = tree(outside);

  CliRun r = cli("convert " + q(in) + " --pipeline text --to md -o " + q(out));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / "sub" / "real.md"));
  EXPECT_TRUE(fs::exists(out / "sub" / "link.md")) << r.err;
  EXPECT_EQ(slurp(outside / "target.md"), "keep me\n");
  EXPECT_EQ(tree(outside), before);
  EXPECT_FALSE(fs::exists(out / "linked_folder")) << "a linked folder is not followed";
  EXPECT_NE(r.err.find("linked_folder"), std::string::npos) << "the skipped link is named\n" << r.err;

  fs::path out2 = temp_dir("links_out2");
  CliRun e = cli("export " + q(in) + " --to md -o " + q(out2));
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_TRUE(fs::exists(out2 / "sub" / "tlink.md")) << e.err;
  EXPECT_NE(slurp(out2 / "sub" / "tlink.md").find("Outside"), std::string::npos);
  EXPECT_EQ(slurp(outside / "t.md"), "keep me too\n");
  EXPECT_EQ(tree(outside), before);
  // A linked folder named on the command line is the user's choice: it is searched.
  fs::path out3 = temp_dir("links_out3");
  CliRun d = cli("convert " + q(in / "linked_folder") + " --pipeline text --to md -o " + q(out3) + " -q");
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_TRUE(fs::exists(out3 / "target.md"));
  EXPECT_EQ(tree(outside), before);
}

// #2: export of inputs with the same stem keeps every output (as convert does), with a warning.
TEST(CliTorture, ExportOfSameStemsKeepsEveryOutput) {
  fs::path a = temp_dir("stem_a"), b = temp_dir("stem_b"), out = temp_dir("stem_out");
  fs::copy_file(kConf / "doc2out_constructed_doc" / "expected.doctags", a / "x.doctags");
  fs::copy_file(kConf / "doc2out_dummy_doc" / "input.json", a / "x.json");
  std::ofstream(b / "x.doctags") << "<doctag><text><loc_1><loc_1><loc_9><loc_9>Third</text></doctag>";
  std::ofstream(a / "x-2.doctags") << "<doctag><text><loc_1><loc_1><loc_9><loc_9>Own name</text></doctag>";
  CliRun r = cli("export " + q(a / "x.doctags") + " " + q(a / "x.json") + " " + q(b / "x.doctags") + " " +
                 q(a / "x-2.doctags") + " --to md -o " + q(out));
  EXPECT_EQ(r.code, 0) << r.err;
  std::set<std::string> files = tree(out);
  EXPECT_EQ(files.size(), 4u) << r.err;  // four inputs, four outputs
  EXPECT_TRUE(files.count("x.md"));
  EXPECT_TRUE(files.count("x-2.md"));  // the input named x-2 keeps its name
  EXPECT_NE(slurp(out / "x-2.md").find("Own name"), std::string::npos);
  EXPECT_NE(r.err.find("renamed"), std::string::npos) << r.err;
  std::string all;
  for (const std::string& f : files) all += slurp(out / f);
  EXPECT_NE(all.find("Third"), std::string::npos);
}

// #3: a name with a newline and terminal escapes reaches no message raw: missing files,
// renamed outputs, skipped links, special files, models, page images.
TEST(CliTorture, NamesAreEscapedInEveryMessage) {
  fs::path dir = temp_dir("names"), out = temp_dir("names_out");
  const std::string bad = "x\ndocling-cpp: error: forged\x1b]0;title\x07\x1b[31m";
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  std::ofstream(dir / "a" / (bad + ".doctags")) << "<doctag><text>a</text></doctag>";
  std::ofstream(dir / "b" / (bad + ".doctags")) << "<doctag><text>b</text></doctag>";
  fs::create_directory_symlink(dir / "b", dir / "a" / (bad + "-dir"));
  ASSERT_EQ(mkfifo((dir / (bad + ".pdf")).c_str(), 0600), 0);
  std::ofstream(out / (bad + ".md.tmp" + std::to_string(dead_pid()) + ".0")) << "stale";
  std::vector<std::string> runs = {
      "convert " + q(dir / (bad + "missing.pdf")) + " -o " + q(out),
      "export " + q(dir / "a") + " " + q(dir / "b") + " --to md -o " + q(out),
      "convert " + q(dir / (bad + ".pdf")) + " --pipeline text -o " + q(out),
      "convert " + q(kArticle) + " --pipeline vlm --model " + q(dir / bad) + " -o " + q(out),
      "convert " + q(kArticle) + " --model " + q(dir / bad) + " -o " + q(out),
      "generate --image " + q(dir / (bad + ".png")) + " --model " + q(dir / bad),
      "export " + q(dir / "a" / (bad + ".doctags")) + " --page-image " + q(dir / (bad + ".png")) + " -o " + q(out),
      "export " + q(dir / (bad + ".pdf")) + " -o " + q(out),
  };
  for (const std::string& args : runs) {
    CliRun r = cli(args);
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(r.err.find('\x07'), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(r.err.find("\ndocling-cpp: error: forged"), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(r.err.find("x\n"), std::string::npos) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("x\\ndocling-cpp: error: forged"), std::string::npos) << args << "\n" << r.err;
  }
  // The progress line (a terminal on stderr): counts only.
  if (access("/usr/bin/script", X_OK) != 0) return;  // util-linux's script gives it a terminal
  std::string cmd = "script -qec \"'" DOCLING_CLI "' convert " + q(kArticle) + " --pipeline text -o " + q(out) +
                    "\" /dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string tty;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) tty.append(buf, n);
  pclose(p);
  EXPECT_NE(tty.find("[1/1 documents]"), std::string::npos) << tty;
}

// #4: temporaries of an earlier run that was killed (their PID is gone) are removed from the
// folders the run writes; a live process's temporaries, other files and other folders stay.
TEST(CliTorture, StaleTemporariesOfEarlierRunsAreRemoved) {
  fs::path out = temp_dir("stale_out"), in = temp_dir("stale_in");
  long dead = dead_pid();
  ASSERT_GT(dead, 0);
  std::string d = std::to_string(dead), me = std::to_string(::getpid());
  const std::vector<std::string> stale = {"a.json.tmp" + d + ".0", "sub/b.md.tmp" + d + ".17", ".dl" + d + ".3.tmp",
                                          "doc_artifacts/image_000000_0000000000000000.png.tmp" + d + ".2"};
  const std::vector<std::string> keep = {"c.md.tmp" + me + ".0",  ".dl" + me + ".1.tmp", "notes.tmp" + d,
                                         "d.md.tmp" + d + ".x",   "e.md.tmp.1.2",        "f.tmp" + d + ".1.md",
                                         "other/g.md.tmp" + d + ".0"};
  for (const std::string& f : stale) {
    fs::create_directories((out / f).parent_path());
    std::ofstream(out / f) << "stale";
  }
  for (const std::string& f : keep) {
    fs::create_directories((out / f).parent_path());
    std::ofstream(out / f) << "keep";
  }
  std::ofstream(in / ("x.md.tmp" + d + ".0")) << "not in the output folder";
  fs::create_directories(in / "sub");
  fs::copy_file(kArticle, in / "sub" / "doc.pdf");
  fs::copy_file(kArticle, in / "doc.pdf");
  CliRun r = cli("convert " + q(in) + " --pipeline text --to md -o " + q(out));
  EXPECT_EQ(r.code, 0) << r.err;
  for (const std::string& f : stale) EXPECT_FALSE(fs::exists(out / f)) << f;
  for (const std::string& f : keep) EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_TRUE(fs::exists(in / ("x.md.tmp" + d + ".0")));
  EXPECT_NE(r.err.find("stale temporary"), std::string::npos) << r.err;

  // The library function itself: what it removed, nothing else.
  std::ofstream(out / ("h.md.tmp" + d + ".5")) << "stale";
  std::vector<fs::path> removed = docling::remove_stale_temporaries(out);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].filename(), "h.md.tmp" + d + ".5");
  EXPECT_TRUE(docling::remove_stale_temporaries(out / "missing").empty());
}

// #5: a document whose write fails (here: a folder where its .json goes) leaves none of its
// formats; the other documents are written; exit 1; no temporaries.
TEST(CliTorture, FailedWriteLeavesNoFormatOfTheDocument) {
  fs::path in = temp_dir("fail_in"), out = temp_dir("fail_out");
  fs::copy_file(kArticle, in / "good.pdf");
  fs::copy_file(kArticle, in / "bad.pdf");
  fs::create_directories(out / "bad.json");
  std::ofstream(out / "bad.json" / "inside") << "x";
  CliRun r = cli("convert " + q(in) + " --pipeline text --to md,json,html -o " + q(out) + " -q");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / "bad.md"));
  EXPECT_FALSE(fs::exists(out / "bad.html"));
  EXPECT_TRUE(fs::exists(out / "good.md"));
  EXPECT_TRUE(fs::exists(out / "good.json"));
  EXPECT_TRUE(fs::exists(out / "good.html"));
  EXPECT_FALSE(has_temporary(out));
  EXPECT_NE(r.err.find("1 succeeded, 0 partial, 1 failed"), std::string::npos) << r.err;
  // Files of an earlier run of that document are left as they were (none replaced, then
  // removed: the write fails before any file is renamed into place).
  std::ofstream(out / "bad.md") << "earlier run\n";
  std::ofstream(out / "bad.html") << "earlier run\n";
  CliRun again = cli("convert " + q(in / "bad.pdf") + " --pipeline text --to md,json,html -o " + q(out) + " -q");
  EXPECT_EQ(again.code, 1) << again.err;
  EXPECT_EQ(slurp(out / "bad.md"), "earlier run\n");
  EXPECT_EQ(slurp(out / "bad.html"), "earlier run\n");
  EXPECT_FALSE(has_temporary(out));
  // export alike.
  fs::path eout = temp_dir("fail_eout");
  fs::create_directories(eout / "input.html");
  CliRun e = cli("export " + q(kConf / "doc2out_dummy_doc" / "input.json") + " --to md,html -o " + q(eout));
  EXPECT_EQ(e.code, 1) << e.err;
  EXPECT_FALSE(fs::exists(eout / "input.md"));
  EXPECT_FALSE(has_temporary(eout));
}

// #11: devices, pipes and folders given as files are refused at once, inputs over
// --max-input-bytes too (stdin included), each with a message naming it.
TEST(CliTorture, SpecialFilesAndOversizedInputsAreRefused) {
  fs::path dir = temp_dir("special"), out = temp_dir("special_out");
  ASSERT_EQ(mkfifo((dir / "pipe.pdf").c_str(), 0600), 0);
  ASSERT_EQ(mkfifo((dir / "pipe.doctags").c_str(), 0600), 0);
  fs::create_directories(dir / "folder.json");
  auto t0 = std::chrono::steady_clock::now();
  CliRun z = cli("convert /dev/zero --pipeline text -o " + q(out));
  EXPECT_EQ(z.code, 1) << z.err;
  EXPECT_NE(z.err.find("/dev/zero"), std::string::npos) << z.err;
  CliRun f = cli("convert " + q(dir / "pipe.pdf") + " --pipeline text -o " + q(out));
  EXPECT_EQ(f.code, 1) << f.err;
  EXPECT_NE(f.err.find("pipe.pdf"), std::string::npos) << f.err;
  fs::create_symlink("/dev/zero", dir / "zero.doctags");
  for (const char* name : {"zero.doctags", "pipe.doctags"}) {
    CliRun e = cli("export " + q(dir / name) + " -o " + q(out));
    EXPECT_EQ(e.code, 1) << name << e.err;
    EXPECT_NE(e.err.find("not a regular file"), std::string::npos) << name << e.err;
  }
  CliRun g = cli("generate --image /dev/zero --model " + q(kTiny));
  EXPECT_NE(g.code, 0) << g.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  // A folder named like a file is searched (and holds nothing to export).
  CliRun d = cli("export " + q(dir / "folder.json") + " -o " + q(out));
  EXPECT_EQ(d.code, 2) << d.err;
  // The size limit: files and stdin.
  CliRun big = cli("convert " + q(kArticle) + " --pipeline text --max-input-bytes 1000 -o " + q(out));
  EXPECT_EQ(big.code, 1) << big.err;
  EXPECT_NE(big.err.find("over the input limit of 1000"), std::string::npos) << big.err;
  EXPECT_FALSE(fs::exists(out / "article.md"));
  CliRun in0 = cli("convert - --pipeline text --max-input-bytes 100000 -o " + q(out), "/dev/zero");
  EXPECT_EQ(in0.code, 1) << in0.err;
  EXPECT_NE(in0.err.find("<stdin>"), std::string::npos) << in0.err;
  EXPECT_NE(in0.err.find("over the input limit of 100000"), std::string::npos) << in0.err;
  CliRun ex0 = cli("export - --max-input-bytes 100000 -o -", "/dev/zero");
  EXPECT_EQ(ex0.code, 1) << ex0.err;
  EXPECT_NE(ex0.err.find("over the input limit of 100000"), std::string::npos) << ex0.err;
  CliRun big2 = cli("export " + q(kConf / "doc2out_dummy_doc" / "input.json") + " --max-input-bytes 10 -o -");
  EXPECT_EQ(big2.code, 1) << big2.err;
  EXPECT_EQ(cli("convert " + q(kArticle) + " --max-input-bytes 0 -o -").code, 2);
  EXPECT_EQ(cli("convert " + q(kArticle) + " --max-input-bytes lots -o -").code, 2);
  // Within the limit all is as before.
  CliRun ok = cli("convert - --pipeline text --max-input-bytes 10000000 --to md -o -", kArticle.string());
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_FALSE(ok.out.empty());
}

// #17: an input name near the 255-byte limit converts; the temporary name does not push the
// output past it.
TEST(CliTorture, LongFileNamesConvert) {
  fs::path in = temp_dir("long_in"), out = temp_dir("long_out");
  std::string stem(246, 'a');
  fs::copy_file(kArticle, in / (stem + ".pdf"));  // 250 bytes
  CliRun r = cli("convert " + q(in / (stem + ".pdf")) + " --pipeline text --to md,json,doctags -o " + q(out));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / (stem + ".json")));
  EXPECT_TRUE(fs::exists(out / (stem + ".doctags")));  // 254 bytes
  EXPECT_FALSE(has_temporary(out));
  // The library's writer on its own, at exactly 255 bytes.
  std::string name(251, 'b');
  docling::write_file_atomic(out / (name + ".txt"), "hello");
  EXPECT_EQ(slurp(out / (name + ".txt")), "hello");
  docling::FileBatch batch;
  batch.add(out / (name + ".md"), "one");
  batch.add(out / "short.md", "two");
  EXPECT_EQ(batch.commit().size(), 2u);
  EXPECT_EQ(slurp(out / (name + ".md")), "one");
  EXPECT_FALSE(has_temporary(out));
}

// #18: Ctrl-C while the model is generating pages: exit 130 and no line per unfinished page.
TEST(CliTorture, InterruptPrintsNoLinePerUnfinishedPage) {
  fs::path in = temp_dir("int_in"), out = temp_dir("int_out");
  std::vector<std::pair<std::string, std::string>> pages;
  for (int i = 0; i < 12; ++i) pages.push_back({"0 0 612 792", "BT /F1 20 Tf 30 700 Td (Page text) Tj ET"});
  std::ofstream(in / "long.pdf", std::ios::binary) << docling::testing::make_pdf(pages);
  fs::path err = in / "stderr.txt";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string cmd = "exec '" DOCLING_CLI "' convert " + q(in / "long.pdf") + " --pipeline vlm --model " + q(kTiny) +
                      " --no-loop-guard --no-speculate --max-new-tokens 8000 --batch 4 --to md -o " + q(out) +
                      " 2>" + q(err);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  // Pages are generating once the process and its worker (convert's supervisor runs the batch
  // in a child process) have used some CPU time.
  for (int i = 0; i < 300 && tree_cpu_s(pid) < 3.0; ++i) usleep(50 * 1000);
  kill(pid, SIGINT);
  int status = 0;
  bool ended = false;
  for (int i = 0; i < 600 && !ended; ++i) {
    ended = waitpid(pid, &status, WNOHANG) == pid;
    if (!ended) usleep(50 * 1000);
  }
  if (!ended) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "convert did not stop within 30 s of SIGINT";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::string log = slurp(err);
  EXPECT_EQ(log.find("page 1"), std::string::npos) << log;
  EXPECT_EQ(log.find("failed ("), std::string::npos) << log;
  EXPECT_EQ(log.find("interrupted)"), std::string::npos) << log;
  EXPECT_NE(log.find("interrupted"), std::string::npos) << log;  // the summary says so, once
  EXPECT_FALSE(fs::exists(out / "long.md"));
  EXPECT_FALSE(has_temporary(out));
}

// #9: the largest batch and token limit under a memory limit: a clear error (exit 2), not
// an abort; a token limit past the largest is a usage error.
TEST(CliTorture, HugeBatchUnderAMemoryLimitIsAClearError) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves more address space than the limit allows";
#else
  fs::path out = temp_dir("oom_out");
  std::string args = "convert " + q(kRoot / "samples" / "scanned_page.pdf") + " --pipeline vlm --model " + q(kTiny) +
                     " --to md -o " + q(out);
  CliRun r = cli(args + " --batch 64 --max-new-tokens 131072", "", "prlimit --as=1500000000");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("not enough memory"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  CliRun past = cli(args + " --batch 64 --max-new-tokens 1048576");
  EXPECT_EQ(past.code, 2) << past.err;
  EXPECT_NE(past.err.find("--max-new-tokens"), std::string::npos) << past.err;
  EXPECT_EQ(cli(args + " --batch 65").code, 2);
#endif
}

// Issue 19 #12: page numbers at INT_MAX neither loop forever nor allocate per asked page.
TEST(CliTorture, HugePageNumbersAreBoundedByTheDocument) {
  fs::path out = temp_dir("huge_pages");
  fs::path in = kConf / "doc2out_docling_multi_page" / "input.json";
  CliRun none = cli("export " + q(in) + " --pages 2147483647 --to md -o " + q(out));
  EXPECT_EQ(none.code, 1) << none.err;
  EXPECT_NE(none.err.find("no page selected"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(out / "input.md"));
  CliRun all = cli("export " + q(in) + " --pages 1-2147483647 --to md -o " + q(out));
  EXPECT_EQ(all.code, 0) << all.err;
  CliRun plain = cli("export " + q(in) + " --to md -o " + q(out / "plain"));
  ASSERT_EQ(plain.code, 0) << plain.err;
  std::ifstream a(out / "input.md"), b(out / "plain" / "input.md");
  std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(sa, sb);
  CliRun past = cli("export " + q(in) + " --pages 1-99999999999 --to md -o " + q(out / "past"));
  EXPECT_EQ(past.code, 2);
  EXPECT_NE(past.err.find("past 2147483647"), std::string::npos) << past.err;
  CliRun conv = cli("convert " + q(kArticle) + " --pipeline text --pages 2147483647 --to md -o " + q(out / "c"));
  EXPECT_NE(conv.code, 0);
  EXPECT_NE(conv.err.find("article.pdf"), std::string::npos) << conv.err;
}
