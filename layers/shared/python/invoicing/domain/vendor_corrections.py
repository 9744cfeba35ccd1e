"""Which vendors a customer correction concerns, and what each of them gets.

Decided by comparing each vendor invoice in force with the vendor's part of the customer's newest
invoice (the one the order's claim holds, with what its credit notes took per line), never by the
kind of change: a price fix on one vendor's line concerns that vendor only, an order discount that
moved concerns every vendor it is shared over, a return concerns the vendor whose units came back.

- The vendor's lines are what the vendor invoice says -> the units the customer was credited on
  those lines since are credited to the vendor (nothing, if none).
- They are not (the lines, prices or discounts changed, or the vendor left the order) -> what is
  left of the vendor invoice is credited, and a revised vendor invoice replaces it when the vendor
  still has lines.
- A vendor with no vendor invoice yet simply gets one (the vendor invoicer's normal path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.pricing import PricedLine
from invoicing.domain.vendor_credit_note import VendorCredited, units_left
from invoicing.domain.vendor_invoice import VendorInvoiceDocument


class VendorAction(StrEnum):
    UNCHANGED = "UNCHANGED"
    CREDIT_UNITS = "CREDIT_UNITS"
    """Credit some units (a return or a cancellation on lines the vendor invoice still says)."""
    REPLACE = "REPLACE"
    """Credit what is left; a revised vendor invoice follows if the vendor still has lines."""
    CREDIT_ALL = "CREDIT_ALL"
    """The vendor has no lines any more: credit what is left, nothing replaces it."""


@dataclass(frozen=True)
class VendorPlan:
    vendor_id: str
    action: VendorAction
    units: dict[int, int] = field(default_factory=dict)
    """Vendor line index -> units to credit now."""


def vendor_lines(invoice: InvoiceDocument, vendor_id: str) -> list[tuple[int, PricedLine]]:
    """(customer line index, line) of the vendor's lines, in invoice order."""
    return [(i, line) for i, line in enumerate(invoice.lines) if line.vendor_id == vendor_id]


def plan_vendor(
    newest: InvoiceDocument,
    credited_quantities: dict[str, int],
    vendor_invoice: VendorInvoiceDocument,
    credited: VendorCredited,
) -> VendorPlan:
    """What the vendor of `vendor_invoice` gets, given the customer's newest invoice and what its
    credit notes took per line (`credited_quantities`, customer line index as text -> units)."""
    vendor_id = vendor_invoice.statement.vendor.vendor_id
    left = units_left(vendor_invoice, credited)
    lines = vendor_lines(newest, vendor_id)
    if not lines:
        return VendorPlan(vendor_id, VendorAction.CREDIT_ALL if left else VendorAction.UNCHANGED, left)
    same = (
        [line for _, line in lines] == vendor_invoice.statement.lines
        and newest.currency == vendor_invoice.statement.currency
        and newest.prices_include_tax == vendor_invoice.prices_include_tax
    )
    if not same:
        return VendorPlan(vendor_id, VendorAction.REPLACE, left)
    units: dict[int, int] = {}
    for vendor_index, (customer_index, line) in enumerate(lines):
        target = min(credited_quantities.get(str(customer_index), 0), line.quantity)
        more = target - credited.quantities.get(vendor_index, 0)
        if more > 0:  # a credit is never taken back: fewer credited units credit nothing
            units[vendor_index] = more
    return VendorPlan(vendor_id, VendorAction.CREDIT_UNITS if units else VendorAction.UNCHANGED, units)
