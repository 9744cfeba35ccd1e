"""What a credit note prints: the invoice it credits, why, the lines, tax per rate and totals credited.

Laid out by the invoice's pages (`pages.py`): the same header, item table, tax summary, totals and
notes, with the credit note's own labels. Amounts credited print positive; the title says what they
are.
"""

from __future__ import annotations

from decimal import Decimal

from invoicing.domain.credit_note import CreditNoteDocument, CreditScope
from invoicing.domain.money import format_amount, format_money
from invoicing.rendering.presentation import (
    InvoiceView,
    TaxRow,
    TotalRow,
    _Cleaner,
    address_lines,
    discounted_item_rows,
    format_date,
    format_rate,
)


def cancellation_sentence(document: CreditNoteDocument) -> str:
    """What the credit note does to the invoice it credits, in one sentence."""
    credited = document.credits.invoice_number
    if document.replaced_by:
        return (
            f"This credit note cancels invoice {credited}; it is replaced by invoice {document.replaced_by}."
        )
    whole = document.scope is CreditScope.FULL and document.totals.grand_total == document.credits.grand_total
    return f"This credit note cancels invoice {credited} {'in full' if whole else 'in part'}."


def build_credit_note_view(document: CreditNoteDocument, charset: frozenset[str]) -> InvoiceView:
    """Everything the credit note prints, as strings the font (covering `charset`) can draw."""
    clean = _Cleaner(charset)
    order, seller, customer, credited = document.order, document.seller, document.customer, document.credits
    currency = document.currency

    def amount(value: Decimal) -> str:
        return format_amount(value, currency)

    meta = [
        ("Credit note number", document.invoice_number),
        ("Date", format_date(document.issued_at)),
        ("Credits invoice", credited.invoice_number),
        ("Invoice date", format_date(credited.issued_at)),
        ("Order number", order.order_id),
        ("Reason", document.reason_text),
    ]
    # As the vendor invoice does: what each line was charged after every discount, its line and
    # its share of the order's, so the lines (and shipping) add up to what is credited.
    items = discounted_item_rows(document.lines, currency, clean)
    shipping = document.shipping
    totals: list[TotalRow] = []
    if shipping:
        totals.append(TotalRow(f"Shipping ({shipping.method})", amount(shipping.cost)))
    figures = document.totals
    totals += [
        TotalRow("Net credited", format_money(figures.net_total, currency)),
        TotalRow("Tax credited", format_money(figures.tax_total, currency)),
        TotalRow("Total credited", format_money(figures.grand_total, currency), True),
    ]
    scope = "In full" if document.scope is CreditScope.FULL else "In part"
    basis = (
        "Prices include tax; the tax they contain is credited per rate."
        if document.prices_include_tax
        else "Prices exclude tax; tax is credited per rate."
    )
    return InvoiceView(
        title="Credit note",
        invoice_number=clean(document.invoice_number),
        currency=currency,
        meta=[(label, clean(value)) for label, value in meta],
        seller_name=clean(seller.name),
        seller_lines=[
            clean(line)
            for line in [
                *seller.address_lines,
                seller.tax_id,
                f"{seller.email} · {seller.phone}",
                seller.website,
            ]
        ],
        customer_name=clean(customer.name),
        customer_lines=[clean(line) for line in address_lines(customer.billing_address)],
        payment_lines=[
            ("Number", clean(credited.invoice_number)),
            ("Dated", format_date(credited.issued_at)),
            ("Total", format_money(credited.grand_total, currency)),
        ],
        shipping_lines=[
            ("Scope", scope),
            ("Shipping", clean(shipping.method) if shipping else "Not credited"),
            *([("Revised by", clean(document.replaced_by))] if document.replaced_by else []),
        ],
        tax_basis_note=f"All amounts in {currency}, credited to the customer. {basis}",
        items=items,
        tax_rows=[
            TaxRow(format_rate(t.rate), amount(t.net), amount(t.tax), amount(t.gross))
            for t in document.tax_lines
        ],
        totals=[TotalRow(clean(t.label), t.amount, t.emphasis) for t in totals],
        terms=clean(f"{cancellation_sentence(document)} Reason: {document.reason_text.rstrip('.')}."),
        return_policy=clean(
            f"Questions about this credit note: {seller.email}, quoting its number "
            f"{document.invoice_number} or that of invoice {credited.invoice_number}."
        ),
        footer=clean(f"{seller.name} · {seller.tax_id} · {seller.website}"),
        missing_characters=clean.missing,
        block_captions=("BILL TO", "CREDITED INVOICE", "CREDIT"),
        note_captions=("ABOUT THIS CREDIT NOTE", "QUESTIONS"),
    )
