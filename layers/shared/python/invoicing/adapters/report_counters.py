"""The report counters table (`<prefix>-report-counters`): per-day counters, the facts that make
each count once, and the events already counted.

    DAY#<yyyy-mm-dd>#<nn> / COUNTS       counters added to atomically (`ADD`): each write goes to
                                         one of the day's `shards` at random, each its own
                                         partition, so no partition is hot at any volume
    DAY#<yyyy-mm-dd> / RECONCILIATION    the findings of that day's reconciliation report (SET)
    FACT#INVOICE#<number> / FACT         what the counting knows of an invoice: its kind and issue
                                         day, and when it was first sent, delivered, opened,
                                         downloaded, corrected, found undeliverable
    FACT#ORDER#<order_id> / FACT         an order counted as rejected
    COUNTED#<announcement id> / COUNTED  an event counted (expires after COUNTED_RETENTION)

One event is one transaction: the `COUNTED#` guard, the facts it sets (each condition says "not
yet"), and the counter updates. So a redelivered event, or a second event about the same first
send, adds nothing; and a crash leaves either all of it or none.
A report reads `days x (shards + 1)` items by key (BatchGetItem, 100 a call): a quarter with 8
shards is 828 items in 9 calls, whatever the volume. The report reads as many shards as the
counting writes (the same setting): raise `shards` if ever needed, never lower it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from invoicing.domain.report_counts import DayCounts, merge_shards

COUNTED_RETENTION = timedelta(days=14)
"""Far longer than EventBridge retries an event (24 h) or the outbox republishes one."""
FACT_RETENTION = timedelta(days=400)
"""A quarter's report can still count a late event about an invoice of the year before."""
RECONCILIATION_SK = "RECONCILIATION"
COUNTS_SK = "COUNTS"


class CountConflict(RuntimeError):
    """The event's transaction raced another: read the facts again and count it again."""


class Fact(BaseModel):
    """What the counting recorded of an invoice (or an order)."""

    model_config = ConfigDict(frozen=True)

    key: str
    kind: str = ""
    issued_day: date | None = None
    issued_at: datetime | None = None
    original: bool = True
    """A customer invoice for a completed order (not a revised invoice)."""
    correction: bool = False
    """A revised invoice, or a credit note on its own: its first send completes a correction."""
    marks: dict[str, datetime] = {}
    """first_sent, delivered, opened, downloaded, corrected, undeliverable: when, if yet."""


class FactWrite(BaseModel):
    """Create a fact (`create`), or set one of its marks once (`mark`)."""

    model_config = ConfigDict(frozen=True)

    key: str
    create: Fact | None = None
    mark: str | None = None
    at: datetime | None = None


class Tally(BaseModel):
    """What one event adds: facts, and counters per day."""

    model_config = ConfigDict(frozen=True)

    facts: list[FactWrite] = []
    counts: dict[date, dict[str, Decimal]] = {}

    @property
    def empty(self) -> bool:
        return not self.facts and not any(self.counts.values())


def _day_pk(day: date) -> str:
    return f"DAY#{day.isoformat()}"


def _shard_pk(day: date, shard: int) -> str:
    return f"DAY#{day.isoformat()}#{shard:02d}"


def _numbers(item: Mapping[str, Any]) -> dict[str, Decimal]:
    return {k: Decimal(v["N"]) for k, v in item.items() if isinstance(v, Mapping) and "N" in v}


def _fact_key(key: str) -> dict[str, Any]:
    return {"pk": {"S": f"FACT#{key}"}, "sk": {"S": "FACT"}}


