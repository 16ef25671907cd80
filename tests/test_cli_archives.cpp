// Archives as inputs (issue 15): .zip, .tar, .tar.gz, .tar.zst and .tar.xz members converted
// as the extracted files would be, keyed "archive/member" in the ledger; resume, shards and
// status over members; hostile member names and links never followed or written outside the
// output folder; damaged archives and members over the cap fail alone. The archives are made
// here with tar, zstd and python3's zipfile/tarfile, then the CLI runs on them.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

// GCC 12 warns about q()'s `"'" + string` once inlined here (a false positive, GCC bug 105329).
#pragma GCC diagnostic ignored "-Wrestrict"
#include "tests/cli_runner.h"

namespace fs = std::filesystem;

namespace {

const fs::path kData = DOCLING_TEST_DATA;
const fs::path kRoot = kData.parent_path().parent_path();

using docling::testing::CliRun;
using docling::testing::q;
using docling::testing::slurp;

fs::path temp_dir(const std::string& name) { return docling::testing::temp_dir("cli_archives", name); }

CliRun cli(const std::string& args) {
  static fs::path home = temp_dir("home");
  return docling::testing::run_cli(DOCLING_CLI, args, home, 300, "", "env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX");
}

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

bool have(const std::string& program) { return sh("command -v " + program + " >/dev/null 2>&1") == 0; }

// Runs a python3 script (archives with names tar(1) would refuse to write).
int python(const fs::path& dir, const std::string& script) {
  fs::path file = dir / "make.py";
  std::ofstream(file) << script;
  return sh("cd " + q(dir) + " && python3 " + q(file));
}

// A tree of PDFs: the samples and test PDFs, some in a subfolder, one renamed with a space.
fs::path tree(const fs::path& dir) {
  fs::path t = dir / "tree";
  fs::create_directories(t / "sub" / "deeper");
  fs::copy_file(kRoot / "samples" / "article.pdf", t / "article.pdf");
  fs::copy_file(kRoot / "samples" / "report.pdf", t / "sub" / "report.pdf");
  fs::copy_file(kData / "pdfs" / "multi_page.pdf", t / "sub" / "deeper" / "multi page.pdf");
  fs::copy_file(kData / "pdfs" / "code_and_formula.pdf", t / "code_and_formula.pdf");
  fs::copy_file(kData / "pdfs" / "normal_4pages.pdf", t / "sub" / "normal_4pages.pdf");
  std::ofstream(t / "notes.txt") << "not a document\n";
  return t;
}

// Every regular file below `root` (relative name -> bytes), but the ledgers.
std::map<std::string, std::string> files_below(const fs::path& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename().string().rfind("docling-cpp.ledger", 0) != 0)
      out[e.path().lexically_relative(root).generic_string()] = slurp(e.path());
  return out;
}

std::vector<nlohmann::json> ledger_lines(const fs::path& outdir) {
  std::vector<nlohmann::json> out;
  for (auto& e : fs::directory_iterator(outdir)) {
    if (e.path().filename().string().rfind("docling-cpp.ledger", 0) != 0) continue;
    std::istringstream in(slurp(e.path()));
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) out.push_back(nlohmann::json::parse(l));
  }
  return out;
}

std::multiset<std::string> inputs_of(const std::vector<nlohmann::json>& lines) {
  std::multiset<std::string> out;
  for (const auto& j : lines) out.insert(j.at("input").get<std::string>());
  return out;
}

const char* kConvert = " --pipeline text --to md,json -q";

