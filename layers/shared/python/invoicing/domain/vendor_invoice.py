"""A vendor's invoice for its part of an order, frozen like the customer invoice it derives from.

Its figures come from the customer invoice document (never from the order item): the vendor's
lines after the discount allocation, tax per rate on them, the commission and the amount owed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from invoicing.domain.invoice import InvoiceDocument, InvoiceKind, OrderReference, Seller
from invoicing.domain.order import PaymentStatus
from invoicing.domain.vendors import VendorStatement

VENDOR_INVOICE_SCHEMA = "saypro.vendor-invoice.v1"


class VendorInvoiceDocument(BaseModel):
    """Schema `saypro.vendor-invoice.v1` (README, "The invoice document")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_schema: Literal["saypro.vendor-invoice.v1"] = "saypro.vendor-invoice.v1"
    kind: Literal[InvoiceKind.VENDOR] = InvoiceKind.VENDOR
    invoice_number: str
    issued_at: datetime
    seller: Seller
    customer_invoice_number: str
    customer_invoice_sha256: str
    """The SHA-256 of the customer invoice document these figures were taken from."""
    customer_id: str
    order: OrderReference
    prices_include_tax: bool
    payment_status: PaymentStatus
    statement: VendorStatement
    """The vendor (master data as at issue), its lines, tax per rate, commission, amount owed."""
    replaces: str | None = None
    """A revised vendor invoice: the vendor invoice it replaces (credited by a vendor credit note)."""

    @property
    def file_name(self) -> str:
        return f"{self.invoice_number}.pdf"


def freeze_vendor_invoice(
    customer_invoice: InvoiceDocument,
    customer_invoice_sha256: str,
    statement: VendorStatement,
    *,
    invoice_number: str,
    issued_at: datetime,
    replaces: str | None = None,
) -> VendorInvoiceDocument:
    return VendorInvoiceDocument(
        invoice_number=invoice_number,
        issued_at=issued_at,
        seller=customer_invoice.seller,
        customer_invoice_number=customer_invoice.invoice_number,
        customer_invoice_sha256=customer_invoice_sha256,
        customer_id=customer_invoice.customer.customer_id,
        order=customer_invoice.order,
        prices_include_tax=customer_invoice.prices_include_tax,
        payment_status=customer_invoice.payment.status,
        statement=statement,
        replaces=replaces,
    )


class VendorInvoiceFailed(BaseModel):
    """detail-type VendorInvoiceFailed: vendors of an order that could not be invoiced."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    vendor_ids: list[str]
    code: str
    message: str
    failed_at: datetime
