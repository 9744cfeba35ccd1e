"""Vendor invoicer: a customer's InvoiceIssued or CreditNoteIssued, or the sweep's VendorInvoicesDue
(EventBridge) -> the order's vendor invoices agree with its newest customer invoice: one invoice per
vendor, and a vendor credit note (and revised vendor invoice) for each vendor whose part a
correction changed. Read from the customer documents, never from the order.

Invoked asynchronously: a raised error is retried by Lambda, then the event goes to the function's
on-failure queue (alarmed); the vendor invoices due stay in the sweep index, so the SLA sweep asks
again. Issuing is safe to repeat.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import envelopes, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.party_records import VendorRecords
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceKind
from invoicing.observability import logger, metrics, tracer
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.vendor_invoicing import VendorInvoicer
from invoicing.settings import vendor_invoicer_settings

settings = vendor_invoicer_settings()
invoicer = VendorInvoicer(
    ledger=InvoiceLedger(settings.invoices_table_name),
    documents=DocumentStore(settings.invoice_bucket_name),
    load_vendor=VendorRecords(settings.vendors_table_name).get,
    renderer=render_document_pdf,
    series=settings.vendor_invoice_series,
    credit_note_series=settings.vendor_credit_note_series,
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=InvoiceIssued, envelope=envelopes.EventBridgeEnvelope)
def lambda_handler(issued: InvoiceIssued, context: LambdaContext) -> dict[str, Any]:
    if issued.kind not in {InvoiceKind.CUSTOMER.value, InvoiceKind.CREDIT_NOTE.value}:
        return {"vendor_invoices": []}  # the rule filters these too
    logger.append_keys(order_id=issued.order_id, invoice_number=issued.invoice_number)
    numbers = invoicer.reconcile(issued.order_id)
    metrics.add_metric(name="VendorInvoicesIssued", unit=MetricUnit.Count, value=len(numbers))
    return {"vendor_invoices": numbers}
