"""The console's operations and finance picture (GET /operations/overview): the SLA backlog and
what is at risk, the orders that cannot be invoiced until the storefront fixes them, the payments
nobody could match, and this week's figures against their targets.

Staff only (roles operations, finance and support); a customer or vendor gets 403 before anything
is read. Every part is a bounded read: the sweep index by kind (at most `LISTED` entries listed,
every one counted up to `COUNTED_UP_TO`), the last two days' payment partitions, and the week's
counters (a few items per day).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.report_counters import ReportCounters
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.operations_report import ReportPeriod, ReportTargets, build_report
from invoicing.domain.payment_matching import MatchOutcome
from invoicing.domain.sla import SweepKind
from invoicing.services.invoice_listing import STAFF, Caller, NotAllowed

LISTED = 50
COUNTED_UP_TO = 10_000
AT_RISK_AFTER = timedelta(hours=20)
"""An invoice still unsent this long after its order completed is at risk of the 24-hour target."""
WEEK_FIGURES = (
    "invoices_issued",
    "orders_rejected",
    "accuracy_pct",
    "send_seconds_p95",
    "sent_within_24h_pct",
    "corrections_within_48h_pct",
    "delivery_success_pct",
    "bounce_rate_pct",
)


class BacklogCount(BaseModel):
    kind: str
    count: int
    oldest_since: datetime | None = None


class OpenFailure(BaseModel):
    order_id: str
    since: datetime
    attempts: int


class UnmatchedPayment(BaseModel):
    event_id: str
    kind: str
    amount: str
    currency: str
    recorded_at: datetime
    reasons: list[str] = Field(description="the reasons' codes")


class WeekFigure(BaseModel):
    key: str
    label: str
    shown: str
    target: str
    status: str


class OperationsOverview(BaseModel):
    model_config = ConfigDict(frozen=True)

    generated_at: datetime
    backlog: list[BacklogCount]
    at_risk: int = Field(description="invoices unsent 20 hours or more after their order completed")
    validation_failures: list[OpenFailure] = Field(description=f"the oldest {LISTED} orders to fix")
    unmatched_payments: list[UnmatchedPayment] = Field(description="today's and yesterday's")
    week: str
    week_figures: list[WeekFigure]
    daily_issued: list[tuple[str, int]]


class OperationsDesk:
    def __init__(
        self,
        *,
        index: SweepIndex,
        payments: PaymentLedger,
        counters: ReportCounters,
        targets: ReportTargets,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._index = index
        self._payments = payments
        self._counters = counters
        self._targets = targets
        self._clock = clock

    def overview(self, caller: Caller) -> OperationsOverview:
        if caller.role not in STAFF:
            raise NotAllowed
        now = self._clock()
        backlog: list[BacklogCount] = []
        at_risk = 0
        failures: list[OpenFailure] = []
        for kind in SweepKind:
            if kind is SweepKind.ORDER_UNINVOICED:
                continue  # not in the index (the generator's on-failure queue, alarmed)
            count, oldest = 0, None
            for page in self._index.backlog(kind):
                for entry in page:
                    count += 1
                    oldest = entry.since if oldest is None else min(oldest, entry.since)
                    completed = entry.order_completed_at
                    if kind is SweepKind.INVOICE_UNSENT and completed and now - completed >= AT_RISK_AFTER:
                        at_risk += 1
                    if kind is SweepKind.VALIDATION_FAILURE and entry.order_id and len(failures) < LISTED:
                        failures.append(
                            OpenFailure(order_id=entry.order_id, since=entry.since, attempts=entry.attempts)
                        )
                if count >= COUNTED_UP_TO:
                    break
            backlog.append(BacklogCount(kind=kind.value, count=count, oldest_since=oldest))
        unmatched = [
            UnmatchedPayment(
                event_id=payment.event_id,
                kind=payment.kind,
                amount=payment.amount,
                currency=payment.currency,
                recorded_at=payment.recorded_at,
                reasons=[reason.code for reason in payment.reasons],
            )
            for day in (now.date(), now.date() - timedelta(days=1))
            for payment in self._payments.day(day)
            if payment.outcome == MatchOutcome.UNMATCHED
        ][:LISTED]
        week = ReportPeriod.week_of(now.date())
        report = build_report(week, self._counters.days(week.days()), self._targets, now)
        figures = [report.figure(key) for key in WEEK_FIGURES]
        return OperationsOverview(
            generated_at=now,
            backlog=backlog,
            at_risk=at_risk,
            validation_failures=sorted(failures, key=lambda f: f.since),
            unmatched_payments=unmatched,
            week=f"{week.title}, to date",
            week_figures=[
                WeekFigure(key=f.key, label=f.label, shown=f.shown, target=f.target, status=f.status.value)
                for f in figures
            ],
            daily_issued=[(row.day.isoformat(), row.issued) for row in report.daily],
        )
