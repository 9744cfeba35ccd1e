"""The SLA sweep: find what is late or stuck, push it through, tell people what needs them.

One tick:
1. Orders-stream batches the generator gave up on (its on-failure queue: retries exhausted or
   records too old). Their orders are read back from the stream by sequence number and reconciled
   from the current order item, through the same `InvoiceIssuer` as the stream: issued if they have
   no invoice yet, corrected if their invoice no longer says what the order bills (the claims and
   correction ids keep each to one invoice, one correction). The Orders table is only read by key.
2. The sparse `sweep` index, every entry of every kind (no cap; the cost follows the backlog):
   - INVOICE_UNSENT: numbered but not issued -> completed from its frozen document (same number,
     same content); issued but not sent -> `InvoiceDeliveryDue` for the dispatcher;
   - EMAIL_RETRY: the soft-bounce retry is due -> `InvoiceDeliveryDue`;
   - EVENT_UNPUBLISHED: an outbox entry the publisher has not confirmed -> published;
   - VENDOR_INVOICES_DUE: vendor invoices not all issued -> `VendorInvoicesDue`;
   - DELIVERY_IN_DOUBT, VALIDATION_FAILURE, UNDELIVERABLE: need a person -> reminded.
   An entry is taken for this tick by pushing its due time back (a conditional write), so
   overlapping sweeps do not act on it twice; retries back off, and after `MAX_REDRIVES` the
   entry is only reminded. Re-drives take turns across kinds, oldest due first, until the tick's
   time runs short; what was not reached is due first next tick.
3. One digest to the operations topic: what needs a person, and what is about to miss 24 hours
   (`domain/operations_digest.py`). Items are marked reminded or warned only once the digest
   that lists them is published; if publishing fails, the next tick lists them again.

The report carries the backlog per kind (count and oldest age) for the metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from invoicing.adapters.correction_ledger import ALLOCATED, CorrectionLedger
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.operations_alerts import OperationsAlerts
from invoicing.adapters.outbox import Outbox
from invoicing.adapters.stream_failures import FailedStreamBatch, StreamFailures, StreamRecordsGone
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.events import DetailType
from invoicing.domain.invoice import InvoiceStatus
from invoicing.domain.operations_digest import DigestItem, build_digest
from invoicing.domain.sla import (
    MAX_REDRIVES,
    NEVER_GIVEN_UP,
    PAYMENT_KINDS,
    BacklogEntry,
    SweepKind,
    backoff,
    should_redrive,
    should_remind,
    should_warn,
    sla_at_risk,
)
from invoicing.observability import logger
from invoicing.services.invoice_issuing import InvoiceIssuer

INDEX_KINDS = [
    kind for kind in SweepKind if kind is not SweepKind.ORDER_UNINVOICED and kind not in PAYMENT_KINDS
]
TIME_RESERVE_SECONDS = 15.0
"""Kept back from re-driving for the digest and the metrics at the end of the tick."""


class SweepPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    grace: timedelta = timedelta(minutes=2)
    """How long the normal path gets before the sweep steps in."""
    in_doubt_after: timedelta = timedelta(minutes=10)
    warning: timedelta = timedelta(hours=20)
    reminder_interval: timedelta = timedelta(hours=24)
    digest_max_items: int = 100
    """Items listed one by one in a digest; the rest are summarized and listed by the next ticks."""
    invoices_table: str = "<InvoicesTableName>"
    """Named in the commands the digest gives people to run."""


class KindReport(BaseModel):
    count: int = 0
    oldest_age_seconds: float = 0.0
    redriven: int = 0
    failed: int = 0
    deferred: int = 0
    """Due, but the tick ran out of time before reaching it (first in line next tick)."""
    settled_seconds: list[float] = Field(default_factory=list)
    """CORRECTION_PENDING: discovery -> sent, for each correction found sent this tick."""


class SweepReport(BaseModel):
    started_at: datetime
    kinds: dict[SweepKind, KindReport] = Field(default_factory=dict)
    at_risk: int = 0
    reminders: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    digest_published: bool = True
    """False when the digest could not be published: nothing was marked, the next tick retries."""

    def kind(self, kind: SweepKind) -> KindReport:
        return self.kinds.setdefault(kind, KindReport())


@dataclass
class _Pending:
    """What the digest would tell people, and how to mark each item once it has."""

    items: list[DigestItem] = field(default_factory=list)
    acknowledge: list[Callable[[], None]] = field(default_factory=list)

    def add(self, item: DigestItem, acknowledge: Callable[[], None]) -> None:
        self.items.append(item)
        self.acknowledge.append(acknowledge)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SlaSweeper:
    def __init__(
        self,
        *,
        index: SweepIndex,
        stream_failures: StreamFailures,
        load_order: Callable[[str], Mapping[str, Any] | None],
        issuer: InvoiceIssuer,
        ledger: InvoiceLedger,
        events: EventPublisher,
        outbox: Outbox,
        alerts: OperationsAlerts,
        policy: SweepPolicy,
        clock: Callable[[], datetime] = _utc_now,
        corrections: CorrectionLedger | None = None,
    ) -> None:
        self._corrections = corrections or CorrectionLedger(ledger.table_name, ledger)
        self._index = index
        self._stream_failures = stream_failures
        self._load_order = load_order
        self._issuer = issuer
        self._ledger = ledger
        self._events = events
        self._outbox = outbox
        self._alerts = alerts
        self._policy = policy
        self._clock = clock

    def sweep(self, seconds_left: Callable[[], float] = lambda: math.inf) -> SweepReport:
        now = self._clock()
        report = SweepReport(started_at=now)
        pending = _Pending()
        self._sweep_failed_stream_batches(now, report, pending)
        due: dict[SweepKind, list[BacklogEntry]] = {}
        for kind in INDEX_KINDS:
            due[kind] = self._survey_kind(kind, now, report, pending)
        self._redrive_in_turns(due, now, report, seconds_left)
        self._tell_operations(report, pending)
        return report

    # --- 1. orders whose invoice never came ---------------------------------------------------

    def _sweep_failed_stream_batches(self, now: datetime, report: SweepReport, pending: _Pending) -> None:
        summary = report.kind(SweepKind.ORDER_UNINVOICED)
        for batch in self._stream_failures.pending():
            summary.count += 1
            since = batch.first_arrival or batch.failed_at or now
            summary.oldest_age_seconds = max(summary.oldest_age_seconds, (now - since).total_seconds())
            if now - since >= self._policy.warning:
                report.at_risk += 1
            try:
                order_ids = self._stream_failures.order_ids(batch)
            except StreamRecordsGone:
                pending.add(
                    DigestItem(
                        kind=SweepKind.ORDER_UNINVOICED.value,
                        text=f"ORDER_UNINVOICED stream records {batch.start_sequence}.."
                        f"{batch.end_sequence} ({batch.condition}, first arrived {since.isoformat()}) are no "
                        "longer in the stream: find the orders completed then that have no invoice, "
                        "and touch them",
                    ),
                    self._postpone(batch),
                )
                continue
            try:
                for order_id in order_ids:
                    result = self._issuer.reconcile(order_id, self._load_order(order_id))
                    if result is not None:
                        logger.warning(
                            "order from a failed stream batch handled by the sweep",
                            order_id=order_id,
                            outcome=result.outcome.value,
                            invoice_number=result.invoice_number,
                        )
            except Exception:
                # The batch stays queued (its alarm stays on) and comes back after a backoff.
                logger.exception("re-driving a failed stream batch failed", sequence=batch.start_sequence)
                summary.failed += 1
                self._stream_failures.postpone(batch, int(backoff(summary.failed).total_seconds()))
                continue
            summary.redriven += 1
            self._stream_failures.settle(batch)

    def _postpone(self, batch: FailedStreamBatch) -> Callable[[], None]:
        seconds = int(self._policy.reminder_interval.total_seconds())
        return lambda: self._stream_failures.postpone(batch, seconds)

    # --- 2. the sweep index ---------------------------------------------------------------------

    def _survey_kind(
        self, kind: SweepKind, now: datetime, report: SweepReport, pending: _Pending
    ) -> list[BacklogEntry]:
        """Count the whole backlog of a kind, queue what people must hear, return what to re-drive."""
        summary = report.kind(kind)
        grace = self._policy.in_doubt_after if kind is SweepKind.DELIVERY_IN_DOUBT else self._policy.grace
        redrive: list[BacklogEntry] = []
        for page in self._index.backlog(kind):
            for entry in page:
                summary.count += 1
                summary.oldest_age_seconds = max(
                    summary.oldest_age_seconds, (now - entry.since).total_seconds()
                )
                if sla_at_risk(entry, now, self._policy.warning):
                    report.at_risk += 1
                if should_warn(entry, now, self._policy.warning):
                    pending.add(
                        DigestItem(
                            kind=kind.value,
                            text=_describe(entry, now, self._policy.invoices_table),
                            urgent=True,
                        ),
                        self._stamp(entry, "warned_at", now),
                    )
                if should_redrive(entry, now, grace):
                    redrive.append(entry)
                    if entry.kind not in NEVER_GIVEN_UP or entry.attempts < MAX_REDRIVES:
                        continue
                if should_remind(entry, now, grace, self._policy.reminder_interval):
                    # Still re-driven (NEVER_GIVEN_UP): keep its backoff; else wait for the next reminder.
                    next_due = None if entry.kind in NEVER_GIVEN_UP else now + self._policy.reminder_interval
                    pending.add(
                        DigestItem(kind=kind.value, text=_describe(entry, now, self._policy.invoices_table)),
                        self._stamp(entry, "reminded_at", now, next_due),
                    )
        return redrive

    def _stamp(
        self, entry: BacklogEntry, name: str, now: datetime, due_at: datetime | None = None
    ) -> Callable[[], None]:
        return lambda: self._index.stamp(entry, name, now, due_at)

    def _redrive_in_turns(
        self,
        due: dict[SweepKind, list[BacklogEntry]],
        now: datetime,
        report: SweepReport,
        seconds_left: Callable[[], float],
    ) -> None:
        """One entry of each kind in turn, soonest due first, while the tick has time."""
        queues = {kind: iter(entries) for kind, entries in due.items() if entries}
        while queues:
            for kind in list(queues):
                entry = next(queues[kind], None)
                if entry is None:
                    del queues[kind]
                    continue
                if seconds_left() < TIME_RESERVE_SECONDS:
                    for remaining_kind, remaining in queues.items():
                        report.kind(remaining_kind).deferred += 1 + sum(1 for _ in remaining)
                    logger.warning("sweep tick out of time; the rest is first next tick")
                    return
                self._take_and_redrive(entry, now, report.kind(kind))

    def _take_and_redrive(self, entry: BacklogEntry, now: datetime, summary: KindReport) -> None:
        if not self._index.reschedule(entry, now + backoff(entry.attempts)):
            return  # an overlapping sweep took it
        try:
            if entry.kind is SweepKind.CORRECTION_PENDING:
                acted = self._push_correction(entry, summary)
            else:
                self._redrive(entry, now)
                acted = True
        except Exception:
            # Already rescheduled with backoff: the next tick retries; the others go on.
            logger.exception("re-drive failed", kind=entry.kind.value, key=entry.pk)
            summary.failed += 1
        else:
            summary.redriven += int(acted)

    def _redrive(self, entry: BacklogEntry, now: datetime) -> None:
        if entry.kind is SweepKind.EVENT_UNPUBLISHED:
            outbox_entry, published = self._outbox.get(entry.pk, entry.sk)
            if outbox_entry is not None and not published:
                self._outbox.publish(outbox_entry, now)
                logger.warning(
                    "outbox entry published by the sweep", key=entry.pk, detail_type=outbox_entry.detail_type
                )
            return
        if entry.kind is SweepKind.VENDOR_INVOICES_DUE:
            self._ask_for_vendor_invoices(entry)
            return
        number = entry.pk.removeprefix("INVOICE#")
        record, announcement = self._ledger.get_invoice_and_announcement(number)
        if record is None:
            raise LookupError(f"{entry.pk} is in the sweep index but has no invoice record")
        if record.status is not InvoiceStatus.ISSUED:
            self._issuer.complete_numbered(record)  # from its frozen document: same number, same content
            logger.warning("invoice stuck before issue; completed it", invoice_number=number)
            return
        if announcement is None:
            raise LookupError(f"{number} is ISSUED but its announcement was not kept")
        self._events.publish(
            DetailType.INVOICE_DELIVERY_DUE,
            announcement,
            resources=[f"invoice/{number}", f"order/{record.order_id}"],
        )
        logger.warning(
            "invoice not delivered yet; delivery re-driven", invoice_number=number, kind=entry.kind
        )

    def _push_correction(self, entry: BacklogEntry, summary: KindReport) -> bool:
        """Finish what a correction numbered, and stop its 48-hour clock once it has been sent.
        False when there was nothing to do yet (its documents are out, not yet sent): a check."""
        correction = self._corrections.get_correction(
            entry.order_id or "", entry.sk.removeprefix("CORRECTION#")
        )
        if correction is None or correction.status != ALLOCATED:
            return False
        acted = False
        for number in (correction.credit_note_number, correction.revised_invoice_number):
            record = self._ledger.get_invoice(number) if number else None
            if record is not None and record.status is not InvoiceStatus.ISSUED:
                self._issuer.complete_numbered(record)
                logger.warning("correction stuck before issue; completed it", number=number)
                acted = True
        # Its delivery is re-driven by the INVOICE_UNSENT entry of what the customer must receive.
        sent_at = self._corrections.sent_at(correction.delivered_document or "")
        if sent_at is not None and self._corrections.settle(
            correction.order_id, correction.correction_id, sent_at
        ):
            summary.settled_seconds.append((sent_at - correction.discovered_at).total_seconds())
            acted = True
        return acted

    def _ask_for_vendor_invoices(self, entry: BacklogEntry) -> None:
        number = entry.invoice_number or ""
        announcement = self._ledger.issued_announcement(number)
        if announcement is None:
            raise LookupError(f"{entry.pk}: customer invoice {number} has no issued announcement")
        self._events.publish(
            DetailType.VENDOR_INVOICES_DUE, announcement, resources=[f"order/{announcement.order_id}"]
        )
        logger.warning("vendor invoices not all issued; asked again", order_id=announcement.order_id)

    # --- 3. people ------------------------------------------------------------------------------

    def _tell_operations(self, report: SweepReport, pending: _Pending) -> None:
        report.warnings = [item.text for item in pending.items if item.urgent]
        report.reminders = [item.text for item in pending.items if not item.urgent]
        backlog = {kind.value: summary.count for kind, summary in report.kinds.items()}
        digest = build_digest(pending.items, backlog, self._policy.digest_max_items)
        if digest is None:
            return
        try:
            self._alerts.publish(digest.subject, digest.text)
        except Exception:
            # Nothing is marked: every item is in the next tick's digest again.
            logger.exception(
                "operations digest not published; the next tick retries it", items=len(pending.items)
            )
            report.digest_published = False
            return
        for index in digest.listed:
            try:
                pending.acknowledge[index]()
            except Exception:
                # Told, but not marked: it may be told once more. Better than not at all.
                logger.exception("could not mark a reminded item", kind=pending.items[index].kind)


_ACTIONS = {
    SweepKind.INVOICE_UNSENT: "not delivered yet",
    SweepKind.EMAIL_RETRY: "email soft-bounced, retrying",
    SweepKind.DELIVERY_IN_DOUBT: (
        "send in doubt: the provider never confirmed it; settle it (README, 'Sends in doubt') "
        "before sending again by hand"
    ),
    SweepKind.VALIDATION_FAILURE: "order cannot be invoiced until the storefront corrects it",
    SweepKind.UNDELIVERABLE: "no channel left: reach the customer",
    SweepKind.EVENT_UNPUBLISHED: "announcement not confirmed on the bus; publishing keeps failing",
    SweepKind.VENDOR_INVOICES_DUE: "vendor invoices not all issued (a vendor not in the Vendors table?)",
    SweepKind.CORRECTION_PENDING: (
        "corrected invoice not sent yet: the 48-hour target runs from the correction's discovery; "
        "read the dispatcher's and the sweeper's logs"
    ),
}


def _describe(entry: BacklogEntry, now: datetime, table: str) -> str:
    subject = entry.invoice_number or entry.order_id or entry.pk
    hours = (now - entry.clock_started_at).total_seconds() / 3600
    action = _ACTIONS.get(entry.kind, "")
    if entry.kind is SweepKind.INVOICE_UNSENT and entry.status in {
        InvoiceStatus.NUMBERED.value,
        InvoiceStatus.STORED.value,
    }:
        action = (
            f"number allocated but the invoice is not issued ({entry.status}): the number is spent and "
            "completing it from its frozen document keeps failing; read the sweeper's logs"
        )
    if entry.kind is SweepKind.DELIVERY_IN_DOUBT:
        number = entry.pk.removeprefix("INVOICE#")
        action += (
            f"; then: .venv/bin/python -m ops.settle_send {number} '{entry.sk}' --sent|--not-sent "
            f"--note '<what you checked>' --table {table}"
        )
    return f"{entry.kind.value} {subject}: {action} ({hours:.1f} h)"
