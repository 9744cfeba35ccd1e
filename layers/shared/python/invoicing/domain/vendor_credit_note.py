"""Vendor credit notes: a vendor invoice is corrected as a customer invoice is, by a credit note.

When the customer's invoice is corrected, each vendor's part is compared with the vendor invoice
in force (`domain/vendor_corrections.py`); only a vendor whose part changed gets one. The credit
note credits units of the vendor invoice's lines (a return, a cancellation: every unit left) with
the same share rule as customer credit notes (`credit_note.credit_units`), tax per rate within
what is left (`credit_tax_lines`), and the commission on the net credited, rounded once
ROUND_HALF_UP, the last credit taking exactly what is left of it. So a vendor's invoices and
credit notes always add up to what the customer was charged, net of the customer's credits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from invoicing.domain.credit_note import (
    Creditable,
    CreditedInvoice,
    CreditReason,
    CreditScope,
    OverCredit,
    credit_tax_lines,
    credit_units,
)
from invoicing.domain.invoice import InvoiceKind, OrderReference, Seller
from invoicing.domain.money import round_money
from invoicing.domain.pricing import PricedLine, TaxLine
from invoicing.domain.vendor_invoice import VendorInvoiceDocument
from invoicing.domain.vendors import Vendor

VENDOR_CREDIT_NOTE_SCHEMA = "saypro.vendor-credit-note.v1"


class VendorCreditTotals(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    net_sales: Decimal
    tax: Decimal
    gross_sales: Decimal
    commission: Decimal
    """The marketplace commission given back on the net credited."""
    amount_owed: Decimal
    """What is no longer owed to the vendor: gross credited less commission credited."""


class VendorCreditNoteDocument(BaseModel):
    """Schema `saypro.vendor-credit-note.v1` (README, "Corrections")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_schema: Literal["saypro.vendor-credit-note.v1"] = "saypro.vendor-credit-note.v1"
    kind: Literal[InvoiceKind.VENDOR_CREDIT_NOTE] = InvoiceKind.VENDOR_CREDIT_NOTE
    invoice_number: str
    """Its own number, in the vendor credit-note series (VCN-2026-000001)."""
    issued_at: datetime
    seller: Seller
    vendor: Vendor
    """As the vendor invoice it credits names it."""
    customer_id: str
    order: OrderReference
    credits: CreditedInvoice
    """The vendor invoice credited."""
    customer_credit_note_number: str
    """The customer's credit note this follows from."""
    scope: CreditScope
    reason: CreditReason
    reason_text: str
    currency: str
    prices_include_tax: bool
    lines: list[PricedLine]
    tax_lines: list[TaxLine]
    totals: VendorCreditTotals
    replaced_by: str | None = None
    """The revised vendor invoice issued with it, when the vendor's lines changed."""

    @property
    def file_name(self) -> str:
        return f"{self.invoice_number}.pdf"


class VendorCredited(BaseModel):
    """What the vendor invoice's credit notes took so far (kept on its ledger record)."""

    model_config = ConfigDict(frozen=True)

    tax_lines: list[TaxLine] = []
    quantities: dict[int, int] = {}
    """Vendor line index -> units credited."""
    commission: Decimal = Decimal(0)


def vendor_creditable(invoice: VendorInvoiceDocument, credited: VendorCredited) -> Creditable:
    return Creditable.left_of(invoice.statement.tax_lines, credited.tax_lines)


def units_left(invoice: VendorInvoiceDocument, credited: VendorCredited) -> dict[int, int]:
    """Vendor line index -> units not credited yet."""
    return {
        index: line.quantity - credited.quantities.get(index, 0)
        for index, line in enumerate(invoice.statement.lines)
        if line.quantity > credited.quantities.get(index, 0)
    }


def vendor_credit(
    invoice: VendorInvoiceDocument,
    *,
    credit_note_number: str,
    issued_at: datetime,
    units: Mapping[int, int],
    credited: VendorCredited,
    customer_credit_note_number: str,
    reason: CreditReason,
    reason_text: str,
    replaced_by: str | None = None,
) -> VendorCreditNoteDocument:
    """Credit `units` (vendor line index -> units newly credited) of the vendor invoice."""
    statement = invoice.statement
    currency = statement.currency
    lines, wanted = credit_units(
        statement.lines, units, credited.quantities, currency, invoice.invoice_number
    )
    if not lines:
        raise ValueError("a vendor credit note needs at least one unit of one line")
    creditable = vendor_creditable(invoice, credited)
    tax_lines = credit_tax_lines(currency, wanted, creditable, prices_include_tax=invoice.prices_include_tax)
    net = sum((t.net for t in tax_lines), Decimal(0))
    tax = sum((t.tax for t in tax_lines), Decimal(0))
    commission_left = statement.commission - credited.commission
    after = {i: credited.quantities.get(i, 0) + units.get(i, 0) for i in range(len(statement.lines))}
    all_units = all(after[i] >= line.quantity for i, line in enumerate(statement.lines))
    if all_units:
        commission = commission_left  # the last credit gives back exactly what is left
    else:
        commission = min(round_money(net * statement.vendor.commission_rate, currency), commission_left)
    if net < 0 or commission < 0:  # pragma: no cover - credit_tax_lines keeps within what is left
        raise OverCredit(f"{invoice.invoice_number}: nothing left to credit")
    untouched = not credited.quantities and not credited.tax_lines
    return VendorCreditNoteDocument(
        invoice_number=credit_note_number,
        issued_at=issued_at,
        seller=invoice.seller,
        vendor=statement.vendor,
        customer_id=invoice.customer_id,
        order=invoice.order,
        credits=CreditedInvoice(
            invoice_number=invoice.invoice_number,
            issued_at=invoice.issued_at,
            grand_total=statement.gross_sales,
        ),
        customer_credit_note_number=customer_credit_note_number,
        scope=CreditScope.FULL if all_units and untouched else CreditScope.LINES,
        reason=reason,
        reason_text=reason_text,
        currency=currency,
        prices_include_tax=invoice.prices_include_tax,
        lines=lines,
        tax_lines=tax_lines,
        totals=VendorCreditTotals(
            net_sales=net,
            tax=tax,
            gross_sales=net + tax,
            commission=commission,
            amount_owed=net + tax - commission,
        ),
        replaced_by=replaced_by,
    )
