"""The invoice fonts for fpdf2: parsed once per process, embedded per document as a small subset.

fpdf2's `add_font()` parses the TTF for every `FPDF` instance (~10-20 ms) and its output step
runs fontTools' subsetter on it (another ~15-20 ms, and it cuts the parsed font down in place,
so the parsed font cannot be reused). Here instead:

* `Typeface` is the immutable, process-wide part: metrics, the character -> CID table, and the
  raw font program (`truetype.TrueTypeProgram`). It is loaded once and shared by every document.
* `DocumentFont` is what one `FPDF` instance sees (an fpdf2 `TTFFont`): it writes text as CIDs
  and remembers which it used. Nothing of it outlives its document.
* `InvoiceOutputProducer` embeds each `DocumentFont` as a Type0/CIDFontType2 font whose font
  program keeps only the glyphs that document used (`TrueTypeProgram.subset`, well under a
  millisecond, against ~15 ms for fontTools' subsetter).

CIDs are stable per typeface: CID n is the n-th supported code point in code point order, so
ASCII gets small CIDs, every CID maps to one code point (exact ToUnicode, hence exact text
extraction) and the CIDToGIDMap only needs to reach the highest CID a document uses.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import FontDescriptorFlags, TextEmphasis
from fpdf.fonts import PDFFontDescriptor, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont, PDFFontStream
from fpdf.syntax import Name, PDFArray, PDFContentStream, PDFString

from invoicing.rendering.text import REPLACEMENT_CHARACTER
from invoicing.rendering.truetype import TrueTypeProgram

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR_FILE = FONT_DIR / "DejaVuSans-Invoice.ttf"
BOLD_FILE = FONT_DIR / "DejaVuSans-Bold-Invoice.ttf"


class _CidTable(dict[int, str]):
    """`str.translate` table code point -> CID character; an unknown character becomes U+FFFD.

    Callers clean text first (see `text.clean_text`), so this is a safety net that keeps a
    stray character from being written as a wrong CID.
    """

    def __init__(self, entries: dict[int, str], fallback: str) -> None:
        super().__init__(entries)
        self._fallback = fallback

    def __missing__(self, key: int) -> str:
        return self._fallback


class _CodeWidths(dict[int, float]):
    """Code point -> width for fpdf2's `TTFFont.cw`; unknown code points get the .notdef width
    without being inserted, so one instance can be shared by every document."""

    def __init__(self, entries: dict[int, float], missing: float) -> None:
        super().__init__(entries)
        self._missing = missing

    def __missing__(self, key: int) -> float:
        return self._missing


@dataclass(frozen=True, eq=False)
class Typeface:
    """One face of the invoice font, parsed once per process and shared by every document."""

    path: Path
    postscript_name: str
    code_points: tuple[int, ...]
    """Supported code points in order; CID n (n >= 1) is code_points[n - 1]."""
    glyph_of_cid: tuple[int, ...]
    """Glyph id of each CID (index 0 is CID 0, .notdef)."""
    width_of_cid: tuple[int, ...]
    """Advance width of each CID in 1/1000 em (the PDF glyph space)."""
    widths: dict[str, int]
    """Advance width of each supported character in 1/1000 em, for measuring text."""
    charset: frozenset[str]
    code_widths: _CodeWidths
    cid_table: _CidTable
    program: TrueTypeProgram
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]
    italic_angle: int
    stem_v: int
    is_bold: bool
    underline: tuple[int, int]
    """Position and thickness, 1/1000 em."""
    strikeout: tuple[int, int]
    _width_cache: dict[str, float] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path) -> Typeface:
        data = path.read_bytes()
        font = TTFont(path, lazy=True, recalcTimestamp=False)
        try:
            scale = 1000 / font["head"].unitsPerEm
            cmap: dict[int, str] = font.getBestCmap()
            glyph_order = font.getGlyphOrder()
            glyph_id = {name: index for index, name in enumerate(glyph_order)}
            advances = font["hmtx"].metrics
            code_points = tuple(sorted(cmap))
            glyph_of_cid = (0, *(glyph_id[cmap[code]] for code in code_points))
            width_of_cid = (
                round(advances[glyph_order[0]][0] * scale),
                *(round(advances[cmap[code]][0] * scale) for code in code_points),
            )
            head, hhea, os2, post = font["head"], font["hhea"], font["OS/2"], font["post"]
            return cls(
                path=path,
                postscript_name=font["name"].getDebugName(6) or path.stem,
                code_points=code_points,
                glyph_of_cid=glyph_of_cid,
                width_of_cid=width_of_cid,
                widths={chr(code): width_of_cid[cid] for cid, code in enumerate(code_points, start=1)},
                charset=frozenset(chr(code) for code in code_points),
                code_widths=_CodeWidths(
                    {code: width_of_cid[cid] for cid, code in enumerate(code_points, start=1)},
                    missing=width_of_cid[0],
                ),
                cid_table=_CidTable(
                    {code: chr(cid) for cid, code in enumerate(code_points, start=1)},
                    fallback=chr(code_points.index(ord(REPLACEMENT_CHARACTER)) + 1),
                ),
                program=TrueTypeProgram.from_bytes(data, name_table=_embedded_name_table(font)),
                ascent=round(hhea.ascent * scale),
                descent=round(hhea.descent * scale),
                cap_height=round(getattr(os2, "sCapHeight", hhea.ascent) * scale),
                bbox=(
                    round(head.xMin * scale),
                    round(head.yMin * scale),
                    round(head.xMax * scale),
                    round(head.yMax * scale),
                ),
                italic_angle=int(post.italicAngle),
                stem_v=round(50 + int(pow(os2.usWeightClass / 65, 2))),
                is_bold=os2.usWeightClass >= 600,
                underline=(round(post.underlinePosition * scale), round(post.underlineThickness * scale)),
                strikeout=(round(os2.yStrikeoutPosition * scale), round(os2.yStrikeoutSize * scale)),
            )
        finally:
            font.close()

    def text_width(self, text: str, size_pt: float) -> float:
        """Advance width of clean text (only supported characters) in points."""
        units = self._width_cache.get(text)
        if units is None:
            widths = self.widths
            units = sum(widths[char] for char in text)
            if len(self._width_cache) < 4096:  # labels and amounts repeat; free text need not stay
                self._width_cache[text] = units
        return units * size_pt / 1000

    def descriptor(self) -> PDFFontDescriptor:
        flags = FontDescriptorFlags.SYMBOLIC
        if self.is_bold:
            flags |= FontDescriptorFlags.FORCE_BOLD
        return PDFFontDescriptor(
            ascent=self.ascent,
            descent=self.descent,
            cap_height=self.cap_height,
            flags=flags,
            font_b_box="[{} {} {} {}]".format(*self.bbox),
            italic_angle=self.italic_angle,
            stem_v=self.stem_v,
            missing_width=self.width_of_cid[0],
        )


def _embedded_name_table(font: TTFont) -> bytes:
    """The font's names without the long licence text (kept in the shipped file and LICENSE):
    family, style, version and the copyright notice are what an embedded subset carries."""
    table = font["name"]
    table.names = [record for record in table.names if record.nameID <= 6]
    compiled: bytes = table.compile(font)
    return compiled


@cache
def regular() -> Typeface:
    return Typeface.load(REGULAR_FILE)


@cache
def bold() -> Typeface:
    return Typeface.load(BOLD_FILE)


class DocumentFont(TTFFont):
    """A typeface as one `FPDF` document uses it: fpdf2's font interface, per-document state only.

    Only the parts of `TTFFont` that positioned text needs are set up; fpdf2's own subset map and
    parsed fontTools object are deliberately absent (embedding is `InvoiceOutputProducer`'s job).
    """

    __slots__ = ("typeface", "used_cids")

    def __init__(self, typeface: Typeface, fontkey: str, index: int) -> None:
        # TTFFont.__init__ would parse the font file again: that is what this class avoids.
        self.typeface = typeface
        self.used_cids: set[str] = set()
        self.i = index
        self.type = "TTF"
        self.fontkey = fontkey
        self.name = typeface.postscript_name
        self.ttffile = typeface.path
        self.scale = 1.0
        self.desc = typeface.descriptor()
        self.cmap = {}
        self.glyph_ids = {}
        self.cw = typeface.code_widths
        self.missing_glyphs = []
        self.biggest_size_pt = 0
        self.color_font = None
        self._hbfont = None
        self.unicode_range = None
        self.palette_index = 0
        self.is_compressed = False
        self.is_cff = False
        self.is_cid_keyed = False
        self.is_symbol = False
        self.cff_ros = None
        self.collection_font_number = 0
        self.emphasis = TextEmphasis.B if typeface.is_bold else TextEmphasis.NONE
        self.up, self.ut = typeface.underline
        self.sp, self.ss = typeface.strikeout

    def encode_text(self, text: str) -> str:
        cids = text.translate(self.typeface.cid_table)
        self.used_cids.update(cids)
        return f"<{cids.encode('utf-16-be').hex()}> Tj"

    def close(self) -> None:
        """Nothing to close: the typeface is shared and holds no open file."""


def use_typefaces(pdf: FPDF, faces: dict[str, Typeface]) -> None:
    """Make `faces` (fontkey -> typeface) available to `pdf.set_font`, as `add_font` would."""
    for fontkey, typeface in faces.items():
        if fontkey in pdf.fonts:
            raise ValueError(f"font {fontkey!r} is already in the document")
        pdf.fonts[fontkey] = DocumentFont(typeface, fontkey, len(pdf.fonts) + 1)


def _subset_tag(typeface: Typeface, cids: Iterable[int]) -> str:
    """Six capital letters naming this subset (PDF 9.6.4), the same for the same glyphs."""
    key = f"{typeface.postscript_name}:{','.join(map(str, sorted(cids)))}"
    digest = hashlib.sha256(key.encode()).digest()
    return "".join(chr(ord("A") + byte % 26) for byte in digest[:6])


def _widths_array(cids: list[int], widths: tuple[int, ...]) -> str:
    """The CIDFont W array, one run per stretch of consecutive CIDs: `[c [w1 w2] c2 [w3]]`."""
    runs: list[str] = []
    start = previous = -2
    current: list[str] = []
    for cid in cids:
        if cid != previous + 1:
            if current:
                runs.append(f"{start} [{' '.join(current)}]")
            start, current = cid, []
        current.append(str(widths[cid]))
        previous = cid
    if current:
        runs.append(f"{start} [{' '.join(current)}]")
    return f"[{' '.join(runs)}]"


def _to_unicode_cmap(cids: list[int], code_points: tuple[int, ...]) -> bytes:
    entries = [f"<{cid:04X}> <{code_points[cid - 1]:04X}>\n" for cid in cids]
    blocks = "".join(
        f"{len(entries[i : i + 100])} beginbfchar\n{''.join(entries[i : i + 100])}endbfchar\n"
        for i in range(0, len(entries), 100)
    )
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("ascii")


class InvoiceOutputProducer(OutputProducer):
    """fpdf2's output step, with `DocumentFont`s embedded as their own small subsets."""

    def _add_fonts(
        self,
        image_objects_per_index: Any,
        gfxstate_objs_per_name: Any,
        pattern_objs_per_name: Any,
    ) -> dict[int, Any]:
        font_objs_per_index: dict[int, Any] = {}
        for font in sorted(self.fpdf.fonts.values(), key=lambda f: f.i):
            if not isinstance(font, DocumentFont):
                raise TypeError(f"{font!r} was not added with use_typefaces()")
            font_objs_per_index[font.i] = self._embed(font)
        return font_objs_per_index

    def _embed(self, font: DocumentFont) -> PDFFont:
        typeface = font.typeface
        # A font fpdf2 selected on a page but never drew with still needs an (almost empty) entry.
        cids = sorted(ord(c) for c in font.used_cids) or [1]
        glyph_of_cid = typeface.glyph_of_cid
        subset = typeface.program.subset(
            (glyph_of_cid[cid] for cid in cids),
            {typeface.code_points[cid - 1]: glyph_of_cid[cid] for cid in cids},
        )
        base_font = f"{_subset_tag(typeface, cids)}+{typeface.postscript_name}"

        type0 = PDFFont(subtype="Type0", base_font=base_font, encoding="Identity-H")
        self._add_pdf_obj(type0, "fonts")
        cid_font = PDFFont(
            subtype="CIDFontType2",
            base_font=base_font,
            d_w=typeface.width_of_cid[0],
            w=_widths_array(cids, typeface.width_of_cid),
        )
        self._add_pdf_obj(cid_font, "fonts")
        type0.descendant_fonts = PDFArray([cid_font])

        to_unicode = PDFContentStream(_to_unicode_cmap(cids, typeface.code_points), compress=True)
        self._add_pdf_obj(to_unicode, "fonts")
        type0.to_unicode = to_unicode

        system_info = CIDSystemInfo()
        system_info.ordering = PDFString("Identity", encrypt=True)
        self._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info

        descriptor = typeface.descriptor()
        descriptor.font_name = Name(base_font)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor

        cid_map = bytearray(2 * (cids[-1] + 1))  # CIDs above the highest used need no entry
        for cid in cids:
            struct.pack_into(">H", cid_map, 2 * cid, subset.glyph_map[glyph_of_cid[cid]])
        cid_to_gid = PDFContentStream(bytes(cid_map), compress=True)
        self._add_pdf_obj(cid_to_gid, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_to_gid

        font_file = PDFFontStream(subset.data)
        self._add_pdf_obj(font_file, "fonts")
        descriptor.font_file2 = font_file  # type: ignore[attr-defined]
        return type0
