#!/usr/bin/env python3
"""docling-cpp serve, driven as docling-serve's clients drive it: multipart uploads, base64
sources, async polling, error cases, 16 clients at once, SIGTERM. Answers are compared with
`docling-cpp convert` output for the same files, byte for byte.

usage: test_serve.py DOCLING_CPP REPO_ROOT [unittest args]
Standard library only (Debian's python3) and curl."""
import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
import zipfile
import zlib

CLI = sys.argv[1] if len(sys.argv) > 1 else "build/docling-cpp"
ROOT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
del sys.argv[1:3]
SAMPLES = os.path.join(ROOT, "samples")
PDFS = os.path.join(ROOT, "tests", "data", "pdfs")
TINY = os.path.join(ROOT, "tests", "data", "oracle", "tiny-idefics3")
CHUNKS = os.path.join(ROOT, "tests", "data", "conformance", "chunks")
TOKENIZERS = os.path.join(CHUNKS, "tokenizers")  # holds all-MiniLM-L6-v2, docling's default chunk tokenizer
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("DOCLING_") and k != "XDG_CACHE_HOME"}
TMP = tempfile.mkdtemp(prefix="docling_test_serve_")
ENV["HOME"] = TMP  # no model unless a test names one
FORMATS = {"md": "md_content", "json": "json_content", "html": "html_content", "text": "text_content",
           "doctags": "doctags_content"}
EXT = {"md": "md", "json": "json", "html": "html", "text": "txt", "doctags": "doctags"}


class Server:
    """docling-cpp serve on a free loopback port; stderr (the JSON log) collected."""
    started = []  # killed at exit if a failed test left one running

    def __init__(self, *args):
        self.proc = subprocess.Popen([CLI, "serve", "--port", "0", *args], env=ENV, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines, self.port = [], None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line)
                if '"event":"listening"' in line:
                    self.port = json.loads(line)["port"]
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        Server.started.append(self.proc)
        if not ready.wait(60) or self.port is None:
            self.proc.kill()
            raise RuntimeError("server did not start:\n" + "".join(self.lines))
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        if rc != 0:  # a crash, or a sanitizer's report: show the server's last words
            time.sleep(0.5)
            sys.stderr.write("server exited %d; its stderr ends:\n%s" % (rc, "".join(self.lines[-60:])))
        return rc

    def log(self):
        return [json.loads(l) for l in self.lines if l.startswith("{")]


def request(url, data=None, headers=None, method=None, timeout=120):
    """(status, headers, body bytes), errors included."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def multipart(files, fields=()):
    """A multipart/form-data body: files as (name, bytes), fields as (name, value)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields:
        out.write(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" %
                  (boundary.encode(), name.encode(), value.encode()))
    for filename, data in files:
        out.write(b"--%s\r\nContent-Disposition: form-data; name=\"files\"; filename=\"%s\"\r\n"
                  b"Content-Type: application/pdf\r\n\r\n" % (boundary.encode(), filename.encode()))
        out.write(data + b"\r\n")
    out.write(b"--%s--\r\n" % boundary.encode())
    return out.getvalue(), {"Content-Type": "multipart/form-data; boundary=" + boundary}


def post_files(server, files, fields=(), path="/v1/convert/file", headers=None):
    body, h = multipart(files, fields)
    h.update(headers or {})
    return request(server.url + path, body, h)


