"""Each vendor's invoice for its part of an order, issued once the customer invoice is.

Read from the customer invoice document (checked against its SHA-256), never from the order
item, so a vendor's invoice always agrees with what the customer was invoiced. The same
guarantees as customer invoices: a gapless number series of its own (one claim per order and
vendor, in the numbering transaction, with the vendor document frozen in it), then
store -> record -> announce from the frozen document, each step safe to repeat.

When the customer invoice is issued, the vendors it is due to are recorded (`VENDOR_INVOICES`,
in the sweep index), so if this function's event is lost or it keeps failing, the SLA sweep asks
again. A vendor missing from the Vendors table is recorded and announced (`VendorInvoiceFailed`)
in one transaction; the order's other vendors still get theirs, and the record stays due so the
missing one is issued once its master data exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger, NewInvoice
from invoicing.domain.documents import encode_document, parse_invoice
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceDocument, InvoiceKind, InvoiceStatus
from invoicing.domain.vendor_invoice import freeze_vendor_invoice
from invoicing.domain.vendors import Vendor, VendorStatement, vendor_statements
from invoicing.observability import logger
from invoicing.services.invoice_completion import InvoiceCompletion, Renderer


class VendorInvoicer:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        documents: DocumentStore,
        load_vendor: Callable[[str], Vendor | None],
        renderer: Renderer,
        series: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._documents = documents
        self._load_vendor = load_vendor
        self._series = series
        self._clock = clock
        self._completion = InvoiceCompletion(ledger=ledger, documents=documents, render=renderer, clock=clock)

    def issue_for(self, customer_invoice: InvoiceIssued) -> list[str]:
        """The vendor invoice numbers of the order (new or already issued)."""
        frozen = self._documents.get_verified(
            customer_invoice.document_key,
            customer_invoice.document_version_id,
            customer_invoice.document_sha256,
        )
        invoice = parse_invoice(frozen)
        found = {v: self._load_vendor(v) for v in invoice.vendor_ids}
        missing = sorted(v for v, vendor in found.items() if vendor is None)
        if missing:
            self._record_missing(invoice.order.order_id, missing)
        known = {v: vendor for v, vendor in found.items() if vendor is not None}
        priced = invoice.priced()
        statements = vendor_statements(
            priced.model_copy(update={"lines": [line for line in priced.lines if line.vendor_id in known]}),
            known,
        )
        numbers = [self._issue_one(invoice, customer_invoice.document_sha256, s) for s in statements]
        if not missing:
            self._ledger.settle_vendor_invoices(invoice.order.order_id, numbers, self._clock())
        return numbers

    def _issue_one(self, invoice: InvoiceDocument, invoice_sha256: str, statement: VendorStatement) -> str:
        vendor = statement.vendor

        def freeze(number: str, issued_at: datetime) -> bytes:
            return encode_document(
                freeze_vendor_invoice(
                    invoice, invoice_sha256, statement, invoice_number=number, issued_at=issued_at
                )
            )

        record = self._ledger.allocate(
            NewInvoice(
                kind=InvoiceKind.VENDOR,
                order_id=invoice.order.order_id,
                vendor_id=vendor.vendor_id,
                customer_name=vendor.name,
                currency=statement.currency,
                net_total=statement.net_sales,
                tax_total=statement.tax,
                grand_total=statement.gross_sales,
                payment_status=invoice.payment.status.value,
                order_completed_at=invoice.order.completed_at,
                tax_lines=statement.tax_lines,
            ),
            self._series,
            self._clock(),
            freeze,
        )
        if record.status is not InvoiceStatus.ISSUED:
            self._completion.complete(record)
            logger.info(
                "vendor invoice issued", invoice_number=record.invoice_number, vendor_id=vendor.vendor_id
            )
        return record.invoice_number

    def _record_missing(self, order_id: str, missing: list[str]) -> None:
        """Recorded and announced once per order; later attempts are counted."""
        message = f"vendors not in the Vendors table: {', '.join(missing)}; their invoices are not issued"
        self._ledger.record_vendor_problem(order_id, missing, message, self._clock())
        logger.warning("vendor invoices not issued", order_id=order_id, vendor_ids=missing)
