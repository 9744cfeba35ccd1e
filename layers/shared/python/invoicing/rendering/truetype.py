"""A TrueType font program cut down to the glyphs one document uses, in well under a millisecond.

fontTools' general subsetter takes 15-20 ms per font even on a small font, more than the whole
rest of an invoice. A PDF only needs the glyph outlines it draws, so this keeps every glyph id
(no renumbering), empties the outlines of the glyphs not used, and drops the glyphs after the
highest one used. Everything else is sliced from the original bytes; only `glyf`, `loca`,
`hmtx`, a small `cmap` and a few counters are rebuilt, and the checksums are recomputed.

Only what an embedded CIDFontType2 needs is kept (head, hhea, maxp, hmtx, loca, glyf, cmap, post,
name, OS/2, and the hinting tables when present); layout tables (GSUB, GPOS, kern) are not used
by a PDF viewer drawing positioned glyphs.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_KEPT_TABLES = frozenset(
    (b"OS/2", b"cmap", b"cvt ", b"fpgm", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp", b"name")
) | {b"post", b"prep"}

# Composite glyph flags (OpenType spec, 'glyf' table).
_ARG_1_AND_2_ARE_WORDS = 0x0001
_WE_HAVE_A_SCALE = 0x0008
_MORE_COMPONENTS = 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE = 0x0040
_WE_HAVE_A_TWO_BY_TWO = 0x0080


class FontFormatError(ValueError):
    """The bytes are not a TrueType (glyf-outline) font this module can cut down."""


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(words) & 0xFFFFFFFF


def read_tables(data: bytes) -> dict[bytes, bytes]:
    """The raw tables of an sfnt file, by tag."""
    if len(data) < 12:
        raise FontFormatError("too short for an sfnt header")
    version, num_tables = struct.unpack_from(">IH", data, 0)
    if version not in (0x00010000, 0x74727565):  # 1.0 or 'true'; 'OTTO' (CFF) is not supported
        raise FontFormatError(f"not a TrueType font (sfnt version {version:#010x})")
    tables: dict[bytes, bytes] = {}
    for index in range(num_tables):
        tag, _checksum_value, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
        tables[tag] = data[offset : offset + length]
    return tables


def write_sfnt(tables: Mapping[bytes, bytes]) -> bytes:
    """An sfnt file from raw tables: sorted directory, 4-byte padding, checksums, head adjustment."""
    tags = sorted(tables)
    num_tables = len(tags)
    entry_selector = max(num_tables.bit_length() - 1, 0)
    search_range = (1 << entry_selector) * 16
    header = struct.pack(
        ">IHHHH", 0x00010000, num_tables, search_range, entry_selector, num_tables * 16 - search_range
    )
    offset = 12 + 16 * num_tables
    directory: list[bytes] = []
    bodies: list[bytes] = []
    head_offset = -1
    for tag in tags:
        body = tables[tag]
        if tag == b"head":
            body = body[:8] + b"\0\0\0\0" + body[12:]  # checkSumAdjustment is computed last
            head_offset = offset
        directory.append(struct.pack(">4sIII", tag, _checksum(body), offset, len(body)))
        padded = body + b"\0" * (-len(body) % 4)
        bodies.append(padded)
        offset += len(padded)
    font = bytearray(header + b"".join(directory) + b"".join(bodies))
    if head_offset >= 0:
        adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
        struct.pack_into(">I", font, head_offset + 8, adjustment)
    return bytes(font)


def _cmap_format4(mapping: Mapping[int, int]) -> bytes:
    """A (3, 1) cmap with one segment per character: small for the few dozen characters used."""
    codes = sorted(code for code in mapping if code < 0xFFFF)
    seg_count = len(codes) + 1
    ends = [*codes, 0xFFFF]
    deltas = [(mapping[code] - code) & 0xFFFF for code in codes] + [1]
    entry_selector = max(seg_count.bit_length() - 1, 0)
    search_range = 2 * (1 << entry_selector)
    length = 16 + 8 * seg_count
    subtable = struct.pack(
        f">HHHHHHH{seg_count}HH{seg_count}H{seg_count}H{seg_count}H",
        4,
        length,
        0,
        2 * seg_count,
        search_range,
        entry_selector,
        2 * seg_count - search_range,
        *ends,
        0,
        *ends,  # one code per segment: start == end
        *deltas,
        *([0] * seg_count),
    )
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + subtable


@dataclass
class TrueTypeProgram:
    """A parsed TrueType font, kept for the life of the process and cut down per document.

    Immutable once built, apart from `_components`, a memo of each composite glyph's parts that
    only ever gains the same deterministic entries; sharing one instance between documents (and
    threads) is therefore safe.
    """

    tables: dict[bytes, bytes]
    num_glyphs: int
    num_h_metrics: int
    loca: tuple[int, ...]
    _components: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_bytes(cls, data: bytes) -> TrueTypeProgram:
        tables = read_tables(data)
        missing = {b"head", b"hhea", b"maxp", b"hmtx", b"loca", b"glyf"} - tables.keys()
        if missing:
            raise FontFormatError(f"missing tables: {sorted(t.decode() for t in missing)}")
        num_glyphs = struct.unpack_from(">H", tables[b"maxp"], 4)[0]
        num_h_metrics = struct.unpack_from(">H", tables[b"hhea"], 34)[0]
        long_offsets = struct.unpack_from(">h", tables[b"head"], 50)[0] == 1
        raw_loca = tables[b"loca"]
        if long_offsets:
            loca = struct.unpack_from(f">{num_glyphs + 1}I", raw_loca)
        else:
            loca = tuple(2 * x for x in struct.unpack_from(f">{num_glyphs + 1}H", raw_loca))
        kept = {tag: body for tag, body in tables.items() if tag in _KEPT_TABLES}
        return cls(tables=kept, num_glyphs=num_glyphs, num_h_metrics=num_h_metrics, loca=loca)

    def glyph_data(self, glyph_id: int) -> bytes:
        return self.tables[b"glyf"][self.loca[glyph_id] : self.loca[glyph_id + 1]]

    def components(self, glyph_id: int) -> tuple[int, ...]:
        """Every glyph a composite glyph is built from, recursively; () for a simple glyph."""
        known = self._components.get(glyph_id)
        if known is not None:
            return known
        data = self.glyph_data(glyph_id)
        parts: list[int] = []
        if len(data) >= 10 and struct.unpack_from(">h", data, 0)[0] < 0:
            position = 10
            while True:
                flags, component = struct.unpack_from(">HH", data, position)
                parts.append(component)
                parts.extend(self.components(component))
                position += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
                if flags & _WE_HAVE_A_SCALE:
                    position += 2
                elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
                    position += 4
                elif flags & _WE_HAVE_A_TWO_BY_TWO:
                    position += 8
                if not flags & _MORE_COMPONENTS:
                    break
        result = tuple(parts)
        self._components[glyph_id] = result
        return result

    def subset(self, glyph_ids: Iterable[int], cmap: Mapping[int, int]) -> bytes:
        """A font program with the outlines of `glyph_ids` (plus .notdef and their components).

        Glyph ids are unchanged, so a CIDToGIDMap written against this font stays valid. `cmap`
        (code point -> glyph id, used glyphs only) becomes the font's own small cmap.
        """
        keep = {0}
        for glyph_id in glyph_ids:
            if not 0 <= glyph_id < self.num_glyphs:
                raise ValueError(f"glyph id {glyph_id} is not in the font")
            keep.add(glyph_id)
            keep.update(self.components(glyph_id))
        count = max(keep) + 1

        glyf_parts: list[bytes] = []
        offsets = [0] * (count + 1)
        position = 0
        previous = 0
        for glyph_id in sorted(keep):
            for empty in range(previous + 1, glyph_id + 1):
                offsets[empty] = position
            data = self.glyph_data(glyph_id)
            data += b"\0" * (-len(data) % 4)
            glyf_parts.append(data)
            position += len(data)
            offsets[glyph_id + 1] = position
            previous = glyph_id + 1
        for empty in range(previous + 1, count + 1):
            offsets[empty] = position

        h_metrics = min(self.num_h_metrics, count)
        hmtx = self.tables[b"hmtx"]
        tables = dict(self.tables)
        tables[b"glyf"] = b"".join(glyf_parts)
        tables[b"loca"] = struct.pack(f">{count + 1}I", *offsets)
        tables[b"hmtx"] = (
            hmtx[: 4 * h_metrics]
            + hmtx[4 * self.num_h_metrics : 4 * self.num_h_metrics + 2 * (count - h_metrics)]
        )
        tables[b"head"] = _patched(tables[b"head"], ">h", 50, 1)  # long loca offsets
        tables[b"hhea"] = _patched(tables[b"hhea"], ">H", 34, h_metrics)
        tables[b"maxp"] = _patched(tables[b"maxp"], ">H", 4, count)
        if b"post" in tables:  # version 3: no glyph names, which a PDF never needs
            tables[b"post"] = struct.pack(">I", 0x00030000) + tables[b"post"][4:32]
        tables[b"cmap"] = _cmap_format4({code: gid for code, gid in cmap.items() if gid < count})
        return write_sfnt(tables)


def _patched(table: bytes, fmt: str, offset: int, value: int) -> bytes:
    patched = bytearray(table)
    struct.pack_into(fmt, patched, offset, value)
    return bytes(patched)
