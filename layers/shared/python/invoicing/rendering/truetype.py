"""A TrueType font program cut down to the glyphs one document uses, in well under a millisecond.

fontTools' general subsetter takes 15-20 ms per font even on a small font, more than the whole
rest of an invoice. A PDF only needs the outlines of the glyphs it draws, so this copies those
glyphs' bytes (plus .notdef and the parts of composite glyphs) under new consecutive glyph ids,
rewrites the composite glyphs' references, and rebuilds `loca`, `hmtx` and a small `cmap`. The
other tables are copied; checksums are recomputed.

Only what an embedded CIDFontType2 needs is kept (head, hhea, maxp, hmtx, loca, glyf, cmap, post,
name, OS/2, and hinting tables when present); layout tables (GSUB, GPOS, kern) are not used by a
PDF viewer drawing positioned glyphs.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_KEPT_TABLES = frozenset(
    (b"OS/2", b"cmap", b"cvt ", b"fpgm", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp", b"name")
) | {b"post", b"prep"}
_REQUIRED_TABLES = frozenset((b"head", b"hhea", b"maxp", b"hmtx", b"loca", b"glyf"))

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
    subtable = struct.pack(
        f">7H{seg_count}HH{seg_count}H{seg_count}H{seg_count}H",
        4,  # format
        16 + 8 * seg_count,  # length
        0,  # language
        2 * seg_count,
        search_range,
        entry_selector,
        2 * seg_count - search_range,
        *ends,
        0,  # reserved pad
        *ends,  # start codes: one code per segment
        *deltas,
        *([0] * seg_count),  # idRangeOffset
    )
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + subtable


@dataclass(frozen=True)
class FontSubset:
    data: bytes
    """The font program (an sfnt file)."""
    glyph_map: dict[int, int]
    """Original glyph id -> glyph id in `data`."""


@dataclass
class TrueTypeProgram:
    """A parsed TrueType font, kept for the life of the process and cut down per document.

    Immutable once built, apart from `_components`, a memo of each composite glyph's parts that
    only ever gains the same deterministic entries; sharing one instance between documents (and
    threads) is therefore safe.
    """

    tables: dict[bytes, bytes]
    num_glyphs: int
    loca: tuple[int, ...]
    metrics: tuple[tuple[int, int], ...]
    """(advance width, left side bearing) of every glyph, in font units."""
    _components: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_bytes(cls, data: bytes, *, name_table: bytes | None = None) -> TrueTypeProgram:
        """Parse a TrueType font; `name_table` replaces its 'name' table in every subset."""
        tables = read_tables(data)
        missing = _REQUIRED_TABLES - tables.keys()
        if missing:
            raise FontFormatError(f"missing tables: {sorted(t.decode() for t in missing)}")
        num_glyphs = struct.unpack_from(">H", tables[b"maxp"], 4)[0]
        num_h_metrics = struct.unpack_from(">H", tables[b"hhea"], 34)[0]
        if struct.unpack_from(">h", tables[b"head"], 50)[0] == 1:
            loca = struct.unpack_from(f">{num_glyphs + 1}I", tables[b"loca"])
        else:
            loca = tuple(2 * x for x in struct.unpack_from(f">{num_glyphs + 1}H", tables[b"loca"]))
        hmtx = tables[b"hmtx"]
        long_metrics = struct.unpack_from(f">{2 * num_h_metrics}h", hmtx)
        advances = [a & 0xFFFF for a in long_metrics[0::2]]
        bearings = list(long_metrics[1::2])
        extra = num_glyphs - num_h_metrics
        bearings += struct.unpack_from(f">{extra}h", hmtx, 4 * num_h_metrics)
        advances += [advances[-1]] * extra
        kept = {tag: body for tag, body in tables.items() if tag in _KEPT_TABLES}
        if name_table is not None:
            kept[b"name"] = name_table
        return cls(
            tables=kept,
            num_glyphs=num_glyphs,
            loca=tuple(loca),
            metrics=tuple(zip(advances, bearings, strict=True)),
        )

    def glyph_data(self, glyph_id: int) -> bytes:
        return self.tables[b"glyf"][self.loca[glyph_id] : self.loca[glyph_id + 1]]

    def _component_refs(self, glyph_id: int) -> tuple[tuple[int, int], ...]:
        """(offset of the glyph index in the glyph data, component glyph id) of a composite glyph."""
        known = self._components.get(glyph_id)
        if known is not None:
            return known
        data = self.glyph_data(glyph_id)
        refs: list[tuple[int, int]] = []
        if len(data) >= 10 and struct.unpack_from(">h", data, 0)[0] < 0:
            position = 10
            while True:
                flags, component = struct.unpack_from(">HH", data, position)
                refs.append((position + 2, component))
                position += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
                if flags & _WE_HAVE_A_SCALE:
                    position += 2
                elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
                    position += 4
                elif flags & _WE_HAVE_A_TWO_BY_TWO:
                    position += 8
                if not flags & _MORE_COMPONENTS:
                    break
        result = tuple(refs)
        self._components[glyph_id] = result
        return result

    def components(self, glyph_id: int) -> set[int]:
        """Every glyph a composite glyph is built from, recursively; empty for a simple glyph."""
        found: set[int] = set()
        pending = [glyph_id]
        while pending:
            for _, component in self._component_refs(pending.pop()):
                if component not in found:
                    found.add(component)
                    pending.append(component)
        return found

    def subset(self, glyph_ids: Iterable[int], cmap: Mapping[int, int]) -> FontSubset:
        """A font program with just `glyph_ids`, their components and .notdef, renumbered in order.

        `cmap` (code point -> original glyph id) becomes the subset's own cmap.
        """
        keep = {0}
        for glyph_id in glyph_ids:
            if not 0 <= glyph_id < self.num_glyphs:
                raise ValueError(f"glyph id {glyph_id} is not in the font")
            if glyph_id not in keep:
                keep.add(glyph_id)
                keep |= self.components(glyph_id)
        order = sorted(keep)
        new_id = {old: new for new, old in enumerate(order)}

        glyf_parts: list[bytes] = []
        offsets = [0]
        position = 0
        for old in order:
            data = self.glyph_data(old)
            refs = self._component_refs(old)
            if refs:
                patched = bytearray(data)
                for offset, component in refs:
                    struct.pack_into(">H", patched, offset, new_id[component])
                data = bytes(patched)
            data += b"\0" * (-len(data) % 4)
            glyf_parts.append(data)
            position += len(data)
            offsets.append(position)

        count = len(order)
        metrics = self.metrics
        tables = dict(self.tables)
        tables[b"glyf"] = b"".join(glyf_parts)
        tables[b"loca"] = struct.pack(f">{count + 1}I", *offsets)
        tables[b"hmtx"] = struct.pack(">" + "Hh" * count, *(value for old in order for value in metrics[old]))
        tables[b"head"] = _patched(tables[b"head"], ">h", 50, 1)  # long loca offsets
        tables[b"hhea"] = _patched(tables[b"hhea"], ">H", 34, count)
        tables[b"maxp"] = _patched(tables[b"maxp"], ">H", 4, count)
        if b"post" in tables:  # version 3: no glyph names, which a PDF never needs
            tables[b"post"] = struct.pack(">I", 0x00030000) + tables[b"post"][4:32]
        tables[b"cmap"] = _cmap_format4(
            {code: new_id[glyph] for code, glyph in cmap.items() if glyph in new_id}
        )
        return FontSubset(data=write_sfnt(tables), glyph_map=new_id)


def _patched(table: bytes, fmt: str, offset: int, value: int) -> bytes:
    patched = bytearray(table)
    struct.pack_into(fmt, patched, offset, value)
    return bytes(patched)
