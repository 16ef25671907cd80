#!/usr/bin/env python3
"""Writes the torture corpus: hostile, broken and extreme PDFs made from nothing (issue 15).

    tests/torture/make_corpus.py OUT_DIR [--seed N] [--sources DIR ...] [--no-qpdf] [--no-slow | --only-slow]

Python's standard library only, plus Debian's `qpdf` when it is on PATH (encryption, object
streams, linearized files; without it those files are left out and the manifest says so).
The same seed and sources give the same bytes (but for the files marked "varies": qpdf's AES-256
keys are random; the manifest's sha256 covers the others). OUT_DIR gets the PDFs (and a few files that only
pretend to be PDFs) and `manifest.json`:

    {"seed": N, "files": {"NAME.pdf": {"category": ..., "what": ..., "expect": ...,
                                       "pages": N (when known), "slow": true (when slow)}}}

expect: "succeed" (a valid file with a text layer: must convert, SUCCESS), "convert" (a valid file
that may hold scanned pages, which the text pipeline reports as PARTIAL: must not fail), "fail"
(nothing to convert: must end as FAILURE with a message), "any" (whatever the converter makes of it, as long as it neither crashes
nor hangs and leaves one ledger line). Files marked slow (decompression bombs of many GiB) take
a converter without per-page limits minutes; runners leave them out unless asked.
"""
import argparse
import hashlib
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_SOURCES = [os.path.join(REPO, "tests", "data", "pdfs"), os.path.join(REPO, "samples")]

# ------------------------------------------------------------------------------------------
# A PDF writer: numbered objects, a classic xref table, trailer. Bodies are bytes.


def b(x):
    return x if isinstance(x, bytes) else x.encode("latin-1")


class Pdf:
    def __init__(self):
        self.objs = []  # index i holds object i+1

    def reserve(self):
        self.objs.append(None)
        return len(self.objs)

    def set(self, num, body):
        self.objs[num - 1] = b(body)

    def add(self, body):
        n = self.reserve()
        self.set(n, body)
        return n

    def add_stream(self, data, extra="", filters=()):
        """A stream object; `filters` are applied in order (FlateDecode, ASCIIHexDecode)."""
        data = b(data)
        names = []
        for f in filters:
            if f == "FlateDecode":
                data = zlib.compress(data)
            elif f == "ASCIIHexDecode":
                data = data.hex().encode() + b">"
            names.insert(0, "/" + f)
        filt = ""
        if names:
            filt = " /Filter " + (names[0] if len(names) == 1 else "[" + " ".join(names) + "]")
        return self.add(stream_body(data, extra + filt))

    def build(self, root, version="1.4", trailer_extra="", header=None):
        out = bytearray(header if header is not None else b"%PDF-" + b(version) + b"\n%\xe2\xe3\xcf\xd3\n")
        offs = []
        for i, body in enumerate(self.objs):
            offs.append(len(out))
            out += b("%d 0 obj\n" % (i + 1)) + (body if body is not None else b"null") + b"\nendobj\n"
        xref = len(out)
        out += b("xref\n0 %d\n0000000000 65535 f \n" % (len(self.objs) + 1))
        for o in offs:
            out += b("%010d 00000 n \n" % o)
        out += b("trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n"
                 % (len(self.objs) + 1, root, trailer_extra, xref))
        return bytes(out)


def stream_body(data, extra=""):
    return b("<< /Length %d%s >>\nstream\n" % (len(data), extra)) + data + b"\nendstream"


FONT = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def text_content(lines, x=72, y=720, size=12, lead=16):
    parts = ["BT /F1 %d Tf %d TL %d %d Td" % (size, lead, x, y)]
    for ln in lines:
        parts.append("(%s) Tj T*" % ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)"))
    parts.append("ET")
    return "\n".join(parts)


SENTENCES = [
    "Torture corpus page with ordinary text.",
    "The quick brown fox jumps over the lazy dog.",
    "A second paragraph follows the first one here.",
]


def simple_pdf(pages, font=FONT, page_extra="", pages_extra="", catalog_extra="", compress=False,
               version="1.4", trailer_extra=""):
    """pages: list of (mediabox string, content) or (mediabox, content, page dict extra)."""
    p = Pdf()
    cat = p.reserve()
    root = p.reserve()
    fnt = p.add(font)
    kids = []
    for pg in pages:
        box, content = pg[0], pg[1]
        extra = pg[2] if len(pg) > 2 else ""
        cs = p.add_stream(content, filters=("FlateDecode",) if compress else ())
        kids.append(p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
                          "/Contents %d 0 R%s%s >>" % (root, box, fnt, cs, page_extra, extra)))
    p.set(root, "<< /Type /Pages /Kids [%s] /Count %d%s >>" % (" ".join("%d 0 R" % k for k in kids), len(kids),
                                                              pages_extra))
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R%s >>" % (root, catalog_extra))
    return p.build(cat, version=version, trailer_extra=trailer_extra)


LETTER = "0 0 612 792"


def one_page(content=None, box=LETTER, **kw):
    return simple_pdf([(box, content if content is not None else text_content(SENTENCES))], **kw)


# A PDF where the page uses resources built by `make(p, page_resources_dict_num)`.
def page_with(resources, content, box=LETTER, p=None, page_extra=""):
    p = p or Pdf()
    cat = p.reserve()
    root = p.reserve()
    cs = p.add_stream(content)
    page = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources %s /Contents %d 0 R%s >>"
                 % (root, box, resources, cs, page_extra))
    p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
    return p.build(cat)


# ------------------------------------------------------------------------------------------
# zlib streams of N zero bytes for any N without compressing N bytes: one raw deflate chunk
# of 16 MiB of zeros (full flush: self-contained) repeated, a final empty block, and the
# Adler-32 of N zeros (a = 1, b = N mod 65521).

_ZERO_CHUNK = None
_CHUNK = 16 << 20


