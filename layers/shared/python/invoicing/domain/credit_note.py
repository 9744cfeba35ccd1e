"""Credit notes: the lawful way to change an issued invoice, which is never edited or deleted.

A credit note cancels all or part of one invoice. It is a document of record like the invoice
(frozen when its number is allocated from its own gapless series, `CN-2026-000001`), names the
invoice it credits (number and date), lists what it credits with the tax per rate, and says why.
When the correction changes what was sold, a revised invoice with a new number is issued with it
and names the invoice it replaces (`InvoiceDocument.replaces`).

What remains creditable is tracked per tax rate, in minor units, so that several partial credits
add up exactly to the invoice and never beyond it: the last credit of a rate takes exactly what is
left of its tax, whatever rounding the earlier ones did.

A return of some lines (`partial_credit`) credits those units only: each line's share of what it
cost after every discount, so several returns of one line add up exactly to the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
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
from invoicing.domain.money import allocate, round_fraction, round_money
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
    AMOUNT = "AMOUNT"
    """An amount (customer service's goodwill or agreed price adjustment), tax included."""


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
        return cls.left_of(invoice.tax_lines, credited)

    @classmethod
    def left_of(cls, charged: Iterable[TaxLine], credited: Iterable[TaxLine] = ()) -> Creditable:
        """What is left of `charged` (a document's tax lines) once `credited` is taken off."""
        charged = list(charged)
        left = {str(line.rate): (line.net, line.tax) for line in charged}
        # Rates match by value: the ledger gives credited rates back as DynamoDB stores numbers
        # (0.2), the document keeps them as written (0.20); Decimal keys are equal and hash alike.
        keys = {line.rate: str(line.rate) for line in charged}
        for line in credited:
            key = keys.get(line.rate, str(line.rate))
            net, tax = left.get(key, (Decimal(0), Decimal(0)))
            left[key] = (net - line.net, tax - line.tax)
        return cls(by_rate=left)

    @property
    def gross(self) -> Decimal:
        return sum((net + tax for net, tax in self.by_rate.values()), Decimal(0))

    def remaining(self) -> list[TaxLine]:
        """What is left, per rate (ascending), as the tax lines a full credit of it takes."""
        return [
            TaxLine(rate=Decimal(rate), net=net, tax=tax, gross=net + tax)
            for rate, (net, tax) in sorted(self.by_rate.items(), key=lambda item: Decimal(item[0]))
            if net > 0 or tax > 0
        ]

    @property
    def is_exhausted(self) -> bool:
        return all(net <= 0 and tax <= 0 for net, tax in self.by_rate.values())


class OverCredit(ValueError):
    """The credit asked for is more than what remains creditable on the invoice."""


def credit_tax_lines(
    currency: str,
    wanted_net: Mapping[Decimal, Decimal],
    creditable: Creditable,
    *,
    prices_include_tax: bool = False,
) -> list[TaxLine]:
    """Tax per rate for crediting `wanted_net` (rate -> amount), never beyond what is left.

    The amounts are in the invoice's price basis: net, or gross when its prices include tax. A
    rate credited in full takes exactly its remaining net and tax; a part takes its tax as the
    invoice computed it (net x rate, or the tax a gross amount contains, gross x rate / (1 + rate)
    as an exact fraction), rounded once by the documented rule, and never more than the tax (nor,
    for gross amounts, the net) left on that rate.
    """
    lines: list[TaxLine] = []
    left_by_rate = {Decimal(rate): left for rate, left in creditable.by_rate.items()}  # 0.2 is 0.20
    for rate, amount in sorted(wanted_net.items()):
        left_net, left_tax = left_by_rate.get(rate, (Decimal(0), Decimal(0)))
        if amount <= 0:
            continue
        if prices_include_tax:
            lines.append(_gross_credit(currency, rate, amount, left_net, left_tax))
            continue
        if amount > left_net:
            raise OverCredit(f"{amount} {currency} at {rate} is more than the {left_net} left to credit")
        tax = left_tax if amount == left_net else min(round_money(amount * rate, currency), left_tax)
        lines.append(TaxLine(rate=rate, net=amount, tax=tax, gross=amount + tax))
    return lines


def _gross_credit(
    currency: str, rate: Decimal, gross: Decimal, left_net: Decimal, left_tax: Decimal
) -> TaxLine:
    """Credit `gross` (tax included) at `rate`: the tax it contains, within what is left."""
    left_gross = left_net + left_tax
    if gross > left_gross:
        raise OverCredit(f"{gross} {currency} at {rate} is more than the {left_gross} left to credit")
    if gross == left_gross:
        tax = left_tax
    else:
        contained = round_fraction(Fraction(gross) * Fraction(rate) / (1 + Fraction(rate)), currency)
        # Within what is left of both: at most the tax left, and at least what keeps net within its own.
        tax = max(min(contained, left_tax), gross - left_net)
    return TaxLine(rate=rate, net=gross - tax, tax=tax, gross=gross)


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
    untouched = not list(credited_before)
    return _credit_note(
        invoice,
        credit_note_number=credit_note_number,
        issued_at=issued_at,
        scope=CreditScope.FULL,
        reason=reason,
        reason_text=reason_text or REASON_WORDS[reason],
        lines=invoice.lines if untouched else [],
        shipping=invoice.shipping if untouched else None,
        tax_lines=creditable.remaining(),
        replaced_by=replaced_by,
    )


def partial_credit(
    invoice: InvoiceDocument,
    *,
    credit_note_number: str,
    issued_at: datetime,
    refunded: Mapping[int, int],
    credited_before: Iterable[TaxLine] = (),
    credited_quantities: Mapping[int, int] | None = None,
    reason: CreditReason = CreditReason.REFUNDED,
    reason_text: str | None = None,
) -> CreditNoteDocument:
    """Credit some units of some lines (a return): `refunded` is line index -> units newly refunded.

    Each line is credited its share of what it cost after every discount (`PricedLine.amount`, in
    the invoice's price basis). So that several returns of one line add up to it exactly, the share
    is taken of the units refunded so far: `round(amount x refunded so far / quantity)` less what
    the units credited before (`credited_quantities`, line index -> units) took, each rounded once;
    the line's last unit thus takes exactly what is left of its amount. The tax is then credited
    per rate on the rate's credited lines (`credit_tax_lines`), never beyond what is left.
    Shipping is not credited (a full credit takes what is left of it).
    """
    currency = invoice.currency
    credited_lines, wanted = credit_units(
        invoice.lines, refunded, credited_quantities or {}, currency, invoice.invoice_number
    )
    if not credited_lines:
        raise ValueError("a partial credit needs at least one unit of one line")
    tax_lines = credit_tax_lines(
        currency,
        wanted,
        Creditable.of(invoice, credited_before),
        prices_include_tax=invoice.prices_include_tax,
    )
    return _credit_note(
        invoice,
        credit_note_number=credit_note_number,
        issued_at=issued_at,
        scope=CreditScope.LINES,
        reason=reason,
        reason_text=reason_text or returned_lines_text(credited_lines),
        lines=credited_lines,
        shipping=None,
        tax_lines=tax_lines,
    )


def credit_units(
    lines: list[PricedLine],
    refunded: Mapping[int, int],
    credited_quantities: Mapping[int, int],
    currency: str,
    document_number: str,
) -> tuple[list[PricedLine], dict[Decimal, Decimal]]:
    """The lines `refunded` (index -> units newly credited) credits, each its share of what it
    cost, and the amount credited per tax rate; see `partial_credit` for the rule."""
    credited_lines: list[PricedLine] = []
    wanted: dict[Decimal, Decimal] = {}
    for index, units in sorted(refunded.items()):
        if units <= 0:
            continue
        if not 0 <= index < len(lines):
            raise OverCredit(f"{document_number} has no line {index}")
        line = lines[index]
        done = credited_quantities.get(index, 0)
        if done + units > line.quantity:
            raise OverCredit(
                f"{line.sku}: {units} more refunded after {done} is more than the {line.quantity} invoiced"
            )
        amount = _share(line.amount, done + units, line.quantity, currency) - _share(
            line.amount, done, line.quantity, currency
        )
        credited_lines.append(_credited_line(line, done, units, amount, currency))
        wanted[line.tax_rate] = wanted.get(line.tax_rate, Decimal(0)) + amount
    return credited_lines, wanted


def _credit_note(
    invoice: InvoiceDocument,
    *,
    credit_note_number: str,
    issued_at: datetime,
    scope: CreditScope,
    reason: CreditReason,
    reason_text: str,
    lines: list[PricedLine],
    shipping: ShippingDetails | None,
    tax_lines: list[TaxLine],
    replaced_by: str | None = None,
) -> CreditNoteDocument:
    """The document: what it credits, and the invoice it credits, as that invoice says it."""
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
        scope=scope,
        reason=reason,
        reason_text=reason_text,
        currency=invoice.currency,
        prices_include_tax=invoice.prices_include_tax,
        lines=lines,
        shipping=shipping,
        tax_lines=tax_lines,
        totals=credit_totals(tax_lines),
        replaced_by=replaced_by,
    )


