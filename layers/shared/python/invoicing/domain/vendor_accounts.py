"""What the marketplace owes each vendor, and the vendor's periodic statement.

A vendor's account, per currency, moves by three kinds of entry, each recorded once:
    vendor invoice        + what it says is owed to the vendor (gross sales less commission)
    vendor credit note    - what it says is no longer owed
    payout                - what the marketplace paid the vendor (an event from the payment service)
The balance is their sum: positive, the marketplace owes the vendor; negative, the vendor was paid
more than it is owed (an overpayment, to be recovered from the next payout).

A statement covers one calendar month and one currency: the opening balance (everything before the
month), every entry of the month in order with the running balance, the totals per kind, and the
closing balance. It is a document of its own, derived from the recorded entries only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from invoicing.domain.invoice import Seller
from invoicing.domain.money import fits_minor_units, is_known_currency
from invoicing.domain.order import Identifier
from invoicing.domain.vendors import Vendor


class EntryKind(StrEnum):
    VENDOR_INVOICE = "vendor_invoice"
    VENDOR_CREDIT_NOTE = "vendor_credit_note"
    PAYOUT = "payout"


class AccountEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: EntryKind
    reference: str
    """The vendor invoice or credit note number, or the payout id."""
    at: datetime
    currency: str
    amount: Decimal
    """Signed: + owed to the vendor, - credited or paid out."""
    order_id: str | None = None
    note: str | None = None


class VendorPayout(BaseModel):
    """A payout to a vendor, as the payment service announces it (source saypro.payments,
    detail-type VendorPayout). Recorded once per `payout_id`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payout_id: Identifier = Field(min_length=1, max_length=128)
    vendor_id: Identifier = Field(min_length=1, max_length=128)
    amount: str = Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,8})?$", description="major units, as text")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    paid_at: AwareDatetime
    reference: str | None = Field(default=None, max_length=128, description="the bank transfer's reference")

    def money(self) -> Decimal:
        """The amount as money: refused when the currency is unknown or has fewer decimals."""
        amount = Decimal(self.amount)
        if not is_known_currency(self.currency) or not fits_minor_units(amount, self.currency):
            raise ValueError(f"{self.amount} {self.currency} is not an amount of that currency")
        if amount <= 0:
            raise ValueError("a payout moves a positive amount")
        return amount


class StatementLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    entry: AccountEntry
    balance: Decimal
    """The running balance after this entry."""


class VendorStatementDocument(BaseModel):
    """`saypro.vendor-statement.v1`: one vendor, one currency, one month."""

    model_config = ConfigDict(frozen=True)

    schema_id: str = "saypro.vendor-statement.v1"
    statement_id: str
    vendor: Vendor
    seller: Seller
    currency: str
    period_start: date
    period_end: date
    """The last day of the period (inclusive)."""
    issued_at: datetime
    opening_balance: Decimal
    lines: list[StatementLine]
    invoiced: Decimal
    credited: Decimal
    paid_out: Decimal
    closing_balance: Decimal

    @property
    def file_name(self) -> str:
        return f"{self.statement_id}.pdf"


def statement_id_of(vendor_id: str, currency: str, month: date) -> str:
    """STMT-2026-11-EUR-<vendor>: unique per vendor, currency and month; ASCII-safe in a URL path."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in vendor_id)[:64]
    return f"STMT-{month:%Y-%m}-{currency}-{safe}"


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant of the month, first instant of the next) in UTC."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    return start, following


def build_statement(
    *,
    vendor: Vendor,
    seller: Seller,
    currency: str,
    month: date,
    opening_balance: Decimal,
    entries: list[AccountEntry],
    issued_at: datetime,
) -> VendorStatementDocument:
    start, following = month_bounds(month)
    ordered = sorted(entries, key=lambda e: (e.at, e.reference))
    lines, balance = [], opening_balance
    for entry in ordered:
        if entry.currency != currency or not start <= entry.at < following:
            raise ValueError(f"{entry.reference} is not an entry of this statement")
        balance += entry.amount
        lines.append(StatementLine(entry=entry, balance=balance))

    def total(kind: EntryKind) -> Decimal:
        return sum((e.amount for e in ordered if e.kind is kind), Decimal(0))

    return VendorStatementDocument(
        statement_id=statement_id_of(vendor.vendor_id, currency, month),
        vendor=vendor,
        seller=seller,
        currency=currency,
        period_start=start.date(),
        period_end=(following.date().fromordinal(following.date().toordinal() - 1)),
        issued_at=issued_at,
        opening_balance=opening_balance,
        lines=lines,
        invoiced=total(EntryKind.VENDOR_INVOICE),
        credited=-total(EntryKind.VENDOR_CREDIT_NOTE),
        paid_out=-total(EntryKind.PAYOUT),
        closing_balance=balance,
    )