def post_json(server, obj, path="/v1/convert/source", headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return request(server.url + path, json.dumps(obj).encode(), h)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def convert(path, outdir, *args):
    """`docling-cpp convert` of one file, all formats; returns {format: bytes}."""
    os.makedirs(outdir, exist_ok=True)
    r = subprocess.run([CLI, "convert", path, "-o", outdir, "--to", "md,json,html,text,doctags", "-q", *args],
                       env=ENV, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    stem = os.path.splitext(os.path.basename(path))[0]
    return {f: read(os.path.join(outdir, stem + "." + EXT[f])) for f in FORMATS}


class Expect:
    """convert's files, computed once per (file, flags)."""
    cache = {}

    @classmethod
    def of(cls, path, *args):
        key = (path, args)
        if key not in cls.cache:
            cls.cache[key] = convert(path, os.path.join(TMP, "expect", str(len(cls.cache))), *args)
        return cls.cache[key]


def check_same(test, answer, expected, formats=FORMATS):
    """The answer's contents against convert's files. Text files end with one newline added
    (docling-serve's contents are the exports as they are); JSON appears byte for byte."""
    doc = answer["document"]
    for f in formats:
        want = expected[f]
        if f == "json":
            test.assertEqual(doc["json_content"], json.loads(want))
            continue
        got = doc[FORMATS[f]].encode()
        if not got.endswith(b"\n"):
            got += b"\n"
        test.assertEqual(got, want, f)


class TextPipeline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--pipeline", "text", "--workers", "4", "--chunk-tokenizer-dir", TOKENIZERS)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        assert rc == 0, rc

    def test_health_version_openapi(self):
        st, _, body = request(self.server.url + "/health")
        self.assertEqual((st, json.loads(body)["status"]), (200, "ok"))
        st, _, body = request(self.server.url + "/version")
        self.assertEqual(st, 200)
        self.assertIn("docling-cpp", json.loads(body))
        st, _, body = request(self.server.url + "/openapi.json")
        spec = json.loads(body)
        for p in ["/v1/convert/file", "/v1/convert/source", "/v1/convert/file/async", "/v1/convert/source/async",
                  "/v1/status/poll/{task_id}", "/v1/result/{task_id}", "/health", "/version", "/metrics",
                  "/v1/chunk/hybrid/file", "/v1/chunk/hybrid/source/async", "/v1/chunk/hierarchical/file/async",
                  "/v1/chunk/hierarchical/source"]:
            self.assertIn(p, spec["paths"])
        self.assertIn("to_formats", spec["components"]["schemas"]["ConvertDocumentsRequest"]["properties"]["options"]
                      ["properties"])

    def test_file_all_formats_match_convert(self):
        pdf = os.path.join(SAMPLES, "article.pdf")
        fields = [("to_formats", f) for f in FORMATS]
        st, h, body = post_files(self.server, [("article.pdf", read(pdf))], fields)
        self.assertEqual(st, 200, body[:300])
        self.assertEqual(h["Content-Type"], "application/json")
        answer = json.loads(body)
        self.assertEqual(answer["status"], "success")
        self.assertEqual(answer["errors"], [])
        self.assertEqual(answer["document"]["filename"], "article.pdf")
        self.assertGreater(answer["processing_time"], 0)
        expected = Expect.of(pdf, "--pipeline", "text")
        check_same(self, answer, expected)
        self.assertIn(expected["json"].rstrip(b"\n"), body)  # the document's JSON as convert writes it

    def test_default_formats_are_markdown_only(self):
        st, _, body = post_files(self.server, [("report.pdf", read(os.path.join(SAMPLES, "report.pdf")))])
        doc = json.loads(body)["document"]
        self.assertIsInstance(doc["md_content"], str)
        for f in ("json_content", "html_content", "text_content", "doctags_content"):
            self.assertIsNone(doc[f])

    @unittest.skipUnless(shutil.which("curl"), "no curl")
    def test_curl_page_range_and_options(self):
        pdf = os.path.join(PDFS, "normal_4pages.pdf")
        r = subprocess.run(["curl", "-s", "-X", "POST", self.server.url + "/v1/convert/file",
                            "-F", "files=@%s;type=application/pdf" % pdf, "-F", "to_formats=md", "-F", "to_formats=text",
                            "-F", "page_range=2", "-F", "page_range=3", "-F", "image_export_mode=placeholder",
                            "-F", "do_ocr=true", "-F", "table_mode=accurate", "--form-string", "md_page_break_placeholder=<!-- pb -->"],
                           capture_output=True, timeout=120)
        answer = json.loads(r.stdout)
        expected = Expect.of(pdf, "--pipeline", "text", "--pages", "2-3", "--image-mode", "placeholder",
                             "--page-break-placeholder", "<!-- pb -->")
        check_same(self, answer, expected, ["md"])
        self.assertIn("<!-- pb -->", answer["document"]["md_content"])
        self.assertNotIn("<!-- pb -->", answer["document"]["text_content"])  # docling-serve: markdown only
        self.assertTrue(any("table_mode" in w for w in answer["warnings"]), answer["warnings"])

    def test_source_base64_both_forms(self):
        pdf = os.path.join(PDFS, "code_and_formula.pdf")
        b64 = base64.b64encode(read(pdf)).decode()
        expected = Expect.of(pdf, "--pipeline", "text")
        name = "code_and_formula.pdf"  # names the document, as in convert's output
        for key, src in (("sources", {"kind": "file", "base64_string": b64, "filename": name}),
                         ("file_sources", {"base64_string": b64, "filename": name})):
            st, _, body = post_json(self.server, {"options": {"to_formats": ["md", "json"]}, key: [src]})
            self.assertEqual(st, 200, body[:300])
            answer = json.loads(body)
            self.assertEqual(answer["document"]["filename"], name)
            check_same(self, answer, expected, ["md", "json"])

    def test_async_file_and_source(self):
        pdf = os.path.join(PDFS, "multi_page.pdf")
        st, _, body = post_files(self.server, [("m.pdf", read(pdf))], [("to_formats", "md")], "/v1/convert/file/async")
        self.assertEqual(st, 200)
        task = json.loads(body)
        self.assertEqual(task["task_type"], "convert")
        self.assertIn(task["task_status"], ("pending", "started", "success"))
        b64 = base64.b64encode(read(pdf)).decode()
        st, _, body = post_json(self.server, {"file_sources": [{"base64_string": b64, "filename": "m.pdf"}]},
                                "/v1/convert/source/async")
        task2 = json.loads(body)
        for t in (task, task2):
            deadline = time.time() + 60
            while True:
                st, _, body = request(self.server.url + "/v1/status/poll/%s?wait=5" % t["task_id"])
                status = json.loads(body)
                if status["task_status"] in ("success", "failure") or time.time() > deadline:
                    break
            self.assertEqual(status["task_status"], "success")
            self.assertEqual(status["task_meta"]["num_succeeded"], 1)
            st, _, body = request(self.server.url + "/v1/result/" + t["task_id"])
            self.assertEqual(st, 200)
            check_same(self, json.loads(body), Expect.of(pdf, "--pipeline", "text"), ["md"])
        st, _, _ = request(self.server.url + "/v1/status/poll/nosuchtask")
        self.assertEqual(st, 404)
        st, _, _ = request(self.server.url + "/v1/result/nosuchtask")
        self.assertEqual(st, 404)

    def test_several_files_answer_a_zip(self):
        names = ["article.pdf", "report.pdf"]
        files = [(n, read(os.path.join(SAMPLES, n))) for n in names]
        st, h, body = post_files(self.server, files, [("to_formats", "md"), ("to_formats", "json")])
        self.assertEqual(st, 200)
        self.assertEqual(h["Content-Type"], "application/zip")
        z = zipfile.ZipFile(io.BytesIO(body))
        self.assertEqual(sorted(z.namelist()), ["article.json", "article.md", "report.json", "report.md"])
        for n in names:
            expected = Expect.of(os.path.join(SAMPLES, n), "--pipeline", "text")
            stem = n[:-4]
            self.assertEqual(z.read(stem + ".md"), expected["md"])
            self.assertEqual(z.read(stem + ".json"), expected["json"])

    def test_bad_pdf_is_a_failure_naming_the_file(self):
        st, _, body = post_files(self.server, [("broken.pdf", b"%PDF-1.4\nnot really a pdf\n")])
        self.assertEqual(st, 200)
        answer = json.loads(body)
        self.assertEqual(answer["status"], "failure")
        self.assertTrue(answer["errors"])
        self.assertIn("broken.pdf", answer["errors"][0]["error_message"])
        self.assertIsNone(answer["document"]["md_content"])

    def test_abort_on_error_skips_the_rest(self):
        files = [("broken.pdf", b"garbage"), ("article.pdf", read(os.path.join(SAMPLES, "article.pdf")))]
        st, h, body = post_files(self.server, files, [("abort_on_error", "true"), ("target_type", "zip")],
                                 "/v1/convert/file/async")
        task_id = json.loads(body)["task_id"]
        request(self.server.url + "/v1/status/poll/%s?wait=30" % task_id)
        st, _, body = request(self.server.url + "/v1/status/poll/" + task_id)
        meta = json.loads(body)["task_meta"]
        self.assertEqual((meta["num_processed"], meta["num_failed"], meta["num_succeeded"]), (2, 2, 0))

    def test_unknown_option_is_422_naming_it(self):
        st, _, body = post_files(self.server, [("a.pdf", b"x")], [("to_formats", "md"), ("frobnicate", "1")])
        self.assertEqual(st, 422)
        self.assertIn("frobnicate", body.decode())
        st, _, body = post_json(self.server, {"options": {"no_such_thing": True},
                                              "file_sources": [{"base64_string": "eA==", "filename": "a.pdf"}]})
        self.assertEqual(st, 422)
        self.assertIn("no_such_thing", body.decode())
        st, _, body = post_json(self.server, {"options": {"to_formats": ["pptx"]},
                                              "file_sources": [{"base64_string": "eA==", "filename": "a.pdf"}]})
        self.assertEqual(st, 422)
        self.assertIn("pptx", body.decode())

    def test_http_sources_are_refused_clearly(self):
        st, _, body = post_json(self.server, {"http_sources": [{"url": "https://arxiv.org/pdf/2206.01062"}]})
        self.assertEqual(st, 400)
        self.assertIn("allow-list", json.loads(body)["detail"])
        st, _, body = post_json(self.server, {"sources": [{"kind": "http", "url": "https://example.com/a.pdf"}]})
        self.assertEqual(st, 400)

    def test_sixteen_clients_at_once(self):
        work = [os.path.join(SAMPLES, n) for n in ("article.pdf", "report.pdf", "scanned_page.pdf")]
        work += [os.path.join(PDFS, n) for n in sorted(os.listdir(PDFS)) if n.endswith(".pdf")]
        jobs = [(p, None) for p in work]
        for pdf in ("normal_4pages.pdf", "multi_page.pdf", "redp5110_sampled.pdf", "normal_4pages.pdf",
                    "redp5110_sampled.pdf"):
            jobs.append((os.path.join(PDFS, pdf), 1 + len(jobs) % 2))
        jobs = jobs[:16]
        self.assertEqual(len(jobs), 16)
        expected = [Expect.of(p, "--pipeline", "text", *(["--pages", str(pg)] if pg else [])) for p, pg in jobs]
        answers = [None] * len(jobs)

        def client(i):
            p, pg = jobs[i]
            fields = [("to_formats", "md"), ("to_formats", "json")]
            if pg:
                fields += [("page_range", str(pg)), ("page_range", str(pg))]
            answers[i] = post_files(self.server, [(os.path.basename(p), read(p))], fields)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, (st, _, body) in enumerate(answers):
            self.assertEqual(st, 200, jobs[i])
            answer = json.loads(body)
            self.assertEqual(answer["document"]["filename"], os.path.basename(jobs[i][0]))
            if answer["status"] != "failure":
                check_same(self, answer, expected[i], ["md", "json"])

    # --- chunking (docling-serve's /v1/chunk/...) ---

    def check_conformance(self, case, path, fields):
        """docling-core's reference chunks (tests/data/conformance/chunks) through the server: the
        case's DoclingDocument JSON uploaded, chunked with the case's options."""
        data = read(os.path.join(CHUNKS, case, "input.json"))
        expected = json.loads(read(os.path.join(CHUNKS, case, "expected.json")))["root"]
        st, _, body = post_files(self.server, [(case + ".json", data)], fields + [("chunking_include_raw_text", "true")],
                                 path)
        self.assertEqual(st, 200, body[:400])
        answer = json.loads(body)
        self.assertEqual(answer["documents"][0]["status"], "success")
        chunks = answer["chunks"]
        self.assertEqual(len(chunks), len(expected), case)
        for i, (got, want) in enumerate(zip(chunks, expected)):
            meta = want["meta"]
            self.assertEqual((got["filename"], got["chunk_index"]), (case + ".json", i))
            self.assertEqual(got["raw_text"], want["text"], (case, i))
            self.assertEqual(got["doc_items"], [d["self_ref"] for d in meta["doc_items"]], (case, i))
            self.assertEqual(got["headings"], meta.get("headings"), (case, i))
            self.assertEqual(got["captions"], meta.get("captions"), (case, i))
            self.assertEqual(got["metadata"]["origin"], meta["origin"], (case, i))
            pages = sorted({p["page_no"] for d in meta["doc_items"] for p in d.get("prov", [])})
            self.assertEqual(got["page_numbers"], pages, (case, i))
            heads = "\n".join(meta.get("headings") or [])
            self.assertEqual(got["text"], (heads + "\n" if heads else "") + want["text"], (case, i))
        return chunks

    def test_chunk_conformance_hybrid_defaults(self):
        # No chunking option but the raw text: docling-serve's defaults (all-MiniLM-L6-v2 with
        # its own 256-token limit, triplet tables, peers merged).
        chunks = self.check_conformance("hybrid_wiki_default_256", "/v1/chunk/hybrid/file", [])
        self.assertTrue(all(0 < c["num_tokens"] <= 256 for c in chunks))

    def test_chunk_conformance_hybrid_markdown_tables(self):
        chunks = self.check_conformance("hybrid_wiki_md_tables_64", "/v1/chunk/hybrid/file",
                                        [("chunking_max_tokens", "64"), ("chunking_use_markdown_tables", "true"),
                                         ("chunking_tokenizer", MINILM), ("chunking_merge_peers", "true")])
        self.assertTrue(any(c["num_tokens"] > 32 for c in chunks))

    def test_chunk_conformance_hierarchical(self):
        chunks = self.check_conformance("hier_docling_report", "/v1/chunk/hierarchical/file", [])
        self.assertTrue(all(c["num_tokens"] is None for c in chunks))  # docling-serve counts only for hybrid

    def cli_chunks(self, pdf, *args):
        """`docling-cpp convert --to chunks` of a PDF: its .chunks.jsonl lines."""
        out = os.path.join(TMP, "cli-chunks", str(uuid.uuid4()))
        r = subprocess.run([CLI, "convert", pdf, "-o", out, "--to", "chunks", "--pipeline", "text", "-q", *args],
                           env=ENV, capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        stem = os.path.splitext(os.path.basename(pdf))[0]
        return [json.loads(l) for l in read(os.path.join(out, stem + ".chunks.jsonl")).splitlines() if l.strip()]

    def check_against_cli(self, got, lines, filename, hybrid):
        self.assertEqual(len(got), len(lines), filename)
        for i, (c, l) in enumerate(zip(got, lines)):
            self.assertEqual((c["filename"], c["chunk_index"]), (filename, i))
            self.assertEqual(c["text"], l["contextualized"])
            self.assertEqual(c["doc_items"], [d["self_ref"] for d in l["meta"]["doc_items"]])
            self.assertEqual(c["num_tokens"], l["num_tokens"] if hybrid else None)
            self.assertEqual(c["headings"], l["meta"].get("headings"))

    def test_chunk_two_pdfs_match_convert(self):
        names = ["article.pdf", "report.pdf"]
        files = [(n, read(os.path.join(SAMPLES, n))) for n in names]
        st, h, body = post_files(self.server, files, [("chunking_max_tokens", "128"), ("chunking_tokenizer", MINILM),
                                                      ("convert_do_ocr", "false")], "/v1/chunk/hybrid/file")
        self.assertEqual(st, 200, body[:300])
        self.assertEqual(h["Content-Type"], "application/json")
        answer = json.loads(body)
        self.assertEqual([d["content"]["filename"] for d in answer["documents"]], names)
        self.assertEqual([d["status"] for d in answer["documents"]], ["success"] * 2)
        self.assertIsNone(answer["documents"][0]["content"]["json_content"])  # include_converted_doc is false
        for n in names:
            got = [c for c in answer["chunks"] if c["filename"] == n]
            self.assertTrue(all(c["raw_text"] is None for c in got))  # include_raw_text is false
            lines = self.cli_chunks(os.path.join(SAMPLES, n), "--chunk-tokenizer",
                                    os.path.join(TOKENIZERS, "all-MiniLM-L6-v2"), "--chunk-max-tokens", "128")
            self.check_against_cli(got, lines, n, True)
            self.assertTrue(all(c["num_tokens"] <= 128 for c in got))

    def test_chunk_source_async_hierarchical_with_document(self):
        pdf = os.path.join(PDFS, "normal_4pages.pdf")
        b64 = base64.b64encode(read(pdf)).decode()
        st, _, body = post_json(self.server, {
            "convert_options": {"page_range": [2, 3], "do_ocr": True},
            "chunking_options": {"chunker": "hierarchical", "use_markdown_tables": True, "include_raw_text": True},
            "include_converted_doc": True,
            "sources": [{"kind": "file", "base64_string": b64, "filename": "normal_4pages.pdf"}]},
            "/v1/chunk/hierarchical/source/async")
        self.assertEqual(st, 200, body[:300])
        task = json.loads(body)
        self.assertEqual(task["task_type"], "chunk")
        st, _, body = request(self.server.url + "/v1/status/poll/%s?wait=60" % task["task_id"])
        self.assertEqual(json.loads(body)["task_status"], "success")
        st, _, body = request(self.server.url + "/v1/result/" + task["task_id"])
        self.assertEqual(st, 200)
        answer = json.loads(body)
        lines = self.cli_chunks(pdf, "--pages", "2-3", "--chunker", "hierarchical", "--chunk-table-format", "markdown")
        self.check_against_cli(answer["chunks"], lines, "normal_4pages.pdf", False)
        self.assertEqual([c["raw_text"] for c in answer["chunks"]], [l["text"] for l in lines])
        self.assertTrue(all(set(c["page_numbers"]) <= {2, 3} for c in answer["chunks"]))
        self.assertEqual(answer["documents"][0]["content"]["json_content"],
                         json.loads(Expect.of(pdf, "--pipeline", "text", "--pages", "2-3")["json"]))
        self.assertFalse(any("do_ocr" in w for w in answer["warnings"]))  # true is docling's default: nothing to report

    def test_chunk_errors_are_4xx_naming_the_cause(self):
        pdf = [("a.pdf", read(os.path.join(SAMPLES, "article.pdf")))]
        url = "/v1/chunk/hybrid/file"
        for fields, needle in (([("chunking_tokenizer", "BAAI/bge-m3")], "BAAI/bge-m3"),
                               ([("chunking_tokenizer", "../../etc")], "../../etc"),
                               ([("chunking_frobnicate", "1")], "chunking_frobnicate"),
                               ([("convert_frobnicate", "1")], "frobnicate"),
                               ([("to_formats", "md")], "to_formats"),  # convert options need the convert_ prefix
                               ([("target_type", "zip")], "zip"),
                               ([("chunking_max_tokens", "0")], "max_tokens")):
            st, _, body = post_files(self.server, pdf, fields, url)
            self.assertEqual(st, 422, (fields, body[:300]))
            self.assertIn(needle, body.decode(), fields)
        st, _, body = post_json(self.server, {"chunking_options": {"max_tokens": "many"},
                                              "file_sources": [{"base64_string": "eA==", "filename": "a.pdf"}]},
                                "/v1/chunk/hybrid/source")
        self.assertEqual(st, 422)
        self.assertIn("max_tokens", body.decode())
        st, _, body = post_json(self.server, {"options": {}, "file_sources": []}, "/v1/chunk/hybrid/source")
        self.assertEqual(st, 422)  # convert's field name: chunk requests take convert_options
        # A hybrid-only option on the hierarchical chunker is accepted and reported.
        st, _, body = post_files(self.server, pdf, [("chunking_max_tokens", "64")], "/v1/chunk/hierarchical/file")
        self.assertEqual(st, 200)
        self.assertIn("max_tokens (hybrid chunker only)", " ".join(json.loads(body)["warnings"]))

    def test_access_log_has_one_line_per_request(self):
        request(self.server.url + "/health?probe=1")
        time.sleep(0.2)
        lines = [l for l in self.server.log() if l.get("path") == "/health"]
        self.assertTrue(lines)
        for k in ("time", "method", "status", "ms", "remote", "bytes_out"):
            self.assertIn(k, lines[-1])


class Limits(unittest.TestCase):
    def test_api_key(self):
        s = Server("--api-key", "s3cret", "--pipeline", "text")
        try:
            pdf = read(os.path.join(SAMPLES, "article.pdf"))
            self.assertEqual(post_files(s, [("a.pdf", pdf)])[0], 401)
            self.assertEqual(post_files(s, [("a.pdf", pdf)], headers={"X-Api-Key": "wrong"})[0], 401)
            self.assertEqual(post_files(s, [("a.pdf", pdf)], headers={"X-Api-Key": "s3cret"})[0], 200)
            self.assertEqual(request(s.url + "/v1/status/poll/x")[0], 401)
            self.assertEqual(request(s.url + "/health")[0], 200)  # probes need no key
        finally:
            self.assertEqual(s.stop(), 0)

    def test_oversize_upload_is_413(self):
        s = Server("--max-file-mb", "1", "--pipeline", "text")
        try:
            big = b"%PDF-1.4\n" + b"0" * (1 << 20)
            st, _, body = post_files(s, [("big.pdf", big)])
            self.assertEqual(st, 413)
            self.assertIn("big.pdf", body.decode())
            st, _, _ = post_json(s, {"file_sources": [{"base64_string": base64.b64encode(big).decode(),
                                                         "filename": "big.pdf"}]})
            self.assertEqual(st, 413)
            st, _, _ = post_files(s, [("huge.pdf", b"0" * (6 << 20))])  # past the body limit (4 x 1 + 1 MiB)
            self.assertEqual(st, 413)
        finally:
            self.assertEqual(s.stop(), 0)

    def test_decompression_bomb_cap(self):
        # A page whose content stream inflates to 3 MiB of spaces from a few KiB: refused past
        # --max-inflated-mb 1, converted under the default cap (512 MiB).
        content = zlib.compress(b" " * (3 << 20), 9)
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream"]
        pdf, offsets = b"%PDF-1.4\n", []
        for i, o in enumerate(objs):
            offsets.append(len(pdf))
            pdf += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
        xref = len(pdf)
        pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
        pdf += b"".join(b"%010d 00000 n \n" % off for off in offsets)
        pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
        s = Server("--max-inflated-mb", "1", "--pipeline", "text")
        try:
            st, _, body = post_files(s, [("bomb.pdf", pdf)])
            self.assertEqual(st, 200)
            answer = json.loads(body)
            self.assertEqual(answer["status"], "failure")
            message = answer["errors"][0]["error_message"]
            self.assertIn("bomb.pdf", message)
            self.assertIn("decompression bomb", message)
        finally:
            self.assertEqual(s.stop(), 0)
        s = Server("--pipeline", "text")
        try:
            st, _, body = post_files(s, [("bomb.pdf", pdf)])
            self.assertEqual(st, 200)
            self.assertNotIn("decompression bomb", body.decode())
        finally:
            self.assertEqual(s.stop(), 0)

    def test_chunk_without_a_tokenizer(self):
        s = Server("--pipeline", "text")  # HOME is empty: no Hugging Face cache, no default tokenizer
        try:
            pdf = [("a.pdf", read(os.path.join(SAMPLES, "article.pdf")))]
            st, _, body = post_files(s, pdf, (), "/v1/chunk/hybrid/file")
            self.assertEqual(st, 422)
            self.assertIn("--chunk-tokenizer", body.decode())
            st, _, body = post_files(s, pdf, (), "/v1/chunk/hierarchical/file")
            self.assertEqual(st, 200)
            self.assertTrue(json.loads(body)["chunks"])
        finally:
            self.assertEqual(s.stop(), 0)

    def test_full_queue_is_503_with_retry_after_and_sigterm_finishes_cleanly(self):
        s = Server("--workers", "1", "--max-queue", "2", "--pipeline", "text", "--shutdown-grace", "60")
        pdf = read(os.path.join(PDFS, "redp5110_sampled.pdf"))
        busy = [("f%d.pdf" % i, pdf) for i in range(12)]  # keeps the one worker busy a while
        st, _, body = post_files(s, busy, [("target_type", "zip")], "/v1/convert/file/async")
        self.assertEqual(st, 200)
        running = json.loads(body)["task_id"]
        st, _, body = post_files(s, busy[:1], (), "/v1/convert/file/async")
        self.assertEqual(st, 200)
        queued = json.loads(body)["task_id"]
        waiting = []  # a synchronous client queued behind both
        sync = threading.Thread(target=lambda: waiting.append(post_files(s, busy[:1])))
        sync.start()
        deadline = time.time() + 10
        while time.time() < deadline and json.loads(request(s.url + "/health")[2])["queued"] < 2:
            time.sleep(0.01)
        st, h, body = post_files(s, busy[:1], (), "/v1/convert/file/async")
        self.assertEqual(st, 503, body)
        self.assertGreaterEqual(int(h["Retry-After"]), 1)
        st, _, body = request(s.url + "/v1/status/poll/" + queued)
        self.assertEqual(json.loads(body)["task_position"], 0)
        st, _, body = request(s.url + "/v1/status/poll/" + running)
        self.assertEqual(json.loads(body)["task_status"], "started")
        self.assertEqual(s.stop(), 0)  # the running task finishes, the queued ones fail
        sync.join(30)
        self.assertEqual(waiting[0][0], 503)
        self.assertIn("shutting down", waiting[0][2].decode())
        events = [l.get("event") for l in s.log()]
        self.assertEqual(events[-1], "stopped")
        shutdown = [l for l in s.log() if l.get("event") == "shutdown"][0]
        self.assertEqual(shutdown["queued_tasks_failed"], 2)


@unittest.skipUnless(os.path.isdir(TINY), "no tiny checkpoint")
class ModelPipeline(unittest.TestCase):
    def test_vlm_matches_convert_and_serves_concurrent_clients(self):
        args = ["--model", TINY, "--pipeline", "vlm", "--max-new-tokens", "48"]
        s = Server(*args)
        try:
            work = [os.path.join(SAMPLES, "article.pdf"), os.path.join(SAMPLES, "scanned_page.pdf"),
                    os.path.join(PDFS, "right_to_left_01.pdf"), os.path.join(PDFS, "ocr_test.pdf")]
            expected = [Expect.of(p, *args) for p in work]
            answers = [None] * len(work)

            def client(i):
                answers[i] = post_files(s, [(os.path.basename(work[i]), read(work[i]))],
                                        [("to_formats", "md"), ("to_formats", "doctags"), ("pipeline", "vlm")])

            threads = [threading.Thread(target=client, args=(i,)) for i in range(len(work))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for i, (st, _, body) in enumerate(answers):
                self.assertEqual(st, 200)
                check_same(self, json.loads(body), expected[i], ["md", "doctags"])
        finally:
            self.assertEqual(s.stop(), 0)

    def test_sixteen_clients_share_decoder_steps_in_bounded_memory(self):
        # 16 clients at once, each a different one-page conversion (pages cycle through the
        # samples and test PDFs); every answer is checked against convert, the engine's
        # counters must show steps whose tokens went to pages of different requests, and the
        # server's peak RSS stays bounded.
        args = ["--model", TINY, "--pipeline", "vlm", "--max-new-tokens", "24"]
        s = Server(*args, "--batch", "4", "--workers", "16")
        try:
            pdfs = [os.path.join(SAMPLES, n) for n in ("article.pdf", "report.pdf", "scanned_page.pdf")]
            pdfs += [os.path.join(PDFS, n) for n in sorted(os.listdir(PDFS)) if n.endswith(".pdf")]
            jobs = [(pdfs[i % len(pdfs)], 1 + i // len(pdfs)) for i in range(16)]
            answers = [None] * len(jobs)

            def client(i):
                p, pg = jobs[i]
                answers[i] = post_files(s, [(os.path.basename(p), read(p))],
                                        [("to_formats", "doctags"), ("page_range", str(pg)), ("page_range", str(pg))])

            before = json.loads(request(s.url + "/health")[2])["engine"]
            t0 = time.time()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(len(jobs))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.time() - t0
            stats = json.loads(request(s.url + "/health")[2])["engine"]
            with open("/proc/%d/status" % s.proc.pid) as f:
                hwm_kb = int([l for l in f if l.startswith("VmHWM:")][0].split()[1])
            converted = 0
            for i, (st, _, body) in enumerate(answers):
                self.assertEqual(st, 200, jobs[i])
                answer = json.loads(body)
                p, pg = jobs[i]
                if answer["status"] == "failure":  # a PDF with fewer pages than asked for
                    self.assertIn("page", json.dumps(answer["errors"]))
                    continue
                converted += 1
                check_same(self, answer, Expect.of(p, *args, "--pages", str(pg)), ["doctags"])
            self.assertGreaterEqual(converted, 12)
            steps = stats["decoder_steps"] - before["decoder_steps"]
            tokens = stats["decoded_tokens"] - before["decoded_tokens"]
            print("\n16 clients (tiny model): %.1f s, %d pages encoded, %d tokens in %d decoder steps "
                  "(%.2f tokens/step), %d steps shared by requests, at most %d requests and %d rows in a step; "
                  "server VmHWM %.0f MiB" % (seconds, stats["pages_encoded"], tokens, steps, tokens / max(1, steps),
                                             stats["shared_steps"], stats["max_conversions_in_a_step"],
                                             stats["max_rows_in_a_step"], hwm_kb / 1024), file=sys.stderr)
            self.assertEqual(stats["pages_encoded"] - before["pages_encoded"], converted)
            self.assertGreaterEqual(stats["max_conversions_in_a_step"], 2)  # one step served two requests
            self.assertGreater(stats["shared_steps"], 0)
            self.assertGreater(tokens / steps, 1.0)
            metrics = request(s.url + "/metrics")[2].decode()
            self.assertIn("docling_cpp_shared_steps_total %d" % stats["shared_steps"], metrics)
            # The tiny model is a few MiB; 16 requests must not grow the server past this
            # (generous: ASan builds double the footprint).
            self.assertLess(hwm_kb, 3 << 20, "VmHWM %d kB" % hwm_kb)
        finally:
            self.assertEqual(s.stop(), 0)

    def test_document_timeout(self):
        # The random checkpoint writes until the token limit: far past the timeout.
        s = Server("--model", TINY, "--pipeline", "vlm", "--workers", "1")
        try:
            pdf = read(os.path.join(PDFS, "normal_4pages.pdf"))
            t0 = time.time()
            st, _, body = post_files(s, [("r.pdf", pdf)], [("document_timeout", "0.5")])
            self.assertLess(time.time() - t0, 30)
            answer = json.loads(body)
            self.assertEqual(st, 200)
            self.assertIn(answer["status"], ("partial_success", "failure"))
            self.assertIn("timeout", json.dumps(answer["errors"]))
        finally:
            self.assertEqual(s.stop(), 0)

    def test_vlm_without_model_is_422(self):
        s = Server("--pipeline", "text")
        try:
            st, _, body = post_files(s, [("a.pdf", b"x")], [("pipeline", "vlm")])
            self.assertEqual(st, 422)
            self.assertIn("model", body.decode())
        finally:
            s.stop()


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        for p in Server.started:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(TMP, ignore_errors=True)
