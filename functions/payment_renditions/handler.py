"""Payment renditions: InvoicePaymentRecorded (EventBridge) -> the invoice's next rendition, the
same document rendered with what has been paid (services/payment_renditions.py). Its own function:
the only one besides the issuers that writes a PDF, and only under `renditions/`.

Invoked asynchronously: an error is retried by Lambda, then kept in the function's on-failure
queue (alarmed); until then the links open the PDF as issued, which is still right as of its day.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import envelopes, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.report_store import ReportStore
from invoicing.domain.events import InvoicePaymentRecorded
from invoicing.observability import logger, metrics, tracer
from invoicing.rendering.pdf import render_invoice_pdf
from invoicing.services.payment_renditions import PaymentRenditions
from invoicing.settings import renditions_settings

settings = renditions_settings()
renditions = PaymentRenditions(
    ledger=InvoiceLedger(settings.invoices_table_name),
    documents=DocumentStore(settings.invoice_bucket_name),
    files=ReportStore(settings.invoice_bucket_name),
    render=render_invoice_pdf,
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=InvoicePaymentRecorded, envelope=envelopes.EventBridgeEnvelope)
def lambda_handler(paid: InvoicePaymentRecorded, context: LambdaContext) -> dict[str, Any]:
    return {"invoice_number": paid.invoice_number, "rendition": renditions.refresh(paid.invoice_number)}
