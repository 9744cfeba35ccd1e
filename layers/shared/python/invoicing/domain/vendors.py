"""Each marketplace vendor's part of an order: its lines, the commission, the amount owed.

Figures come from the customer invoice's priced lines (after the order discount allocation), so a
vendor's statement always agrees with what the customer paid for that vendor's items. Tax is
charged per rate on the vendor's own lines with the same rounding rule as invoices (`money.py`).
The commission is a rate on the vendor's net sales (excluding tax), rounded once, ROUND_HALF_UP.
Shipping belongs to the marketplace and is not part of any vendor's statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from invoicing.domain.money import quantum, round_money
from invoicing.domain.pricing import PricedLine, PricedOrder, TaxLine, tax_breakdown


class Vendor(BaseModel):
    """A row of the Vendors table: the vendor's master data."""

    model_config = ConfigDict(frozen=True)

    vendor_id: str
    name: str
    email: str
    commission_rate: Decimal = Field(ge=0, lt=1, description="fraction of net sales, 0.12 for 12 %")
    payment_terms: str = "Net 30: paid by bank transfer within 30 days of the order's completion."
    address_lines: list[str] = Field(default_factory=list)
    tax_id: str | None = None


class VendorStatement(BaseModel):
    model_config = ConfigDict(frozen=True)

    vendor: Vendor
    currency: str
    lines: list[PricedLine]
    tax_lines: list[TaxLine]
    net_sales: Decimal
    tax: Decimal
    gross_sales: Decimal
    commission: Decimal
    amount_owed: Decimal


class MissingVendors(ValueError):
    def __init__(self, vendor_ids: list[str]) -> None:
        super().__init__(f"vendors not in the Vendors table: {', '.join(vendor_ids)}")
        self.vendor_ids = vendor_ids


def vendor_ids(priced: PricedOrder) -> list[str]:
    """The vendors with items in the order, in the order they first appear."""
    return list(dict.fromkeys(line.vendor_id for line in priced.lines))


def vendor_statements(priced: PricedOrder, vendors: Mapping[str, Vendor]) -> list[VendorStatement]:
    missing = [v for v in vendor_ids(priced) if v not in vendors]
    if missing:
        raise MissingVendors(missing)
    return [_statement(priced, vendors[v]) for v in vendor_ids(priced)]


def _statement(priced: PricedOrder, vendor: Vendor) -> VendorStatement:
    currency = priced.currency
    zero = Decimal(0).quantize(quantum(currency))
    lines = [line for line in priced.lines if line.vendor_id == vendor.vendor_id]
    tax_lines = tax_breakdown(
        [(line.tax_rate, line.amount) for line in lines], priced.prices_include_tax, currency
    )
    net = sum((t.net for t in tax_lines), zero)
    tax_total = sum((t.tax for t in tax_lines), zero)
    gross = net + tax_total
    commission = round_money(net * vendor.commission_rate, currency)
    return VendorStatement(
        vendor=vendor,
        currency=currency,
        lines=lines,
        tax_lines=tax_lines,
        net_sales=net,
        tax=tax_total,
        gross_sales=gross,
        commission=commission,
        amount_owed=gross - commission,
    )
