"""What an SES notification means for an invoice delivery (the bounce webhook's rules, issue 4).

SES publishes, through the configuration set's SNS destination, JSON with `eventType` (or
`notificationType` for identity notifications): Bounce, Complaint, Delivery, Open, Click, ...
Each becomes a decision about the delivery it concerns (found by `mail.messageId`). Every invoice
email carries message tags naming its delivery claim (`invoice_number`, `delivery`), which SES
echoes in `mail.tags`: a Send or Delivery event can so settle a send whose bookkeeping was lost.

Statuses only move forward: SENT < DELIVERED < {BOUNCED, COMPLAINED}; an open or click confirms
without changing a failure. So duplicates and out-of-order notifications are harmless: a DELIVERED
after a BOUNCED does not resurrect the address, and a repeated bounce changes nothing (so it cannot
trigger a second fallback).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.domain.personal_data import MaskedText


class DeliveryEvent(StrEnum):
    SENT = "SENT"
    """SES accepted the message (the configuration set's Send event)."""
    DELIVERED = "DELIVERED"
    PERMANENT_BOUNCE = "PERMANENT_BOUNCE"
    TRANSIENT_BOUNCE = "TRANSIENT_BOUNCE"
    COMPLAINT = "COMPLAINT"
    OPENED = "OPENED"
    CLICKED = "CLICKED"
    IGNORED = "IGNORED"


class SesNotification(BaseModel):
    model_config = ConfigDict(frozen=True)

    event: DeliveryEvent
    message_id: str
    recipients: list[str]
    reason: MaskedText
    """SES's words (a bounce's SMTP diagnostic), addresses and phone numbers masked: it is logged,
    stored on the delivery and announced. The recipients, needed to suppress them, are not."""
    occurred_at: str | None = None
    tags: dict[str, str] = {}
    """The message tags we sent it with (first value of each), echoed by SES."""

    @property
    def claim(self) -> tuple[str, str] | None:
        """(invoice number, delivery tag) of the send this message belongs to, if tagged."""
        number, delivery = self.tags.get(INVOICE_TAG), self.tags.get(DELIVERY_TAG)
        return (number, delivery) if number and delivery else None


# Final states never change; DELIVERED only moves to a final state.
_RANK = {
    "SENDING": 0,
    "SENT": 1,
    "DEFERRED": 1,
    "DELIVERED": 2,
    "BOUNCED": 3,
    "COMPLAINED": 3,
    "FAILED": 3,
}
_TARGET = {
    DeliveryEvent.DELIVERED: "DELIVERED",
    DeliveryEvent.PERMANENT_BOUNCE: "BOUNCED",
    DeliveryEvent.COMPLAINT: "COMPLAINED",
}


INVOICE_TAG = "invoice_number"
DELIVERY_TAG = "delivery"


def _tags(mail: dict[str, Any]) -> dict[str, str]:
    raw = mail.get("tags")
    if not isinstance(raw, dict):
        return {}
    return {
        str(name): str(values[0])
        for name, values in raw.items()
        if isinstance(values, list) and values and isinstance(values[0], str)
    }


def parse_ses_notification(message: str) -> SesNotification:
    """The SNS `Message` of an SES event; raises ValueError when it is not one."""
    data: dict[str, Any] = json.loads(message)
    if not isinstance(data, dict):
        raise ValueError("not an SES event")
    kind = data.get("eventType") or data.get("notificationType")
    mail = data.get("mail") or {}
    message_id = mail.get("messageId") if isinstance(mail, dict) else None
    if not isinstance(message_id, str):
        raise ValueError("not an SES event: no mail.messageId")
    note = _decision(kind, data, mail, message_id)
    return note.model_copy(update={"tags": _tags(mail)})


def _decision(kind: Any, data: dict[str, Any], mail: dict[str, Any], message_id: str) -> SesNotification:
    if kind == "Send":
        return SesNotification(
            event=DeliveryEvent.SENT,
            message_id=message_id,
            recipients=list(mail.get("destination", [])),
            reason="accepted by SES",
            occurred_at=mail.get("timestamp"),
        )
    if kind == "Bounce":
        bounce = data.get("bounce") or {}
        permanent = bounce.get("bounceType") == "Permanent"
        recipients = [r.get("emailAddress", "") for r in bounce.get("bouncedRecipients", [])]
        reason = f"{bounce.get('bounceType')}/{bounce.get('bounceSubType')}: " + "; ".join(
            str(r.get("diagnosticCode", "")) for r in bounce.get("bouncedRecipients", [])
        )
        event = DeliveryEvent.PERMANENT_BOUNCE if permanent else DeliveryEvent.TRANSIENT_BOUNCE
        return SesNotification(
            event=event,
            message_id=message_id,
            recipients=recipients,
            reason=reason.strip(),
            occurred_at=bounce.get("timestamp"),
        )
    if kind == "Complaint":
        complaint = data.get("complaint") or {}
        recipients = [r.get("emailAddress", "") for r in complaint.get("complainedRecipients", [])]
        reason = f"complaint: {complaint.get('complaintFeedbackType', 'unspecified')}"
        return SesNotification(
            event=DeliveryEvent.COMPLAINT,
            message_id=message_id,
            recipients=recipients,
            reason=reason,
            occurred_at=complaint.get("timestamp"),
        )
    if kind == "Delivery":
        delivery = data.get("delivery") or {}
        return SesNotification(
            event=DeliveryEvent.DELIVERED,
            message_id=message_id,
            recipients=list(delivery.get("recipients", [])),
            reason="delivered",
            occurred_at=delivery.get("timestamp"),
        )
    if kind in {"Open", "Click"}:
        detail = data.get(kind.lower()) or {}
        return SesNotification(
            event=DeliveryEvent.OPENED if kind == "Open" else DeliveryEvent.CLICKED,
            message_id=message_id,
            recipients=list(mail.get("destination", [])),
            reason=kind.lower(),
            occurred_at=detail.get("timestamp"),
        )
    return SesNotification(
        event=DeliveryEvent.IGNORED, message_id=message_id, recipients=[], reason=str(kind)
    )


def next_status(current: str, event: DeliveryEvent) -> str | None:
    """The delivery's new status, or None when the notification changes nothing."""
    target = _TARGET.get(event)
    if target is None or _RANK.get(current, 0) >= _RANK[target]:
        return None
    return target


def statuses_before(target: str) -> frozenset[str]:
    """The statuses a delivery may be in for `target` to follow (the writes' condition)."""
    return frozenset(status for status, rank in _RANK.items() if rank < _RANK[target])


def suppresses_address(event: DeliveryEvent) -> bool:
    """Never email this address again: it bounced for good or its owner complained."""
    return event in {DeliveryEvent.PERMANENT_BOUNCE, DeliveryEvent.COMPLAINT}


def needs_fallback(current: str, event: DeliveryEvent) -> bool:
    """A permanent bounce of a delivery not already failed: deliver by the next channel, once."""
    return event is DeliveryEvent.PERMANENT_BOUNCE and next_status(current, event) is not None


MAX_SOFT_BOUNCES = 3
"""SES already retried for hours before reporting a soft bounce; after this many, fall back."""
_SOFT_BOUNCE_WAIT = timedelta(minutes=30)


def soft_bounce_retry_at(soft_bounces_before: int, now: datetime) -> datetime | None:
    """When to email again after one more soft bounce: 30 min, then 2 h; None once it is to give up."""
    if soft_bounces_before + 1 >= MAX_SOFT_BOUNCES:
        return None
    wait: timedelta = _SOFT_BOUNCE_WAIT * (4**soft_bounces_before)
    return now + wait
