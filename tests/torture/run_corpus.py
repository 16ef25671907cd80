#!/usr/bin/env python3
"""Converts the torture corpus in one `docling-cpp convert` batch and checks what a batch over
hostile files must guarantee (issue 15):

    tests/torture/run_corpus.py DOCLING_CPP WORK_DIR [--slow] [--max-seconds S] [--max-rss-mb MB]
                                [--page-timeout S] [--threads N] [--json FILE] [--skip NAME ...]

WORK_DIR gets corpus/ (made by make_corpus.py, reused while the script and seed are the same),
out/, tmp/ (the run's TMPDIR) and home/ (its HOME). --slow converts only the files make_corpus
marks slow (bombs of GiBs, exponential form fan-out) instead of the others. When the converter
has --page-timeout (and --max-memory), they are used.

Checks: the process ends by exit 0 or 1 (never a signal, never past the time limit); every input
has exactly one ledger line; every FAILURE has a reason that names the file, and page errors
name their page; files the manifest marks "succeed" succeed (with their page count), "convert"
do not fail, "fail" fail; outputs a ledger line lists exist, a failed document has none; no temporary file is left
in the output folder or TMPDIR; no sanitizer report; peak RSS (the process and the workers it
waited for) and wall time under their bounds; a second run (resume) converts nothing and leaves
the ledger as it was. Exit 0 when all hold, 1 otherwise; a summary by category is printed.
"""
import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE = os.path.join(HERE, "make_corpus.py")
TEMP_RE = re.compile(r"(\.tmp\d*\.\d+$)|(^\.dl\d+\.\d+\.tmp$)|(\.tmp$)")


def corpus(work, slow, seed):
    """corpus/ (or corpus_slow/) made once per version of make_corpus.py and seed."""
    d = os.path.join(work, "corpus_slow" if slow else "corpus")
    with open(MAKE, "rb") as f:
        stamp = "%s seed %d" % (hashlib.sha256(f.read()).hexdigest(), seed)
    stamp_file = os.path.join(d, ".stamp")
    if os.path.exists(stamp_file) and open(stamp_file).read() == stamp:
        return d
    subprocess.run(["rm", "-rf", d], check=True)
    subprocess.run([sys.executable, MAKE, d, "--seed", str(seed), "--only-slow" if slow else "--no-slow"], check=True)
    with open(stamp_file, "w") as f:
        f.write(stamp)
    return d


