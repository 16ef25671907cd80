#!/usr/bin/env python3
"""Archive-scale numbers for `docling-cpp convert` (issue 15, "Measured"):

    bench/archive_bench.py [--cli build/docling-cpp] [--work DIR] [--out archive_bench.json]
                           [--kills 15] [--rss-docs 1000] [--resume-files 10000] [--quick] [--only PARTS]

Prints and writes as JSON:
  torture    documents/hour over the torture corpus (tests/torture/make_corpus.py, slow files left out),
             with its SUCCESS/PARTIAL/FAILURE counts and peak RSS;
  kills      the same corpus converted under SIGKILLs at random moments (the main process only, as
             the OOM killer or a pre-emption would), resumed each time, then finished: kills
             survived, documents lost (no ledger line; must be 0), duplicates (more than one; 0),
             crashes (a run that ended by a signal nobody sent or an exit code other than 0/1; 0),
             statuses unlike an uninterrupted run, worker processes left running after a kill, and
             temporary files left;
  rss        a run over N small generated PDFs (1-4 pages of text each): peak RSS of the process
             tree and the RSS at every 100 documents (flat when nothing leaks per document);
  resume     a finished archive of M one-page PDFs: the first conversion (documents/hour), then
             the seconds a rerun takes to decide that nothing is left to do.

The default run takes about 6-10 minutes on 2 cores; --quick (5 kills, 200 documents, 2,000 files)
about 2. --only torture,kills,rss,resume picks parts. Python's standard library only. All work
happens under --work (default: a fresh folder in $TMPDIR, removed at the end unless --keep).
"""
import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "torture"))
import make_corpus  # noqa: E402  (the corpus and its small PDF writer)


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tree_rss_kb(root):
    """Resident KiB of `root` and every process descending from it (the converter's workers)."""
    kids, rss = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
            with open("/proc/%s/statm" % d) as f:
                rss[int(d)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += kids.get(p, [])
    return total


def ledger_lines(out):
    n = 0
    if os.path.isdir(out):
        for f in os.listdir(out):
            if f.startswith("docling-cpp.ledger") and f.endswith(".jsonl"):
                with open(os.path.join(out, f), "rb") as fh:
                    n += fh.read().count(b"\n")
    return n


def read_ledger(out):
    lines = []
    for f in sorted(os.listdir(out)) if os.path.isdir(out) else []:
        if f.startswith("docling-cpp.ledger") and f.endswith(".jsonl"):
            with open(os.path.join(out, f), encoding="utf-8") as fh:
                for l in fh:
                    if l.strip():
                        lines.append(json.loads(l))
    return lines


class Run:
    """One `docling-cpp convert`, its RSS sampled (process tree) and ledger lines counted."""

    def __init__(self, cli, args, env, sample_s=0.1, out=None):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([cli] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.peak_kb = 0
        self.samples = []  # (seconds, ledger lines, RSS KiB)
        self.out = out
        self.sample_s = sample_s
        self.done = False
        self.err = b""
        self.reader = threading.Thread(target=self._read_err, daemon=True)
        self.reader.start()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def _read_err(self):
        self.err = self.p.stderr.read()

    def _sample(self):
        while not self.done:
            kb = tree_rss_kb(self.p.pid)
            self.peak_kb = max(self.peak_kb, kb)
            if self.out:
                self.samples.append((time.monotonic() - self.t0, ledger_lines(self.out), kb))
            time.sleep(self.sample_s)

    def wait(self, timeout=None):
        try:
            code = self.p.wait(timeout)
        finally:
            self.done = True
        self.sampler.join()
        self.reader.join()
        self.seconds = time.monotonic() - self.t0
        return code


def clean_env(work):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCLING_", "SLURM_")) and
           k not in ("XDG_CACHE_HOME", "JOB_COMPLETION_INDEX")}
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    env["HOME"] = home
    return env


def has_flag(cli, flag):
    r = subprocess.run([cli, "convert", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return flag in r.stdout


def convert_args(cli, inp, out, threads, page_timeout):
    args = ["convert", inp, "-o", out, "--pipeline", "text", "--to", "md", "--threads", str(threads), "-q"]
    if page_timeout and has_flag(cli, "--page-timeout"):
        args += ["--page-timeout", str(page_timeout)]
    return args


def temporaries(out):
    left = []
    for root, _, files in os.walk(out):
        for f in files:
            if ".tmp" in f or f.startswith(".dl"):
                left.append(os.path.join(root, f))
    return left


# ------------------------------------------------------------------------------------------


def bench_torture(a, env, corpus):
    out = os.path.join(a.work, "torture_out")
    shutil.rmtree(out, ignore_errors=True)
    r = Run(a.cli, convert_args(a.cli, corpus, out, a.threads, a.page_timeout), env)
    code = r.wait()
    led = read_ledger(out)
    counts = {s: sum(1 for e in led if e.get("status") == s) for s in ("SUCCESS", "PARTIAL", "FAILURE")}
    n = len(json.load(open(os.path.join(corpus, "manifest.json")))["files"])
    res = {"documents": n, "ledger_lines": len(led), "exit": code, "seconds": round(r.seconds, 2),
           "documents_per_hour": round(n / r.seconds * 3600), "peak_rss_mb": round(r.peak_kb / 1024, 1),
           "pages": sum(e.get("pages", {}).get("ok", 0) for e in led), **counts}
    print("torture: %d documents in %.1f s = %d documents/hour (exit %d; %d SUCCESS, %d PARTIAL, %d FAILURE; "
          "peak RSS %.0f MiB)" % (n, r.seconds, res["documents_per_hour"], code, counts["SUCCESS"], counts["PARTIAL"],
                                  counts["FAILURE"], res["peak_rss_mb"]))
    return res, led, r.seconds


def bench_kills(a, env, corpus, ref_ledger, ref_seconds):
    rng = random.Random(a.seed)
    names = set(json.load(open(os.path.join(corpus, "manifest.json")))["files"])
    out = os.path.join(a.work, "kills_out")
    shutil.rmtree(out, ignore_errors=True)
    args = convert_args(a.cli, corpus, out, a.threads, a.page_timeout)
    kills = runs = crashes = orphans = finished_early = 0
    crash_notes = []
    max_delay = max(0.3, ref_seconds * 0.6)
    t0 = time.monotonic()
    while kills < a.kills and runs < a.kills * 4:
        runs += 1
        r = Run(a.cli, args, env, sample_s=0.5)
        delay = rng.uniform(0.05, max_delay)
        try:
            code = r.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(r.p.pid, signal.SIGKILL)  # the main process only
            code = r.wait()
            time.sleep(0.2)
            # Workers must not outlive their supervisor; whatever does is counted, then ended.
            try:
                os.killpg(r.p.pid, 0)
                orphans += 1
                os.killpg(r.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if code == -signal.SIGKILL:
            kills += 1
        elif code in (0, 1):
            finished_early += 1  # finished before the kill: the archive is done; start over
            shutil.rmtree(out, ignore_errors=True)
        else:
            crashes += 1
            crash_notes.append("run %d: exit %d: %s" % (runs, code, r.err.decode("utf-8", "replace")[-300:]))
    # The last run finishes the archive (a crash is retried: the ledger lets it move on).
    final_code = None
    for _ in range(5):
        r = Run(a.cli, args, env, sample_s=0.5)
        final_code = r.wait()
        if final_code in (0, 1):
            break
        crashes += 1
        crash_notes.append("final run: exit %d: %s" % (final_code, r.err.decode("utf-8", "replace")[-300:]))
    led = read_ledger(out)
    seen = {}
    for e in led:
        seen[e.get("input")] = seen.get(e.get("input"), 0) + 1
    lost = sorted(names - set(seen))
    dups = sum(n - 1 for n in seen.values() if n > 1)
    ref = {e["input"]: e["status"] for e in ref_ledger}
    differ = sorted(n for n in names if n in ref and n in seen and
                    next(e["status"] for e in led if e.get("input") == n) != ref[n])
    res = {"kills": kills, "runs": runs, "finished_before_kill": finished_early, "documents": len(names),
           "lost": len(lost), "duplicates": dups, "crashes": crashes, "final_exit": final_code,
           "status_differs_from_uninterrupted": len(differ), "orphan_workers": orphans,
           "temporaries_left": len(temporaries(out)), "max_delay_s": round(max_delay, 2),
           "seconds": round(time.monotonic() - t0, 1), "lost_names": lost[:10], "differ_names": differ[:10],
           "crash_notes": crash_notes[:5]}
    print("kills: %d survived in %d runs (delays up to %.1f s): %d documents, lost %d, duplicates %d, crashes %d, "
          "statuses unlike the uninterrupted run %d, orphan workers %d, temporaries left %d (%.0f s)"
          % (kills, runs, max_delay, len(names), len(lost), dups, crashes, len(differ), orphans,
             res["temporaries_left"], res["seconds"]))
    for n in crash_notes[:3]:
        print("  crash: " + n.replace("\n", " | "))
    return res


def small_pdf(i, rng):
    pages = []
    for p in range(1 + rng.randrange(4)):
        lines = ["Document %d, page %d." % (i, p + 1)] + [rng.choice(make_corpus.SENTENCES) for _ in range(6)]
        pages.append((make_corpus.LETTER, make_corpus.text_content(lines)))
    return make_corpus.simple_pdf(pages, compress=bool(i % 2))


def bench_rss(a, env):
    rng = random.Random(a.seed + 1)
    inp = os.path.join(a.work, "rss_in")
    out = os.path.join(a.work, "rss_out")
    shutil.rmtree(inp, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    for i in range(a.rss_docs):
        d = os.path.join(inp, "part%02d" % (i // 100))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "doc%05d.pdf" % i), "wb") as f:
            f.write(small_pdf(i, rng))
    r = Run(a.cli, convert_args(a.cli, inp, out, a.threads, a.page_timeout), env, sample_s=0.05, out=out)
    code = r.wait()
    # The RSS at each 100-document mark: the largest sample taken while the ledger had 100k..100k+99 lines.
    marks = []
    for k in range(100, a.rss_docs + 1, 100):
        window = [kb for _, n, kb in r.samples if k - 100 <= n < k or (k == a.rss_docs and n >= k)]
        if window:
            marks.append({"documents": k, "rss_mb": round(max(window) / 1024, 1)})
    led = read_ledger(out)
    res = {"documents": a.rss_docs, "exit": code, "ledger_lines": len(led), "seconds": round(r.seconds, 2),
           "documents_per_hour": round(a.rss_docs / r.seconds * 3600), "peak_rss_mb": round(r.peak_kb / 1024, 1),
           "rss_every_100": marks}
    if len(marks) >= 2:
        res["growth_mb_first_to_last_100"] = round(marks[-1]["rss_mb"] - marks[0]["rss_mb"], 1)
    print("rss: %d small documents in %.1f s (%d documents/hour, exit %d), peak RSS %.1f MiB; per 100 documents: %s"
          % (a.rss_docs, r.seconds, res["documents_per_hour"], code, res["peak_rss_mb"],
             " ".join("%.0f" % m["rss_mb"] for m in marks)))
    return res


def bench_resume(a, env):
    inp = os.path.join(a.work, "resume_in")
    out = os.path.join(a.work, "resume_out")
    shutil.rmtree(inp, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    for i in range(a.resume_files):
        d = os.path.join(inp, "part%03d" % (i // 500))
        os.makedirs(d, exist_ok=True)
        page = make_corpus.text_content(["Small file %d." % i, make_corpus.SENTENCES[i % 3]])
        with open(os.path.join(d, "f%06d.pdf" % i), "wb") as f:
            f.write(make_corpus.simple_pdf([(make_corpus.LETTER, page)]))
    args = convert_args(a.cli, inp, out, a.threads, a.page_timeout)
    r = Run(a.cli, args, env, sample_s=0.5)
    first_code = r.wait()
    first_s = r.seconds
    lines = ledger_lines(out)
    times = []
    for _ in range(3):
        r2 = Run(a.cli, args, env, sample_s=0.5)
        code2 = r2.wait()
        times.append(r2.seconds)
    res = {"files": a.resume_files, "first_run_seconds": round(first_s, 2), "first_run_exit": first_code,
           "first_run_documents_per_hour": round(a.resume_files / first_s * 3600), "ledger_lines": lines,
           "rerun_seconds": round(min(times), 3), "rerun_seconds_all": [round(t, 3) for t in times],
           "rerun_exit": code2, "rerun_converted": ledger_lines(out) - lines,
           "dry_run_seconds": None}
    t = time.monotonic()
    dry = subprocess.run([a.cli] + args + ["--dry-run"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    res["dry_run_seconds"] = round(time.monotonic() - t, 3)
    res["dry_run_lines"] = dry.stdout.count(b"\n")
    print("resume: %d files converted in %.1f s (%d documents/hour); a rerun decides nothing is left in %.2f s "
          "(best of 3; converted %d; --dry-run %.2f s, %d to do)"
          % (a.resume_files, first_s, res["first_run_documents_per_hour"], res["rerun_seconds"],
             res["rerun_converted"], res["dry_run_seconds"], res["dry_run_lines"]))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(REPO, "build", "docling-cpp"))
    ap.add_argument("--work", help="working folder (default: a fresh one in $TMPDIR)")
    ap.add_argument("--keep", action="store_true", help="leave the working folder")
    ap.add_argument("--out", default="archive_bench.json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kills", type=int, default=15)
    ap.add_argument("--rss-docs", type=int, default=1000)
    ap.add_argument("--resume-files", type=int, default=10000)
    ap.add_argument("--page-timeout", type=int, default=10, help="passed when the converter has the flag")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="5 kills, 200 documents, 2,000 files")
    ap.add_argument("--only", default="torture,kills,rss,resume")
    a = ap.parse_args()
    if a.quick:
        a.kills, a.rss_docs, a.resume_files = 5, 200, 2000
    parts = set(a.only.split(","))
    a.cli = os.path.abspath(a.cli)
    if not os.access(a.cli, os.X_OK):
        sys.exit("archive_bench: no converter at %s (--cli)" % a.cli)
    own_work = not a.work
    a.work = os.path.abspath(a.work or tempfile.mkdtemp(prefix="docling_archive_bench_"))
    os.makedirs(a.work, exist_ok=True)
    env = clean_env(a.work)
    res = {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": a.threads, "cli": a.cli,
           "page_timeout": a.page_timeout if has_flag(a.cli, "--page-timeout") else None, "seed": a.seed}
    print("archive_bench: %s, %d cores, --threads %d, %s" % (res["cpu"], res["cores"], a.threads,
                                                            "--page-timeout %g" % a.page_timeout
                                                            if res["page_timeout"] else "no per-page time limit"))
    try:
        if parts & {"torture", "kills"}:
            corpus = os.path.join(a.work, "corpus")
            shutil.rmtree(corpus, ignore_errors=True)
            subprocess.run([sys.executable, make_corpus.__file__, corpus, "--seed", str(a.seed), "--no-slow"], check=True,
                           stdout=subprocess.DEVNULL)
            res["torture"], ref_ledger, ref_s = bench_torture(a, env, corpus)
            if "kills" in parts:
                res["kills"] = bench_kills(a, env, corpus, ref_ledger, ref_s)
        if "rss" in parts:
            res["rss"] = bench_rss(a, env)
        if "resume" in parts:
            res["resume"] = bench_resume(a, env)
    finally:
        if own_work and not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    print("archive_bench: wrote %s" % a.out)
    k = res.get("kills", {})
    return 1 if k and (k["lost"] or k["duplicates"] or k["crashes"]) else 0


if __name__ == "__main__":
    sys.exit(main())
