"""Signed, expiring, per-invoice download tokens.

Emailed and texted links never embed a presigned S3 URL (it dies with the signing role's
temporary credentials). They carry this token instead; the download endpoint verifies it and
answers with a fresh, short-lived presigned URL.

Format: ``v1.<key id>.<payload>.<signature>``, payload and signature base64url without padding,
signature = HMAC-SHA256(key, "v1.<key id>.<payload>"). The key id names which key of the keyring
signed it, so a key can be rotated: new links are signed with the newest key, links signed with
an older key keep working while that key is still in the ring.
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

VERSION = "v1"
# A real token is about 200 characters; anything far longer is refused before any work is done.
MAX_TOKEN_LENGTH = 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_SIGNATURE_LENGTH = 43  # 32 HMAC-SHA256 bytes, base64url without padding


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


def sign_link(
    keyring: Keyring, invoice_number: str, party_id: str, now: datetime, lifetime: timedelta
) -> str:
    claims = {"inv": invoice_number, "sub": party_id, "exp": int((now + lifetime).timestamp())}
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signed_part = f"{VERSION}.{keyring.current}.{payload}"
    return f"{signed_part}.{_signature(keyring.secret(keyring.current), signed_part)}"


def verify_link(keyring: Keyring, token: str, invoice_number: str, now: datetime) -> LinkClaims:
    """The token's claims if it is ours, untampered, unexpired and for this invoice.

    Any malformed token (wrong shape, too long, non-ASCII, not base64url) is an InvalidLinkToken
    like a forged one: `hmac.compare_digest` raises TypeError on non-ASCII text, so the shape is
    checked first and the digests are compared as bytes.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidLinkToken
    try:
        version, key_id, payload, signature = token.split(".")
    except ValueError:
        raise InvalidLinkToken from None
    if version != VERSION or key_id not in keyring.keys:
        raise InvalidLinkToken
    if len(signature) != _SIGNATURE_LENGTH or not all(_BASE64URL.fullmatch(p) for p in (payload, signature)):
        raise InvalidLinkToken
    expected = _signature(keyring.secret(key_id), f"{version}.{key_id}.{payload}")
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidLinkToken
    try:
        claims = LinkClaims.model_validate(json.loads(_unb64(payload)))
    except (ValueError, ValidationError):
        raise InvalidLinkToken from None
    if claims.invoice_number != invoice_number or claims.expires_at <= now.timestamp():
        raise InvalidLinkToken
    return claims
