"""What an invoice says, as printable strings: every label, date and amount, before any layout.

Pure (no PDF library): everything comes from the frozen invoice document, formatted with the currency's
decimals by `money.format_amount`; every string is cleaned to what the font can print.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.money import format_amount, format_money
from invoicing.domain.order import Address, OrderStatus, PaymentStatus
from invoicing.domain.pricing import PricedLine
from invoicing.domain.receivables import PaymentStanding
from invoicing.rendering.text import clean_text

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

PAYMENT_STATUS_LABELS = {
    PaymentStatus.CAPTURED: "PAID",
    PaymentStatus.AUTHORIZED: "AUTHORISED, UNPAID",
    PaymentStatus.PENDING: "UNPAID (PENDING)",
    PaymentStatus.FAILED: "UNPAID (FAILED)",
    PaymentStatus.REFUNDED: "REFUNDED",
}

# Countries that write the postal code before the city ("31-147 Kraków"); others after it.
# fmt: off
_POSTCODE_FIRST = frozenset({
    "AT", "BE", "BG", "CH", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IS",
    "IT", "LI", "LT", "LU", "LV", "MC", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on


def format_date(value: date | datetime) -> str:
    """'21 Nov 2026': unambiguous in every locale, independent of the process locale."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_rate(rate: Decimal) -> str:
    """A tax rate fraction as a percentage: 0.2 -> '20%', 0.055 -> '5.5%', 0 -> '0%'."""
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


def _humanise(code: str) -> str:
    """'bank_transfer' -> 'Bank transfer'."""
    words = code.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def address_lines(address: Address) -> list[str]:
    postal = address.postal_code or ""
    if address.country in _POSTCODE_FIRST:
        locality = [f"{postal} {address.city}".strip()]
        if address.region:
            locality.append(address.region)
    else:
        city = f"{address.city}, {address.region}" if address.region else address.city
        locality = [f"{city} {postal}".strip()]
    return [address.line1, *([address.line2] if address.line2 else []), *locality, address.country]


@dataclass(frozen=True)
class ItemRow:
    number: str
    description: str
    sku: str
    quantity: str
    unit_price: str
    tax_rate: str
    discount: str
    """The line discount ('-5.00'), empty when there is none."""
    line_total: str
    """Quantity x unit price less the line discount (order-level discounts are in the totals)."""
    caption: str | None = None
    """The small line under the description: `SKU <sku>` unless given (a statement's date)."""


@dataclass(frozen=True)
class TotalRow:
    label: str
    amount: str
    emphasis: bool = False


@dataclass(frozen=True)
class TaxRow:
    rate: str
    net: str
    tax: str
    gross: str


@dataclass(frozen=True)
class InvoiceView:
    title: str
    invoice_number: str
    currency: str
    meta: list[tuple[str, str]]
    """Label/value pairs beside the title: invoice number, dates, order number, payment status."""
    seller_name: str
    seller_lines: list[str]
    customer_name: str
    customer_lines: list[str]
    payment_lines: list[tuple[str, str]]
    shipping_lines: list[tuple[str, str]]
    tax_basis_note: str
    items: list[ItemRow]
    tax_rows: list[TaxRow]
    totals: list[TotalRow]
    terms: str
    return_policy: str
    footer: str
    missing_characters: set[str] = field(default_factory=set)
    """Characters the font cannot print (they appear as U+FFFD)."""
    block_captions: tuple[str, str, str] = ("BILL TO", "PAYMENT", "SHIPPING")
    note_captions: tuple[str, str] = ("TERMS", "RETURNS")
    item_columns: tuple[str, str, str, str, str, str, str] = (
        "#",
        "Description",
        "Qty",
        "Unit price",
        "Tax",
        "Discount",
        "Line total",
    )
    tax_caption: str | None = "TAX SUMMARY"
    """None: no tax summary (a statement has none)."""


class _Cleaner:
    def __init__(self, charset: frozenset[str]) -> None:
        self._charset = charset
        self.missing: set[str] = set()

    def __call__(self, text: str) -> str:
        cleaned, missing = clean_text(text, self._charset)
        if missing:
            self.missing |= missing
        return cleaned


