"""The PDF's next rendition: once a payment moved an invoice's balance, a rendition of the same
document that says so (status as at the day, received, balance due), for the links and reminders.

The invoice document is never changed: the rendition is rendered from it (checked against its
SHA-256) with the invoice's payment standing, stored under `renditions/<number>/payment-<version>.pdf`,
and the record points at the newest one (a rendition of an older payment never replaces a newer).
Asked for on `InvoicePaymentRecorded` (the dispatcher); safe to repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.report_store import ReportStore
from invoicing.domain.documents import parse_document
from invoicing.domain.invoice import InvoiceDocument, InvoiceKind, InvoiceStatus
from invoicing.domain.receivables import PaymentStanding, standing_of
from invoicing.observability import logger

RENDITIONS_PREFIX = "renditions/"


def rendition_key(number: str, version: int) -> str:
    return f"{RENDITIONS_PREFIX}{number}/payment-{version}.pdf"


class PaymentRenditions:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        documents: DocumentStore,
        files: ReportStore,
        render: Callable[[InvoiceDocument, PaymentStanding], bytes],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._documents = documents
        self._files = files
        self._render = render
        self._clock = clock

    def refresh(self, number: str) -> str | None:
        """The rendition's key, or None when there is nothing to render (not a customer invoice,
        not issued, or no payment since issue)."""
        record = self._ledger.get_invoice(number)
        if (
            record is None
            or record.kind is not InvoiceKind.CUSTOMER
            or record.status is not InvoiceStatus.ISSUED
            or record.payment_version == 0
            or not record.document_key
        ):
            return None
        if record.rendition_version >= record.payment_version and record.rendition_key:
            return record.rendition_key
        document = parse_document(
            self._documents.get_verified(
                record.document_key, record.document_version_id, record.document_sha256
            )
        )
        if not isinstance(document, InvoiceDocument):
            return None
        standing = standing_of(record.receivable(), self._clock().date())
        pdf = self._render(document, standing)
        key = rendition_key(number, record.payment_version)
        self._files.put(key, pdf, "application/pdf")
        self._ledger.set_rendition(number, key, hashlib.sha256(pdf).hexdigest(), record.payment_version)
        logger.info("payment rendition", invoice_number=number, state=standing.state.value, key=key)
        return key
