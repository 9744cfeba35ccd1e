"""Delivers EventBridge events to a handler the way an EventBridge Lambda target does.

Locally each rule targets an SQS queue (see provisioning.py); this runner takes the events off it
and invokes the real handler with the event itself. A handler that raises leaves the event for
another attempt (EventBridge retries with backoff); after `max_attempts` it goes to the dead
letters, as the target's DLQ would receive it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.local.runtime import ACCOUNT_ID, REGION, FakeLambdaContext, LambdaHandler

_ENVELOPE_DEFAULTS = {"version": "0", "account": ACCOUNT_ID, "region": REGION, "resources": []}


def eventbridge_event(body: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a Lambda target: moto's copy lacks `account`."""
    return {**_ENVELOPE_DEFAULTS, **body}


@dataclass
class EventRunner:
    queue_url: str
    handler: LambdaHandler
    function_name: str
    max_attempts: int = 3
    attempts: dict[str, int] = field(default_factory=dict)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    invocations: int = 0

    def drain(self, max_rounds: int = 20) -> int:
        """Deliver everything queued (and retry failures) until the queue is empty; returns deliveries."""
        sqs = boto3.client("sqs")
        context = FakeLambdaContext(function_name=self.function_name)
        delivered = 0
        for _ in range(max_rounds):
            messages = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
            ).get("Messages", [])
            if not messages:
                return delivered
            for message in messages:
                event = eventbridge_event(json.loads(message["Body"]))
                self.invocations += 1
                try:
                    self.handler(event, context)
                except Exception:  # a raising target is retried, as by EventBridge
                    tries = self.attempts[event["id"]] = self.attempts.get(event["id"], 0) + 1
                    if tries < self.max_attempts:
                        continue
                    self.dead_letters.append(event)
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                delivered += 1
        return delivered
