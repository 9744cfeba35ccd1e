"""Notices sent at most once, whatever the redeliveries: a payment reminder per invoice and
stage, a vendor statement per statement id.

    INVOICE#<number>          / REMINDER#<stage>   SENDING -> SENT (or LISTED), or FAILED on one channel
    STATEMENT#<statement_id>  / SENT#statement     the same, for a statement's email

A reminder is claimed before it is sent, on condition it was never claimed (or its last channel
refused it for good); a claim left SENDING by a crash is in doubt and never sent again, the same
rule as invoices (adapters/delivery_log.py). SENT is recorded with `PaymentReminderSent` in the
outbox, in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel

from invoicing.adapters.outbox import outbox_put
from invoicing.domain.events import DetailType, PaymentReminderSent

SENDING, SENT, LISTED, FAILED = "SENDING", "SENT", "LISTED", "FAILED"


class ReminderLog:
    def __init__(
        self,
        table_name: str,
        client: Any | None = None,
        *,
        partition: str = "INVOICE#",
        sort: str = "REMINDER#",
    ) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._partition, self._sort = partition, sort

    def _key(self, number: str, stage: str) -> dict[str, Any]:
        return {"pk": {"S": f"{self._partition}{number}"}, "sk": {"S": f"{self._sort}{stage}"}}

    def claim(self, number: str, stage: str, channel: str, now: datetime) -> bool:
        """True when this call may send the reminder; False when it is sent, listed or in doubt."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(number, stage),
                    "invoice_number": {"S": number},
                    "stage": {"S": stage},
                    "channel": {"S": channel},
                    "status": {"S": SENDING},
                    "claimed_at": {"S": now.isoformat()},
                },
                ConditionExpression="attribute_not_exists(pk) OR #status = :failed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":failed": {"S": FAILED}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def status(self, number: str, stage: str) -> str | None:
        item = self._client.get_item(
            TableName=self._table, Key=self._key(number, stage), ConsistentRead=True
        ).get("Item")
        return item["status"]["S"] if item else None

    def release(self, number: str, stage: str) -> None:
        """The provider did not take it (throttled): claimable again by the retry."""
        self._client.delete_item(
            TableName=self._table,
            Key=self._key(number, stage),
            ConditionExpression="#status = :sending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":sending": {"S": SENDING}},
        )

    def mark_failed(self, number: str, stage: str, reason: str, now: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=self._key(number, stage),
            UpdateExpression="SET #status = :failed, failure_reason = :reason, failed_at = :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": FAILED},
                ":reason": {"S": reason[:500]},
                ":now": {"S": now.isoformat()},
            },
        )

    def mark_sent(self, sent: PaymentReminderSent) -> None:
        self.mark_notice_sent(
            sent.invoice_number,
            sent.stage,
            sent.provider_message_id,
            sent.sent_at,
            DetailType.PAYMENT_REMINDER_SENT,
            sent,
            [f"invoice/{sent.invoice_number}", f"order/{sent.order_id}"],
        )

    def mark_notice_sent(  # noqa: PLR0917 (the record and its announcement)
        self,
        number: str,
        stage: str,
        message_id: str | None,
        at: datetime,
        detail_type: DetailType,
        detail: BaseModel,
        resources: list[str],
    ) -> None:
        status = SENT if message_id else LISTED
        values: dict[str, Any] = {":status": {"S": status}, ":now": {"S": at.isoformat()}}
        update = "SET #status = :status, sent_at = :now"
        if message_id:
            update += ", provider_message_id = :id"
            values[":id"] = {"S": message_id}
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(number, stage),
                        "UpdateExpression": update,
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": values,
                    }
                },
                outbox_put(
                    self._table,
                    f"{self._partition}{number}",
                    detail_type,
                    detail,
                    resources=resources,
                    now=at,
                ),
            ]
        )

    def sent_stages(self, number: str) -> dict[str, str]:
        page = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :reminder)",
            ExpressionAttributeValues={
                ":pk": {"S": f"{self._partition}{number}"},
                ":reminder": {"S": self._sort},
            },
            ConsistentRead=True,
        )
        return {item["stage"]["S"]: item["status"]["S"] for item in page["Items"]}
