#!/usr/bin/env python3
"""Writes the text-layer evaluation set: born-digital single-page PDFs with exact ground truth.

Every page is written by hand (content streams with BT/Tf/Td/Tj), so the script that places the
text also writes what a reader should get back, in reading order:

  <out>/<name>.pdf   the page
  <out>/<name>.txt   the ground truth: one block per line (paragraph, heading, caption, table row,
                     list item, footnote, form field) in reading order; headings start with "# "
  <out>/<name>.json  {"layout": ..., "blocks": [{"kind": ..., "text": ...}], "headings": [...]}

Fonts: the standard Type1 fonts (WinAnsi, widths from the URW AFM metrics, used to justify
lines) and, for Hebrew and ballot-box glyphs, DejaVu Sans embedded as a Type0 font with a
ToUnicode CMap. Words come from a fixed vocabulary with a seeded generator: deterministic.
Running heads and page numbers are furniture and are not in the ground truth.

usage: make_set.py [--out DIR]      (default: bench/text_eval/set)
"""
import argparse
import json
import os
import random
import struct
import sys
import zlib

AFM_DIRS = ["/usr/share/fonts/type1/urw-base35", "/usr/share/fonts/type1/gsfonts"]
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

# PDF resource name -> (BaseFont, AFM file stem)
STD_FONTS = {
    "F1": ("Helvetica", "NimbusSans-Regular"),
    "F2": ("Helvetica-Bold", "NimbusSans-Bold"),
    "F3": ("Times-Roman", "NimbusRoman-Regular"),
    "F4": ("Times-Bold", "NimbusRoman-Bold"),
    "F5": ("Times-Italic", "NimbusRoman-Italic"),
    "F6": ("Courier", "NimbusMonoPS-Regular"),
    "F7": ("ZapfDingbats", "D050000L"),
}

WORDS = """ability account action advice agency amount analysis animal answer approach area argument
article aspect attempt audience author balance basis behavior benefit border branch budget
building capital career carbon center chapter choice circle climate coast collection column
comfort command comment community company concept concern condition conference context
contract control country county course credit culture current customer damage debate decade
decision default degree demand design detail device dialogue direction distance district
division doctor economy edition editor effect effort element energy engine entry estate event
evidence example exchange expert factor failure family farmer feature figure finance focus
forest format fortune frame friend function garden gesture gravity growth harbor health height
history holiday horizon hospital household impact income industry instance interest island
journey judgment kitchen knowledge language leader lesson letter level library license limit
market material measure medium memory method minute mirror moment motion museum nature network
notice number object office option orbit outcome output package painting parent partner pattern
period person picture planet platform pocket policy portion position pressure problem process
product profile project property purpose quality quarter question railway reason record region
relation report request research resource response result revenue review river routine safety
sample schedule science season sector segment series service session shadow signal silver
similar sketch society source speech spirit square station status storage strategy stream
structure student subject summer supply surface system target teacher theory thread ticket
timber tower tradition traffic transfer travel treaty trend valley value variety vehicle venture
version village vision volume weather window winter worker writer yellow harvest lantern meadow
pebble quarry saddle tunnel velvet walnut anchor barrel candle dragon feather glacier hammer
ivory jacket kernel ladder magnet needle oyster pillow quiver ribbon spiral thistle umbrella
whistle zenith""".split()
VERBS = """adds allows builds carries changes closes covers creates defines delivers describes
draws enables extends follows gives guides holds improves includes keeps leads limits marks
measures moves opens places prepares presents produces protects raises reaches reduces reflects
remains replaces requires returns shapes shows starts supports takes turns uses writes""".split()
ADJ = """active basic broad central clear common direct early equal final formal general global
large local main minor modern narrow natural normal open plain public quiet rapid rare regular
simple single small social solid special steady strong total useful various vital warm wide""".split()


