"""Vendor credit notes and which vendors a customer correction concerns, on the domain alone.

A vendor invoice is frozen from a customer invoice document as the vendor invoicer freezes it; the
credits are made one after another against it as the invoicer makes them (what each took kept as
the ledger keeps it, `VendorCredited`), so several partial credits must add up exactly to the
vendor statement, commission and amount owed included, and never beyond it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from typing import Any

import pytest

from invoicing.domain.credit_note import CreditReason, CreditScope, OverCredit
from invoicing.domain.invoice import InvoiceDocument, InvoiceKind
from invoicing.domain.money import quantum
from invoicing.domain.pricing import TaxLine
from invoicing.domain.validation import validate_order_item
from invoicing.domain.vendor_corrections import VendorAction, plan_vendor
from invoicing.domain.vendor_credit_note import (
    VENDOR_CREDIT_NOTE_SCHEMA,
    VendorCredited,
    VendorCreditNoteDocument,
    units_left,
    vendor_credit,
    vendor_creditable,
)
from invoicing.domain.vendor_invoice import VendorInvoiceDocument, freeze_vendor_invoice
from invoicing.domain.vendors import Vendor, vendor_statements
from tests.conftest import make_order, with_derived_totals
from tests.documents import frozen

AT = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
SHA = "0" * 64


def item(
    sku: str, quantity: int, unit_price: str, rate: str, vendor: str, discount: str = "0"
) -> dict[str, Any]:
    return {
        "sku": sku,
        "description": f"{sku} description",
        "quantity": D(quantity),
        "unit_price": D(unit_price),
        "tax_rate": D(rate),
        "discount": D(discount),
        "vendor_id": vendor,
    }


def customer_invoice(
    items: list[dict[str, Any]],
    *,
    currency: str = "EUR",
    include: bool = False,
    order_discount: str | None = None,
    number: str = "INV-2026-000042",
) -> InvoiceDocument:
    order = make_order(currency=currency, prices_include_tax=include, items=items)
    order["order_discounts"] = (
        [{"code": "PROMO", "amount": D(order_discount)}] if order_discount is not None else []
    )
    order.pop("shipping")  # the marketplace's, never a vendor's
    order = with_derived_totals(order)
    checked = validate_order_item(order)
    assert checked.is_valid, checked.issues
    return frozen(order, number)


def vendor(vendor_id: str, commission: str) -> Vendor:
    return Vendor(
        vendor_id=vendor_id, name=f"{vendor_id} Ltd", email="billing@v.example", commission_rate=D(commission)
    )


def vendor_invoice(
    invoice: InvoiceDocument, vendor_id: str, commission: str = "0.12", number: str = "VND-2026-000001"
) -> VendorInvoiceDocument:
    vendors = {v: vendor(v, commission) for v in invoice.vendor_ids}
    [statement] = [s for s in vendor_statements(invoice.priced(), vendors) if s.vendor.vendor_id == vendor_id]
    return freeze_vendor_invoice(invoice, SHA, statement, invoice_number=number, issued_at=AT)


def rounded(amount: D, currency: str) -> D:
    """The documented rule, written out: once, half away from zero, to the minor unit."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


class VendorCredits:
    """Vendor credit notes made one after another against one vendor invoice, each recording on
    `VendorCredited` what it took, as the invoicer records it on the vendor invoice's ledger row."""

    def __init__(self, invoice: VendorInvoiceDocument) -> None:
        self.invoice = invoice
        self.notes: list[VendorCreditNoteDocument] = []
        self.credited = VendorCredited()

    def credit(self, units: dict[int, int]) -> VendorCreditNoteDocument:
        note = vendor_credit(
            self.invoice,
            credit_note_number=f"VCN-2026-{len(self.notes) + 1:06d}",
            issued_at=AT,
            units=units,
            credited=self.credited,
            customer_credit_note_number="CN-2026-000001",
            reason=CreditReason.REFUNDED,
            reason_text="part of the order was returned and refunded",
        )
        quantities = dict(self.credited.quantities)
        for index, more in units.items():
            quantities[index] = quantities.get(index, 0) + more
        self.credited = VendorCredited(
            tax_lines=[*self.credited.tax_lines, *note.tax_lines],
            quantities=quantities,
            commission=self.credited.commission + note.totals.commission,
        )
        self.notes.append(note)
        return note

    def total(self, field: str) -> D:
        return sum((getattr(note.totals, field) for note in self.notes), D(0))


