"""The last steps of issuing any invoice, customer's or vendor's, each safe to repeat:
store the PDF under its stable key, record where (NUMBERED -> STORED), announce `InvoiceIssued`,
mark the invoice ISSUED."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.domain.events import DetailType, InvoiceIssued
from invoicing.domain.money import format_amount
from invoicing.domain.order import Channel


def store_and_announce(
    record: InvoiceRecord,
    pdf: bytes,
    *,
    customer_id: str,
    preferred_channels: list[Channel],
    ledger: InvoiceLedger,
    documents: DocumentStore,
    events: EventPublisher,
    clock: Callable[[], datetime],
) -> None:
    stored = documents.put_invoice_pdf(record.invoice_number, record.order_id, pdf, record.kind)
    ledger.mark_stored(
        record.invoice_number,
        bucket=stored.bucket,
        key=stored.key,
        version_id=stored.version_id,
        sha256=stored.sha256,
        stored_at=clock(),
    )
    resources = [f"invoice/{record.invoice_number}", f"order/{record.order_id}"]
    if record.vendor_id:
        resources.append(f"vendor/{record.vendor_id}")
    announcement = InvoiceIssued(
        invoice_number=record.invoice_number,
        kind=record.kind.value,
        order_id=record.order_id,
        customer_id=customer_id,
        customer_name=record.customer_name,
        vendor_id=record.vendor_id,
        currency=record.currency,
        # Plain digits in the currency's minor units ("52.70", "14531"), however the record was read.
        grand_total=format_amount(record.grand_total, record.currency).replace(",", ""),
        tax_total=format_amount(record.tax_total, record.currency).replace(",", ""),
        payment_status=record.payment_status,
        preferred_channels=preferred_channels,
        s3_bucket=stored.bucket,
        s3_key=stored.key,
        s3_version_id=stored.version_id,
        sha256=stored.sha256,
        issued_at=record.issued_at,
        order_completed_at=record.order_completed_at,
    )
    events.publish(DetailType.INVOICE_ISSUED, announcement, resources=resources)
    ledger.mark_issued(record.invoice_number, clock(), announcement)
