"""Reads the order and vendor master data that delivery needs: who to send to, and how."""

from __future__ import annotations

from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from invoicing.domain.vendors import Vendor

_deserializer = TypeDeserializer()


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


class OrderItems:
    """The storefront's order items, read as they are (numbers stay Decimal)."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def get(self, order_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self._table, Key={"order_id": {"S": order_id}}, ConsistentRead=consistent
        ).get("Item")
        return _plain(item) if item else None

    def get_current(self, order_id: str) -> dict[str, Any] | None:
        """The order as the storefront last wrote it (a strongly consistent read)."""
        return self.get(order_id, consistent=True)


class VendorRecords:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def get(self, vendor_id: str) -> Vendor | None:
        item = self._client.get_item(TableName=self._table, Key={"vendor_id": {"S": vendor_id}}).get("Item")
        return Vendor.model_validate(_plain(item)) if item else None
