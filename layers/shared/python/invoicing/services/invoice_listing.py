"""A customer's or vendor's own invoices: listing, one invoice, a fresh download link.

The caller's identity comes only from the verified JWT's claims (done by the API's authorizer),
never from a parameter: `sub` is the party, `role` (or `custom:role`) is customer, vendor or
support. A customer's listing holds its invoices and its credit notes; a vendor's, its vendor
invoices. Support reads any issued invoice by number, and lists nothing (there is no listing of
everyone's invoices). Another party's invoice is "not found", so its existence is not revealed,
and a page token can only continue the caller's own listing: it is sealed (domain/page_tokens.py)
with the caller and the query's filters, and what it carries is checked again before it becomes a
DynamoDB start key, so no token can reach boto3 with a value it would raise on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.adapters.invoice_queries import INDEX_BY_ROLE, InvoiceQueries
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.api_models import DownloadLink, InvoicePage, InvoiceSummary
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.page_tokens import InvalidPageToken, open_page_token, seal_page_token

SUPPORT = "support"
OPERATIONS, FINANCE = "operations", "finance"
STAFF = (SUPPORT, OPERATIONS, FINANCE)
"""Roles that see the console's operations and finance picture; only support reads invoices."""
ROLES = (*INDEX_BY_ROLE, *STAFF)
KINDS = tuple(kind.value for kind in InvoiceKind)


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    party_id: str
    role: str

    @property
    def is_support(self) -> bool:
        return self.role == SUPPORT


class NotAllowed(Exception):
    pass


class NotFound(Exception):
    pass


class BadRequest(ValueError):
    """A query that cannot be answered as asked; the message says why."""

    code = "bad_request"


class BadPageToken(BadRequest):
    code = "invalid_next_token"

    def __init__(self) -> None:
        super().__init__(
            "next_token is not a page token of this listing (same caller, same filters); "
            "start again without it"
        )


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    party = claims.get("sub")
    role = claims.get("role") or claims.get("custom:role")
    if not isinstance(party, str) or not party or role not in ROLES:
        raise NotAllowed
    return Caller(party_id=party, role=str(role))


_INVOICE_NUMBER = re.compile(r"[A-Z]{2,8}-[0-9]{4}-[0-9]{6,12}")


def is_invoice_number(text: str) -> bool:
    """What `domain/numbering.py` issues (INV-2026-000042, CN-2026-000001), bounded."""
    return isinstance(text, str) and _INVOICE_NUMBER.fullmatch(text) is not None


class InvoiceListing:
    def __init__(
        self,
        *,
        queries: InvoiceQueries,
        ledger: InvoiceLedger,
        page_keys: LinkKeySource,
        link_for: Callable[[str, str], str],
        link_lifetime: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._queries = queries
        self._ledger = ledger
        self._page_keys = page_keys
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
        kind: str | None = None,
    ) -> InvoicePage:
        if caller.role not in INDEX_BY_ROLE:
            raise NotAllowed  # support reads invoices by number; nobody lists everyone's
        # An empty filter is no filter (as the query treats it), so both continue the same listing.
        order_id, payment_status, kind = order_id or None, payment_status or None, kind or None
        if issued_from and issued_to and issued_from > issued_to:
            raise BadRequest("issued_from is after issued_to")
        if kind is not None and kind not in KINDS:
            raise BadRequest(f"kind is one of {', '.join(KINDS)}")
        context = {
            "party": caller.party_id,
            "role": caller.role,
            "order_id": order_id,
            "payment_status": payment_status,
            "issued_from": issued_from.isoformat() if issued_from else None,
            "issued_to": issued_to.isoformat() if issued_to else None,
        }
        if kind:  # only when given, so a token sealed before the filter existed still continues
            context["kind"] = kind
        start_key = self._decode(caller, next_token, context) if next_token else None
        records, last_key = self._queries.list_for(
            caller.role,
            caller.party_id,
            limit=limit,
            start_key=start_key,
            order_id=order_id,
            payment_status=payment_status,
            issued_from=issued_from,
            issued_to=issued_to,
            kind=kind,
        )
        token = seal_page_token(self._page_keys.keyring(), last_key, context) if last_key else None
        return InvoicePage(items=[InvoiceSummary.of(r) for r in records], next_token=token)

    def one(self, caller: Caller, invoice_number: str) -> InvoiceSummary:
        return InvoiceSummary.of(self._owned(caller, invoice_number))

    def download_link(self, caller: Caller, invoice_number: str) -> DownloadLink:
        if caller.role not in INDEX_BY_ROLE:
            raise NotAllowed  # a link is signed for the invoice's own party, never for support
        record = self._owned(caller, invoice_number)
        return DownloadLink(
            url=self._link_for(record.invoice_number, caller.party_id),
            expires_at=self._clock() + self._lifetime,
        )

    def _owned(self, caller: Caller, invoice_number: str) -> InvoiceRecord:
        """The caller's own issued invoice (support: any issued invoice), else NotFound."""
        if not is_invoice_number(invoice_number):
            raise NotFound  # not one we issue: no read (a key over 2 KB would be an error)
        record = self._ledger.get_invoice(invoice_number)
        if record is None or record.status is not InvoiceStatus.ISSUED:
            raise NotFound
        if caller.is_support:
            return record
        if caller.role not in INDEX_BY_ROLE:
            raise NotAllowed  # operations and finance see figures, not invoices
        owner = record.customer_id if caller.role == "customer" else record.vendor_id
        if record.kind.is_vendors != (caller.role == "vendor"):
            owner = None  # a customer's documents are the customer's only, a vendor's the vendor's
        if owner != caller.party_id:
            raise NotFound
        return record

    def _decode(self, caller: Caller, token: str, context: dict[str, str | None]) -> dict[str, Any]:
        """Only a key of the caller's own partition of the caller's own index, every value a
        non-empty string (what DynamoDB sent us); anything else would make boto3 raise."""
        _, party_attribute = INDEX_BY_ROLE[caller.role]
        try:
            key = open_page_token(self._page_keys.keyring(), token, context)
        except InvalidPageToken:
            raise BadPageToken from None
        if (
            not isinstance(key, dict)
            or set(key) != {"pk", "sk", party_attribute, "issued_at"}
            or not all(
                isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"]
                for v in key.values()
            )
            or key[party_attribute] != {"S": caller.party_id}
        ):
            raise BadPageToken
        return key
