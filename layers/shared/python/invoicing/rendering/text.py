"""Text as the invoice prints it: cleaned to what the font can draw, and wrapped to a width."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

REPLACEMENT_CHARACTER = "\ufffd"
"""Printed for a character the font has no glyph for (e.g. CJK): visible, never a crash."""

_WHITESPACE_CONTROLS = {ord(c): " " for c in "\t\n\r\v\f\x85\u2028\u2029"}


def clean_text(text: str, charset: frozenset[str]) -> tuple[str, set[str]]:
    """Text the font can print, and the characters that had to be replaced.

    Composed (NFC) so 'e' + combining acute prints as the single glyph 'é'; line breaks and tabs
    become spaces (fields are laid out by the renderer, not by the data); other control, format
    (zero-width, soft hyphen) and unassigned characters are dropped, as is anything in a private
    use area; anything else the font lacks becomes U+FFFD.
    """
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if text.isprintable() and charset.issuperset(text):
        return text, set()
    text = text.translate(_WHITESPACE_CONTROLS)
    kept: list[str] = []
    missing: set[str] = set()
    for char in text:
        if unicodedata.category(char)[0] == "C":
            continue  # controls, format characters (zero-width, soft hyphen), unassigned
        if char in charset:
            kept.append(char)
        else:
            missing.add(char)
            kept.append(REPLACEMENT_CHARACTER)
    return "".join(kept), missing


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Greedy word wrap of one paragraph to `width` (same unit as `measure`); never empty.

    A word longer than the width is broken between characters rather than left to overflow.
    """
    words = text.split()
    if not words:
        return [""]
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while measure(current) > width and len(current) > 1:
            cut = _longest_prefix(current, width, measure)
            lines.append(current[:cut])
            current = current[cut:]
    lines.append(current)
    return lines


def _longest_prefix(word: str, width: float, measure: Callable[[str], float]) -> int:
    """Length of the longest prefix of `word` that fits (at least one character)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(word[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def ellipsize(text: str, width: float, measure: Callable[[str], float]) -> str:
    """`text`, shortened with '…' if it does not fit `width`."""
    if measure(text) <= width:
        return text
    cut = _longest_prefix(text, width - measure("…"), measure)
    return text[:cut].rstrip() + "…"