# A vendor with a 3-unit line at 4.99 among others, in each price basis and with an order
# discount shared over the lines (shares in fractions of a cent), and a vendor's commission whose
# per-unit roundings overshoot the statement's (3 x round(4.99 x 0.18) = 2.70, round(14.97 x 0.18)
# = 2.69), as its tax at 23 % does (3 x 1.15 = 3.45, 3.44): the last credit must take what is left.
CASES = {
    "net prices": dict(
        items=[
            item("TEA-3", 3, "4.99", "0.23", "V-A"),
            item("BOOK-1", 2, "10.00", "0.05", "V-A"),
            item("LAMP-7", 1, "30.00", "0.23", "V-B", discount="5.00"),
        ],
        commission="0.18",
    ),
    "net prices, order discount": dict(
        items=[
            item("TEA-3", 3, "4.99", "0.05", "V-A"),
            item("LAMP-7", 1, "30.00", "0.23", "V-B", discount="5.00"),
            item("MUG-2", 2, "7.45", "0.23", "V-A", discount="0.15"),
        ],
        order_discount="4.50",
        commission="0.15",
    ),
    "prices include tax": dict(
        items=[
            item("TEA-3", 3, "4.99", "0.23", "V-A"),
            item("BOOK-1", 2, "10.00", "0.05", "V-A"),
            item("LAMP-7", 1, "30.00", "0.23", "V-B", discount="5.00"),
        ],
        include=True,
        order_discount="4.50",
        commission="0.18",
    ),
    "prices include tax, one rate": dict(
        items=[item("TEA-3", 3, "4.99", "0.20", "V-A"), item("TEA-5", 5, "3.33", "0.20", "V-A")],
        include=True,
        commission="0.125",
    ),
    "JPY": dict(
        items=[item("TEA-3", 3, "499", "0.10", "V-A"), item("CUP-2", 2, "125", "0.08", "V-A")],
        currency="JPY",
        commission="0.18",
    ),
    "BHD": dict(
        items=[item("OUD-3", 3, "4.995", "0.10", "V-A"), item("OIL-2", 2, "1.125", "0.10", "V-A")],
        currency="BHD",
        include=True,
        commission="0.15",
    ),
}


def case(name: str) -> VendorInvoiceDocument:
    spec = dict(CASES[name])
    commission = spec.pop("commission")
    return vendor_invoice(customer_invoice(**spec), "V-A", commission)


def one_unit_at_a_time(invoice: VendorInvoiceDocument) -> list[dict[int, int]]:
    """Every unit of every line, one credit per unit, taking turns across the lines."""
    left = {i: line.quantity for i, line in enumerate(invoice.statement.lines)}
    order: list[dict[int, int]] = []
    while any(left.values()):
        for index in sorted(left):
            if left[index]:
                order.append({index: 1})
                left[index] -= 1
    return order


