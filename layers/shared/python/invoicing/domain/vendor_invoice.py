"""A vendor's invoice for its part of an order, and the event when one cannot be made."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from invoicing.domain.invoice import Seller
from invoicing.domain.order import Order
from invoicing.domain.vendors import VendorStatement


class VendorInvoiceDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str
    issued_at: datetime
    customer_invoice_number: str
    order: Order
    statement: VendorStatement
    seller: Seller


class VendorInvoiceFailed(BaseModel):
    """detail-type VendorInvoiceFailed: vendors of an order that could not be invoiced."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    vendor_ids: list[str]
    code: str
    message: str
    failed_at: datetime
