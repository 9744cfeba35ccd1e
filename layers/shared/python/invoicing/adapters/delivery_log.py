"""Every delivery attempt, in the Invoices table, and the claims that make sending exactly-once.

Item shapes (beside the invoice record, same partition):
    INVOICE#<number> / DELIVERY#<CHANNEL>#<recipient hash>   one per channel and recipient
    INVOICE#<number> / UNDELIVERABLE                          no channel could be used
    MESSAGE#<provider message id> / DELIVERY                  from an SES/SNS id back to the delivery
    SUPPRESSED#<address> / SUPPRESSED                         an address that bounced or complained

A send is claimed before it is made (status SENDING, conditional on no claim), and marked SENT
after. A retry that finds SENT does nothing; one that finds SENDING does not send either: the
earlier attempt may have reached the provider before its bookkeeping failed, so the SLA sweep
reports it to operations (DELIVERY_IN_DOUBT) rather than risk a second email.

SES's notifications (through the bounce webhook) then move a sent email forward only:
SENT -> DELIVERED -> BOUNCED / COMPLAINED, or SENT -> DEFERRED (soft bounce) -> SENDING again.
Each change is conditional on the delivery still carrying the notified message id and being in a
status the change may follow, so a duplicate or late notification changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection
from datetime import datetime
from enum import StrEnum
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from invoicing.adapters.outbox import outbox_put
from invoicing.adapters.sweep_attributes import SWEEP_ATTRIBUTES, sweep_attributes
from invoicing.domain.events import (
    ChannelProblem,
    DetailType,
    InvoiceDeliveryFailed,
    InvoiceDeliveryOutcome,
    InvoiceDownloaded,
    InvoiceIssued,
    InvoiceListed,
    InvoiceSent,
)
from invoicing.domain.order import Channel
from invoicing.domain.ses_notifications import statuses_before
from invoicing.domain.sla import SweepKind


class DeliveryStatus(StrEnum):
    SENDING = "SENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    BOUNCED = "BOUNCED"
    COMPLAINED = "COMPLAINED"
    FAILED = "FAILED"
    DEFERRED = "DEFERRED"
    """Bounced softly: to be sent again at `retry_at` (the SLA sweep re-drives it)."""
    LISTED = "LISTED"
    """Portal only: nothing is sent, the invoice is in the customer's account."""


class Claim(StrEnum):
    CLAIMED = "CLAIMED"
    ALREADY_SENT = "ALREADY_SENT"
    IN_DOUBT = "IN_DOUBT"
    FAILED_BEFORE = "FAILED_BEFORE"
    RETRY_LATER = "RETRY_LATER"
    """Bounced softly and its retry is not due yet."""


def recipient_hash(recipient: str) -> str:
    return hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]


def _delivery_key(number: str, channel: Channel, recipient: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"INVOICE#{number}"},
        "sk": {"S": f"DELIVERY#{channel.value.upper()}#{recipient_hash(recipient)}"},
    }


def delivery_tag(channel: Channel, recipient: str) -> str:
    """The delivery claim as an SES message tag value ("EMAIL-<hash>": no '#' allowed there)."""
    return f"{channel.value.upper()}-{recipient_hash(recipient)}"