@pytest.mark.parametrize("name", sorted(CASES))
def test_partial_vendor_credits_add_up_exactly_to_the_vendor_statement(name: str) -> None:
    invoice = case(name)
    statement = invoice.statement
    credits = VendorCredits(invoice)
    steps = one_unit_at_a_time(invoice)
    assert len(steps) > 2
    for units in steps[:-1]:
        note = credits.credit(units)
        assert note.scope is CreditScope.LINES
        assert note.totals.gross_sales == note.totals.net_sales + note.totals.tax
        assert note.totals.amount_owed == note.totals.gross_sales - note.totals.commission
        assert note.totals.commission == rounded(
            note.totals.net_sales * statement.vendor.commission_rate, statement.currency
        )

    # What is left before the last unit, as the ledger would say it.
    left_net = statement.net_sales - credits.total("net_sales")
    left_tax = statement.tax - credits.total("tax")
    left_commission = statement.commission - credits.total("commission")
    assert units_left(invoice, credits.credited) == steps[-1]
    last = credits.credit(steps[-1])
    assert (last.totals.net_sales, last.totals.tax, last.totals.commission) == (
        left_net,
        left_tax,
        left_commission,
    )
    assert last.scope is CreditScope.LINES  # credited before: not the whole invoice on its own

    for field in ("net_sales", "tax", "gross_sales", "commission", "amount_owed"):
        assert credits.total(field) == getattr(statement, field), field
    # Per rate too, and nothing is left to credit afterwards.
    for charged in statement.tax_lines:
        mine = [t for n in credits.notes for t in n.tax_lines if t.rate == charged.rate]
        assert sum(t.net for t in mine) == charged.net and sum(t.tax for t in mine) == charged.tax
    assert vendor_creditable(invoice, credits.credited).is_exhausted
    assert units_left(invoice, credits.credited) == {}
    # Each unit credited is its line's, at the line's price.
    for line_index, line in enumerate(statement.lines):
        credited_lines = [
            n.lines[0] for n, units in zip(credits.notes, steps, strict=True) if line_index in units
        ]
        assert sum(c.quantity for c in credited_lines) == line.quantity
        assert sum(c.amount for c in credited_lines) == line.amount
        assert {c.sku for c in credited_lines} == {line.sku}


def test_the_last_credit_gives_back_the_commission_left_not_its_own_rounding() -> None:
    """3 x 4.99 at 23 %, 18 % commission: each tin's commission rounds to 0.90 and tax to 1.15, the
    statement's to 2.69 and 3.44, so the third tin must take 0.89 and 1.14."""
    invoice = vendor_invoice(customer_invoice([item("TEA-3", 3, "4.99", "0.23", "V-A")]), "V-A", "0.18")
    assert (invoice.statement.commission, invoice.statement.tax) == (D("2.69"), D("3.44"))
    credits = VendorCredits(invoice)
    first, second, third = (credits.credit({0: 1}) for _ in range(3))
    assert [n.totals.commission for n in (first, second, third)] == [D("0.90"), D("0.90"), D("0.89")]
    assert [n.totals.tax for n in (first, second, third)] == [D("1.15"), D("1.15"), D("1.14")]
    assert [n.totals.net_sales for n in (first, second, third)] == [D("4.99")] * 3
    assert third.totals.amount_owed == D("4.99") + D("1.14") - D("0.89")
    assert credits.total("amount_owed") == invoice.statement.amount_owed == D("14.97") + D("3.44") - D("2.69")


def test_crediting_more_units_than_are_left_is_refused() -> None:
    invoice = case("net prices")  # TEA-3 x 3, BOOK-1 x 2
    credits = VendorCredits(invoice)
    credits.credit({0: 2})
    for units in ({0: 2}, {0: 1, 1: 3}, {2: 1}, {-1: 1}):
        with pytest.raises(OverCredit):
            vendor_credit(
                invoice,
                credit_note_number="VCN-2026-000099",
                issued_at=AT,
                units=units,
                credited=credits.credited,
                customer_credit_note_number="CN-2026-000001",
                reason=CreditReason.REFUNDED,
                reason_text="x",
            )
    credits.credit({0: 1, 1: 2})  # exactly what is left is fine
    with pytest.raises(OverCredit):
        credits.credit({0: 1})
    with pytest.raises(ValueError, match="at least one unit"):
        VendorCredits(invoice).credit({0: 0})


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_single_credit_of_every_unit_is_full_and_gives_back_the_whole_statement(name: str) -> None:
    invoice = case(name)
    statement = invoice.statement
    note = VendorCredits(invoice).credit({i: line.quantity for i, line in enumerate(statement.lines)})
    assert note.scope is CreditScope.FULL
    assert (
        note.totals.net_sales,
        note.totals.tax,
        note.totals.gross_sales,
        note.totals.commission,
        note.totals.amount_owed,
    ) == (
        statement.net_sales,
        statement.tax,
        statement.gross_sales,
        statement.commission,
        statement.amount_owed,
    )
    assert note.lines == statement.lines and note.tax_lines == statement.tax_lines
    assert note.document_schema == VENDOR_CREDIT_NOTE_SCHEMA == "saypro.vendor-credit-note.v1"
    assert note.kind is InvoiceKind.VENDOR_CREDIT_NOTE
    assert note.credits.invoice_number == invoice.invoice_number
    assert note.credits.grand_total == statement.gross_sales
    assert (note.vendor, note.customer_id, note.order) == (
        statement.vendor,
        invoice.customer_id,
        invoice.order,
    )
    assert note.currency == statement.currency and note.prices_include_tax == invoice.prices_include_tax