def zlib_zeros(n):
    global _ZERO_CHUNK
    if _ZERO_CHUNK is None:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        _ZERO_CHUNK = c.compress(bytes(_CHUNK)) + c.flush(zlib.Z_FULL_FLUSH)
    assert n % _CHUNK == 0
    body = _ZERO_CHUNK * (n // _CHUNK) + b"\x03\x00"  # final fixed-Huffman block, empty
    adler = ((n % 65521) << 16) | 1
    return b"\x78\xda" + body + struct.pack(">I", adler)


def flate_layers(data, layers):
    for _ in range(layers):
        data = zlib.compress(data, 9)
    return data


# ------------------------------------------------------------------------------------------
# Helpers for other formats.


def png_bytes(w=16, h=16):
    raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 16 % 256, y * 16 % 256, 128)) for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def qpdf(args, src_bytes, tmp):
    """Runs qpdf on bytes; None when qpdf is missing or refuses (exit 2; 3 = warnings is fine)."""
    if not shutil.which("qpdf"):
        return None
    i = os.path.join(tmp, "in.pdf")
    o = os.path.join(tmp, "out.pdf")
    with open(i, "wb") as f:
        f.write(src_bytes)
    if os.path.exists(o):
        os.remove(o)
    # A fixed /ID keeps the output deterministic (qpdf derives it from time otherwise).
    r = subprocess.run(["qpdf", "--deterministic-id", "--static-aes-iv"] + args + [i, o],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode not in (0, 3) or not os.path.exists(o):
        # --deterministic-id cannot be used with encryption; --static-aes-iv is for tests.
        r = subprocess.run(["qpdf", "--static-aes-iv", "--static-id"] + args + [i, o],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode not in (0, 3) or not os.path.exists(o):
        return None
    with open(o, "rb") as f:
        return f.read()


# ------------------------------------------------------------------------------------------


class Corpus:
    def __init__(self, out, seed):
        self.out = out
        self.rng = random.Random(seed)
        self.files = {}
        self.skipped = []

    def add(self, name, data, category, what, expect="any", pages=None, slow=False):
        assert name not in self.files, name
        # qpdf draws AES-256 file keys at random (no option fixes them): those bytes vary.
        random_key = category == "encrypted" and b"/R 6" in data
        with open(os.path.join(self.out, name), "wb") as f:
            f.write(data)
        e = {"category": category, "what": what, "expect": expect}
        if pages is not None:
            e["pages"] = pages
        if slow:
            e["slow"] = True
        if random_key:
            e["varies"] = True
        self.files[name] = e


def load_sources(dirs):
    srcs = []
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(".pdf"):
                with open(os.path.join(d, f), "rb") as fh:
                    srcs.append((f[:-4], fh.read()))
    # Smallest first: truncations and flips of small files convert fast.
    srcs.sort(key=lambda s: (len(s[1]), s[0]))
    return srcs


def gen_truncations(c, srcs):
    for stem, data in srcs[:6]:
        n = len(data)
        cuts = sorted(set([1, 9, 100, 1024, n // 10, n // 4, n // 3, n // 2, 2 * n // 3, 3 * n // 4, 9 * n // 10,
                           n - 1000, n - 30, n - 8, n - 1] + [c.rng.randrange(10, n - 1) for _ in range(2)]))
        for cut in cuts[:14]:
            c.add("trunc_%s_at_%d.pdf" % (stem, cut), data[:cut], "truncation",
                  "%s cut at byte %d of %d" % (stem, cut, n))


def gen_bitflips(c, srcs):
    for stem, data in srcs[:6]:
        for k in (1, 4, 16, 64, 512):
            buf = bytearray(data)
            for _ in range(k):
                i = c.rng.randrange(len(buf))
                buf[i] ^= 1 << c.rng.randrange(8)
            c.add("flip_%s_%d.pdf" % (stem, k), bytes(buf), "bitflip", "%s with %d random bits flipped" % (stem, k))
        # A 4 KiB run of random bytes in the middle, and the last 2 KiB zeroed (xref, trailer).
        buf = bytearray(data)
        at = c.rng.randrange(len(buf) // 4, len(buf) // 2)
        buf[at:at + 4096] = bytes(c.rng.randrange(256) for _ in range(4096))
        c.add("flip_%s_block.pdf" % stem, bytes(buf[:len(data)]), "bitflip", "%s with 4 KiB of noise at %d" % (stem, at))
        buf = bytearray(data)
        buf[-2048:] = bytes(2048)
        c.add("flip_%s_tailzero.pdf" % stem, bytes(buf), "bitflip", "%s with its last 2 KiB zeroed" % stem)


def gen_xref(c, srcs):
    good = simple_pdf([(LETTER, text_content(SENTENCES))] * 2)
    sx = good.rindex(b"startxref")
    xr = good.rindex(b"xref\n0 ")
    tr = good.rindex(b"trailer")

    def with_startxref(v):
        return good[:sx] + b"startxref\n" + b(v) + b"\n%%EOF\n"

    c.add("xref_startxref_past_eof.pdf", with_startxref("99999999"), "xref", "startxref past the end of the file")
    c.add("xref_startxref_zero.pdf", with_startxref("0"), "xref", "startxref 0")
    c.add("xref_startxref_negative.pdf", with_startxref("-5000"), "xref", "startxref negative")
    c.add("xref_startxref_huge.pdf", with_startxref("99999999999999999999999"), "xref", "startxref past 2^64")
    # Every offset shifted by 7 bytes.
    lines = good[xr:tr].split(b"\n")
    shifted = [(b"%010d %s" % (int(l[:10]) + 7, l[11:])) if len(l) == 19 and l.endswith(b" n ") else l
               for l in lines]
    c.add("xref_offsets_shifted.pdf", good[:xr] + b"\n".join(shifted) + good[tr:], "xref",
          "every xref offset 7 bytes off")
    c.add("xref_table_garbage.pdf", good[:xr] + bytes(c.rng.randrange(32, 127) for _ in range(tr - xr)) + good[tr:],
          "xref", "xref table replaced by random text")
    c.add("xref_removed.pdf", good[:xr] + b"%%EOF\n", "xref", "no xref, trailer or startxref (reconstruction)",
          expect="any")
    c.add("xref_huge_subsection.pdf", good[:xr] + b"xref\n0 999999999\n" + good[xr + 5 + good[xr + 5:].index(b"\n") + 1:],
          "xref", "xref subsection claiming 999,999,999 entries")
    c.add("xref_subsection_negative.pdf", good.replace(b"xref\n0 ", b"xref\n-3 ", 1), "xref",
          "xref subsection starting at -3")
    t = good[tr:]
    c.add("xref_no_root.pdf", good[:tr] + t.replace(b"/Root 1 0 R", b""), "xref", "trailer without /Root")
    c.add("xref_root_missing_obj.pdf", good[:tr] + t.replace(b"/Root 1 0 R", b"/Root 999 0 R"), "xref",
          "/Root names an object that does not exist")
    c.add("xref_root_is_number.pdf", good[:tr] + t.replace(b"/Root 1 0 R", b"/Root 42"), "xref", "/Root is a number")
    c.add("xref_size_huge.pdf", good[:tr] + t.replace(b"/Size", b"/Size 2147483647 /Ignored"), "xref",
          "trailer /Size 2^31-1")
    c.add("xref_prev_self.pdf", good[:tr] + t.replace(b"/Root", b"/Prev %d /Root" % xr), "xref",
          "trailer /Prev points at its own xref (a loop)")
    c.add("xref_prev_garbage.pdf", good[:tr] + t.replace(b"/Root", b"/Prev 13 /Root"), "xref",
          "trailer /Prev points into an object")
    c.add("xref_all_free.pdf", good[:xr] + good[xr:tr].replace(b"00000 n ", b"65535 f "), "xref",
          "every xref entry marked free")
    # Incremental updates: 300 of them, each redefining the page's content, /Prev chained.
    data = bytearray(good)
    prev = xr
    for i in range(300):
        off = len(data)
        data += b("4 0 obj\n") + stream_body(b("BT /F1 12 Tf 72 700 Td (Update %d) Tj ET" % i)) + b"\nendobj\n"
        x = len(data)
        data += b("xref\n4 1\n%010d 00000 n \ntrailer\n<< /Size 8 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
                  % (off, prev, x))
        prev = x
    c.add("xref_300_updates.pdf", bytes(data), "xref", "300 incremental updates chained by /Prev", expect="succeed",
          pages=2)
    # Xref streams with bad /W.
    for name, w, idx in (("w_zero", "[0 0 0]", ""), ("w_huge", "[9 9 9]", ""), ("index_huge", "[1 4 2]",
                                                                                   " /Index [0 2000000000]")):
        body = good[:xr]
        xs_off = len(body)
        raw = bytes(c.rng.randrange(256) for _ in range(64))
        xs = b("8 0 obj\n") + stream_body(zlib.compress(raw), " /Type /XRef /Size 9 /W %s%s /Root 1 0 R "
                                          "/Filter /FlateDecode" % (w, idx)) + b"\nendobj\n"
        c.add("xref_stream_%s.pdf" % name, body + xs + b("startxref\n%d\n%%%%EOF\n" % xs_off), "xref",
              "cross-reference stream with /W %s%s and random entries" % (w, idx))
    # A real file whose xref is wrong (last 5% of the file, where the xref is, scrambled).
    stem, data = srcs[0]
    cut = len(data) - max(200, len(data) // 20)
    c.add("xref_%s_tail_scrambled.pdf" % stem,
          data[:cut] + bytes(data[cut:][i] ^ 0x5A for i in range(len(data) - cut)), "xref",
          "%s with its tail (xref, trailer) scrambled" % stem)


def gen_streams(c):
    content = b(text_content(SENTENCES))

    def with_stream(dict_extra, data, length=None):
        p = Pdf()
        cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
        cs = p.add(b("<< /Length %s%s >>\nstream\n" % (length if length is not None else len(data), dict_extra)) + data +
                   b"\nendstream")
        page = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
                     "/Contents %d 0 R >>" % (root, LETTER, fnt, cs))
        p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
        p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
        return p.build(cat)

    z = zlib.compress(content)
    c.add("stream_length_too_long.pdf", with_stream("", content, len(content) + 100000), "stream",
          "/Length 100 KB past the data")
    c.add("stream_length_too_short.pdf", with_stream("", content, 10), "stream", "/Length shorter than the data")
    c.add("stream_length_negative.pdf", with_stream("", content, -100), "stream", "/Length -100")
    c.add("stream_length_huge.pdf", with_stream("", content, 10 ** 12), "stream", "/Length 10^12")
    c.add("stream_length_missing_ref.pdf", with_stream("", content, "99 0 R"), "stream",
          "/Length an indirect reference to a missing object")
    c.add("stream_flate_garbage.pdf", with_stream(" /Filter /FlateDecode", b"\x78\x9c" + bytes(
        c.rng.randrange(256) for _ in range(500))), "stream", "FlateDecode stream of random bytes")
    c.add("stream_flate_truncated.pdf", with_stream(" /Filter /FlateDecode", z[:len(z) // 2]), "stream",
          "FlateDecode stream cut in half")
    c.add("stream_unknown_filter.pdf", with_stream(" /Filter /NoSuchDecode", content), "stream", "unknown filter")
    c.add("stream_filter_chain_100.pdf", with_stream(" /Filter [%s]" % " ".join(["/ASCIIHexDecode"] * 100),
                                                     b"414243>"), "stream", "100 ASCIIHex filters in a chain")
    c.add("stream_predictor_huge_columns.pdf",
          with_stream(" /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 2000000000 /Colors 64 "
                      "/BitsPerComponent 16 >>", z), "stream", "PNG predictor with 2e9 columns, 64 colors, 16 bits")
    c.add("stream_lzw_garbage.pdf", with_stream(" /Filter /LZWDecode", bytes(c.rng.randrange(256) for _ in range(800))),
          "stream", "LZWDecode of random bytes")
    c.add("stream_runlength_garbage.pdf", with_stream(" /Filter /RunLengthDecode",
                                                      bytes(c.rng.randrange(256) for _ in range(800))), "stream",
          "RunLengthDecode of random bytes")
    c.add("stream_ascii85_garbage.pdf", with_stream(" /Filter /ASCII85Decode", b"<~zzzz!!!!\xff\xfe~>"), "stream",
          "ASCII85Decode with invalid characters")
    c.add("stream_no_endstream.pdf", with_stream("", content).replace(b"endstream", b"endstrea_", 1), "stream",
          "a content stream without endstream")
    c.add("stream_contents_mixed_array.pdf",
          one_page().replace(b"/Contents 4 0 R", b"/Contents [4 0 R 2 0 R 1 (x) 99 0 R null]"), "stream",
          "/Contents array holding non-streams and missing objects")
    ops = b"\n".join([b"1 2 3 4 5 6 7 8 9 re W n BI /W 9 ID xx EI cm Tf Tj TJ ' \" d0 d1 sh Do gs",
                      b"BT BT BT ET ET ET ET ET q q q Q Q Q Q Q Q [ [ [ ] ] ] ] << >> >> /Name ( unbalanced"])
    c.add("stream_garbage_operators.pdf", one_page(ops.decode("latin-1")), "stream",
          "content with operators missing operands, unbalanced BT/ET, q/Q, brackets")
    c.add("stream_100k_q.pdf", one_page("q " * 100000 + text_content(SENTENCES)), "stream",
          "100,000 nested q (graphics state stack)")
    c.add("stream_deep_array_operand.pdf", one_page("[" * 100000 + "]" * 100000 + " Tj " + text_content(SENTENCES)),
          "stream", "an operand array nested 100,000 deep")
    c.add("stream_10k_contents.pdf",
          _many_contents(10000), "stream", "a page whose /Contents is an array of 10,000 streams", expect="succeed",
          pages=1)


def _many_contents(n):
    p = Pdf()
    cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
    parts = [p.add_stream("BT /F1 8 Tf %d %d Td (w%d) Tj ET" % (20 + (i % 20) * 28, 780 - (i // 20) % 95 * 8, i))
             for i in range(n)]
    page = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
                 "/Contents [%s] >>" % (root, LETTER, fnt, " ".join("%d 0 R" % x for x in parts)))
    p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
    return p.build(cat)


def gen_not_pdf(c, srcs):
    c.add("notpdf_empty.pdf", b"", "not_pdf", "0 bytes", expect="fail")
    c.add("notpdf_whitespace.pdf", b" \n\t\r\n" * 100, "not_pdf", "whitespace only", expect="fail")
    c.add("notpdf_header_only.pdf", b"%PDF-", "not_pdf", "the 5 bytes %PDF-", expect="fail")
    c.add("notpdf_header_eof.pdf", b"%PDF-1.7\n%%EOF\n", "not_pdf", "header and %%EOF, nothing else", expect="fail")
    c.add("notpdf_html.pdf", b"<!DOCTYPE html><html><head><title>Not a PDF</title></head><body><p>This is HTML "
          b"saved as .pdf</p></body></html>\n", "not_pdf", "an HTML page named .pdf", expect="fail")
    for method, tag in ((zipfile.ZIP_DEFLATED, "deflated"), (zipfile.ZIP_STORED, "stored")):
        zbuf = io.BytesIO()
        with zipfile.ZipFile(zbuf, "w") as zf:
            zi = zipfile.ZipInfo("inside.pdf", date_time=(2020, 1, 1, 0, 0, 0))
            zi.compress_type = method
            zf.writestr(zi, one_page())
        # Stored, the PDF's bytes are in the clear 40 bytes in: a lenient reader finds them.
        c.add("notpdf_zip_%s.pdf" % tag, zbuf.getvalue(), "not_pdf", "a ZIP archive (a PDF %s inside) named .pdf" % tag,
              expect="fail" if method == zipfile.ZIP_DEFLATED else "any")
    c.add("notpdf_png.pdf", png_bytes(), "not_pdf", "a valid 16x16 PNG named .pdf (read as an image, no text)")
    c.add("notpdf_png_truncated.pdf", png_bytes(64, 64)[:60], "not_pdf", "a PNG cut after its header",
          expect="fail")
    c.add("notpdf_jpeg_garbage.pdf", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(c.rng.randrange(256)
                                                                               for _ in range(2000)),
          "not_pdf", "a JPEG signature followed by noise", expect="fail")
    c.add("notpdf_gif.pdf", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
          b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", "not_pdf", "a GIF named .pdf", expect="fail")
    c.add("notpdf_text.pdf", b"Just some plain text, no PDF at all.\n" * 50, "not_pdf", "plain text", expect="fail")
    c.add("notpdf_random.pdf", bytes(c.rng.randrange(256) for _ in range(65536)), "not_pdf", "64 KiB of random bytes",
          expect="fail")
    stem, data = srcs[0]
    c.add("notpdf_gzip.pdf", _gzip(data), "not_pdf", "gzip of %s named .pdf" % stem, expect="fail")
    c.add("notpdf_utf16.pdf", "\ufeffNot a PDF in UTF-16".encode("utf-16-le"), "not_pdf", "UTF-16 text",
          expect="fail")
    c.add("misc_junk_before_header.pdf", bytes(c.rng.randrange(256) for _ in range(700)) + one_page(), "misc",
          "700 random bytes before %PDF- (readers accept up to 1 KiB)")
    c.add("misc_junk_before_header_8k.pdf", b"x" * 8192 + one_page(), "misc", "8 KiB of text before %PDF-")
    c.add("misc_two_pdfs_concatenated.pdf", one_page() + one_page(text_content(["Second file"])), "misc",
          "two PDFs one after the other", expect="succeed")


def _gzip(data):
    import gzip
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def gen_encrypted(c, srcs, tmp):
    base = one_page(text_content(["Encrypted document text.", "It has two lines."]))
    variants = [("rc4_40", ["40"]), ("rc4_128", ["128", "--use-aes=n"]), ("aes_128", ["128", "--use-aes=y"]),
                ("aes_256", ["256"])]
    for name, bits in variants:
        extra = bits[1:]
        enc = qpdf(["--allow-weak-crypto", "--encrypt", "user-pw", "owner-pw", bits[0]] + extra + ["--"], base, tmp)
        if enc is None:
            c.skipped.append("enc_user_%s (qpdf)" % name)
        else:
            c.add("enc_user_%s.pdf" % name, enc, "encrypted", "%s, user password 'user-pw' (none given)" % name,
                  expect="fail")
        enc = qpdf(["--allow-weak-crypto", "--encrypt", "", "owner-pw", bits[0]] + extra + ["--"], base, tmp)
        if enc is None:
            c.skipped.append("enc_owner_only_%s (qpdf)" % name)
        else:
            c.add("enc_owner_only_%s.pdf" % name, enc, "encrypted", "%s, empty user password, owner 'owner-pw'" % name,
                  expect="succeed", pages=1)
    enc = qpdf(["--encrypt", "", "owner-pw", "256", "--extract=n", "--print=none", "--modify=none", "--"], base, tmp)
    if enc is not None:
        c.add("enc_owner_only_no_extract.pdf", enc, "encrypted", "AES-256, empty user password, extraction forbidden")
    stem, data = srcs[1]
    enc = qpdf(["--encrypt", "u", "o", "256", "--", "--object-streams=generate"], data, tmp)
    if enc is not None:
        c.add("enc_user_%s_objstm.pdf" % stem, enc, "encrypted", "%s: AES-256 + object streams, user password" % stem,
              expect="fail")
        # Damaged encryption dictionary.
        c.add("enc_broken_dict.pdf", enc.replace(b"/V 5", b"/V 9", 1), "encrypted", "encryption dictionary /V 9")


def gen_scale(c):
    # 10,000 pages, one shared content stream and font: ~1 MB.
    p = Pdf()
    cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
    cs = p.add_stream(text_content(["One page of ten thousand."]))
    kids = [p.add("<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>" % (root, cs)) for _ in range(10000)]
    p.set(root, "<< /Type /Pages /Kids [%s] /Count %d /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> >>"
          % (" ".join("%d 0 R" % k for k in kids), len(kids), LETTER, fnt))
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
    c.add("scale_10000_pages.pdf", p.build(cat), "scale",
          "10,000 pages sharing one content stream (MediaBox and fonts inherited)", expect="succeed", pages=10000)
    # The same page object 5,000 times in /Kids.
    p = Pdf()
    cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
    cs = p.add_stream(text_content(["The same page object again."]))
    pg = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
               % (root, LETTER, fnt, cs))
    p.set(root, "<< /Type /Pages /Kids [%s] /Count 5000 >>" % " ".join(["%d 0 R" % pg] * 5000))
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
    c.add("scale_same_page_5000_times.pdf", p.build(cat), "scale", "one page object listed 5,000 times in /Kids")
    c.add("scale_200in_page.pdf", one_page(text_content(SENTENCES, x=7000, y=7200, size=48, lead=60),
                                           box="0 0 14400 14400"), "scale", "a 200 x 200 inch page (14400 pt)",
          expect="succeed", pages=1)
    c.add("scale_userunit_huge.pdf", one_page(page_extra=" /UserUnit 75000"), "scale",
          "/UserUnit 75000 (a page 800 km wide)")
    c.add("scale_tiny_page.pdf", one_page(text_content(["tiny"], x=0, y=0, size=1), box="0 0 0.01 0.01"),
          "scale", "a 0.01 x 0.01 pt page")
    # 10^5 text objects on one page (Flate: ~400 KB).
    parts = []
    for i in range(100000):
        parts.append("BT /F1 4 Tf %d %d Td (t%d) Tj ET" % (10 + (i % 100) * 6, 780 - (i // 100) % 190 * 4, i % 1000))
    c.add("scale_100k_text_objects.pdf", one_page("\n".join(parts), compress=True), "scale",
          "10^5 text objects (BT..ET) on one page", expect="succeed", pages=1)
    c.add("scale_1mb_string.pdf", one_page("BT /F1 10 Tf 72 700 Td (%s) Tj ET" % ("word " * 200000), compress=True),
          "scale", "one Tj of a 1 MB string", expect="succeed", pages=1)
    c.add("scale_100k_paths.pdf", one_page("\n".join("%d %d 3 3 re f" % (i % 600, (i // 600) % 780)
                                                     for i in range(100000)) + "\n" + text_content(SENTENCES),
                                           compress=True), "scale", "10^5 filled rectangles and some text",
          expect="succeed", pages=1)
    # 500 pages, each with its own font object.
    p = Pdf()
    cat, root = p.reserve(), p.reserve()
    kids = []
    for i in range(500):
        f = p.add(FONT.replace("/Helvetica", "/Helvetica-Bold" if i % 2 else "/Times-Roman"))
        cs = p.add_stream(text_content(["Page %d with its own font." % (i + 1)]))
        kids.append(p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
                          "/Contents %d 0 R >>" % (root, LETTER, f, cs)))
    p.set(root, "<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join("%d 0 R" % k for k in kids), len(kids)))
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
    c.add("scale_500_pages_500_fonts.pdf", p.build(cat), "scale", "500 pages, a font object each", expect="succeed",
          pages=500)


def nested_forms(depth, fanout=1, cycle=False):
    """Form XObject i draws form i+1 (`fanout` times); the last draws text (or form 1: a cycle)."""
    p = Pdf()
    cat, root, fnt = p.reserve(), p.reserve(), p.reserve()
    p.set(fnt, FONT)
    first = len(p.objs) + 1
    for i in range(depth):
        num = first + i
        last = i == depth - 1
        nxt = first if (last and cycle) else num + 1
        if last and not cycle:
            data = text_content(["Innermost form."])
            res = "<< /Font << /F1 %d 0 R >> >>" % fnt
        else:
            data = " ".join(["q /X Do Q"] * fanout)
            res = "<< /XObject << /X %d 0 R >> >>" % nxt
        body = stream_body(b(data), " /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources %s" % res)
        assert p.add(body) == num
    cs = p.add_stream("q /X Do Q " + text_content(["Page text outside the forms."], y=100))
    page = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> /XObject << "
                 "/X %d 0 R >> >> /Contents %d 0 R >>" % (root, LETTER, fnt, first, cs))
    p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
    return p.build(cat)


def gen_nesting(c):
    c.add("nest_forms_100.pdf", nested_forms(100), "nesting", "form XObjects nested 100 deep", expect="succeed",
          pages=1)
    c.add("nest_forms_20000.pdf", nested_forms(20000), "nesting", "form XObjects nested 20,000 deep")
    c.add("nest_forms_60000.pdf", nested_forms(60000), "nesting", "form XObjects nested 60,000 deep")
    c.add("nest_forms_self.pdf", nested_forms(1, cycle=True), "nesting", "a form XObject that draws itself")
    c.add("nest_forms_cycle_3.pdf", nested_forms(3, cycle=True), "nesting", "three form XObjects drawing each other")
    c.add("nest_forms_fanout_2x10.pdf", nested_forms(10, fanout=2), "nesting",
          "forms 10 deep, each drawing the next twice (2^10 draws)", expect="succeed", pages=1)
    c.add("nest_forms_fanout_2x40.pdf", nested_forms(40, fanout=2), "nesting",
          "forms 40 deep, each drawing the next twice (2^40 draws: needs a time limit)", slow=True)
    # Objects nested deep in the file's syntax.
    for name, o, cl in (("arrays", "[", "]"), ("dicts", "<< /A ", " >>")):
        deep = one_page().replace(b"/Type /Catalog", b("/Type /Catalog /Deep " + o * 100000 + "0" + cl * 100000), 1)
        c.add("nest_%s_100000.pdf" % name, deep, "nesting", "the catalog holds %s nested 100,000 deep" % name)
    # A Pages tree 5,000 levels deep (one kid per level).
    p = Pdf()
    cat, fnt = p.reserve(), p.add(FONT)
    levels = [p.reserve() for _ in range(5000)]
    cs = p.add_stream(text_content(["Leaf of a deep page tree."]))
    page = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
                 "/Contents %d 0 R >>" % (levels[-1], LETTER, fnt, cs))
    for i, n in enumerate(levels):
        kid = levels[i + 1] if i + 1 < len(levels) else page
        parent = (" /Parent %d 0 R" % levels[i - 1]) if i else ""
        p.set(n, "<< /Type /Pages /Kids [%d 0 R] /Count 1%s >>" % (kid, parent))
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % levels[0])
    c.add("nest_pages_tree_5000.pdf", p.build(cat), "nesting", "a page tree 5,000 levels deep")
    # Outlines: 20,000 deep, and a /Next cycle.
    p = Pdf()
    cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
    cs = p.add_stream(text_content(SENTENCES))
    page = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
                 "/Contents %d 0 R >>" % (root, LETTER, fnt, cs))
    outl = p.reserve()
    items = [p.reserve() for _ in range(20000)]
    for i, n in enumerate(items):
        first = (" /First %d 0 R /Last %d 0 R /Count 1" % (items[i + 1], items[i + 1])) if i + 1 < len(items) else ""
        p.set(n, "<< /Title (Level %d) /Parent %d 0 R /Dest [%d 0 R /Fit]%s /Next %d 0 R >>"
              % (i, items[i - 1] if i else outl, page, first, n))  # /Next to itself: a cycle too
    p.set(outl, "<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count 20000 >>" % (items[0], items[0]))
    p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R /Outlines %d 0 R /PageMode /UseOutlines >>" % (root, outl))
    c.add("nest_outline_20000_cyclic.pdf", p.build(cat), "nesting", "outline 20,000 deep, each item its own /Next")


def gen_bombs(c):
    GiB = 1 << 30

    def content_bomb(z, filters, extra_text=True):
        p = Pdf()
        cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
        bomb = p.add(stream_body(z, " /Filter [%s]" % " ".join(["/FlateDecode"] * filters)))
        cs = p.add_stream(text_content(["Text after the bomb."]))
        conts = "[%d 0 R %d 0 R]" % (bomb, cs) if extra_text else "%d 0 R" % bomb
        page = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
                     "/Contents %s >>" % (root, LETTER, fnt, conts))
        p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
        p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
        return p.build(cat)

    z64m = zlib_zeros(64 << 20)
    c.add("bomb_flate_64mib.pdf", content_bomb(z64m, 1), "bomb", "a content stream inflating to 64 MiB of NULs")
    z1g = zlib_zeros(GiB)
    c.add("bomb_flate_1gib.pdf", content_bomb(z1g, 1), "bomb", "a content stream inflating to 1 GiB of NULs (1 MB)",
          slow=True)
    c.add("bomb_flate_1gib_x2.pdf", content_bomb(flate_layers(z1g, 1), 2), "bomb",
          "1 GiB behind two Flate layers (a few KB)", slow=True)
    c.add("bomb_flate_8gib_x3.pdf", content_bomb(flate_layers(zlib_zeros(8 * GiB), 2), 3), "bomb",
          "8 GiB behind three Flate layers", slow=True)
    c.add("bomb_flate_64gib_x3.pdf", content_bomb(flate_layers(zlib_zeros(64 * GiB), 2), 3), "bomb",
          "64 GiB behind three Flate layers (issue 19 #10)", slow=True)
    # Bombs where a reader may load a whole stream into memory: a font file, a ToUnicode map,
    # an image, an object stream.
    zf = flate_layers(z1g, 1)
    p = Pdf()
    ff = p.add(stream_body(zf, " /Filter [/FlateDecode /FlateDecode] /Length1 1073741824"))
    fd = p.add("<< /Type /FontDescriptor /FontName /Bomb /Flags 32 /FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 800 "
               "/Descent -200 /CapHeight 700 /StemV 80 /FontFile2 %d 0 R >>" % ff)
    fnt = p.add("<< /Type /Font /Subtype /TrueType /BaseFont /Bomb /FirstChar 32 /LastChar 126 /Widths [%s] "
                "/FontDescriptor %d 0 R /Encoding /WinAnsiEncoding >>" % (" ".join(["500"] * 95), fd))
    c.add("bomb_fontfile_1gib.pdf", page_with("<< /Font << /F1 %d 0 R >> >>" % fnt, text_content(SENTENCES), p=p),
          "bomb", "an embedded TrueType font inflating to 1 GiB")
    p = Pdf()
    tu = p.add(stream_body(zf, " /Filter [/FlateDecode /FlateDecode]"))
    fnt = p.add(FONT[:-2] + "/ToUnicode %d 0 R >>" % tu)
    c.add("bomb_tounicode_1gib.pdf", page_with("<< /Font << /F1 %d 0 R >> >>" % fnt, text_content(SENTENCES), p=p),
          "bomb", "a ToUnicode CMap inflating to 1 GiB", slow=True)
    p = Pdf()
    im = p.add(stream_body(zf, " /Type /XObject /Subtype /Image /Width 32768 /Height 32768 /ColorSpace /DeviceGray "
                               "/BitsPerComponent 8 /Filter [/FlateDecode /FlateDecode]"))
    fnt = p.add(FONT)
    c.add("bomb_image_1gib.pdf", page_with("<< /Font << /F1 %d 0 R >> /XObject << /Im %d 0 R >> >>" % (fnt, im),
                                           "q 612 0 0 792 0 0 cm /Im Do Q " + text_content(SENTENCES), p=p),
          "bomb", "a 32768 x 32768 gray image inflating to 1 GiB")


def gen_fonts(c):
    def with_font(font_objs_fn, content=None, what="", expect="any", name=None):
        p = Pdf()
        fnt = font_objs_fn(p)
        c.add(name, page_with("<< /Font << /F1 %d 0 R >> >>" % fnt, content or text_content(SENTENCES), p=p), "font",
              what, expect=expect)

    def desc(p, key=None, data=b"", extra=""):
        ff = ""
        if key:
            ff = " /%s %d 0 R" % (key, p.add(stream_body(data, extra)))
        return p.add("<< /Type /FontDescriptor /FontName /Broken /Flags 32 /FontBBox [0 0 1000 1000] /ItalicAngle 0 "
                     "/Ascent 800 /Descent -200 /CapHeight 700 /StemV 80%s >>" % ff)

    W = " /FirstChar 32 /LastChar 126 /Widths [%s]" % " ".join(["500"] * 95)
    noise = bytes(c.rng.randrange(256) for _ in range(3000))
    ttf_hdr = b"\x00\x01\x00\x00\x00\x05\x00\x80\x00\x02\x00\x01" + b"cmap" + struct.pack(">III", 0, 0xFFFFFF00, 0xFFFF)
    with_font(lambda p: p.add("<< /Type /Font /Subtype /TrueType /BaseFont /Broken%s /FontDescriptor %d 0 R >>"
                              % (W, desc(p, "FontFile2", noise, " /Length1 3000"))),
              what="TrueType FontFile2 of random bytes", name="font_truetype_noise.pdf")
    with_font(lambda p: p.add("<< /Type /Font /Subtype /TrueType /BaseFont /Broken%s /FontDescriptor %d 0 R >>"
                              % (W, desc(p, "FontFile2", ttf_hdr + noise[:200], " /Length1 232"))),
              what="TrueType whose cmap table claims offset 2^32-256", name="font_truetype_bad_table.pdf")
    with_font(lambda p: p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Broken%s /FontDescriptor %d 0 R >>"
                              % (W, desc(p, "FontFile", b"%!PS-AdobeFont-1.0: Broken\n" + noise,
                                         " /Length1 30 /Length2 3000 /Length3 0"))),
              what="Type 1 FontFile with a garbage body", name="font_type1_noise.pdf")
    with_font(lambda p: p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Broken%s /FontDescriptor %d 0 R >>"
                              % (W, desc(p, "FontFile3", b"\x01\x00\x04\x02" + noise, " /Subtype /Type1C"))),
              what="CFF (FontFile3 /Type1C) of garbage", name="font_cff_noise.pdf")
    with_font(lambda p: p.add("<< /Type /Font /Subtype /Type0 /BaseFont /Broken /Encoding /Identity-H "
                              "/DescendantFonts 5 >>"), what="Type0 font whose /DescendantFonts is a number",
              name="font_type0_bad_descendants.pdf")
    with_font(lambda p: p.add("<< /Type /Font /Subtype /Type0 /BaseFont /Broken /Encoding /Identity-H "
                              "/DescendantFonts [%d 0 R] >>" % p.add(
                                  "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Broken /CIDSystemInfo << /Registry "
                                  "(Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /W [0 [%s] "
                                  "1 4294967295 500] /CIDToGIDMap %d 0 R >>"
                                  % (desc(p, "FontFile2", noise), " ".join(["1000"] * 50),
                                     p.add(stream_body(noise[:7]))))),
              content="BT /F1 12 Tf 72 700 Td <0001000200030004ffffffff> Tj ET",
              what="CID font: /W range to 2^32-1, odd-length CIDToGIDMap, noise font file",
              name="font_cid_bad_widths.pdf")
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <00> <FF> "
            b"endcodespacerange 2 beginbfrange <00> <FF> <0041> <0000> <FFFF> [<0042>] endbfrange 1 beginbfchar "
            b"<41> <" + b"0041" * 5000 + b"> endbfchar endcmap end end")
    with_font(lambda p: p.add(FONT[:-2] + "/ToUnicode %d 0 R >>" % p.add(stream_body(cmap))),
              what="ToUnicode with a bfrange past its codespace and a 5,000-character mapping",
              name="font_tounicode_weird.pdf")
    with_font(lambda p: p.add(FONT[:-2] + "/ToUnicode %d 0 R >>" % p.add(stream_body(noise))),
              what="ToUnicode stream of random bytes", name="font_tounicode_noise.pdf", expect="succeed")
    with_font(lambda p: p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar -1000 /LastChar 2000000000 "
                              "/Widths [1 2 3] >>"), what="/FirstChar -1000, /LastChar 2e9, 3 widths",
              name="font_widths_absurd.pdf")
    with_font(lambda p: p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
                              "/Differences [-5 /A 300 /B 2147483647 /C 65 /%s] >> >>" % ("x" * 20000)),
              what="/Differences with negative, huge codes and a 20,000-character glyph name",
              name="font_differences_absurd.pdf")
    with_font(lambda p: p.add("<< /Type /Font /Subtype /Type1 /BaseFont /%s >>" % ("LongName" * 3000)),
              what="a 24,000-character /BaseFont", name="font_basefont_long.pdf")
    with_font(lambda p: p.add("42"), what="/F1 is the number 42", name="font_not_a_dict.pdf")
    c.add("font_missing_resource.pdf", one_page(text_content(SENTENCES).replace("/F1", "/F9")), "font",
          "Tf names a font the resources do not have")
    c.add("font_no_tf.pdf", one_page("BT 72 700 Td (Text with no font set) Tj ET"), "font", "Tj before any Tf")
    # Type 3 font whose glyph draws text in the same Type 3 font (recursion).
    p = Pdf()
    t3 = p.reserve()
    glyph = p.add(stream_body(b"1000 0 d0 BT /T3 12 Tf 0 0 Td (a) Tj ET"))
    p.set(t3, "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] "
              "/CharProcs << /a %d 0 R >> /Encoding << /Type /Encoding /Differences [97 /a] >> /FirstChar 97 "
              "/LastChar 97 /Widths [1000] /Resources << /Font << /T3 %d 0 R >> >> >>" % (glyph, t3))
    fnt = p.add(FONT)
    c.add("font_type3_recursive.pdf", page_with("<< /Font << /F1 %d 0 R /T3 %d 0 R >> >>" % (fnt, t3),
                                                "BT /T3 12 Tf 72 700 Td (aaa) Tj ET " + text_content(SENTENCES), p=p),
          "font", "a Type 3 glyph that draws itself")


def gen_images(c):
    def img_page(img_dict, data, name, what, inline=False):
        p = Pdf()
        fnt = p.add(FONT)
        if inline:
            content = b"q 100 0 0 100 72 500 cm BI " + b(img_dict) + b" ID " + data + b" EI Q " + b(
                text_content(SENTENCES))
            c.add(name, page_with("<< /Font << /F1 %d 0 R >> >>" % fnt, content.decode("latin-1"), p=p), "image", what)
            return
        im = p.add(stream_body(data, " /Type /XObject /Subtype /Image " + img_dict))
        c.add(name, page_with("<< /Font << /F1 %d 0 R >> /XObject << /Im %d 0 R >> >>" % (fnt, im),
                              "q 200 0 0 200 72 500 cm /Im Do Q " + text_content(SENTENCES), p=p), "image", what)

    noise = bytes(c.rng.randrange(256) for _ in range(4000))
    g = "/ColorSpace /DeviceGray /BitsPerComponent 1"
    # JBIG2: an embedded-stream page information segment claiming 2^31 x 2^31, then noise.
    seg = struct.pack(">IBBBI", 0, 48, 0, 1, 19) + struct.pack(">IIIIBH", 0x7FFFFFFF, 0x7FFFFFFF, 0, 0, 0, 0)
    img_page("/Width 64 /Height 64 %s /Filter /JBIG2Decode" % g, seg + noise, "img_jbig2_huge_page.pdf",
             "JBIG2 page segment claiming 2^31 x 2^31, then noise")
    img_page("/Width 64 /Height 64 %s /Filter /JBIG2Decode" % g, noise, "img_jbig2_noise.pdf", "JBIG2 of random bytes")
    p_glob = Pdf()
    gl = p_glob.add(stream_body(noise[:500]))
    im = p_glob.add(stream_body(seg + noise[500:1500], " /Type /XObject /Subtype /Image /Width 64 /Height 64 %s "
                                "/Filter /JBIG2Decode /DecodeParms << /JBIG2Globals %d 0 R >>" % (g, gl)))
    fnt = p_glob.add(FONT)
    c.add("img_jbig2_globals_noise.pdf", page_with("<< /Font << /F1 %d 0 R >> /XObject << /Im %d 0 R >> >>" % (fnt, im),
                                                   "q 200 0 0 200 72 500 cm /Im Do Q " + text_content(SENTENCES),
                                                   p=p_glob), "image", "JBIG2 with /JBIG2Globals of random bytes")
    img_page("/Width 1728 /Height 2000 %s /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns 1728 /Rows 2000 >>" % g,
             noise, "img_ccitt_g4_noise.pdf", "CCITT G4 of random bytes")
    img_page("/Width 100000 /Height 100000 %s /Filter /CCITTFaxDecode /DecodeParms << /K 0 /Columns 100000 "
             "/EncodedByteAlign true >>" % g, noise, "img_ccitt_g3_huge.pdf", "CCITT G3 100,000 columns of noise")
    jp2 = (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00\x00\x00\x14ftypjp2 \x00\x00\x00\x00jp2 " +
           b"\x00\x00\x00\x2djp2h\x00\x00\x00\x16ihdr" + struct.pack(">IIHBBBB", 0x7FFFFFFF, 0x7FFFFFFF, 3, 7, 7, 0, 0) +
           b"\x00\x00\x00\x0fcolr\x01\x00\x00\x00\x00\x00\x10" + b"\x00\x00\x01\x00jp2c" +
           b"\xff\x4f\xff\x51\x00\x29\x00\x00" + struct.pack(">IIIIIIII", 0x7FFFFFFF, 0x7FFFFFFF, 0, 0, 1, 1, 0, 0) +
           b"\x00\x03" + b"\x07\x01\x01" * 3 + noise[:300])
    img_page("/Width 64 /Height 64 /Filter /JPXDecode", jp2, "img_jpx_huge_header.pdf",
             "JPX: hand-made JP2 boxes and SIZ marker claiming 2^31 x 2^31, then noise")
    img_page("/Width 64 /Height 64 /Filter /JPXDecode", b"\xff\x4f\xff\x51" + noise[:100], "img_jpx_codestream_noise.pdf",
             "JPX: a raw codestream start and noise")
    sof = (b"\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xda\x00\x0c\x03"
           b"\x01\x00\x02\x11\x03\x11\x00\x3f\x00" + noise[:1000] + b"\xff\xd9")
    img_page("/Width 65535 /Height 65535 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", sof,
             "img_dct_huge_sof.pdf", "DCT (JPEG) frame header claiming 65535 x 65535, no tables")
    img_page("/Width 1000000000 /Height 1000000000 /ColorSpace /DeviceRGB /BitsPerComponent 8", noise,
             "img_raw_1e9_square.pdf", "a raw image claiming 10^9 x 10^9 pixels with 4 KB of data")
    img_page("/W 10000 /H 10000 /CS /RGB /BPC 8", noise[:100], "img_inline_short.pdf",
             "an inline image claiming 10000 x 10000 with 100 bytes", inline=True)
    img_page("/W 8 /H 8 /CS /G /BPC 8 /F /AHx", b"00ff" * 10, "img_inline_no_ei.pdf",
             "an inline image whose data runs into the text (no EI)", inline=True)
    img_page("/Width 4 /Height 4 /ColorSpace [/Indexed /DeviceRGB 1000000 <00ff00>] /BitsPerComponent 8", noise[:16],
             "img_indexed_hival_huge.pdf", "an Indexed color space with hival 10^6 and a 3-byte table")
    img_page("/Width 4 /Height 4 /ColorSpace [/ICCBased 3 0 R] /BitsPerComponent 8", noise[:48],
             "img_iccbased_wrong_ref.pdf", "/ICCBased naming the page tree instead of a profile")
    p = Pdf()
    fnt = p.add(FONT)
    im = p.reserve()
    p.set(im, stream_body(noise[:64], " /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
                                      "/BitsPerComponent 8 /SMask %d 0 R" % im))
    c.add("img_smask_self.pdf", page_with("<< /Font << /F1 %d 0 R >> /XObject << /Im %d 0 R >> >>" % (fnt, im),
                                          "q 200 0 0 200 72 500 cm /Im Do Q " + text_content(SENTENCES), p=p),
          "image", "an image that is its own soft mask")


def gen_geometry(c):
    for rot in (90, 180, 270):
        c.add("geom_rotate_%d.pdf" % rot, one_page(page_extra=" /Rotate %d" % rot), "geometry", "/Rotate %d" % rot,
              expect="succeed", pages=1)
    for rot in (45, -90, 450, 2147483647):
        c.add("geom_rotate_%s.pdf" % str(rot).replace("-", "minus"), one_page(page_extra=" /Rotate %d" % rot),
              "geometry", "/Rotate %d (not a multiple of 90 or out of range)" % rot)
    c.add("geom_rotate_mixed_4pages.pdf", simple_pdf([(LETTER, text_content(SENTENCES), " /Rotate %d" % r)
                                                      for r in (0, 90, 180, 270)]), "geometry",
          "four pages rotated 0, 90, 180, 270", expect="succeed", pages=4)
    crops = [("inside", "100 100 500 700", "succeed"), ("outside", "5000 5000 6000 6000", "any"),
             ("zero_area", "100 100 100 100", "any"), ("inverted", "500 700 100 100", "any"),
             ("negative", "-1000 -1000 -500 -500", "any"), ("larger", "-100 -100 800 900", "succeed")]
    for name, box, exp in crops:
        c.add("geom_cropbox_%s.pdf" % name, one_page(page_extra=" /CropBox [%s]" % box), "geometry",
              "CropBox [%s] on a letter page" % box, expect=exp, pages=1 if exp == "succeed" else None)
    c.add("geom_cropbox_rotated.pdf", one_page(page_extra=" /CropBox [50 50 562 742] /Rotate 90"), "geometry",
          "CropBox and /Rotate 90", expect="succeed", pages=1)
    for name, box in (("negative", "-612 -792 0 0"), ("inverted", "612 792 0 0"), ("zero", "0 0 0 0"),
                      ("three_numbers", "0 0 612"), ("huge", "0 0 1e30 1e30"), ("overflow", "0 0 1e400 99999999999"),
                      ("strings", "(a) (b) (c) (d)"), ("empty", ""), ("nan_like", "0 0 -0 -0.0000000001")):
        # The negative box's page is moved with it (cm), so its text is on the page.
        content = ("1 0 0 1 -612 -792 cm " if name == "negative" else "") + text_content(SENTENCES)
        c.add("geom_mediabox_%s.pdf" % name, one_page(content, box=box), "geometry", "MediaBox [%s]" % box,
              expect="succeed" if name == "negative" else "any", pages=1 if name == "negative" else None)
    c.add("geom_mediabox_missing.pdf", one_page().replace(b"/MediaBox [0 0 612 792] ", b""), "geometry",
          "no MediaBox anywhere")
    c.add("geom_mediabox_inherited.pdf", simple_pdf([(LETTER, text_content(SENTENCES))], pages_extra=" /MediaBox [0 0 "
                                                                                                       "595 842]")
          .replace(b"/MediaBox [0 0 612 792] ", b""), "geometry", "MediaBox inherited from /Pages", expect="succeed",
          pages=1)
    c.add("geom_userunit_zero.pdf", one_page(page_extra=" /UserUnit 0"), "geometry", "/UserUnit 0")
    c.add("geom_userunit_negative.pdf", one_page(page_extra=" /UserUnit -3"), "geometry", "/UserUnit -3")
    c.add("geom_text_matrix_degenerate.pdf", one_page("BT /F1 12 Tf 0 0 0 0 72 700 Tm (Degenerate matrix) Tj ET "
                                                      + text_content(SENTENCES)), "geometry",
          "a singular text matrix, then ordinary text", expect="succeed", pages=1)
    c.add("geom_text_huge_scale.pdf", one_page("BT /F1 1e30 Tf 72 700 Td (Huge) Tj ET BT /F1 12 Tf 1e38 0 0 1e38 0 0 Tm "
                                               "(Huger) Tj ET " + text_content(SENTENCES)), "geometry",
          "font size 1e30 and a 1e38 text matrix")
    c.add("geom_text_far_away.pdf", one_page("BT /F1 12 Tf 1000000000 -1000000000 Td (Far away) Tj ET " +
                                             text_content(SENTENCES)),
          "geometry", "text at (10^9, -10^9), off the page, and ordinary text", expect="succeed", pages=1)
    c.add("geom_exponent_syntax.pdf", one_page("BT /F1 12 Tf 1e9 -1e9 Td (Far away) Tj ET " + text_content(SENTENCES)),
          "geometry", "numbers written 1e9 (not PDF syntax: readers stop the content stream there)")
    c.add("geom_cm_nan.pdf", one_page("1e400 0 0 1e400 0 0 cm 0 0 0 0 0 0 cm " + text_content(SENTENCES)), "geometry",
          "cm with 1e400 (inf) and a zero matrix")


def gen_tree(c):
    base = simple_pdf([(LETTER, text_content(SENTENCES))])  # 1 catalog, 2 pages, 3 font, 4 content, 5 page

    def kids(s):
        return base.replace(b"/Kids [5 0 R] /Count 1", b(s), 1)

    c.add("tree_kids_self.pdf", kids("/Kids [5 0 R 2 0 R] /Count 2"), "tree", "/Pages lists itself among its kids")
    c.add("tree_kids_catalog.pdf", kids("/Kids [1 0 R 5 0 R] /Count 2"), "tree", "/Kids holds the catalog")
    c.add("tree_kids_junk.pdf", kids("/Kids [null 7 (x) 99 0 R 5 0 R] /Count 5"), "tree",
          "/Kids holds null, a number, a string, a missing object and the page")
    c.add("tree_kids_not_array.pdf", kids("/Kids 5 0 R /Count 1"), "tree", "/Kids is a reference to the page, not an array")
    c.add("tree_count_huge.pdf", kids("/Kids [5 0 R] /Count 2147483647"), "tree", "/Count 2^31-1 with one page")
    c.add("tree_count_1e12.pdf", kids("/Kids [5 0 R] /Count 1000000000000"), "tree", "/Count 10^12 with one page")
    c.add("tree_count_negative.pdf", kids("/Kids [5 0 R] /Count -5"), "tree", "/Count -5")
    c.add("tree_count_zero.pdf", kids("/Kids [5 0 R] /Count 0"), "tree", "/Count 0 with one page")
    c.add("tree_no_kids.pdf", kids("/Kids [] /Count 0"), "tree", "an empty page tree", expect="fail")
    c.add("tree_pages_not_dict.pdf", base.replace(b"/Pages 2 0 R", b"/Pages 4 0 R", 1), "tree",
          "/Pages names the content stream")
    c.add("tree_obj_self_ref.pdf", base.replace(b"2 0 obj\n<<", b"2 0 obj\n2 0 R\n%<<", 1), "tree",
          "the page tree object is a reference to itself")
    # Two /Pages nodes that are each other's kids.
    p = Pdf()
    cat, a, bb = p.reserve(), p.reserve(), p.reserve()
    p.set(a, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % bb)
    p.set(bb, "<< /Type /Pages /Kids [%d 0 R] /Count 1 /Parent %d 0 R >>" % (a, a))
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % a)
    c.add("tree_pages_loop_2.pdf", p.build(cat), "tree", "two /Pages nodes, each the other's kid")
    # A page whose /Parent chain loops (inherited attributes are looked up through it).
    c.add("tree_parent_loop.pdf", base.replace(b"/Parent 2 0 R", b"/Parent 5 0 R", 1)
          .replace(b"/MediaBox [0 0 612 792] ", b""), "tree", "a page that is its own /Parent, no MediaBox")
    c.add("tree_page_typed_pages.pdf", base.replace(b"/Type /Page ", b"/Type /Pages ", 1), "tree",
          "the page says /Type /Pages")
    c.add("tree_no_type.pdf", base.replace(b"/Type /Page ", b"", 1).replace(b"/Type /Pages ", b"", 1), "tree",
          "page tree nodes without /Type")
    # Annotations: 10,000 on one page, with appearance streams; an AcroForm field tree loop.
    p = Pdf()
    cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
    ap = p.add(stream_body(b"BT /F1 6 Tf 0 0 Td (ann) Tj ET", " /Type /XObject /Subtype /Form /BBox [0 0 20 10] "
                                                           "/Resources << /Font << /F1 %d 0 R >> >>" % fnt))
    pg = p.reserve()
    annots = [p.add("<< /Type /Annot /Subtype /Widget /FT /Tx /T (f%d) /Rect [%d %d %d %d] /AP << /N %d 0 R >> "
                    "/P %d 0 R /Parent %d 0 R >>" % (i, i % 600, i // 600 * 5 % 780, i % 600 + 20, i // 600 * 5 % 780
                                                      + 10, ap, pg, 0)) for i in range(1, 10001)]
    cs = p.add_stream(text_content(SENTENCES))
    p.set(pg, "<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R "
              "/Annots [%s] >>" % (root, LETTER, fnt, cs, " ".join("%d 0 R" % a for a in annots)))
    p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % pg)
    # Field 1 is the parent of every field, and its own parent: a loop in the field tree.
    field1 = annots[0]
    for i, a in enumerate(annots):
        p.objs[a - 1] = p.objs[a - 1].replace(b"/Parent 0 0 R", b("/Parent %d 0 R" % field1))
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R /AcroForm << /Fields [%s] /NeedAppearances true >> >>"
          % (root, " ".join("%d 0 R" % a for a in annots[:100])))
    c.add("tree_10000_widgets_field_loop.pdf", p.build(cat), "tree",
          "10,000 form widgets with appearance streams; the field tree loops")


