"""The last steps of issuing any invoice, customer's or vendor's, from its frozen document.

Each step is safe to repeat: store the document (JSON) and its PDF under their stable keys, record
where (NUMBERED -> STORED), then mark it ISSUED with `InvoiceIssued` in the outbox (one
transaction). Nothing here reads the order: a number, once allocated, is always completed with
exactly the document it was allocated for, whatever the storefront has done to the order since.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from invoicing.adapters.document_store import DocumentStore, StoredDocument
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord, NewInvoice, contact_key_of
from invoicing.domain.credit_note import CreditNoteDocument
from invoicing.domain.documents import Document, parse_document
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceDocument, InvoiceKind, InvoiceStatus
from invoicing.domain.money import plain_amount, round_money
from invoicing.domain.order import Order
from invoicing.domain.payment_terms import PayLaterTerms, due_date
from invoicing.domain.pricing import PricedOrder
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument

Renderer = Callable[[Document], bytes]


class InvoiceCompletion:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        documents: DocumentStore,
        render: Renderer,
        clock: Callable[[], datetime],
    ) -> None:
        self._ledger = ledger
        self._documents = documents
        self._render = render
        self._clock = clock

    def complete(self, record: InvoiceRecord) -> Document | None:
        """Finish a NUMBERED or STORED invoice; returns its document (None if already issued)."""
        if record.status is InvoiceStatus.ISSUED:
            return None
        number = record.invoice_number
        frozen = self._ledger.frozen_document(number)
        if frozen is None:
            current = self._ledger.get_invoice(number)
            if current is not None and current.status is InvoiceStatus.ISSUED:
                return None  # a concurrent run finished it
            raise LookupError(f"{number} is {record.status.value} but its frozen document is missing")
        document = parse_document(frozen, record.document_sha256)
        pdf = self._render(document)
        stored_document = self._documents.put_invoice_document(number, record.order_id, frozen, record.kind)
        stored_pdf = self._documents.put_invoice_pdf(number, record.order_id, pdf, record.kind)
        self._ledger.mark_stored(number, pdf=stored_pdf, document=stored_document, stored_at=self._clock())
        announcement = announcement_of(
            record, document, stored_pdf, stored_document, self._credit_note_of(record)
        )
        # A revised invoice's vendor invoices are reconciled by the vendor invoicer (on its
        # InvoiceIssued), and the correction made them due again: not recorded here.
        fresh = isinstance(document, InvoiceDocument) and document.replaces is None
        vendor_ids = document.vendor_ids if isinstance(document, InvoiceDocument) and fresh else []
        self._ledger.mark_issued(record, announcement, self._clock(), vendor_ids)
        return document

    def _credit_note_of(self, record: InvoiceRecord) -> str | None:
        """A revised invoice's credit note: the one the invoice it replaces was credited by last
        (numbered in the same transaction as the revised invoice, so always there)."""
        if record.replaces is None:
            return None
        original = self._ledger.get_invoice(record.replaces)
        if original is None or not original.credit_notes:
            raise LookupError(f"{record.invoice_number} replaces {record.replaces}, which has no credit note")
        return original.credit_notes[-1]


def new_invoice_of(order: Order, priced: PricedOrder, pay_later: PayLaterTerms | None = None) -> NewInvoice:
    """What the ledger records of a customer invoice before it has a number: with what it was
    paid at issue (the captured amount, or a pay-later order's deposit) and when the rest is due."""
    return NewInvoice(
        kind=InvoiceKind.CUSTOMER,
        order_id=order.order_id,
        customer_id=order.customer.customer_id,
        customer_name=order.customer.name,
        currency=order.currency,
        net_total=priced.totals.net_total,
        tax_total=priced.totals.tax_total,
        grand_total=priced.totals.grand_total,
        payment_status=order.payment.status.value,
        order_completed_at=order.completed_at,
        tax_lines=priced.tax_lines,
        amount_received=round_money(order.payment.amount_captured, order.currency),
        due_date=due_date(order.completed_at, pay_later) if pay_later and order.completed_at else None,
        payment_reference=order.payment.transaction_reference,
        contact_key=contact_key_of(order.customer.email),
    )


def announcement_of(
    record: InvoiceRecord,
    document: Document,
    pdf: StoredDocument,
    stored_document: StoredDocument,
    credit_note_number: str | None = None,
) -> InvoiceIssued:
    """The `InvoiceIssued` detail: where the document and PDF are, and the figures people filter on."""
    if isinstance(document, InvoiceDocument | CreditNoteDocument):
        customer_id, channels = document.customer.customer_id, document.customer.preferred_channels
    else:
        customer_id, channels = document.customer_id, []
    return InvoiceIssued(
        invoice_number=record.invoice_number,
        kind=record.kind.value,
        order_id=record.order_id,
        customer_id=customer_id,
        customer_name=record.customer_name,
        vendor_id=record.vendor_id,
        currency=record.currency,
        # Plain digits in the currency's minor units ("52.70", "14531"), however the record was read.
        grand_total=plain_amount(record.grand_total, record.currency),
        tax_total=plain_amount(record.tax_total, record.currency),
        payment_status=record.payment_status,
        preferred_channels=channels,
        s3_bucket=pdf.bucket,
        s3_key=pdf.key,
        s3_version_id=pdf.version_id,
        sha256=pdf.sha256,
        document_key=stored_document.key,
        document_version_id=stored_document.version_id,
        document_sha256=stored_document.sha256,
        issued_at=record.issued_at,
        order_completed_at=record.order_completed_at,
        replaces=record.replaces,
        credit_note_number=credit_note_number,
        credits_invoice_number=record.credits_invoice_number,
        replaced_by=document.replaced_by
        if isinstance(document, CreditNoteDocument | VendorCreditNoteDocument)
        else None,
    )
