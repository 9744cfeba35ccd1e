"""The inquiry log's entry points: a party reports a problem with its own invoice; customer
service lists, reads and works the log (domain/inquiries.py for the lifecycle).

A customer or vendor may report only on its own invoice (another's is "not found", as in the
listing); support may report on any. Only support reads the log and acts on it, and every action
is recorded with who and when.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from invoicing.adapters.inquiry_log import InquiryConflict, InquiryLog
from invoicing.api_models import InquiryPage, InquiryReport, InquiryView
from invoicing.domain.inquiries import ActionKind, ActionRecord, Inquiry, InquiryAction, InquiryStatus, apply
from invoicing.services.invoice_listing import BadRequest, Caller, InvoiceListing, NotAllowed, NotFound

ATTEMPTS = 3


class InquiryDesk:
    def __init__(
        self,
        *,
        log: InquiryLog,
        listing: InvoiceListing,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._log = log
        self._listing = listing
        self._clock = clock

    def report(self, caller: Caller, invoice_number: str, report: InquiryReport) -> tuple[Inquiry, bool]:
        """The inquiry, and whether it is new (False: this request id reported it before)."""
        invoice = self._listing.one(caller, invoice_number)  # NotFound unless it is the caller's
        if report.request_id:
            seed = f"{invoice.invoice_number}|{caller.party_id}|{report.request_id}"
            inquiry_id = "INQ-" + hashlib.sha256(seed.encode()).hexdigest()[:16].upper()
        else:
            inquiry_id = "INQ-" + uuid.uuid4().hex[:16].upper()
        now = self._clock()
        inquiry = Inquiry(
            inquiry_id=inquiry_id,
            invoice_number=invoice.invoice_number,
            order_id=invoice.order_id,
            category=report.category,
            description=report.description,
            opened_by=caller.party_id,
            opened_by_role=caller.role,
            opened_at=now,
        )
        opened = ActionRecord(
            at=now,
            by=caller.party_id,
            role=caller.role,
            action=ActionKind.OPENED,
            detail=f"{report.category.value}: {report.description}"[:2000],
        )
        recorded = self._log.open(inquiry, opened)
        return recorded, recorded is inquiry

    def month(self, caller: Caller, month: str | None, status: str | None) -> InquiryPage:
        _support_only(caller)
        wanted = month or f"{self._clock():%Y-%m}"
        if len(wanted) != 7 or wanted[4] != "-" or not (wanted[:4] + wanted[5:]).isdigit():
            raise BadRequest("month is yyyy-mm")
        if status is not None and status not in {s.value for s in InquiryStatus}:
            raise BadRequest(f"status is one of {', '.join(s.value for s in InquiryStatus)}")
        inquiries = self._log.month(wanted)
        counts = Counter(i.category.value for i in inquiries)
        chosen = [i for i in inquiries if status is None or i.status.value == status]
        return InquiryPage(items=chosen, counts=dict(sorted(counts.items())))

    def view(self, caller: Caller, inquiry_id: str) -> InquiryView:
        _support_only(caller)
        inquiry = self._log.get(inquiry_id)
        if inquiry is None:
            raise NotFound
        return InquiryView(inquiry=inquiry, actions=self._log.actions(inquiry_id))

    def act(self, caller: Caller, inquiry_id: str, action: InquiryAction) -> InquiryView:
        """Apply one action, recorded with who and when; InquiryRefused if it does not apply."""
        _support_only(caller)
        for _ in range(ATTEMPTS):
            inquiry = self._log.get(inquiry_id)
            if inquiry is None:
                raise NotFound
            after, record = apply(inquiry, action, caller.party_id, self._clock())
            try:
                self._log.record(after, record, inquiry.version)
            except InquiryConflict:
                continue
            return InquiryView(inquiry=after, actions=self._log.actions(inquiry_id))
        raise InquiryConflict(inquiry_id)


def _support_only(caller: Caller) -> None:
    if not caller.is_support:
        raise NotAllowed
