"""How many SMS segments a text costs (3GPP TS 23.038 and 23.040).

A text made only of the GSM 7-bit default alphabet travels as GSM-7: 160 characters in one
segment, or 153 per segment once concatenated (the user data header takes the rest); a character
of the extension table (`^ { } [ ] \\ ~ | €` and form feed) costs two, an escape and itself, and a
pair is never split across segments. Any other character (a "ł", an emoji) turns the whole text
into UCS-2: 70 UTF-16 code units in one segment, 67 per segment concatenated, a surrogate pair
never split. Each segment is billed as one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


class SmsEncoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsSegments:
    encoding: SmsEncoding
    units: int
    """Septets for GSM-7 (an extension character counts 2), UTF-16 code units for UCS-2."""
    segments: int


_LIMITS = {SmsEncoding.GSM7: (160, 153), SmsEncoding.UCS2: (70, 67)}


def _costs(text: str) -> tuple[SmsEncoding, list[int]]:
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        return SmsEncoding.GSM7, [2 if c in GSM7_EXTENSION else 1 for c in text]
    return SmsEncoding.UCS2, [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_segments(text: str) -> SmsSegments:
    """The encoding a text needs, its length in that encoding and the segments it is sent in."""
    encoding, costs = _costs(text)
    single, concatenated = _LIMITS[encoding]
    units = sum(costs)
    if units <= single:
        return SmsSegments(encoding, units, 1 if text else 0)
    segments, used = 1, 0
    for cost in costs:  # a character that does not fit whole starts the next segment
        if used + cost > concatenated:
            segments, used = segments + 1, 0
        used += cost
    return SmsSegments(encoding, units, segments)
