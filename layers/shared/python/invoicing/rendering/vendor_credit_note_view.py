"""What a vendor credit note prints: the vendor invoice it credits, why, the lines, tax per rate,
and the commission and amount owed given back. Laid out like the vendor invoice (`pages.py`)."""

from __future__ import annotations

from decimal import Decimal

from invoicing.domain.credit_note import CreditScope
from invoicing.domain.money import format_amount, format_money
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
from invoicing.rendering.presentation import (
    InvoiceView,
    TaxRow,
    TotalRow,
    _Cleaner,
    discounted_item_rows,
    format_date,
    format_rate,
)
from invoicing.rendering.vendor_view import vendor_parties


def vendor_cancellation_sentence(document: VendorCreditNoteDocument) -> str:
    credited = document.credits.invoice_number
    if document.replaced_by:
        return (
            f"This credit note cancels vendor invoice {credited}; it is replaced by vendor invoice "
            f"{document.replaced_by}."
        )
    whole = document.scope is CreditScope.FULL
    return f"This credit note cancels vendor invoice {credited} {'in full' if whole else 'in part'}."


def build_vendor_credit_note_view(document: VendorCreditNoteDocument, charset: frozenset[str]) -> InvoiceView:
    clean = _Cleaner(charset)
    seller, vendor, order, credited = document.seller, document.vendor, document.order, document.credits
    currency = document.currency

    def amount(value: Decimal) -> str:
        return format_amount(value, currency)

    rate = format_rate(vendor.commission_rate)
    items = discounted_item_rows(document.lines, currency, clean)
    figures = document.totals
    totals = [
        TotalRow("Net sales credited", amount(figures.net_sales)),
        TotalRow("Tax credited", amount(figures.tax)),
        TotalRow("Gross sales credited", amount(figures.gross_sales)),
        TotalRow(f"Commission given back ({rate} of net)", amount(-figures.commission)),
        TotalRow("No longer owed to vendor", format_money(figures.amount_owed, currency), True),
    ]
    basis = "incl. tax" if document.prices_include_tax else "excl. tax"
    return InvoiceView(
        title="Vendor credit note",
        invoice_number=clean(document.invoice_number),
        currency=currency,
        meta=[
            ("Credit note number", clean(document.invoice_number)),
            ("Date", format_date(document.issued_at)),
            ("Credits vendor invoice", clean(credited.invoice_number)),
            ("Invoice date", format_date(credited.issued_at)),
            ("Order number", clean(order.order_id)),
            ("Customer credit note", clean(document.customer_credit_note_number)),
            ("Reason", clean(document.reason_text)),
        ],
        **vendor_parties(seller, vendor, clean),
        payment_lines=[
            ("Number", clean(credited.invoice_number)),
            ("Dated", format_date(credited.issued_at)),
            ("Gross sales", format_money(credited.grand_total, currency)),
        ],
        shipping_lines=[
            ("Scope", "In full" if document.scope is CreditScope.FULL else "In part"),
            *([("Revised by", clean(document.replaced_by))] if document.replaced_by else []),
        ],
        tax_basis_note=f"All amounts in {currency}. Line totals are after discounts, {basis}; "
        "tax is credited per rate on your lines.",
        items=items,
        tax_rows=[
            TaxRow(format_rate(t.rate), amount(t.net), amount(t.tax), amount(t.gross))
            for t in document.tax_lines
        ],
        totals=[TotalRow(clean(t.label), t.amount, t.emphasis) for t in totals],
        terms=clean(f"{vendor_cancellation_sentence(document)} Reason: {document.reason_text.rstrip('.')}."),
        return_policy=clean(
            f"It follows the customer's credit note {document.customer_credit_note_number} on order "
            f"{order.order_id}. Questions: {seller.email}, quoting {document.invoice_number}."
        ),
        footer=clean(f"{seller.name} · {seller.tax_id} · {seller.website}"),
        missing_characters=clean.missing,
        block_captions=("VENDOR", "CREDITED VENDOR INVOICE", "CREDIT"),
        note_captions=("ABOUT THIS CREDIT NOTE", "QUESTIONS"),
    )
