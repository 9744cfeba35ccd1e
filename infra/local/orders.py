"""Writing orders the way the storefront does: PutItem of the order item, UpdateItem to complete it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

_serializer = TypeSerializer()


def load_order(path: Path) -> dict[str, Any]:
    """A sample order item with every number as Decimal, as DynamoDB would hand it back."""
    return decimals(json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal))  # type: ignore[no-any-return]


def decimals(value: Any) -> Any:
    """Every number as Decimal (and nulls dropped), the way DynamoDB hands an item back."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, dict):
        return {k: decimals(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [decimals(v) for v in value]
    return value


def put_order(table_name: str, order: dict[str, Any]) -> None:
    item = {key: _serializer.serialize(value) for key, value in order.items()}
    boto3.client("dynamodb").put_item(TableName=table_name, Item=item)


def complete_order(table_name: str, order_id: str, completed_at: datetime | None = None) -> None:
    moment = (completed_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    boto3.client("dynamodb").update_item(
        TableName=table_name,
        Key={"order_id": {"S": order_id}},
        UpdateExpression="SET #status = :completed, completed_at = :at",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":completed": {"S": "COMPLETED"}, ":at": {"S": moment}},
    )