// zip, tar, tar.gz, tar.zst and tar.xz of one tree: each archive's outputs (below its stem)
// equal those of the extracted tree byte for byte, and the ledger names every member.
TEST(CliArchives, EveryFormatMatchesTheExtractedFiles) {
  fs::path dir = temp_dir("formats");
  fs::path t = tree(dir);
  ASSERT_EQ(python(dir, "import zipfile, os\n"
                        "with zipfile.ZipFile('tree.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n"
                        "    for root, dirs, files in sorted(os.walk('tree')):\n"
                        "        for f in sorted(files):\n"
                        "            p = os.path.join(root, f)\n"
                        "            z.write(p, os.path.relpath(p, 'tree'))\n"),
            0);
  ASSERT_EQ(sh("cd " + q(t) + " && tar --sort=name -cf ../tree.tar . && tar --sort=name -czf ../tree.tgz . && "
                   "tar --sort=name -cJf ../tree.tar.xz ."), 0);
  if (have("zstd")) {
    ASSERT_EQ(sh("cd " + q(t) + " && tar --sort=name -cf - . | zstd -q -o ../tree.tar.zst"), 0);
  }

  CliRun ref = cli("convert " + q(t) + " -o " + q(dir / "ref") + kConvert);
  ASSERT_EQ(ref.code, 0) << ref.err;
  std::map<std::string, std::string> want = files_below(dir / "ref");
  ASSERT_EQ(want.size(), 10u);  // five PDFs, two formats

  for (const char* name : {"tree.zip", "tree.tar", "tree.tgz", "tree.tar.xz", "tree.tar.zst"}) {
    if (!fs::exists(dir / name)) continue;  // no zstd here
    SCOPED_TRACE(name);
    fs::path out = dir / (std::string("out_") + name);
    CliRun r = cli("convert " + q(dir / name) + " -o " + q(out) + kConvert);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;  // nothing hostile: no warning
    EXPECT_EQ(files_below(out / "tree"), want);
    EXPECT_EQ(files_below(out).size(), want.size());  // nothing written beside tree/
    std::multiset<std::string> keys = inputs_of(ledger_lines(out));
    std::multiset<std::string> expected;
    for (const char* m : {"article.pdf", "code_and_formula.pdf", "sub/report.pdf", "sub/normal_4pages.pdf",
                          "sub/deeper/multi page.pdf"})
      expected.insert(std::string(name) + "/" + m);
    EXPECT_EQ(keys, expected);
    for (const auto& j : ledger_lines(out)) {
      EXPECT_EQ(j.at("status"), "SUCCESS");
      std::string member = j.at("input").get<std::string>().substr(std::string(name).size() + 1);
      EXPECT_EQ(j.at("size").get<uint64_t>(), fs::file_size(t / member)) << member;
    }
  }
}

// An archive found in a folder and one named in --from-list are read the same way; --dry-run
// lists members; a rerun skips every member; status counts them complete.
TEST(CliArchives, FoldersListsResumeAndStatus) {
  fs::path dir = temp_dir("resume");
  fs::path t = tree(dir);
  fs::create_directories(dir / "in");
  ASSERT_EQ(sh("cd " + q(t) + " && tar --sort=name -czf ../in/batch.tar.gz article.pdf sub"), 0);
  fs::copy_file(kRoot / "samples" / "report.pdf", dir / "in" / "loose.pdf");

  CliRun dry = cli("convert " + q(dir / "in") + " -o " + q(dir / "out") + " --dry-run" + kConvert);
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_EQ(dry.out,
            "batch.tar.gz/article.pdf\nbatch.tar.gz/sub/deeper/multi page.pdf\nbatch.tar.gz/sub/normal_4pages.pdf\n"
            "batch.tar.gz/sub/report.pdf\nloose.pdf\n");

  CliRun first = cli("convert " + q(dir / "in") + " -o " + q(dir / "out") + kConvert);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_TRUE(fs::exists(dir / "out" / "batch" / "sub" / "deeper" / "multi page.md"));
  EXPECT_TRUE(fs::exists(dir / "out" / "loose.md"));
  size_t lines = ledger_lines(dir / "out").size();
  EXPECT_EQ(lines, 5u);

  CliRun again = cli("convert " + q(dir / "in") + " -o " + q(dir / "out") + " --pipeline text --to md,json");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("5 already done"), std::string::npos) << again.err;
  EXPECT_EQ(ledger_lines(dir / "out").size(), lines);
  CliRun dry2 = cli("convert " + q(dir / "in") + " -o " + q(dir / "out") + " --dry-run" + kConvert);
  EXPECT_EQ(dry2.out, "");

  CliRun st = cli("status " + q(dir / "out") + " --inputs " + q(dir / "in"));
  EXPECT_EQ(st.code, 0) << st.out << st.err;
  EXPECT_NE(st.out.find("5 document(s)"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("0 missing"), std::string::npos) << st.out;

  // A member the ledger lacks is missing for status, and converted alone by the next run.
  ASSERT_EQ(sh("cd " + q(t) + " && tar --sort=name -czf ../in/batch.tar.gz article.pdf sub code_and_formula.pdf"), 0);
  st = cli("status " + q(dir / "out") + " --inputs " + q(dir / "in"));
  EXPECT_EQ(st.code, 1);
  EXPECT_NE(st.out.find("MISSING batch.tar.gz/code_and_formula.pdf"), std::string::npos) << st.out;
  CliRun third = cli("convert " + q(dir / "in") + " -o " + q(dir / "out") + " --pipeline text --to md,json");
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_NE(third.err.find("1 succeeded"), std::string::npos) << third.err;
  EXPECT_NE(third.err.find("5 already done"), std::string::npos) << third.err;
}

