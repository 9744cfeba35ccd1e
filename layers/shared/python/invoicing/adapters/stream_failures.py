"""Orders-stream batches the generator gave up on, from its on-failure queue, read back from the stream.

Lambda's on-failure destination for a DynamoDB stream receives where the batch was, not what it
held (`DDBStreamBatchInfo`: stream, shard, first and last sequence number). The records stay in the
stream for 24 hours, so they are read back by sequence number to learn which orders they were.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

_GONE = {"TrimmedDataAccessException", "ExpiredIteratorException", "ResourceNotFoundException"}


class FailedStreamBatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    receipt_handle: str
    stream_arn: str
    shard_id: str
    start_sequence: str
    end_sequence: str
    condition: str
    first_arrival: datetime | None = None
    failed_at: datetime | None = None


class StreamRecordsGone(Exception):
    """The stream no longer holds the batch (older than 24 hours): the orders must be found by hand."""


class StreamFailures:
    def __init__(self, queue_url: str, sqs: Any | None = None, streams: Any | None = None) -> None:
        self._queue = queue_url
        self._sqs = sqs or boto3.client("sqs")
        self._streams = streams or boto3.client("dynamodbstreams")

    def pending(self, max_batches: int = 50, hold_seconds: int = 300) -> list[FailedStreamBatch]:
        """Failed batches, each hidden from other readers for `hold_seconds` while it is handled."""
        batches: list[FailedStreamBatch] = []
        while len(batches) < max_batches:
            messages = self._sqs.receive_message(
                QueueUrl=self._queue,
                MaxNumberOfMessages=min(10, max_batches - len(batches)),
                VisibilityTimeout=hold_seconds,
            ).get("Messages", [])
            if not messages:
                break
            batches += [self._parse(m) for m in messages]
        return batches

    @staticmethod
    def _parse(message: dict[str, Any]) -> FailedStreamBatch:
        body = json.loads(message["Body"])
        info = body["DDBStreamBatchInfo"]
        return FailedStreamBatch(
            receipt_handle=message["ReceiptHandle"],
            stream_arn=info["streamArn"],
            shard_id=info["shardId"],
            start_sequence=info["startSequenceNumber"],
            end_sequence=info["endSequenceNumber"],
            condition=body.get("requestContext", {}).get("condition", "unknown"),
            first_arrival=info.get("approximateArrivalOfFirstRecord"),
            failed_at=body.get("timestamp"),
        )

    def order_ids(self, batch: FailedStreamBatch) -> list[str]:
        """The orders the batch's records were about, in stream order."""
        try:
            iterator = self._streams.get_shard_iterator(
                StreamArn=batch.stream_arn,
                ShardId=batch.shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=batch.start_sequence,
            )["ShardIterator"]
            order_ids: list[str] = []
            end = int(batch.end_sequence)
            while iterator:
                response = self._streams.get_records(ShardIterator=iterator, Limit=100)
                records = response.get("Records", [])
                for record in records:
                    if int(record["dynamodb"]["SequenceNumber"]) > end:
                        return order_ids
                    order_id = record["dynamodb"].get("Keys", {}).get("order_id", {}).get("S")
                    if order_id and order_id not in order_ids:
                        order_ids.append(order_id)
                if not records:
                    return order_ids
                iterator = response.get("NextShardIterator")
            return order_ids
        except ClientError as error:
            if error.response["Error"]["Code"] in _GONE:
                raise StreamRecordsGone(str(error)) from error
            raise

    def settle(self, batch: FailedStreamBatch) -> None:
        self._sqs.delete_message(QueueUrl=self._queue, ReceiptHandle=batch.receipt_handle)

    def postpone(self, batch: FailedStreamBatch, seconds: int) -> None:
        """Back in the queue after `seconds` (the queue's alarm stays on while it is there)."""
        self._sqs.change_message_visibility(
            QueueUrl=self._queue, ReceiptHandle=batch.receipt_handle, VisibilityTimeout=min(seconds, 43200)
        )
