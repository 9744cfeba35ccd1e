"""Tells operations, through the alarms SNS topic their email (or chat) is subscribed to."""

from __future__ import annotations

from typing import Any

import boto3


class OperationsAlerts:
    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self._topic = topic_arn
        self._client = client or boto3.client("sns")

    def publish(self, subject: str, text: str) -> str:
        response = self._client.publish(TopicArn=self._topic, Subject=subject[:100], Message=text)
        message_id: str = response["MessageId"]
        return message_id
