"""Invoicing's own announcements -> the report's daily counters (see domain/report_counts.py).

Each event is counted once (its announcement id guards it), and each invoice measure once per
invoice (its fact says whether it is counted yet). An event about an invoice the counting has not
seen issued yet (the bus does not keep order) fails so that it is retried; once it is older than
`UNSEEN_GRACE` it is counted as activity only, so an invoice issued before the counting began
never blocks it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.outbox import ANNOUNCEMENT_RESOURCE
from invoicing.adapters.report_counters import CountConflict, Fact, FactWrite, ReportCounters, Tally
from invoicing.domain.events import DetailType
from invoicing.domain.invoice import InvoiceKind
from invoicing.domain.order import Channel
from invoicing.domain.report_counts import (
    MINUTE,
    WITHIN_24H,
    WITHIN_48H,
    Counter,
    histogram_increments,
    keyed,
)
from invoicing.domain.validation import IssueCode

CONFLICT_ATTEMPTS = 5
"""A transaction that raced another event is counted again from fresh facts, this many times at most
(then the invocation fails and EventBridge retries it)."""
UNSEEN_GRACE = timedelta(minutes=15)
"""How long an event about an invoice not yet counted as issued is retried before it is counted
as activity only."""


class NotYetCounted(RuntimeError):
    """The invoice this event is about is not counted as issued yet: retry the event later."""


class CountOutcome(StrEnum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class CountedEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    detail_type: str
    outcome: CountOutcome


def _utc(value: Any) -> datetime:
    moment = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Tally:
    """A tally being built: facts to write and counters per day."""

    def __init__(self) -> None:
        self.facts: list[FactWrite] = []
        self.counts: dict[date, dict[str, Decimal]] = {}

    def add(self, day: date, counts: Mapping[str, Decimal | int | float]) -> None:
        bucket = self.counts.setdefault(day, {})
        for name, value in counts.items():
            bucket[name] = bucket.get(name, Decimal(0)) + Decimal(str(value))

    def mark(self, fact: Fact, mark: str, at: datetime) -> bool:
        """Set `mark` on the fact once; False when it is set already."""
        if mark in fact.marks:
            return False
        self.facts.append(FactWrite(key=fact.key, mark=mark, at=at))
        return True

    def first_for_invoice(self, fact: Fact | None, mark: str, at: datetime, counter: str) -> None:
        """Count `counter` on the invoice's issue day the first time `mark` happens to one of the
        period's invoices (a customer invoice for a completed order); nothing otherwise."""
        if fact is not None and fact.original and fact.issued_day and self.mark(fact, mark, at):
            self.add(fact.issued_day, {counter: 1})

    def done(self) -> Tally:
        return Tally(facts=self.facts, counts=self.counts)


