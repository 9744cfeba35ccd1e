"""Request and response models of the invoices API (and so of its OpenAPI description)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from invoicing.adapters.invoice_ledger import InvoiceRecord


class InvoiceSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str = Field(examples=["INV-2026-000042"])
    kind: str = Field(description="CUSTOMER or VENDOR")
    order_id: str
    currency: str = Field(description="ISO 4217")
    net_total: str = Field(description="decimal string, never a float", examples=["184.79"])
    tax_total: str
    grand_total: str
    payment_status: str
    issued_at: datetime

    @classmethod
    def of(cls, record: InvoiceRecord) -> InvoiceSummary:
        return cls(
            invoice_number=record.invoice_number,
            kind=record.kind.value,
            order_id=record.order_id,
            currency=record.currency,
            net_total=str(record.net_total),
            tax_total=str(record.tax_total),
            grand_total=str(record.grand_total),
            payment_status=record.payment_status,
            issued_at=record.issued_at,
        )


class InvoicePage(BaseModel):
    items: list[InvoiceSummary]
    next_token: str | None = Field(default=None, description="pass back to get the next page")


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime


class ErrorBody(BaseModel):
    message: str
