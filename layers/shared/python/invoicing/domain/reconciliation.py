"""The reconciliation report: what finance must look at, and the accounts-receivable ageing.

Built from what was recorded (payment events, invoice records), never from the storefront. Each
finding is one row of `findings.csv` (columns below, the same for every section); the ageing is
one row per currency of `ageing.csv`, its amounts the open balances by days past due:

    current   not yet due (or due today)
    1-30      1 to 30 days past the due date
    31-60, 61-90, over-90

Sections of the findings:
    invoice_without_payment     overdue and nothing received
    payment_without_invoice     a payment event applied to no invoice (every reason given)
    amount_difference           a payment short of (partial) or beyond (overpaid) the balance;
                                an overdue invoice partly paid
    currency_difference         paid in another currency than the invoice's
    duplicate                   a payment on an invoice already settled
    refund_without_credit_note  a refund still awaiting the credit note of what it gave back
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from invoicing.domain.money import plain_amount


class Section(StrEnum):
    INVOICE_WITHOUT_PAYMENT = "invoice_without_payment"
    PAYMENT_WITHOUT_INVOICE = "payment_without_invoice"
    AMOUNT_DIFFERENCE = "amount_difference"
    CURRENCY_DIFFERENCE = "currency_difference"
    DUPLICATE = "duplicate"
    REFUND_WITHOUT_CREDIT_NOTE = "refund_without_credit_note"


AGEING_BUCKETS = ("current", "1-30", "31-60", "61-90", "over-90")
FINDING_COLUMNS = (
    "section",
    "invoice_number",
    "order_id",
    "customer_id",
    "event_id",
    "event_kind",
    "currency",
    "amount",
    "balance_due",
    "due_date",
    "days_past_due",
    "reason_codes",
    "detail",
)
AGEING_COLUMNS = ("currency", *AGEING_BUCKETS, "total", "open_invoices", "overdue_invoices")


def ageing_bucket(due: date, today: date) -> str:
    days = (today - due).days
    if days <= 0:
        return "current"
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "over-90"


class OpenReceivable(BaseModel):
    """An invoice still owed something, as at the report's day."""

    model_config = ConfigDict(frozen=True)

    invoice_number: str
    order_id: str
    customer_id: str | None
    currency: str
    total: Decimal
    received: Decimal
    balance_due: Decimal
    due_date: date


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    section: Section
    currency: str
    detail: str
    invoice_number: str | None = None
    order_id: str | None = None
    customer_id: str | None = None
    event_id: str | None = None
    event_kind: str | None = None
    amount: str | None = None
    """As recorded: an amount with too many decimals is shown as it came."""
    balance_due: str | None = None
    due_date: date | None = None
    days_past_due: int | None = None
    reason_codes: list[str] = []

    def row(self) -> dict[str, str]:
        return {
            "section": self.section.value,
            "invoice_number": self.invoice_number or "",
            "order_id": self.order_id or "",
            "customer_id": self.customer_id or "",
            "event_id": self.event_id or "",
            "event_kind": self.event_kind or "",
            "currency": self.currency,
            "amount": self.amount or "",
            "balance_due": self.balance_due or "",
            "due_date": self.due_date.isoformat() if self.due_date else "",
            "days_past_due": "" if self.days_past_due is None else str(self.days_past_due),
            "reason_codes": " ".join(self.reason_codes),
            "detail": self.detail,
        }


class AgeingRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str
    buckets: dict[str, Decimal]
    open_invoices: int
    overdue_invoices: int

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), Decimal(0))

    def row(self) -> dict[str, str]:
        return {
            "currency": self.currency,
            **{bucket: plain_amount(self.buckets[bucket], self.currency) for bucket in AGEING_BUCKETS},
            "total": plain_amount(self.total, self.currency),
            "open_invoices": str(self.open_invoices),
            "overdue_invoices": str(self.overdue_invoices),
        }


def ageing(receivables: Iterable[OpenReceivable], today: date) -> list[AgeingRow]:
    """Open balances per currency by days past due, currencies in alphabetical order."""
    by_currency: dict[str, list[OpenReceivable]] = {}
    for receivable in receivables:
        by_currency.setdefault(receivable.currency, []).append(receivable)
    rows = []
    for currency in sorted(by_currency):
        buckets = dict.fromkeys(AGEING_BUCKETS, Decimal(0))
        overdue = 0
        for receivable in by_currency[currency]:
            bucket = ageing_bucket(receivable.due_date, today)
            buckets[bucket] += receivable.balance_due
            overdue += bucket != "current"
        rows.append(
            AgeingRow(
                currency=currency,
                buckets=buckets,
                open_invoices=len(by_currency[currency]),
                overdue_invoices=overdue,
            )
        )
    return rows


def receivable_findings(receivables: Iterable[OpenReceivable], today: date) -> list[Finding]:
    """Overdue invoices: unpaid ones, and partly paid ones (an amount difference)."""
    findings = []
    for receivable in receivables:
        days = (today - receivable.due_date).days
        if days <= 0:
            continue
        section = Section.AMOUNT_DIFFERENCE if receivable.received > 0 else Section.INVOICE_WITHOUT_PAYMENT
        currency = receivable.currency
        findings.append(
            Finding(
                section=section,
                currency=currency,
                invoice_number=receivable.invoice_number,
                order_id=receivable.order_id,
                customer_id=receivable.customer_id,
                amount=plain_amount(receivable.total, currency),
                balance_due=plain_amount(receivable.balance_due, currency),
                due_date=receivable.due_date,
                days_past_due=days,
                detail=f"overdue {days} days: {plain_amount(receivable.received, currency)} of "
                f"{plain_amount(receivable.total, currency)} {currency} received",
            )
        )
    return findings


class ReconciliationReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    report_id: str
    day: date
    generated_at: datetime
    findings: list[Finding]
    ageing: list[AgeingRow]
    payments_recorded: int
    """Payment events recorded on the day (all outcomes)."""

    def counts(self) -> dict[str, int]:
        return {section.value: sum(f.section is section for f in self.findings) for section in Section}

    def findings_csv(self) -> str:
        return _csv(FINDING_COLUMNS, [finding.row() for finding in self.findings])

    def ageing_csv(self) -> str:
        return _csv(AGEING_COLUMNS, [row.row() for row in self.ageing])


def report_id_of(day: date) -> str:
    """The report's id, in its links and its S3 keys: RECON-2026-12-01."""
    return f"RECON-{day.isoformat()}"


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _as_text(value: str) -> str:
    """A cell a spreadsheet would run as a formula (= + @, a tab, or - not starting a number) is
    written as text; amounts, negative ones included, stay numbers."""
    risky = value[:1] in ("=", "+", "@", "\t", "\r") or (value[:1] == "-" and not _NUMBER.fullmatch(value))
    return f"'{value}" if risky else value


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _as_text(v) for k, v in row.items()})
    return buffer.getvalue()
