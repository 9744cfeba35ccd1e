from decimal import Decimal as D
from typing import Any

from invoicing.domain.order import Order
from invoicing.domain.pricing import price_order
from tests.conftest import make_order


def priced(**overrides: Any):  # type: ignore[no-untyped-def]
    return price_order(Order.model_validate(make_order(**overrides)))


def test_order_discount_is_allocated_before_tax_so_each_rate_is_charged_on_what_was_paid() -> None:
    result = priced()
    # Lines after line discounts: 20.00 (5 %) and 25.00 (23 %); WELCOME 4.50 splits 2.00 / 2.50.
    assert [line.order_discount_share for line in result.lines] == [D("2.00"), D("2.50")]
    assert [line.amount for line in result.lines] == [D("18.00"), D("22.50")]
    by_rate = {t.rate: t for t in result.tax_lines}
    assert by_rate[D("0.05")].tax == D("0.90")
    # 22.50 + shipping 5.00 = 27.50 at 23 % = 6.325 -> 6.33 (half up, once per rate)
    assert by_rate[D("0.23")].net == D("27.50")
    assert by_rate[D("0.23")].tax == D("6.33")
    assert result.totals.tax_total == D("7.23")
    assert result.totals.grand_total == D("52.73")
    assert result.totals.net_total + result.totals.tax_total == result.totals.grand_total


def test_tax_inclusive_prices_keep_the_shelf_price_as_the_total() -> None:
    result = priced(
        currency="GBP",
        prices_include_tax=True,
        items=[
            {
                "sku": "A",
                "description": "Tea",
                "quantity": 3,
                "unit_price": D("4.99"),
                "tax_rate": D("0.20"),
                "vendor_id": "V1",
            },
            {
                "sku": "B",
                "description": "Bread",
                "quantity": 1,
                "unit_price": D("1.20"),
                "tax_rate": D("0"),
                "vendor_id": "V1",
            },
        ],
        order_discounts=[],
        shipping={"method": "Royal Mail", "cost": D("3.99"), "tax_rate": D("0.20")},
    )
    assert result.totals.grand_total == D("14.97") + D("1.20") + D("3.99")
    standard = next(t for t in result.tax_lines if t.rate == D("0.20"))
    # 18.96 gross at 20 % inclusive: tax = 18.96 * 0.2 / 1.2 = 3.16
    assert standard.gross == D("18.96")
    assert standard.tax == D("3.16")
    assert standard.net == D("15.80")
    assert result.totals.tax_total == D("3.16")


def test_zero_decimal_currency_rounds_tax_to_whole_yen() -> None:
    result = priced(
        currency="JPY",
        items=[
            {
                "sku": "A",
                "description": "Matcha",
                "quantity": 3,
                "unit_price": D("1234"),
                "tax_rate": D("0.08"),
                "vendor_id": "V1",
            }
        ],
        order_discounts=[{"code": "X", "amount": D("100")}],
        shipping={"method": "Yamato", "cost": D("500"), "tax_rate": D("0.10")},
    )
    rates = {t.rate: t.tax for t in result.tax_lines}
    assert rates[D("0.08")] == D("288")  # (3702 - 100) * 0.08 = 288.16 -> 288
    assert rates[D("0.10")] == D("50")
    assert result.totals.grand_total == D("3702") - D("100") + D("500") + D("338")


def test_three_decimal_currency_keeps_fils() -> None:
    result = priced(
        currency="BHD",
        items=[
            {
                "sku": "A",
                "description": "Dates",
                "quantity": 7,
                "unit_price": D("1.125"),
                "tax_rate": D("0.10"),
                "vendor_id": "V1",
            }
        ],
        order_discounts=[],
        shipping=None,
    )
    assert result.totals.subtotal == D("7.875")
    assert result.tax_lines[0].tax == D("0.788")  # 0.7875 -> 0.788
    assert result.totals.grand_total == D("8.663")


def test_untaxed_shipping_has_its_own_zero_rate_line() -> None:
    result = priced(shipping={"method": "Post", "cost": D("4.00"), "tax_rate": D("0")})
    zero = next(t for t in result.tax_lines if t.rate == 0)
    assert zero.net == D("4.00")
    assert zero.tax == D("0.00")