class Text:
    """Deterministic sentences from the vocabulary."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def noun(self):
        return self.r.choice(WORDS)

    def sentence(self):
        r = self.r
        parts = [r.choice(["The", "Each", "Every", "A", "This", "Our"]), r.choice(ADJ), self.noun(),
                 r.choice(VERBS), r.choice(["the", "a", "each", "its"]), self.noun()]
        for _ in range(r.randint(1, 4)):
            parts += [r.choice(["of", "for", "with", "near", "under", "after", "and"]),
                      r.choice(["the", "a", "every"]) if r.random() < 0.5 else r.choice(ADJ), self.noun()]
        if r.random() < 0.3:
            parts.insert(r.randint(2, len(parts) - 1), str(r.randint(2, 990)))
        return " ".join(parts) + "."

    def para(self, n_sent):
        return " ".join(self.sentence() for _ in range(n_sent))

    def title(self, n):
        return " ".join(w.capitalize() for w in (self.noun() for _ in range(n)))


# --- metrics -------------------------------------------------------------------------------

def load_afm(stem):
    for d in AFM_DIRS:
        p = os.path.join(d, stem + ".afm")
        if os.path.exists(p):
            widths = {}
            for line in open(p, encoding="latin-1"):
                if line.startswith("C "):
                    f = [x.strip() for x in line.split(";")]
                    code = int(f[0].split()[1])
                    wx = int(f[1].split()[1])
                    if 32 <= code <= 126:
                        widths[code] = wx
            return widths
    sys.exit("make_set.py: no AFM metrics for %s in %s" % (stem, AFM_DIRS))


class TTF:
    """The few tables of a TrueType font needed to embed it as a CIDFontType2."""

    def __init__(self, path):
        self.data = open(path, "rb").read()
        d = self.data
        n = struct.unpack(">H", d[4:6])[0]
        self.tables = {}
        for i in range(n):
            tag, _, off, ln = struct.unpack(">4sIII", d[12 + 16 * i:28 + 16 * i])
            self.tables[tag.decode("latin-1")] = (off, ln)
        off = self.tables["head"][0]
        self.upem = struct.unpack(">H", d[off + 18:off + 20])[0]
        off = self.tables["hhea"][0]
        self.n_hmetrics = struct.unpack(">H", d[off + 34:off + 36])[0]
        self.cmap = self._cmap4()

    def _cmap4(self):
        d = self.data
        base = self.tables["cmap"][0]
        n = struct.unpack(">H", d[base + 2:base + 4])[0]
        for i in range(n):
            pid, eid, off = struct.unpack(">HHI", d[base + 4 + 8 * i:base + 12 + 8 * i])
            if pid == 3 and eid == 1:
                t = base + off
                if struct.unpack(">H", d[t:t + 2])[0] != 4:
                    continue
                segx2 = struct.unpack(">H", d[t + 6:t + 8])[0]
                seg = segx2 // 2
                ends = struct.unpack(">%dH" % seg, d[t + 14:t + 14 + segx2])
                starts = struct.unpack(">%dH" % seg, d[t + 16 + segx2:t + 16 + 2 * segx2])
                deltas = struct.unpack(">%dh" % seg, d[t + 16 + 2 * segx2:t + 16 + 3 * segx2])
                ro_pos = t + 16 + 3 * segx2
                ros = struct.unpack(">%dH" % seg, d[ro_pos:ro_pos + segx2])
                m = {}
                for s in range(seg):
                    for c in range(starts[s], ends[s] + 1):
                        if c == 0xFFFF:
                            continue
                        if ros[s] == 0:
                            g = (c + deltas[s]) & 0xFFFF
                        else:
                            p = ro_pos + 2 * s + ros[s] + 2 * (c - starts[s])
                            g = struct.unpack(">H", d[p:p + 2])[0]
                            if g:
                                g = (g + deltas[s]) & 0xFFFF
                        if g:
                            m[c] = g
                return m
        sys.exit("make_set.py: %s has no Unicode cmap" % DEJAVU)

    def advance(self, gid):
        off = self.tables["hmtx"][0]
        i = min(gid, self.n_hmetrics - 1)
        return struct.unpack(">H", self.data[off + 4 * i:off + 4 * i + 2])[0] * 1000 // self.upem


# --- the page ----------------------------------------------------------------------------------

class Page:
    def __init__(self, name, layout, w=612, h=792, rotate=0):
        self.name, self.layout, self.w, self.h, self.rotate = name, layout, w, h, rotate
        self.ops = []
        self.blocks = []  # (kind, text) in reading order
        self.uses_uni = False

    # ground truth
    def gt(self, kind, text):
        self.blocks.append((kind, text))

    def width(self, font, size, s):
        if font == "F8":  # Wingdings (not embedded; every glyph 800 units)
            return 0.8 * size * len(s)
        if font == "U":
            return sum(UNI.advance(UNI.cmap.get(ord(c), 0)) for c in s) * size / 1000.0
        w = METRICS[font]
        return sum(w.get(ord(c), 500) for c in s) * size / 1000.0

    def show(self, x, y, font, size, s, tw=0.0, rtl=False):
        """Text with its baseline at y points from the top of the page."""
        yb = self.h - y
        if font == "U":
            self.uses_uni = True
            seq = s[::-1] if rtl else s  # right-to-left: glyphs in visual order
            hexs = "".join("%04X" % UNI.cmap.get(ord(c), 0) for c in seq)
            for c in seq:
                USED.add(ord(c))
            self.ops.append("BT /FU %.2f Tf %.2f %.2f Td <%s> Tj ET" % (size, x, yb, hexs))
            return
        esc = s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        self.ops.append("BT /%s %.2f Tf %.3f Tw %.2f %.2f Td (%s) Tj ET" % (font, size, tw, x, yb, esc))

    def rect(self, x, y, w, h, fill=None, stroke=True, lw=0.6):
        yb = self.h - y - h
        if fill is not None:
            self.ops.append("%.2f g %.2f %.2f %.2f %.2f re f 0 g" % (fill, x, yb, w, h))
        if stroke:
            self.ops.append("%.2f w %.2f %.2f %.2f %.2f re S" % (lw, x, yb, w, h))

    def hline(self, x0, x1, y, lw=0.5):
        self.ops.append("%.2f w %.2f %.2f m %.2f %.2f l S" % (lw, x0, self.h - y, x1, self.h - y))

    def vline(self, x, y0, y1, lw=0.5):
        self.ops.append("%.2f w %.2f %.2f m %.2f %.2f l S" % (lw, x, self.h - y0, x, self.h - y1))

    def figure(self, x, y, w, h, seed):
        """A vector chart (bars and axes, no text)."""
        r = random.Random(seed)
        self.rect(x, y, w, h, fill=0.93, stroke=True)
        n = r.randint(5, 9)
        bw = (w - 20) / n
        for i in range(n):
            bh = r.uniform(0.2, 0.85) * (h - 20)
            self.rect(x + 10 + i * bw + 2, y + h - 10 - bh, bw - 4, bh, fill=0.4 + 0.05 * i, stroke=False)
        self.hline(x + 8, x + w - 8, y + h - 10)
        self.vline(x + 10, y + 8, y + h - 10)

    # typesetting
    def lines_of(self, font, size, text, width):
        words, lines, cur = text.split(), [], []
        for w in words:
            trial = " ".join(cur + [w])
            if cur and self.width(font, size, trial) > width:
                lines.append(cur)
                cur = [w]
            else:
                cur.append(w)
        if cur:
            lines.append(cur)
        return lines

    def para(self, x, y, width, font, size, text, lead=None, justify=True, indent=0.0, rtl=False):
        """Sets a paragraph; returns the baseline after its last line."""
        lead = lead or size * 1.2
        lines = self.lines_of(font, size, text, width - indent)
        for i, ws in enumerate(lines):
            s = " ".join(ws)
            ind = indent if i == 0 else 0.0
            tw = 0.0
            last = i == len(lines) - 1
            if justify and not last and len(ws) > 1 and font != "U":
                tw = (width - ind - self.width(font, size, s)) / (len(ws) - 1)
            if rtl:
                self.show(x + width - self.width(font, size, s), y, font, size, s, rtl=True)
            else:
                self.show(x + ind, y, font, size, s, tw)
            y += lead
        return y


class Flow:
    """Blocks flowed through columns top to bottom, left to right (right to left for RTL).

    A paragraph that does not fit continues in the next column; its ground truth stays one block.
    """

    def __init__(self, page, cols, top, bottom, font="F3", size=10.0, lead=None, justify=True,
                 hfont="F4", rtl=False):
        self.p, self.cols, self.top, self.bottom = page, cols, top, bottom
        self.font, self.size, self.lead = font, size, lead or size * 1.2
        self.justify, self.hfont, self.rtl = justify, hfont, rtl
        self.ci, self.y = 0, top + size

    def _next_col(self):
        self.ci += 1
        if self.ci >= len(self.cols):
            raise RuntimeError("%s: text does not fit" % self.p.name)
        self.y = self.top + self.size

    def heading(self, text, size=None):
        size = size or self.size * 1.3
        if self.y + 2 * self.lead > self.bottom:
            self._next_col()
        x, w = self.cols[self.ci]
        if self.y > self.top + self.size + 1:
            self.y += 0.6 * self.lead
        self.y += size - self.size
        if self.rtl:
            self.p.show(x + w - self.p.width(self.hfont, size, text), self.y, self.hfont, size, text, rtl=True)
        else:
            self.p.show(x, self.y, self.hfont, size, text)
        self.y += self.lead * 1.2
        self.p.gt("heading", text)

    def paragraph(self, text, indent=0.0):
        x, w = self.cols[self.ci]
        lines = self.p.lines_of(self.font, self.size, text, w - indent)
        self.p.gt("text", text)
        i = 0
        while i < len(lines):
            if self.y > self.bottom:
                self._next_col()
                x, w = self.cols[self.ci]
            ws = lines[i]
            s = " ".join(ws)
            ind = indent if i == 0 else 0.0
            last = i == len(lines) - 1
            tw = 0.0
            if self.justify and not last and len(ws) > 1 and self.font != "U":
                tw = (w - ind - self.p.width(self.font, self.size, s)) / (len(ws) - 1)
            if self.rtl:
                self.p.show(x + w - self.p.width(self.font, self.size, s), self.y, self.font, self.size, s,
                            rtl=True)
            else:
                self.p.show(x + ind, self.y, self.font, self.size, s, tw)
            self.y += self.lead
            i += 1
        self.y += 0.5 * self.lead

    def fill(self, tx, n_paras, sent=(3, 6), headings=0.0):
        """Paragraphs (and headings with probability `headings`) until the columns are full."""
        r = tx.r
        for k in range(n_paras):
            if headings and k and r.random() < headings:
                self.heading(tx.title(r.randint(2, 4)))
            self.paragraph(tx.para(r.randint(*sent)))


def cols_of(x0, x1, n, gutter):
    w = (x1 - x0 - (n - 1) * gutter) / n
    return [(x0 + i * (w + gutter), w) for i in range(n)]


def title(p, tx, x, y, text=None, size=18, font="F2", centered=False, width=None):
    text = text or tx.title(4)
    if centered:
        x = x + (width - p.width(font, size, text)) / 2
    p.show(x, y, font, size, text)
    p.gt("heading", text)
    return text


def page_number(p, n, y=None):
    s = str(n)
    p.show(p.w / 2 - p.width("F3", 9, s) / 2, y or p.h - 30, "F3", 9, s)


def fill_to(flow, tx, sent=(3, 6), headings=0.0, limit=40):
    """Paragraphs until the last column is about full (measured on a trial run)."""
    r = tx.r
    for k in range(limit):
        text = tx.para(r.randint(*sent))
        x, w = flow.cols[flow.ci]
        need = len(flow.p.lines_of(flow.font, flow.size, text, w)) * flow.lead
        left = (flow.bottom - flow.y) + (len(flow.cols) - 1 - flow.ci) * (flow.bottom - flow.top)
        if need > left:
            # a last short paragraph that fits
            words = text.split()
            while words and len(flow.p.lines_of(flow.font, flow.size, " ".join(words), w)) * flow.lead > left:
                words = words[:-6]
            if len(words) > 8:
                t = " ".join(words)
                flow.paragraph(t if t.endswith(".") else t + ".")
            return
        if headings and k and r.random() < headings and left - need > 4 * flow.lead:
            flow.heading(tx.title(r.randint(2, 4)))
        flow.paragraph(text)


# --- the layouts -----------------------------------------------------------------------------

def one_column(name, seed, font="F3", hfont="F4", size=11, headings=0.35, justify=True):
    p = Page(name, "one-column")
    tx = Text(seed)
    title(p, tx, 72, 90, font=hfont)
    fl = Flow(p, [(72, 468)], 115, 720, font=font, size=size, hfont=hfont, justify=justify)
    fill_to(fl, tx, headings=headings)
    return p


def columns(name, seed, n, gutter, layout, size=10, font="F3", hfont="F4", spanning_title=True,
            headings=0.3, justify=True, margin=54):
    p = Page(name, layout)
    tx = Text(seed)
    top = 72
    if spanning_title:
        title(p, tx, margin, 80, size=20, font=hfont)
        sub = tx.para(1)
        p.para(margin, 102, 612 - 2 * margin, "F5", 11, sub, justify=False)
        p.gt("text", sub)
        top = 130
    fl = Flow(p, cols_of(margin, 612 - margin, n, gutter), top, 735, font=font, size=size, hfont=hfont,
              justify=justify)
    fill_to(fl, tx, headings=headings)
    return p


def spanning_figure(name, seed, n=2, gutter=14):
    """Columns above and below a figure with its caption that spans the columns."""
    p = Page(name, "%d-column, spanning figure" % n)
    tx = Text(seed)
    title(p, tx, 54, 80, size=20)
    cols = cols_of(54, 558, n, gutter)
    top = Flow(p, cols, 100, 300, size=10)
    fill_to(top, tx, headings=0)
    p.figure(54, 312, 504, 150, seed)
    cap = "Figure %d: %s" % (tx.r.randint(1, 9), tx.para(1))
    p.para(54, 478, 504, "F3", 9.5, cap, justify=False)
    p.gt("caption", cap)
    bottom = Flow(p, cols, 500, 735, size=10)
    bottom.heading(tx.title(3))
    fill_to(bottom, tx, headings=0.2)
    return p


def spanning_heading(name, seed, gutter=12):
    """Two columns, a heading across the page, then two columns again."""
    p = Page(name, "2-column, spanning heading")
    tx = Text(seed)
    cols = cols_of(54, 558, 2, gutter)
    f1 = Flow(p, cols, 60, 360, size=10)
    fill_to(f1, tx, headings=0)
    h = tx.title(4)
    p.show(54, 395, "F2", 15, h)
    p.gt("heading", h)
    f2 = Flow(p, cols, 410, 735, size=10)
    fill_to(f2, tx, headings=0)
    return p


def footnotes(name, seed, n_cols=1):
    p = Page(name, "%d-column, footnotes" % n_cols)
    tx = Text(seed)
    title(p, tx, 72, 90)
    fl = Flow(p, cols_of(72, 540, n_cols, 18), 110, 640, size=10.5)
    notes = []
    for k in range(40):
        text = tx.para(tx.r.randint(3, 5))
        if len(notes) < 3:
            words = text.split()
            i = 5 + 4 * len(notes)
            words[i] = words[i] + str(len(notes) + 1)
            text = " ".join(words)
            notes.append("%d %s" % (len(notes) + 1, tx.para(tx.r.randint(1, 2))))
        x, w = fl.cols[fl.ci]
        need = len(p.lines_of(fl.font, fl.size, text, w)) * fl.lead
        left = (fl.bottom - fl.y) + (len(fl.cols) - 1 - fl.ci) * (fl.bottom - fl.top)
        if need > left:
            break
        fl.paragraph(text)
    p.hline(72, 200, 655, 0.4)
    y = 668
    for note in notes:
        y = p.para(72, y, 468, "F3", 8, note, justify=False)
        p.gt("footnote", note)
    page_number(p, 7)
    return p


def side_notes(name, seed, left=False, note_w=120, gap=18, main_w=340, down=0, every=2, nfont="F5",
               nsize=8.0):
    """A main column with short notes in the margin beside some paragraphs.

    A note starts `down` lines below the first line of its paragraph and is read after it."""
    p = Page(name, "side notes (%s, %d pt wide)" % ("left" if left else "right", note_w))
    tx = Text(seed)
    if left:
        note_x = 54
        main_x = note_x + note_w + gap
    else:
        main_x = 72
        note_x = main_x + main_w + gap
    title(p, tx, main_x, 80)
    fl = Flow(p, [(main_x, main_w)], 100, 730, size=10.5)
    for k in range(14):
        text = tx.para(tx.r.randint(3, 5))
        n_lines = len(p.lines_of(fl.font, fl.size, text, main_w))
        if fl.y + n_lines * fl.lead > fl.bottom:
            break
        y0 = fl.y
        fl.paragraph(text)
        if k % every == 0:
            note = tx.para(1)
            while len(p.lines_of(nfont, nsize, note, note_w)) * nsize * 1.2 > (n_lines - down) * fl.lead and \
                    len(note.split()) > 4:
                note = " ".join(note.split()[:-2]) + "."
            p.para(note_x, y0 + down * fl.lead, note_w, nfont, nsize, note, justify=False)
            p.gt("note", note)
    return p


def sidebar(name, seed, narrow_left=False):
    """A wide column and a narrow one of continuous text (a sidebar): read one after the other."""
    p = Page(name, "wide + narrow column (sidebar)")
    tx = Text(seed)
    title(p, tx, 54, 80)
    wide, narrow = (360, 126)
    # read left to right, as columns are
    cols = [(54, narrow), (54 + narrow + 18, wide)] if narrow_left else [(54, wide), (54 + wide + 18, narrow)]
    for x, w in cols:
        fl = Flow(p, [(x, w)], 100, 735, size=10 if w == wide else 9)
        fill_to(fl, tx, headings=0)
    return p


def spread(name, seed, n_cols=1):
    """Two facing pages printed side by side on one landscape sheet."""
    p = Page(name, "two-page spread (%d col each)" % n_cols, w=1224, h=792)
    tx = Text(seed)
    for half, x0 in enumerate((0, 612)):
        title(p, tx, x0 + 72, 90, size=16)
        fl = Flow(p, cols_of(x0 + 72, x0 + 540, n_cols, 16), 110, 720, size=10.5)
        fill_to(fl, tx, headings=0.3)
        s = str(12 + half)
        p.show(x0 + 306 - p.width("F3", 9, s) / 2, 760, "F3", 9, s)
    return p


def table_heading(p, tx, intro_sentences):
    """The title, an introduction of that many sentences (none for 0) and a "Table N" caption;
    returns the y the caption was set below."""
    title(p, tx, 72, 80)
    y = 100
    if intro_sentences:
        intro = tx.para(intro_sentences)
        y = p.para(72, y + 10, 468, "F3", 10.5, intro) + 4
        p.gt("text", intro)
    cap = "Table %d: %s" % (tx.r.randint(1, 9), tx.para(1))
    p.para(72, y + 8, 468, "F3", 9.5, cap, justify=False)
    p.gt("caption", cap)
    return y


def table(name, seed, ruled, with_text=True, ncols=4, nrows=8, two_col_text=False):
    p = Page(name, "table %s rules" % ("with" if ruled else "without"))
    tx = Text(seed)
    y = table_heading(p, tx, 3 if with_text else 0) + 26
    colw = 468 / ncols
    rows = [[tx.noun().capitalize() + (" " + tx.noun() if c == 0 and tx.r.random() < 0.4 else "")
             for c in range(ncols)]]
    for r in range(nrows):
        row = [tx.noun() + (" " + tx.noun() if tx.r.random() < 0.3 else "")]
        for c in range(1, ncols):
            row.append("%d.%02d" % (tx.r.randint(1, 999), tx.r.randint(0, 99)) if c % 2 else str(tx.r.randint(10, 99999)))
        rows.append(row)
    rh = 18
    for ri, row in enumerate(rows):
        for ci, cell in enumerate(row):
            font = "F2" if ri == 0 else "F1"
            if ci == 0:
                x = 72 + 4
            else:  # numbers right-aligned
                x = 72 + (ci + 1) * colw - 6 - p.width(font, 9.5, cell)
            p.show(x, y + 13 + ri * rh, font, 9.5, cell)
        p.gt("table_row", " ".join(row))
    if ruled:
        for ri in range(len(rows) + 1):
            p.hline(72, 540, y + ri * rh + 1, 0.8 if ri in (0, 1, len(rows)) else 0.3)
        for ci in range(ncols + 1):
            p.vline(72 + ci * colw, y + 1, y + 1 + len(rows) * rh, 0.3)
    else:
        p.hline(72, 540, y + 1, 0.8)
        p.hline(72, 540, y + len(rows) * rh + 3, 0.8)
    y += len(rows) * rh + 20
    if two_col_text:
        fl = Flow(p, cols_of(72, 540, 2, 12), y, 730, size=10)
        fill_to(fl, tx, headings=0)
    else:
        fl = Flow(p, [(72, 468)], y, 730, size=10.5)
        fill_to(fl, tx, headings=0.3)
    return p


def grid_rows(cells, R, C):
    """Ground-truth rows of a table with spans, as docling writes them: a cell over several rows or
    columns stands in every position it covers."""
    g = [[""] * C for _ in range(R)]
    for (r0, c0, r1, c1, text) in cells:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                g[r][c] = text
    return [" ".join(t for t in row if t) for row in g]


def ruled_grid(name, seed, x0=72, colw=(120, 80, 80, 80, 80), rh=18, fs=9, groups=3):
    """A table drawn as a full grid: a header of two rows (a label over two rows, group labels over
    two columns each), body rows whose first cell spans the rows of its group (set in the middle of
    it); rules are drawn on every cell edge, none inside a cell."""
    p = Page(name, "table, ruled grid with spans")
    tx = Text(seed)
    y = table_heading(p, tx, 3) + 26
    C = len(colw)
    xs = [x0]
    for w in colw:
        xs.append(xs[-1] + w)
    cells = [(0, 0, 1, 0, tx.noun().capitalize())]
    for c in range(1, C, 2):
        cells.append((0, c, 0, min(c + 1, C - 1), tx.noun().capitalize() + " " + tx.noun()))
        cells.append((1, c, 1, c, "low"))
        if c + 1 < C:
            cells.append((1, c + 1, 1, c + 1, "high"))
    r = 2
    for g in range(groups):
        n = tx.r.randint(1, 3)
        cells.append((r, 0, r + n - 1, 0, tx.noun()))
        for k in range(n):
            for c in range(1, C):
                cells.append((r + k, c, r + k, c, "%d.%d" % (tx.r.randint(1, 999), tx.r.randint(0, 9))))
        r += n
    R = r
    ys = [y + i * rh for i in range(R + 1)]
    owner = {}
    for k, (r0, c0, r1, c1, text) in enumerate(cells):
        for rr in range(r0, r1 + 1):
            for cc in range(c0, c1 + 1):
                owner[(rr, cc)] = k
        font = "F2" if r0 < 2 else "F1"
        ty = (ys[r0] + ys[r1 + 1]) / 2 + fs * 0.35  # baseline: text in the middle of its cell
        if c1 > c0:  # group labels centred over their columns
            tx_ = (xs[c0] + xs[c1 + 1] - p.width(font, fs, text)) / 2
        elif c0 == 0:
            tx_ = xs[0] + 4
        else:  # numbers right-aligned
            tx_ = xs[c0 + 1] - 5 - p.width(font, fs, text)
        p.show(tx_, ty, font, fs, text)
    for rr in range(R + 1):
        for cc in range(C):
            inside = 0 < rr < R and owner.get((rr - 1, cc)) == owner.get((rr, cc))
            if not inside:
                p.hline(xs[cc], xs[cc + 1], ys[rr], 0.8 if rr in (0, R) else 0.4)
    for cc in range(C + 1):
        for rr in range(R):
            inside = 0 < cc < C and owner.get((rr, cc - 1)) == owner.get((rr, cc))
            if not inside:
                p.vline(xs[cc], ys[rr], ys[rr + 1], 0.4)
    for row in grid_rows(cells, R, C):
        p.gt("table_row", row)
    y = ys[-1] + 24
    fl = Flow(p, [(72, 468)], y, 730, size=10.5)
    fill_to(fl, tx, headings=0.3)
    return p


def booktabs(name, seed, two_level=False, ncols=5, nrows=8, fs=9, two_col_text=False):
    """A booktabs table: a top rule, a header rule and a bottom rule (thicker top and bottom), rows
    without rules between them, numbers right-aligned; with two_level a header of two rows whose
    group labels have a short rule (cmidrule) under the columns they stand over."""
    p = Page(name, "table, booktabs rules" + (" (two-level header)" if two_level else ""))
    tx = Text(seed)
    y = table_heading(p, tx, 2) + 28
    x0, x1 = 90, 522
    firstw = 130
    colw = (x1 - x0 - firstw) / (ncols - 1)
    right = [x0 + firstw + (c + 1) * colw - 6 for c in range(ncols - 1)]  # right edges of number columns
    lead = fs + 5
    p.hline(x0, x1, y, 1.0)
    cells = []
    hy = y + lead
    label = tx.noun().capitalize()
    if two_level:
        cells.append((0, 0, 1, 0, label))
        p.show(x0 + 4, hy + lead / 2, "F2", fs, label)
        for c in range(1, ncols, 2):
            g = tx.noun().capitalize() + " " + tx.noun()
            c1 = min(c + 1, ncols - 1)
            cells.append((0, c, 0, c1, g))
            left = right[c - 1] - colw + 12
            p.show((left + right[c1 - 1] - p.width("F2", fs, g)) / 2, hy, "F2", fs, g)
            p.hline(left, right[c1 - 1] + 2, hy + 4, 0.4)
            for k, sub in enumerate(["dev", "test"][: c1 - c + 1]):
                cells.append((1, c + k, 1, c + k, sub))
                p.show(right[c + k - 1] - p.width("F2", fs, sub), hy + lead + 2, "F2", fs, sub)
        hy += lead + 2
        hr = 2
    else:
        cells.append((0, 0, 0, 0, label))
        p.show(x0 + 4, hy, "F2", fs, label)
        for c in range(1, ncols):
            h = tx.noun().capitalize()
            cells.append((0, c, 0, c, h))
            p.show(right[c - 1] - p.width("F2", fs, h), hy, "F2", fs, h)
        hr = 1
    mid = hy + 5
    p.hline(x0, x1, mid, 0.5)
    yy = mid
    for r in range(nrows):
        yy += lead
        name_ = tx.noun() + (" " + tx.noun() if tx.r.random() < 0.4 else "")
        cells.append((hr + r, 0, hr + r, 0, name_))
        p.show(x0 + 4, yy, "F1", fs, name_)
        for c in range(1, ncols):
            v = "%d.%02d" % (tx.r.randint(0, 99), tx.r.randint(0, 99)) if c % 2 else str(tx.r.randint(10, 9999))
            cells.append((hr + r, c, hr + r, c, v))
            p.show(right[c - 1] - p.width("F1", fs, v), yy, "F1", fs, v)
    p.hline(x0, x1, yy + 5, 1.0)
    for row in grid_rows(cells, hr + nrows, ncols):
        p.gt("table_row", row)
    y = yy + 30
    if two_col_text:
        fl = Flow(p, cols_of(72, 540, 2, 12), y, 730, size=10)
        fill_to(fl, tx, headings=0)
    else:
        fl = Flow(p, [(72, 468)], y, 730, size=10.5)
        fill_to(fl, tx, headings=0.3)
    return p


def form(name, seed, unicode_boxes):
    """A questionnaire: questions with checkbox answers and filled-in fields.

    unicode_boxes: True (DejaVu ☐ ☑), False (ZapfDingbats ❏ ✔) or "wingdings" (a Wingdings
    TrueType font without Unicode: Poppler reports its raw codes 0xA8 and 0xFE)."""
    kind = {True: "Unicode", False: "ZapfDingbats", "wingdings": "Wingdings"}[unicode_boxes]
    p = Page(name, "form, %s checkboxes" % kind)
    tx = Text(seed)
    title(p, tx, 72, 80, size=16)
    intro = tx.para(2)
    y = p.para(72, 104, 468, "F1", 10, intro, justify=False)
    p.gt("text", intro)
    y += 10
    for q in range(9):
        qt = "%d. %s?" % (q + 1, tx.sentence()[:-1])
        y = p.para(72, y, 468, "F2", 10, qt, justify=False)
        p.gt("text", qt)
        x = 90
        for a in range(tx.r.randint(2, 4)):
            label = tx.noun().capitalize()
            sel = tx.r.random() < 0.3
            if unicode_boxes == "wingdings":
                p.show(x, y, "F8", 11, "\xfe" if sel else "\xa8")  # ☑ / □ in Wingdings
            elif unicode_boxes:
                p.show(x, y, "U", 11, "\u2611" if sel else "\u2610")
            else:
                p.show(x, y, "F7", 10, "4" if sel else "o")  # ✔ / ❏
            p.show(x + 15, y, "F1", 10, label)
            p.gt("checkbox_selected" if sel else "checkbox_unselected", label)
            x += 30 + p.width("F1", 10, label) + 20
        y += 22
    for k in range(4):
        lab = tx.noun().capitalize() + ":"
        val = tx.noun() + " " + tx.noun()
        p.show(72, y, "F2", 10, lab)
        p.show(180, y, "F1", 10, val)
        p.hline(175, 400, y + 3, 0.4)
        p.gt("field", lab + " " + val)
        y += 20
    return p


HEB = ("שלום עולם ספר בית ילד אור מים שמש ירח עץ דרך עיר ארץ שנה יום לילה חלון דלת שולחן כיסא "
       "מורה תלמיד שפה מילה סיפור זמן מקום רוח אש אבן הר נהר ים שדה פרח לחם חלב מכתב עבודה").split()


def hebrew(name, seed, n_cols):
    p = Page(name, "right-to-left (Hebrew, %d col)" % n_cols)
    r = random.Random(seed)

    def sent():
        return " ".join(r.choice(HEB) for _ in range(r.randint(6, 12))) + "."

    head = " ".join(r.choice(HEB) for _ in range(3))
    p.show(540 - p.width("U", 18, head), 85, "U", 18, head, rtl=True)
    p.gt("heading", head)
    cols = cols_of(72, 540, n_cols, 20)[::-1]  # the first column is on the right
    fl = Flow(p, cols, 110, 720, font="U", size=11, hfont="U", justify=False, rtl=True)
    for k in range(30):
        text = " ".join(sent() for _ in range(r.randint(2, 4)))
        x, w = fl.cols[fl.ci]
        need = len(p.lines_of("U", 11, text, w)) * fl.lead
        left = (fl.bottom - fl.y) + (len(fl.cols) - 1 - fl.ci) * (fl.bottom - fl.top)
        if need > left:
            break
        if k and k % 4 == 0 and left - need > 4 * fl.lead:
            fl.heading(" ".join(r.choice(HEB) for _ in range(2)), size=13)
        fl.paragraph(text)
    return p


def rotated(name, seed, rot, n_cols):
    """A page whose /Rotate turns it; the text is set in the page's own frame."""
    p = columns(name, seed, n_cols, 14, "rotated %d, %d col" % (rot, n_cols), spanning_title=True)
    p.rotate = rot
    return p


