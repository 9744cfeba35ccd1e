"""Delivers a table's stream to a handler the way Lambda's event source mapping does.

moto's stream records lack `eventSourceARN`, always say us-east-1 and carry
`ApproximateCreationDateTime` as a datetime; `lambda_record` shapes them exactly as Lambda
delivers them. Failed records are retried from the first reported failure (partial batch
response), a batch that keeps failing is bisected, and a record that still fails after the
bounded attempts goes to the on-failure queue as Lambda's shard/sequence metadata, then skipped.
A `record_filter` plays the mapping's filter criteria: records it rejects are passed over without
invoking the handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from infra.local.runtime import REGION, FakeLambdaContext, LambdaHandler


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str = REGION) -> dict[str, Any]:
    change = dict(raw["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


@dataclass
class DeliveryStats:
    invocations: int = 0
    records: int = 0
    retried: int = 0
    sent_to_on_failure: list[str] = field(default_factory=list)


class StreamRunner:
    def __init__(
        self,
        table_name: str,
        handler: LambdaHandler,
        *,
        batch_size: int = 10,
        max_attempts: int = 3,
        on_failure_queue_url: str | None = None,
        function_name: str = "invoice-generator",
        record_filter: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self._filter = record_filter
        self._handler = handler
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._on_failure_queue_url = on_failure_queue_url
        self._context = FakeLambdaContext(function_name=function_name)
        self._streams = boto3.client("dynamodbstreams")
        self.stream_arn: str = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"][
            "LatestStreamArn"
        ]
        self._iterators: dict[str, str | None] = {}
        self._shard_of: dict[str, str] = {}
        self.delivered: list[dict[str, Any]] = []
        self.stats = DeliveryStats()

    def poll(self) -> list[dict[str, Any]]:
        """New records of every shard, Lambda-shaped, oldest first."""
        shards = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            if iterator is None:
                continue
            while iterator is not None:
                response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = self._iterators[shard_id] = response.get("NextShardIterator")
                raw_records = response.get("Records", [])
                for raw in raw_records:
                    self._shard_of[raw["dynamodb"]["SequenceNumber"]] = shard_id
                    record = lambda_record(raw, self.stream_arn)
                    if self._filter is None or self._filter(record):
                        records.append(record)
                if not raw_records:
                    break
        return records

    def deliver(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), self._batch_size):
            self._deliver(records[start : start + self._batch_size], attempt=1)
        self.delivered.extend(records)

    def run_until_quiescent(self, max_rounds: int = 50) -> int:
        """Poll and deliver until a poll finds nothing new; returns how many records were delivered."""
        total = 0
        for _ in range(max_rounds):
            records = self.poll()
            if not records:
                return total
            self.deliver(records)
            total += len(records)
        return total

    @contextmanager
    def outage(self, order_ids: set[str]) -> Iterator[None]:
        """The generator crashes on these orders' records meanwhile (a bug, or a dependency down)."""
        working = self._handler

        def crashing(event: dict[str, Any], context: Any) -> dict[str, Any]:
            if any(
                r["dynamodb"].get("Keys", {}).get("order_id", {}).get("S") in order_ids
                for r in event["Records"]
            ):
                raise RuntimeError("generator outage")
            return working(event, context)

        self._handler = crashing
        try:
            yield
        finally:
            self._handler = working

    def redeliver_everything(self) -> None:
        """What a replayed shard looks like: every record delivered again, in order."""
        for start in range(0, len(self.delivered), self._batch_size):
            self._deliver(self.delivered[start : start + self._batch_size], attempt=1)

    def _deliver(self, batch: list[dict[str, Any]], attempt: int) -> None:
        if not batch:
            return
        failed_from = self._invoke(batch)
        if failed_from is None:
            return
        remaining = batch[failed_from:]
        if attempt < self._max_attempts:
            self.stats.retried += len(remaining)
            self._deliver(remaining, attempt + 1)
        elif len(remaining) > 1:
            middle = len(remaining) // 2
            self._deliver(remaining[:middle], 1)
            self._deliver(remaining[middle:], 1)
        else:
            self._send_to_on_failure(remaining[0])

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """Index of the first failed record, or None when the whole batch succeeded."""
        self.stats.invocations += 1
        self.stats.records += len(batch)
        try:
            response = self._handler({"Records": batch}, self._context)
        except Exception:
            return 0
        failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        for index, record in enumerate(batch):
            if record["dynamodb"]["SequenceNumber"] in failed:
                return index
        return None

    def _send_to_on_failure(self, record: dict[str, Any]) -> None:
        sequence = record["dynamodb"]["SequenceNumber"]
        self.stats.sent_to_on_failure.append(sequence)
        if not self._on_failure_queue_url:
            return
        # The same metadata Lambda's on-failure destination gets: where, not what.
        arrival = record["dynamodb"].get("ApproximateCreationDateTime")
        arrived = datetime.fromtimestamp(arrival, UTC).isoformat() if isinstance(arrival, int) else None
        metadata = {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "functionArn": self._context.invoked_function_arn,
            },
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": self._shard_of.get(sequence, "unknown"),
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "approximateArrivalOfFirstRecord": arrived,
                "approximateArrivalOfLastRecord": arrived,
                "batchSize": 1,
                "streamArn": self.stream_arn,
            },
        }
        boto3.client("sqs").send_message(
            QueueUrl=self._on_failure_queue_url, MessageBody=json.dumps(metadata)
        )
