"""When a pay-later invoice's customer is reminded: before, on and after the due date.

Each stage is sent at most once per invoice (the delivery log's exactly-once key names the stage)
and only while the invoice is still owed something: a payment or a credit that settles it stops
the rest. A stage whose moment passed while the invoice was not yet issued is skipped, except the
last one found due, so a customer is never sent two reminders at once.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ReminderStage(StrEnum):
    BEFORE = "before"
    ON = "on"
    AFTER = "after"


class ReminderPolicy(BaseModel):
    """Per environment (`reminders` in infra/config/<env>.json)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days_before: int = Field(default=3, ge=1, le=60)
    days_after: int = Field(default=7, ge=1, le=120)
    send_at_hour: int = Field(default=8, ge=0, le=23, description="UTC hour of the day reminders go out")

    @classmethod
    def from_json(cls, text: str | None) -> ReminderPolicy:
        return cls.model_validate(json.loads(text)) if text else cls()

    def schedule(self, due: date) -> list[tuple[ReminderStage, datetime]]:
        at = time(self.send_at_hour, tzinfo=UTC)
        return [
            (ReminderStage.BEFORE, datetime.combine(due - timedelta(days=self.days_before), at)),
            (ReminderStage.ON, datetime.combine(due, at)),
            (ReminderStage.AFTER, datetime.combine(due + timedelta(days=self.days_after), at)),
        ]

    def next_reminder(self, due: date, done: set[str]) -> datetime | None:
        """When the next stage not yet done is due; None when every stage is done."""
        return next((moment for stage, moment in self.schedule(due) if stage.value not in done), None)

    def due_stage(self, due: date, done: set[str], now: datetime) -> ReminderStage | None:
        """The stage to send now: the latest one due and not yet done. Earlier ones missed are
        skipped (`skipped_by`), never sent together."""
        due_now = [stage for stage, moment in self.schedule(due) if moment <= now]
        if not due_now or due_now[-1].value in done:
            return None
        return due_now[-1]


def skipped_by(stage: ReminderStage) -> list[ReminderStage]:
    """The earlier stages that sending `stage` leaves behind for good."""
    order = list(ReminderStage)
    return order[: order.index(stage)]


def overdue_from(due: date) -> date:
    """The first day an unpaid invoice is overdue."""
    return due + timedelta(days=1)
