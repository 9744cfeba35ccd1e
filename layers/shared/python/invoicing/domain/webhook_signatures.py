"""The payment webhook's signature, as Stripe signs its webhooks: HMAC-SHA256 over "<t>.<body>".

The provider sends `SayPro-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`. A request is
genuine when one `v1` is the HMAC-SHA256, under one of our current secrets (several during a
rotation), of the timestamp, a dot and the raw body, compared in constant time; and fresh when its
timestamp is within the tolerance of now, either way (a stale or a future one is refused), so a
captured request cannot be replayed later. Replays inside the window are stopped by the event id,
applied once. Nothing of the body is read before this passes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime, timedelta

SIGNATURE_HEADER = "saypro-signature"
TOLERANCE = timedelta(minutes=5)
MAX_HEADER_LENGTH = 1024


class InvalidSignature(ValueError):
    """Refused: the reason is for our logs, never echoed to the caller."""


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The header value a provider sends (also what our tests and samples use)."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(
    header: str | None,
    body: bytes,
    secrets: Iterable[bytes],
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> int:
    """The signed timestamp when the request is genuine and fresh, else InvalidSignature."""
    if not header or len(header) > MAX_HEADER_LENGTH:
        raise InvalidSignature("no signature header, or one too long")
    timestamp, signatures = _parse(header)
    age = now.timestamp() - timestamp
    if abs(age) > tolerance.total_seconds():
        raise InvalidSignature(f"timestamp {age:+.0f} s from now, outside {tolerance.total_seconds():.0f} s")
    expected = [_mac(secret, timestamp, body) for secret in secrets]
    if not expected:
        raise InvalidSignature("no secret configured")
    # Every candidate against every secret, so the time taken does not say which one was close.
    matched = False
    for signature in signatures:
        for mac in expected:
            matched |= hmac.compare_digest(signature, mac)
    if not matched:
        raise InvalidSignature("no v1 signature matches")
    return timestamp


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature("the header has no t= or no v1= of the right shape")
    return timestamp, signatures


def _mac(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