def slide(name, seed):
    p = Page(name, "slide", w=720, h=405)
    tx = Text(seed)
    title(p, tx, 40, 60, size=26)
    y = 105
    for k in range(5):
        item = tx.sentence()[:-1]
        p.show(50, y, "F1", 16, "-")
        y = p.para(70, y, 380, "F1", 16, item, justify=False) + 6
        p.gt("list_item", item)
    p.figure(470, 100, 210, 180, seed)
    cap = "Figure %d: %s" % (tx.r.randint(1, 9), tx.title(3))
    p.show(470, 300, "F1", 11, cap)
    p.gt("caption", cap)
    return p


def nested_lists(name, seed):
    """One column with bulleted and numbered lists nested two and three levels by indentation."""
    p = Page(name, "nested lists")
    tx = Text(seed)
    title(p, tx, 72, 80)
    y = 110
    marks = [lambda i: "-", lambda i: "%d." % (i + 1), lambda i: "%s)" % "abcdefgh"[i]]
    for k in range(3):
        intro = tx.para(2)
        y = p.para(72, y, 468, "F3", 10.5, intro, justify=False) + 6
        p.gt("text", intro)
        count = [0, 0, 0]
        level = 0
        for i in range(7 if k < 2 else 6):
            if i:
                level = max(0, min(2 if k == 2 else 1, level + tx.r.choice([-1, 0, 1])))
            for d in range(level + 1, 3):
                count[d] = 0
            x = 80 + 22 * level
            item = tx.sentence()
            mark = marks[level if k != 1 else (level + 1) % 2](count[level])
            count[level] += 1
            p.show(x, y, "F3", 10.5, mark)
            y = p.para(x + 16, y, 540 - x - 16, "F3", 10.5, item, justify=False, lead=12.6)
            p.gt("list_item", item if mark == "-" else mark + " " + item)  # numbers are text
        y += 10
    return p


