"""Every delivery attempt, in the Invoices table, and the claims that make sending exactly-once.

Item shapes (beside the invoice record, same partition):
    INVOICE#<number> / DELIVERY#<CHANNEL>#<recipient hash>   one per channel and recipient
    INVOICE#<number> / UNDELIVERABLE                          no channel could be used
    MESSAGE#<provider message id> / DELIVERY                  from an SES/SNS id back to the delivery
    SUPPRESSED#<address> / SUPPRESSED                         an address that bounced or complained

A send is claimed before it is made (status SENDING, conditional on no claim), and marked SENT
after. A retry that finds SENT does nothing; one that finds SENDING does not send either: the
earlier attempt may have reached the provider before its bookkeeping failed, so it is left to the
SLA sweep to settle from the provider's own records rather than risk a second email.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

import boto3
from botocore.exceptions import ClientError

from invoicing.domain.order import Channel


class DeliveryStatus(StrEnum):
    SENDING = "SENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    BOUNCED = "BOUNCED"
    COMPLAINED = "COMPLAINED"
    FAILED = "FAILED"
    LISTED = "LISTED"
    """Portal only: nothing is sent, the invoice is in the customer's account."""


class Claim(StrEnum):
    CLAIMED = "CLAIMED"
    ALREADY_SENT = "ALREADY_SENT"
    IN_DOUBT = "IN_DOUBT"
    FAILED_BEFORE = "FAILED_BEFORE"


def recipient_hash(recipient: str) -> str:
    return hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]


