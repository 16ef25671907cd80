#!/usr/bin/env python3
"""Load on `docling-cpp serve` over loopback: requests/s and p50/p95 latency at 1, 4 and 8
concurrent clients (POST /v1/convert/file, one PDF per request, Markdown), for the text
pipeline and, given --model DIR, the model pipeline; the same documents through
`docling-cpp convert` in one run for comparison. Bounded: --requests per level and --max-seconds
per level. Writes JSON (--out). Standard library only.

With --model, --batch-gain also runs the highest level against a server that decodes one
page at a time (--batch 1): the ratio of the two is what cross-request batching gives.

usage: bench/serve_load.py [--cli build/docling-cpp] [--model DIR [--max-new-tokens N] [--batch-gain]]
                          [--requests 48] [--levels 1,4,8] [--inputs FILE ...] [--out serve_load.json]"""
import argparse
import glob
import io
import json
import os
import platform
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def multipart(filename, data):
    b = uuid.uuid4().hex
    ctype = "image/png" if filename.lower().endswith(".png") else "application/pdf"
    out = io.BytesIO()
    out.write(b"--%s\r\nContent-Disposition: form-data; name=\"to_formats\"\r\n\r\nmd\r\n" % b.encode())
    out.write(b"--%s\r\nContent-Disposition: form-data; name=\"files\"; filename=\"%s\"\r\n"
              b"Content-Type: %s\r\n\r\n" % (b.encode(), filename.encode(), ctype.encode()))
    out.write(data + b"\r\n--%s--\r\n" % b.encode())
    return out.getvalue(), {"Content-Type": "multipart/form-data; boundary=" + b}