class ReportCounting:
    def __init__(
        self, counters: ReportCounters, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._counters = counters
        self._clock = clock

    def count(self, event: Mapping[str, Any]) -> CountedEvent:
        """One EventBridge event (as a Lambda target receives it)."""
        detail_type = str(event.get("detail-type", ""))
        detail: Mapping[str, Any] = event.get("detail") or {}
        occurred = _utc(event.get("time") or self._clock())
        if detail_type == DetailType.RECONCILIATION_REPORT_READY:
            self._counters.set_reconciliation(date.fromisoformat(detail["day"]), detail.get("counts", {}))
            return CountedEvent(detail_type=detail_type, outcome=CountOutcome.COUNTED)
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            tally = self._tally(detail_type, detail, occurred)
            if tally is None or tally.empty:
                return CountedEvent(detail_type=detail_type, outcome=CountOutcome.IGNORED)
            try:
                first = self._counters.record(self._counted_id(event), tally, self._clock())
            except CountConflict:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.005, 0.02) * attempt)  # noqa: S311 (jitter, not security)
                continue
            outcome = CountOutcome.COUNTED if first else CountOutcome.DUPLICATE
            return CountedEvent(detail_type=detail_type, outcome=outcome)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _counted_id(event: Mapping[str, Any]) -> str:
        """The announcement's id (the same on every copy of it), else the event's own id."""
        for resource in event.get("resources") or []:
            if isinstance(resource, str) and resource.startswith(ANNOUNCEMENT_RESOURCE):
                return resource
        return f"event/{event.get('id')}"

    def _tally(self, detail_type: str, detail: Mapping[str, Any], occurred: datetime) -> Tally | None:  # noqa: PLR0911, PLR0912
        tally = _Tally()
        day = occurred.date()
        if detail_type == DetailType.INVOICE_ISSUED:
            return self._issued(detail, tally)
        if detail_type == DetailType.CREDIT_NOTE_ISSUED:
            return self._credit_note(detail, tally)
        if detail_type == DetailType.INVOICE_SENT:
            return self._sent(detail, tally, occurred)
        if detail_type == DetailType.INVOICE_LISTED:  # delivered to the account: a first send, no message
            listing = {**detail, "sent_at": detail.get("listed_at"), "channel": Channel.PORTAL.value}
            return self._sent(listing, tally, occurred, message=False)
        if detail_type in (
            DetailType.INVOICE_DELIVERED,
            DetailType.INVOICE_OPENED,
            DetailType.INVOICE_COMPLAINED,
        ):
            return self._outcome(detail_type, detail, tally, occurred)
        if detail_type == DetailType.INVOICE_DOWNLOADED:
            at = _utc(detail.get("downloaded_at") or occurred)
            tally.add(at.date(), {Counter.DOWNLOADS: 1})
            fact = self._fact_of(detail["invoice_number"], occurred, required=False)
            tally.first_for_invoice(fact, "downloaded", at, Counter.DOWNLOADED)
            return tally.done()
        if detail_type == DetailType.INVOICE_DELIVERY_FAILED:
            return self._failed(detail, tally, occurred)
        if detail_type == DetailType.INVOICE_VALIDATION_FAILED:
            return self._rejected(detail, tally, occurred)
        if detail_type == DetailType.INVOICE_CORRECTION_REJECTED:
            tally.add(_utc(detail.get("discovered_at") or occurred).date(), {Counter.CORRECTIONS_REFUSED: 1})
            return tally.done()
        if detail_type == DetailType.INVOICE_RESENT:
            channel = detail.get("channel")
            tally.add(
                _utc(detail.get("sent_at") or occurred).date(),
                {Counter.RESENDS: 1, Counter.SENDS: 1, **_channel_counts(channel)},
            )
            return tally.done()
        if detail_type == DetailType.INQUIRY_OPENED:
            opened = _utc(detail.get("opened_at") or occurred)
            category = str(detail.get("category", "other"))
            tally.add(opened.date(), {Counter.INQUIRIES: 1, keyed(Counter.INQUIRY_CATEGORY, category): 1})
            return tally.done()
        if detail_type == DetailType.INQUIRY_RESOLVED:
            seconds = float(detail.get("seconds_to_resolve") or 0)
            opened_at = detail.get("opened_at")
            resolved_on = (_utc(opened_at) + timedelta(seconds=seconds)).date() if opened_at else day
            tally.add(
                resolved_on,
                {
                    Counter.INQUIRIES_RESOLVED: 1,
                    Counter.INQUIRY_SECONDS: Decimal(str(round(seconds, 3))),
                    **histogram_increments(Counter.INQUIRY_HISTOGRAM, seconds),
                },
            )
            return tally.done()
        if detail_type == DetailType.INVOICE_FEEDBACK_GIVEN:
            answer = "yes" if detail.get("answer") == "yes" else "no"
            tally.add(
                _utc(detail.get("answered_at") or occurred).date(), {keyed(Counter.FEEDBACK, answer): 1}
            )
            return tally.done()
        if detail_type == DetailType.INVOICE_PAYMENT_RECORDED:
            return self._payment(detail, tally, occurred)
        if detail_type == DetailType.PAYMENT_UNMATCHED:
            tally.add(_utc(detail.get("recorded_at") or occurred).date(), {Counter.PAYMENTS_UNMATCHED: 1})
            return tally.done()
        if detail_type == DetailType.INVOICE_OVERDUE:
            since = detail.get("overdue_since")
            tally.add(date.fromisoformat(since[:10]) if since else day, {Counter.OVERDUE: 1})
            return tally.done()
        return None

    def _fact_of(self, invoice_number: str, occurred: datetime, *, required: bool) -> Fact | None:
        fact = self._counters.fact(f"INVOICE#{invoice_number}")
        if fact is None and required and self._clock() - occurred < UNSEEN_GRACE:
            raise NotYetCounted(f"{invoice_number} is not counted as issued yet")
        return fact

    def _issued(self, detail: Mapping[str, Any], tally: _Tally) -> Tally | None:
        number, kind = detail["invoice_number"], detail.get("kind")
        if self._counters.fact(f"INVOICE#{number}") is not None:
            return None  # counted already (an announcement made twice)
        issued_at = _utc(detail["issued_at"])
        original = kind == InvoiceKind.CUSTOMER and not detail.get("replaces")
        fact = Fact(
            key=f"INVOICE#{number}",
            kind=str(kind),
            issued_day=issued_at.date(),
            issued_at=issued_at,
            original=original,
            correction=kind == InvoiceKind.CUSTOMER and bool(detail.get("replaces")),
        )
        tally.facts.append(FactWrite(key=fact.key, create=fact))
        if kind == InvoiceKind.VENDOR:
            tally.add(issued_at.date(), {Counter.VENDOR_INVOICES: 1})
        elif not original:
            tally.add(issued_at.date(), {Counter.REVISED: 1})
        elif kind == InvoiceKind.CUSTOMER:
            counts: dict[str, Decimal | int | float] = {Counter.ISSUED: 1}
            completed = detail.get("order_completed_at")
            if completed:
                seconds = max(0.0, (issued_at - _utc(completed)).total_seconds())
                counts |= {
                    Counter.ISSUE_MEASURED: 1,
                    Counter.ISSUE_SECONDS: Decimal(str(round(seconds, 3))),
                    **histogram_increments(Counter.ISSUE_HISTOGRAM, seconds),
                }
            tally.add(issued_at.date(), counts)
        return tally.done()

    def _credit_note(self, detail: Mapping[str, Any], tally: _Tally) -> Tally | None:
        number = detail["invoice_number"]
        if (
            detail.get("kind") != InvoiceKind.CREDIT_NOTE
            or self._counters.fact(f"INVOICE#{number}") is not None
        ):
            return None  # a vendor's credit note (counted with its vendor), or counted already
        issued_at = _utc(detail["issued_at"])
        alone = not detail.get("replaced_by")
        fact = Fact(
            key=f"INVOICE#{number}",
            kind=InvoiceKind.CREDIT_NOTE.value,
            issued_day=issued_at.date(),
            issued_at=issued_at,
            original=False,
            correction=alone,
        )
        tally.facts.append(FactWrite(key=fact.key, create=fact))
        tally.add(issued_at.date(), {Counter.CREDIT_NOTES: 1, Counter.CORRECTIONS: 1})
        credited = detail.get("credits_invoice_number")
        target = self._counters.fact(f"INVOICE#{credited}") if credited else None
        tally.first_for_invoice(target, "corrected", issued_at, Counter.CORRECTED)
        return tally.done()

    def _sent(
        self, detail: Mapping[str, Any], tally: _Tally, occurred: datetime, *, message: bool = True
    ) -> Tally:
        sent_at = _utc(detail.get("sent_at") or occurred)
        if message:
            tally.add(sent_at.date(), {Counter.SENDS: 1, **_channel_counts(detail.get("channel"))})
        customer = detail.get("kind") in (InvoiceKind.CUSTOMER, InvoiceKind.CREDIT_NOTE)
        fact = self._fact_of(detail["invoice_number"], occurred, required=customer)
        if fact is None or fact.issued_day is None or not tally.mark(fact, "first_sent", sent_at):
            return tally.done()
        if fact.original:
            counts: dict[str, Decimal | int | float] = {Counter.FIRST_SENT: 1}
            if detail.get("channel") == Channel.EMAIL:
                counts[Counter.FIRST_EMAILED] = 1
            seconds = detail.get("seconds_since_completion")
            if seconds is not None:
                value = max(0.0, float(seconds))
                counts |= {
                    Counter.SEND_MEASURED: 1,
                    Counter.SEND_SECONDS: Decimal(str(round(value, 3))),
                    **histogram_increments(Counter.SEND_HISTOGRAM, value),
                }
                if value <= WITHIN_24H:
                    counts[Counter.SENT_WITHIN_24H] = 1
                if value <= MINUTE:
                    counts[Counter.SENT_WITHIN_MINUTE] = 1
            tally.add(fact.issued_day, counts)
        elif fact.correction and fact.issued_at is not None:
            seconds = max(0.0, (sent_at - fact.issued_at).total_seconds())
            counts = {
                Counter.CORRECTIONS_SENT: 1,
                **histogram_increments(Counter.CORRECTION_HISTOGRAM, seconds),
            }
            if seconds <= WITHIN_48H:
                counts[Counter.CORRECTIONS_WITHIN_48H] = 1
            tally.add(fact.issued_day, counts)
        return tally.done()

    def _outcome(
        self, detail_type: str, detail: Mapping[str, Any], tally: _Tally, occurred: datetime
    ) -> Tally:
        at = _utc(detail.get("occurred_at") or occurred)
        if detail_type == DetailType.INVOICE_COMPLAINED:
            tally.add(at.date(), {Counter.COMPLAINTS: 1})
            return tally.done()
        mark, counter = (
            ("delivered", Counter.DELIVERED)
            if detail_type == DetailType.INVOICE_DELIVERED
            else ("opened", Counter.OPENED)
        )
        fact = self._fact_of(detail["invoice_number"], occurred, required=False)
        if detail.get("channel", Channel.EMAIL) == Channel.EMAIL:
            tally.first_for_invoice(fact, mark, at, counter)
        return tally.done()

    def _failed(self, detail: Mapping[str, Any], tally: _Tally, occurred: datetime) -> Tally:
        at = _utc(detail.get("failed_at") or occurred)
        problems = detail.get("problems") or []
        if problems and problems[-1].get("channel") == Channel.EMAIL:
            tally.add(at.date(), {Counter.BOUNCES: 1})
        if detail.get("undeliverable", True) and not detail.get("vendor_id"):
            fact = self._fact_of(detail["invoice_number"], occurred, required=False)
            tally.first_for_invoice(fact, "undeliverable", at, Counter.UNDELIVERABLE)
        return tally.done()

    def _rejected(self, detail: Mapping[str, Any], tally: _Tally, occurred: datetime) -> Tally | None:
        order_id = detail["order_id"]
        if self._counters.fact(f"ORDER#{order_id}") is not None:
            return None  # the order was counted as rejected at its first failure
        at = _utc(detail.get("failed_at") or occurred)
        tally.facts.append(
            FactWrite(
                key=f"ORDER#{order_id}",
                create=Fact(key=f"ORDER#{order_id}", kind="REJECTED_ORDER", issued_day=at.date()),
            )
        )
        codes = {str(issue.get("code")) for issue in detail.get("issues") or []} - {
            IssueCode.MORE_ISSUES.value,
            "None",
        }
        tally.add(
            at.date(),
            {Counter.REJECTED: 1, **{keyed(Counter.REJECTION_CODE, code): 1 for code in sorted(codes)}},
        )
        return tally.done()

    def _payment(self, detail: Mapping[str, Any], tally: _Tally, occurred: datetime) -> Tally | None:
        at = _utc(detail.get("recorded_at") or occurred)
        kind, currency = str(detail.get("kind", "")), str(detail.get("currency", ""))
        amount = Decimal(str(detail.get("amount", "0")))
        if kind in ("payment.succeeded", "payment.partial"):
            tally.add(
                at.date(),
                {
                    keyed(Counter.PAYMENTS, str(detail.get("outcome", "matched"))): 1,
                    keyed(Counter.RECEIVED, currency): amount,
                },
            )
        elif kind == "payment.refunded":
            tally.add(at.date(), {keyed(Counter.REFUNDED, currency): amount})
        else:
            return None
        return tally.done()


def _channel_counts(channel: object) -> dict[str, Decimal | int | float]:
    if channel == Channel.EMAIL:
        return {Counter.EMAILS: 1}
    if channel == Channel.SMS:
        return {Counter.TEXTS: 1}
    return {}
