"""Resends customer service asked for: one per request id, sent at most once.

    INVOICE#<number> / RESEND#<request_id>   REQUESTED -> SENDING -> SENT (or FAILED), who and when

The request is recorded with `InvoiceResendRequested` in the outbox, on condition that this id was
never used: asking again with the same id answers the first request and sends nothing more. The
dispatcher takes it (REQUESTED -> SENDING on condition), sends, and records SENT with
`InvoiceResent`; a crash between the two leaves it SENDING, in doubt, never sent twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from invoicing.adapters.invoice_ledger import from_item
from invoicing.adapters.outbox import outbox_put
from invoicing.domain.events import DetailType, InvoiceResendRequested, InvoiceResent

REQUESTED, SENDING, SENT, FAILED = "REQUESTED", "SENDING", "SENT", "FAILED"


class ResendRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str
    request_id: str
    requested_by: str
    requested_at: datetime
    reason: str
    recipient: str | None = None
    """The address given with the request; None: the one on file when it is sent."""
    status: str
    channel: str | None = None
    sent_at: datetime | None = None


def _key(number: str, request_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": f"RESEND#{request_id}"}}


class ResendLog:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def get(self, number: str, request_id: str) -> ResendRecord | None:
        item = self._client.get_item(
            TableName=self._table, Key=_key(number, request_id), ConsistentRead=True
        ).get("Item")
        return ResendRecord.model_validate(from_item(item)) if item else None

    def request(self, record: ResendRecord) -> ResendRecord:
        """Record the request and announce it, or return the one this id already made."""
        item: dict[str, Any] = {
            **_key(record.invoice_number, record.request_id),
            "invoice_number": {"S": record.invoice_number},
            "request_id": {"S": record.request_id},
            "requested_by": {"S": record.requested_by},
            "requested_at": {"S": record.requested_at.isoformat()},
            "reason": {"S": record.reason},
            "status": {"S": REQUESTED},
        }
        if record.recipient:
            item["recipient"] = {"S": record.recipient}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    outbox_put(
                        self._table,
                        f"INVOICE#{record.invoice_number}",
                        DetailType.INVOICE_RESEND_REQUESTED,
                        InvoiceResendRequested(
                            invoice_number=record.invoice_number,
                            request_id=record.request_id,
                            requested_by=record.requested_by,
                            requested_at=record.requested_at,
                        ),
                        resources=[f"invoice/{record.invoice_number}", f"resend/{record.request_id}"],
                        now=record.requested_at,
                    ),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            existing = self.get(record.invoice_number, record.request_id)
            if existing is None:
                raise
            return existing
        return record

    def take(self, number: str, request_id: str, channel: str, recipient: str, now: datetime) -> bool:
        """REQUESTED (or FAILED on another channel) -> SENDING: True when this call may send it."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(number, request_id),
                UpdateExpression="SET #status = :sending, channel = :channel, sent_to = :to, taken_at = :now",
                ConditionExpression="#status IN (:requested, :failed)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":sending": {"S": SENDING},
                    ":requested": {"S": REQUESTED},
                    ":failed": {"S": FAILED},
                    ":channel": {"S": channel},
                    ":to": {"S": recipient},
                    ":now": {"S": now.isoformat()},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release(self, number: str, request_id: str) -> None:
        self._set_status(number, request_id, REQUESTED)

    def mark_failed(self, number: str, request_id: str) -> None:
        self._set_status(number, request_id, FAILED)

    def _set_status(self, number: str, request_id: str, status: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=_key(number, request_id),
            UpdateExpression="SET #status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": status}},
        )

    def mark_sent(self, sent: InvoiceResent) -> None:
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": _key(sent.invoice_number, sent.request_id),
                        "UpdateExpression": "SET #status = :sent, sent_at = :at, provider_message_id = :id",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":sent": {"S": SENT},
                            ":at": {"S": sent.sent_at.isoformat()},
                            ":id": {"S": sent.provider_message_id},
                        },
                    }
                },
                outbox_put(
                    self._table,
                    f"INVOICE#{sent.invoice_number}",
                    DetailType.INVOICE_RESENT,
                    sent,
                    resources=[f"invoice/{sent.invoice_number}", f"resend/{sent.request_id}"],
                    now=sent.sent_at,
                ),
            ]
        )
