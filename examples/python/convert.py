#!/usr/bin/env python3
"""Convert a PDF to Markdown through docling-cpp's C API (include/docling/docling.h) with ctypes.

usage: convert.py FILE.pdf [--lib PATH/libdocling.so] [--model DIR] [--pipeline default|vlm|text|auto]

The library is --lib, else $DOCLING_LIB, else whatever ctypes.util.find_library("docling") finds.
The model is --model, else $DOCLING_MODEL; without one only the PDF's text layer is used."""
import argparse
import ctypes
import ctypes.util
import os
import sys
from ctypes import CFUNCTYPE, POINTER, Structure, byref, c_bool, c_char_p, c_int, c_int32, c_int64, c_size_t, \
    c_uint64, c_void_p

PIPELINES = {"default": 0, "vlm": 1, "text": 2, "auto": 3}
MARKDOWN = 0


class EngineOptions(Structure):  # docling_engine_options
    _fields_ = [("struct_size", c_size_t), ("model_dir", c_char_p), ("weights", c_int), ("kv_cache", c_int),
                ("threads", c_int32), ("batch_size", c_int32), ("pages_in_flight", c_int32),
                ("max_new_tokens", c_int32), ("max_isa", c_int), ("int8_activations", c_bool), ("bf16_dot", c_bool),
                ("log", CFUNCTYPE(None, c_int, c_char_p, c_void_p)), ("log_user_data", c_void_p)]


class ConvertOptions(Structure):  # docling_convert_options
    _fields_ = [("struct_size", c_size_t), ("pipeline", c_int), ("pages", c_char_p), ("password", c_char_p),
                ("max_new_tokens", c_int32), ("force_backend_text", c_bool), ("render_direct", c_bool),
                ("loop_guard", c_bool), ("page_images", c_bool), ("speculate", c_bool),
                ("max_input_bytes", c_uint64), ("max_side", c_int32), ("max_pixels", c_int64),
                ("cancel", c_void_p), ("on_page", c_void_p), ("on_page_user_data", c_void_p)]


def load_library(path):
    path = path or os.environ.get("DOCLING_LIB") or ctypes.util.find_library("docling")
    if not path:
        sys.exit("libdocling.so not found: pass --lib or set DOCLING_LIB")
    lib = ctypes.CDLL(path)
    lib.docling_version.restype = c_char_p
    lib.docling_last_error.restype = c_char_p
    lib.docling_free.argtypes = [c_void_p]
    lib.docling_engine_default_options.argtypes = [POINTER(EngineOptions), c_size_t]
    lib.docling_convert_default_options.argtypes = [POINTER(ConvertOptions), c_size_t]
    lib.docling_engine_load.argtypes = [POINTER(EngineOptions), POINTER(c_void_p)]
    lib.docling_engine_free.argtypes = [c_void_p]
    lib.docling_convert_file_to.argtypes = [c_void_p, c_char_p, c_int, POINTER(ConvertOptions),
                                            POINTER(c_void_p), POINTER(c_size_t)]
    return lib


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--lib")
    ap.add_argument("--model", default=os.environ.get("DOCLING_MODEL"))
    ap.add_argument("--pipeline", choices=PIPELINES, default="default")
    args = ap.parse_args()
    lib = load_library(args.lib)

    eo = EngineOptions()
    lib.docling_engine_default_options(byref(eo), ctypes.sizeof(eo))
    if args.model:
        eo.model_dir = args.model.encode()
    engine = c_void_p()
    if lib.docling_engine_load(byref(eo), byref(engine)) != 0:
        sys.exit("docling: " + lib.docling_last_error().decode())
    try:
        co = ConvertOptions()
        lib.docling_convert_default_options(byref(co), ctypes.sizeof(co))
        co.pipeline = PIPELINES[args.pipeline]
        out, n = c_void_p(), c_size_t()
        status = lib.docling_convert_file_to(engine, args.file.encode(), MARKDOWN, byref(co), byref(out), byref(n))
        if status != 0:
            sys.exit("docling: " + lib.docling_last_error().decode())
        try:
            sys.stdout.write(ctypes.string_at(out, n.value).decode("utf-8"))
        finally:
            lib.docling_free(out)
        warning = lib.docling_last_error().decode()  # page errors of a partial conversion
        if warning:
            print("docling: " + warning, file=sys.stderr)
    finally:
        lib.docling_engine_free(engine)


if __name__ == "__main__":
    main()
