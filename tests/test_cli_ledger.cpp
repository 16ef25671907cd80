// Batches that survive: the ledger (lines, torn tails, the lock), resume and --redo-failed,
// shards (a stable partition; two shards into one folder), --from-list, status, signals and
// --progress-json. Ledger and shard code is compiled in (plain C++); the rest runs the CLI.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/ledger.cpp"
#include "cli/shard.cpp"
#include "tests/cli_runner.h"

namespace fs = std::filesystem;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const fs::path kRoot = kData.parent_path().parent_path();

using docling::testing::CliRun;
using docling::testing::q;
using docling::testing::slurp;

fs::path temp_dir(const std::string& name) { return docling::testing::temp_dir("cli_ledger", name); }

CliRun cli(const std::string& args, const std::string& env = "", const std::string& stdin_file = "") {
  static fs::path home = temp_dir("home");
  return docling::testing::run_cli(DOCLING_CLI, args, home, 300, stdin_file, env);
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

// A folder of small PDFs from the test data under several names (and one nested folder).
fs::path corpus(const std::string& name, int copies) {
  fs::path dir = temp_dir(name);
  std::vector<fs::path> pdfs;
  for (auto& e : fs::directory_iterator(kData / "pdfs"))
    if (e.path().extension() == ".pdf") pdfs.push_back(e.path());
  std::sort(pdfs.begin(), pdfs.end());
  for (int c = 0; c < copies; ++c)
    for (const fs::path& p : pdfs) {
      fs::path to = dir / (c % 2 ? "sub" : "") / (p.stem().string() + "-" + std::to_string(c) + ".pdf");
      fs::create_directories(to.parent_path());
      fs::copy_file(p, to);
    }
  return dir;
}

// coreutils' sha256sum: the ledger's hash must be the standard one.
std::string sha256sum(const fs::path& file) {
  FILE* p = popen(("sha256sum " + q(file)).c_str(), "r");
  char buf[65] = {};
  size_t n = p ? fread(buf, 1, 64, p) : 0;
  if (p) pclose(p);
  return std::string(buf, n);
}

std::vector<dcli::LedgerEntry> ledger(const fs::path& file) {
  dcli::LedgerRead r = dcli::read_ledger(file);
  EXPECT_EQ(r.bad_lines, 0) << file;
  EXPECT_FALSE(r.torn_tail) << file;
  return r.entries;
}

dcli::LedgerEntry sample_entry(const std::string& input) {
  dcli::LedgerEntry e;
  e.input = input;
  e.size = 1234;
  e.sha256 = std::string(64, 'a');
  e.status = "PARTIAL";
  e.pages_ok = 3;
  e.pages_failed = 1;
  e.errors = {{2, "x.pdf: page 2: no text layer"}};
  e.outputs = {"x.json", "x.md"};
  e.seconds = 1.25;
  e.finished = 1700000000.5;
  e.version = "0.2.0";
  e.settings = "0123456789abcdef";
  return e;
}

}  // namespace

// --- shards -------------------------------------------------------------------------------------

