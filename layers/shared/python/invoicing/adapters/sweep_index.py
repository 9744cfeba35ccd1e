"""The SLA sweep's view of the Invoices table: the sparse `sweep` index.

Reads are Queries of one index partition per kind, so their cost follows the backlog, never the
table; nothing here scans.
"""

from __future__ import annotations

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
    )


class SweepIndex:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def backlog(self, kind: SweepKind, limit: int = 1000) -> list[BacklogEntry]:
        """Everything of one kind, soonest due first (at most `limit` per sweep)."""
        entries: list[BacklogEntry] = []
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": SWEEP_INDEX,
            "KeyConditionExpression": "sweep_kind = :kind",
            "ExpressionAttributeValues": {":kind": {"S": kind.value}},
        }
        while len(entries) < limit:
            page = self._client.query(**params)
            entries += [_entry(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return entries[:limit]

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

    def stamp(self, entry: BacklogEntry, field: str, at: datetime) -> None:
        """`reminded_at` or `warned_at`, while the entry is still in the index."""
        if field not in {"reminded_at", "warned_at"}:
            raise ValueError(field)
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": entry.pk}, "sk": {"S": entry.sk}},
                UpdateExpression=f"SET {field} = :at",
                ConditionExpression="sweep_kind = :kind",
                ExpressionAttributeValues={":at": {"S": at.isoformat()}, ":kind": {"S": entry.kind.value}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
