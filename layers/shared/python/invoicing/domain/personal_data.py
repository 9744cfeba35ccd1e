"""Masking personal data in free text we did not write: SMTP diagnostics, provider refusals.

A bounce's diagnostic (`smtp; 550 5.1.1 <jane@example.com>: Recipient address rejected`) or a
provider's refusal can name the recipient. Such text is logged, stored on the delivery and
announced in `InvoiceDeliveryFailed`, so it is masked first: every address-like token becomes
`j***@example.com`, every phone-like run of 7 or more digits `***958`. What makes the text useful
stays readable: SMTP reply and enhanced status codes (`550 5.1.1`), IPv4 addresses of mail servers,
dates and times. Masking is idempotent: masked text masks to itself.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

MIN_PHONE_DIGITS = 7
MAX_TEXT = 1000
"""Longer text is cut first (records keep 500 characters anyway), so masking stays cheap."""

_EMAIL = re.compile(
    r"""(?P<local>"[^"\r\n]{1,64}"|[\w.!#$%&'*+/=?^`{|}~-]+)@(?P<domain>\[[^\]\s]{1,64}\]|[\w-]+(?:\.[\w-]+)*)"""
)
# Never part of a phone number: SMTP codes ("550 5.1.1", "4.7.0"), IPv4 addresses, dates, times.
_KEEP = re.compile(
    r"(?<![\w.])(?:[245]\d\d[ -])?[245]\.\d{1,3}\.\d{1,3}(?![\w.])"
    r"|(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])"
    r"|(?<!\w)\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?)?(?!\w)"
)
# Digits, optionally +-prefixed, in groups joined by one space, hyphen, dot or slash, or in brackets.
_PHONE = re.compile(r"(?<![\w+])\+?(?:\(\d+\)|\d)(?:[ ./-]?(?:\(\d+\)|\d))*(?!\w)")


def mask_email(address: str | None) -> str | None:
    """'zoe@example.com' -> 'z***@example.com': enough to recognise, not enough to leak."""
    if not address or "@" not in address:
        return None if not address else "***"
    local, _, domain = address.rpartition("@")
    return _masked(local, domain)


def _masked(local: str, domain: str) -> str:
    return f"{local.strip(chr(34))[:1]}***@{domain}"


def _mask_phones(text: str) -> str:
    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return f"***{digits[-3:]}" if len(digits) >= MIN_PHONE_DIGITS else match.group()

    return _PHONE.sub(phone, text)


def mask_personal_data(text: str) -> str:
    """The text with e-mail addresses and phone numbers masked, SMTP codes kept."""
    if len(text) > MAX_TEXT:
        # Drop a number the cut may have split, lest its first digits fall below the phone threshold.
        text = text[: MAX_TEXT - 1].rstrip("0123456789 ()+-./") + "…"
    text = _EMAIL.sub(lambda m: _masked(m.group("local"), m.group("domain")), text)
    kept = list(_KEEP.finditer(text))
    pieces, start = [], 0
    for match in kept:
        pieces += [_mask_phones(text[start : match.start()]), match.group()]
        start = match.end()
    pieces.append(_mask_phones(text[start:]))
    return "".join(pieces)


MaskedText = Annotated[str, AfterValidator(mask_personal_data)]
"""A model field of free text that may quote a provider: masked whoever fills it."""