def build_view(
    document: InvoiceDocument, charset: frozenset[str], standing: PaymentStanding | None = None
) -> InvoiceView:
    """Everything the invoice prints, as strings the font (covering `charset`) can draw. With a
    `standing`, a later rendition: the payment status, received and balance as at that day."""
    clean = _Cleaner(charset)
    order, seller, customer = document.order, document.seller, document.customer
    currency = document.currency

    def amount(value: Decimal) -> str:
        return format_amount(value, currency)

    payment = document.payment
    status = PAYMENT_STATUS_LABELS.get(payment.status, payment.status.value)
    if standing is not None:
        status = f"{standing.label} (as of {format_date(standing.as_of)})"
    meta = [
        ("Invoice number", document.invoice_number),
        ("Issue date", format_date(document.issued_at)),
        ("Order number", order.order_id),
        ("Order date", format_date(order.created_at)),
        ("Payment status", status),
    ]
    owed = standing.balance_due > 0 if standing is not None else payment.is_unpaid
    if payment.due_date is not None and owed:
        meta.append(("Payment due by", format_date(payment.due_date)))
    if order.status is not OrderStatus.COMPLETED:
        meta.append(("Order status", order.status.value))
    if document.replaces:
        meta.insert(2, ("Replaces invoice", document.replaces))

    payment_lines = _payment_lines(document)

    shipping = document.shipping
    shipping_lines = [("Method", shipping.method)] if shipping else [("Method", "No shipping")]
    if shipping and shipping.tracking_reference:
        shipping_lines.append(("Tracking", shipping.tracking_reference))

    items = [
        ItemRow(
            number=str(index),
            description=clean(line.description),
            sku=clean(line.sku),
            quantity=str(line.quantity),
            unit_price=amount(line.unit_price),
            tax_rate=format_rate(line.tax_rate),
            discount=amount(-line.line_discount) if line.line_discount else "",
            line_total=amount(line.gross_amount - line.line_discount),
        )
        for index, line in enumerate(document.lines, start=1)
    ]

    totals_data = document.totals
    included = document.prices_include_tax
    totals = [TotalRow("Subtotal (incl. tax)" if included else "Subtotal", amount(totals_data.subtotal))]
    line_discounts = sum((line.line_discount for line in document.lines), Decimal(0))
    if line_discounts:
        totals.append(TotalRow("Line discounts", amount(-line_discounts)))
    for discount in document.order_discounts:
        label = f"Discount {discount.code}" + (f" ({discount.description})" if discount.description else "")
        totals.append(TotalRow(label, amount(-discount.amount)))
    if totals_data.discount_total:
        totals.append(TotalRow("Discount total", amount(-totals_data.discount_total)))
    if shipping:
        totals.append(TotalRow(f"Shipping ({shipping.method})", amount(totals_data.shipping_total)))
    if included:
        totals += [
            TotalRow("Grand total (incl. tax)", format_money(totals_data.grand_total, currency), True),
            TotalRow("Included tax", amount(totals_data.tax_total)),
            TotalRow("Net total (excl. tax)", amount(totals_data.net_total)),
        ]
    else:
        totals += [
            TotalRow("Net total", amount(totals_data.net_total)),
            TotalRow("Tax total", amount(totals_data.tax_total)),
            TotalRow("Grand total", format_money(totals_data.grand_total, currency), True),
        ]
    totals += _payment_totals(document) if standing is None else _standing_totals(document, standing)

    seller_lines = [
        *seller.address_lines,
        seller.tax_id,
        f"{seller.email} · {seller.phone}",
        seller.website,
    ]
    view = InvoiceView(
        title="Invoice",
        invoice_number=clean(document.invoice_number),
        currency=currency,
        meta=[(label, clean(value)) for label, value in meta],
        seller_name=clean(seller.name),
        seller_lines=[clean(line) for line in seller_lines],
        customer_name=clean(customer.name),
        customer_lines=[clean(line) for line in address_lines(customer.billing_address)],
        payment_lines=[(label, clean(value)) for label, value in payment_lines],
        shipping_lines=[(label, clean(value)) for label, value in shipping_lines],
        tax_basis_note=(
            f"All amounts in {currency}. "
            + (
                "Prices include tax; the tax they contain is shown per rate."
                if included
                else "Prices exclude tax; tax is added per rate."
            )
        ),
        items=items,
        tax_rows=[
            TaxRow(format_rate(t.rate), amount(t.net), amount(t.tax), amount(t.gross))
            for t in document.tax_lines
        ],
        totals=[TotalRow(clean(t.label), t.amount, t.emphasis) for t in totals],
        terms=clean(_how_to_pay(document, standing) + document.terms),
        return_policy=clean(document.return_policy),
        footer=clean(f"{seller.name} · {seller.tax_id} · {seller.website}"),
        missing_characters=clean.missing,
    )
    return view