def test_what_is_left_after_a_partial_credit_is_credited_in_lines_scope_and_adds_up() -> None:
    invoice = case("net prices, order discount")
    credits = VendorCredits(invoice)
    credits.credit({0: 1})
    rest = credits.credit(units_left(invoice, credits.credited))
    assert rest.scope is CreditScope.LINES
    assert credits.total("amount_owed") == invoice.statement.amount_owed
    assert credits.total("commission") == invoice.statement.commission


@pytest.mark.parametrize(
    ("currency", "unit_price", "commission", "expected"),
    [
        # Exact halves of the minor unit round away from zero (half-even would go down).
        ("EUR", "0.25", "0.10", D("0.03")),  # 0.025
        ("EUR", "4.99", "0.15", D("0.75")),  # 0.7485
        ("JPY", "125", "0.10", D("13")),  # 12.5
        ("JPY", "499", "0.18", D("90")),  # 89.82
        ("BHD", "1.125", "0.10", D("0.113")),  # 0.1125
        ("BHD", "4.995", "0.15", D("0.749")),  # 0.74925
    ],
)
def test_the_commission_of_a_partial_credit_is_rounded_once_half_up_to_the_minor_unit(
    currency: str, unit_price: str, commission: str, expected: D
) -> None:
    invoice = vendor_invoice(
        customer_invoice([item("X-1", 2, unit_price, "0.10", "V-A")], currency=currency), "V-A", commission
    )
    note = VendorCredits(invoice).credit({0: 1})
    assert note.totals.net_sales == D(unit_price)
    assert note.totals.commission == expected == rounded(D(unit_price) * D(commission), currency)
    assert note.totals.commission.as_tuple().exponent == quantum(currency).as_tuple().exponent


# --- plan_vendor: which vendors a correction concerns -------------------------------------------

THREE_VENDORS = [
    item("BOOK-1", 2, "10.00", "0.05", "V-BOOKS"),
    item("LAMP-7", 1, "30.00", "0.23", "V-HOME", discount="5.00"),
    item("TEA-3", 3, "4.99", "0.05", "V-TEA"),
    item("PEN-4", 4, "2.50", "0.23", "V-BOOKS"),
]


def three_vendor_invoice(number: str = "INV-2026-000001", **changes: Any) -> InvoiceDocument:
    """THREE_VENDORS (no order discount: a line's change concerns its vendor only), with item
    fields changed (`line<i>_<field>=value`)."""
    items = [dict(line) for line in THREE_VENDORS]
    for name, value in changes.items():
        line, field = name.split("_", 1)
        items[int(line.removeprefix("line"))][field] = value
    return customer_invoice(items, number=number)


def credited_of(invoice: VendorInvoiceDocument, quantities: dict[int, int]) -> VendorCredited:
    """What credit notes of these units took (made as the invoicer makes them)."""
    credits = VendorCredits(invoice)
    if quantities:
        credits.credit(quantities)
    return credits.credited