def bulleted_columns(name, seed):
    p = Page(name, "2-column with lists")
    tx = Text(seed)
    title(p, tx, 54, 80)
    cols = cols_of(54, 558, 2, 16)
    fl = Flow(p, cols, 100, 735, size=10)
    for k in range(12):
        x, w = fl.cols[fl.ci]
        if k % 3 == 1:
            for i in range(3):
                item = tx.sentence()
                need = len(p.lines_of("F3", 10, item, w - 14)) * fl.lead
                if fl.y + need > fl.bottom:
                    if fl.ci + 1 >= len(fl.cols):
                        return p
                    fl._next_col()
                    x, w = fl.cols[fl.ci]
                p.show(x + 2, fl.y, "F3", 10, "-")
                fl.y = p.para(x + 14, fl.y, w - 14, "F3", 10, item, lead=fl.lead)
                p.gt("list_item", item)
            fl.y += 0.5 * fl.lead
        else:
            text = tx.para(tx.r.randint(3, 5))
            need = len(p.lines_of("F3", 10, text, w)) * fl.lead
            left = (fl.bottom - fl.y) + (len(fl.cols) - 1 - fl.ci) * (fl.bottom - fl.top)
            if need > left:
                break
            fl.paragraph(text)
    return p


def newspaper(name, seed, gutter):
    """A headline across three narrow justified columns, a figure over two of them."""
    p = Page(name, "3-column newspaper, %g pt gutter" % gutter)
    tx = Text(seed)
    head = tx.title(5)
    p.show(40, 70, "F2", 24, head)
    p.gt("heading", head)
    cols = cols_of(40, 572, 3, gutter)
    x2, w2 = cols[1]
    x3, w3 = cols[2]
    f1 = Flow(p, [cols[0]], 95, 740, size=9, font="F3")
    fill_to(f1, tx, sent=(2, 4))
    p.figure(x2, 95, x3 + w3 - x2, 140, seed)
    cap = "Figure %d: %s" % (tx.r.randint(1, 9), tx.para(1))
    yc = p.para(x2, 250, x3 + w3 - x2, "F5", 8.5, cap, justify=False)
    p.gt("caption", cap)
    f2 = Flow(p, [cols[1], cols[2]], yc + 6, 740, size=9, font="F3")
    fill_to(f2, tx, sent=(2, 4), headings=0.2)
    return p


