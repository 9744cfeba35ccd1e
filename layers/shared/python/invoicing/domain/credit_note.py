"""Credit notes: the lawful way to change an issued invoice, which is never edited or deleted.

A credit note cancels all or part of one invoice. It is a document of record like the invoice
(frozen when its number is allocated from its own gapless series, `CN-2026-000001`), names the
invoice it credits (number and date), lists what it credits with the tax per rate, and says why.
When the correction changes what was sold, a revised invoice with a new number is issued with it
and names the invoice it replaces (`InvoiceDocument.replaces`).

What remains creditable is tracked per tax rate, in minor units, so that several partial credits
add up exactly to the invoice and never beyond it: the last credit of a rate takes exactly what is
left of its tax, whatever rounding the earlier ones did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from invoicing.domain.invoice import (
    BilledCustomer,
    InvoiceDocument,
    InvoiceKind,
    OrderReference,
    Seller,
    ShippingDetails,
)
from invoicing.domain.money import round_money
from invoicing.domain.pricing import PricedLine, TaxLine

CREDIT_NOTE_SCHEMA = "saypro.credit-note.v1"


class CreditReason(StrEnum):
    ORDER_CHANGED = "ORDER_CHANGED"
    """The storefront changed what was sold or billed (lines, prices, discounts, address ...)."""
    REFUNDED = "REFUNDED"
    CANCELLED = "CANCELLED"
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"


REASON_WORDS = {
    CreditReason.ORDER_CHANGED: "the order was changed after the invoice was issued",
    CreditReason.REFUNDED: "the order was refunded",
    CreditReason.CANCELLED: "the order was cancelled after the invoice was issued",
    CreditReason.CUSTOMER_SERVICE: "customer service corrected the invoice",
}


class CreditScope(StrEnum):
    FULL = "FULL"
    """Everything the invoice charged, shipping included."""
    LINES = "LINES"
    """Some lines (or some of their quantity)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreditedInvoice(_Frozen):
    invoice_number: str
    issued_at: datetime
    grand_total: Decimal


class CreditTotals(_Frozen):
    net_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    """What the customer is credited: net + tax."""


class CreditNoteDocument(_Frozen):
    """Everything a credit note says. Schema `saypro.credit-note.v1` (README, "Corrections")."""

    document_schema: Literal["saypro.credit-note.v1"] = "saypro.credit-note.v1"
    kind: Literal[InvoiceKind.CREDIT_NOTE] = InvoiceKind.CREDIT_NOTE
    invoice_number: str
    """The credit note's own number, in its series (CN-2026-000001); named as on every document of
    record, so storage, the ledger and the API find it the same way."""
    issued_at: datetime
    seller: Seller
    customer: BilledCustomer
    order: OrderReference
    """The order of the invoice it credits."""
    credits: CreditedInvoice
    scope: CreditScope
    reason: CreditReason
    reason_text: str
    currency: str
    prices_include_tax: bool
    lines: list[PricedLine]
    """The lines credited, as the invoice charged them (after discounts)."""
    shipping: ShippingDetails | None
    tax_lines: list[TaxLine]
    """Tax credited per rate."""
    totals: CreditTotals
    replaced_by: str | None = None
    """The revised invoice issued with this credit note, if the correction changed what was sold."""

    @property
    def file_name(self) -> str:
        return f"{self.invoice_number}.pdf"


class Creditable(_Frozen):
    """What is left to credit of one invoice, per tax rate (net and tax), in its currency."""

    by_rate: dict[str, tuple[Decimal, Decimal]]

    @classmethod
    def of(cls, invoice: InvoiceDocument, credited: Iterable[TaxLine] = ()) -> Creditable:
        left = {str(line.rate): (line.net, line.tax) for line in invoice.tax_lines}
        for line in credited:
            net, tax = left.get(str(line.rate), (Decimal(0), Decimal(0)))
            left[str(line.rate)] = (net - line.net, tax - line.tax)
        return cls(by_rate=left)

    @property
    def gross(self) -> Decimal:
        return sum((net + tax for net, tax in self.by_rate.values()), Decimal(0))

    @property
    def is_exhausted(self) -> bool:
        return all(net <= 0 and tax <= 0 for net, tax in self.by_rate.values())


class OverCredit(ValueError):
    """The credit asked for is more than what remains creditable on the invoice."""


def credit_tax_lines(
    currency: str, wanted_net: Mapping[Decimal, Decimal], creditable: Creditable
) -> list[TaxLine]:
    """Tax per rate for crediting `wanted_net` (rate -> net), never beyond what is left.

    A rate credited in full takes exactly its remaining tax; a part takes its net times the rate,
    rounded once by the documented rule, and never more than the tax left on that rate.
    """
    lines: list[TaxLine] = []
    for rate, net in sorted(wanted_net.items()):
        left_net, left_tax = creditable.by_rate.get(str(rate), (Decimal(0), Decimal(0)))
        if net <= 0:
            continue
        if net > left_net:
            raise OverCredit(f"{net} {currency} at {rate} is more than the {left_net} left to credit")
        tax = left_tax if net == left_net else min(round_money(net * rate, currency), left_tax)
        lines.append(TaxLine(rate=rate, net=net, tax=tax, gross=net + tax))
    return lines


def full_credit(
    invoice: InvoiceDocument,
    *,
    credit_note_number: str,
    issued_at: datetime,
    reason: CreditReason,
    reason_text: str | None = None,
    credited_before: Iterable[TaxLine] = (),
    replaced_by: str | None = None,
) -> CreditNoteDocument:
    """Credit everything still creditable on `invoice` (all of it, unless partly credited before)."""
    creditable = Creditable.of(invoice, credited_before)
    if creditable.is_exhausted:
        raise OverCredit(f"{invoice.invoice_number} is already credited in full")
    tax_lines = [
        TaxLine(rate=Decimal(rate), net=net, tax=tax, gross=net + tax)
        for rate, (net, tax) in sorted(creditable.by_rate.items(), key=lambda item: Decimal(item[0]))
        if net > 0 or tax > 0
    ]
    untouched = not list(credited_before)
    return CreditNoteDocument(
        invoice_number=credit_note_number,
        issued_at=issued_at,
        seller=invoice.seller,
        customer=invoice.customer,
        order=invoice.order,
        credits=CreditedInvoice(
            invoice_number=invoice.invoice_number,
            issued_at=invoice.issued_at,
            grand_total=invoice.totals.grand_total,
        ),
        scope=CreditScope.FULL,
        reason=reason,
        reason_text=reason_text or REASON_WORDS[reason],
        currency=invoice.currency,
        prices_include_tax=invoice.prices_include_tax,
        lines=invoice.lines if untouched else [],
        shipping=invoice.shipping if untouched else None,
        tax_lines=tax_lines,
        totals=_totals(tax_lines),
        replaced_by=replaced_by,
    )


def _totals(tax_lines: list[TaxLine]) -> CreditTotals:
    net = sum((line.net for line in tax_lines), Decimal(0))
    tax = sum((line.tax for line in tax_lines), Decimal(0))
    return CreditTotals(net_total=net, tax_total=tax, grand_total=net + tax)