def discounted_item_rows(lines: Iterable[PricedLine], currency: str, clean: _Cleaner) -> list[ItemRow]:
    """Item rows of what each line was charged after every discount, its line's and its share of
    the order's (vendor invoices and credit notes), so the rows add up to the document's totals."""
    return [
        ItemRow(
            number=str(index),
            description=clean(line.description),
            sku=clean(line.sku),
            quantity=str(line.quantity),
            unit_price=format_amount(line.unit_price, currency),
            tax_rate=format_rate(line.tax_rate),
            discount=format_amount(-(line.line_discount + line.order_discount_share), currency)
            if line.line_discount or line.order_discount_share
            else "",
            line_total=format_amount(line.amount, currency),
        )
        for index, line in enumerate(lines, start=1)
    ]


def _payment_lines(document: InvoiceDocument) -> list[tuple[str, str]]:
    payment = document.payment
    lines = [("Method", _humanise(payment.method))]
    if payment.transaction_reference:
        lines.append(("Reference", payment.transaction_reference))
    if payment.paid_at and payment.status is PaymentStatus.CAPTURED:
        lines.append(("Paid on", format_date(payment.paid_at)))
    if payment.is_unpaid and payment.due_date is not None:
        # Paid later: by when, and the reference to quote (the invoice number).
        lines += [("Due by", format_date(payment.due_date)), ("Quote", document.invoice_number)]
    return lines


def _payment_totals(document: InvoiceDocument) -> list[TotalRow]:
    payment, currency = document.payment, document.currency
    if payment.status is PaymentStatus.CAPTURED:
        return [TotalRow("Amount paid", format_money(payment.amount_paid, currency))]
    if not payment.is_unpaid or payment.balance_due is None:
        return []
    paid = (
        [TotalRow("Paid so far", format_amount(payment.amount_paid, currency))] if payment.amount_paid else []
    )
    return [*paid, TotalRow("Balance due", format_money(payment.balance_due, currency), True)]


def _standing_totals(document: InvoiceDocument, standing: PaymentStanding) -> list[TotalRow]:
    currency = document.currency
    rows = [TotalRow("Received", format_amount(standing.received, currency))]
    if standing.balance_due > 0:
        return [*rows, TotalRow("Balance due", format_money(standing.balance_due, currency), True)]
    if standing.balance_due < 0:
        return [*rows, TotalRow("Received beyond the total", format_money(-standing.balance_due, currency))]
    return [*rows, TotalRow("Balance due", format_money(standing.balance_due, currency))]


def _how_to_pay(document: InvoiceDocument, standing: PaymentStanding | None = None) -> str:
    """An unpaid invoice says first how to pay it, by when, quoting what."""
    payment = document.payment
    balance = payment.balance_due if standing is None else standing.balance_due
    if payment.due_date is None or balance is None or balance <= 0:
        return ""
    if standing is None and not payment.is_unpaid:
        return ""
    due = format_money(balance, document.currency)
    return (
        f"Please pay {due} by {format_date(payment.due_date)}, quoting {document.invoice_number}. "
        f"{payment.instructions or ''} "
    ).replace("  ", " ")
