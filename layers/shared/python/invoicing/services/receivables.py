"""The receivables tick (scheduled): reminders asked for, invoices marked overdue, refunds credited.

It takes from the sweep index what is due by now, of two kinds that are scheduled money work
rather than SLA problems:

* `PAYMENT_DUE`, one per pay-later invoice still owed something: at each stage of the reminder
  policy the tick asks the dispatcher for that stage (`PaymentReminderDue`, the dispatcher sends it
  once); the day after the due date it marks the invoice overdue and announces `InvoiceOverdue`
  (finance hears of it). Once the invoice is paid, credited or replaced the item goes: no more
  reminders. An entry is taken by moving its due time first, so of two overlapping ticks one acts.
* `REFUND_UNCREDITED`, a refund that gave back money for what its invoice still bills: once the
  grace has passed, what no credit note has covered meanwhile (the storefront's own correction
  normally does) is credited by amount, through the corrections path, and the refund stops
  awaiting its credit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from pydantic import BaseModel

from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.credit_note import CreditReason
from invoicing.domain.events import DetailType, PaymentReminderDue
from invoicing.domain.money import format_money
from invoicing.domain.payment_reminders import ReminderPolicy, overdue_from, skipped_by
from invoicing.domain.receivables import PaymentState
from invoicing.domain.sla import BacklogEntry, SweepKind
from invoicing.observability import logger
from invoicing.services.invoice_corrections import InvoiceCorrector

TAKE_FOR = timedelta(minutes=15)
"""An entry taken is due again after this if the tick dies before it is done with it."""
RECHECK_OWED = timedelta(days=7)
"""Every stage reminded and still owed: looked at again weekly (it stays listed as overdue)."""


class TickReport(BaseModel):
    reminders_requested: int = 0
    marked_overdue: int = 0
    stopped: int = 0
    """Reminders that stopped: the invoice was paid, credited or replaced."""
    refunds_credited: int = 0
    refunds_covered: int = 0
    """Refunds a credit note had already covered (the storefront's correction): nothing issued."""
    failed: int = 0


class ReceivablesTick:
    def __init__(
        self,
        *,
        index: SweepIndex,
        ledger: InvoiceLedger,
        payments: PaymentLedger,
        events: EventPublisher,
        corrector: InvoiceCorrector,
        policy: ReminderPolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._index = index
        self._ledger = ledger
        self._payments = payments
        self._events = events
        self._corrector = corrector
        self._policy = policy
        self._clock = clock

    def tick(self, seconds_left: Callable[[], float] = lambda: 900.0) -> TickReport:
        now = self._clock()
        report = TickReport()
        for kind, act in (
            (SweepKind.PAYMENT_DUE, self._payment_due),
            (SweepKind.REFUND_UNCREDITED, self._refund_uncredited),
        ):
            for page in self._index.due(kind, now):
                for entry in page:
                    if seconds_left() < 10:
                        logger.warning("receivables tick out of time; the rest is first next tick")
                        return report
                    if not self._index.reschedule(entry, now + TAKE_FOR):
                        continue  # an overlapping tick took it
                    try:
                        act(entry, now, report)
                    except Exception:
                        logger.exception("receivables entry failed", kind=kind.value, key=entry.pk)
                        report.failed += 1
        return report

    # --- reminders and overdue ------------------------------------------------------------------

    def _payment_due(self, entry: BacklogEntry, now: datetime, report: TickReport) -> None:
        number = entry.pk.removeprefix("INVOICE#")
        record = self._ledger.get_invoice(number)
        item = self._payments.payment_due(number) or {}
        if record is None or not record.is_owed(now.date()):  # paid, credited or replaced
            self._payments.stop_reminders(number)
            report.stopped += 1
            return
        due = record.due_date
        if due is None:
            self._payments.stop_reminders(number)
            return
        late = now.date() >= overdue_from(due) and record.payment_state is not PaymentState.OVERDUE
        if late and self._payments.mark_overdue(record, now):
            report.marked_overdue += 1
        done = set(item.get("reminders", []))
        stage = self._policy.due_stage(due, done, now)
        if stage is not None:
            self._events.publish(
                DetailType.PAYMENT_REMINDER_DUE,
                PaymentReminderDue(invoice_number=number, stage=stage.value, due_date=due.isoformat()),
                resources=[f"invoice/{number}", f"order/{record.order_id}"],
            )
            done |= {stage.value, *(s.value for s in skipped_by(stage))}
            report.reminders_requested += 1
        self._payments.schedule_reminders(number, sorted(done), self._next_action(due, done, record, now))

    def _next_action(self, due: date, done: set[str], record: InvoiceRecord, now: datetime) -> datetime:
        moments = [m for m in [self._policy.next_reminder(due, done)] if m is not None]
        if record.payment_state is not PaymentState.OVERDUE:
            moments.append(datetime.combine(overdue_from(due), time(0, 5), tzinfo=UTC))
        later = [m for m in moments if m > now]
        return min(later) if later else now + RECHECK_OWED

    # --- refunds awaiting their credit note -------------------------------------------------------

    def _refund_uncredited(self, entry: BacklogEntry, now: datetime, report: TickReport) -> None:
        item = self._payments.refund_credit(entry.pk, entry.sk)
        if item is None or item.get("settled"):
            return
        amount = Decimal(str(item["amount"]))
        event_id = str(item["event_id"])
        record = self._ledger.get_invoice(entry.pk.removeprefix("INVOICE#"))
        if record is None:
            raise LookupError(f"{entry.pk} has no invoice record")
        uncovered = self._uncovered(record, amount)
        if uncovered > 0:
            self._corrector.credit_amount(
                record,
                uncovered,
                f"refund|{event_id}",
                reason=CreditReason.REFUNDED,
                reason_text=f"refunded {format_money(uncovered, record.currency)} by the payment provider",
                settles_refund=amount,
            )
            report.refunds_credited += 1
            logger.warning(
                "refund credited by amount: no credit note had covered it",
                invoice_number=record.invoice_number,
                event_id=event_id,
                amount=str(uncovered),
            )
        else:
            self._payments.settle_awaiting_credit(record, amount, now)
            report.refunds_covered += 1
        self._payments.settle_refund_credit(entry.pk, entry.sk)

    @staticmethod
    def _uncovered(record: InvoiceRecord, amount: Decimal) -> Decimal:
        """What of the refund still gives back money for what the invoice bills, once the credit
        notes issued since (the storefront's return) are counted."""
        receivable = record.receivable()
        without = receivable.model_copy(
            update={"awaiting_credit": max(Decimal(0), receivable.awaiting_credit - amount)}
        )
        return min(amount, max(Decimal(0), without.balance_due))
