"""Make the invoice fonts: DejaVu Sans (Book and Bold) cut down to the scripts invoices print.

Run from the repository root when the coverage below changes (offline, fontTools is a dev
dependency; the Lambda only reads the resulting .ttf files):

    .venv/bin/python layers/shared/python/invoicing/rendering/fonts/make_subset.py

Both faces keep exactly the same characters (those in COVERAGE that both faces have), so any
text the renderer accepts prints in either weight. Layout tables (GSUB/GPOS/kern) and hinting
are dropped: the PDF places glyphs itself, and viewers draw unhinted outlines well. The name
table keeps the copyright and licence records; LICENSE is written from it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

SOURCE_DIR = Path("/usr/share/fonts/truetype/dejavu")
TARGET_DIR = Path(__file__).resolve().parent
FACES = {"DejaVuSans.ttf": "DejaVuSans-Invoice.ttf", "DejaVuSans-Bold.ttf": "DejaVuSans-Bold-Invoice.ttf"}

# (first, last, what) code point ranges; documented in README.md next to this script.
COVERAGE: tuple[tuple[int, int, str], ...] = (
    (0x0020, 0x007E, "Basic Latin"),
    (0x00A0, 0x00FF, "Latin-1 Supplement"),
    (0x0100, 0x017F, "Latin Extended-A"),
    (0x0180, 0x024F, "Latin Extended-B"),
    (0x0250, 0x02AF, "IPA Extensions"),
    (0x02B0, 0x02FF, "Spacing Modifier Letters"),
    (0x0300, 0x036F, "Combining Diacritical Marks"),
    (0x0370, 0x03FF, "Greek and Coptic"),
    (0x0400, 0x04FF, "Cyrillic"),
    (0x0500, 0x052F, "Cyrillic Supplement"),
    (0x1E00, 0x1EFF, "Latin Extended Additional (Vietnamese)"),
    (0x2000, 0x206F, "General Punctuation"),
    (0x2070, 0x209F, "Superscripts and Subscripts"),
    (0x20A0, 0x20CF, "Currency Symbols"),
    (0x2100, 0x214F, "Letterlike Symbols"),
    (0x2150, 0x218F, "Number Forms"),
    (0x2190, 0x21FF, "Arrows"),
    (0x2200, 0x22FF, "Mathematical Operators"),
    (0x25A0, 0x25FF, "Geometric Shapes"),
    (0xFFFD, 0xFFFD, "Replacement Character"),
)
KEPT_NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # copyright, names, version, licence text and URL


def requested_code_points() -> set[int]:
    return {code for first, last, _ in COVERAGE for code in range(first, last + 1)}


def make(source_dir: Path, target_dir: Path) -> None:
    sources = {name: TTFont(source_dir / name, recalcTimestamp=False) for name in FACES}
    common = requested_code_points()
    for font in sources.values():
        common &= set(font.getBestCmap())
    for name, font in sources.items():
        options = subset.Options()
        options.layout_features = []
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "MATH", "gasp"]
        options.hinting = False
        options.glyph_names = False
        options.notdef_outline = True
        options.recommended_glyphs = True
        options.name_IDs = KEPT_NAME_IDS
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=common)
        subsetter.subset(font)
        target = target_dir / FACES[name]
        font.save(target)
        print(f"{target.name}: {len(font.getBestCmap())} characters, {target.stat().st_size:,} bytes")
    licence = sources["DejaVuSans.ttf"]["name"].getDebugName(13)
    (target_dir / "LICENSE").write_text(licence.replace("\r\n", "\n").rstrip() + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--source-dir", type=Path, default=SOURCE_DIR)
    parser.add_argument("--target-dir", type=Path, default=TARGET_DIR)
    args = parser.parse_args()
    make(args.source_dir, args.target_dir)


if __name__ == "__main__":
    main()
