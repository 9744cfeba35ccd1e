from decimal import Decimal as D
from typing import Any

import pytest

from invoicing.domain.validation import IssueCode, validate_order_item
from tests.conftest import make_order


def codes(item: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(issue.code.value, issue.field) for issue in validate_order_item(item).issues]


def test_a_correct_order_is_valid_and_priced() -> None:
    result = validate_order_item(make_order())
    assert result.is_valid
    assert result.priced is not None
    assert result.priced.totals.grand_total == D("52.73")


def test_every_problem_is_reported_not_only_the_first() -> None:
    item = make_order()
    item["items"][0]["quantity"] = D(-1)
    item["items"][1]["unit_price"] = D("30.005")
    item["items"][1]["tax_rate"] = D("1.5")
    item["totals"]["grand_total"] = D("99.99")
    item["customer"]["email"] = None
    item["customer"]["phone"] = "0123"
    found = codes(item)
    assert ("QUANTITY_NOT_POSITIVE", "items[0].quantity") in found
    assert ("AMOUNT_PRECISION", "items[1].unit_price") in found
    assert ("TAX_RATE_OUT_OF_RANGE", "items[1].tax_rate") in found
    assert ("TOTAL_MISMATCH", "totals.grand_total") in found
    assert ("NO_REACHABLE_CHANNEL", "customer") in found
    assert len(found) >= 5
    assert validate_order_item(item).priced is None


def test_each_issue_has_a_stable_code_a_field_and_a_readable_message() -> None:
    item = make_order()
    item["totals"]["tax_total"] = D("7.22")
    issue = next(i for i in validate_order_item(item).issues if i.field == "totals.tax_total")
    assert issue.code is IssueCode.TOTAL_MISMATCH
    assert "7.22 EUR" in issue.message and "7.23 EUR" in issue.message


def test_a_malformed_item_lists_every_missing_field() -> None:
    found = codes({"order_id": "X", "status": "COMPLETED", "currency": "EUR"})
    fields = {field for code, field in found if code == "FIELD_MISSING"}
    assert {"created_at", "customer", "items", "payment", "totals"} <= fields


def test_types_are_checked_at_the_boundary() -> None:
    item = make_order(currency="euro", created_at="yesterday")
    found = codes(item)
    assert ("FIELD_INVALID", "currency") in found
    assert ("FIELD_INVALID", "created_at") in found
    naive = make_order(completed_at="2026-11-21T14:02:11")
    assert ("FIELD_INVALID", "completed_at") in codes(naive)


def test_unknown_currency_payment_state_and_empty_items() -> None:
    item = make_order(currency="XYZ", items=[], status="SHIPPED")
    item["payment"]["status"] = "AUTHORIZED"
    found = {code for code, _ in codes(item)}
    assert {"CURRENCY_UNKNOWN", "ITEMS_EMPTY", "ORDER_NOT_COMPLETED", "PAYMENT_NOT_CAPTURED"} <= found


def test_discounts_larger_than_what_they_discount_are_refused() -> None:
    item = make_order()
    item["items"][1]["discount"] = D("31.00")
    item["order_discounts"] = [{"code": "BIG", "amount": D("500.00")}]
    found = {code for code, _ in codes(item)}
    assert {"LINE_DISCOUNT_EXCEEDS_LINE", "ORDER_DISCOUNT_EXCEEDS_ITEMS"} <= found


def test_negative_prices_and_shipping_are_refused() -> None:
    item = make_order()
    item["items"][0]["unit_price"] = D("-1.00")
    item["shipping"]["cost"] = D("-5")
    found = codes(item)
    assert ("AMOUNT_NEGATIVE", "items[0].unit_price") in found
    assert ("AMOUNT_NEGATIVE", "shipping.cost") in found


def test_captured_payment_must_equal_the_invoice_total() -> None:
    item = make_order()
    item["payment"]["amount_captured"] = D("52.72")
    assert ("PAYMENT_AMOUNT_MISMATCH", "payment.amount_captured") in codes(item)


def test_completed_orders_must_say_when() -> None:
    assert ("COMPLETED_AT_MISSING", "completed_at") in codes(make_order(completed_at=None))


