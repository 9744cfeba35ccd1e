"""The customer invoice as a document of record: frozen when its number is allocated.

`freeze_invoice` takes the validated order and its re-derived figures and copies into one
immutable, versioned document everything the invoice says: seller, customer and billing address,
the lines after discounts, tax per rate, totals, payment, shipping, terms and a fingerprint of the
order item it was made from. From then on the PDF, the email and SMS, the vendor invoices, the API
and everything later read this document (see `documents.py` for its bytes and hash), never the
storefront's order item, which may change at any time.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from invoicing.domain.money import to_minor_units
from invoicing.domain.order import Address, Channel, Order, OrderDiscount, OrderStatus, PaymentStatus
from invoicing.domain.payment_terms import PayLaterTerms, due_date
from invoicing.domain.pricing import PricedLine, PricedOrder, TaxLine, Totals

INVOICE_SCHEMA = "saypro.invoice.v1"


class InvoiceKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    VENDOR = "VENDOR"
    CREDIT_NOTE = "CREDIT_NOTE"
    """A credit note against a customer invoice (`domain/credit_note.py`), in its own series."""
    VENDOR_CREDIT_NOTE = "VENDOR_CREDIT_NOTE"
    """A credit note against a vendor invoice (`domain/vendor_credit_note.py`), in its own series."""

    @property
    def is_vendors(self) -> bool:
        """A vendor's document: it belongs to the vendor, not to the customer."""
        return self in (InvoiceKind.VENDOR, InvoiceKind.VENDOR_CREDIT_NOTE)


class InvoiceStatus(StrEnum):
    NUMBERED = "NUMBERED"
    """A number is allocated and the document frozen with it; the files are not stored yet."""
    STORED = "STORED"
    """The document and its PDF are in S3 and recorded; the announcement is not written yet."""
    ISSUED = "ISSUED"
    """Stored, and `InvoiceIssued` is in the outbox (published at least once, see `outbox.py`)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Seller(BaseModel):
    """The marketplace's own block at the top of every invoice (per-environment configuration)."""

    model_config = ConfigDict(frozen=True)

    name: str = "SayPro Online Marketplace"
    address_lines: list[str] = Field(default_factory=lambda: ["1 Market Street", "Cape Town 8001", "ZA"])
    tax_id: str = "VAT 4000000000"
    email: str = "billing@saypro.example"
    phone: str = "+27 21 000 0000"
    website: str = "https://saypro.example"


DEFAULT_TERMS = (
    "Paid in full at checkout; no amount is due. Prices and taxes as shown. "
    "Questions about this invoice: billing@saypro.example, quoting the invoice number."
)
DEFAULT_RETURN_POLICY = (
    "Items may be returned within 30 days of delivery in their original condition. "
    "Refunds are made to the original payment method and documented by a credit note."
)


class BilledCustomer(_Frozen):
    customer_id: str
    name: str
    billing_address: Address
    locale: str
    email: str | None = None
    """Contact at issue. Delivery uses the order's current contact (customer service may correct
    it) and falls back to this; neither is printed on the invoice."""
    phone: str | None = None
    preferred_channels: list[Channel]


class OrderReference(_Frozen):
    """Which order, and which version of its item, the document was made from."""

    order_id: str
    created_at: datetime
    completed_at: datetime | None
    status: OrderStatus
    source_sha256: str
    """SHA-256 of the order item as invoiced (canonical JSON, see `documents.order_fingerprint`)."""


class PaymentDetails(_Frozen):
    method: str
    transaction_reference: str | None = None
    status: PaymentStatus
    amount_paid: Decimal
    paid_at: datetime | None = None
    due_date: date | None = None
    """Paid later (`domain/payment_terms.py`): the last day to pay; None when paid at issue."""
    balance_due: Decimal | None = None
    """Paid later: what is still to pay at issue (the total less any deposit)."""
    instructions: str | None = None
    """Paid later: how to pay, quoting the invoice number (the reference to quote)."""

    @property
    def is_unpaid(self) -> bool:
        return self.balance_due is not None and self.balance_due > 0


class ShippingDetails(_Frozen):
    method: str
    cost: Decimal
    tax_rate: Decimal
    tracking_reference: str | None = None