TEST(Shard, Fnv1aIsTheStandardFunction) {
  // Published FNV-1a 64-bit test vectors: the partition must not depend on the machine.
  EXPECT_EQ(dcli::fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(dcli::fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(dcli::fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Shard, EveryKeyInExactlyOneShard) {
  for (int n : {1, 2, 3, 7, 16}) {
    std::vector<int> per(n, 0);
    for (int k = 0; k < 2000; ++k) {
      std::string key = "dir" + std::to_string(k % 13) + "/file-" + std::to_string(k) + ".pdf";
      int owners = 0;
      for (int i = 0; i < n; ++i)
        if (dcli::owns({i, n}, key)) ++owners, ++per[i];
      ASSERT_EQ(owners, 1) << key << " over " << n;
    }
    for (int i = 0; i < n; ++i) {  // balanced enough that no machine idles
      EXPECT_GT(per[i], 2000 / n / 2) << i << "/" << n;
      EXPECT_LT(per[i], 2000 / n * 3 / 2) << i << "/" << n;
    }
  }
}

TEST(Shard, ParsedFromFlagAndEnvironment) {
  dcli::Shard s = dcli::parse_shard("2/5");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.label(), "2-of-5");
  EXPECT_EQ(dcli::parse_shard("0/1").label(), "");
  for (const char* bad : {"5/5", "-1/3", "1/0", "x", "1/", "/2", "1/2/3", "1.5/4"})
    EXPECT_THROW(dcli::parse_shard(bad), std::invalid_argument) << bad;

  std::map<std::string, std::string> env;
  auto get = [&env](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_FALSE(dcli::shard_from_environment(get, 0));
  env = {{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}};
  auto a = dcli::shard_from_environment(get, 0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->index, 3);
  EXPECT_EQ(a->count, 4);
  // sbatch --array=1-4: ids start at 1.
  env = {{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "4"}};
  auto b = dcli::shard_from_environment(get, 0);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->index, 0);
  EXPECT_EQ(b->count, 4);
  env = {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}};
  EXPECT_THROW(dcli::shard_from_environment(get, 0), std::invalid_argument);
  env = {{"SLURM_ARRAY_TASK_ID", "1"}};
  EXPECT_THROW(dcli::shard_from_environment(get, 0), std::invalid_argument);
  env = {{"JOB_COMPLETION_INDEX", "2"}};
  EXPECT_THROW(dcli::shard_from_environment(get, 0), std::invalid_argument);  // the count is not in the pod
  auto k = dcli::shard_from_environment(get, 3);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->index, 2);
  EXPECT_EQ(k->count, 3);
  EXPECT_THROW(dcli::shard_from_environment(get, 2), std::invalid_argument);
}

// --- the ledger file ----------------------------------------------------------------------------

TEST(Ledger, LinesRoundTrip) {
  dcli::LedgerEntry e = sample_entry("a/b c.pdf");
  std::string line = dcli::to_line(e);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  auto back = dcli::from_line(line.substr(0, line.size() - 1));
  ASSERT_TRUE(back);
  EXPECT_EQ(dcli::to_line(*back), line);
  EXPECT_FALSE(dcli::from_line("{\"input\":\"x\"}"));
  EXPECT_FALSE(dcli::from_line("not json"));
  EXPECT_FALSE(dcli::from_line(std::string(100000, '[')));
  // A name that is not UTF-8 still makes a valid line, and looks itself up the same way.
  dcli::LedgerEntry odd = sample_entry(dcli::json_key("bad\xff name.pdf"));
  auto o = dcli::from_line(dcli::to_line(odd));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->input, dcli::json_key("bad\xff name.pdf"));
}

TEST(Ledger, TornLastLineIsSkippedThenCut) {
  fs::path dir = temp_dir("torn");
  fs::path file = dir / dcli::ledger_file_name("");
  {
    dcli::LedgerWriter w;
    EXPECT_EQ(w.open(file), 0u);
    w.append(sample_entry("one.pdf"));
    w.append(sample_entry("two.pdf"));
  }
  std::string whole = dcli::to_line(sample_entry("three.pdf"));
  {
    std::ofstream f(file, std::ios::app | std::ios::binary);
    f << whole.substr(0, whole.size() / 2);  // what a crash in mid-write leaves
  }
  dcli::LedgerRead r = dcli::read_ledger(file);
  EXPECT_EQ(r.entries.size(), 2u);
  EXPECT_TRUE(r.torn_tail);
  EXPECT_EQ(r.bad_lines, 0);
  {
    dcli::LedgerWriter w;
    EXPECT_EQ(w.open(file), whole.size() / 2);
    w.append(sample_entry("three.pdf"));
  }
  std::vector<dcli::LedgerEntry> all = ledger(file);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].input, "three.pdf");
  // A file holding only a torn line is cut to nothing.
  fs::path lone = dir / dcli::ledger_file_name("0-of-2");
  std::ofstream(lone) << "{\"input\":";
  dcli::LedgerWriter w;
  EXPECT_EQ(w.open(lone), 9u);
  EXPECT_EQ(fs::file_size(lone), 0u);
  EXPECT_EQ(dcli::find_ledgers(dir).size(), 2u);
}