// --from-list entries naming archives: keyed as written, members below.
TEST(CliArchives, FromListNamesArchives) {
  fs::path dir = temp_dir("list");
  fs::path t = tree(dir);
  ASSERT_EQ(sh("cd " + q(t) + " && tar -cf ../docs.tar article.pdf sub/report.pdf"), 0);
  std::ofstream(dir / "list.txt") << "docs.tar\n";
  CliRun r = cli("convert --from-list " + q(dir / "list.txt") + " -o " + q(dir / "out") + " --dry-run" + kConvert +
                 " && cd " + q(dir) + " && '" + DOCLING_CLI + "' convert --from-list list.txt -o out" + kConvert);
  ASSERT_EQ(r.code, 0) << r.err;
  std::multiset<std::string> keys = inputs_of(ledger_lines(dir / "out"));
  EXPECT_EQ(keys, (std::multiset<std::string>{"docs.tar/article.pdf", "docs.tar/sub/report.pdf"}));
  EXPECT_TRUE(fs::exists(dir / "out" / "docs" / "sub" / "report.md"));
}

// Two shards into one folder: every member converted exactly once, status complete, outputs
// as one process makes them.
TEST(CliArchives, ShardsPartitionMembers) {
  fs::path dir = temp_dir("shards");
  fs::path t = tree(dir);
  // More members: copies of the tree's PDFs under other names.
  for (int c = 0; c < 4; ++c)
    for (const char* f : {"article.pdf", "code_and_formula.pdf"})
      fs::copy_file(t / f, t / "sub" / (std::to_string(c) + "-" + f));
  ASSERT_EQ(python(dir, "import zipfile, os\n"
                        "with zipfile.ZipFile('all.zip', 'w') as z:\n"
                        "    for root, dirs, files in sorted(os.walk('tree')):\n"
                        "        for f in sorted(files):\n"
                        "            p = os.path.join(root, f)\n"
                        "            z.write(p, os.path.relpath(p, 'tree'))\n"),
            0);
  CliRun one = cli("convert " + q(dir / "all.zip") + " -o " + q(dir / "one") + kConvert);
  ASSERT_EQ(one.code, 0) << one.err;
  for (int i = 0; i < 2; ++i) {
    CliRun r = cli("convert " + q(dir / "all.zip") + " -o " + q(dir / "two") + " --shard " + std::to_string(i) + "/2" +
                   kConvert);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::vector<nlohmann::json> lines = ledger_lines(dir / "two");
  std::multiset<std::string> keys = inputs_of(lines);
  EXPECT_EQ(keys, inputs_of(ledger_lines(dir / "one")));
  EXPECT_EQ(keys.size(), 13u);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());  // exactly once
  EXPECT_TRUE(fs::exists(dir / "two" / "docling-cpp.ledger.0-of-2.jsonl"));
  EXPECT_TRUE(fs::exists(dir / "two" / "docling-cpp.ledger.1-of-2.jsonl"));
  EXPECT_GT(fs::file_size(dir / "two" / "docling-cpp.ledger.0-of-2.jsonl"), 0u);  // both shards got work
  EXPECT_GT(fs::file_size(dir / "two" / "docling-cpp.ledger.1-of-2.jsonl"), 0u);
  EXPECT_EQ(files_below(dir / "two"), files_below(dir / "one"));
  CliRun st = cli("status " + q(dir / "two") + " --inputs " + q(dir / "all.zip"));
  EXPECT_EQ(st.code, 0) << st.out << st.err;
  EXPECT_NE(st.out.find("13 document(s) in 2 ledger(s): 13 succeeded"), std::string::npos) << st.out;
}

