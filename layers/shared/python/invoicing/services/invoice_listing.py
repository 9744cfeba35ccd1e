"""A customer's or vendor's own invoices: listing, one invoice, a fresh download link.

The caller's identity comes only from the verified JWT's claims (done by the API's authorizer),
never from a parameter. Another party's invoice is "not found", so its existence is not revealed,
and a page token can only continue the caller's own listing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.adapters.invoice_queries import INDEX_BY_ROLE, InvoiceQueries
from invoicing.api_models import DownloadLink, InvoicePage, InvoiceSummary
from invoicing.domain.invoice import InvoiceStatus


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    party_id: str
    role: str


class NotAllowed(Exception):
    pass


class NotFound(Exception):
    pass


class BadPageToken(ValueError):
    pass


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    party = claims.get("sub")
    role = claims.get("role") or claims.get("custom:role")
    if not isinstance(party, str) or not party or role not in INDEX_BY_ROLE:
        raise NotAllowed
    return Caller(party_id=party, role=str(role))


class InvoiceListing:
    def __init__(
        self,
        *,
        queries: InvoiceQueries,
        ledger: InvoiceLedger,
        link_for: Callable[[str, str], str],
        link_lifetime: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._queries = queries
        self._ledger = ledger
        self._link_for = link_for
        self._lifetime = link_lifetime
        self._clock = clock

    def page(
        self,
        caller: Caller,
        *,
        limit: int,
        next_token: str | None,
        order_id: str | None,
        payment_status: str | None,
        issued_from: date | None,
        issued_to: date | None,
    ) -> InvoicePage:
        start_key = self._decode(caller, next_token) if next_token else None
        records, last_key = self._queries.list_for(
            caller.role,
            caller.party_id,
            limit=limit,
            start_key=start_key,
            order_id=order_id,
            payment_status=payment_status,
            issued_from=issued_from,
            issued_to=issued_to,
        )
        return InvoicePage(
            items=[InvoiceSummary.of(r) for r in records],
            next_token=self._encode(last_key) if last_key else None,
        )

    def one(self, caller: Caller, invoice_number: str) -> InvoiceSummary:
        return InvoiceSummary.of(self._owned(caller, invoice_number))

    def download_link(self, caller: Caller, invoice_number: str) -> DownloadLink:
        record = self._owned(caller, invoice_number)
        return DownloadLink(
            url=self._link_for(record.invoice_number, caller.party_id),
            expires_at=self._clock() + self._lifetime,
        )

    def _owned(self, caller: Caller, invoice_number: str) -> InvoiceRecord:
        record = self._ledger.get_invoice(invoice_number)
        owner = (
            None
            if record is None
            else (record.customer_id if caller.role == "customer" else record.vendor_id)
        )
        if record is None or record.status is not InvoiceStatus.ISSUED or owner != caller.party_id:
            raise NotFound
        return record

    @staticmethod
    def _encode(key: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()

    @staticmethod
    def _decode(caller: Caller, token: str) -> dict[str, Any]:
        """Only a key of the caller's own partition of the caller's own index is accepted."""
        _, party_attribute = INDEX_BY_ROLE[caller.role]
        try:
            key = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (binascii.Error, ValueError):
            raise BadPageToken from None
        if (
            not isinstance(key, dict)
            or set(key) != {"pk", "sk", party_attribute, "issued_at"}
            or key[party_attribute] != {"S": caller.party_id}
            or not all(isinstance(v, dict) and set(v) == {"S"} for v in key.values())
        ):
            raise BadPageToken
        return key