def amount_credit(
    invoice: InvoiceDocument,
    *,
    credit_note_number: str,
    issued_at: datetime,
    amount: Decimal,
    reason_text: str,
    credited_before: Iterable[TaxLine] = (),
) -> CreditNoteDocument:
    """Credit `amount` (what the customer gets back, tax included) of what is left on `invoice`.

    Shared over the tax rates in proportion to what is left of each (gross), by largest remainder
    in minor units so the parts add up to the amount exactly; each rate's part then credits the tax
    it contains (`credit_tax_lines`, gross basis), never beyond what is left of the rate.
    """
    currency = invoice.currency
    if amount <= 0 or amount != round_money(amount, currency):
        raise OverCredit(f"{amount} is not a positive amount in {currency}'s minor units")
    creditable = Creditable.of(invoice, credited_before)
    left = {line.rate: line.gross for line in creditable.remaining()}
    total_left = sum(left.values(), Decimal(0))
    if amount > total_left:
        raise OverCredit(f"{amount} {currency} is more than the {total_left} left to credit")
    tax_lines = credit_tax_lines(
        currency, _shared(amount, left, currency), creditable, prices_include_tax=True
    )
    return _credit_note(
        invoice,
        credit_note_number=credit_note_number,
        issued_at=issued_at,
        scope=CreditScope.AMOUNT,
        reason=CreditReason.CUSTOMER_SERVICE,
        reason_text=reason_text,
        lines=[],
        shipping=None,
        tax_lines=tax_lines,
    )


