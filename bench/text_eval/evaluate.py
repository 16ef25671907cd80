#!/usr/bin/env python3
"""Reading-order quality of docling-cpp's text pipeline against pdftotext (plain and -layout).

For every page of the evaluation set (make_set.py; made first when missing) and every PDF of
tests/data/pdfs that has docling's Markdown ground truth, converts the PDF with
`docling-cpp convert --pipeline text --to md` (one run for a whole folder) and with
`pdftotext` / `pdftotext -layout`, and compares each output with the ground truth on tokens:

  NED  token Levenshtein distance / max(token counts)  (lower is better; order matters)
  F1   bag-of-tokens F1                                (higher is better; order does not)
  HR   heading recall of docling-cpp: ground-truth headings among its Markdown headings

Tokens: whitespace-separated after removing bidi control marks; Markdown markup ('#', '|',
'-', '**', backslash escapes, HTML entities) and punctuation at token edges are stripped, and tokens without a letter or digit
(bullets, checkbox glyphs, rules) are dropped, the same way for every system.

usage: evaluate.py [--cli build-layout/docling-cpp] [--set DIR] [--pdfs tests/data/pdfs]
                   [--json results/eval.json] [--only NAME,...]
"""
import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u00ad]")
EDGE = "#|*_`>~.,;:!?\"()[]"


def tokens(text):
    text = re.sub(r"<!--.*?-->", " ", text)  # Markdown placeholders (pictures) are markup
    text = re.sub(r"(?m)^(\s*)- \[[ xX]\] ", r"\1", text)  # and so are task-list checkboxes
    text = html.unescape(BIDI.sub("", text))
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>&])", r"\1", text)
    out = []
    for t in text.split():
        t = t.strip(EDGE)
        if any(c.isalnum() for c in t):
            out.append(t)
    return out


