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
    Linear in the length of the text: each word and each character of a broken word is measured
    once, which holds because our typefaces have no kerning (a string's width is the sum of its
    characters' widths). Re-measuring ever longer lines made one long name cost seconds.
    """
    words = text.split()
    if not words:
        return [""]
    space = measure(" ")
    lines: list[str] = []
    current: list[str] = []
    current_width = 0.0
    for word in words:
        word_width = measure(word)
        if current and current_width + space + word_width <= width:
            current.append(word)
            current_width += space + word_width
            continue
        if current:
            lines.append(" ".join(current))
        if word_width <= width:
            current, current_width = [word], word_width
            continue
        pieces, rest, rest_width = _break_word(word, width, measure)
        lines.extend(pieces)
        current, current_width = [rest], rest_width
    lines.append(" ".join(current))
    return lines


def _break_word(word: str, width: float, measure: Callable[[str], float]) -> tuple[list[str], str, float]:
    """A word too wide for `width` cut between characters: the full pieces, the rest and its width."""
    pieces: list[str] = []
    start, used = 0, 0.0
    for index, char in enumerate(word):
        char_width = measure(char)
        if used + char_width > width and index > start:
            pieces.append(word[start:index])
            start, used = index, 0.0
        used += char_width
    return pieces, word[start:], used


def _fitting_prefix(text: str, width: float, measure: Callable[[str], float]) -> int:
    """Length of the longest prefix of `text` that fits (at least one character), in one pass."""
    used = 0.0
    for index, char in enumerate(text):
        used += measure(char)
        if used > width:
            return max(index, 1)
    return len(text)


def ellipsize(text: str, width: float, measure: Callable[[str], float]) -> str:
    """`text`, shortened with '…' if it does not fit `width`."""
    if measure(text) <= width:
        return text
    cut = _fitting_prefix(text, width - measure("…"), measure)
    return text[:cut].rstrip() + "…"
