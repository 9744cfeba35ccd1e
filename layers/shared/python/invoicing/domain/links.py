"""Signed, expiring, per-invoice download tokens.

Emailed and texted links never embed a presigned S3 URL (it dies with the signing role's
temporary credentials). They carry this token instead; the download endpoint verifies it and
answers with a fresh, short-lived presigned URL.

New links are signed ``v2.<key id>.<exp>.<signature>`` (about 35 characters, so that a texted
link fits one SMS segment): `exp` is the expiry in epoch seconds, base36 lower case, and the
signature is base64url (no padding) of the first 16 bytes (128 bits) of
HMAC-SHA256(key, "v2.<key id>.<invoice number>.<party id>.<exp>"). Neither the invoice number
(it is in the link's path) nor the party (the customer or vendor the invoice belongs to, which
the verifier reads from the invoice record) is carried: they are signed over, not sent. The
signed string cannot be read two ways: a key id holds no dot (it is a piece of the token), an
invoice number holds none (`INV-2026-000002`; one with a dot is refused) and `exp` is the last
piece, so whatever lies between the number and `exp` is the party id.

Links already sent keep working: ``v1.<key id>.<payload>.<signature>``, payload the base64url
JSON `{"exp", "inv", "sub"}` and signature the full HMAC-SHA256(key, "v1.<key id>.<payload>"),
about 130 characters, is still verified (no longer signed, except by `sign_link_v1`).

The key id names which key of the keyring signed it, so a key can be rotated: new links are
signed with the newest key, links signed with an older key keep working while that key is still
in the ring.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

VERSION = "v2"
LEGACY_VERSION = "v1"
# A real token is 35 (v2) or about 200 (v1) characters; anything far longer is refused first.
MAX_TOKEN_LENGTH = 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_SIGNATURE_LENGTH = 43  # v1: 32 HMAC-SHA256 bytes, base64url without padding
_V2_SIGNATURE_BYTES = 16
_V2_SIGNATURE_LENGTH = 22  # 16 bytes, base64url without padding
# Canonical base36, no leading zero, at most 7 digits (36**7 seconds: beyond the year 4000).
_BASE36 = re.compile(r"[1-9a-z][0-9a-z]{0,6}")
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


class InvalidLinkToken(Exception):
    """Tampered, expired, foreign or malformed: the caller learns nothing more than that."""


class LinkClaims(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str = Field(alias="inv")
    party_id: str = Field(alias="sub", description="the customer or vendor the invoice belongs to")
    expires_at: int = Field(alias="exp", description="epoch seconds")


class Keyring(BaseModel):
    """Signing keys by id; `current` signs, every key in `keys` verifies."""

    model_config = ConfigDict(frozen=True)

    current: str
    keys: Mapping[str, str] = Field(description="key id -> secret (at least 32 random bytes, base64)")

    def secret(self, key_id: str) -> bytes:
        return base64.b64decode(self.keys[key_id])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, signed_part: str) -> str:
    return _b64(hmac.new(secret, signed_part.encode(), hashlib.sha256).digest())


def _v2_signature(secret: bytes, key_id: str, invoice_number: str, party_id: str, exp: str) -> str:
    signed = f"{VERSION}.{key_id}.{invoice_number}.{party_id}.{exp}".encode()
    return _b64(hmac.new(secret, signed, hashlib.sha256).digest()[:_V2_SIGNATURE_BYTES])


def _base36(number: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = _DIGITS36[digit] + digits
    return digits or "0"


def sign_link(
    keyring: Keyring, invoice_number: str, party_id: str, now: datetime, lifetime: timedelta
) -> str:
    """A v2 token for this invoice and party, signed with the keyring's current key."""
    if "." in invoice_number or "." in keyring.current:
        raise ValueError("an invoice number or key id with a dot cannot be signed unambiguously")
    exp = _base36(int((now + lifetime).timestamp()))
    signature = _v2_signature(keyring.secret(keyring.current), keyring.current, invoice_number, party_id, exp)
    return f"{VERSION}.{keyring.current}.{exp}.{signature}"


def sign_link_v1(
    keyring: Keyring, invoice_number: str, party_id: str, now: datetime, lifetime: timedelta
) -> str:
    """A v1 token, as links were signed before v2: kept to test that those links still work."""
    claims = {"inv": invoice_number, "sub": party_id, "exp": int((now + lifetime).timestamp())}
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signed_part = f"{LEGACY_VERSION}.{keyring.current}.{payload}"
    return f"{signed_part}.{_signature(keyring.secret(keyring.current), signed_part)}"


def _pieces(keyring: Keyring, token: object) -> list[str]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidLinkToken
    pieces = token.split(".")
    if len(pieces) != 4:
        raise InvalidLinkToken
    version, key_id, middle, signature = pieces
    if key_id not in keyring.keys:
        raise InvalidLinkToken
    if version == VERSION:
        if len(signature) != _V2_SIGNATURE_LENGTH or not _BASE36.fullmatch(middle):
            raise InvalidLinkToken
    elif version == LEGACY_VERSION:
        if len(signature) != _SIGNATURE_LENGTH or not _BASE64URL.fullmatch(middle):
            raise InvalidLinkToken
    else:
        raise InvalidLinkToken
    if not _BASE64URL.fullmatch(signature):
        raise InvalidLinkToken
    return pieces


def check_link_shape(keyring: Keyring, token: object) -> None:
    """Raises InvalidLinkToken unless the token is shaped like one of ours (version, key id of the
    ring, lengths, alphabets): lets a caller refuse junk before it reads anything for it."""
    _pieces(keyring, token)


def verify_link(
    keyring: Keyring, token: str, invoice_number: str, now: datetime, party_id: str | None = None
) -> LinkClaims:
    """The token's claims if it is ours, untampered, unexpired and for this invoice and party.

    `party_id` is the invoice's own customer or vendor, from its record. A v2 token is signed
    over it without carrying it, so it cannot be verified without it; a v1 token names its party
    (`sub`), which must be this one when it is given.

    Any malformed token (wrong shape, too long, non-ASCII, not base64url, not base36) is an
    InvalidLinkToken like a forged one: `hmac.compare_digest` raises TypeError on non-ASCII
    text, so the shape is checked first and the digests are compared as bytes.
    """
    version, key_id, middle, signature = _pieces(keyring, token)
    if version == VERSION:
        return _verify_v2(
            keyring, key_id, middle, signature, invoice_number=invoice_number, party_id=party_id, now=now
        )
    expected = _signature(keyring.secret(key_id), f"{version}.{key_id}.{middle}")
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidLinkToken
    try:
        claims = LinkClaims.model_validate(json.loads(_unb64(middle)))
    except (ValueError, ValidationError):
        raise InvalidLinkToken from None
    if claims.invoice_number != invoice_number or claims.expires_at <= now.timestamp():
        raise InvalidLinkToken
    if party_id is not None and claims.party_id != party_id:
        raise InvalidLinkToken
    return claims


def _verify_v2(
    keyring: Keyring,
    key_id: str,
    exp: str,
    signature: str,
    *,
    invoice_number: str,
    party_id: str | None,
    now: datetime,
) -> LinkClaims:
    if party_id is None or not isinstance(invoice_number, str) or "." in invoice_number:
        raise InvalidLinkToken
    expected = _v2_signature(keyring.secret(key_id), key_id, invoice_number, party_id, exp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidLinkToken
    expires_at = int(exp, 36)
    if expires_at <= now.timestamp():
        raise InvalidLinkToken
    return LinkClaims(inv=invoice_number, sub=party_id, exp=expires_at)