def _shared(amount: Decimal, weights: Mapping[Decimal, Decimal], currency: str) -> dict[Decimal, Decimal]:
    """`amount` split over the rates in proportion to `weights` (rate -> gross left), exact in minor
    units by largest remainder (`money.allocate`; ties to the lower rate)."""
    rates = sorted(weights)
    parts = allocate(amount, [weights[rate] for rate in rates], currency)
    return {rate: part for rate, part in zip(rates, parts, strict=True) if part > 0}


NAMED_RETURNS = 10
"""A reason names at most this many returned lines (the credit note lists them all): it is also
said in the customer's email."""


def returned_lines_text(lines: Iterable[PricedLine]) -> str:
    """Why a return is credited, naming what came back (SKU × units): "part of the order was
    returned and refunded (BOOK-1 × 1, LAMP-7 × 2)"."""
    named = [f"{line.sku} × {line.quantity}" for line in lines]
    if len(named) > NAMED_RETURNS:
        named = [*named[: NAMED_RETURNS - 1], f"{len(named) - NAMED_RETURNS + 1:,} more lines"]
    return f"part of the order was returned and refunded ({', '.join(named)})"


def _share(amount: Decimal, units: int, quantity: int, currency: str) -> Decimal:
    """`amount x units / quantity` rounded once; all of it, exactly, when all units are counted."""
    if units == quantity:
        return amount
    if units == 0:
        return amount * 0
    return round_fraction(Fraction(amount) * units / quantity, currency)


def _credited_line(line: PricedLine, done: int, units: int, amount: Decimal, currency: str) -> PricedLine:
    """The line as the credit note shows it: the units credited, at the invoice's unit price,
    less their part of the discounts, so that quantity x unit price - discounts = amount."""
    if units == line.quantity:
        return line
    gross = line.unit_price * units
    discounts = gross - amount
    line_share = _share(line.line_discount, done + units, line.quantity, currency) - _share(
        line.line_discount, done, line.quantity, currency
    )
    line_discount = min(line_share, discounts)
    return line.model_copy(
        update={
            "quantity": units,
            "gross_amount": gross,
            "line_discount": line_discount,
            "order_discount_share": discounts - line_discount,
            "amount": amount,
        }
    )


def credit_totals(tax_lines: list[TaxLine]) -> CreditTotals:
    net = sum((line.net for line in tax_lines), Decimal(0))
    tax = sum((line.tax for line in tax_lines), Decimal(0))
    return CreditTotals(net_total=net, tax_total=tax, grand_total=net + tax)