TEST(Ledger, OneWriterPerLedger) {
  fs::path file = temp_dir("lock") / dcli::ledger_file_name("");
  dcli::LedgerWriter a, b;
  a.open(file);
  try {
    b.open(file);
    FAIL() << "a second writer got the lock";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("another run"), std::string::npos) << e.what();
  }
}

// --- convert with a ledger ----------------------------------------------------------------------

TEST(CliLedger, RerunSkipsWhatIsDoneAndRedoesWhatChanged) {
  fs::path in = corpus("resume_in", 2), out = temp_dir("resume_out");
  fs::path file = out / "docling-cpp.ledger.jsonl";
  std::string base = "convert " + q(in) + " -o " + q(out) + " --pipeline text --to md,json";
  CliRun r1 = cli(base);
  EXPECT_EQ(r1.code, 0) << r1.err;
  std::vector<dcli::LedgerEntry> first = ledger(file);
  ASSERT_EQ(first.size(), 16u);
  std::set<std::string> inputs;
  for (const dcli::LedgerEntry& e : first) {
    inputs.insert(e.input);
    EXPECT_EQ(e.sha256, sha256sum(in / e.input)) << e.input;
    EXPECT_EQ(e.size, fs::file_size(in / e.input));
    EXPECT_EQ(e.outputs.size(), 2u);
    for (const std::string& o : e.outputs) EXPECT_TRUE(fs::exists(out / o)) << o;
    EXPECT_NE(e.status, "FAILURE");
  }
  EXPECT_EQ(inputs.size(), 16u);
  EXPECT_TRUE(inputs.count("sub/multi_page-1.pdf"));

  CliRun r2 = cli(base);  // resume is the default: nothing left
  EXPECT_EQ(r2.code, 0) << r2.err;
  EXPECT_NE(r2.err.find("16 already done"), std::string::npos) << r2.err;
  EXPECT_EQ(ledger(file).size(), 16u);

  // Changed bytes, and lost outputs, are converted again; the rest is not.
  fs::copy_file(kData / "pdfs" / "normal_4pages.pdf", in / "multi_page-0.pdf", fs::copy_options::overwrite_existing);
  fs::remove(out / "sub" / "code_and_formula-1.md");
  CliRun r3 = cli(base);
  EXPECT_EQ(r3.code, 0) << r3.err;
  std::vector<dcli::LedgerEntry> third = ledger(file);
  ASSERT_EQ(third.size(), 18u);
  std::set<std::string> redone{third[16].input, third[17].input};
  EXPECT_EQ(redone, (std::set<std::string>{"multi_page-0.pdf", "sub/code_and_formula-1.pdf"}));
  EXPECT_TRUE(fs::exists(out / "sub" / "code_and_formula-1.md"));

  // Other settings change the output: everything again. --no-resume: everything again.
  EXPECT_EQ(cli(base + " --md-compact-tables").code, 0);
  EXPECT_EQ(ledger(file).size(), 34u);
  EXPECT_EQ(cli(base + " --md-compact-tables --no-resume").code, 0);
  EXPECT_EQ(ledger(file).size(), 50u);
  EXPECT_NE(ledger(file)[49].settings, third[0].settings);
  EXPECT_EQ(cli(base + " --resume --no-resume").code, 2);
}

