"""Durable download links: our endpoint plus a signed, expiring, per-invoice token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from invoicing.adapters.link_keys import LinkKeySource
from invoicing.domain.links import sign_link

FINANCE = "finance"
"""The party a reconciliation report's links are signed for."""
OPERATIONS = "operations"
"""The party an operations report's links are signed for (operations and finance read them)."""
REPORT_LINK_LIFETIME = timedelta(days=90)


def report_subject(report_id: str, file_name: str) -> str:
    """What a report link is signed over (no dot, as a token's fields are dot-separated)."""
    return f"{report_id}/{file_name.replace('.', '_')}"


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

    def report_link(self, report_id: str, file_name: str, party: str = FINANCE) -> str:
        """A report file's link: the same signed token, over the report and file, for `party`."""
        token = sign_link(
            self._keys.keyring(),
            report_subject(report_id, file_name),
            party,
            self._clock(),
            REPORT_LINK_LIFETIME,
        )
        return f"{self._base_url}/reports/{quote(report_id)}/{quote(file_name)}?token={token}"

    def operations_report_link(self, report_id: str, file_name: str) -> str:
        return self.report_link(report_id, file_name, OPERATIONS)

    def statement_link(self, statement_id: str, vendor_id: str) -> str:
        """A vendor statement's link, signed for its vendor (the download endpoint checks it)."""
        token = sign_link(self._keys.keyring(), statement_id, vendor_id, self._clock(), REPORT_LINK_LIFETIME)
        return f"{self._base_url}/statements/{quote(statement_id)}?token={token}"

    def feedback_link(self, invoice_number: str, party_id: str) -> str:
        """The one-click "was this invoice clear and correct?" link of an invoice email: signed for
        the invoice's party; the answer (`&answer=yes` or `no`) is added by the email."""
        token = sign_link(
            self._keys.keyring(), feedback_subject(invoice_number), party_id, self._clock(), self._lifetime
        )
        return f"{self._base_url}/feedback/{quote(invoice_number)}?token={token}"


def feedback_subject(invoice_number: str) -> str:
    """What a feedback link is signed over: never the same as the invoice's download link."""
    return f"feedback/{invoice_number}"
