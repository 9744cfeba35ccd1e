"""Each vendor's invoice for its part of an order, issued once the customer invoice is.

The same guarantees as customer invoices: a gapless number series of its own (one claim per
order and vendor, in the numbering transaction), render -> store -> record -> announce, each step
safe to repeat. A vendor missing from the Vendors table is recorded and announced
(`VendorInvoiceFailed`); the order's other vendors still get theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger, NewInvoice
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus, Seller
from invoicing.domain.order import Order
from invoicing.domain.pricing import price_order
from invoicing.domain.vendor_invoice import VendorInvoiceDocument, VendorInvoiceFailed
from invoicing.domain.vendors import Vendor, VendorStatement, vendor_ids, vendor_statements
from invoicing.observability import logger
from invoicing.services.invoice_publication import store_and_announce

VENDOR_INVOICE_FAILED = "VendorInvoiceFailed"


class VendorInvoicer:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        documents: DocumentStore,
        events: EventPublisher,
        load_order: Callable[[str], Mapping[str, Any] | None],
        load_vendor: Callable[[str], Vendor | None],
        renderer: Callable[[VendorInvoiceDocument], bytes],
        series: str,
        seller: Seller,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._documents = documents
        self._events = events
        self._load_order = load_order
        self._load_vendor = load_vendor
        self._render = renderer
        self._series = series
        self._seller = seller
        self._clock = clock

    def issue_for(self, customer_invoice: InvoiceIssued) -> list[str]:
        """The vendor invoice numbers of the order (new or already issued)."""
        item = self._load_order(customer_invoice.order_id)
        if item is None:
            raise LookupError(f"order {customer_invoice.order_id} is not in the Orders table")
        order = Order.model_validate(item)
        priced = price_order(order)
        found = {v: self._load_vendor(v) for v in vendor_ids(priced)}
        missing = sorted(v for v, vendor in found.items() if vendor is None)
        if missing:
            self._announce_missing(order.order_id, missing)
        known = {v: vendor for v, vendor in found.items() if vendor is not None}
        numbers = []
        for statement in vendor_statements(
            priced.model_copy(update={"lines": [line for line in priced.lines if line.vendor_id in known]}),
            known,
        ):
            numbers.append(self._issue_one(customer_invoice, order, statement))
        return numbers

    def _issue_one(self, customer_invoice: InvoiceIssued, order: Order, statement: VendorStatement) -> str:
        vendor = statement.vendor
        record = self._ledger.allocate(
            NewInvoice(
                kind=InvoiceKind.VENDOR,
                order_id=order.order_id,
                vendor_id=vendor.vendor_id,
                customer_name=vendor.name,
                currency=statement.currency,
                net_total=statement.net_sales,
                tax_total=statement.tax,
                grand_total=statement.gross_sales,
                payment_status=order.payment.status.value,
                order_completed_at=order.completed_at,
            ),
            self._series,
            self._clock(),
        )
        if record.status is InvoiceStatus.ISSUED:
            return record.invoice_number
        document = VendorInvoiceDocument(
            invoice_number=record.invoice_number,
            issued_at=record.issued_at,
            customer_invoice_number=customer_invoice.invoice_number,
            order=order,
            statement=statement,
            seller=self._seller,
        )
        store_and_announce(
            record,
            self._render(document),
            customer_id=order.customer.customer_id,
            preferred_channels=[],
            ledger=self._ledger,
            documents=self._documents,
            events=self._events,
            clock=self._clock,
        )
        logger.info("vendor invoice issued", invoice_number=record.invoice_number, vendor_id=vendor.vendor_id)
        return record.invoice_number

    def _announce_missing(self, order_id: str, missing: list[str]) -> None:
        """Recorded once per order and vendor set; announced when first recorded."""
        now = self._clock()
        message = f"vendors not in the Vendors table: {', '.join(missing)}; their invoices are not issued"
        if self._ledger.record_vendor_problem(order_id, missing, message, now):
            self._events.publish_raw(
                VENDOR_INVOICE_FAILED,
                VendorInvoiceFailed(
                    order_id=order_id,
                    vendor_ids=missing,
                    code="VENDOR_UNKNOWN",
                    message=message,
                    failed_at=now,
                ),
                resources=[f"order/{order_id}"],
            )
        logger.warning("vendor invoices not issued", order_id=order_id, vendor_ids=missing)
