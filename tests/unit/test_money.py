from decimal import Decimal as D

import pytest

from invoicing.domain.money import (
    allocate,
    fits_minor_units,
    format_money,
    minor_units,
    plain_amount,
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


def test_the_currencies_are_iso_4217_as_maintained_upstream() -> None:
    """pycountry carries ISO 4217 (through Debian's iso-codes): every active currency is ours
    except the codes we do not invoice in, and nothing withdrawn is left (ANG since XCG, BGN since
    Bulgaria took the euro)."""
    import pycountry

    from invoicing.domain.money import CURRENCY_MINOR_UNITS, NOT_INVOICED

    iso = {currency.alpha_3 for currency in pycountry.currencies}
    assert set(CURRENCY_MINOR_UNITS) == iso - NOT_INVOICED
    assert iso >= NOT_INVOICED
    assert {"XCG", "VED", "ZWG", "SLE"} <= set(CURRENCY_MINOR_UNITS)
    assert not {"ANG", "BGN", "HRK", "SLL"} & set(CURRENCY_MINOR_UNITS)
    assert (minor_units("XCG"), minor_units("VED"), minor_units("CLF"), minor_units("BHD")) == (2, 2, 4, 3)


def test_allocation_breaks_exact_ties_by_the_earlier_line_whatever_the_digits() -> None:
    # 300 cents over 32 : 3.5 : 9.5 gives 213 1/3, 23 1/3 and 63 1/3: three equal remainders, the
    # cent left goes to the first line. Through 28-digit Decimal arithmetic the remainders differed
    # in the last digit and the cent went to the second line (2.13, 0.24, 0.63).
    assert allocate(D("3.00"), [D("32.00"), D("3.50"), D("9.50")], "EUR") == [D("2.14"), D("0.23"), D("0.63")]
    assert allocate(D("1.00"), [D(1)] * 3, "EUR") == [D("0.34"), D("0.33"), D("0.33")]
    assert allocate(D("0.02"), [D("1E-30"), D("1E-30"), D(1)], "EUR") == [D("0.00"), D("0.00"), D("0.02")]


def test_allocation_agrees_with_an_independent_exact_largest_remainder_oracle() -> None:
    import random
    from fractions import Fraction

    rng = random.Random(9)
    for _ in range(2000):
        weights = [D(rng.randint(1, 99999)) / 100 for _ in range(rng.randint(1, 6))]
        total = D(rng.randint(0, 9999)) / 100
        units = int(total * 100)
        raw = [Fraction(units) * Fraction(w) / sum(map(Fraction, weights)) for w in weights]
        shares = [int(r) for r in raw]
        for i in sorted(range(len(raw)), key=lambda i: (-(raw[i] - int(raw[i])), i))[: units - sum(shares)]:
            shares[i] += 1
        assert allocate(total, weights, "EUR") == [D(s) / 100 for s in shares]


@pytest.mark.parametrize("amount", [D("9" * 38), D("1E+125"), D("123456789012345678901234567890.12345678")])
def test_formatting_any_number_dynamodb_stores_never_raises(amount: D) -> None:
    """Found by the fuzz test: a 38-digit figure in a message raised decimal.InvalidOperation."""
    assert format_money(amount, "EUR").endswith(" EUR")
    assert plain_amount(amount, "BHD")
