"""Opaque, authenticated page tokens for the invoices list API.

A page token carries where the listing stopped (DynamoDB's LastEvaluatedKey). Plain base64 of that
key showed the table's key design and let a caller hand us any start key it liked, so it is sealed
instead: AES-256-GCM, the key JSON as the secret plaintext and the listing's context (the caller's
party id and role, the query's filters) as associated data. A token only opens for the same caller
running the same query; anything else (tampered, foreign, another filter, malformed) is an
InvalidPageToken.

Format: ``v1.<key id>.<base64url(nonce | ciphertext | tag)>``. The sealing key is derived with HKDF
from the download-link keyring's secret (label ``invoicing/page-token/v1``), so the two never share
a key and no second secret is needed; the key id lets tokens sealed before a rotation still open
while the old key is in the ring.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from invoicing.domain.links import Keyring

VERSION = "v1"
MAX_TOKEN_LENGTH = 2048
_LABEL = b"invoicing/page-token/v1"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class InvalidPageToken(Exception):
    """Not a token of this caller's listing with these filters: start again without one."""


def page_token_key(link_secret: bytes) -> bytes:
    """A key of its own for page tokens, derived from a link-signing secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(link_secret)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _context(context: Mapping[str, str | None]) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


def seal_page_token(keyring: Keyring, position: Any, context: Mapping[str, str | None]) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    plaintext = json.dumps(position, sort_keys=True, separators=(",", ":")).encode()
    sealed = AESGCM(page_token_key(keyring.secret(keyring.current))).encrypt(
        nonce, plaintext, _context(context)
    )
    return f"{VERSION}.{keyring.current}.{_b64(nonce + sealed)}"


def open_page_token(keyring: Keyring, token: str, context: Mapping[str, str | None]) -> Any:
    """The position sealed in the token (any JSON value: the caller checks its shape)."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidPageToken
    try:
        version, key_id, body = token.split(".")
    except ValueError:
        raise InvalidPageToken from None
    if version != VERSION or key_id not in keyring.keys or not _BASE64URL.fullmatch(body):
        raise InvalidPageToken
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise InvalidPageToken from None
    # Canonical encoding only: unused bits in the last character would give one token many spellings.
    if len(raw) <= _NONCE_BYTES + _TAG_BYTES or _b64(raw) != body:
        raise InvalidPageToken
    try:
        plaintext = AESGCM(page_token_key(keyring.secret(key_id))).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _context(context)
        )
        return json.loads(plaintext)
    except (InvalidTag, ValueError, RecursionError):
        raise InvalidPageToken from None
