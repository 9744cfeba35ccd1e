"""What a vendor invoice prints: the vendor's lines, tax, the commission and the amount owed."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from invoicing.domain.invoice import Seller
from invoicing.domain.money import format_amount, format_money
from invoicing.domain.vendor_invoice import VendorInvoiceDocument
from invoicing.domain.vendors import Vendor
from invoicing.rendering.presentation import (
    PAYMENT_STATUS_LABELS,
    InvoiceView,
    TaxRow,
    TotalRow,
    _Cleaner,
    discounted_item_rows,
    format_date,
    format_rate,
)


class VendorParties(TypedDict):
    seller_name: str
    seller_lines: list[str]
    customer_name: str
    customer_lines: list[str]


def vendor_parties(seller: Seller, vendor: Vendor, clean: _Cleaner) -> VendorParties:
    """The two parties of a vendor's document: the marketplace, and the vendor as billed."""
    return VendorParties(
        seller_name=clean(seller.name),
        seller_lines=[
            clean(x) for x in [*seller.address_lines, seller.tax_id, f"{seller.email} · {seller.phone}"]
        ],
        customer_name=clean(vendor.name),
        customer_lines=[
            clean(x)
            for x in [*vendor.address_lines, *([vendor.tax_id] if vendor.tax_id else []), vendor.email]
        ],
    )


def build_vendor_view(document: VendorInvoiceDocument, charset: frozenset[str]) -> InvoiceView:
    clean = _Cleaner(charset)
    statement, order, seller, vendor = (
        document.statement,
        document.order,
        document.seller,
        document.statement.vendor,
    )
    currency = statement.currency

    def amount(value: Decimal) -> str:
        return format_amount(value, currency)

    status = PAYMENT_STATUS_LABELS.get(document.payment_status, document.payment_status.value)
    rate = format_rate(vendor.commission_rate)
    items = discounted_item_rows(statement.lines, currency, clean)
    basis = "incl. tax" if document.prices_include_tax else "excl. tax"
    totals = [
        TotalRow("Net sales", amount(statement.net_sales)),
        TotalRow("Tax", amount(statement.tax)),
        TotalRow("Gross sales", amount(statement.gross_sales)),
        TotalRow(f"Marketplace commission ({rate} of net sales)", amount(-statement.commission)),
        TotalRow("Owed to vendor", format_money(statement.amount_owed, currency), True),
    ]
    return InvoiceView(
        title="Vendor invoice",
        invoice_number=clean(document.invoice_number),
        currency=currency,
        meta=[
            ("Invoice number", clean(document.invoice_number)),
            ("Issue date", format_date(document.issued_at)),
            ("Order number", clean(order.order_id)),
            ("Customer invoice", clean(document.customer_invoice_number)),
            *([("Replaces invoice", clean(document.replaces))] if document.replaces else []),
            ("Payment status", status),
        ],
        **vendor_parties(seller, vendor, clean),
        payment_lines=[("Terms", clean(vendor.payment_terms)), ("Commission", rate)],
        shipping_lines=[("Order", clean(order.order_id)), ("Lines", str(len(items)))],
        tax_basis_note=f"All amounts in {currency}. Line totals are after discounts, {basis}; "
        "tax is per rate on your lines.",
        items=items,
        tax_rows=[
            TaxRow(format_rate(t.rate), amount(t.net), amount(t.tax), amount(t.gross))
            for t in statement.tax_lines
        ],
        totals=[TotalRow(clean(t.label), t.amount, t.emphasis) for t in totals],
        terms=clean(
            f"Payment terms: {vendor.payment_terms} The amount owed is your gross sales less the "
            f"marketplace commission of {rate} of net sales."
        ),
        return_policy=clean(
            f"This invoice documents your part of order {order.order_id}, sold through "
            f"{seller.name} and paid by the customer; returns are settled by credit note."
            + (
                f" It replaces vendor invoice {document.replaces}, cancelled by credit note."
                if document.replaces
                else ""
            )
        ),
        footer=clean(f"{seller.name} · {seller.tax_id} · {seller.website}"),
        missing_characters=clean.missing,
        block_captions=("VENDOR", "PAYMENT TO VENDOR", "ORDER"),
        note_captions=("TERMS", "ABOUT THIS INVOICE"),
    )