def test_more_units_credited_to_the_customer_are_credited_to_their_vendor_by_its_own_line_index() -> None:
    original = three_vendor_invoice()
    books = vendor_invoice(original, "V-BOOKS")
    assert [line.sku for line in books.statement.lines] == ["BOOK-1", "PEN-4"]  # customer lines 0, 3
    # The customer's newest invoice: the same lines; its credit notes took 1 book and 3 pens.
    plan = plan_vendor(original, {"0": 1, "3": 3}, books, VendorCredited())
    assert (plan.vendor_id, plan.action, plan.units) == ("V-BOOKS", VendorAction.CREDIT_UNITS, {0: 1, 1: 3})
    # Already credited one pen: only the two more.
    plan = plan_vendor(original, {"0": 1, "3": 3}, books, credited_of(books, {1: 1}))
    assert (plan.action, plan.units) == (VendorAction.CREDIT_UNITS, {0: 1, 1: 2})
    # The tea's only line is the customer's line 2.
    tea = vendor_invoice(original, "V-TEA")
    plan = plan_vendor(original, {"2": 2, "3": 1}, tea, VendorCredited())
    assert (plan.action, plan.units) == (VendorAction.CREDIT_UNITS, {0: 2})
    # A revised customer invoice (another number) with the same lines for this vendor is the same.
    revised = three_vendor_invoice("INV-2026-000007", line1_unit_price=D("32.00"))
    assert plan_vendor(revised, {"2": 2}, tea, VendorCredited()).units == {0: 2}


def test_units_credited_beyond_a_lines_quantity_credit_the_line_only() -> None:
    original = three_vendor_invoice()
    tea = vendor_invoice(original, "V-TEA")
    plan = plan_vendor(original, {"2": 5}, tea, credited_of(tea, {0: 1}))
    assert (plan.action, plan.units) == (VendorAction.CREDIT_UNITS, {0: 2})


def test_a_changed_price_replaces_the_vendor_invoice_crediting_every_unit_left() -> None:
    original = three_vendor_invoice()
    books = vendor_invoice(original, "V-BOOKS")
    repriced = three_vendor_invoice("INV-2026-000002", line3_unit_price=D("2.60"))
    plan = plan_vendor(repriced, {}, books, VendorCredited())
    assert (plan.action, plan.units) == (VendorAction.REPLACE, {0: 2, 1: 4})
    # Some units credited before: the rest of them.
    plan = plan_vendor(repriced, {"3": 1}, books, credited_of(books, {0: 1, 1: 1}))
    assert (plan.action, plan.units) == (VendorAction.REPLACE, {0: 1, 1: 3})
    # The other vendors' lines did not change: nothing for them.
    for other in ("V-HOME", "V-TEA"):
        assert plan_vendor(repriced, {}, vendor_invoice(original, other), VendorCredited()).action is (
            VendorAction.UNCHANGED
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"line0_quantity": D(3)},
        {"line3_discount": D("1.00")},
        {"line0_tax_rate": D("0.08")},
        {"line0_description": "Pan Tadeusz (paperback)"},
    ],
)
def test_any_change_of_a_vendors_lines_replaces_its_invoice(changes: dict[str, Any]) -> None:
    original = three_vendor_invoice()
    books = vendor_invoice(original, "V-BOOKS")
    plan = plan_vendor(three_vendor_invoice("INV-2026-000002", **changes), {}, books, VendorCredited())
    assert (plan.action, plan.units) == (VendorAction.REPLACE, {0: 2, 1: 4})


def test_an_order_discount_that_moved_concerns_every_vendor_it_is_shared_over() -> None:
    original = customer_invoice(THREE_VENDORS, order_discount="3.00")
    discounted = customer_invoice(THREE_VENDORS, order_discount="6.00", number="INV-2026-000002")
    for vendor_id in ("V-BOOKS", "V-HOME", "V-TEA"):
        plan = plan_vendor(discounted, {}, vendor_invoice(original, vendor_id), VendorCredited())
        assert plan.action is VendorAction.REPLACE, vendor_id


def test_a_change_of_price_basis_replaces_the_vendor_invoice() -> None:
    original = customer_invoice(THREE_VENDORS)
    gross = customer_invoice(THREE_VENDORS, include=True, number="INV-2026-000002")
    tea = vendor_invoice(original, "V-TEA")
    assert plan_vendor(gross, {}, tea, VendorCredited()).action is VendorAction.REPLACE