def build_all():
    P = []
    P.append(one_column("c1_times", 1))
    P.append(one_column("c1_helvetica", 2, font="F1", hfont="F2", size=10.5))
    P.append(one_column("c1_ragged", 3, justify=False, headings=0.5))
    P.append(columns("c2_gutter24", 4, 2, 24, "2-column, 24 pt gutter"))
    P.append(columns("c2_gutter18_sans", 5, 2, 18, "2-column, 18 pt gutter", font="F1", hfont="F2"))
    P.append(columns("c2_gutter12", 6, 2, 12, "2-column, 12 pt gutter (justified)"))
    P.append(columns("c2_gutter10", 7, 2, 10, "2-column, 10 pt gutter (justified)"))
    P.append(columns("c2_gutter8", 8, 2, 8, "2-column, 8 pt gutter (justified)"))
    P.append(columns("c2_gutter8_sans", 9, 2, 8, "2-column, 8 pt gutter (justified)", font="F1",
                     hfont="F2", size=9))
    P.append(columns("c2_notitle_gutter9", 10, 2, 9, "2-column, 9 pt gutter, no title",
                     spanning_title=False, headings=0.2))
    P.append(columns("c3_gutter18", 11, 3, 18, "3-column, 18 pt gutter", size=9))
    P.append(columns("c3_gutter12", 12, 3, 12, "3-column, 12 pt gutter (justified)", size=9))
    P.append(columns("c3_gutter9", 13, 3, 9, "3-column, 9 pt gutter (justified)", size=8.5, margin=40))
    P.append(spanning_figure("fig_span_c2", 14, 2, 14))
    P.append(spanning_figure("fig_span_c2_narrow", 15, 2, 10))
    P.append(spanning_figure("fig_span_c3", 16, 3, 12))
    P.append(spanning_heading("head_span_c2", 17, 12))
    P.append(footnotes("footnotes_c1", 18, 1))
    P.append(footnotes("footnotes_c2", 19, 2))
    P.append(side_notes("sidenote_right", 20, left=False))
    P.append(side_notes("sidenote_left", 21, left=True))
    P.append(spread("spread_c1", 22, 1))
    P.append(spread("spread_c2", 23, 2))
    P.append(table("table_ruled", 24, True))
    P.append(table("table_unruled", 25, False))
    P.append(table("table_ruled_wide", 26, True, ncols=6, nrows=10, with_text=False))
    P.append(table("table_unruled_c2text", 27, False, two_col_text=True))
    P.append(form("form_zapf", 28, False))
    P.append(form("form_unicode", 29, True))
    P.append(hebrew("rtl_hebrew_c1", 30, 1))
    P.append(hebrew("rtl_hebrew_c2", 31, 2))
    P.append(rotated("rot90_c2", 32, 90, 2))
    P.append(rotated("rot270_c1", 33, 270, 1))
    P.append(slide("slide", 34))
    P.append(bulleted_columns("lists_c2", 35))
    P.append(newspaper("news_c3_gutter10", 36, 10))
    # more side notes and a sidebar that is not notes (added with the side-note rule)
    P.append(side_notes("sidenote_right_w90", 37, note_w=90, gap=14, main_w=380, down=1))
    P.append(side_notes("sidenote_left_w150", 38, left=True, note_w=150, gap=20, main_w=320, every=1,
                        nfont="F1", nsize=8.5))
    P.append(side_notes("sidenote_right_w100_times", 39, note_w=100, gap=24, main_w=360, down=2, every=3,
                        nfont="F3", nsize=9))
    P.append(sidebar("sidebar_right", 40))
    P.append(sidebar("sidebar_left", 41, narrow_left=True))
    P.append(form("form_wingdings", 42, "wingdings"))
    P.append(nested_lists("lists_nested", 43))
    # tables drawn with rules: grids with spanning cells, booktabs (added with the ruled tables)
    P.append(ruled_grid("table_grid_spans", 44))
    P.append(ruled_grid("table_grid_spans_narrow", 45, x0=100, colw=(110, 70, 70, 70, 70, 70), rh=16, fs=8,
                        groups=4))
    P.append(booktabs("table_booktabs", 46))
    P.append(booktabs("table_booktabs_twolevel", 47, two_level=True, two_col_text=True))
    P.append(booktabs("table_booktabs_small", 48, ncols=4, nrows=6, fs=8))
    return P


