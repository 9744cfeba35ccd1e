"""The payment webhook's signing secrets, from Secrets Manager (Powertools parameters, cached).

The secret's JSON holds one or two keys ending in `signing_secret`: the stack generates
`{"signing_secret": "<48 characters>"}`; during a rotation the provider's previous secret is kept
as `previous_signing_secret` until it stops signing, so both verify meanwhile.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

CACHE_SECONDS = 300
"""A rotated secret is picked up within five minutes, without a redeploy."""


def secrets_of(secret: Any) -> list[bytes]:
    if not isinstance(secret, dict):
        return []
    return [
        value.encode()
        for name, value in sorted(secret.items())
        if name.endswith("signing_secret") and isinstance(value, str) and value
    ]


class WebhookSecrets:
    def __init__(self, secret_id: str, provider: SecretsProvider | None = None) -> None:
        self._secret_id = secret_id
        self._provider = provider or SecretsProvider()

    def current(self) -> list[bytes]:
        return secrets_of(self._provider.get(self._secret_id, max_age=CACHE_SECONDS, transform="json"))
