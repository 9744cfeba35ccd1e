"""The daily reconciliation report (and on demand for any day): built, stored, linked, announced.

Reads only what is recorded, at a cost that follows the day's payments and the open receivables,
never the table: the day's payment events (one partition, `PAYMENTS#<day>`), the pay-later
invoices still owed something and the refunds still awaiting a credit note (both sparse-index
partitions). Writes `findings.csv` and `ageing.csv` under `reports/reconciliation/<id>/` in the
documents bucket, and announces `ReconciliationReportReady` with signed links that finance opens
without an AWS account (the download endpoint, like invoice links, renewed on every click).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.payment_ledger import PaymentLedger, RecordedPayment
from invoicing.adapters.report_store import CSV, ReportStore, reconciliation_key
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.events import DetailType, ReconciliationReportReady
from invoicing.domain.money import plain_amount
from invoicing.domain.payment_matching import MatchOutcome, MatchReason
from invoicing.domain.reconciliation import (
    Finding,
    OpenReceivable,
    ReconciliationReport,
    Section,
    ageing,
    receivable_findings,
    report_id_of,
)
from invoicing.domain.sla import SweepKind
from invoicing.observability import logger

REPORT_FILES = ("findings.csv", "ageing.csv")


class Reconciliation:
    def __init__(
        self,
        *,
        index: SweepIndex,
        ledger: InvoiceLedger,
        payments: PaymentLedger,
        reports: ReportStore,
        events: EventPublisher,
        link_for: Callable[[str, str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._index = index
        self._ledger = ledger
        self._payments = payments
        self._reports = reports
        self._events = events
        self._link_for = link_for
        """(report id, file name) -> a signed link finance opens (the download endpoint)."""
        self._clock = clock

    def build(self, day: date) -> ReconciliationReport:
        """The report of `day`: its payment events, and the receivables as they stand now."""
        payments = list(self._payments.day(day))
        receivables = list(self._open_receivables(day))
        findings = [
            *receivable_findings(receivables, day),
            *(finding for payment in payments for finding in payment_findings(payment)),
            *self._refunds_awaiting_credit(),
        ]
        return ReconciliationReport(
            report_id=report_id_of(day),
            day=day,
            generated_at=self._clock(),
            findings=findings,
            ageing=ageing(receivables, day),
            payments_recorded=len(payments),
        )

    def publish(self, day: date) -> ReconciliationReport:
        """Build the report, store its files and announce it (the links go to finance)."""
        report = self.build(day)
        self._reports.put(
            reconciliation_key(report.report_id, "findings.csv"), report.findings_csv().encode(), CSV
        )
        self._reports.put(
            reconciliation_key(report.report_id, "ageing.csv"), report.ageing_csv().encode(), CSV
        )
        counts = report.counts()
        self._events.publish(
            DetailType.RECONCILIATION_REPORT_READY,
            ReconciliationReportReady(
                report_id=report.report_id,
                day=report.day.isoformat(),
                findings=sum(counts.values()),
                counts=counts,
                payments_recorded=report.payments_recorded,
                outstanding={row.currency: plain_amount(row.total, row.currency) for row in report.ageing},
                findings_url=self._link_for(report.report_id, "findings.csv"),
                ageing_url=self._link_for(report.report_id, "ageing.csv"),
                generated_at=report.generated_at,
            ),
            resources=[f"report/{report.report_id}"],
        )
        logger.info("reconciliation report", report_id=report.report_id, counts=counts)
        return report

    def _open_receivables(self, day: date) -> Iterable[OpenReceivable]:
        for page in self._index.backlog(SweepKind.PAYMENT_DUE):
            for entry in page:
                record = self._ledger.get_invoice(entry.pk.removeprefix("INVOICE#"))
                if record is None or record.due_date is None or not record.is_owed(day):
                    continue
                receivable = record.receivable()
                yield OpenReceivable(
                    invoice_number=record.invoice_number,
                    order_id=record.order_id,
                    customer_id=record.customer_id,
                    currency=record.currency,
                    total=record.grand_total,
                    received=receivable.kept,
                    balance_due=receivable.balance_due,
                    due_date=record.due_date,
                )

    def _refunds_awaiting_credit(self) -> Iterable[Finding]:
        for page in self._index.backlog(SweepKind.REFUND_UNCREDITED):
            for entry in page:
                item = self._payments.refund_credit(entry.pk, entry.sk) or {}
                currency = str(item.get("currency", ""))
                yield Finding(
                    section=Section.REFUND_WITHOUT_CREDIT_NOTE,
                    currency=currency,
                    invoice_number=entry.pk.removeprefix("INVOICE#"),
                    order_id=entry.order_id or str(item.get("order_id", "")),
                    event_id=str(item.get("event_id", "")),
                    event_kind="payment.refunded",
                    amount=str(item.get("amount", "")),
                    detail=f"refunded since {entry.since:%Y-%m-%d %H:%M} UTC; a credit note by amount "
                    f"follows at {entry.due_at:%Y-%m-%d %H:%M} UTC unless the storefront credits it",
                )


def payment_findings(payment: RecordedPayment) -> list[Finding]:
    """What of one recorded payment event finance must look at (nothing when it matched)."""
    codes = [reason.code for reason in payment.reasons]
    common = {
        "currency": payment.currency,
        "invoice_number": payment.invoice_number,
        "order_id": payment.order_id,
        "customer_id": payment.customer_id,
        "event_id": payment.event_id,
        "event_kind": payment.kind,
        "amount": payment.amount,
        "balance_due": payment.balance_due,
        "reason_codes": codes,
        "detail": "; ".join(reason.message for reason in payment.reasons),
    }
    findings: list[Finding] = []
    if payment.outcome == MatchOutcome.UNMATCHED:
        section = (
            Section.CURRENCY_DIFFERENCE
            if MatchReason.CURRENCY_MISMATCH.value in codes
            else Section.PAYMENT_WITHOUT_INVOICE
        )
        findings.append(Finding(section=section, **common))
        return findings
    if MatchReason.POSSIBLE_DUPLICATE.value in codes:
        findings.append(Finding(section=Section.DUPLICATE, **common))
    elif payment.outcome in (MatchOutcome.PARTIAL, MatchOutcome.OVERPAID):
        detail = common["detail"] or f"{payment.outcome}: balance {payment.balance_due} {payment.currency}"
        findings.append(Finding(section=Section.AMOUNT_DIFFERENCE, **{**common, "detail": detail}))
    return findings


def outstanding(report: ReconciliationReport) -> dict[tuple[str, str], Decimal]:
    """(currency, bucket) -> open balance: the figures put to metrics."""
    return {(row.currency, bucket): amount for row in report.ageing for bucket, amount in row.buckets.items()}
