"""An invoice's timeline, as customer service reads it: everything that happened to it, in order.

Built from what was recorded (the invoice record, its deliveries, downloads, payments, reminders,
resends, corrections and inquiries), never from logs. Recipients are masked: the timeline is read
by people who need to know that the email went out, not to whom in full.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class TimelineKind(StrEnum):
    ISSUED = "issued"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    OPENED = "opened"
    CLICKED = "clicked"
    LISTED = "listed"
    SEND_FAILED = "send_failed"
    DOWNLOADED = "downloaded"
    PAYMENT = "payment"
    REMINDER = "reminder"
    RESENT = "resent"
    CREDITED = "credited"
    REPLACED = "replaced"
    CORRECTION = "correction"
    INQUIRY = "inquiry"


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    kind: TimelineKind
    text: str
    """One readable sentence: what happened, by which channel, with what outcome."""
    reference: str | None = None
    """What it concerns: a credit note, a payment event, a provider message id, an inquiry."""


def ordered(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Oldest first; at the same instant, in the order things happen to an invoice."""
    rank = {kind: index for index, kind in enumerate(TimelineKind)}
    return sorted(entries, key=lambda e: (e.at, rank[e.kind]))
