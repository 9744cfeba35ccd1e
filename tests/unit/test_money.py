from decimal import Decimal as D

import pytest

from invoicing.domain.money import (
    allocate,
    fits_minor_units,
    format_money,
    minor_units,
    quantum,
    round_money,
    to_minor_units,
)


@pytest.mark.parametrize(("currency", "units"), [("EUR", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3), ("CLF", 4)])
def test_each_currency_has_its_minor_units(currency: str, units: int) -> None:
    assert minor_units(currency) == units
    assert quantum(currency) == D(1).scaleb(-units)


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="XYZ"):
        minor_units("XYZ")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "EUR", "2.35"),  # half up, not banker's (which gives 2.34)
        ("2.335", "EUR", "2.34"),
        ("-2.345", "EUR", "-2.35"),  # half away from zero
        ("0.5", "JPY", "1"),
        ("1.0005", "BHD", "1.001"),
        ("6.325", "EUR", "6.33"),
    ],
)
def test_rounding_is_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert str(round_money(D(amount), currency)) == expected


def test_amounts_that_do_not_fit_the_currency_are_detected() -> None:
    assert fits_minor_units(D("1.50"), "EUR")
    assert fits_minor_units(D("1.5"), "EUR")
    assert not fits_minor_units(D("1.505"), "EUR")
    assert not fits_minor_units(D("100.5"), "JPY")
    assert fits_minor_units(D("1.125"), "BHD")
    assert not fits_minor_units(D("NaN"), "EUR")
    with pytest.raises(ValueError, match="more decimals"):
        to_minor_units(D("1.505"), "EUR")
    assert str(to_minor_units(D("1.5"), "EUR")) == "1.50"


def test_allocation_always_sums_to_the_total_and_is_deterministic() -> None:
    shares = allocate(D("10.00"), [D(1), D(1), D(1)], "EUR")
    assert shares == [D("3.34"), D("3.33"), D("3.33")]
    assert sum(shares) == D("10.00")
    assert allocate(D("100"), [D(1), D(2), D(3)], "JPY") == [D(17), D(33), D(50)]
    assert sum(allocate(D("0.007"), [D("0.1"), D("0.2"), D("0.3")], "BHD")) == D("0.007")


def test_allocation_gives_nothing_to_zero_weights_and_splits_nothing_when_all_are_zero() -> None:
    assert allocate(D("5.00"), [D(0), D(10)], "EUR") == [D("0.00"), D("5.00")]
    assert allocate(D("5.00"), [D(0), D(0)], "EUR") == [D("0.00"), D("0.00")]


def test_money_is_formatted_with_the_currency_decimals() -> None:
    assert format_money(D("1234.5"), "EUR") == "1,234.50 EUR"
    assert format_money(D("1234"), "JPY") == "1,234 JPY"
    assert format_money(D("12.5"), "BHD") == "12.500 BHD"
