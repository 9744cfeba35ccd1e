"""Invoice generator: Orders table stream -> validated, numbered, frozen, stored invoices, each
announced through the Invoices table's outbox (see functions/outbox_publisher/).

Thin on purpose: parse the stream batch with Powertools, hand each change to the issuing service,
report failed records so Lambda retries only those (bisecting, then the on-failure queue).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.observability import logger, metrics, tracer
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.invoice_issuing import InvoiceIssuer, IssuingResult, Outcome
from invoicing.settings import generator_settings

settings = generator_settings()
issuer = InvoiceIssuer(
    ledger=InvoiceLedger(settings.invoices_table_name),
    documents=DocumentStore(settings.invoice_bucket_name),
    renderer=render_document_pdf,
    series=settings.invoice_series,
    seller=settings.seller,
    credit_note_series=settings.credit_note_series,
    policy=settings.payment_policy,
)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    if change is None or record.event_name is None:
        raise ValueError(f"stream record {record.event_id} carries no change")
    order_id = (change.keys or {}).get("order_id")
    if not isinstance(order_id, str):
        raise ValueError(f"stream record {record.event_id} has no order_id key")
    logger.append_keys(order_id=order_id)
    result = issuer.handle_order_change(record.event_name.name, order_id, change.old_image, change.new_image)
    _count(result)


def _count(result: IssuingResult | None) -> None:
    if result is None:
        metrics.add_metric(name="ChangesSkipped", unit=MetricUnit.Count, value=1)
    elif result.outcome is Outcome.ISSUED:
        metrics.add_metric(name="InvoicesIssued", unit=MetricUnit.Count, value=1)
        if result.seconds_since_completion is not None:
            metrics.add_metric(
                name="CompletionToInvoiceSeconds",
                unit=MetricUnit.Seconds,
                value=result.seconds_since_completion,
            )
    elif result.outcome is Outcome.ALREADY_ISSUED:
        metrics.add_metric(name="DuplicateDeliveriesIgnored", unit=MetricUnit.Count, value=1)
    elif result.outcome is Outcome.REDELIVERY_REQUESTED:
        metrics.add_metric(name="RedeliveriesRequested", unit=MetricUnit.Count, value=1)
    elif result.outcome in (Outcome.REVISED, Outcome.CREDITED):
        metrics.add_metric(name="InvoicesCorrected", unit=MetricUnit.Count, value=1)
    elif result.outcome is Outcome.CORRECTION_REJECTED:
        metrics.add_metric(name="CorrectionsRejected", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="ValidationFailures", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.info("stream batch", records=len(event.get("Records", [])), at=datetime.now(UTC).isoformat())
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
