"""Build DynamoDB stream events exactly as Lambda delivers them, from plain order items."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeSerializer

STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/test-orders/stream/2026-11-22T00:00:00.000"
_serializer = TypeSerializer()
_sequence = itertools.count(100000000000000000000)


def _image(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


def stream_record(
    event_name: str,
    new: Mapping[str, Any] | None = None,
    old: Mapping[str, Any] | None = None,
    *,
    keys: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    source = new or old or {}
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": 1763823600,
        "Keys": _image(keys if keys is not None else {"order_id": source["order_id"]}),
        "SequenceNumber": str(next(_sequence)),
        "SizeBytes": 1024,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        change["NewImage"] = _image(new)
    if old is not None:
        change["OldImage"] = _image(old)
    return {
        "eventID": f"event-{change['SequenceNumber']}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }


def stream_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
