"""Money: Decimal amounts in each currency's minor units, and the one rounding rule.

Rounding rule (also in the README): amounts the storefront sends must already be exact in the
currency's minor units, so line amounts (quantity x unit price - line discount) are exact and are
never rounded. Only two things are ever rounded, each once, to the currency's minor unit:

* order-level discounts, allocated across lines in proportion to their amounts by the largest
  remainder method, so the shares always add up to the discount exactly;
* the tax of each tax rate, computed on the total of that rate's amounts, with ROUND_HALF_UP
  (half away from zero, "commercial rounding").

Every total is then a sum of those exact or once-rounded amounts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

ROUNDING = ROUND_HALF_UP

# ISO 4217's active codes (as of its amendment that introduced XCG, in force 2025-03-31, and
# Bulgaria's move to the euro on 2026-01-01), and their minor units. A test pins the list against
# pycountry's copy of ISO 4217 (a maintained source): when ISO changes, updating pycountry in the
# lock fails that test until this list follows. Not invoiced: precious metals, bond-market and
# accounting units, SDRs, the testing code and XXX, and fund codes used only between banks
# (`NOT_INVOICED`); Chile's UF (CLF) and Uruguay's indexed units are, as contracts use them.
_ZERO_DECIMAL = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMAL = "CLF UYW"
_TWO_DECIMAL = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
    "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD "
    "MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP "
    "PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
NOT_INVOICED = frozenset(
    [
        "XAU",
        "XAG",
        "XPD",
        "XPT",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XDR",
        "XSU",
        "XUA",
        "XAD",
        "XTS",
        "XXX",
        "BOV",
        "CHE",
        "CHW",
        "COU",
        "MXV",
        "USN",
    ]
)

CURRENCY_MINOR_UNITS: dict[str, int] = {
    **{code: 2 for code in _TWO_DECIMAL.split()},
    **{code: 0 for code in _ZERO_DECIMAL.split()},
    **{code: 3 for code in _THREE_DECIMAL.split()},
    **{code: 4 for code in _FOUR_DECIMAL.split()},
}


class UnknownCurrencyError(ValueError):
    """The code is not an active ISO 4217 currency we can invoice in."""


def is_known_currency(currency: str) -> bool:
    return currency in CURRENCY_MINOR_UNITS


def minor_units(currency: str) -> int:
    try:
        return CURRENCY_MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrencyError(currency) from None


def quantum(currency: str) -> Decimal:
    """The smallest amount of the currency: Decimal('0.01') for EUR, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit with the project's one rule (ROUND_HALF_UP)."""
    return amount.quantize(quantum(currency), rounding=ROUNDING)


def round_fraction(value: Fraction, currency: str) -> Decimal:
    """An exact rational rounded once to the minor unit by the same rule (half away from zero)."""
    units = value / Fraction(quantum(currency))
    whole, remainder = divmod(abs(units.numerator), units.denominator)
    if 2 * remainder >= units.denominator:
        whole += 1
    return (Decimal(-whole if units < 0 else whole) * quantum(currency)).quantize(quantum(currency))


def to_minor_units(amount: Decimal, currency: str) -> Decimal:
    """Express an exact amount with exactly the currency's number of decimals (no rounding)."""
    exact = amount.quantize(quantum(currency), rounding=ROUND_DOWN)
    if exact != amount:
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return exact


def fits_minor_units(amount: Decimal, currency: str) -> bool:
    """True when the amount has no more decimals than the currency allows (1.50 EUR yes, 1.505 no)."""
    if not amount.is_finite():
        return False
    return amount == amount.quantize(quantum(currency), rounding=ROUND_DOWN)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split `total` across `weights` proportionally, in minor units, by largest remainder.

    The shares always sum exactly to `total`; ties go to the earlier weight, so the result is
    deterministic. Zero weights get nothing unless every weight is zero (then nothing is split).
    Everything is computed exactly, in integers and fractions (never through a Decimal context's
    28 digits): two remainders that are equal are equal, however many digits they would need.
    """
    step = quantum(currency)
    exact = [Fraction(w) for w in weights]
    weight_sum = sum(exact, Fraction(0))
    if total == 0 or weight_sum == 0:
        return [Decimal(0).quantize(step) for _ in weights]
    total_units = Fraction(total) / Fraction(step)
    if total_units.denominator != 1:
        raise ValueError(f"{total} has more decimals than {currency} allows")
    raw = [total_units * w / weight_sum for w in exact]
    floors = [math.floor(r) for r in raw]
    leftover = int(total_units) - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [(Decimal(units) * step).quantize(step) for units in floors]


_FORMATTING = Context(prec=200)
"""Formatting never raises: any number DynamoDB stores (below 10^126) fits in its minor units,
where the default 28 digits fail on a 38-digit one."""


def format_amount(amount: Decimal, currency: str) -> str:
    """Amount with the currency's decimals and thousands separators, e.g. '1,234.50'."""
    places = minor_units(currency)
    return f"{amount.quantize(quantum(currency), context=_FORMATTING):,.{places}f}"


def plain_amount(amount: Decimal, currency: str) -> str:
    """Digits in the currency's minor units, no separators ("52.70", "14531"): for machines, and
    whatever DynamoDB did to trailing zeros (it stores 52.70 as 52.7)."""
    return f"{amount.quantize(quantum(currency), context=_FORMATTING):f}"


def format_money(amount: Decimal, currency: str) -> str:
    """'1,234.50 EUR': the code after the amount reads the same in every locale and script."""
    return f"{format_amount(amount, currency)} {currency}"