def start(cli, args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCLING_")}
    p = subprocess.Popen([cli, "serve", "--port", "0", *args], env=env, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if '"event":"listening"' in line:
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()  # drain the log
            return p, "http://127.0.0.1:%d" % json.loads(line)["port"]
    raise RuntimeError("server did not start")


def engine(url):
    """The server's decoder counters (/health's engine: docling::EngineStats)."""
    with urllib.request.urlopen(url + "/health", timeout=30) as r:
        return json.loads(r.read()).get("engine", {})


def level(url, docs, clients, requests, max_seconds):
    """`requests` conversions spread over `clients` threads; latencies, wall time, and what the
    decoder did meanwhile (tokens per step > 1 and shared steps: requests batched together)."""
    before = engine(url)
    lat, errors, lock = [], [0], threading.Lock()
    next_i = [0]
    t0 = time.time()

    def client():
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= requests or time.time() - t0 > max_seconds:
                return
            name, data = docs[i % len(docs)]
            body, h = multipart(name, data)
            s = time.time()
            try:
                with urllib.request.urlopen(urllib.request.Request(url + "/v1/convert/file", body, h), timeout=600) as r:
                    ok = r.status == 200 and json.loads(r.read())["status"] in ("success", "partial_success")
            except Exception:
                ok = False
            with lock:
                lat.append(time.time() - s)
                errors[0] += not ok

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None
    after = engine(url)
    delta = {k: after[k] - before.get(k, 0) for k in ("decoder_steps", "decoded_tokens", "shared_steps") if k in after}
    if delta.get("decoder_steps"):
        delta["tokens_per_step"] = round(delta["decoded_tokens"] / delta["decoder_steps"], 2)
    return {"clients": clients, "requests": len(lat), "errors": errors[0], "wall_s": round(wall, 3),
            "requests_per_s": round(len(lat) / wall, 2), "p50_ms": round(pct(0.5) * 1000, 1),
            "p95_ms": round(pct(0.95) * 1000, 1), "decoder": delta}


def serve_levels(a, docs, args, clients):
    """One server, the given concurrency levels in turn."""
    proc, url = start(a.cli, args)
    try:
        return [level(url, docs, c, a.requests, a.max_seconds) for c in clients]
    finally:
        proc.terminate()
        proc.wait(120)


def cli_run(cli, paths, args):
    """The same documents through `docling-cpp convert`, one process."""
    out = tempfile.mkdtemp(prefix="serve_load_cli_")
    t0 = time.time()
    p = subprocess.run([cli, "convert", *paths, "-o", out, "--to", "md", "-q", *args], check=False,
                       capture_output=True, text=True)
    wall = time.time() - t0
    # The exit code and the summary line: a figure from a run that failed is not a speed.
    summary = (p.stderr.strip().splitlines() or [""])[-1]
    return {"documents": len(paths), "wall_s": round(wall, 3), "documents_per_s": round(len(paths) / wall, 2),
            "exit_code": p.returncode, "summary": summary}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "docling-cpp"))
    ap.add_argument("--model", help="checkpoint folder: also measure the model pipeline")
    ap.add_argument("--requests", type=int, default=48, help="requests per concurrency level")
    ap.add_argument("--max-seconds", type=float, default=120, help="time bound per level")
    ap.add_argument("--levels", default="1,4,8")
    ap.add_argument("--max-new-tokens", help="token limit per page for the model pipeline (a random checkpoint\n"
                    "writes until the limit)")
    ap.add_argument("--batch-gain", action="store_true", help="model pipeline: also the highest level with --batch 1")
    ap.add_argument("--inputs", nargs="+", help="documents for the model pipeline (default, and always for the text\n"
                    "pipeline: samples/*.pdf and tests/data/pdfs/*.pdf)")
    ap.add_argument("--out", default="serve_load.json")
    a = ap.parse_args()
    pdfs = sorted(glob.glob(os.path.join(ROOT, "samples", "*.pdf")) +
                  glob.glob(os.path.join(ROOT, "tests", "data", "pdfs", "*.pdf")))
    runs = [("text", ["--pipeline", "text"], pdfs)]  # the text pipeline needs a text layer
    if a.model:
        limit = ["--max-new-tokens", a.max_new_tokens] if a.max_new_tokens else []
        runs.append(("vlm", ["--pipeline", "vlm", "--model", a.model, *limit], a.inputs or pdfs))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    report = {"cpu": cpu, "cores": os.cpu_count(), "pipelines": {}}
    for name, args, paths in runs:
        docs = [(os.path.basename(p), open(p, "rb").read()) for p in paths]
        levels = serve_levels(a, docs, args, [int(c) for c in a.levels.split(",")])
        n = min(a.requests, len(paths))
        report["pipelines"][name] = {"documents": [d for d, _ in docs], "serve": levels,
                                     "cli_convert": cli_run(a.cli, paths[:n], args)}
        if name == "vlm" and a.batch_gain:
            one = serve_levels(a, docs, [*args, "--batch", "1"], [levels[-1]["clients"]])[0]
            gain = round(levels[-1]["requests_per_s"] / one["requests_per_s"], 2) if one["requests_per_s"] else None
            report["pipelines"][name]["batch_1"] = one
            report["pipelines"][name]["cross_request_batching_gain"] = gain
            print("vlm  clients=%d with --batch 1: %.2f req/s; cross-request batching gives %sx" %
                  (one["clients"], one["requests_per_s"], gain))
        for l in levels:
            d = l["decoder"]
            dec = "  %.2f tokens/step, %d shared steps" % (d["tokens_per_step"], d["shared_steps"]) if "tokens_per_step" in d else ""
            print("%-4s clients=%d  %6.2f req/s  p50 %7.1f ms  p95 %7.1f ms  errors %d%s" %
                  (name, l["clients"], l["requests_per_s"], l["p50_ms"], l["p95_ms"], l["errors"], dec))
        c = report["pipelines"][name]["cli_convert"]
        print("%-4s cli convert: %d documents in %.2f s (%.2f documents/s), exit %d: %s" %
              (name, c["documents"], c["wall_s"], c["documents_per_s"], c["exit_code"], c["summary"]))
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