def test_a_vendor_gone_from_the_newest_invoice_is_credited_all_that_is_left() -> None:
    original = three_vendor_invoice()
    tea = vendor_invoice(original, "V-TEA")
    without_tea = customer_invoice(
        [line for line in THREE_VENDORS if line["vendor_id"] != "V-TEA"], number="INV-2026-000002"
    )
    plan = plan_vendor(without_tea, {}, tea, VendorCredited())
    assert (plan.vendor_id, plan.action, plan.units) == ("V-TEA", VendorAction.CREDIT_ALL, {0: 3})
    plan = plan_vendor(without_tea, {}, tea, credited_of(tea, {0: 2}))
    assert (plan.action, plan.units) == (VendorAction.CREDIT_ALL, {0: 1})
    # Nothing left of it: nothing more to do.
    plan = plan_vendor(without_tea, {}, tea, credited_of(tea, {0: 3}))
    assert (plan.action, plan.units) == (VendorAction.UNCHANGED, {})


def test_nothing_changed_for_the_vendor_is_unchanged() -> None:
    original = three_vendor_invoice()
    books = vendor_invoice(original, "V-BOOKS")
    assert plan_vendor(original, {}, books, VendorCredited()).action is VendorAction.UNCHANGED
    # Units credited on another vendor's lines do not concern this one.
    plan = plan_vendor(original, {"1": 1, "2": 3}, books, VendorCredited())
    assert (plan.action, plan.units) == (VendorAction.UNCHANGED, {})
    # What the customer was credited is what the vendor was: nothing more.
    plan = plan_vendor(original, {"0": 1, "3": 2}, books, credited_of(books, {0: 1, 1: 2}))
    assert (plan.action, plan.units) == (VendorAction.UNCHANGED, {})


def test_fewer_units_credited_than_before_never_take_a_credit_back() -> None:
    original = three_vendor_invoice()
    books = vendor_invoice(original, "V-BOOKS")
    credited = credited_of(books, {0: 2, 1: 3})
    for customer in ({}, {"0": 1}, {"0": 1, "3": 2}, {"0": 2, "3": 3}):
        plan = plan_vendor(original, customer, books, credited)
        assert (plan.action, plan.units) == (VendorAction.UNCHANGED, {}), customer
    # Fewer on one line, more on the other: only the more.
    plan = plan_vendor(original, {"0": 1, "3": 4}, books, credited)
    assert (plan.action, plan.units) == (VendorAction.CREDIT_UNITS, {1: 1})


def test_the_credited_record_tax_lines_read_back_from_the_ledger_match_by_rate_value() -> None:
    """The ledger gives rates back as DynamoDB stores numbers (0.2 for 0.20): still what is left."""
    invoice = case("prices include tax, one rate")
    credits = VendorCredits(invoice)
    credits.credit({0: 1})
    as_stored = VendorCredited(
        tax_lines=[
            TaxLine(rate=t.rate.normalize(), net=t.net, tax=t.tax, gross=t.gross)
            for t in credits.credited.tax_lines
        ],
        quantities=credits.credited.quantities,
        commission=credits.credited.commission,
    )
    assert [t.rate for t in as_stored.tax_lines] == [D("0.2")]
    left = vendor_creditable(invoice, as_stored)
    assert left.gross == invoice.statement.gross_sales - credits.total("gross_sales")
    again = vendor_credit(
        invoice,
        credit_note_number="VCN-2026-000002",
        issued_at=AT,
        units=units_left(invoice, as_stored),
        credited=as_stored,
        customer_credit_note_number="CN-2026-000002",
        reason=CreditReason.CANCELLED,
        reason_text="cancelled",
    )
    assert again.totals.gross_sales + credits.total("gross_sales") == invoice.statement.gross_sales
    assert again.totals.amount_owed + credits.total("amount_owed") == invoice.statement.amount_owed