class ReportCounters:
    def __init__(self, table_name: str, shards: int = 8, client: Any | None = None) -> None:
        self._table = table_name
        self._shards = max(1, shards)
        self._client = client or boto3.client("dynamodb")

    def fact(self, key: str) -> Fact | None:
        item = self._client.get_item(TableName=self._table, Key=_fact_key(key), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        return Fact(
            key=key,
            kind=item.get("kind", {}).get("S", ""),
            issued_day=item["issued_day"]["S"] if "issued_day" in item else None,
            issued_at=item["issued_at"]["S"] if "issued_at" in item else None,
            original=item.get("original", {}).get("BOOL", True),
            correction=item.get("correction", {}).get("BOOL", False),
            marks={k.removeprefix("at_"): v["S"] for k, v in item.items() if k.startswith("at_")},
        )

    def record(self, counted_id: str, tally: Tally, now: datetime) -> bool:
        """Count the event once: False if it was counted before (nothing is added again).

        Raises CountConflict when a fact moved meanwhile (a concurrent event about the same invoice)
        or another transaction held a counter: count again from the facts as they are then."""
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"COUNTED#{counted_id}"},
                        "sk": {"S": "COUNTED"},
                        "expires_at": {"N": str(int((now + COUNTED_RETENTION).timestamp()))},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        items += [self._fact_item(write, now) for write in tally.facts]
        items += [self._count_item(day, counts) for day, counts in sorted(tally.counts.items()) if counts]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            if {"ConditionalCheckFailed", "TransactionConflict"} & set(reasons):
                raise CountConflict(f"counting raced another event: {reasons}") from error
            raise
        return True

    def add_now(self, day: date, counts: Mapping[str, Decimal | int]) -> None:
        """Add without a guard: for occurrences that are each counted where they happen (a refused
        download), never redelivered."""
        self._client.update_item(**self._count_update(day, {k: Decimal(v) for k, v in counts.items()}))

    def set_reconciliation(self, day: date, counts: Mapping[str, int]) -> None:
        """The day's reconciliation findings as last reported (a report made again replaces them)."""
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": _day_pk(day)},
                "sk": {"S": RECONCILIATION_SK},
                **{f"recon#{section}": {"N": str(count)} for section, count in counts.items()},
            },
        )

    def days(self, days: Iterable[date]) -> list[DayCounts]:
        """Each day's counters, its shards summed, and its reconciliation findings."""
        wanted = list(days)
        keys = [(_day_pk(day), RECONCILIATION_SK) for day in wanted]
        keys += [(_shard_pk(day, shard), COUNTS_SK) for day in wanted for shard in range(self._shards)]
        items: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(keys), 100):
            pending: dict[str, Any] = {
                self._table: {
                    "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys[start : start + 100]]
                }
            }
            while pending:
                answer = self._client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self._table, []):
                    items[(item["pk"]["S"], item["sk"]["S"])] = item
                pending = answer.get("UnprocessedKeys") or {}
        out: list[DayCounts] = []
        for day in wanted:
            shards = [
                _numbers(items[(_shard_pk(day, shard), COUNTS_SK)])
                for shard in range(self._shards)
                if (_shard_pk(day, shard), COUNTS_SK) in items
            ]
            recon = _numbers(items.get((_day_pk(day), RECONCILIATION_SK), {}))
            reconciliation = {
                k.removeprefix("recon#"): int(v) for k, v in recon.items() if k.startswith("recon#")
            }
            out.append(merge_shards(day, shards).model_copy(update={"reconciliation": reconciliation}))
        return out

    def _fact_item(self, write: FactWrite, now: datetime) -> dict[str, Any]:
        if write.create is not None:
            fact = write.create
            item: dict[str, Any] = {
                **_fact_key(write.key),
                "kind": {"S": fact.kind},
                "original": {"BOOL": fact.original},
                "correction": {"BOOL": fact.correction},
                "expires_at": {"N": str(int((now + FACT_RETENTION).timestamp()))},
            }
            if fact.issued_day is not None:
                item["issued_day"] = {"S": fact.issued_day.isoformat()}
            if fact.issued_at is not None:
                item["issued_at"] = {"S": fact.issued_at.isoformat()}
            return {
                "Put": {
                    "TableName": self._table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        assert write.mark is not None and write.at is not None
        return {
            "Update": {
                "TableName": self._table,
                "Key": _fact_key(write.key),
                "UpdateExpression": "SET #mark = :at",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#mark)",
                "ExpressionAttributeNames": {"#mark": f"at_{write.mark}"},
                "ExpressionAttributeValues": {":at": {"S": write.at.isoformat()}},
            }
        }

    def _count_update(self, day: date, counts: Mapping[str, Decimal]) -> dict[str, Any]:
        names = {f"#c{i}": name for i, name in enumerate(counts)}
        values = {f":v{i}": {"N": str(value)} for i, value in enumerate(counts.values())}
        return {
            "TableName": self._table,
            "Key": {"pk": {"S": _shard_pk(day, random.randrange(self._shards))}, "sk": {"S": COUNTS_SK}},  # noqa: S311 (spreading writes, not security)
            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :v{i}" for i in range(len(counts))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _count_item(self, day: date, counts: Mapping[str, Decimal]) -> dict[str, Any]:
        return {"Update": self._count_update(day, counts)}
