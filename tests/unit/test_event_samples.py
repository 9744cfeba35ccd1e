"""The sample events in events/ are the documentation of our contracts: they must parse."""

import json
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from invoicing.domain.events import InvoiceIssued, InvoiceValidationFailed
from invoicing.domain.triggers import Trigger, classify_change

EVENTS = Path(__file__).parents[2] / "events"


def test_bus_samples_parse_into_the_published_detail_models() -> None:
    issued = json.loads((EVENTS / "eventbridge" / "invoice-issued.json").read_text())
    assert InvoiceIssued.model_validate(issued["detail"]).grand_total == "218.82"
    failed = json.loads((EVENTS / "eventbridge" / "invoice-validation-failed.json").read_text())
    assert InvoiceValidationFailed.model_validate(failed["detail"]).issues


def test_stream_samples_are_real_lambda_events_that_trigger_as_named() -> None:
    expected = {
        "insert-completed-order.json": Trigger.DUE,
        "modify-shipped-to-completed.json": Trigger.DUE,
        "modify-completed-to-completed.json": Trigger.RECHECK,
        "remove-order.json": Trigger.SKIP,
        "insert-malformed-item.json": Trigger.DUE,
    }
    for name, trigger in expected.items():
        event = DynamoDBStreamEvent(json.loads((EVENTS / "dynamodb-stream" / name).read_text()))
        record = next(iter(event.records))
        assert record.dynamodb is not None and record.event_name is not None
        assert record.event_source_arn.startswith("arn:aws:dynamodb:")  # type: ignore[union-attr]
        got = classify_change(record.event_name.name, record.dynamodb.old_image, record.dynamodb.new_image)
        assert got is trigger, name