def test_a_customer_is_reachable_through_any_valid_channel_or_the_portal() -> None:
    sms_only = make_order()
    sms_only["customer"].update(email=None, preferred_channels=["sms"])
    assert "NO_REACHABLE_CHANNEL" not in {code for code, _ in codes(sms_only)}
    portal = make_order()
    portal["customer"].update(email=None, phone=None, preferred_channels=["portal"])
    assert "NO_REACHABLE_CHANNEL" not in {code for code, _ in codes(portal)}
    nobody = make_order()
    nobody["customer"].update(email="not-an-address", phone="12", preferred_channels=["email", "sms"])
    assert ("NO_REACHABLE_CHANNEL", "customer") in codes(nobody)


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        (("items", 0, "unit_price"), D("1" * 30), "AMOUNT_OUT_OF_RANGE"),  # 30 digits: DynamoDB allows 38
        (("items", 0, "unit_price"), D("9.99E+37"), "AMOUNT_OUT_OF_RANGE"),
        (("items", 0, "discount"), D("-1E+20"), "AMOUNT_OUT_OF_RANGE"),
        (("totals", "grand_total"), D("1" * 38), "AMOUNT_OUT_OF_RANGE"),
        (("items", 0, "quantity"), D(10) ** 30, "QUANTITY_OUT_OF_RANGE"),
        (("items", 0, "unit_price"), D("1.0000000000000000000000000000001"), "AMOUNT_PRECISION"),
        (("items", 0, "tax_rate"), D("0.12345678901234567890123456789"), "TAX_RATE_OUT_OF_RANGE"),
        (("items", 0, "tax_rate"), D("1E+999999"), "TAX_RATE_OUT_OF_RANGE"),
    ],
)
def test_figures_that_do_not_fit_are_validation_problems_never_exceptions(
    path: tuple[Any, ...], value: D, code: str
) -> None:
    item = make_order()
    target: Any = item
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    result = validate_order_item(item)  # must not raise (decimal.InvalidOperation did)
    assert code in {issue.code.value for issue in result.issues}
    assert result.priced is None and not result.is_valid
    assert all(issue.message and len(issue.message) < 300 for issue in result.issues)


def test_a_storefront_following_the_allocation_rule_to_the_tie_is_not_rejected() -> None:
    item = make_order(
        items=[
            {**make_order()["items"][0], "quantity": D(1), "unit_price": D("32.00"), "tax_rate": D("0.20")},
            {**make_order()["items"][0], "quantity": D(1), "unit_price": D("3.50"), "tax_rate": D("0.10")},
            {**make_order()["items"][1], "discount": D(0), "unit_price": D("9.50"), "tax_rate": D("0")},
        ],
        order_discounts=[{"code": "THREE", "amount": D("3.00")}],
        shipping=None,
    )
    # The README's rule, exact ties to the earlier line: shares 2.14, 0.23, 0.63.
    net = [D("29.86"), D("3.27"), D("8.87")]
    tax = (net[0] * D("0.20")).quantize(D("0.01")) + (net[1] * D("0.10")).quantize(D("0.01"))
    item["totals"] = {
        "subtotal": D("45.00"),
        "discount_total": D("3.00"),
        "shipping_total": D("0.00"),
        "tax_total": tax,
        "grand_total": sum(net, D(0)) + tax,
    }
    item["payment"]["amount_captured"] = item["totals"]["grand_total"]
    assert validate_order_item(item).issues == []


@pytest.mark.parametrize("currency", ["XCG", "VED"])
def test_new_iso_currencies_are_accepted_and_withdrawn_ones_refused(currency: str) -> None:
    assert "CURRENCY_UNKNOWN" not in {code for code, _ in codes(make_order(currency=currency))}
    assert ("CURRENCY_UNKNOWN", "currency") in codes(make_order(currency="ANG"))


@pytest.mark.parametrize("country", ["XX", "ZZ", "QQ", "UK", "pl", "POL"])
def test_a_country_that_does_not_exist_is_refused(country: str) -> None:
    item = make_order()
    item["customer"]["billing_address"]["country"] = country
    assert ("FIELD_INVALID", "customer.billing_address.country") in codes(item)


def test_true_is_not_a_quantity() -> None:
    item = make_order()
    item["items"][0]["quantity"] = True
    assert ("FIELD_INVALID", "items[0].quantity") in codes(item)


def test_the_country_list_is_iso_3166_as_maintained_upstream() -> None:
    import pycountry

    from invoicing.domain.order import COUNTRY_CODES

    assert {country.alpha_2 for country in pycountry.countries} | {"XK"} == COUNTRY_CODES


def test_a_binary_value_is_not_taken_for_a_name() -> None:
    item = make_order()
    item["customer"]["name"] = "Zoë".encode()  # what a DynamoDB B attribute deserializes to
    assert ("FIELD_INVALID", "customer.name") in codes(item)


def test_structural_and_rule_problems_come_out_together_in_one_pass() -> None:
    """A customer-service agent fixing an order sees every problem at once, not two and then four."""
    item = make_order()
    item["customer"]["billing_address"]["country"] = "Poland"  # structural
    item["created_at"] = "yesterday"  # structural
    item["items"][0]["quantity"] = D(0)  # a rule, on a line that parses
    item["items"][1]["unit_price"] = D("30.005")  # a rule
    item["payment"]["status"] = "AUTHORIZED"  # a rule
    item["currency"] = "EUR"
    found = codes(item)
    assert ("FIELD_INVALID", "customer.billing_address.country") in found
    assert ("FIELD_INVALID", "created_at") in found
    assert ("QUANTITY_NOT_POSITIVE", "items[0].quantity") in found
    assert ("AMOUNT_PRECISION", "items[1].unit_price") in found
    assert ("PAYMENT_NOT_CAPTURED", "payment.status") in found


