"""The keyring that signs download links, from a Secrets Manager secret.

The secret's JSON is `{"current": "<key id>", "keys": {"<key id>": "<base64 secret>", ...}}`; the
stack creates it as `{"current": "k1", "k1_secret": "<generated>"}`, which is read the same way.
Rotation adds a key and makes it current; the previous key stays in `keys` for as long as the
links it signed must keep working (the link lifetime), then is removed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from invoicing.domain.links import Keyring

CACHE_SECONDS = 300


def keyring_from_secret(secret: dict[str, Any]) -> Keyring:
    """The full form, or the one CloudFormation generates: {"current": "k1", "k1_secret": "..."}."""
    keys = secret.get("keys") or {
        name.removesuffix("_secret"): value for name, value in secret.items() if name.endswith("_secret")
    }
    return Keyring(current=secret["current"], keys=keys)


class LinkKeySource:
    def __init__(self, secret_id: str, client: Any | None = None) -> None:
        self._secret_id = secret_id
        self._client = client or boto3.client("secretsmanager")
        self._cached: Keyring | None = None
        self._loaded_at = 0.0

    def keyring(self) -> Keyring:
        """Cached for a few minutes: a rotation is picked up without a redeploy."""
        if self._cached is None or time.monotonic() - self._loaded_at > CACHE_SECONDS:
            secret = json.loads(self._client.get_secret_value(SecretId=self._secret_id)["SecretString"])
            self._cached = keyring_from_secret(secret)
            self._loaded_at = time.monotonic()
        return self._cached
