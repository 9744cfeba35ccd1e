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


# The invoice text as sent with a v2 link (see messages/compose.py), on the two public URL forms.
V2_TOKEN = "v2.k1.tqxpc0.hhAR75eno11zzw5LZE3HpQ"
CUSTOM = f"https://invoices.saypro.example/download/INV-2026-000002?token={V2_TOKEN}"
DEFAULT = f"https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/download/INV-2026-000002?token={V2_TOKEN}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Invoice INV-2026-000002, 27.16 GBP: {CUSTOM}", SmsSegments(SmsEncoding.GSM7, 134, 1)),
        (f"Invoice INV-2026-000002, 19,062.69 EUR: {CUSTOM}", SmsSegments(SmsEncoding.GSM7, 138, 1)),
        (f"Invoice INV-2026-000002, 27.16 GBP: {DEFAULT}", SmsSegments(SmsEncoding.GSM7, 157, 1)),
        (f"Invoice INV-2026-000002, 1,234.56 EUR: {DEFAULT}", SmsSegments(SmsEncoding.GSM7, 160, 1)),
        (f"Invoice INV-2026-000002, 19,062.69 EUR: {DEFAULT}", SmsSegments(SmsEncoding.GSM7, 161, 2)),
    ],
)
def test_an_invoice_text_with_a_v2_link_is_one_segment_unless_total_and_url_are_both_long(
    text: str, expected: SmsSegments
) -> None:
    assert sms_segments(text) == expected
