"""The marketplace's vendor master data, written to the local Vendors table."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

_serializer = TypeSerializer()


def load_vendors(path: Path) -> list[dict[str, Any]]:
    vendors: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return vendors


def put_vendors(table_name: str, vendors: list[dict[str, Any]]) -> None:
    client = boto3.client("dynamodb")
    for vendor in vendors:
        item = {k: _serializer.serialize(v) for k, v in vendor.items() if v is not None}
        client.put_item(TableName=table_name, Item=item)
