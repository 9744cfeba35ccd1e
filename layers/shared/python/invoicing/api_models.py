"""Request and response models of the invoices API (and so of its OpenAPI description)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from invoicing.adapters.invoice_ledger import InvoiceRecord
from invoicing.domain.money import plain_amount


class TaxRate(BaseModel):
    model_config = ConfigDict(frozen=True)

    rate: str = Field(description="fraction as a decimal string: 0.23 for 23 %", examples=["0.23"])
    net: str
    tax: str
    gross: str


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
    tax_lines: list[TaxRate] = Field(description="the per-rate breakdown of the invoice document")
    document_sha256: str = Field(description="SHA-256 of the invoice document every rendition comes from")

    @classmethod
    def of(cls, record: InvoiceRecord) -> InvoiceSummary:
        def amount(value: Decimal) -> str:
            return plain_amount(value, record.currency)

        return cls(
            invoice_number=record.invoice_number,
            kind=record.kind.value,
            order_id=record.order_id,
            currency=record.currency,
            net_total=amount(record.net_total),
            tax_total=amount(record.tax_total),
            grand_total=amount(record.grand_total),
            payment_status=record.payment_status,
            issued_at=record.issued_at,
            tax_lines=[
                TaxRate(rate=f"{t.rate:f}", net=amount(t.net), tax=amount(t.tax), gross=amount(t.gross))
                for t in record.tax_lines
            ],
            document_sha256=record.document_sha256,
        )


class InvoicePage(BaseModel):
    items: list[InvoiceSummary]
    next_token: str | None = Field(default=None, description="pass back to get the next page")


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime


class ErrorBody(BaseModel):
    message: str