def levenshtein(a, b):
    """Token edit distance, bit-parallel (Hyyro 2001) over the tokens of a."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    peq = {}
    for i, t in enumerate(a):
        peq[t] = peq.get(t, 0) | (1 << i)
    m = len(a)
    mask = (1 << m) - 1
    hi = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for t in b:
        eq = peq.get(t, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & hi:
            score += 1
        elif mh & hi:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def ned(pred, gt):
    if not pred and not gt:
        return 0.0
    return levenshtein(pred, gt) / max(len(pred), len(gt))


def f1(pred, gt):
    if not pred or not gt:
        return 1.0 if not pred and not gt else 0.0
    bag = {}
    for t in gt:
        bag[t] = bag.get(t, 0) + 1
    hit = 0
    for t in pred:
        if bag.get(t, 0) > 0:
            bag[t] -= 1
            hit += 1
    p, r = hit / len(pred), hit / len(gt)
    return 2 * p * r / (p + r) if p + r else 0.0


def heading_words(s):
    return sorted(w.lower() for w in re.findall(r"\w+", BIDI.sub("", s)))


def md_headings(md):
    return [heading_words(m.group(1)) for m in re.finditer(r"(?m)^#+ (.*)$", md)]


def overlap(a, b):
    if not a:
        return 0.0
    rest = list(b)
    n = 0
    for w in a:
        if w in rest:
            rest.remove(w)
            n += 1
    return n / len(a)


def heading_recall(pred_md, gt_heads):
    if not gt_heads:
        return None
    pred = md_headings(pred_md)
    found = sum(any(overlap(g, p) >= 0.6 and overlap(p, g) >= 0.6 for p in pred) for g in gt_heads)
    return found / len(gt_heads)


def checkbox_accuracy(pred_md, gt_boxes):
    """Share of ground-truth checkboxes found as `- [x] label` / `- [ ] label` with their state."""
    if not gt_boxes:
        return None
    found = {}
    for m in re.finditer(r"(?m)^\s*- \[([ xX])\] (.*)$", pred_md):
        found.setdefault(m.group(2).strip(), []).append(m.group(1) != " ")
    hit = 0
    for checked, label in gt_boxes:
        states = found.get(label, [])
        if checked in states:
            states.remove(checked)
            hit += 1
    return hit / len(gt_boxes)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("evaluate.py: %s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr.decode()[-500:]))
    return r.stdout.decode("utf-8", "replace")


def docling_all(cli, pdfs):
    """Markdown of every PDF from one `docling-cpp convert` run (a fresh output folder)."""
    work = tempfile.mkdtemp(prefix="text_eval_")
    try:
        src = os.path.join(work, "in")
        os.makedirs(src)
        for p in pdfs:
            os.symlink(os.path.abspath(p), os.path.join(src, os.path.basename(p)))
        out = os.path.join(work, "out")
        run([cli, "convert", src, "-o", out, "--pipeline", "text", "--to", "md", "-q"])
        res = {}
        for p in pdfs:
            stem = os.path.splitext(os.path.basename(p))[0]
            f = os.path.join(out, stem + ".md")
            res[p] = open(f, encoding="utf-8").read() if os.path.exists(f) else ""
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


def evaluate(cli, docs):
    """docs: [(name, pdf, gt_text, gt_headings, layout, gt_checkboxes)] -> rows."""
    md = docling_all(cli, [d[1] for d in docs])
    rows = []
    for name, pdf, gt, gt_heads, layout, gt_boxes in docs:
        g = tokens(gt)
        outs = {"docling-cpp": md[pdf],
                "pdftotext": run(["pdftotext", "-enc", "UTF-8", pdf, "-"]),
                "pdftotext-layout": run(["pdftotext", "-enc", "UTF-8", "-layout", pdf, "-"])}
        row = {"name": name, "layout": layout, "gt_tokens": len(g)}
        for sysname, text in outs.items():
            t = tokens(text)
            row[sysname] = {"ned": round(ned(t, g), 4), "f1": round(f1(t, g), 4)}
        row["docling-cpp"]["hr"] = heading_recall(md[pdf], gt_heads)
        cb = checkbox_accuracy(md[pdf], gt_boxes)
        if cb is not None:
            row["docling-cpp"]["checkboxes"] = cb
        rows.append(row)
    return rows


SYSTEMS = ["docling-cpp", "pdftotext", "pdftotext-layout"]


def summary(rows):
    s = {}
    for k in SYSTEMS:
        n = len(rows)
        s[k] = {"mean_ned": round(sum(r[k]["ned"] for r in rows) / n, 4),
                "mean_f1": round(sum(r[k]["f1"] for r in rows) / n, 4)}
        worst = max(rows, key=lambda r: r[k]["ned"])
        s[k]["worst"] = [worst["name"], worst[k]["ned"]]
    hrs = [r["docling-cpp"]["hr"] for r in rows if r["docling-cpp"]["hr"] is not None]
    s["docling-cpp"]["mean_hr"] = round(sum(hrs) / len(hrs), 4) if hrs else None
    cbs = [r["docling-cpp"]["checkboxes"] for r in rows if "checkboxes" in r["docling-cpp"]]
    if cbs:
        s["docling-cpp"]["checkbox_accuracy"] = round(sum(cbs) / len(cbs), 4)
    s["docling_not_worse_than_pdftotext"] = sum(
        r["docling-cpp"]["ned"] <= r["pdftotext"]["ned"] + 1e-9 for r in rows)
    s["documents"] = len(rows)
    return s


def print_table(title, rows, s):
    print("\n%s (%d documents)" % (title, len(rows)))
    print("%-22s %-34s %5s | %-13s | %-13s | %-13s| %s" % ("document", "layout", "tok", "docling-cpp",
                                                           "pdftotext", "pdftotext -l", "HR"))
    print("%-22s %-34s %5s | %6s %6s | %6s %6s | %6s %6s |" % ("", "", "", "NED", "F1", "NED", "F1", "NED", "F1"))
    for r in rows:
        hr = r["docling-cpp"]["hr"]
        flag = " <" if r["docling-cpp"]["ned"] > r["pdftotext"]["ned"] + 1e-9 else ""
        print("%-22s %-34s %5d | %6.3f %6.3f | %6.3f %6.3f | %6.3f %6.3f | %s%s" % (
            r["name"][:22], r["layout"][:34], r["gt_tokens"],
            r["docling-cpp"]["ned"], r["docling-cpp"]["f1"], r["pdftotext"]["ned"], r["pdftotext"]["f1"],
            r["pdftotext-layout"]["ned"], r["pdftotext-layout"]["f1"], "-" if hr is None else "%.2f" % hr, flag))
    print("%-22s %-34s %5s | %6.3f %6.3f | %6.3f %6.3f | %6.3f %6.3f | %s" % (
        "MEAN", "", "", s["docling-cpp"]["mean_ned"], s["docling-cpp"]["mean_f1"], s["pdftotext"]["mean_ned"],
        s["pdftotext"]["mean_f1"], s["pdftotext-layout"]["mean_ned"], s["pdftotext-layout"]["mean_f1"],
        "-" if s["docling-cpp"]["mean_hr"] is None else "%.2f" % s["docling-cpp"]["mean_hr"]))
    for k in SYSTEMS:
        print("worst %-17s %s (NED %.3f)" % (k, s[k]["worst"][0], s[k]["worst"][1]))
    print("docling-cpp at least as good as pdftotext (NED) on %d of %d (rows marked '<' are worse)" % (
        s["docling_not_worse_than_pdftotext"], s["documents"]))
    if "checkbox_accuracy" in s["docling-cpp"]:
        print("docling-cpp checkboxes found with their state: %.3f" % s["docling-cpp"]["checkbox_accuracy"])


def find_cli():
    for b in ("build-layout", "build"):
        p = os.path.join(ROOT, b, "docling-cpp")
        if os.path.exists(p):
            return p
    return "docling-cpp"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=find_cli())
    ap.add_argument("--set", default=os.path.join(HERE, "set"))
    ap.add_argument("--pdfs", default=os.path.join(ROOT, "tests", "data", "pdfs"))
    ap.add_argument("--json", default=os.path.join(HERE, "results", "eval.json"))
    ap.add_argument("--only", default="", help="comma-separated document names")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.set, "index.json")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_set.py"), "--out", a.set], check=True)
    only = set(x for x in a.only.split(",") if x)

    docs = []
    for e in json.load(open(os.path.join(a.set, "index.json"))):
        if only and e["name"] not in only:
            continue
        meta = json.load(open(os.path.join(a.set, e["name"] + ".json"), encoding="utf-8"))
        gt = "\n".join(b["text"] for b in meta["blocks"])
        boxes = [(b["kind"] == "checkbox_selected", b["text"]) for b in meta["blocks"]
                 if b["kind"] in ("checkbox_selected", "checkbox_unselected")]
        docs.append((e["name"], os.path.join(a.set, e["name"] + ".pdf"), gt, [heading_words(h) for h in meta["headings"]],
                     e["layout"], boxes))
    ref = []
    for f in sorted(os.listdir(a.pdfs)):
        stem, ext = os.path.splitext(f)
        if ext != ".pdf" or not os.path.exists(os.path.join(a.pdfs, stem + ".md")) or stem == "ocr_test":
            continue
        if only and stem not in only:
            continue
        gt = open(os.path.join(a.pdfs, stem + ".md"), encoding="utf-8").read()
        ref.append((stem, os.path.join(a.pdfs, f), gt, md_headings(gt), "tests/data/pdfs (docling md)", []))

    result = {"cli": a.cli}
    if docs:
        rows = evaluate(a.cli, docs)
        result["set"] = {"rows": rows, "summary": summary(rows)}
        print_table("evaluation set (bench/text_eval/make_set.py)", rows, result["set"]["summary"])
    if ref:
        rows = evaluate(a.cli, ref)
        result["pdfs"] = {"rows": rows, "summary": summary(rows)}
        print_table("tests/data/pdfs", rows, result["pdfs"]["summary"])
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    print("\nwrote %s" % a.json)


if __name__ == "__main__":
    main()