def gen_objstm(c, srcs, tmp):
    for stem, data in srcs[:5]:
        o = qpdf(["--object-streams=generate"], data, tmp)
        if o is None:
            c.skipped.append("objstm_%s (qpdf)" % stem)
            continue
        c.add("objstm_%s.pdf" % stem, o, "objstm", "%s rewritten with object streams (qpdf)" % stem, expect="convert")
        # The same, object streams intact but their first bytes flipped.
        i = o.find(b"/Type /ObjStm")
        if i > 0:
            s = o.find(b"stream", i) + 7
            buf = bytearray(o)
            for k in range(s, min(s + 40, len(buf))):
                buf[k] ^= 0xA5
            c.add("objstm_%s_damaged.pdf" % stem, bytes(buf), "objstm", "%s: first object stream's data scrambled" % stem)
    # Hand-made object streams: /N huge, /First past the end, offsets pointing anywhere, and an
    # object stream holding itself; the xref stream maps the page tree into them.
    for name, n, first, pairs in (("n_huge", 2000000000, 10, "2 0 3 20"), ("first_past_end", 2, 99999, "2 0 3 20"),
                                  ("offsets_wild", 2, 10, "2 -50 3 999999999"), ("holds_itself", 2, 10, "7 0 2 5")):
        objs = b"<< /Type /Pages /Kids [] /Count 0 >> 42"
        header = b(pairs).ljust(10)
        p = Pdf()
        cat = p.add("<< /Type /Catalog /Pages 2 0 R >>")
        _ = p.add("null")  # placeholder numbers 2..6; 2 lives in the object stream
        for _ in range(4):
            p.add("null")
        osn = p.add(stream_body(header + objs, " /Type /ObjStm /N %d /First %d" % (n, first)))
        body = p.build(cat)
        xs_at = body.rindex(b"xref\n0 ")
        body = body[:xs_at]
        offs = []
        for k in range(1, 8):
            offs.append(body.index(b("\n%d 0 obj\n" % k)) + 1 if k > 1 else body.index(b"1 0 obj\n"))
        rows = b"\x00\x00\x00\x00"
        for k in range(1, 8):
            if k == 2:
                rows += b"\x02" + struct.pack(">H", osn) + b"\x00"
            else:
                rows += b"\x01" + struct.pack(">H", offs[k - 1]) + b"\x00"
        xs_off = len(body)
        body += b("8 0 obj\n") + stream_body(rows, " /Type /XRef /Size 9 /W [1 2 1] /Root 1 0 R") + b"\nendobj\n"
        body += b("startxref\n%d\n%%%%EOF\n" % xs_off)
        c.add("objstm_hand_%s.pdf" % name, body, "objstm", "hand-made object stream: %s" % name.replace("_", " "))