TEST(CliLedger, FailuresAreRecordedAndRedoneOnlyWhenAsked) {
  fs::path in = temp_dir("fail_in"), out = temp_dir("fail_out");
  fs::copy_file(kData / "pdfs" / "multi_page.pdf", in / "good.pdf");
  std::ofstream(in / "broken.pdf") << "%PDF-1.4 this is not a PDF";
  std::ofstream(in / "empty.pdf");
  std::string base = "convert " + q(in) + " -o " + q(out) + " --pipeline text -q";
  CliRun r1 = cli(base);
  EXPECT_EQ(r1.code, 1) << r1.err;
  std::vector<dcli::LedgerEntry> l = ledger(out / "docling-cpp.ledger.jsonl");
  ASSERT_EQ(l.size(), 3u);
  int failures = 0;
  for (const dcli::LedgerEntry& e : l) {
    if (e.status != "FAILURE") continue;
    ++failures;
    EXPECT_TRUE(e.outputs.empty());
    ASSERT_FALSE(e.errors.empty());
    EXPECT_NE(e.errors[0].reason.find(e.input), std::string::npos) << e.errors[0].reason;  // names the file
  }
  EXPECT_EQ(failures, 2);
  // A plain rerun does not try broken files again, and exits as the archive stands (1: some
  // documents failed), as the first run did; status says what failed and why.
  CliRun r2 = cli(base);
  EXPECT_EQ(r2.code, 1) << r2.err;
  EXPECT_NE(r2.err.find("3 already done (2 of them failed"), std::string::npos) << r2.err;
  EXPECT_EQ(ledger(out / "docling-cpp.ledger.jsonl").size(), 3u);
  CliRun st = cli("status " + q(out));
  EXPECT_EQ(st.code, 1) << st.out << st.err;
  EXPECT_NE(st.out.find("1 succeeded, 0 partial, 2 failed"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("FAILURE broken.pdf: "), std::string::npos) << st.out;
  // --redo-failed: the two failures, nothing else.
  CliRun r3 = cli(base + " --redo-failed");
  EXPECT_EQ(r3.code, 1) << r3.err;
  l = ledger(out / "docling-cpp.ledger.jsonl");
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ((std::set<std::string>{l[3].input, l[4].input}), (std::set<std::string>{"broken.pdf", "empty.pdf"}));
  // Fixed by the user: the new bytes convert on a plain rerun.
  fs::copy_file(kData / "pdfs" / "multi_page.pdf", in / "broken.pdf", fs::copy_options::overwrite_existing);
  EXPECT_EQ(cli(base).code, 1);  // empty.pdf still fails
  l = ledger(out / "docling-cpp.ledger.jsonl");
  ASSERT_EQ(l.size(), 6u);
  EXPECT_EQ(l[5].input, "broken.pdf");
  EXPECT_EQ(l[5].status, "SUCCESS");
  CliRun j = cli("status --json " + q(out) + " --inputs " + q(in));
  auto s = nlohmann::json::parse(j.out);
  EXPECT_EQ(s["success"], 2);
  EXPECT_EQ(s["failure"].size(), 1u);
  EXPECT_EQ(s["missing"].size(), 0u);
  EXPECT_EQ(j.code, 1);
}

TEST(CliLedger, TornLedgerIsRepairedByTheNextRun) {
  fs::path in = corpus("torn_in", 1), out = temp_dir("torn_out");
  fs::path file = out / "docling-cpp.ledger.jsonl";
  std::string base = "convert " + q(in) + " -o " + q(out) + " --pipeline text -q";
  ASSERT_EQ(cli(base).code, 0);
  std::vector<std::string> lines = lines_of(slurp(file));
  ASSERT_EQ(lines.size(), 8u);
  // The last line cut in half, as a crash in mid-append would leave it.
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) text += lines[i] + "\n";
  text += lines.back().substr(0, 40);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  EXPECT_TRUE(dcli::read_ledger(file).torn_tail);
  CliRun r = cli(base);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("torn last line (40 bytes)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("7 already done"), std::string::npos) << r.err;  // the torn one is done again
  EXPECT_EQ(ledger(file).size(), 8u);
}

// --- shards, lists, status ----------------------------------------------------------------------

std::set<std::string> dry_run(const std::string& args, const std::string& env = "") {
  CliRun r = cli(args + " --dry-run", env);
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<std::string> l = lines_of(r.out);
  std::set<std::string> s(l.begin(), l.end());
  EXPECT_EQ(s.size(), l.size());
  return s;
}

TEST(CliLedger, ShardsPartitionTheInputs) {
  fs::path in = corpus("part_in", 5), out = temp_dir("part_out");
  std::string base = "convert " + q(in) + " -o " + q(out) + " --pipeline text";
  std::set<std::string> all = dry_run(base);
  ASSERT_EQ(all.size(), 40u);
  for (int n : {2, 3, 7}) {
    std::set<std::string> seen;
    for (int i = 0; i < n; ++i) {
      std::set<std::string> part = dry_run(base + " --shard " + std::to_string(i) + "/" + std::to_string(n));
      for (const std::string& k : part) EXPECT_TRUE(seen.insert(k).second) << k << " in two shards of " << n;
    }
    EXPECT_EQ(seen, all) << n;
  }
  // The schedulers' variables give the same shards.
  EXPECT_EQ(dry_run(base, "SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_MAX=6"),
            dry_run(base + " --shard 1/3"));
  EXPECT_EQ(dry_run(base, "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3"), dry_run(base + " --shard 1/3"));
  EXPECT_EQ(dry_run(base + " --shards 3", "JOB_COMPLETION_INDEX=2"), dry_run(base + " --shard 2/3"));
  EXPECT_EQ(cli(base + " --shards 3 --dry-run").code, 2);
  EXPECT_EQ(cli(base + " --shard 3/3").code, 2);
  EXPECT_EQ(cli(base + " --dry-run", "JOB_COMPLETION_INDEX=1").code, 2);
}

TEST(CliLedger, TwoShardsShareOneFolder) {
  fs::path in = corpus("two_in", 4), out = temp_dir("two_out");
  std::string base = "'" DOCLING_CLI "' convert " + q(in) + " -o " + q(out) + " --pipeline text --to md,json -q";
  // Both at once, as two array tasks would run.
  std::string cmd = "cd " + q(out.parent_path()) + " && (" + base + " --shard 0/2 2>/dev/null & " + base +
                    " --shard 1/2 2>/dev/null & wait)";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::vector<dcli::LedgerEntry> a = ledger(out / "docling-cpp.ledger.0-of-2.jsonl");
  std::vector<dcli::LedgerEntry> b = ledger(out / "docling-cpp.ledger.1-of-2.jsonl");
  EXPECT_FALSE(fs::exists(out / "docling-cpp.ledger.jsonl"));
  EXPECT_FALSE(a.empty());
  EXPECT_FALSE(b.empty());
  std::set<std::string> keys;
  for (const auto* l : {&a, &b})
    for (const dcli::LedgerEntry& e : *l) {
      EXPECT_TRUE(keys.insert(e.input).second) << e.input << " converted by both shards";
      for (const std::string& o : e.outputs) EXPECT_TRUE(fs::exists(out / o)) << o;
    }
  EXPECT_EQ(keys.size(), 32u);
  CliRun st = cli("status " + q(out) + " --inputs " + q(in));
  EXPECT_EQ(st.code, 0) << st.out << st.err;
  EXPECT_NE(st.out.find("32 document(s) in 2 ledger(s)"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find(", 0 missing"), std::string::npos) << st.out;
  // A shard rerun finds its work done; unsharded, the whole folder is done too.
  CliRun again = cli("convert " + q(in) + " -o " + q(out) + " --pipeline text --to md,json");
  EXPECT_NE(again.err.find("32 already done"), std::string::npos) << again.err;
}

TEST(CliLedger, FromListKeepsPathsAndStatusFindsMissing) {
  fs::path in = corpus("list_in", 2), out = temp_dir("list_out");
  fs::path list = out.parent_path() / ("list_" + std::to_string(getpid()) + ".txt");
  {
    std::ofstream l(list);
    l << "# a comment, then a blank line\n\n";
    l << (in / "multi_page-0.pdf").string() << "\n" << (in / "sub" / "normal_4pages-1.pdf").string() << "\r\n";
  }
  CliRun r = cli("convert --from-list - -o " + q(out) + " --pipeline text -q", "", list.string());
  EXPECT_EQ(r.code, 0) << r.err;
  // Absolute entries keep their whole path below OUTDIR (no two collide).
  fs::path rel = in.relative_path();
  EXPECT_TRUE(fs::exists(out / rel / "multi_page-0.md")) << r.err;
  EXPECT_TRUE(fs::exists(out / rel / "sub" / "normal_4pages-1.md"));
  EXPECT_EQ(ledger(out / "docling-cpp.ledger.jsonl").size(), 2u);
  CliRun st = cli("status " + q(out) + " --from-list " + q(list));
  EXPECT_EQ(st.code, 0) << st.out;
  std::ofstream(list, std::ios::app) << (in / "ocr_test-0.pdf").string() << "\n";
  st = cli("status " + q(out) + " --from-list " + q(list));
  EXPECT_EQ(st.code, 1) << st.out;
  EXPECT_NE(st.out.find("MISSING " + (rel / "ocr_test-0.pdf").generic_string()), std::string::npos) << st.out;
  EXPECT_EQ(cli("convert --from-list " + q(list / "nope") + " -o " + q(out)).code, 2);
  EXPECT_EQ(cli("status " + q(in)).code, 2);  // no ledger there
  fs::remove(list);
}

// --- signals and progress -----------------------------------------------------------------------

// SIGTERM (or Ctrl-C) in a batch: new documents are not started, the ledger stays whole, and
// cancelled documents say nothing (no per-page errors); the next run finishes the rest.
TEST(CliLedger, TerminateLeavesAConsistentLedger) {
  fs::path in = corpus("term_in", 24), out = temp_dir("term_out");
  fs::path err = out.parent_path() / ("term_err_" + std::to_string(getpid()) + ".txt");
  fs::path progress = out.parent_path() / ("term_progress_" + std::to_string(getpid()) + ".json");
  std::string args = "convert " + q(in) + " -o " + q(out) + " --pipeline text --to md,json --threads 1 --progress-json " +
                     q(progress);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string cmd = "exec '" DOCLING_CLI "' " + args + " 2>" + q(err);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
    _exit(127);
  }
  fs::path file = out / "docling-cpp.ledger.jsonl";
  for (int i = 0; i < 2000 && lines_of(slurp(file)).size() < 5; ++i) usleep(5 * 1000);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  std::string log = slurp(err);
  std::vector<dcli::LedgerEntry> l = ledger(file);
  if (l.size() == 192u) GTEST_SKIP() << "the batch ended before the signal";
  EXPECT_EQ(WEXITSTATUS(status), 130) << log;
  EXPECT_NE(log.find("interrupted"), std::string::npos) << log;
  EXPECT_EQ(log.find("error:"), std::string::npos) << log;
  EXPECT_GE(l.size(), 5u);
  for (const dcli::LedgerEntry& e : l)
    for (const std::string& o : e.outputs) EXPECT_TRUE(fs::exists(out / o)) << o;
  auto p = nlohmann::json::parse(slurp(progress));
  EXPECT_EQ(p["state"], "interrupted");
  EXPECT_EQ(p["documents"]["done"], int(l.size()));
  // The rest, and nothing twice.
  CliRun rest = cli(args);
  EXPECT_EQ(rest.code, 0) << rest.err;
  l = ledger(file);
  std::set<std::string> keys;
  for (const dcli::LedgerEntry& e : l) EXPECT_TRUE(keys.insert(e.input).second) << e.input;
  EXPECT_EQ(keys.size(), 192u);
  p = nlohmann::json::parse(slurp(progress));
  EXPECT_EQ(p["state"], "finished");
  EXPECT_EQ(p["documents"]["total"], 192);
  EXPECT_EQ(p["documents"]["skipped"].get<int>() + p["documents"]["done"].get<int>(), 192);
  EXPECT_GT(p["pages_done"].get<int>(), 0);
  fs::remove(err);
  fs::remove(progress);
}
