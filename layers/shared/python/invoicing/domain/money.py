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

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

ROUNDING = ROUND_HALF_UP

# ISO 4217 active codes and their minor units (number of decimal places).
_ZERO_DECIMAL = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMAL = "CLF UYW"
_TWO_DECIMAL = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
    "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD "
    "MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP "
    "PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG"
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
    """
    step = quantum(currency)
    weight_sum = sum(weights, Decimal(0))
    if total == 0 or weight_sum == 0:
        return [Decimal(0).quantize(step) for _ in weights]
    total_units = int((total / step).to_integral_value())
    raw = [Decimal(total_units) * w / weight_sum for w in weights]
    floors = [int(r.to_integral_value(rounding=ROUND_DOWN)) for r in raw]
    leftover = total_units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [(Decimal(units) * step).quantize(step) for units in floors]


def format_amount(amount: Decimal, currency: str) -> str:
    """Amount with the currency's decimals and thousands separators, e.g. '1,234.50'."""
    places = minor_units(currency)
    return f"{amount.quantize(quantum(currency)):,.{places}f}"


def plain_amount(amount: Decimal, currency: str) -> str:
    """Digits in the currency's minor units, no separators ("52.70", "14531"): for machines, and
    whatever DynamoDB did to trailing zeros (it stores 52.70 as 52.7)."""
    return f"{amount.quantize(quantum(currency)):f}"


def format_money(amount: Decimal, currency: str) -> str:
    """'1,234.50 EUR': the code after the amount reads the same in every locale and script."""
    return f"{format_amount(amount, currency)} {currency}"
