"""Partial credits (a return of some lines): each credits those units only, several of them add up
exactly to the line and the invoice, and never beyond what is left, in every price basis."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from fractions import Fraction
from typing import Any

import pytest

from invoicing.domain.corrections import billed_fields, bills_differently
from invoicing.domain.credit_note import (
    CreditNoteDocument,
    CreditReason,
    CreditScope,
    OverCredit,
    full_credit,
    partial_credit,
)
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.money import round_fraction
from invoicing.domain.pricing import TaxLine
from invoicing.domain.validation import validate_order_item
from tests.conftest import make_order, with_derived_totals
from tests.documents import frozen

AT = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


def item(sku: str, quantity: int, unit_price: str, rate: str, discount: str = "0") -> dict[str, Any]:
    return {
        "sku": sku,
        "description": f"{sku} description",
        "quantity": D(quantity),
        "unit_price": D(unit_price),
        "tax_rate": D(rate),
        "discount": D(discount),
        "vendor_id": "V-1",
    }


def invoice_of(
    items: list[dict[str, Any]],
    *,
    currency: str = "EUR",
    include: bool = False,
    order_discount: str | None = None,
    shipping: str | None = None,
) -> InvoiceDocument:
    order = make_order(currency=currency, prices_include_tax=include, items=items)
    order["order_discounts"] = (
        [{"code": "PROMO", "amount": D(order_discount)}] if order_discount is not None else []
    )
    if shipping is None:
        order.pop("shipping")
    else:
        order["shipping"] = {"method": "Courier", "cost": D(shipping), "tax_rate": D("0.20")}
    order = with_derived_totals(order)
    assert validate_order_item(order).is_valid, validate_order_item(order).issues
    return frozen(order)


class Credits:
    """Credit notes made one after another against one invoice, as the corrector makes them."""

    def __init__(self, invoice: InvoiceDocument) -> None:
        self.invoice = invoice
        self.notes: list[CreditNoteDocument] = []
        self.quantities: dict[int, int] = {}

    @property
    def credited(self) -> list[TaxLine]:
        return [line for note in self.notes for line in note.tax_lines]

    def refund(self, refunded: dict[int, int]) -> CreditNoteDocument:
        note = partial_credit(
            self.invoice,
            credit_note_number=f"CN-2026-{len(self.notes) + 1:06d}",
            issued_at=AT,
            refunded=refunded,
            credited_before=self.credited,
            credited_quantities=self.quantities,
        )
        for index, units in refunded.items():
            self.quantities[index] = self.quantities.get(index, 0) + units
        self.notes.append(note)
        return note

    def rest(self) -> CreditNoteDocument:
        note = full_credit(
            self.invoice,
            credit_note_number=f"CN-2026-{len(self.notes) + 1:06d}",
            issued_at=AT,
            reason=CreditReason.REFUNDED,
            credited_before=self.credited,
        )
        self.notes.append(note)
        return note

    def per_rate(self) -> dict[D, tuple[D, D]]:
        by_rate: dict[D, tuple[D, D]] = {}
        for line in self.credited:
            net, tax = by_rate.get(line.rate, (D(0), D(0)))
            by_rate[line.rate] = (net + line.net, tax + line.tax)
        return by_rate

    def grand_total(self) -> D:
        return sum((note.totals.grand_total for note in self.notes), D(0))


def invoice_per_rate(invoice: InvoiceDocument) -> dict[D, tuple[D, D]]:
    return {line.rate: (line.net, line.tax) for line in invoice.tax_lines}


# --- one line, returned a unit at a time ------------------------------------------------------


def test_a_return_credits_the_units_share_of_the_line_after_every_discount() -> None:
    invoice = frozen(make_order())  # BOOK-1: 2 x 10.00 less 2.00 of the order discount = 18.00
    note = Credits(invoice).refund({0: 1})
    assert (note.scope, note.reason, note.shipping) == (CreditScope.LINES, CreditReason.REFUNDED, None)
    [line] = note.lines
    assert (line.sku, line.quantity, line.unit_price, line.amount) == ("BOOK-1", 1, D("10.00"), D("9.00"))
    assert line.gross_amount - line.line_discount - line.order_discount_share == line.amount
    assert note.tax_lines == [TaxLine(rate=D("0.05"), net=D("9.00"), tax=D("0.45"), gross=D("9.45"))]
    assert (note.totals.net_total, note.totals.tax_total, note.totals.grand_total) == (
        D("9.00"),
        D("0.45"),
        D("9.45"),
    )
    assert note.reason_text == "part of the order was returned and refunded (BOOK-1 × 1)"


def test_the_reason_names_the_lines_returned_and_counts_the_rest_of_a_long_return() -> None:
    invoice = invoice_of([item(f"SKU-{i}", 2, "1.00", "0.10") for i in range(12)])
    assert Credits(invoice).refund({0: 1, 3: 2}).reason_text == (
        "part of the order was returned and refunded (SKU-0 × 1, SKU-3 × 2)"
    )
    long = Credits(invoice).refund({i: 1 for i in range(12)})
    assert long.reason_text.endswith("SKU-8 × 1, 3 more lines)") and len(long.lines) == 12


def test_returns_of_one_line_then_the_rest_add_up_exactly_to_the_line_and_the_invoice() -> None:
    # 3 x 3.33 less a discount and a share of the order's: amounts a third of which is not exact.
    invoice = invoice_of(
        [item("PEN", 7, "3.33", "0.19", discount="0.01"), item("INK", 3, "2.99", "0.07")],
        order_discount="1.03",
        shipping="4.99",
    )
    pen = invoice.lines[0]
    credits = Credits(invoice)
    first, second, third = credits.refund({0: 2}), credits.refund({0: 3}), credits.refund({0: 2})
    amounts = [note.lines[0].amount for note in (first, second, third)]
    assert sum(amounts) == pen.amount
    assert amounts[0] == round_fraction(Fraction(pen.amount) * 2 / 7, "EUR")
    assert [note.lines[0].quantity for note in (first, second, third)] == [2, 3, 2]
    # The line is credited in full; the rate keeps what the other line or shipping left on it.
    credits.rest()
    assert credits.per_rate() == invoice_per_rate(invoice)
    assert credits.grand_total() == invoice.totals.grand_total


def test_a_line_refunded_in_full_takes_exactly_its_amount() -> None:
    invoice = invoice_of([item("PEN", 3, "3.33", "0.19", discount="0.02")], order_discount="0.05")
    note = Credits(invoice).refund({0: 3})
    assert note.lines == invoice.lines
    # Its rate is then credited in full: exactly the invoice's net and tax, to the minor unit.
    assert [(t.net, t.tax) for t in note.tax_lines] == [(t.net, t.tax) for t in invoice.tax_lines]


def test_a_full_return_through_partials_equals_a_full_credit_to_the_minor_unit() -> None:
    invoice = invoice_of(
        [item("PEN", 3, "3.33", "0.19"), item("INK", 5, "1.99", "0.07"), item("PAD", 2, "4.45", "0.19")],
        order_discount="0.77",
    )
    whole = full_credit(invoice, credit_note_number="CN-X", issued_at=AT, reason=CreditReason.REFUNDED)
    credits = Credits(invoice)
    for step in ({0: 1, 1: 2}, {2: 1}, {0: 1, 1: 1}, {1: 2, 2: 1}, {0: 1}):
        credits.refund(step)
    assert credits.per_rate() == {t.rate: (t.net, t.tax) for t in whole.tax_lines}
    assert credits.grand_total() == whole.totals.grand_total == invoice.totals.grand_total
    at_once = Credits(invoice).refund({0: 3, 1: 5, 2: 2})
    assert at_once.tax_lines == whole.tax_lines and at_once.totals == whole.totals


# --- never beyond what is left -----------------------------------------------------------------


def test_more_units_than_are_left_on_the_line_is_an_over_credit() -> None:
    credits = Credits(frozen(make_order()))
    credits.refund({0: 1})
    with pytest.raises(OverCredit):
        credits.refund({0: 2})
    with pytest.raises(OverCredit):
        Credits(frozen(make_order())).refund({1: 2})
    with pytest.raises(OverCredit):
        Credits(frozen(make_order())).refund({5: 1})


def test_a_credit_beyond_what_is_left_on_the_rate_is_an_over_credit() -> None:
    invoice = frozen(make_order())
    whole = full_credit(invoice, credit_note_number="CN-X", issued_at=AT, reason=CreditReason.CANCELLED)
    with pytest.raises(OverCredit):
        partial_credit(
            invoice, credit_note_number="CN-Y", issued_at=AT, refunded={0: 1}, credited_before=whole.tax_lines
        )


def test_nothing_to_refund_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one unit"):
        Credits(frozen(make_order())).refund({0: 0})


# --- currencies and price bases ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "prices"),
    [
        ("JPY", ("333", "1999", "47")),
        ("BHD", ("3.333", "19.999", "0.047")),
        ("EUR", ("3.33", "19.99", "0.47")),
    ],
)
@pytest.mark.parametrize("include", [False, True])
def test_partial_credits_add_up_in_every_currency_and_basis(
    currency: str, prices: tuple[str, str, str], include: bool
) -> None:
    discount = {"JPY": "7", "BHD": "0.007", "EUR": "0.07"}[currency]
    invoice = invoice_of(
        [item("A", 3, prices[0], "0.10"), item("B", 7, prices[1], "0.08"), item("C", 9, prices[2], "0.10")],
        currency=currency,
        include=include,
        order_discount=discount,
    )
    credits = Credits(invoice)
    for step in ({0: 1}, {1: 3, 2: 4}, {0: 1, 1: 1}, {2: 5}, {1: 3}, {0: 1}):
        note = credits.refund(step)
        for line in note.tax_lines:  # in minor units, net + tax = gross
            assert line.net + line.tax == line.gross
            assert line.tax == line.tax.quantize(D(1).scaleb(-{"JPY": 0, "BHD": 3, "EUR": 2}[currency]))
        lines_total = sum((line.amount for line in note.lines), D(0))
        assert (note.totals.grand_total if include else note.totals.net_total) == lines_total
    assert credits.per_rate() == invoice_per_rate(invoice)
    assert credits.grand_total() == invoice.totals.grand_total


def test_with_prices_including_tax_a_credit_is_the_gross_with_the_tax_it_contains() -> None:
    invoice = invoice_of([item("A", 3, "10.00", "0.20"), item("B", 1, "5.00", "0.20")], include=True)
    note = Credits(invoice).refund({0: 1})
    # 10.00 gross at 20 %: it contains 10 x 0.2 / 1.2 = 1.666... -> 1.67 of tax, 8.33 net.
    assert note.tax_lines == [TaxLine(rate=D("0.20"), net=D("8.33"), tax=D("1.67"), gross=D("10.00"))]
    assert note.totals.grand_total == D("10.00") and note.lines[0].amount == D("10.00")
    assert note.prices_include_tax


def test_with_prices_excluding_tax_a_credit_is_the_net_plus_its_tax() -> None:
    invoice = invoice_of([item("A", 3, "10.00", "0.20"), item("B", 1, "5.00", "0.20")])
    note = Credits(invoice).refund({0: 1})
    assert note.tax_lines == [TaxLine(rate=D("0.20"), net=D("10.00"), tax=D("2.00"), gross=D("12.00"))]
    assert note.totals.grand_total == D("12.00")


# --- a refund changes nothing billed, yet reaches the corrector ---------------------------------


def test_a_refunded_quantity_bills_the_same_but_is_a_billed_field() -> None:
    order = make_order()
    invoice = frozen(order)
    returned = make_order()
    returned["items"][0]["refunded_quantity"] = D(1)
    assert not bills_differently(invoice, validate_order_item(returned))
    assert billed_fields(returned) != billed_fields(order)
