"""The SLA sweep's view of the Invoices table: the sparse `sweep` index.

Reads are Queries of one index partition per kind, so their cost follows the backlog, never the
table; nothing here scans.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from invoicing.domain.sla import BacklogEntry, SweepKind

SWEEP_INDEX = "sweep"


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name, {})
    return value.get("S") if isinstance(value, dict) else None


def _entry(item: dict[str, Any]) -> BacklogEntry:
    return BacklogEntry(
        kind=SweepKind(item["sweep_kind"]["S"]),
        pk=item["pk"]["S"],
        sk=item["sk"]["S"],
        since=item["sweep_since"]["S"],
        due_at=item["sweep_due_at"]["S"],
        attempts=int(item.get("sweep_attempts", {}).get("N", "0")),
        reminded_at=_text(item, "reminded_at"),
        warned_at=_text(item, "warned_at"),
        order_completed_at=_text(item, "order_completed_at"),
        invoice_number=_text(item, "invoice_number"),
        order_id=_text(item, "order_id"),
        status=_text(item, "status"),
    )


class SweepIndex:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def backlog(self, kind: SweepKind) -> Iterator[list[BacklogEntry]]:
        """Every entry of one kind, a page at a time, soonest due first. No cap: the sweep sees the
        whole backlog (its cost follows the backlog), and acting on an entry moves its due time
        back, so what was not reached this tick comes first in the next."""
        return self._pages("sweep_kind = :kind", {":kind": {"S": kind.value}})

    def due(self, kind: SweepKind, now: datetime) -> Iterator[list[BacklogEntry]]:
        """The entries of one kind due by `now`, a page at a time, soonest first (scheduled work:
        reminders are in the index for weeks before they are due)."""
        return self._pages(
            "sweep_kind = :kind AND sweep_due_at <= :now",
            {":kind": {"S": kind.value}, ":now": {"S": now.isoformat()}},
        )

    def _pages(self, condition: str, values: dict[str, Any]) -> Iterator[list[BacklogEntry]]:
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": SWEEP_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        while True:
            page = self._client.query(**params)
            yield [_entry(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def reschedule(self, entry: BacklogEntry, due_at: datetime) -> bool:
        """Take the entry for this sweep: due again at `due_at`, one more attempt.

        Conditional on nobody having moved it since it was read, so of two overlapping sweeps
        only one acts on it.
        """
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": entry.pk}, "sk": {"S": entry.sk}},
                UpdateExpression="SET sweep_due_at = :due ADD sweep_attempts :one",
                ConditionExpression="sweep_kind = :kind AND sweep_due_at = :read",
                ExpressionAttributeValues={
                    ":due": {"S": due_at.isoformat()},
                    ":one": {"N": "1"},
                    ":kind": {"S": entry.kind.value},
                    ":read": {"S": entry.due_at.isoformat()},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def stamp(self, entry: BacklogEntry, field: str, at: datetime, due_at: datetime | None = None) -> None:
        """`reminded_at` or `warned_at`, once the digest that told people was published, while the
        entry is still in the index; a reminder also moves the due time to the next reminder."""
        if field not in {"reminded_at", "warned_at"}:
            raise ValueError(field)
        values: dict[str, Any] = {":at": {"S": at.isoformat()}, ":kind": {"S": entry.kind.value}}
        update = f"SET {field} = :at"
        if due_at is not None:
            update += ", sweep_due_at = :due"
            values[":due"] = {"S": due_at.isoformat()}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": entry.pk}, "sk": {"S": entry.sk}},
                UpdateExpression=update,
                ConditionExpression="sweep_kind = :kind",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