def test_structural_problems_are_said_in_words_not_in_pydantic() -> None:
    item = make_order(currency="euro", created_at="2026-11-20 09:15")
    item["items"][0]["quantity"] = "two"
    messages = {i.field: i.message for i in validate_order_item(item).issues}
    assert (
        messages["currency"]
        == "currency is not in the expected form: a three-letter ISO 4217 code such as EUR"
    )
    assert messages["items[0].quantity"] == "items[0].quantity must be a whole number"
    assert "offset" in messages["created_at"] and "2026-11-21T14:02:11Z" in messages["created_at"]
    assert not [m for m in messages.values() if "should" in m or "Value error" in m or "pattern" in m]


def test_field_limits_are_said_in_words_with_the_limit() -> None:
    item = make_order()
    item["customer"]["name"] = "N" * 201
    item["items"] = [item["items"][0]] * 1001
    messages = {i.field: (i.code.value, i.message) for i in validate_order_item(item).issues}
    assert messages["customer.name"] == (
        "FIELD_TOO_LONG",
        "customer.name is longer than the 200 characters an invoice takes",
    )
    assert messages["items"] == ("TOO_MANY_ENTRIES", "items has more than the 1,000 entries an invoice takes")


@pytest.mark.parametrize("field", ["sku", "vendor_id"])
def test_an_id_with_a_line_break_or_an_invisible_character_is_refused(field: str) -> None:
    for bad in ("A\nB", "A\u200bB", "A\x07"):
        item = make_order()
        item["items"][0][field] = bad
        assert ("FIELD_INVALID", f"items[0].{field}") in codes(item)


def test_the_item_must_carry_the_id_it_is_stored_under() -> None:
    assert validate_order_item(make_order(), key="ORD-1001").is_valid
    result = validate_order_item(make_order(), key="ORD-9999")
    assert [(i.code.value, i.field) for i in result.issues] == [("FIELD_INVALID", "order_id")]
    assert "ORD-9999" in result.issues[0].message


def test_problems_beyond_fifty_are_counted_by_code_in_one_last_issue() -> None:
    item = make_order()
    item["items"] = [{**item["items"][0], "quantity": D(0), "tax_rate": D(2)} for _ in range(300)]
    result = validate_order_item(item)
    assert len(result.issues) == 50 and result.issue_count > 600
    last = result.issues[-1]
    assert last.code.value == "MORE_ISSUES"
    assert "QUANTITY_NOT_POSITIVE" in last.message and "TAX_RATE_OUT_OF_RANGE" in last.message


def test_a_tax_rate_far_out_of_range_is_reported_not_computed() -> None:
    """Found by the fuzz test: shipping taxed at 1.2 x 10^29 was priced and its message raised."""
    item = make_order()
    item["shipping"]["tax_rate"] = D("123456789012345678901234567890.12345678")
    assert ("TAX_RATE_OUT_OF_RANGE", "shipping.tax_rate") in codes(item)


def test_a_refunded_quantity_within_the_line_is_valid_and_bills_the_same() -> None:
    plain = validate_order_item(make_order())
    item = make_order()
    item["items"][0]["refunded_quantity"] = D(2)
    refunded = validate_order_item(item)
    assert refunded.is_valid and refunded.order is not None
    assert refunded.order.items[0].refunded_quantity == 2
    assert refunded.priced == plain.priced  # a refund changes nothing the invoice bills


@pytest.mark.parametrize("refunded", [D(3), D(-1)])
def test_a_refunded_quantity_outside_zero_to_the_quantity_is_refused_in_words(refunded: D) -> None:
    item = make_order()
    item["items"][0]["refunded_quantity"] = refunded
    [issue] = [i for i in validate_order_item(item).issues if i.field == "items[0].refunded_quantity"]
    assert issue.code is IssueCode.REFUND_EXCEEDS_QUANTITY
    assert issue.message == (
        f"BOOK-1: the refunded quantity must be between 0 and the 2 ordered, got {refunded}"
    )


def test_a_refunded_quantity_is_a_whole_number_and_checked_in_the_same_pass() -> None:
    item = make_order()
    item["items"][0]["refunded_quantity"] = True
    item["items"][1]["refunded_quantity"] = D(5)
    item["items"][1]["unit_price"] = D("30.001")
    found = codes(item)
    assert ("FIELD_INVALID", "items[0].refunded_quantity") in found
    assert ("REFUND_EXCEEDS_QUANTITY", "items[1].refunded_quantity") in found
    assert ("AMOUNT_PRECISION", "items[1].unit_price") in found
