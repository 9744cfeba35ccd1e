"""The order item: the storefront's write to the Orders table, our public contract.

The README documents these fields as a table. Amounts are Decimal (DynamoDB numbers arrive as
Decimal) in the order's currency; the pydantic model checks shape and types only, business rules
live in `validation.py` so that every problem of an order is reported, not only the first.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, TypeGuard

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from invoicing.domain.payment_terms import CAPTURE_ONLY, PaymentPolicy


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


def _identifier(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must not contain line breaks, tabs or other control or invisible characters")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
Quantity = Annotated[int, BeforeValidator(_whole_number)]
Text = Annotated[str, Strict()]
"""Text is text: a DynamoDB binary value is not decoded into a name or an id."""
Identifier = Annotated[str, Strict(), AfterValidator(_identifier)]
"""An id or code: printable on one line (it goes into keys, headers, file metadata and links)."""

# The contract's limits (README, "Field limits"): every field is bounded, so one order costs
# bounded time and space to check, render, store and announce.
ID_LENGTH = 128
CODE_LENGTH = 64
NAME_LENGTH = 200
ADDRESS_LINE_LENGTH = 200
PLACE_LENGTH = 100
POSTAL_CODE_LENGTH = 32
EMAIL_LENGTH = 254
PHONE_LENGTH = 32
LOCALE_LENGTH = 35
DESCRIPTION_LENGTH = 500
MAX_LINES = 1000
MAX_ORDER_DISCOUNTS = 20
MAX_PREFERRED_CHANNELS = 3


# Optional fields carry their limit in their type: on `X | None` a Field limit reads as a list's.
OptionalLine = Annotated[str, Strict(), StringConstraints(max_length=ADDRESS_LINE_LENGTH)]
OptionalPlace = Annotated[str, Strict(), StringConstraints(max_length=PLACE_LENGTH)]
OptionalPostalCode = Annotated[str, Strict(), StringConstraints(max_length=POSTAL_CODE_LENGTH)]
OptionalEmail = Annotated[str, Strict(), StringConstraints(max_length=EMAIL_LENGTH)]
OptionalPhone = Annotated[str, Strict(), StringConstraints(max_length=PHONE_LENGTH)]
OptionalName = Annotated[str, Strict(), StringConstraints(max_length=NAME_LENGTH)]
OptionalReference = Annotated[
    str, Strict(), StringConstraints(max_length=ID_LENGTH), AfterValidator(_identifier)
]


def is_identifier(value: object) -> TypeGuard[str]:
    """An id as the contract allows it (used where a raw item's id is kept before it parses)."""
    return isinstance(value, str) and 0 < len(value) <= ID_LENGTH and value.isprintable()


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
    line1: Text = Field(min_length=1, max_length=ADDRESS_LINE_LENGTH)
    line2: OptionalLine | None = None
    city: Text = Field(min_length=1, max_length=PLACE_LENGTH)
    region: OptionalPlace | None = None
    postal_code: OptionalPostalCode | None = None
    country: CountryCode = Field(description="ISO 3166-1 alpha-2")


class Customer(_ContractModel):
    customer_id: Identifier = Field(min_length=1, max_length=ID_LENGTH)
    name: Text = Field(
        min_length=1, max_length=NAME_LENGTH, description="any script: 'Zoë Łukasiewicz', '山田太郎'"
    )
    email: OptionalEmail | None = None
    phone: OptionalPhone | None = Field(default=None, description="E.164, e.g. +447700900123")
    billing_address: Address
    preferred_channels: list[Channel] = Field(
        default_factory=lambda: [Channel.EMAIL], max_length=MAX_PREFERRED_CHANNELS
    )
    locale: Identifier = Field(default="en-GB", max_length=LOCALE_LENGTH)


class LineItem(_ContractModel):
    sku: Identifier = Field(min_length=1, max_length=CODE_LENGTH)
    description: Text = Field(min_length=1, max_length=DESCRIPTION_LENGTH)
    quantity: Quantity
    unit_price: Decimal
    tax_rate: Decimal = Field(description="fraction: 0.20 for 20 %")
    discount: Decimal = Field(default=Decimal(0), description="line discount, an amount off this line")
    refunded_quantity: Quantity = Field(
        default=0, description="units of this line returned and refunded so far (0 to quantity)"
    )
    """Not billed differently: the invoice still says what was sold; what was refunded is credited
    (a credit note for those units), so a write that raises it reaches the corrector."""
    vendor_id: Identifier = Field(min_length=1, max_length=ID_LENGTH)


class OrderDiscount(_ContractModel):
    code: Identifier = Field(min_length=1, max_length=CODE_LENGTH)
    description: OptionalName | None = None
    amount: Decimal = Field(description="amount off the items, same tax basis as the prices")


class Shipping(_ContractModel):
    method: Text = Field(min_length=1, max_length=PLACE_LENGTH)
    cost: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    tracking_reference: OptionalReference | None = None


class Payment(_ContractModel):
    method: Identifier = Field(
        min_length=1, max_length=CODE_LENGTH, description="card, bank_transfer, paypal, ..."
    )
    transaction_reference: OptionalReference | None = None
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
    order_id: Identifier = Field(min_length=1, max_length=ID_LENGTH)
    status: OrderStatus
    created_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    currency: Text = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")
    prices_include_tax: bool = False
    customer: Customer
    items: list[LineItem] = Field(max_length=MAX_LINES)
    order_discounts: list[OrderDiscount] = Field(default_factory=list, max_length=MAX_ORDER_DISCOUNTS)
    shipping: Shipping | None = None
    payment: Payment
    totals: StorefrontTotals

    @property
    def is_invoiceable_state(self) -> bool:
        """Completed with payment captured: the moment an invoice becomes due."""
        return self.status is OrderStatus.COMPLETED and self.payment.status is PaymentStatus.CAPTURED


def is_due_for_invoice(image: dict[str, object] | None, policy: PaymentPolicy = CAPTURE_ONLY) -> bool:
    """Cheap check on a raw item, without parsing the whole order: completed, and paid (captured)
    or paid later by a method the policy invoices on completion (`domain/payment_terms.py`)."""
    if not image:
        return False
    payment = image.get("payment")
    payment_status = payment.get("status") if isinstance(payment, dict) else None
    if image.get("status") != OrderStatus.COMPLETED:
        return False
    return payment_status == PaymentStatus.CAPTURED or policy.awaits_payment(
        payment if isinstance(payment, dict) else None
    )
