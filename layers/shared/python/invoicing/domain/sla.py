"""The SLA sweep's rules: what is late or stuck, when to push it again, when to tell people.

Everything that must still happen to an invoice sits in the sparse `sweep` index under one of
the kinds below, with the moment it entered that state (`since`) and the moment the sweep should
next act on it (`due_at`). The sweep acts on an item once it has been due for the grace period,
so the normal path (seconds) always gets there first; every re-drive pushes `due_at` back
exponentially, so an item that keeps failing is retried ever more slowly and, after
`MAX_REDRIVES`, only reported.

Targets: the business's 24 hours from order completion to a sent invoice (ours is one minute);
the sweep warns operations once an item is `warning` hours old, before the 24 hours are up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

SLA = timedelta(hours=24)
CORRECTION_SLA = timedelta(hours=48)
"""The business's target for a corrected invoice: re-issued and sent within 48 hours of discovery."""
CORRECTION_WARNING = timedelta(hours=36)
"""Operations hear of a correction still unsent this long after discovery, well before 48 hours."""
FIRST_BACKOFF = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=2)
MAX_REDRIVES = 8


class SweepKind(StrEnum):
    ORDER_UNINVOICED = "ORDER_UNINVOICED"
    """An Orders-stream batch the generator gave up on (its on-failure queue, not the sweep index)."""
    INVOICE_UNSENT = "INVOICE_UNSENT"
    """Numbered but not yet issued, or issued but not yet sent, listed or declared undeliverable."""
    DELIVERY_IN_DOUBT = "DELIVERY_IN_DOUBT"
    """A send was claimed and never marked sent: it may or may not have reached the provider."""
    EMAIL_RETRY = "EMAIL_RETRY"
    """An email bounced softly and is to be sent again."""
    VALIDATION_FAILURE = "VALIDATION_FAILURE"
    """An order that cannot be invoiced until the storefront corrects it."""
    UNDELIVERABLE = "UNDELIVERABLE"
    """No channel could deliver the invoice: customer service must reach the customer."""
    EVENT_UNPUBLISHED = "EVENT_UNPUBLISHED"
    """An outbox entry not yet confirmed on the bus (the outbox publisher normally takes it at once)."""
    VENDOR_INVOICES_DUE = "VENDOR_INVOICES_DUE"
    """A customer invoice is issued and some of its vendors' invoices are not issued yet."""
    CORRECTION_PENDING = "CORRECTION_PENDING"
    """A correction whose revised invoice (or credit note, when nothing is re-issued) is not sent
    yet: the 48-hour clock runs from its discovery."""
    PAYMENT_DUE = "PAYMENT_DUE"
    """A pay-later invoice still owed something: due at its next reminder (before, on, after the
    due date); it leaves the index once paid or credited."""
    REFUND_UNCREDITED = "REFUND_UNCREDITED"
    """A refund gave back money for what the invoice still bills: unless the storefront's own
    correction credits it within the grace, a credit note for that amount is issued."""


PAYMENT_KINDS = frozenset({SweepKind.PAYMENT_DUE, SweepKind.REFUND_UNCREDITED})
"""Scheduled money work, taken by the receivables function (services/receivables.py), not SLA
problems: the SLA sweep neither counts nor re-drives them."""

REDRIVEN_KINDS = frozenset(
    {
        SweepKind.INVOICE_UNSENT,
        SweepKind.EMAIL_RETRY,
        SweepKind.EVENT_UNPUBLISHED,
        SweepKind.VENDOR_INVOICES_DUE,
        SweepKind.CORRECTION_PENDING,
    }
)
"""Kinds the sweep pushes through itself; the others need a person and are reminded."""
NEVER_GIVEN_UP = frozenset(
    {SweepKind.EVENT_UNPUBLISHED, SweepKind.VENDOR_INVOICES_DUE, SweepKind.CORRECTION_PENDING}
)
"""Re-driven for as long as they last (every two hours at most, once backed off), and reminded
too after `MAX_REDRIVES`: an announcement must be published, and a vendor added to the Vendors
table days later must still get its invoice."""
DELIVERY_KINDS = frozenset({SweepKind.INVOICE_UNSENT, SweepKind.EMAIL_RETRY, SweepKind.DELIVERY_IN_DOUBT})
"""Kinds that count against the 24-hour target while they last."""


class BacklogEntry(BaseModel):
    """One item of the sweep index, as the sweep reads it."""

    model_config = ConfigDict(frozen=True)

    kind: SweepKind
    pk: str
    sk: str
    since: datetime
    due_at: datetime
    attempts: int = 0
    reminded_at: datetime | None = None
    warned_at: datetime | None = None
    order_completed_at: datetime | None = None
    invoice_number: str | None = None
    order_id: str | None = None
    status: str | None = None
    """The item's own status (an invoice's NUMBERED/STORED/ISSUED, a failure's OPEN)."""

    @property
    def clock_started_at(self) -> datetime:
        """What the 24 hours are measured from: the order's completion when known."""
        return self.order_completed_at or self.since


def backoff(attempts: int) -> timedelta:
    """Wait before the next re-drive: 2, 4, 8 ... minutes, at most two hours."""
    wait: timedelta = FIRST_BACKOFF * (2 ** max(attempts, 0))
    return min(wait, MAX_BACKOFF)


def is_due(entry: BacklogEntry, now: datetime, grace: timedelta) -> bool:
    return entry.due_at + grace <= now


def should_redrive(entry: BacklogEntry, now: datetime, grace: timedelta) -> bool:
    if entry.kind not in REDRIVEN_KINDS or not is_due(entry, now, grace):
        return False
    return entry.attempts < MAX_REDRIVES or entry.kind in NEVER_GIVEN_UP


def should_remind(entry: BacklogEntry, now: datetime, grace: timedelta, interval: timedelta) -> bool:
    """Items that need a person: at most once per interval. Re-driven items once they give up."""
    if entry.kind in REDRIVEN_KINDS and entry.attempts < MAX_REDRIVES:
        return False
    if entry.reminded_at is not None:
        # Reminded before: the reminder set its due time to the next one; no second grace.
        return entry.reminded_at + interval <= now and entry.due_at <= now
    return is_due(entry, now, grace)


def sla_at_risk(entry: BacklogEntry, now: datetime, warning: timedelta) -> bool:
    """Still not sent `warning` after the order completed: the 24 hours are about to be missed
    (for a correction: still not re-issued and sent 36 hours after its discovery)."""
    if entry.kind is SweepKind.CORRECTION_PENDING:
        return now - entry.since >= CORRECTION_WARNING
    return entry.kind in DELIVERY_KINDS and now - entry.clock_started_at >= warning


def should_warn(entry: BacklogEntry, now: datetime, warning: timedelta) -> bool:
    """Warn operations once per item, before the breach."""
    return sla_at_risk(entry, now, warning) and entry.warned_at is None
