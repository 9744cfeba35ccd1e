"""Durable download links: our endpoint plus a signed, expiring, per-invoice token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from invoicing.adapters.link_keys import LinkKeySource
from invoicing.domain.links import sign_link


class DownloadLinks:
    def __init__(
        self,
        keys: LinkKeySource,
        base_url: str,
        lifetime: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._keys = keys
        self._base_url = base_url.rstrip("/")
        self._lifetime = lifetime
        self._clock = clock

    def link_for(self, invoice_number: str, party_id: str) -> str:
        token = sign_link(self._keys.keyring(), invoice_number, party_id, self._clock(), self._lifetime)
        return f"{self._base_url}/download/{quote(invoice_number)}?token={token}"
