#!/usr/bin/env python3
"""The C API (include/docling/docling.h) driven from Python through ctypes: proves the ABI
(struct layouts, calling conventions, exported symbols) of the shared library.

usage: test_c_api.py LIBDOCLING.so [TEST_DATA_DIR] [unittest args]
Standard library only (Debian's python3)."""
import ctypes
import json
import os
import sys
import tempfile
import threading
import unittest
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_bool, c_char_p, c_double, c_int, c_int32, c_int64,
                    c_size_t, c_uint64, c_void_p)

LIB_PATH = sys.argv[1] if len(sys.argv) > 1 else None
DATA = (sys.argv[2] if len(sys.argv) > 2 else
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
PDFS = os.path.join(DATA, "pdfs")
CONF = os.path.join(DATA, "conformance")
TINY = os.path.join(DATA, "oracle", "tiny-idefics3")

# docling_status
OK, INVALID_ARGUMENT, MODEL, INPUT, OUTPUT, CANCELLED, OUT_OF_MEMORY, INTERNAL = range(8)
# docling_conversion_status
SUCCESS, PARTIAL, FAILURE, CONV_CANCELLED = range(4)
# docling_pipeline
PIPELINE_DEFAULT, PIPELINE_VLM, PIPELINE_TEXT, PIPELINE_AUTO = range(4)
# docling_format
MARKDOWN, HTML, JSON_FMT, DOCTAGS, TEXT = range(5)

LOG_CB = CFUNCTYPE(None, c_int, c_char_p, c_void_p)


class EngineOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("model_dir", c_char_p), ("weights", c_int), ("kv_cache", c_int),
                ("threads", c_int32), ("batch_size", c_int32), ("pages_in_flight", c_int32),
                ("max_new_tokens", c_int32), ("max_isa", c_int), ("int8_activations", c_bool), ("bf16_dot", c_bool),
                ("log", LOG_CB), ("log_user_data", c_void_p)]


class PageInfo(Structure):
    _fields_ = [("page", c_int32), ("from_model", c_bool), ("document", c_void_p), ("doctags", c_char_p),
                ("warnings", POINTER(c_char_p)), ("n_warnings", c_size_t)]


PAGE_CB = CFUNCTYPE(None, POINTER(PageInfo), c_void_p)


class ConvertOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("pipeline", c_int), ("pages", c_char_p), ("password", c_char_p),
                ("max_new_tokens", c_int32), ("force_backend_text", c_bool), ("render_direct", c_bool),
                ("loop_guard", c_bool), ("page_images", c_bool), ("speculate", c_bool),
                ("max_input_bytes", c_uint64), ("max_side", c_int32), ("max_pixels", c_int64),
                ("cancel", c_void_p), ("on_page", PAGE_CB), ("on_page_user_data", c_void_p)]


class ExportOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("image_mode", c_int), ("page_break_placeholder", c_char_p),
                ("pages", POINTER(c_int32)), ("n_pages", c_size_t), ("md_compact_tables", c_bool),
                ("doctags_minified", c_bool), ("excluded_labels", POINTER(c_char_p)), ("n_excluded_labels", c_size_t)]


class Item(Structure):
    _fields_ = [("struct_size", c_size_t), ("ref", c_char_p), ("label", c_char_p), ("text", c_char_p),
                ("level", c_int32), ("page", c_int32), ("left", c_double), ("top", c_double), ("right", c_double),
                ("bottom", c_double), ("furniture", c_bool)]


class Bytes(Structure):
    _fields_ = [("data", c_void_p), ("size", c_size_t)]