def delivery_sort_key(tag: str) -> str | None:
    """The claim's sort key from its tag; None for a value that is not one of ours."""
    channel, _, digest = tag.partition("-")
    if (
        channel not in {"EMAIL", "SMS"}
        or len(digest) != 16
        or not all(c in "0123456789abcdef" for c in digest)
    ):
        return None
    return f"DELIVERY#{channel}#{digest}"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def sent_items(
    table: str, delivery: dict[str, Any], sent: InvoiceSent, *, only_if_sending: bool = False
) -> list[dict[str, Any]]:
    """The transaction that records a send: the delivery SENT with its message id, the id's lookup
    item, the invoice's first send (out of the sweep index) and `InvoiceSent` in the outbox.
    `only_if_sending`: settle a claim in doubt, and only that (a provider notification)."""
    number, now, message_id = sent.invoice_number, sent.sent_at, sent.provider_message_id
    seconds = sent.seconds_since_completion
    delivery_update: dict[str, Any] = {
        "TableName": table,
        "Key": delivery,
        "UpdateExpression": "SET #status = :sent, provider_message_id = :id, sent_at = :now, "
        f"settled_by = :by REMOVE {SWEEP_ATTRIBUTES}",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":sent": {"S": DeliveryStatus.SENT.value},
            ":id": {"S": message_id},
            ":now": {"S": _iso(now)},
            ":by": {"S": sent.settled_by},
        },
    }
    if only_if_sending:
        delivery_update["ConditionExpression"] = "#status = :sending"
        delivery_update["ExpressionAttributeValues"][":sending"] = {"S": DeliveryStatus.SENDING.value}
    first_send = {
        "TableName": table,
        "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
        "UpdateExpression": "SET first_sent_at = if_not_exists(first_sent_at, :now), "
        "delivery_status = :sent, last_sent_at = :now"
        + (
            ", seconds_to_first_send = if_not_exists(seconds_to_first_send, :secs)"
            if seconds is not None
            else ""
        )
        + f" REMOVE {SWEEP_ATTRIBUTES}",
        "ExpressionAttributeValues": {
            ":now": {"S": _iso(now)},
            ":sent": {"S": DeliveryStatus.SENT.value},
            **({":secs": {"N": f"{seconds:.3f}"}} if seconds is not None else {}),
        },
    }
    return [
        {"Update": delivery_update},
        {
            "Put": {
                "TableName": table,
                "Item": {
                    "pk": {"S": f"MESSAGE#{message_id}"},
                    "sk": {"S": "DELIVERY"},
                    "invoice_number": {"S": number},
                    "delivery_sk": delivery["sk"],
                    "channel": {"S": sent.channel.value},
                },
            }
        },
        {"Update": first_send},
        outbox_put(
            table,
            f"INVOICE#{number}",
            DetailType.INVOICE_SENT,
            sent,
            resources=[f"invoice/{number}", f"order/{sent.order_id}"],
            now=now,
        ),
    ]