def gen_valid(c, srcs, tmp):
    for stem, data in srcs:
        c.add("valid_%s.pdf" % stem, data, "valid", "%s as it is" % stem, expect="convert")
    for stem, data in srcs[:4]:
        for flag, what in (("--linearize", "linearized"), ("--qdf", "QDF (uncompressed, annotated)"),
                           ("--normalize-content=y", "normalized content")):
            o = qpdf([flag] if flag != "--qdf" else ["--qdf", "--object-streams=disable"], data, tmp)
            tag = flag.strip("-").split("=")[0].replace("-", "_")
            if o is None:
                c.skipped.append("valid_%s_%s (qpdf)" % (stem, tag))
                continue
            c.add("valid_%s_%s.pdf" % (stem, tag), o, "valid", "%s %s (qpdf)" % (stem, what), expect="convert")
    c.add("valid_generated_3pages.pdf", simple_pdf([(LETTER, text_content(SENTENCES + ["Page %d." % i]))
                                                    for i in range(1, 4)], compress=True),
          "valid", "three generated pages, Flate content", expect="succeed", pages=3)
    c.add("valid_no_text.pdf", one_page("0 0 1 rg 100 100 200 200 re f"), "valid", "a page with a rectangle and no text",
          expect="convert", pages=1)
    c.add("valid_pdf20.pdf", one_page(version="2.0"), "valid", "PDF 2.0 header", expect="succeed", pages=1)
    c.add("valid_cr_line_endings.pdf", one_page().replace(b"\n", b"\r"), "valid", "CR-only line endings")


