"""Re-derive every figure of an order from its lines, never from the storefront's totals.

See `money.py` for the rounding rule. Order-level discounts apply to the items (not shipping) and
are allocated across lines before tax, so each tax rate is charged on what was really paid.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

from invoicing.domain.money import allocate, quantum, round_fraction, round_money
from invoicing.domain.order import Order


class _Figures(BaseModel):
    model_config = ConfigDict(frozen=True)


class PricedLine(_Figures):
    sku: str
    description: str
    vendor_id: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal
    gross_amount: Decimal
    """quantity x unit price, before any discount (in the order's price basis)."""
    line_discount: Decimal
    order_discount_share: Decimal
    amount: Decimal
    """What this line costs after all discounts, in the order's price basis."""


class TaxLine(_Figures):
    rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


class Totals(_Figures):
    subtotal: Decimal
    """Sum of quantity x unit price, before discounts, in the order's price basis."""
    discount_total: Decimal
    shipping_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    grand_total: Decimal


class PricedOrder(_Figures):
    currency: str
    prices_include_tax: bool
    lines: list[PricedLine]
    shipping_amount: Decimal
    shipping_tax_rate: Decimal
    tax_lines: list[TaxLine]
    totals: Totals


EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow, DivisionByZero])
"""Enough digits that no product or sum of in-range figures (validation keeps them in range, see
`validation.MAX_AMOUNT`) is ever rounded before the one rounding rule applies; the one quotient,
tax contained in a tax-inclusive price, is computed as an exact fraction."""


def price_order(order: Order) -> PricedOrder:
    with localcontext(EXACT):
        return _price_order(order)


def _price_order(order: Order) -> PricedOrder:
    currency = order.currency
    zero = Decimal(0).quantize(quantum(currency))

    after_line_discount = [item.quantity * item.unit_price - item.discount for item in order.items]
    order_discount = sum((d.amount for d in order.order_discounts), zero)
    shares = allocate(order_discount, after_line_discount, currency)

    lines = [
        PricedLine(
            sku=item.sku,
            description=item.description,
            vendor_id=item.vendor_id,
            quantity=item.quantity,
            unit_price=item.unit_price,
            tax_rate=item.tax_rate,
            gross_amount=item.quantity * item.unit_price,
            line_discount=item.discount,
            order_discount_share=share,
            amount=amount - share,
        )
        for item, amount, share in zip(order.items, after_line_discount, shares, strict=True)
    ]

    shipping_amount = order.shipping.cost if order.shipping else zero
    shipping_rate = order.shipping.tax_rate if order.shipping else Decimal(0)

    taxed_amounts = [(line.tax_rate, line.amount) for line in lines]
    if shipping_amount:
        taxed_amounts.append((shipping_rate, shipping_amount))
    tax_lines = tax_breakdown(taxed_amounts, order.prices_include_tax, currency)

    subtotal = sum((line.gross_amount for line in lines), zero)
    discount_total = sum((line.line_discount for line in lines), zero) + order_discount
    tax_total = sum((t.tax for t in tax_lines), zero)
    net_total = sum((t.net for t in tax_lines), zero)
    grand_total = subtotal - discount_total + shipping_amount
    if not order.prices_include_tax:
        grand_total += tax_total

    return PricedOrder(
        currency=currency,
        prices_include_tax=order.prices_include_tax,
        lines=lines,
        shipping_amount=shipping_amount,
        shipping_tax_rate=shipping_rate,
        tax_lines=tax_lines,
        totals=Totals(
            subtotal=subtotal,
            discount_total=discount_total,
            shipping_total=shipping_amount,
            net_total=net_total,
            tax_total=tax_total,
            grand_total=grand_total,
        ),
    )


def tax_breakdown(
    taxed_amounts: Iterable[tuple[Decimal, Decimal]], prices_include_tax: bool, currency: str
) -> list[TaxLine]:
    """One line per tax rate, tax computed on the rate's total and rounded once (see money.py).

    `taxed_amounts` are (rate, amount) pairs in the price basis: net, or gross when prices
    include tax.
    """
    zero = Decimal(0).quantize(quantum(currency))
    basis_by_rate: dict[Decimal, Decimal] = {}
    for rate, amount in taxed_amounts:
        basis_by_rate[rate] = basis_by_rate.get(rate, zero) + amount
    return [
        _tax_line(rate, basis, prices_include_tax, currency) for rate, basis in sorted(basis_by_rate.items())
    ]


def _tax_line(rate: Decimal, basis: Decimal, prices_include_tax: bool, currency: str) -> TaxLine:
    if prices_include_tax:
        tax = round_fraction(Fraction(basis) * Fraction(rate) / (1 + Fraction(rate)), currency)
        return TaxLine(rate=rate, net=basis - tax, tax=tax, gross=basis)
    tax = round_money(basis * rate, currency)
    return TaxLine(rate=rate, net=basis, tax=tax, gross=basis + tax)
