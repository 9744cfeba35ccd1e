"""The order summary an invoice email shows, from the invoice document: rows that add up.

The lines are shown as the PDF shows them (quantity x unit price less the line's own discount);
the order's promo codes follow as their own rows, then shipping, then tax when prices exclude it.
So the rows above the total always add up to the total, to the minor unit; when prices include
tax, the tax is a note under the total, not a row of the sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.money import format_money


@dataclass(frozen=True)
class SummaryRow:
    label: str
    amount: Decimal
    quantity: int | None = None


@dataclass(frozen=True)
class OrderSummary:
    currency: str
    lines: list[SummaryRow]
    adjustments: list[SummaryRow]
    """Order discounts (negative), shipping and, when prices exclude it, tax."""
    total: Decimal
    included_tax: Decimal | None
    """The tax contained in the total when prices include tax."""

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency)

    @property
    def rows_sum(self) -> Decimal:
        return sum((row.amount for row in [*self.lines, *self.adjustments]), Decimal(0))


def order_summary(document: InvoiceDocument) -> OrderSummary:
    lines = [
        SummaryRow(line.description, line.gross_amount - line.line_discount, line.quantity)
        for line in document.lines
    ]
    adjustments = [
        SummaryRow(f"Discount {d.code}" + (f" ({d.description})" if d.description else ""), -d.amount)
        for d in document.order_discounts
        if d.amount
    ]
    if document.shipping:
        adjustments.append(
            SummaryRow(f"Shipping ({document.shipping.method})", document.totals.shipping_total)
        )
    if not document.prices_include_tax:
        adjustments.append(SummaryRow("Tax", document.totals.tax_total))
    return OrderSummary(
        currency=document.currency,
        lines=lines,
        adjustments=adjustments,
        total=document.totals.grand_total,
        included_tax=document.totals.tax_total if document.prices_include_tax else None,
    )
