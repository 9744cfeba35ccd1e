"""Vendor invoicer: a customer's InvoiceIssued (EventBridge) -> one invoice per vendor of the order.

A raised error makes EventBridge retry the event (then its DLQ); issuing is safe to repeat.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import envelopes, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.party_records import OrderItems, VendorRecords
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceKind
from invoicing.observability import logger, metrics, tracer
from invoicing.rendering.pdf import render_vendor_invoice_pdf
from invoicing.services.vendor_invoicing import VendorInvoicer
from invoicing.settings import vendor_invoicer_settings

settings = vendor_invoicer_settings()
invoicer = VendorInvoicer(
    ledger=InvoiceLedger(settings.invoices_table_name),
    documents=DocumentStore(settings.invoice_bucket_name),
    events=EventPublisher(settings.event_bus_name),
    load_order=OrderItems(settings.orders_table_name).get,
    load_vendor=VendorRecords(settings.vendors_table_name).get,
    renderer=render_vendor_invoice_pdf,
    series=settings.vendor_invoice_series,
    seller=settings.seller,
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=InvoiceIssued, envelope=envelopes.EventBridgeEnvelope)
def lambda_handler(issued: InvoiceIssued, context: LambdaContext) -> dict[str, Any]:
    if issued.kind != InvoiceKind.CUSTOMER.value:  # the rule filters these too
        return {"vendor_invoices": []}
    logger.append_keys(order_id=issued.order_id, invoice_number=issued.invoice_number)
    numbers = invoicer.issue_for(issued)
    metrics.add_metric(name="VendorInvoicesIssued", unit=MetricUnit.Count, value=len(numbers))
    return {"vendor_invoices": numbers}