def settle_in_doubt_as_sent(  # noqa: PLR0917 (one call per way of settling)
    client: Any,
    table: str,
    sort_key: str,
    issued: InvoiceIssued,
    message_id: str,
    at: datetime,
    note: str | None = None,
) -> bool:
    """A claim still SENDING is recorded SENT (with InvoiceSent), on the word of the provider's own
    notification or of a person (`note`). False when there is no such claim in doubt."""
    number = issued.invoice_number
    key = {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": sort_key}}
    item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    if not item or item["status"]["S"] != DeliveryStatus.SENDING.value:
        return False
    completed = issued.order_completed_at
    sent = InvoiceSent(
        invoice_number=number,
        kind=issued.kind,
        order_id=issued.order_id,
        customer_id=issued.customer_id,
        vendor_id=issued.vendor_id,
        channel=Channel(item["channel"]["S"]),
        provider_message_id=message_id,
        sent_at=at,
        seconds_since_completion=(at - completed).total_seconds() if completed else None,
        settled_by="provider-notification" if note is None else "operator",
    )
    items = sent_items(table, key, sent, only_if_sending=True)
    if note is not None:
        update = items[0]["Update"]
        update["UpdateExpression"] = update["UpdateExpression"].replace(
            "settled_by = :by", "settled_by = :by, settlement_note = :note"
        )
        update["ExpressionAttributeValues"][":note"] = {"S": note[:500]}
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as error:
        if error.response["Error"]["Code"] == "TransactionCanceledException":
            return False
        raise
    return True


class DeliveryLog:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def claim_send(self, number: str, channel: Channel, recipient: str, now: datetime) -> Claim:
        """SENDING, on condition nobody claimed it before (or its soft-bounce retry is due).

        A claim stays in the sweep index as DELIVERY_IN_DOUBT until the send is settled.
        """
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
                    **sweep_attributes(SweepKind.DELIVERY_IN_DOUBT, now),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            status = self.status(number, channel, recipient)
            if status is DeliveryStatus.DEFERRED:
                return self._reclaim_deferred(number, channel, recipient, now)
            if status is DeliveryStatus.SENDING:
                return Claim.IN_DOUBT
            if status in {DeliveryStatus.FAILED, DeliveryStatus.BOUNCED, DeliveryStatus.COMPLAINED}:
                return Claim.FAILED_BEFORE
            return Claim.ALREADY_SENT
        return Claim.CLAIMED

    def _reclaim_deferred(self, number: str, channel: Channel, recipient: str, now: datetime) -> Claim:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_delivery_key(number, channel, recipient),
                UpdateExpression="SET #status = :sending, claimed_at = :now, sweep_kind = :kind, "
                "sweep_since = :now, sweep_due_at = :now REMOVE sweep_attempts, reminded_at, warned_at",
                ConditionExpression="#status = :deferred AND retry_at <= :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":sending": {"S": DeliveryStatus.SENDING.value},
                    ":deferred": {"S": DeliveryStatus.DEFERRED.value},
                    ":kind": {"S": SweepKind.DELIVERY_IN_DOUBT.value},
                    ":now": {"S": _iso(now)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Not due yet, or another attempt took it first: look again, without sending.
            status = self.status(number, channel, recipient)
            return Claim.RETRY_LATER if status is DeliveryStatus.DEFERRED else Claim.IN_DOUBT
        return Claim.CLAIMED

    def status(self, number: str, channel: Channel, recipient: str) -> DeliveryStatus | None:
        item = self._client.get_item(
            TableName=self._table, Key=_delivery_key(number, channel, recipient), ConsistentRead=True
        ).get("Item")
        return DeliveryStatus(item["status"]["S"]) if item else None

    def mark_sent(self, number: str, channel: Channel, recipient: str, sent: InvoiceSent) -> None:
        """SENT with the provider's id, the id's lookup item, the invoice's first send time and
        `InvoiceSent` in the outbox, in one transaction."""
        self._client.transact_write_items(
            TransactItems=sent_items(self._table, _delivery_key(number, channel, recipient), sent)
        )

    def mark_failed(
        self, number: str, channel: Channel, recipient: str, *, reason: str, now: datetime
    ) -> None:
        """A permanent refusal by the provider: recorded, never retried on this channel."""
        self._client.update_item(
            TableName=self._table,
            Key=_delivery_key(number, channel, recipient),
            UpdateExpression=f"SET #status = :failed, failure_reason = :reason, failed_at = :now "
            f"REMOVE {SWEEP_ATTRIBUTES}",
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

    def settle_as_sent(
        self, number: str, sort_key: str, issued: InvoiceIssued, now: datetime, note: str
    ) -> bool:
        """A person confirmed with the provider that a send in doubt went out."""
        message_id = f"operator-{uuid.uuid4().hex}"
        return settle_in_doubt_as_sent(self._client, self._table, sort_key, issued, message_id, now, note)

    def settle_as_not_sent(self, number: str, sort_key: str, now: datetime, note: str) -> bool:
        """A person confirmed it never went out: release the claim, and the invoice is due for the
        sweep's re-drive at once (kept: who decided, and why, on a DOWNLOAD-like audit item)."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": sort_key}},
                            "ConditionExpression": "#status = :sending",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {":sending": {"S": DeliveryStatus.SENDING.value}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "pk": {"S": f"INVOICE#{number}"},
                                "sk": {"S": f"SETTLEMENT#{_iso(now)}"},
                                "delivery_sk": {"S": sort_key},
                                "settlement": {"S": "not-sent"},
                                "note": {"S": note[:500]},
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
                            "UpdateExpression": "SET sweep_kind = :kind, sweep_due_at = :now, "
                            "sweep_since = if_not_exists(sweep_since, :now) REMOVE sweep_attempts",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {
                                ":kind": {"S": SweepKind.INVOICE_UNSENT.value},
                                ":now": {"S": _iso(now)},
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def record_passed_over(self, number: str, reasons: list[str]) -> None:
        """Why the preferred channels were not used (invalid contact, refused, suppressed)."""
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
            UpdateExpression="SET channels_passed_over = :reasons",
            ExpressionAttributeValues={":reasons": {"L": [{"S": r} for r in reasons]}},
        )

    def record_listed(self, number: str, now: datetime, announcement: InvoiceListed | None = None) -> None:
        """LISTED: the invoice is in the account. With `announcement` (the customer's preferred
        channel is the account), the first listing is announced in the same transaction."""
        update = {
            "TableName": self._table,
            "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
            "UpdateExpression": "SET delivery_status = :listed, listed_at = if_not_exists(listed_at, :now) "
            f"REMOVE {SWEEP_ATTRIBUTES}",
            "ExpressionAttributeValues": {
                ":listed": {"S": DeliveryStatus.LISTED.value},
                ":now": {"S": _iso(now)},
            },
        }
        if announcement is not None:
            first = {
                **update,
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(listed_at)",
            }
            announce = outbox_put(
                self._table,
                f"INVOICE#{number}",
                DetailType.INVOICE_LISTED,
                announcement,
                resources=[f"invoice/{number}", f"order/{announcement.order_id}"],
                now=now,
            )
            try:
                self._client.transact_write_items(TransactItems=[{"Update": first}, announce])
                return
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                # Listed before, and announced then: only the status is set again.
        self._client.update_item(**update)

    def record_undeliverable(self, failed: InvoiceDeliveryFailed, reasons: list[str]) -> bool:
        """Recorded with `InvoiceDeliveryFailed` in the outbox, in one transaction. True the first
        time only (or again after a reopened attempt failed), so it is announced once."""
        number, now = failed.invoice_number, failed.failed_at
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
                                "order_id": {"S": failed.order_id},
                                "reasons": {"L": [{"S": r} for r in reasons]},
                                "recorded_at": {"S": _iso(now)},
                                "status": {"S": "OPEN"},
                                **sweep_attributes(SweepKind.UNDELIVERABLE, now),
                            },
                            "ConditionExpression": "attribute_not_exists(pk) OR #status <> :open",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {":open": {"S": "OPEN"}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
                            "UpdateExpression": "SET delivery_status = :undeliverable "
                            f"REMOVE {SWEEP_ATTRIBUTES}",
                            "ExpressionAttributeValues": {":undeliverable": {"S": "UNDELIVERABLE"}},
                        }
                    },
                    outbox_put(
                        self._table,
                        f"INVOICE#{number}",
                        DetailType.INVOICE_DELIVERY_FAILED,
                        failed,
                        resources=[f"invoice/{number}", f"order/{failed.order_id}"],
                        now=now,
                    ),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def failed_channels(self, number: str, current: dict[Channel, str | None]) -> set[Channel]:
        """Channels that already failed for good for this invoice with the recipient they have now
        (to fall back from); a corrected address is a new recipient and is tried."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"INVOICE#{number}"}, ":prefix": {"S": "DELIVERY#"}},
            ConsistentRead=True,
        )
        failed = {DeliveryStatus.FAILED.value, DeliveryStatus.BOUNCED.value, DeliveryStatus.COMPLAINED.value}
        return {
            Channel(item["channel"]["S"])
            for item in response["Items"]
            if item["status"]["S"] in failed
            and recipient_hash(current.get(Channel(item["channel"]["S"])) or "")
            == recipient_hash(item["recipient"]["S"])
        }

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


class NotifiedDelivery(BaseModel):
    """The delivery a provider's message id belongs to, as the webhook finds it."""

    model_config = ConfigDict(frozen=True)

    invoice_number: str
    delivery_sk: str
    channel: Channel
    recipient: str
    status: DeliveryStatus
    provider_message_id: str | None = None
    soft_bounces: int = 0

    @property
    def key(self) -> dict[str, Any]:
        return {"pk": {"S": f"INVOICE#{self.invoice_number}"}, "sk": {"S": self.delivery_sk}}


def _cancelled(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    }


class DeliveryNotifications:
    """What the provider told us after the send: applied to the delivery, forward only, once."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def find(self, message_id: str) -> NotifiedDelivery | None:
        link = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"MESSAGE#{message_id}"}, "sk": {"S": "DELIVERY"}}
        ).get("Item")
        if not link:
            return None
        number = link["invoice_number"]["S"]
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"INVOICE#{number}"}, "sk": link["delivery_sk"]},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        return NotifiedDelivery(
            invoice_number=number,
            delivery_sk=link["delivery_sk"]["S"],
            channel=Channel(item["channel"]["S"]),
            recipient=item["recipient"]["S"],
            status=DeliveryStatus(item["status"]["S"]),
            provider_message_id=item.get("provider_message_id", {}).get("S"),
            soft_bounces=int(item.get("soft_bounces", {}).get("N", "0")),
        )

    def settle_in_doubt(
        self, number: str, tag: str, message_id: str, issued: InvoiceIssued, at: datetime
    ) -> bool:
        """The provider says it took a message whose send is still SENDING here (the dispatcher's
        bookkeeping was lost after the send): record it SENT with the provider's id, as the
        dispatcher would have. False when there is no such claim in doubt."""
        sort_key = delivery_sort_key(tag)
        if sort_key is None or number != issued.invoice_number:
            return False
        return settle_in_doubt_as_sent(self._client, self._table, sort_key, issued, message_id, at)

    def _move(
        self,
        delivery: NotifiedDelivery,
        message_id: str,
        after: Collection[str],
        update: str,
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """An Update of the delivery item, conditional on its message id and current status."""
        allowed = {f":after{i}": {"S": status} for i, status in enumerate(sorted(after))}
        return {
            "TableName": self._table,
            "Key": delivery.key,
            "UpdateExpression": update,
            "ConditionExpression": f"provider_message_id = :mid AND #status IN ({', '.join(allowed)})",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":mid": {"S": message_id}, **allowed, **values},
        }

    def record_delivered(self, delivery: NotifiedDelivery, message_id: str, at: datetime) -> bool:
        """DELIVERED, with `InvoiceDelivered` in the outbox; False for a repeat or a late one."""
        outcome = InvoiceDeliveryOutcome(
            invoice_number=delivery.invoice_number,
            channel=delivery.channel,
            provider_message_id=message_id,
            occurred_at=at,
        )
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": self._move(
                            delivery,
                            message_id,
                            statuses_before(DeliveryStatus.DELIVERED),
                            "SET #status = :delivered, delivered_at = :at",
                            {":delivered": {"S": DeliveryStatus.DELIVERED.value}, ":at": {"S": _iso(at)}},
                        )
                    },
                    self._announce(delivery, DetailType.INVOICE_DELIVERED, outcome, at),
                ]
            )
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        self._update_invoice_if(
            delivery.invoice_number,
            "SET delivery_status = :delivered, delivered_at = if_not_exists(delivered_at, :at)",
            "delivery_status = :sent",
            {
                ":delivered": {"S": DeliveryStatus.DELIVERED.value},
                ":sent": {"S": DeliveryStatus.SENT.value},
                ":at": {"S": _iso(at)},
            },
        )
        return True

    def _announce(
        self, delivery: NotifiedDelivery, detail_type: DetailType, detail: BaseModel, at: datetime
    ) -> dict[str, Any]:
        return outbox_put(
            self._table,
            f"INVOICE#{delivery.invoice_number}",
            detail_type,
            detail,
            resources=[f"invoice/{delivery.invoice_number}"],
            now=at,
        )

    def record_bounce(
        self, delivery: NotifiedDelivery, message_id: str, reason: str, at: datetime, issued: InvoiceIssued
    ) -> bool:
        """BOUNCED for good, the invoice back in the sweep index until another channel delivers it,
        and in the outbox `InvoiceDeliveryFailed` (for customer service) and `InvoiceDeliveryDue`
        (the dispatcher falls back to the next channel): one transaction. True the first time only.
        """
        delivery_update = self._move(
            delivery,
            message_id,
            statuses_before(DeliveryStatus.BOUNCED),
            f"SET #status = :bounced, bounce_reason = :reason, bounced_at = :at REMOVE {SWEEP_ATTRIBUTES}",
            {
                ":bounced": {"S": DeliveryStatus.BOUNCED.value},
                ":reason": {"S": reason[:500]},
                ":at": {"S": _iso(at)},
            },
        )
        invoice_update = {
            "TableName": self._table,
            "Key": {"pk": {"S": f"INVOICE#{delivery.invoice_number}"}, "sk": {"S": "INVOICE"}},
            "UpdateExpression": "SET delivery_status = :bounced, sweep_kind = :kind, sweep_since = :at, "
            "sweep_due_at = :at REMOVE sweep_attempts, reminded_at, warned_at",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {
                ":bounced": {"S": DeliveryStatus.BOUNCED.value},
                ":kind": {"S": SweepKind.INVOICE_UNSENT.value},
                ":at": {"S": _iso(at)},
            },
        }
        failed = InvoiceDeliveryFailed(
            invoice_number=delivery.invoice_number,
            order_id=issued.order_id,
            customer_id=issued.customer_id,
            vendor_id=issued.vendor_id,
            problems=[ChannelProblem(channel=delivery.channel, reason=f"bounced: {reason}")],
            failed_at=at,
            undeliverable=False,
        )
        resources = [f"invoice/{delivery.invoice_number}", f"order/{issued.order_id}"]
        partition = f"INVOICE#{delivery.invoice_number}"
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Update": delivery_update},
                    {"Update": invoice_update},
                    outbox_put(
                        self._table,
                        partition,
                        DetailType.INVOICE_DELIVERY_FAILED,
                        failed,
                        resources=resources,
                        now=at,
                    ),
                    outbox_put(
                        self._table,
                        partition,
                        DetailType.INVOICE_DELIVERY_DUE,
                        issued,
                        resources=resources,
                        now=at,
                    ),
                ]
            )
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        return True

    def record_soft_bounce(
        self, delivery: NotifiedDelivery, message_id: str, reason: str, at: datetime, retry_at: datetime
    ) -> bool:
        """DEFERRED until `retry_at`, in the sweep index as EMAIL_RETRY; False for a repeat."""
        try:
            self._client.update_item(
                **self._move(
                    delivery,
                    message_id,
                    {DeliveryStatus.SENT.value},  # a repeated soft bounce of one message changes nothing
                    "SET #status = :deferred, retry_at = :retry, last_soft_bounce = :reason, "
                    "sweep_kind = :kind, sweep_since = if_not_exists(sweep_since, :at), "
                    "sweep_due_at = :retry "
                    "ADD soft_bounces :one",
                    {
                        ":deferred": {"S": DeliveryStatus.DEFERRED.value},
                        ":retry": {"S": _iso(retry_at)},
                        ":reason": {"S": reason[:500]},
                        ":kind": {"S": SweepKind.EMAIL_RETRY.value},
                        ":at": {"S": _iso(at)},
                        ":one": {"N": "1"},
                    },
                )
            )
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        return True

    def record_complaint(
        self, delivery: NotifiedDelivery, message_id: str, reason: str, at: datetime
    ) -> bool:
        """COMPLAINED, with `InvoiceComplaintReceived` in the outbox (the reports count them);
        False for a repeat."""
        outcome = InvoiceDeliveryOutcome(
            invoice_number=delivery.invoice_number,
            channel=delivery.channel,
            provider_message_id=message_id,
            occurred_at=at,
        )
        update = self._move(
            delivery,
            message_id,
            statuses_before(DeliveryStatus.COMPLAINED),
            "SET #status = :complained, complaint = :reason, complained_at = :at",
            {
                ":complained": {"S": DeliveryStatus.COMPLAINED.value},
                ":reason": {"S": reason[:500]},
                ":at": {"S": _iso(at)},
            },
        )
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Update": update},
                    self._announce(delivery, DetailType.INVOICE_COMPLAINED, outcome, at),
                ]
            )
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        return True

    def record_engagement(self, delivery: NotifiedDelivery, message_id: str, what: str, at: datetime) -> bool:
        """An open or a click confirms the customer has the invoice; the first of each is kept, and
        the first open is announced (`InvoiceOpened`). False for a repeat."""
        field = "first_opened_at" if what == "open" else "first_clicked_at"
        update = {
            "TableName": self._table,
            "Key": delivery.key,
            "UpdateExpression": f"SET {field} = :at",
            "ConditionExpression": f"provider_message_id = :mid AND attribute_not_exists({field})",
            "ExpressionAttributeValues": {":mid": {"S": message_id}, ":at": {"S": _iso(at)}},
        }
        items: list[dict[str, Any]] = [{"Update": update}]
        if what == "open":
            outcome = InvoiceDeliveryOutcome(
                invoice_number=delivery.invoice_number,
                channel=delivery.channel,
                provider_message_id=message_id,
                occurred_at=at,
            )
            items.append(self._announce(delivery, DetailType.INVOICE_OPENED, outcome, at))
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if _cancelled(error):
                return False
            raise
        self._update_invoice_if(
            delivery.invoice_number,
            "SET confirmed_at = if_not_exists(confirmed_at, :at)",
            "attribute_exists(pk)",
            {":at": {"S": _iso(at)}},
        )
        return True

    def suppress(self, address: str, reason: str, at: datetime) -> None:
        """Never email (or text) this address again; the first reason is kept."""
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"SUPPRESSED#{address.strip().lower()}"}, "sk": {"S": "SUPPRESSED"}},
            UpdateExpression="SET reason = if_not_exists(reason, :reason), "
            "suppressed_at = if_not_exists(suppressed_at, :at)",
            ExpressionAttributeValues={":reason": {"S": reason[:500]}, ":at": {"S": _iso(at)}},
        )

    def _update_invoice_if(self, number: str, update: str, condition: str, values: dict[str, Any]) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _cancelled(error):
                raise


_FIRST_DOWNLOAD = "SET first_downloaded_at = if_not_exists(first_downloaded_at, :now) ADD download_count :one"


def record_download(table_name: str, client: Any | None = None) -> Callable[[str, str, datetime], None]:
    """A download through a link confirms delivery: counted, first time kept, each one logged and
    announced (`InvoiceDownloaded`), in one transaction."""
    dynamodb = client or boto3.client("dynamodb")

    def record(number: str, party_id: str, now: datetime) -> None:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {
                            "pk": {"S": f"INVOICE#{number}"},
                            "sk": {"S": f"DOWNLOAD#{_iso(now)}#{uuid.uuid4().hex[:8]}"},
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
                outbox_put(
                    table_name,
                    f"INVOICE#{number}",
                    DetailType.INVOICE_DOWNLOADED,
                    InvoiceDownloaded(invoice_number=number, party_id=party_id, downloaded_at=now),
                    resources=[f"invoice/{number}"],
                    now=now,
                ),
            ]
        )

    return record
