"""The invoice document: what is rendered to PDF, stored, and announced."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from invoicing.domain.order import Order
from invoicing.domain.pricing import PricedOrder


class InvoiceKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    VENDOR = "VENDOR"


class InvoiceStatus(StrEnum):
    NUMBERED = "NUMBERED"
    """A number is allocated and the row exists; the PDF is not stored yet (a retry completes it)."""
    STORED = "STORED"
    """The PDF is in S3 and recorded; the InvoiceIssued event is not confirmed sent yet."""
    ISSUED = "ISSUED"
    """The PDF is stored and the InvoiceIssued event sent."""


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


class InvoiceDocument(BaseModel):
    """Everything a customer invoice shows. Figures come from `priced`, never from the storefront."""

    model_config = ConfigDict(frozen=True)

    invoice_number: str
    kind: InvoiceKind = InvoiceKind.CUSTOMER
    issued_at: datetime
    order: Order
    priced: PricedOrder
    seller: Seller = Field(default_factory=Seller)
    terms: str = DEFAULT_TERMS
    return_policy: str = DEFAULT_RETURN_POLICY

    @property
    def file_name(self) -> str:
        return f"{self.invoice_number}.pdf"
