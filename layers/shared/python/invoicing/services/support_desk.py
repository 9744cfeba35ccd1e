"""Customer service's tools (role `support`): find invoices, read an invoice's timeline, resend it.

Every route checks the role from the verified JWT; a customer or vendor is refused (403) before
anything is read. Finding is by invoice number, order, customer or email (an email is looked up by
its SHA-256, `CONTACT#` items written when invoices are issued); each finds at most `limit` of the
newest. A resend is recorded once per request id with who asked, why and when (the audit trail),
and sent once by the dispatcher, to the address on file or to the one given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from invoicing.adapters.invoice_history import InvoiceHistory
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord, contact_key_of
from invoicing.adapters.invoice_queries import InvoiceQueries
from invoicing.adapters.resend_log import REQUESTED, ResendLog, ResendRecord
from invoicing.api_models import InvoiceSummary, ResendAnswer, ResendRequest, Timeline
from invoicing.domain.contact import deliverable_address
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.services.invoice_listing import BadRequest, Caller, NotAllowed, NotFound, is_invoice_number

MAX_FOUND = 50


class SupportDesk:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        queries: InvoiceQueries,
        history: InvoiceHistory,
        resends: ResendLog,
        contacts: Callable[[str], list[str]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._queries = queries
        self._history = history
        self._resends = resends
        self._contacts = contacts
        """contact key -> the customer ids invoiced at that email."""
        self._clock = clock

    def find(
        self,
        caller: Caller,
        *,
        invoice_number: str | None = None,
        order_id: str | None = None,
        customer_id: str | None = None,
        email: str | None = None,
    ) -> list[InvoiceSummary]:
        _support_only(caller)
        given = [v for v in (invoice_number, order_id, customer_id, email) if v]
        if len(given) != 1:
            raise BadRequest("give exactly one of invoice_number, order_id, customer_id or email")
        if invoice_number:
            number = invoice_number.strip().upper()
            record = self._ledger.get_invoice(number) if is_invoice_number(number) else None
            records = [record] if record else []
        elif order_id:
            records = self._of_order(order_id)
        elif customer_id:
            records = self._of_customer(customer_id)
        else:
            key = contact_key_of(email)
            records = (
                [r for customer in self._contacts(key) for r in self._of_customer(customer)] if key else []
            )
        issued = [r for r in records if r.status is InvoiceStatus.ISSUED]
        issued.sort(key=lambda r: (r.issued_at, r.invoice_number), reverse=True)
        return [InvoiceSummary.of(r) for r in issued[:MAX_FOUND]]

    def timeline(self, caller: Caller, invoice_number: str) -> Timeline:
        _support_only(caller)
        record = self._issued(invoice_number)
        return Timeline(invoice=InvoiceSummary.of(record), entries=self._history.timeline(record))

    def request_resend(self, caller: Caller, invoice_number: str, request: ResendRequest) -> ResendAnswer:
        _support_only(caller)
        record = self._issued(invoice_number)
        if record.kind is not InvoiceKind.CUSTOMER and record.kind is not InvoiceKind.CREDIT_NOTE:
            raise BadRequest("only a customer's invoice or credit note is resent here")
        recipient = None
        if request.email:
            recipient = deliverable_address(request.email)
            if recipient is None:
                raise BadRequest("email is not an address an email can be delivered to")
        asked = ResendRecord(
            invoice_number=record.invoice_number,
            request_id=request.request_id,
            requested_by=caller.party_id,
            requested_at=self._clock(),
            reason=request.reason,
            recipient=recipient,
            status=REQUESTED,
        )
        answered = self._resends.request(asked)
        return ResendAnswer(
            invoice_number=answered.invoice_number,
            request_id=answered.request_id,
            status=answered.status,
            requested_by=answered.requested_by,
            requested_at=answered.requested_at,
            to="the address given" if answered.recipient else "the address on file",
            repeated=answered is not asked,
        )

    def _issued(self, invoice_number: str) -> InvoiceRecord:
        number = invoice_number.strip().upper()
        record = self._ledger.get_invoice(number) if is_invoice_number(number) else None
        if record is None or record.status is not InvoiceStatus.ISSUED:
            raise NotFound
        return record

    def _of_order(self, order_id: str) -> list[InvoiceRecord]:
        found = []
        current = self._ledger.find_by_order(order_id, InvoiceKind.CUSTOMER)
        seen: set[str] = set()
        while current is not None and current.invoice_number not in seen:
            seen.add(current.invoice_number)
            found.append(current)
            following = current.replaces
            current = self._ledger.get_invoice(following) if following else None
        for record in list(found):
            for number in record.credit_notes:
                note = self._ledger.get_invoice(number)
                if note is not None:
                    found.append(note)
        return found

    def _of_customer(self, customer_id: str) -> list[InvoiceRecord]:
        records, _ = self._queries.list_for("customer", customer_id, limit=MAX_FOUND)
        return records


def _support_only(caller: Caller) -> None:
    if not caller.is_support:
        raise NotAllowed