def has_flag(cli, flag):
    r = subprocess.run([cli, "convert", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return flag in r.stdout


def run(cli, args, env, limit_s):
    """Runs cli; returns (exit code or -signal, stderr, wall s, peak RSS MiB of it and its reaped children)."""
    t0 = time.monotonic()
    err_path = os.path.join(env["TMPDIR"], "..", "stderr.txt")
    with open(err_path, "wb") as err:
        p = subprocess.Popen([cli] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env,
                             start_new_session=True)
        hung = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() - t0 > limit_s:
                hung = True
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        p.returncode = 0  # reaped above; keep Popen from waiting again
    wall = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(status)
    with open(err_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    return code, stderr, wall, ru.ru_maxrss / 1024.0, hung


def read_ledger(out):
    lines = []
    for f in sorted(os.listdir(out)):
        if f.startswith("docling-cpp.ledger") and f.endswith(".jsonl"):
            with open(os.path.join(out, f), encoding="utf-8") as fh:
                lines += [json.loads(l) for l in fh if l.strip()]
    return lines


def walk(d):
    for root, _, files in os.walk(d):
        for f in files:
            yield os.path.relpath(os.path.join(root, f), d)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cli")
    ap.add_argument("work")
    ap.add_argument("--slow", action="store_true", help="only the files marked slow")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--max-seconds", type=float, default=60.0, help="wall time of the batch (default 60)")
    ap.add_argument("--max-rss-mb", type=float, default=2048.0, help="peak RSS (default 2048)")
    ap.add_argument("--page-timeout", type=int, default=10, help="--page-timeout when the converter has it")
    ap.add_argument("--max-memory-mb", type=int, default=1536, help="--max-memory when the converter has it")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--allow-unbounded", action="store_true", help="run --slow without --page-timeout")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--skip", action="append", default=[], help="leave this corpus file out (to look past a "
                    "known crash while exploring; the ctest names none)")
    a = ap.parse_args()

    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    cdir = corpus(work, a.slow, a.seed)
    manifest = json.load(open(os.path.join(cdir, "manifest.json"), encoding="utf-8"))["files"]
    if a.skip:
        view = os.path.join(work, "view")
        subprocess.run(["rm", "-rf", view], check=True)
        os.makedirs(view)
        for name in list(manifest):
            if name in a.skip:
                del manifest[name]
            else:
                os.link(os.path.join(cdir, name), os.path.join(view, name))
        cdir = view
    out, tmp, home = (os.path.join(work, x) for x in ("out", "tmp", "home"))
    for d in (out, tmp, home):
        subprocess.run(["rm", "-rf", d], check=True)
        os.makedirs(d)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCLING_", "SLURM_")) and
           k not in ("XDG_CACHE_HOME", "JOB_COMPLETION_INDEX")}
    env.update(HOME=home, TMPDIR=tmp)
    args = ["convert", cdir, "-o", out, "--pipeline", "text", "--to", "md,json", "--threads", str(a.threads), "-q"]
    limits = []
    if has_flag(a.cli, "--page-timeout"):
        args += ["--page-timeout", str(a.page_timeout)]
        limits.append("--page-timeout %d" % a.page_timeout)
    if has_flag(a.cli, "--max-memory"):
        args += ["--max-memory", str(a.max_memory_mb)]
        limits.append("--max-memory %d" % a.max_memory_mb)

    if a.slow and "--page-timeout" not in args and not a.allow_unbounded:
        print("FAIL: this converter has no --page-timeout: the slow corpus (bombs of 8 and 64 GiB) would run for "
              "many minutes unbounded (issue 19 #10); --allow-unbounded runs it anyway")
        return 1

    problems = []

    def bad(msg):
        problems.append(msg)

    code, stderr, wall, rss, hung = run(a.cli, args, env, a.max_seconds * 3)
    if hung:
        bad("the batch ran past %.0f s and was killed" % (a.max_seconds * 3))
    elif code < 0:
        bad("the batch died of signal %d" % -code)
    elif code not in (0, 1):
        bad("the batch exited %d (expected 0 or 1)" % code)
    if wall > a.max_seconds:
        bad("the batch took %.1f s (bound %.0f s)" % (wall, a.max_seconds))
    if rss > a.max_rss_mb:
        bad("peak RSS %.0f MiB (bound %.0f MiB)" % (rss, a.max_rss_mb))
    for marker in ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                   "terminate called"):
        if marker in stderr:
            i = stderr.index(marker)
            bad("stderr has a report: %s" % stderr[max(0, i - 200):i + 600])

    ledger = read_ledger(out)
    by_input = {}
    for e in ledger:
        by_input.setdefault(e.get("input"), []).append(e)
    for name, entry in sorted(manifest.items()):
        got = by_input.pop(name, [])
        if len(got) != 1:
            bad("%s: %d ledger lines (expected 1)" % (name, len(got)))
            continue
        e = got[0]
        st = e.get("status")
        pages = e.get("pages", {})
        errors = pages.get("errors", [])
        entry["status"] = st
        if st not in ("SUCCESS", "PARTIAL", "FAILURE"):
            bad("%s: status %r" % (name, st))
        if entry["expect"] == "succeed" and st != "SUCCESS":
            bad("%s (%s) must succeed: %s %s" % (name, entry["what"], st, errors[:2]))
        if entry["expect"] == "succeed" and "pages" in entry and pages.get("ok") != entry["pages"]:
            bad("%s: %s pages converted, expected %d" % (name, pages.get("ok"), entry["pages"]))
        if entry["expect"] == "convert" and st == "FAILURE":
            bad("%s (%s) must convert: %s" % (name, entry["what"], errors[:2]))
        if entry["expect"] == "convert" and "pages" in entry and \
                pages.get("ok", 0) + pages.get("failed", 0) != entry["pages"]:
            bad("%s: %s + %s pages, expected %d" % (name, pages.get("ok"), pages.get("failed"), entry["pages"]))
        if entry["expect"] == "fail" and st != "FAILURE":
            bad("%s (%s) must fail: %s" % (name, entry["what"], st))
        if st == "FAILURE":
            if not errors:
                bad("%s: FAILURE without a reason" % name)
            stem = os.path.basename(name)
            for er in errors:
                reason = er.get("reason", "")
                if stem not in reason and not (er.get("page", 0) > 0):
                    bad("%s: a failure reason that names neither the file nor a page: %r" % (name, reason))
        for er in errors:
            if not isinstance(er.get("page"), int) or er["page"] < 0:
                bad("%s: error without a page number: %r" % (name, er))
            if st != "FAILURE" and er.get("page", 0) == 0:
                bad("%s: a %s line with a document-level error: %r" % (name, st, er))
        outputs = e.get("outputs", [])
        for o in outputs:
            if not os.path.isfile(os.path.join(out, o)):
                bad("%s: output %s is in the ledger, not on disk" % (name, o))
        if st == "FAILURE" and outputs:
            bad("%s: a failed document lists outputs %s" % (name, outputs))
        if st == "SUCCESS" and not outputs:
            bad("%s: a converted document without outputs" % name)
    for name, got in by_input.items():
        bad("ledger lines for %r, which is not in the corpus" % name)
    listed = {o for e in ledger for o in e.get("outputs", [])}
    for f in walk(out):
        if TEMP_RE.search(os.path.basename(f)) or os.path.basename(f).startswith(".dl"):
            bad("temporary file left: %s" % f)
        elif not f.startswith("docling-cpp.") and f not in listed and "_artifacts" not in f:
            bad("a file no ledger line lists: %s" % f)
    left = list(walk(tmp))
    if left:
        bad("%d file(s) left in TMPDIR: %s" % (len(left), left[:5]))

    # The resumed run has nothing to do.
    code2, stderr2, wall2, _, hung2 = run(a.cli, args, env, a.max_seconds)
    ledger2 = read_ledger(out)
    if hung2 or code2 not in (0, 1):
        bad("the resumed run exited %s%s" % (code2, " (hung)" if hung2 else ""))
    if len(ledger2) != len(ledger):
        bad("the resumed run changed the ledger: %d lines, then %d" % (len(ledger), len(ledger2)))

    # Summary: status by category.
    cats = {}
    for entry in manifest.values():
        c = cats.setdefault(entry["category"], {"SUCCESS": 0, "PARTIAL": 0, "FAILURE": 0, "missing": 0})
        c[entry.get("status") or "missing"] = c.get(entry.get("status") or "missing", 0) + 1
    print("torture corpus: %d files, exit %d, %.1f s (%.0f documents/hour), peak RSS %.0f MiB, resume %.2f s%s"
          % (len(manifest), code, wall, len(manifest) / max(wall, 1e-9) * 3600, rss, wall2,
             "; limits: " + ", ".join(limits) if limits else "; no per-page limits in this converter"))
    print("  %-12s %7s %7s %7s %7s" % ("category", "SUCCESS", "PARTIAL", "FAILURE", "missing"))
    for k in sorted(cats):
        c = cats[k]
        print("  %-12s %7d %7d %7d %7d" % (k, c["SUCCESS"], c["PARTIAL"], c["FAILURE"], c["missing"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"files": len(manifest), "exit": code, "seconds": wall, "peak_rss_mb": rss,
                       "resume_seconds": wall2, "limits": limits, "categories": cats, "problems": problems,
                       "status": {n: e.get("status") for n, e in manifest.items()}}, f, indent=1)
    for p in problems:
        print("FAIL: " + p)
    if problems:
        tail = stderr[-3000:]
        print("--- stderr (last 3000 characters) ---\n" + tail)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
