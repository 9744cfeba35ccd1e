"""Outbox publisher: the Invoices table's stream -> every new outbox entry onto the bus.

Every announcement is written in the transaction of the change it announces (see
`adapters/outbox.py`); this function publishes each one and marks it published. The event source
mapping only passes new items whose sort key starts with OUTBOX#. A failed record is reported
(partial batch response) so Lambda retries it; if it keeps failing, the SLA sweep publishes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.outbox import Outbox, entry_from_item, is_outbox_key
from invoicing.observability import logger, metrics, tracer
from invoicing.settings import outbox_publisher_settings

settings = outbox_publisher_settings()
outbox = Outbox(settings.invoices_table_name, EventPublisher(settings.event_bus_name))
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    raw = record.raw_event.get("dynamodb", {})
    keys, image = raw.get("Keys", {}), raw.get("NewImage")
    if (
        record.event_name is None
        or record.event_name.name != "INSERT"
        or not is_outbox_key(keys)
        or not image
    ):
        return  # the mapping's filter passes only new outbox entries; anything else is not ours
    entry = entry_from_item(image)
    if outbox.publish(entry, datetime.now(UTC)):
        metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=1)
        logger.info("published", detail_type=entry.detail_type, key=entry.pk)
    else:
        metrics.add_metric(name="EventsAlreadyPublished", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