# --- the PDF file ------------------------------------------------------------------------------

def pdf_bytes(p):
    objs = []

    def add(b):
        objs.append(b if isinstance(b, bytes) else b.encode("latin-1"))
        return len(objs)

    def stream(dict_extra, data, compress=True):
        if compress:
            data = zlib.compress(data, 9)
            dict_extra += " /Filter /FlateDecode"
        return add(b"<< /Length %d %s >>\nstream\n" % (len(data), dict_extra.encode()) + data +
                   b"\nendstream")

    font_refs = []
    for res, (base, stem) in STD_FONTS.items():
        w = METRICS[res]
        widths = " ".join(str(w.get(c, 0)) for c in range(32, 127))
        enc = "" if base == "ZapfDingbats" else " /Encoding /WinAnsiEncoding"
        n = add("<< /Type /Font /Subtype /Type1 /BaseFont /%s%s /FirstChar 32 /LastChar 126 /Widths [%s] >>"
                % (base, enc, widths))
        font_refs.append("/%s %d 0 R" % (res, n))
    wd_desc = add("<< /Type /FontDescriptor /FontName /Wingdings-Regular /Flags 4 /FontBBox [0 -200 1000 900] "
                  "/ItalicAngle 0 /Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 >>")
    n = add("<< /Type /Font /Subtype /TrueType /BaseFont /Wingdings-Regular /FirstChar 32 /LastChar 255 "
            "/Widths [%s] /FontDescriptor %d 0 R >>" % (" ".join(["800"] * 224), wd_desc))
    font_refs.append("/F8 %d 0 R" % n)
    if p.uses_uni:
        glyphs = sorted({(UNI.cmap.get(c, 0), c) for c in USED})
        ff = stream("/Length1 %d" % len(UNI.data), UNI.data)
        desc = add("<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [-1021 -463 1793 1232] "
                   "/ItalicAngle 0 /Ascent 928 /Descent -236 /CapHeight 729 /StemV 80 /FontFile2 %d 0 R >>" % ff)
        wl = " ".join("%d [%d]" % (g, UNI.advance(g)) for g, _ in glyphs)
        cid = add("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans /CIDSystemInfo << /Registry "
                  "(Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW 600 /W [%s] "
                  "/CIDToGIDMap /Identity >>" % (desc, wl))
        cmap = ["/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
                "1 begincodespacerange <0000> <FFFF> endcodespacerange"]
        pairs = [(g, c) for g, c in glyphs if g]
        for i in range(0, len(pairs), 100):
            chunk = pairs[i:i + 100]
            cmap.append("%d beginbfchar" % len(chunk))
            cmap += ["<%04X> <%04X>" % (g, c) for g, c in chunk]
            cmap.append("endbfchar")
        cmap += ["endcmap CMapName currentdict /CMap defineresource pop end end"]
        tu = stream("", "\n".join(cmap).encode())
        t0 = add("<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H "
                 "/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid, tu))
        font_refs.append("/FU %d 0 R" % t0)
    content = stream("", "\n".join(p.ops).encode("latin-1"))
    pages_id = len(objs) + 2
    rot = " /Rotate %d" % p.rotate if p.rotate else ""
    page = add("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %g %g]%s /Resources << /Font << %s >> >> "
               "/Contents %d 0 R >>" % (pages_id, p.w, p.h, rot, " ".join(font_refs), content))
    add("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    cat = add("<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    info = add("<< /Producer (docling-cpp bench/text_eval/make_set.py) >>")
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, cat, info, xref)
    return bytes(out)


METRICS = {res: load_afm(stem) for res, (_, stem) in STD_FONTS.items()}
UNI = TTF(DEJAVU)
USED = set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "set"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    pages = build_all()
    index = []
    for p in pages:
        with open(os.path.join(a.out, p.name + ".pdf"), "wb") as f:
            f.write(pdf_bytes(p))
        lines = [("# " + t) if k == "heading" else t for k, t in p.blocks]
        with open(os.path.join(a.out, p.name + ".txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        meta = {"name": p.name, "layout": p.layout, "size": [p.w, p.h], "rotate": p.rotate,
                "blocks": [{"kind": k, "text": t} for k, t in p.blocks],
                "headings": [t for k, t in p.blocks if k == "heading"]}
        with open(os.path.join(a.out, p.name + ".json"), "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False, indent=1)
        index.append({"name": p.name, "layout": p.layout})
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    print("%d pages in %s" % (len(pages), a.out))


if __name__ == "__main__":
    main()
