"""SMS segment counting: GSM-7 (160, or 153 a segment concatenated) and UCS-2 (70, or 67)."""

from __future__ import annotations

import pytest

from invoicing.messages.sms import GSM7_EXTENSION, SmsEncoding, SmsSegments, sms_segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsSegments(SmsEncoding.GSM7, 0, 0)),
        ("a" * 160, SmsSegments(SmsEncoding.GSM7, 160, 1)),
        ("a" * 161, SmsSegments(SmsEncoding.GSM7, 161, 2)),
        ("a" * 306, SmsSegments(SmsEncoding.GSM7, 306, 2)),
        ("a" * 307, SmsSegments(SmsEncoding.GSM7, 307, 3)),
        ("€" * 80, SmsSegments(SmsEncoding.GSM7, 160, 1)),  # the extension table costs two each
        ("€" * 81, SmsSegments(SmsEncoding.GSM7, 162, 2)),
        ("Ñoño à São? no: ã is not GSM", SmsSegments(SmsEncoding.UCS2, 28, 1)),
        ("ł" * 70, SmsSegments(SmsEncoding.UCS2, 70, 1)),
        ("ł" * 71, SmsSegments(SmsEncoding.UCS2, 71, 2)),
        ("ł" * 134, SmsSegments(SmsEncoding.UCS2, 134, 2)),
        ("ł" * 135, SmsSegments(SmsEncoding.UCS2, 135, 3)),
        ("🧾" * 35, SmsSegments(SmsEncoding.UCS2, 70, 1)),  # outside the BMP: a surrogate pair, two units
    ],
)
def test_segments_follow_the_encoding_the_text_needs(text: str, expected: SmsSegments) -> None:
    assert sms_segments(text) == expected


def test_an_extension_character_is_never_split_across_two_segments() -> None:
    # 306 septets would fit two segments of 153, but the € (escape + code) would straddle them.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_segments(text) == SmsSegments(SmsEncoding.GSM7, 306, 3)


def test_a_surrogate_pair_is_never_split_across_two_segments() -> None:
    text = "ł" * 66 + "🧾" + "ł" * 66  # 134 units, but the pair would straddle the first 67
    assert sms_segments(text) == SmsSegments(SmsEncoding.UCS2, 134, 3)


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2() -> None:
    assert sms_segments("Dear Zoe, " + "a" * 100).encoding is SmsEncoding.GSM7
    assert sms_segments("Dear Zoë, " + "a" * 100) == SmsSegments(SmsEncoding.UCS2, 110, 2)


def test_the_extension_table_is_the_nine_characters_and_form_feed() -> None:
    assert set("^{}\\[~]|€\f") == GSM7_EXTENSION
