"""The keyring that signs download links, from a Secrets Manager secret.

The secret's JSON is `{"current": "<key id>", "keys": {"<key id>": "<base64 secret>", ...}}`.
Rotation adds a key and makes it current; the previous key stays in `keys` for as long as the
links it signed must keep working (the link lifetime), then is removed.
"""

from __future__ import annotations

import time
from typing import Any

import boto3

from invoicing.domain.links import Keyring

CACHE_SECONDS = 300


class LinkKeySource:
    def __init__(self, secret_id: str, client: Any | None = None) -> None:
        self._secret_id = secret_id
        self._client = client or boto3.client("secretsmanager")
        self._cached: Keyring | None = None
        self._loaded_at = 0.0

    def keyring(self) -> Keyring:
        """Cached for a few minutes: a rotation is picked up without a redeploy."""
        if self._cached is None or time.monotonic() - self._loaded_at > CACHE_SECONDS:
            secret = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
            self._cached = Keyring.model_validate_json(secret)
            self._loaded_at = time.monotonic()
        return self._cached
