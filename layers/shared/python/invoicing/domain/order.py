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

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone (ISO 8601 with offset or Z)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


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
    line1: str = Field(min_length=1)
    line2: str | None = None
    city: str = Field(min_length=1)
    region: str | None = None
    postal_code: str | None = None
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class Customer(_ContractModel):
    customer_id: str = Field(min_length=1)
    name: str = Field(min_length=1, description="any script: 'Zoë Łukasiewicz', '山田太郎'")
    email: str | None = None
    phone: str | None = Field(default=None, description="E.164, e.g. +447700900123")
    billing_address: Address
    preferred_channels: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL])
    locale: str = "en-GB"


class LineItem(_ContractModel):
    sku: str = Field(min_length=1)
    description: str = Field(min_length=1)
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal = Field(description="fraction: 0.20 for 20 %")
    discount: Decimal = Field(default=Decimal(0), description="line discount, an amount off this line")
    vendor_id: str = Field(min_length=1)


class OrderDiscount(_ContractModel):
    code: str = Field(min_length=1)
    description: str | None = None
    amount: Decimal = Field(description="amount off the items, same tax basis as the prices")


class Shipping(_ContractModel):
    method: str = Field(min_length=1)
    cost: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    tracking_reference: str | None = None


class Payment(_ContractModel):
    method: str = Field(min_length=1, description="card, bank_transfer, paypal, ...")
    transaction_reference: str | None = None
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
    order_id: str = Field(min_length=1)
    status: OrderStatus
    created_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")
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