def _delivery_key(number: str, channel: Channel, recipient: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"INVOICE#{number}"},
        "sk": {"S": f"DELIVERY#{channel.value.upper()}#{recipient_hash(recipient)}"},
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class DeliveryLog:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def claim_send(self, number: str, channel: Channel, recipient: str, now: datetime) -> Claim:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **_delivery_key(number, channel, recipient),
                    "invoice_number": {"S": number},
                    "channel": {"S": channel.value},
                    "recipient": {"S": recipient},
                    "status": {"S": DeliveryStatus.SENDING.value},
                    "claimed_at": {"S": _iso(now)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            status = self.status(number, channel, recipient)
            if status is DeliveryStatus.SENDING:
                return Claim.IN_DOUBT
            if status in {DeliveryStatus.FAILED, DeliveryStatus.BOUNCED, DeliveryStatus.COMPLAINED}:
                return Claim.FAILED_BEFORE
            return Claim.ALREADY_SENT
        return Claim.CLAIMED

    def status(self, number: str, channel: Channel, recipient: str) -> DeliveryStatus | None:
        item = self._client.get_item(
            TableName=self._table, Key=_delivery_key(number, channel, recipient), ConsistentRead=True
        ).get("Item")
        return DeliveryStatus(item["status"]["S"]) if item else None

    def mark_sent(
        self,
        number: str,
        channel: Channel,
        recipient: str,
        *,
        message_id: str,
        now: datetime,
        seconds_since_completion: float | None,
    ) -> None:
        """SENT with the provider's id, the id's lookup item, and the invoice's first send time."""
        delivery = _delivery_key(number, channel, recipient)
        first_send: dict[str, Any] = {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
                "UpdateExpression": "SET first_sent_at = if_not_exists(first_sent_at, :now), "
                "delivery_status = :sent"
                + (
                    ", seconds_to_first_send = if_not_exists(seconds_to_first_send, :secs)"
                    if seconds_since_completion is not None
                    else ""
                ),
                "ExpressionAttributeValues": {
                    ":now": {"S": _iso(now)},
                    ":sent": {"S": DeliveryStatus.SENT.value},
                    **(
                        {":secs": {"N": f"{seconds_since_completion:.3f}"}}
                        if seconds_since_completion is not None
                        else {}
                    ),
                },
            }
        }
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": delivery,
                        "UpdateExpression": "SET #status = :sent, provider_message_id = :id, sent_at = :now",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":sent": {"S": DeliveryStatus.SENT.value},
                            ":id": {"S": message_id},
                            ":now": {"S": _iso(now)},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"MESSAGE#{message_id}"},
                            "sk": {"S": "DELIVERY"},
                            "invoice_number": {"S": number},
                            "delivery_sk": delivery["sk"],
                            "channel": {"S": channel.value},
                        },
                    }
                },
                first_send,
            ]
        )

    def mark_failed(
        self, number: str, channel: Channel, recipient: str, *, reason: str, now: datetime
    ) -> None:
        """A permanent refusal by the provider: recorded, never retried on this channel."""
        self._client.update_item(
            TableName=self._table,
            Key=_delivery_key(number, channel, recipient),
            UpdateExpression="SET #status = :failed, failure_reason = :reason, failed_at = :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": DeliveryStatus.FAILED.value},
                ":reason": {"S": reason[:500]},
                ":now": {"S": _iso(now)},
            },
        )

    def release_claim(self, number: str, channel: Channel, recipient: str) -> None:
        """The provider certainly did not accept the message (throttled): let the retry claim again."""
        self._client.delete_item(
            TableName=self._table,
            Key=_delivery_key(number, channel, recipient),
            ConditionExpression="#status = :sending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":sending": {"S": DeliveryStatus.SENDING.value}},
        )

    def record_passed_over(self, number: str, reasons: list[str]) -> None:
        """Why the preferred channels were not used (invalid contact, refused, suppressed)."""
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
            UpdateExpression="SET channels_passed_over = :reasons",
            ExpressionAttributeValues={":reasons": {"L": [{"S": r} for r in reasons]}},
        )

    def record_listed(self, number: str, now: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
            UpdateExpression="SET delivery_status = :listed, listed_at = if_not_exists(listed_at, :now)",
            ExpressionAttributeValues={
                ":listed": {"S": DeliveryStatus.LISTED.value},
                ":now": {"S": _iso(now)},
            },
        )

    def record_undeliverable(self, number: str, reasons: list[str], now: datetime) -> bool:
        """True the first time only, so the failure is announced once."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "pk": {"S": f"INVOICE#{number}"},
                                "sk": {"S": "UNDELIVERABLE"},
                                "invoice_number": {"S": number},
                                "reasons": {"L": [{"S": r} for r in reasons]},
                                "recorded_at": {"S": _iso(now)},
                                "status": {"S": "OPEN"},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
                            "UpdateExpression": "SET delivery_status = :undeliverable",
                            "ExpressionAttributeValues": {":undeliverable": {"S": "UNDELIVERABLE"}},
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def failed_channels(self, number: str) -> set[Channel]:
        """Channels that already failed for good for this invoice (to fall back from)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"INVOICE#{number}"}, ":prefix": {"S": "DELIVERY#"}},
            ConsistentRead=True,
        )
        failed = {DeliveryStatus.FAILED.value, DeliveryStatus.BOUNCED.value, DeliveryStatus.COMPLAINED.value}
        return {Channel(item["channel"]["S"]) for item in response["Items"] if item["status"]["S"] in failed}

    def deliveries(self, number: str) -> list[dict[str, Any]]:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"INVOICE#{number}"}, ":prefix": {"S": "DELIVERY#"}},
            ConsistentRead=True,
        )
        return [{k: next(iter(v.values())) for k, v in item.items()} for item in response["Items"]]

    def suppressed(self, addresses: list[str]) -> set[str]:
        found: set[str] = set()
        for address in {a.strip().lower() for a in addresses if a}:
            item = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": f"SUPPRESSED#{address}"}, "sk": {"S": "SUPPRESSED"}},
            ).get("Item")
            if item:
                found.add(address)
        return found


_FIRST_DOWNLOAD = "SET first_downloaded_at = if_not_exists(first_downloaded_at, :now) ADD download_count :one"


def record_download(table_name: str, client: Any | None = None) -> Callable[[str, datetime], None]:
    """A download through a link confirms delivery: counted, first time kept, each one logged."""
    dynamodb = client or boto3.client("dynamodb")

    def record(number: str, now: datetime) -> None:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {
                            "pk": {"S": f"INVOICE#{number}"},
                            "sk": {"S": f"DOWNLOAD#{_iso(now)}"},
                            "invoice_number": {"S": number},
                            "downloaded_at": {"S": _iso(now)},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": table_name,
                        "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
                        "UpdateExpression": _FIRST_DOWNLOAD,
                        "ExpressionAttributeValues": {":now": {"S": _iso(now)}, ":one": {"N": "1"}},
                    }
                },
            ]
        )

    return record