def load(path):
    lib = ctypes.CDLL(path)
    P = c_void_p  # every handle is opaque
    sigs = {
        "docling_version": (c_char_p, []),
        "docling_status_string": (c_char_p, [c_int]),
        "docling_last_error": (c_char_p, []),
        "docling_free": (None, [c_void_p]),
        "docling_engine_default_options": (c_int, [POINTER(EngineOptions), c_size_t]),
        "docling_convert_default_options": (c_int, [POINTER(ConvertOptions), c_size_t]),
        "docling_export_default_options": (c_int, [POINTER(ExportOptions), c_size_t]),
        "docling_parse_format": (c_int, [c_char_p, POINTER(c_int)]),
        "docling_format_extension": (c_char_p, [c_int]),
        "docling_engine_load": (c_int, [POINTER(EngineOptions), POINTER(P)]),
        "docling_engine_free": (None, [P]),
        "docling_engine_has_model": (c_bool, [P]),
        "docling_is_model_dir": (c_bool, [c_char_p]),
        "docling_cancel_token_create": (P, []),
        "docling_cancel_token_cancel": (None, [P]),
        "docling_cancel_token_is_cancelled": (c_bool, [P]),
        "docling_cancel_token_free": (None, [P]),
        "docling_convert_file": (c_int, [P, c_char_p, POINTER(ConvertOptions), POINTER(P)]),
        "docling_convert_buffer": (c_int, [P, c_void_p, c_size_t, c_char_p, POINTER(ConvertOptions), POINTER(P)]),
        "docling_convert_file_to": (c_int, [P, c_char_p, c_int, POINTER(ConvertOptions), POINTER(c_void_p),
                                            POINTER(c_size_t)]),
        "docling_result_free": (None, [P]),
        "docling_result_status": (c_int, [P]),
        "docling_result_error_code": (c_int, [P]),
        "docling_result_page_count": (c_int32, [P]),
        "docling_result_model_page_count": (c_int32, [P]),
        "docling_result_text_page_count": (c_int32, [P]),
        "docling_result_generated_tokens": (c_int32, [P]),
        "docling_result_seconds": (c_double, [P]),
        "docling_result_error_count": (c_size_t, [P]),
        "docling_result_error": (c_char_p, [P, c_size_t, POINTER(c_int32)]),
        "docling_result_warning_count": (c_size_t, [P]),
        "docling_result_warning": (c_char_p, [P, c_size_t, POINTER(c_int32)]),
        "docling_result_document": (P, [P]),
        "docling_document_from_doctags": (c_int, [c_char_p, c_size_t, POINTER(Bytes), c_size_t, POINTER(P)]),
        "docling_document_from_json": (c_int, [c_char_p, c_size_t, POINTER(P)]),
        "docling_document_free": (None, [P]),
        "docling_document_page_count": (c_int32, [P]),
        "docling_document_item_count": (c_size_t, [P]),
        "docling_document_item": (c_int, [P, c_size_t, POINTER(Item)]),
        "docling_document_export": (c_int, [P, c_int, POINTER(ExportOptions), POINTER(c_void_p), POINTER(c_size_t)]),
        "docling_document_save": (c_int, [P, c_char_p, c_char_p, POINTER(c_int), c_size_t, POINTER(ExportOptions)]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


lib = None


def read(path, mode="r"):
    with open(path, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
        return f.read()


def engine_options(**fields):
    o = EngineOptions()
    assert lib.docling_engine_default_options(byref(o), ctypes.sizeof(o)) == OK
    for k, v in fields.items():
        setattr(o, k, v.encode() if isinstance(v, str) else v)
    return o


def convert_options(**fields):
    o = ConvertOptions()
    assert lib.docling_convert_default_options(byref(o), ctypes.sizeof(o)) == OK
    for k, v in fields.items():
        setattr(o, k, v.encode() if isinstance(v, str) else v)
    return o


def last_error():
    return lib.docling_last_error().decode()


def take_text(ptr, n):
    """The library's malloc'ed buffer as str, freed."""
    try:
        return ctypes.string_at(ptr, n.value).decode("utf-8")
    finally:
        lib.docling_free(ptr)


def export(doc, fmt=MARKDOWN, opts=None):
    out, n = c_void_p(), c_size_t()
    st = lib.docling_document_export(doc, fmt, byref(opts) if opts else None, byref(out), byref(n))
    if st != OK:
        raise AssertionError("export failed: %d %s" % (st, last_error()))
    return take_text(out, n)


class Engine:
    """A loaded engine, freed on exit."""

    def __init__(self, **fields):
        self.h = c_void_p()
        self.opts = engine_options(**fields)
        self.status = lib.docling_engine_load(byref(self.opts), byref(self.h))

    def __enter__(self):
        if self.status != OK:
            raise AssertionError("engine load failed: %d %s" % (self.status, last_error()))
        return self.h

    def __exit__(self, *a):
        lib.docling_engine_free(self.h)


class Result:
    def __init__(self, engine, path=None, data=None, name=None, opts=None):
        self.h = c_void_p()
        o = byref(opts) if opts is not None else None
        if data is None:
            st = lib.docling_convert_file(engine, path.encode(), o, byref(self.h))
        else:
            st = lib.docling_convert_buffer(engine, data, len(data), name.encode() if name else None, o, byref(self.h))
        if st != OK:
            raise AssertionError("convert returned %d: %s" % (st, last_error()))

    def __enter__(self):
        return self

    def __exit__(self, *a):
        lib.docling_result_free(self.h)

    def status(self):
        return lib.docling_result_status(self.h)

    def messages(self, kind):
        count = getattr(lib, "docling_result_%s_count" % kind)(self.h)
        get = getattr(lib, "docling_result_%s" % kind)
        out = []
        for i in range(count):
            page = c_int32(-1)
            message = get(self.h, i, byref(page)).decode()
            out.append((page.value, message))
        if get(self.h, count, None) is not None:
            raise AssertionError("a message past the end")
        return out

    def markdown(self, opts=None):
        return export(lib.docling_result_document(self.h), MARKDOWN, opts)


class Basics(unittest.TestCase):
    def test_version_and_names(self):
        v = lib.docling_version().decode()
        parts = v.split(".")
        self.assertEqual(len(parts), 3, v)
        self.assertTrue(all(p.isdigit() for p in parts), v)
        self.assertEqual(lib.docling_status_string(OK), b"ok")
        self.assertEqual(lib.docling_status_string(INPUT), b"input")
        self.assertEqual(lib.docling_status_string(99), b"unknown")
        self.assertEqual(lib.docling_format_extension(MARKDOWN), b"md")
        self.assertEqual(lib.docling_format_extension(TEXT), b"txt")
        self.assertIsNone(lib.docling_format_extension(42))
        f = c_int(-1)
        self.assertEqual(lib.docling_parse_format(b"html", byref(f)), OK)
        self.assertEqual(f.value, HTML)
        self.assertEqual(lib.docling_parse_format(b"doctags", byref(f)), OK)
        self.assertEqual(f.value, DOCTAGS)
        self.assertEqual(lib.docling_parse_format(b"pptx", byref(f)), INVALID_ARGUMENT)
        self.assertIn("pptx", last_error())

    def test_defaults_fill_the_struct_as_python_lays_it_out(self):
        # Garbage first: the defaults must overwrite every field Python declares.
        o = EngineOptions()
        ctypes.memset(byref(o), 0x5A, ctypes.sizeof(o))
        self.assertEqual(lib.docling_engine_default_options(byref(o), ctypes.sizeof(o)), OK)
        self.assertEqual(last_error(), "")
        self.assertEqual(o.struct_size, ctypes.sizeof(o))
        self.assertIsNone(o.model_dir)
        self.assertEqual((o.weights, o.kv_cache, o.max_isa), (0, 0, 0))
        self.assertGreaterEqual(o.threads, 0)
        self.assertTrue(1 <= o.batch_size <= 64, o.batch_size)
        self.assertTrue(1 <= o.pages_in_flight <= 256, o.pages_in_flight)
        self.assertGreater(o.max_new_tokens, 0)
        self.assertFalse(o.log)
        c = ConvertOptions()
        ctypes.memset(byref(c), 0x5A, ctypes.sizeof(c))
        self.assertEqual(lib.docling_convert_default_options(byref(c), ctypes.sizeof(c)), OK)
        self.assertEqual(c.pipeline, PIPELINE_DEFAULT)
        self.assertIsNone(c.pages)
        self.assertIsNone(c.password)
        self.assertGreater(c.max_new_tokens, 0)
        self.assertTrue(c.loop_guard and c.page_images)
        self.assertGreater(c.max_input_bytes, 1 << 20)
        self.assertGreater(c.max_side, 1000)
        self.assertGreater(c.max_pixels, 1000 * 1000)
        self.assertIsNone(c.cancel)
        e = ExportOptions()
        ctypes.memset(byref(e), 0x5A, ctypes.sizeof(e))
        self.assertEqual(lib.docling_export_default_options(byref(e), ctypes.sizeof(e)), OK)
        self.assertEqual((e.image_mode, e.n_pages, e.n_excluded_labels), (0, 0, 0))
        self.assertIsNone(e.page_break_placeholder)

    def test_a_struct_too_small_is_refused(self):
        o = EngineOptions()
        self.assertEqual(lib.docling_engine_default_options(byref(o), 4), INVALID_ARGUMENT)
        self.assertIn("struct_size", last_error())
        o = engine_options()
        o.struct_size = 4
        h = c_void_p(1)
        self.assertEqual(lib.docling_engine_load(byref(o), byref(h)), INVALID_ARGUMENT)
        self.assertIsNone(h.value)

    def test_null_arguments_are_errors_not_crashes(self):
        h = c_void_p()
        self.assertEqual(lib.docling_convert_file(None, b"x.pdf", None, byref(h)), INVALID_ARGUMENT)
        self.assertEqual(lib.docling_engine_load(None, None), INVALID_ARGUMENT)
        self.assertEqual(lib.docling_result_status(None), FAILURE)
        self.assertEqual(lib.docling_result_error_count(None), 0)
        self.assertIsNone(lib.docling_result_error(None, 0, None))
        self.assertEqual(lib.docling_document_page_count(None), 0)
        lib.docling_result_free(None)
        lib.docling_document_free(None)
        lib.docling_engine_free(None)
        lib.docling_free(None)


class Loading(unittest.TestCase):
    def test_invalid_options(self):
        for field, value in (("threads", -5), ("batch_size", 0), ("pages_in_flight", 0), ("weights", 9)):
            e = Engine(**{field: value})
            self.assertEqual(e.status, INVALID_ARGUMENT, "%s=%d: %s" % (field, value, last_error()))
            self.assertIsNone(e.h.value)
            self.assertNotEqual(last_error(), "", field)

    def test_missing_model_dir(self):
        missing = os.path.join(tempfile.gettempdir(), "docling-c-api-no-such-model")
        e = Engine(model_dir=missing)
        self.assertEqual(e.status, MODEL)
        self.assertIsNone(e.h.value)
        self.assertIn(missing, last_error())

    def test_is_model_dir(self):
        self.assertTrue(lib.docling_is_model_dir(TINY.encode()))
        self.assertFalse(lib.docling_is_model_dir(PDFS.encode()))
        self.assertFalse(lib.docling_is_model_dir(None))

    def test_no_model(self):
        with Engine() as eng:
            self.assertEqual(last_error(), "")
            self.assertFalse(lib.docling_engine_has_model(eng))


class TextPipeline(unittest.TestCase):
    pdf = os.path.join(PDFS, "multi_page.pdf")

    @classmethod
    def setUpClass(cls):
        cls.eng_ctx = Engine()
        cls.eng = cls.eng_ctx.__enter__()
        cls.opts = convert_options(pipeline=PIPELINE_TEXT)
        with Result(cls.eng, cls.pdf, opts=cls.opts) as r:
            cls.md = r.markdown()

    @classmethod
    def tearDownClass(cls):
        cls.eng_ctx.__exit__()

    def test_file(self):
        pages = len(json.loads(read(os.path.join(PDFS, "multi_page.json")))["pages"])  # docling's ground truth
        with Result(self.eng, self.pdf, opts=self.opts) as r:
            self.assertEqual(r.status(), SUCCESS, r.messages("error"))
            self.assertEqual(lib.docling_result_error_code(r.h), OK)
            self.assertEqual(lib.docling_result_page_count(r.h), pages)
            self.assertEqual(lib.docling_result_text_page_count(r.h), pages)
            self.assertEqual(lib.docling_result_model_page_count(r.h), 0)
            self.assertEqual(r.messages("error"), [])
            self.assertGreaterEqual(lib.docling_result_seconds(r.h), 0.0)
            doc = lib.docling_result_document(r.h)
            self.assertEqual(lib.docling_document_page_count(doc), pages)
            lib.docling_document_free(doc)  # borrowed: a no-op, the result still owns it
            self.assertEqual(r.markdown(), self.md)
            self.check_items(doc, pages)
        # The first heading of the ground truth is a heading of ours too.
        heading = next(l for l in read(os.path.join(PDFS, "multi_page.md")).splitlines() if l.startswith("#"))
        self.assertIn(heading, self.md.splitlines())

    def check_items(self, doc, pages):
        n = lib.docling_document_item_count(doc)
        self.assertGreater(n, 0)
        items = []
        for i in range(n):
            it = Item(struct_size=ctypes.sizeof(Item))
            self.assertEqual(lib.docling_document_item(doc, i, byref(it)), OK, last_error())
            self.assertTrue(it.ref.startswith(b"#/"), it.ref)
            self.assertTrue(1 <= it.page <= pages, it.page)
            self.assertLess(it.left, it.right)
            self.assertLess(it.top, it.bottom)
            items.append((it.label.decode(), it.text.decode(), it.level))
        # Section headers at any level ("## ", "### ", ...); "# " is the title.
        headings = [l.split(" ", 1)[1] for l in self.md.splitlines() if l.startswith("##") and " " in l]
        self.assertEqual([t for label, t, _ in items if label == "section_header"], headings)
        it = Item(struct_size=ctypes.sizeof(Item))
        self.assertEqual(lib.docling_document_item(doc, n, byref(it)), INVALID_ARGUMENT)
        it = Item(struct_size=8)
        self.assertEqual(lib.docling_document_item(doc, 0, byref(it)), INVALID_ARGUMENT)

    def test_buffer_equals_file(self):
        data = read(self.pdf, "rb")
        with Result(self.eng, data=data, name="multi_page.pdf", opts=self.opts) as r:
            self.assertEqual(r.status(), SUCCESS)
            self.assertEqual(r.markdown(), self.md)

    def test_one_shot(self):
        out, n = c_void_p(), c_size_t()
        st = lib.docling_convert_file_to(self.eng, self.pdf.encode(), MARKDOWN, byref(self.opts), byref(out), byref(n))
        self.assertEqual(st, OK, last_error())
        self.assertEqual(take_text(out, n), self.md)
        st = lib.docling_convert_file_to(self.eng, self.pdf.encode(), 77, byref(self.opts), byref(out), byref(n))
        self.assertEqual(st, INVALID_ARGUMENT)
        self.assertIsNone(out.value)

    def test_other_formats(self):
        with Result(self.eng, self.pdf, opts=self.opts) as r:
            doc = lib.docling_result_document(r.h)
            j = json.loads(export(doc, JSON_FMT))
            self.assertEqual(len(j["pages"]), lib.docling_result_page_count(r.h))
            self.assertTrue(export(doc, HTML).lstrip().lower().startswith("<!doctype html"))
            self.assertIn("<doctag>", export(doc, DOCTAGS))
            self.assertIn("The Evolution of the Word Processor", export(doc, TEXT))

    def test_page_range_and_callback(self):
        seen, warnings = [], []

        def on_page(info, _):
            p = info.contents
            seen.append((p.page, p.from_model, lib.docling_document_page_count(p.document), p.doctags))
            warnings.extend(p.warnings[i] for i in range(p.n_warnings))

        cb = PAGE_CB(on_page)
        o = convert_options(pipeline=PIPELINE_TEXT, pages="2-3", on_page=cb)
        with Result(self.eng, self.pdf, opts=o) as r:
            self.assertEqual(r.status(), SUCCESS, r.messages("error"))
            self.assertEqual(lib.docling_result_page_count(r.h), 2)
        self.assertEqual(sorted(s[0] for s in seen), [2, 3])
        self.assertTrue(all(s[1] is False and s[2] == 1 and s[3] == b"" for s in seen), seen)
        self.assertTrue(all(isinstance(w, bytes) for w in warnings))

    def test_missing_file(self):
        missing = os.path.join(tempfile.gettempdir(), "docling-c-api-missing.pdf")
        with Result(self.eng, missing, opts=self.opts) as r:
            self.assertEqual(r.status(), FAILURE)
            self.assertEqual(lib.docling_result_error_code(r.h), INPUT)
            errors = r.messages("error")
            self.assertGreaterEqual(len(errors), 1)
            self.assertIn("docling-c-api-missing.pdf", errors[0][1])
        out, n = c_void_p(), c_size_t(5)
        st = lib.docling_convert_file_to(self.eng, missing.encode(), MARKDOWN, byref(self.opts), byref(out), byref(n))
        self.assertEqual(st, INPUT)
        self.assertIn("docling-c-api-missing.pdf", last_error())
        self.assertIsNone(out.value)
        self.assertEqual(n.value, 0)

    def test_garbage_bytes(self):
        with Result(self.eng, data=b"%PDF-1.7 not really", name="junk.pdf", opts=self.opts) as r:
            self.assertEqual(r.status(), FAILURE)
            self.assertIn("junk.pdf", r.messages("error")[0][1])

    def test_bad_convert_options(self):
        h = c_void_p()
        o = convert_options(pipeline=17)
        self.assertEqual(lib.docling_convert_file(self.eng, self.pdf.encode(), byref(o), byref(h)), INVALID_ARGUMENT)
        self.assertIn("pipeline", last_error())
        self.assertIsNone(h.value)
        o = convert_options(pipeline=PIPELINE_TEXT, pages="abc")
        self.assertEqual(lib.docling_convert_file(self.eng, self.pdf.encode(), byref(o), byref(h)), INVALID_ARGUMENT)
        self.assertIn("abc", last_error())
        o = convert_options(pipeline=PIPELINE_VLM)  # this engine has no model
        self.assertEqual(lib.docling_convert_file(self.eng, self.pdf.encode(), byref(o), byref(h)), MODEL)
        self.assertIsNone(h.value)

    def test_threads_share_one_engine(self):
        data = read(self.pdf, "rb")
        results, failures = [], []

        def work(i):
            try:
                for k in range(2):
                    if (i + k) % 2:
                        with Result(self.eng, self.pdf, opts=self.opts) as r:
                            results.append(r.markdown())
                    else:
                        with Result(self.eng, data=data, name="multi_page.pdf", opts=self.opts) as r:
                            results.append(r.markdown())
            except Exception as e:  # reported below: an assert in a thread does not fail the test
                failures.append(repr(e))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertEqual(len(results), 8)
        self.assertTrue(all(md == self.md for md in results))

    def test_last_error_is_per_thread(self):
        self.assertEqual(Engine(threads=-5).status, INVALID_ARGUMENT)
        other = []
        t = threading.Thread(target=lambda: other.append(last_error()))
        t.start()
        t.join()
        self.assertEqual(other, [""])
        self.assertNotEqual(last_error(), "")


class Documents(unittest.TestCase):
    def from_json(self, case):
        text = read(os.path.join(CONF, case, "input.json")).encode()
        h = c_void_p()
        self.assertEqual(lib.docling_document_from_json(text, len(text), byref(h)), OK, last_error())
        return h

    def expected(self, case, name):
        return read(os.path.join(CONF, case, name)).rstrip()

    def test_doctags_with_page_image_to_markdown(self):
        d = os.path.join(CONF, "dt2doc_barchart")
        dt = read(os.path.join(d, "input.doctags")).encode()
        png = read(os.path.join(d, "page.png"), "rb")
        img = Bytes(ctypes.cast(ctypes.c_char_p(png), c_void_p), len(png))
        h = c_void_p()
        self.assertEqual(lib.docling_document_from_doctags(dt, len(dt), byref(img), 1, byref(h)), OK, last_error())
        try:
            self.assertEqual(lib.docling_document_page_count(h), 1)
            self.assertEqual(export(h).rstrip(), self.expected("dt2doc_barchart", "expected.md"))
            self.assertEqual(export(h, HTML).rstrip(), self.expected("dt2doc_barchart", "expected.html"))
        finally:
            lib.docling_document_free(h)

    def test_broken_page_image(self):
        dt = b"<doctag><text><loc_1><loc_1><loc_9><loc_9>x</text></doctag>"
        junk = b"not a png"
        img = Bytes(ctypes.cast(ctypes.c_char_p(junk), c_void_p), len(junk))
        h = c_void_p()
        self.assertEqual(lib.docling_document_from_doctags(dt, len(dt), byref(img), 1, byref(h)), INPUT)
        self.assertIn("page image 1", last_error())
        self.assertIsNone(h.value)

    def test_json_to_markdown_with_options(self):
        h = self.from_json("doc2out_2206.01062")
        try:
            self.assertEqual(export(h).rstrip(), self.expected("doc2out_2206.01062", "expected.md"))
            o = ExportOptions()
            lib.docling_export_default_options(byref(o), ctypes.sizeof(o))
            o.page_break_placeholder = b"<!-- page break -->"
            self.assertEqual(export(h, MARKDOWN, o).rstrip(), self.expected("doc2out_2206.01062", "expected.paged.md"))
        finally:
            lib.docling_document_free(h)
        h = self.from_json("doc2out_docling_multi_page")
        try:
            o = ExportOptions()
            lib.docling_export_default_options(byref(o), ctypes.sizeof(o))
            o.md_compact_tables = True
            self.assertEqual(export(h, MARKDOWN, o).rstrip(), self.expected("doc2out_docling_multi_page", "expected.md"))
        finally:
            lib.docling_document_free(h)
        h = self.from_json("doc2out_activities_page_breaks")
        try:
            o = ExportOptions()
            lib.docling_export_default_options(byref(o), ctypes.sizeof(o))
            pages = (c_int32 * 1)(2)
            o.pages, o.n_pages = pages, 1
            self.assertEqual(export(h, MARKDOWN, o).rstrip(),
                             self.expected("doc2out_activities_page_breaks", "expected.page2.md"))
            labels = (c_char_p * 1)(b"picture")
            o = ExportOptions()
            lib.docling_export_default_options(byref(o), ctypes.sizeof(o))
            o.page_break_placeholder = b"<!-- page break -->"
            o.excluded_labels, o.n_excluded_labels = labels, 1
            self.assertEqual(export(h, MARKDOWN, o).rstrip(),
                             self.expected("doc2out_activities_page_breaks", "expected.md"))
        finally:
            lib.docling_document_free(h)

    def test_bad_json(self):
        h = c_void_p()
        self.assertEqual(lib.docling_document_from_json(b"{\"schema_name\": ", 16, byref(h)), INPUT)
        self.assertNotEqual(last_error(), "")
        self.assertIsNone(h.value)

    def test_save(self):
        h = self.from_json("doc2out_dummy_doc")
        try:
            with tempfile.TemporaryDirectory() as d:
                fmts = (c_int * 2)(MARKDOWN, JSON_FMT)
                self.assertEqual(lib.docling_document_save(h, d.encode(), b"doc", fmts, 2, None), OK, last_error())
                # A saved text file ends with a newline; the export is the same text without it.
                self.assertEqual(read(os.path.join(d, "doc.md")).rstrip("\n"), export(h).rstrip("\n"))
                self.assertEqual(json.loads(read(os.path.join(d, "doc.json"))), json.loads(export(h, JSON_FMT)))
                blocked = os.path.join(d, "doc.md", "below-a-file")
                self.assertEqual(lib.docling_document_save(h, blocked.encode(), b"doc", fmts, 2, None), OUTPUT)
                self.assertNotEqual(last_error(), "")
        finally:
            lib.docling_document_free(h)


@unittest.skipUnless(os.path.isdir(TINY), "no tiny checkpoint")
class TinyModel(unittest.TestCase):
    """The random-weight checkpoint: output is nonsense, but every stage runs through the C API."""
    pdf = os.path.join(PDFS, "2305.03393v1-pg9.pdf")

    def test_vlm_one_page(self):
        logs = []
        log = LOG_CB(lambda level, msg, _: logs.append((level, msg)))
        with Engine(model_dir=TINY, threads=2, log=log) as eng:
            self.assertTrue(lib.docling_engine_has_model(eng))
            seen = []
            cb = PAGE_CB(lambda info, _: seen.append((info.contents.page, info.contents.from_model)))
            o = convert_options(pipeline=PIPELINE_VLM, max_new_tokens=8, on_page=cb)
            with Result(eng, self.pdf, opts=o) as r:
                self.assertNotEqual(r.status(), FAILURE, r.messages("error"))
                self.assertEqual(lib.docling_result_page_count(r.h), 1)
                self.assertEqual(lib.docling_result_model_page_count(r.h), 1)
                self.assertGreater(lib.docling_result_generated_tokens(r.h), 0)
                doc = lib.docling_result_document(r.h)
                j = json.loads(export(doc, JSON_FMT))
                self.assertEqual(len(j["pages"]), 1)
                export(doc, MARKDOWN)
            self.assertEqual(seen, [(1, True)])
            # Two Python threads at once on the model engine: both finish.
            codes = []
            def work():
                with Result(eng, self.pdf, opts=o) as r2:
                    codes.append(r2.status())
            ts = [threading.Thread(target=work) for _ in range(2)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            self.assertEqual(len(codes), 2)
            self.assertNotIn(FAILURE, codes)
        for level, msg in logs:
            self.assertIn(level, range(4))
            self.assertIsInstance(msg, bytes)

    def test_cancelled_before_start(self):
        with Engine(model_dir=TINY, threads=2) as eng:
            tok = lib.docling_cancel_token_create()
            self.assertTrue(tok)
            try:
                self.assertFalse(lib.docling_cancel_token_is_cancelled(tok))
                lib.docling_cancel_token_cancel(tok)
                self.assertTrue(lib.docling_cancel_token_is_cancelled(tok))
                o = convert_options(pipeline=PIPELINE_VLM, max_new_tokens=8, cancel=tok)
                with Result(eng, self.pdf, opts=o) as r:
                    self.assertEqual(r.status(), CONV_CANCELLED, r.messages("error"))
                    self.assertEqual(lib.docling_result_error_code(r.h), CANCELLED)
                out, n = c_void_p(), c_size_t()
                st = lib.docling_convert_file_to(eng, self.pdf.encode(), MARKDOWN, byref(o), byref(out), byref(n))
                self.assertEqual(st, CANCELLED)
                self.assertIsNone(out.value)
            finally:
                lib.docling_cancel_token_free(tok)


def main():
    global lib
    if not LIB_PATH:
        sys.exit("usage: test_c_api.py LIBDOCLING.so [TEST_DATA_DIR] [unittest args]")
    lib = load(LIB_PATH)
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)


if __name__ == "__main__":
    main()
