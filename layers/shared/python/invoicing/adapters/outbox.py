"""The transactional outbox: every announcement is written in the same DynamoDB transaction as the
state change it announces, and published from there.

An outbox entry is an item in the partition of what it announces, for example
    INVOICE#INV-2026-000042 / OUTBOX#2026-11-21T14:03:00.123456+00:00#InvoiceIssued#1f3a9c2e
holding the event's detail-type, detail (JSON, exactly as it will be published) and resources.
It enters the sparse sweep index as EVENT_UNPUBLISHED. The Invoices table's stream delivers each
new entry to the outbox publisher (`functions/outbox_publisher/`), which puts it on the bus and
then marks it published (out of the sweep index, kept `OUTBOX_RETENTION` for audit, then expired
by TTL). If publishing fails, the stream retries the record; if the stream gives up, the SLA sweep
finds the entry in its index and publishes it. So an announced change is published at least once
and never lost. Each entry's id travels as the resource `announcement/<id>` of the event it
becomes: a consumer that must act once deduplicates on it (or on the invoice number).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.sweep_attributes import SWEEP_ATTRIBUTES, sweep_attributes
from invoicing.domain.sla import SweepKind

OUTBOX_PREFIX = "OUTBOX#"
OUTBOX_RETENTION = timedelta(days=30)
ANNOUNCEMENT_RESOURCE = "announcement/"
"""The resource naming an announcement: the same on every copy of it that reaches the bus."""


class OutboxEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    pk: str
    sk: str
    detail_type: str
    detail: str
    """The detail as JSON, exactly as it is put on the bus."""
    resources: list[str]
    created_at: datetime

    @property
    def key(self) -> dict[str, Any]:
        return {"pk": {"S": self.pk}, "sk": {"S": self.sk}}


def outbox_put(
    table: str,
    partition: str,
    detail_type: str,
    detail: BaseModel,
    *,
    resources: list[str],
    now: datetime,
) -> dict[str, Any]:
    """The `Put` of an outbox entry, to add to the transaction that makes the change it announces."""
    entry_id = uuid.uuid4().hex[:16]
    sk = f"{OUTBOX_PREFIX}{now.isoformat()}#{detail_type}#{entry_id}"
    return {
        "Put": {
            "TableName": table,
            "Item": {
                "pk": {"S": partition},
                "sk": {"S": sk},
                "detail_type": {"S": detail_type},
                "detail": {"S": detail.model_dump_json()},
                "resources": {"L": [{"S": r} for r in [*resources, f"{ANNOUNCEMENT_RESOURCE}{entry_id}"]]},
                "created_at": {"S": now.isoformat()},
                **sweep_attributes(SweepKind.EVENT_UNPUBLISHED, now),
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def is_outbox_key(keys: Mapping[str, Any]) -> bool:
    sk = keys.get("sk")
    value = sk.get("S") if isinstance(sk, Mapping) else sk
    return isinstance(value, str) and value.startswith(OUTBOX_PREFIX)


def entry_from_item(item: Mapping[str, Any]) -> OutboxEntry:
    """An outbox item in DynamoDB's typed JSON (a stream image or a GetItem)."""
    return OutboxEntry(
        pk=item["pk"]["S"],
        sk=item["sk"]["S"],
        detail_type=item["detail_type"]["S"],
        detail=item["detail"]["S"],
        resources=[r["S"] for r in item.get("resources", {}).get("L", [])],
        created_at=item["created_at"]["S"],
    )


class Outbox:
    """Publishes outbox entries and marks them published."""

    def __init__(self, table_name: str, events: EventPublisher, client: Any | None = None) -> None:
        self._table = table_name
        self._events = events
        self._client = client or boto3.client("dynamodb")

    def get(self, pk: str, sk: str) -> tuple[OutboxEntry | None, bool]:
        """The entry and whether it is already published."""
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None, False
        return entry_from_item(item), "published_at" in item

    def is_published(self, entry: OutboxEntry) -> bool:
        item = self._client.get_item(
            TableName=self._table, Key=entry.key, ProjectionExpression="published_at", ConsistentRead=True
        ).get("Item")
        return bool(item and "published_at" in item)

    def publish(self, entry: OutboxEntry, now: datetime) -> bool:
        """Put it on the bus, then mark it published; False if it already was (a stream retry of a
        batch redelivers records that had succeeded). A failure in between publishes it again later."""
        if self.is_published(entry):
            return False
        self._events.publish_json(entry.detail_type, entry.detail, entry.resources)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=entry.key,
                UpdateExpression=f"SET published_at = if_not_exists(published_at, :now), expires_at = :ttl "
                f"REMOVE {SWEEP_ATTRIBUTES}",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":now": {"S": now.isoformat()},
                    ":ttl": {"N": str(int((now + OUTBOX_RETENTION).timestamp()))},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Expired meanwhile: it was published before, which is all that matters.
        return True