def gen_misc(c):
    c.add("misc_version_9_9.pdf", one_page(version="9.9"), "misc", "%PDF-9.9")
    c.add("misc_javascript_openaction.pdf",
          one_page(catalog_extra=" /OpenAction << /S /JavaScript /JS (app.alert\\('hi'\\); while\\(1\\){}) >>"),
          "misc", "an OpenAction with a JavaScript endless loop (never run)", expect="succeed", pages=1)
    c.add("misc_launch_action.pdf", one_page(catalog_extra=" /OpenAction << /S /Launch /F (/bin/sh) >>"), "misc",
          "a Launch action (never run)", expect="succeed", pages=1)
    c.add("misc_huge_numbers.pdf", one_page("BT /F1 99999999999999999999999999 Tf 1" + "0" * 2000 + " 700 Td (x) Tj ET "
                                            + text_content(SENTENCES)), "misc",
          "numbers of 26 and 2,000 digits")
    c.add("misc_string_nested_parens.pdf", one_page("BT /F1 12 Tf 72 700 Td (" + "(" * 100000 + ")" * 100000 + ") Tj ET "
                                                    + text_content(SENTENCES)), "misc",
          "a string with 100,000 nested parentheses")
    c.add("misc_hex_odd.pdf", one_page("BT /F1 12 Tf 72 700 Td <48656c6c6f2> Tj <zz> Tj ET " + text_content(SENTENCES)),
          "misc", "hex strings with an odd digit count and bad digits")
    c.add("misc_nul_in_names.pdf", one_page().replace(b"/Helvetica", b"/Helv\x00etica"), "misc",
          "a NUL byte inside a font name")
    c.add("misc_utf8_text.pdf", one_page("BT /F1 12 Tf 72 700 Td (\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xff\xfe\x00) "
                                         "Tj ET " + text_content(SENTENCES)), "misc",
          "bytes of UTF-8 and invalid sequences shown with a WinAnsi font", expect="succeed", pages=1)
    name = "misc_name with spaces and ünïcødé ☃.pdf"
    c.add(name, one_page(), "misc", "a file name with spaces and non-ASCII letters", expect="succeed", pages=1)
    c.add("-misc_leading_dash.pdf", one_page(), "misc", "a file name starting with '-'", expect="succeed", pages=1)
    c.add("MISC_UPPER_CASE.PDF", one_page(), "misc", "an upper-case .PDF extension", expect="succeed", pages=1)
    c.add("misc_png_as_png.png", png_bytes(32, 32), "misc", "a 32x32 PNG (an image page without text)")
    # Shading and tiling patterns whose content uses themselves.
    p = Pdf()
    fnt = p.add(FONT)
    pat = p.reserve()
    p.set(pat, stream_body(b"/P scn 0 0 10 10 re f", " /Type /Pattern /PatternType 1 /PaintType 1 /TilingType 1 "
                           "/BBox [0 0 10 10] /XStep 10 /YStep 10 /Resources << /Pattern << /P %d 0 R >> >>" % pat))
    c.add("misc_tiling_pattern_recursive.pdf",
          page_with("<< /Font << /F1 %d 0 R >> /Pattern << /P %d 0 R >> >>" % (fnt, pat),
                    "/Pattern cs /P scn 0 0 612 792 re f " + text_content(SENTENCES), p=p), "misc",
          "a tiling pattern that paints with itself")
    p = Pdf()
    fnt = p.add(FONT)
    gs = p.reserve()
    p.set(gs, "<< /Type /ExtGState /SMask << /Type /Mask /S /Luminosity /G %d 0 R >> >>" % gs)
    c.add("misc_extgstate_smask_self.pdf",
          page_with("<< /Font << /F1 %d 0 R >> /ExtGState << /G %d 0 R >> >>" % (fnt, gs), "/G gs " +
                    text_content(SENTENCES), p=p), "misc", "an ExtGState whose soft mask group is itself")
    c.add("misc_annotation_ap_recursive.pdf", _annot_recursive(), "misc",
          "an annotation whose appearance form draws itself")
    c.add("misc_embedded_self.pdf", _embedded_self(), "misc", "an attachment holding a PDF with an attachment",
          expect="succeed", pages=1)


