"""The order item: the storefront's write to the Orders table, our public contract.

The README documents these fields as a table. Amounts are Decimal (DynamoDB numbers arrive as
Decimal) in the order's currency; the pydantic model checks shape and types only, business rules
live in `validation.py` so that every problem of an order is reported, not only the first.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("the date and time needs its offset, e.g. 2026-11-21T14:02:11Z (Z is UTC)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]

# ISO 3166-1 alpha-2, the officially assigned codes (pinned by a test against pycountry's copy),
# and XK for Kosovo, user-assigned but what the EU and carriers use.
# fmt: off
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI
    BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN
    CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK
    FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK
    ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP
    NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW XK
    """.split()  # noqa: SIM905 - one line of codes reads better than 250
)
# fmt: on


def _country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 country code (two capital letters: PL, DE, GB)")
    return code


def _whole_number(value: object) -> object:
    """A count is a number: `true` is not a quantity of 1."""
    if isinstance(value, bool):
        raise ValueError("a quantity must be a whole number, not true or false")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
Quantity = Annotated[int, BeforeValidator(_whole_number)]
Text = Annotated[str, Strict()]
"""Text is text: a DynamoDB binary value is not decoded into a name or an id."""


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PORTAL = "portal"


class _ContractModel(BaseModel):
    # Unknown fields are ignored so the storefront can add fields without breaking invoicing.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class Address(_ContractModel):
    line1: Text = Field(min_length=1)
    line2: Text | None = None
    city: Text = Field(min_length=1)
    region: Text | None = None
    postal_code: Text | None = None
    country: CountryCode = Field(description="ISO 3166-1 alpha-2")


class Customer(_ContractModel):
    customer_id: Text = Field(min_length=1)
    name: Text = Field(min_length=1, description="any script: 'Zoë Łukasiewicz', '山田太郎'")
    email: Text | None = None
    phone: Text | None = Field(default=None, description="E.164, e.g. +447700900123")
    billing_address: Address
    preferred_channels: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL])
    locale: Text = "en-GB"


class LineItem(_ContractModel):
    sku: Text = Field(min_length=1)
    description: Text = Field(min_length=1)
    quantity: Quantity
    unit_price: Decimal
    tax_rate: Decimal = Field(description="fraction: 0.20 for 20 %")
    discount: Decimal = Field(default=Decimal(0), description="line discount, an amount off this line")
    vendor_id: Text = Field(min_length=1)


class OrderDiscount(_ContractModel):
    code: Text = Field(min_length=1)
    description: Text | None = None
    amount: Decimal = Field(description="amount off the items, same tax basis as the prices")


class Shipping(_ContractModel):
    method: Text = Field(min_length=1)
    cost: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    tracking_reference: Text | None = None


class Payment(_ContractModel):
    method: Text = Field(min_length=1, description="card, bank_transfer, paypal, ...")
    transaction_reference: Text | None = None
    amount_captured: Decimal
    status: PaymentStatus
    captured_at: AwareDatetime | None = None


class StorefrontTotals(_ContractModel):
    """What the storefront believes the totals are. We re-derive every one and compare."""

    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    grand_total: Decimal


class Order(_ContractModel):
    order_id: Text = Field(min_length=1)
    status: OrderStatus
    created_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    currency: Text = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")
    prices_include_tax: bool = False
    customer: Customer
    items: list[LineItem]
    order_discounts: list[OrderDiscount] = Field(default_factory=list)
    shipping: Shipping | None = None
    payment: Payment
    totals: StorefrontTotals

    @property
    def is_invoiceable_state(self) -> bool:
        """Completed with payment captured: the moment an invoice becomes due."""
        return self.status is OrderStatus.COMPLETED and self.payment.status is PaymentStatus.CAPTURED


def is_due_for_invoice(image: dict[str, object] | None) -> bool:
    """Cheap check on a raw item: completed with captured payment, without parsing the whole order."""
    if not image:
        return False
    payment = image.get("payment")
    payment_status = payment.get("status") if isinstance(payment, dict) else None
    return image.get("status") == OrderStatus.COMPLETED and payment_status == PaymentStatus.CAPTURED
