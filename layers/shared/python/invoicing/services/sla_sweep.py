"""The SLA sweep: find what is late or stuck, push it through, tell people what needs them.

One tick:
1. Orders-stream batches the generator gave up on (its on-failure queue: retries exhausted or
   records too old). Their orders are read back from the stream by sequence number and issued now
   from the current order item, through the same `InvoiceIssuer` as the stream, so the numbering's
   claims keep each order to one invoice. The Orders table is only read by key.
2. The sparse `sweep` index, kind by kind:
   - INVOICE_UNSENT: numbered but not issued -> issue it (same number); issued but not sent ->
     `InvoiceDeliveryDue` for the dispatcher (whose claims keep it to one email);
   - EMAIL_RETRY: the soft-bounce retry is due -> `InvoiceDeliveryDue`;
   - DELIVERY_IN_DOUBT, VALIDATION_FAILURE, UNDELIVERABLE: need a person -> reminded.
   An entry is taken for this tick by pushing its due time back (a conditional write), so
   overlapping sweeps do not act on it twice; retries back off, and after `MAX_REDRIVES` the
   entry is only reminded.
3. One digest to the operations topic: what needs a person, and what is about to miss 24 hours.

The report carries the backlog per kind (count and oldest age) for the metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.operations_alerts import OperationsAlerts
from invoicing.adapters.stream_failures import StreamFailures, StreamRecordsGone
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.events import DetailType
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.sla import (
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


class SweepPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    grace: timedelta = timedelta(minutes=2)
    """How long the normal path gets before the sweep steps in."""
    in_doubt_after: timedelta = timedelta(minutes=10)
    warning: timedelta = timedelta(hours=20)
    reminder_interval: timedelta = timedelta(hours=24)


class KindReport(BaseModel):
    count: int = 0
    oldest_age_seconds: float = 0.0
    redriven: int = 0
    failed: int = 0


class SweepReport(BaseModel):
    started_at: datetime
    kinds: dict[SweepKind, KindReport] = Field(default_factory=dict)
    at_risk: int = 0
    reminders: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def kind(self, kind: SweepKind) -> KindReport:
        return self.kinds.setdefault(kind, KindReport())


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
        alerts: OperationsAlerts,
        policy: SweepPolicy,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._index = index
        self._stream_failures = stream_failures
        self._load_order = load_order
        self._issuer = issuer
        self._ledger = ledger
        self._events = events
        self._alerts = alerts
        self._policy = policy
        self._clock = clock

    def sweep(self) -> SweepReport:
        now = self._clock()
        report = SweepReport(started_at=now)
        self._sweep_failed_stream_batches(now, report)
        for kind in SweepKind:
            if kind is not SweepKind.ORDER_UNINVOICED:
                self._sweep_kind(kind, now, report)
        self._tell_operations(report)
        return report

    # --- 1. orders whose invoice never came ---------------------------------------------------

    def _sweep_failed_stream_batches(self, now: datetime, report: SweepReport) -> None:
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
                report.reminders.append(
                    f"ORDER_UNINVOICED stream records {batch.start_sequence}..{batch.end_sequence} "
                    f"({batch.condition}, first arrived {since.isoformat()}) are no longer in the stream: "
                    "find the orders completed then that have no invoice, and touch them"
                )
                self._stream_failures.postpone(batch, int(self._policy.reminder_interval.total_seconds()))
                continue
            try:
                for order_id in order_ids:
                    result = self._issuer.handle_order_change(
                        "INSERT", order_id, None, self._load_order(order_id)
                    )
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

    # --- 2. the sweep index ---------------------------------------------------------------------

    def _sweep_kind(self, kind: SweepKind, now: datetime, report: SweepReport) -> None:
        entries = self._index.backlog(kind)
        summary = report.kind(kind)
        summary.count = len(entries)
        summary.oldest_age_seconds = max(((now - e.since).total_seconds() for e in entries), default=0.0)
        grace = self._policy.in_doubt_after if kind is SweepKind.DELIVERY_IN_DOUBT else self._policy.grace
        for entry in entries:
            if sla_at_risk(entry, now, self._policy.warning):
                report.at_risk += 1
            if should_warn(entry, now, self._policy.warning):
                self._index.stamp(entry, "warned_at", now)
                report.warnings.append(_describe(entry, now))
            if should_redrive(entry, now, grace):
                if not self._index.reschedule(entry, now + backoff(entry.attempts)):
                    continue  # an overlapping sweep took it
                try:
                    self._redrive(entry)
                except Exception:
                    # Already rescheduled with backoff: the next tick retries; the others go on.
                    logger.exception("re-drive failed", kind=kind.value, key=entry.pk)
                    summary.failed += 1
                else:
                    summary.redriven += 1
            elif should_remind(entry, now, grace, self._policy.reminder_interval):
                self._index.stamp(entry, "reminded_at", now)
                report.reminders.append(_describe(entry, now))

    def _redrive(self, entry: BacklogEntry) -> None:
        number = entry.pk.removeprefix("INVOICE#")
        record, announcement = self._ledger.get_invoice_and_announcement(number)
        if record is None:
            raise LookupError(f"{entry.pk} is in the sweep index but has no invoice record")
        if record.status is not InvoiceStatus.ISSUED:
            self._finish_issuing(record.kind, record.order_id)
            logger.warning("invoice stuck before issue; completing it", invoice_number=number)
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

    def _finish_issuing(self, kind: InvoiceKind, order_id: str) -> None:
        if kind is InvoiceKind.CUSTOMER:
            item = self._load_order(order_id)
            if item is None:
                raise LookupError(f"order {order_id} is not in the Orders table")
            self._issuer.issue(order_id, item)  # keeps the number it was given
            return
        # A vendor invoice: the vendor invoicer finishes it from the customer invoice's announcement.
        customer = self._ledger.find_by_order(order_id)
        announcement = self._ledger.issued_announcement(customer.invoice_number) if customer else None
        if announcement is None:
            raise LookupError(f"order {order_id}'s customer invoice is not issued")
        self._events.publish(DetailType.VENDOR_INVOICES_DUE, announcement, resources=[f"order/{order_id}"])

    # --- 3. people ------------------------------------------------------------------------------

    def _tell_operations(self, report: SweepReport) -> None:
        if not report.reminders and not report.warnings:
            return
        lines = []
        if report.warnings:
            lines += ["About to miss the 24-hour target:", *(f"  - {w}" for w in report.warnings), ""]
        if report.reminders:
            lines += ["Needs a person:", *(f"  - {r}" for r in report.reminders), ""]
        lines.append("Runbook: README, 'Operate' -> 'SLA sweep'.")
        count = len(report.warnings) + len(report.reminders)
        self._alerts.publish(f"SayPro invoicing: {count} item(s) need attention", "\n".join(lines))


_ACTIONS = {
    SweepKind.INVOICE_UNSENT: "not delivered yet",
    SweepKind.EMAIL_RETRY: "email soft-bounced, retrying",
    SweepKind.DELIVERY_IN_DOUBT: "send in doubt: check SES before sending again by hand",
    SweepKind.VALIDATION_FAILURE: "order cannot be invoiced until the storefront corrects it",
    SweepKind.UNDELIVERABLE: "no channel left: reach the customer",
}


def _describe(entry: BacklogEntry, now: datetime) -> str:
    subject = entry.invoice_number or entry.order_id or entry.pk
    hours = (now - entry.clock_started_at).total_seconds() / 3600
    return f"{entry.kind.value} {subject}: {_ACTIONS.get(entry.kind, '')} ({hours:.1f} h)"