def _annot_recursive():
    p = Pdf()
    cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
    ap = p.reserve()
    p.set(ap, stream_body(b"/A Do", " /Type /XObject /Subtype /Form /BBox [0 0 50 50] /Resources << /XObject << /A %d 0 R"
                                    " >> >>" % ap))
    pg = p.reserve()
    an = p.add("<< /Type /Annot /Subtype /Square /Rect [100 100 150 150] /AP << /N %d 0 R >> /P %d 0 R >>" % (ap, pg))
    cs = p.add_stream(text_content(SENTENCES))
    p.set(pg, "<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R "
              "/Annots [%d 0 R] >>" % (root, LETTER, fnt, cs, an))
    p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % pg)
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R >>" % root)
    return p.build(cat)


def _embedded_self():
    inner = one_page()
    p = Pdf()
    cat, root, fnt = p.reserve(), p.reserve(), p.add(FONT)
    ef = p.add(stream_body(inner, " /Type /EmbeddedFile"))
    spec = p.add("<< /Type /Filespec /F (inner.pdf) /EF << /F %d 0 R >> >>" % ef)
    cs = p.add_stream(text_content(SENTENCES))
    pg = p.add("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
               % (root, LETTER, fnt, cs))
    p.set(root, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % pg)
    p.set(cat, "<< /Type /Catalog /Pages %d 0 R /Names << /EmbeddedFiles << /Names [(inner.pdf) %d 0 R] >> >> >>"
          % (root, spec))
    return p.build(cat)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--sources", nargs="*", default=DEFAULT_SOURCES, help="folders of real PDFs to damage")
    ap.add_argument("--no-qpdf", action="store_true", help="leave out the files qpdf makes")
    ap.add_argument("--no-slow", action="store_true", help="leave out the files marked slow")
    ap.add_argument("--only-slow", action="store_true", help="only the files marked slow")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    srcs = load_sources(a.sources)
    if len(srcs) < 6:
        sys.exit("make_corpus: need at least 6 PDFs in %s" % a.sources)
    c = Corpus(a.out, a.seed)
    if a.no_qpdf:
        os.environ["PATH"] = ""
    with tempfile.TemporaryDirectory(prefix="torture_qpdf_") as tmp:
        gen_truncations(c, srcs)
        gen_bitflips(c, srcs)
        gen_xref(c, srcs)
        gen_streams(c)
        gen_not_pdf(c, srcs)
        gen_encrypted(c, srcs, tmp)
        gen_scale(c)
        gen_nesting(c)
        gen_bombs(c)
        gen_fonts(c)
        gen_images(c)
        gen_geometry(c)
        gen_tree(c)
        gen_objstm(c, srcs, tmp)
        gen_valid(c, srcs, tmp)
        gen_misc(c)
    if a.no_slow or a.only_slow:
        for name in [n for n, e in c.files.items() if bool(e.get("slow")) != a.only_slow]:
            os.remove(os.path.join(a.out, name))
            del c.files[name]
    digest = hashlib.sha256()
    for name in sorted(n for n, e in c.files.items() if not e.get("varies")):
        with open(os.path.join(a.out, name), "rb") as f:
            digest.update(name.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    manifest = {"seed": a.seed, "count": len(c.files), "sha256": digest.hexdigest(), "skipped": c.skipped,
                "files": c.files}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True, ensure_ascii=False)
    by = {}
    for e in c.files.values():
        by[e["category"]] = by.get(e["category"], 0) + 1
    print("make_corpus: %d files in %s (%s)%s" % (len(c.files), a.out, ", ".join("%s %d" % kv for kv in sorted(by.items())),
                                                  "; skipped: " + ", ".join(c.skipped) if c.skipped else ""))


if __name__ == "__main__":
    main()