// Names that would leave the output folder, links, devices and nested archives: skipped with
// a warning naming archive and member; nothing is written outside the output folder.
TEST(CliArchives, HostileMembersAreSkipped) {
  fs::path dir = temp_dir("hostile");
  fs::copy_file(kRoot / "samples" / "article.pdf", dir / "good.pdf");
  ASSERT_EQ(python(dir, "import zipfile, tarfile, io\n"
                        "pdf = open('good.pdf', 'rb').read()\n"
                        "names = ['../evil.pdf', '/tmp/abs_evil.pdf', 'C:/drive.pdf', 'dir\\\\back.pdf',\n"
                        "         'ctl\\x01.pdf', 'ctl\\nnewline.pdf', 'a/../../up.pdf', 'ok/./good.pdf', './also.pdf']\n"
                        "with zipfile.ZipFile('hostile.zip', 'w') as z:\n"
                        "    for n in names: z.writestr(n, pdf)\n"
                        "    z.writestr('inner.zip', b'PK')\n"
                        "with tarfile.open('hostile.tar', 'w', format=tarfile.GNU_FORMAT) as t:\n"
                        "    for n in names + ['inner.tar.gz']:\n"
                        "        i = tarfile.TarInfo(n); i.size = len(pdf); t.addfile(i, io.BytesIO(pdf))\n"
                        "    for n, kind, target in [('link.pdf', tarfile.SYMTYPE, '/etc/passwd'),\n"
                        "                            ('up/link2.pdf', tarfile.SYMTYPE, '../../../../good.pdf'),\n"
                        "                            ('hard.pdf', tarfile.LNKTYPE, 'ok/good.pdf'),\n"
                        "                            ('dev.pdf', tarfile.CHRTYPE, ''), ('fifo.pdf', tarfile.FIFOTYPE, '')]:\n"
                        "        i = tarfile.TarInfo(n); i.type = kind; i.linkname = target; t.addfile(i)\n"),
            0);
  for (const char* name : {"hostile.zip", "hostile.tar"}) {
    SCOPED_TRACE(name);
    fs::path work = dir / (std::string("w_") + name);
    fs::create_directories(work / "out");
    std::ofstream(work / "sentinel") << "x";
    CliRun r = cli("convert " + q(dir / name) + " -o " + q(work / "out") + kConvert);
    EXPECT_EQ(r.code, 0) << r.err;
    std::multiset<std::string> keys = inputs_of(ledger_lines(work / "out"));
    std::string a = name;
    // A zip member's backslashes are Windows separators to libarchive: "dir\\back.pdf" is read
    // as dir/back.pdf (inside the output folder); tar keeps the byte, and the member is skipped.
    bool zip = a == "hostile.zip";
    std::multiset<std::string> good{a + "/ok/good.pdf", a + "/also.pdf"};
    if (zip && keys.count(a + "/dir/back.pdf")) good.insert(a + "/dir/back.pdf");
    EXPECT_EQ(keys, good);
    for (const char* bad : {"../evil.pdf", "/tmp/abs_evil.pdf", "C:/drive.pdf", "dir\\back.pdf", "ctl\\x01.pdf",
                            "ctl\\nnewline.pdf", "a/../../up.pdf"})
      if (!zip || good.size() == 2 || std::string(bad) != "dir\\back.pdf") {
        EXPECT_NE(r.err.find(a + ": member '" + bad + "' skipped"), std::string::npos) << bad << "\n" << r.err;
      }
    EXPECT_NE(r.err.find("archives in archives are not expanded"), std::string::npos) << r.err;
    if (a == "hostile.tar") {
      EXPECT_NE(r.err.find("member 'link.pdf' skipped: a symbolic link"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("member 'up/link2.pdf' skipped: a symbolic link"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("member 'hard.pdf' skipped: a hard link"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("member 'dev.pdf' skipped: not a regular file"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("member 'fifo.pdf' skipped: not a regular file"), std::string::npos) << r.err;
    }
    // Only the two good members' outputs, inside the output folder; nothing beside it.
    std::set<std::string> written;
    for (auto& [k, v] : files_below(work)) written.insert(k);
    std::set<std::string> expected{"sentinel", "out/hostile/ok/good.md", "out/hostile/ok/good.json",
                                   "out/hostile/also.md", "out/hostile/also.json"};
    if (good.size() == 3) expected.insert({"out/hostile/dir/back.md", "out/hostile/dir/back.json"});
    EXPECT_EQ(written, expected);
    EXPECT_FALSE(fs::exists("/tmp/abs_evil.md"));
    EXPECT_FALSE(fs::exists(dir / "evil.md"));
  }
}

// A damaged archive fails alone, named; the batch goes on. A member whose data is damaged
// fails alone, naming archive and member.
TEST(CliArchives, DamagedArchivesFailAlone) {
  fs::path dir = temp_dir("damaged");
  fs::path t = tree(dir);
  fs::create_directories(dir / "in");
  fs::copy_file(kRoot / "samples" / "article.pdf", dir / "in" / "fine.pdf");
  std::ofstream(dir / "in" / "garbage.zip") << "this is not a zip archive at all";
  std::ofstream(dir / "in" / "empty.tar.gz");
  // A tar.gz cut inside its third member: the first two are read, then the damage is reported.
  ASSERT_EQ(sh("cd " + q(t) + " && tar -czf ../whole.tgz article.pdf code_and_formula.pdf sub/normal_4pages.pdf "
               "sub/report.pdf"),
            0);
  uint64_t whole = fs::file_size(dir / "whole.tgz");
  ASSERT_EQ(sh("head -c " + std::to_string(whole * 3 / 4) + " " + q(dir / "whole.tgz") + " > " + q(dir / "in" / "cut.tgz")),
            0);
  // A zip whose second member's compressed bytes are flipped (its CRC no longer matches).
  ASSERT_EQ(python(dir, "import zipfile\n"
                        "a = open('tree/article.pdf', 'rb').read(); r = open('tree/sub/report.pdf', 'rb').read()\n"
                        "with zipfile.ZipFile('in/flip.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n"
                        "    z.writestr('one.pdf', a); z.writestr('two.pdf', r); z.writestr('three.pdf', a)\n"
                        "b = bytearray(open('in/flip.zip', 'rb').read())\n"
                        "with zipfile.ZipFile('in/flip.zip') as z: i = z.getinfo('two.pdf')\n"
                        "at = i.header_offset + 30 + len(i.filename) + i.compress_size // 2\n"
                        "for k in range(at, at + 64): b[k] ^= 0x5a\n"
                        "open('in/flip.zip', 'wb').write(b)\n"),
            0);
  CliRun r = cli("convert " + q(dir / "in") + " -o " + q(dir / "out") + kConvert);
  EXPECT_EQ(r.code, 1) << r.err;
  std::map<std::string, nlohmann::json> by_key;
  for (auto& j : ledger_lines(dir / "out")) by_key[j.at("input")] = j;
  auto status = [&](const std::string& k) { return by_key.count(k) ? by_key[k].at("status").get<std::string>() : "none"; };
  auto reason = [&](const std::string& k) { return by_key.count(k) ? by_key[k].at("pages").at("errors").dump() : ""; };
  EXPECT_EQ(status("fine.pdf"), "SUCCESS");
  EXPECT_EQ(status("garbage.zip"), "FAILURE");
  EXPECT_NE(reason("garbage.zip").find("cannot be read as an archive"), std::string::npos) << reason("garbage.zip");
  EXPECT_EQ(status("empty.tar.gz"), "FAILURE") << r.err;
  EXPECT_EQ(status("cut.tgz/article.pdf"), "SUCCESS");
  EXPECT_EQ(status("cut.tgz/code_and_formula.pdf"), "SUCCESS");
  EXPECT_EQ(status("cut.tgz"), "FAILURE");
  EXPECT_NE(reason("cut.tgz").find("damaged archive"), std::string::npos) << reason("cut.tgz");
  EXPECT_EQ(status("flip.zip/one.pdf"), "SUCCESS");
  EXPECT_EQ(status("flip.zip/two.pdf"), "FAILURE");
  EXPECT_NE(reason("flip.zip/two.pdf").find("member 'two.pdf'"), std::string::npos) << reason("flip.zip/two.pdf");
  EXPECT_EQ(status("flip.zip/three.pdf"), "SUCCESS");
  // Every message names the archive.
  EXPECT_NE(r.err.find("garbage.zip"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cut.tgz"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flip.zip/two.pdf"), std::string::npos) << r.err;
}

// A member over --max-input-bytes (a zip bomb: 50 MB of zeros in ~50 kB) fails on the cap,
// counted as decompressed; the other members convert.
TEST(CliArchives, MemberOverTheCapFails) {
  fs::path dir = temp_dir("cap");
  fs::copy_file(kRoot / "samples" / "article.pdf", dir / "a.pdf");
  ASSERT_EQ(python(dir, "import zipfile, tarfile, io\n"
                        "a = open('a.pdf', 'rb').read()\n"
                        "with zipfile.ZipFile('bomb.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n"
                        "    z.writestr('a.pdf', a); z.writestr('bomb.pdf', b'%PDF-1.4\\n' + bytes(50 << 20))\n"
                        "    z.writestr('b.pdf', a)\n"),
            0);
  ASSERT_LT(fs::file_size(dir / "bomb.zip"), uint64_t(1) << 20);
  CliRun r = cli("convert " + q(dir / "bomb.zip") + " -o " + q(dir / "out") + " --max-input-bytes 1000000" + kConvert);
  EXPECT_EQ(r.code, 1) << r.err;
  std::map<std::string, std::string> st;
  for (auto& j : ledger_lines(dir / "out")) st[j.at("input")] = j.at("status").get<std::string>() + j.at("pages").at("errors").dump();
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st["bomb.zip/a.pdf"].substr(0, 7), "SUCCESS");
  EXPECT_EQ(st["bomb.zip/b.pdf"].substr(0, 7), "SUCCESS");
  EXPECT_NE(st["bomb.zip/bomb.pdf"].find("over the input limit of 1000000 bytes"), std::string::npos) << st["bomb.zip/bomb.pdf"];
}

// Members are read in one forward pass, not from the start for each: 20,000 tiny members in
// a tar.gz are listed and hashed (--dry-run reads every member) in seconds, and a converting
// run with four workers opens the archive a small, fixed number of times.
TEST(CliArchives, ReadsForwardOnce) {
  fs::path dir = temp_dir("forward");
  ASSERT_EQ(python(dir, "import tarfile, io\n"
                        "with tarfile.open('many.tar.gz', 'w:gz') as t:\n"
                        "    for k in range(20000):\n"
                        "        d = b'%%PDF-1.4 member %d' % k\n"
                        "        i = tarfile.TarInfo('d%03d/m%05d.pdf' % (k % 100, k)); i.size = len(d)\n"
                        "        t.addfile(i, io.BytesIO(d))\n"),
            0);
  auto t0 = std::chrono::steady_clock::now();
  CliRun r = cli("convert " + q(dir / "many.tar.gz") + " -o " + q(dir / "out") + " --dry-run" + kConvert);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 20000);
  EXPECT_LT(secs, 20.0);  // re-scanning from the start per member: 2*10^8 headers, minutes
  std::printf("dry run over 20000 members: %.2f s\n", secs);

  // Converting (the members are broken PDFs: they fail fast) with 4 workers under strace:
  // the archive is opened for listing plus once for reading, whatever the workers' races.
  if (!have("strace")) GTEST_SKIP() << "strace is not installed";
  ASSERT_EQ(python(dir, "import tarfile, io\n"
                        "with tarfile.open('some.tar.gz', 'w:gz') as t:\n"
                        "    for k in range(400):\n"
                        "        d = b'%%PDF-1.4 member %d' % k\n"
                        "        i = tarfile.TarInfo('m%05d.pdf' % k); i.size = len(d)\n"
                        "        t.addfile(i, io.BytesIO(d))\n"),
            0);
  fs::path trace = dir / "trace.txt";
  CliRun s = docling::testing::run_cli("strace", "-f -qq -e trace=openat -o " + q(trace) + " '" + DOCLING_CLI +
                                                     "' convert " + q(dir / "some.tar.gz") + " -o " + q(dir / "out3") +
                                                     " --threads 4 --pipeline text -q",
                                       dir, 300);
  if (s.err.find("ptrace") != std::string::npos) GTEST_SKIP() << "strace cannot trace here: " << s.err;
  std::string log = slurp(trace);
  size_t opens = 0;
  for (size_t at = 0; (at = log.find("some.tar.gz\"", at)) != std::string::npos; ++at) ++opens;
  EXPECT_EQ(opens, 2u) << log.substr(0, 2000);
  EXPECT_EQ(s.code, 1) << s.err;  // every member fails (not PDFs), each with its line
  EXPECT_EQ(ledger_lines(dir / "out3").size(), 400u);
}

}  // namespace