class InvoiceDocument(_Frozen):
    """Everything a customer invoice says. Schema `saypro.invoice.v1` (README, "The invoice document")."""

    document_schema: Literal["saypro.invoice.v1"] = "saypro.invoice.v1"
    kind: Literal[InvoiceKind.CUSTOMER] = InvoiceKind.CUSTOMER
    invoice_number: str
    issued_at: datetime
    seller: Seller
    customer: BilledCustomer
    order: OrderReference
    currency: str
    prices_include_tax: bool
    lines: list[PricedLine]
    """After every discount: `amount` is what the line costs in the order's price basis."""
    order_discounts: list[OrderDiscount]
    shipping: ShippingDetails | None
    tax_lines: list[TaxLine]
    totals: Totals
    payment: PaymentDetails
    terms: str = DEFAULT_TERMS
    return_policy: str = DEFAULT_RETURN_POLICY
    replaces: str | None = None
    """The invoice this revised invoice replaces (credited by a credit note issued with it)."""

    @property
    def file_name(self) -> str:
        return f"{self.invoice_number}.pdf"

    @property
    def vendor_ids(self) -> list[str]:
        """The vendors with lines on the invoice, in the order they first appear."""
        return list(dict.fromkeys(line.vendor_id for line in self.lines))

    def priced(self) -> PricedOrder:
        """The figures again in the pricing model's shape (vendor statements are built from it)."""
        return PricedOrder(
            currency=self.currency,
            prices_include_tax=self.prices_include_tax,
            lines=self.lines,
            shipping_amount=self.shipping.cost if self.shipping else self.totals.shipping_total,
            shipping_tax_rate=self.shipping.tax_rate if self.shipping else Decimal(0),
            tax_lines=self.tax_lines,
            totals=self.totals,
        )


_LINE_AMOUNTS = ("unit_price", "gross_amount", "line_discount", "order_discount_share", "amount")


def _exact(amount: Decimal, currency: str) -> Decimal:
    """With exactly the currency's decimals ("0" -> "0.00" in EUR); validation made it exact."""
    return to_minor_units(amount, currency)


def _in_minor_units(priced: PricedOrder) -> PricedOrder:
    """Every amount written with the currency's decimals, so the document reads "5.00", not "5"."""
    currency = priced.currency
    return priced.model_copy(
        update={
            "lines": [
                line.model_copy(
                    update={name: _exact(getattr(line, name), currency) for name in _LINE_AMOUNTS}
                )
                for line in priced.lines
            ],
            "tax_lines": [
                tax.model_copy(
                    update={name: _exact(getattr(tax, name), currency) for name in ("net", "tax", "gross")}
                )
                for tax in priced.tax_lines
            ],
            "totals": priced.totals.model_copy(
                update={name: _exact(value, currency) for name, value in priced.totals.model_dump().items()}
            ),
            "shipping_amount": _exact(priced.shipping_amount, currency),
        }
    )


def freeze_invoice(
    order: Order,
    priced: PricedOrder,
    *,
    invoice_number: str,
    issued_at: datetime,
    seller: Seller,
    source_sha256: str,
    replaces: str | None = None,
    pay_later: PayLaterTerms | None = None,
) -> InvoiceDocument:
    """`pay_later`: the method's terms when the order is invoiced before its money comes in."""
    customer, payment, shipping = order.customer, order.payment, order.shipping
    priced = _in_minor_units(priced)
    currency = priced.currency
    return InvoiceDocument(
        invoice_number=invoice_number,
        issued_at=issued_at,
        seller=seller,
        customer=BilledCustomer(
            customer_id=customer.customer_id,
            name=customer.name,
            billing_address=customer.billing_address,
            locale=customer.locale,
            email=customer.email,
            phone=customer.phone,
            preferred_channels=customer.preferred_channels,
        ),
        order=OrderReference(
            order_id=order.order_id,
            created_at=order.created_at,
            completed_at=order.completed_at,
            status=order.status,
            source_sha256=source_sha256,
        ),
        currency=priced.currency,
        prices_include_tax=priced.prices_include_tax,
        lines=priced.lines,
        order_discounts=[
            d.model_copy(update={"amount": _exact(d.amount, currency)}) for d in order.order_discounts
        ],
        shipping=ShippingDetails(
            method=shipping.method,
            cost=_exact(shipping.cost, currency),
            tax_rate=shipping.tax_rate,
            tracking_reference=shipping.tracking_reference,
        )
        if shipping
        else None,
        tax_lines=priced.tax_lines,
        totals=priced.totals,
        payment=PaymentDetails(
            method=payment.method,
            transaction_reference=payment.transaction_reference,
            status=payment.status,
            amount_paid=_exact(payment.amount_captured, currency),
            paid_at=payment.captured_at,
            **_unpaid(order, priced, pay_later),
        ),
        replaces=replaces,
    )


def _unpaid(order: Order, priced: PricedOrder, pay_later: PayLaterTerms | None) -> dict[str, object]:
    if pay_later is None or order.completed_at is None:
        return {}
    currency = priced.currency
    return {
        "due_date": due_date(order.completed_at, pay_later),
        "balance_due": _exact(priced.totals.grand_total - order.payment.amount_captured, currency),
        "instructions": pay_later.instructions,
    }
