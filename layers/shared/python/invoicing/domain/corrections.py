"""When does a change to an invoiced order call for a correction, and of what kind?

Decided against the invoice document, never by the mere fact of a write: the storefront touches
orders for many reasons (a tracking number, a contact fix) that change nothing an invoice says.
A cancellation or a refund credits the invoice; a change of what was sold or billed (lines,
quantities, prices, discounts, shipping, the billing name or address, the tax basis) credits it
and issues a revised invoice; a return of some units (a line's `refunded_quantity` rises, nothing
billed changes) credits those units only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any

from invoicing.domain.credit_note import CreditReason
from invoicing.domain.invoice import InvoiceDocument, freeze_invoice
from invoicing.domain.order import Order, OrderStatus, PaymentStatus
from invoicing.domain.pricing import TaxLine
from invoicing.domain.validation import ValidationResult

_BILLED_ORDER_FIELDS = ("currency", "prices_include_tax", "items", "order_discounts", "totals")
_BILLED_CUSTOMER_FIELDS = ("name", "billing_address")
_BILLED_SHIPPING_FIELDS = ("method", "cost", "tax_rate")


def billed_fields(image: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of a raw order item an invoice says, plus the states that reverse it: a write
    that leaves this unchanged cannot call for a correction (a tracking number, a contact fix).
    The items are taken whole, so their `refunded_quantity` (a return, credited in part) is in."""
    image = image or {}
    customer = image.get("customer") if isinstance(image.get("customer"), Mapping) else {}
    shipping = image.get("shipping") if isinstance(image.get("shipping"), Mapping) else {}
    payment = image.get("payment") if isinstance(image.get("payment"), Mapping) else {}
    return {
        **{name: image.get(name) for name in _BILLED_ORDER_FIELDS},
        "customer": {name: customer.get(name) for name in _BILLED_CUSTOMER_FIELDS},  # type: ignore[union-attr]
        "shipping": {name: shipping.get(name) for name in _BILLED_SHIPPING_FIELDS},  # type: ignore[union-attr]
        "status": image.get("status"),
        "payment_status": payment.get("status"),  # type: ignore[union-attr]
    }


def reversal_reason(order_item: Mapping[str, Any]) -> CreditReason | None:
    """Cancelled or refunded after its invoice: the invoice is credited, nothing is re-issued."""
    payment = order_item.get("payment")
    payment_status = payment.get("status") if isinstance(payment, Mapping) else None
    if order_item.get("status") == OrderStatus.CANCELLED:
        return CreditReason.CANCELLED
    if order_item.get("status") == OrderStatus.REFUNDED or payment_status == PaymentStatus.REFUNDED:
        return CreditReason.REFUNDED
    return None


def bills_differently(invoice: InvoiceDocument, validated: ValidationResult) -> bool:
    """Would the order, as it is now, make a different invoice? An order that no longer
    validates does (the correction is then refused with its problems, the invoice stands)."""
    if not validated.is_valid or validated.order is None or validated.priced is None:
        return True
    candidate = freeze_invoice(
        validated.order,
        validated.priced,
        invoice_number=invoice.invoice_number,
        issued_at=invoice.issued_at,
        seller=invoice.seller,
        source_sha256=invoice.order.source_sha256,
        replaces=invoice.replaces,
    )
    # What an invoice does not say, or says only as of its issue, is taken from the invoice.
    unbilled = {
        "customer": candidate.customer.model_copy(
            update={
                "email": invoice.customer.email,
                "phone": invoice.customer.phone,
                "preferred_channels": invoice.customer.preferred_channels,
                "locale": invoice.customer.locale,
            }
        ),
        "order": invoice.order,
        "payment": invoice.payment,
        "shipping": candidate.shipping.model_copy(
            update={"tracking_reference": invoice.shipping.tracking_reference if invoice.shipping else None}
        )
        if candidate.shipping
        else None,
    }
    return candidate.model_copy(update=unbilled) != invoice


def returned_units(order: Order, credited_quantities: Mapping[str, int]) -> dict[int, int]:
    """Line index -> units refunded on the order (`refunded_quantity`) and not yet credited.

    `credited_quantities` is what the invoice's credit notes credited per line (index as text). A
    refunded quantity that went down is not un-credited: a credit note is never taken back.
    """
    return {
        index: line.refunded_quantity - credited_quantities.get(str(index), 0)
        for index, line in enumerate(order.items)
        if line.refunded_quantity > credited_quantities.get(str(index), 0)
    }


def correction_id(invoice_number: str, source_sha256: str) -> str:
    """One correction per invoice and order version: a redelivered edit finds the one it made."""
    return hashlib.sha256(f"{invoice_number}|{source_sha256}".encode()).hexdigest()[:32]


class CorrectionStatus(StrEnum):
    """Where an invoice stands in its correction chain, as the invoices API shows it."""

    SUPERSEDED = "superseded"
    """A revised invoice replaces it (a credit note cancelled it)."""
    CREDITED = "credited"
    """Its credit notes cover all of it, every tax rate, net and tax."""
    PARTIALLY_CREDITED = "partially credited"
    """Credit notes cover part of it."""


def correction_status(
    tax_lines: Iterable[TaxLine], credited: Iterable[TaxLine], replaced_by: str | None
) -> CorrectionStatus | None:
    """None while the invoice stands as issued (no replacement, nothing credited)."""
    if replaced_by:
        return CorrectionStatus.SUPERSEDED
    credited_by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in credited:
        net, tax = credited_by_rate.get(line.rate, (Decimal(0), Decimal(0)))
        credited_by_rate[line.rate] = (net + line.net, tax + line.tax)
    if not any(net > 0 or tax > 0 for net, tax in credited_by_rate.values()):
        return None
    covered = all(
        credited_by_rate.get(line.rate, (Decimal(0), Decimal(0)))[0] >= line.net
        and credited_by_rate.get(line.rate, (Decimal(0), Decimal(0)))[1] >= line.tax
        for line in tax_lines
    )
    return CorrectionStatus.CREDITED if covered else CorrectionStatus.PARTIALLY_CREDITED
