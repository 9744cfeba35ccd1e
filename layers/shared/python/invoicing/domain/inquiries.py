"""The inquiry log: questions and problems about an invoice, worked by customer service.

An inquiry concerns one invoice (and so its order), has a category, and moves through
    open -> in_progress -> escalated (tier 2, then 3) -> resolved
with an owner at each tier. Resolving needs a resolution: explained (a note), corrected (the
correction it led to) or resent (the resend request). Every action is recorded with who did it
and when, and nothing is ever rewritten: the log is its own audit trail. A resolved inquiry is
closed; a new question is a new inquiry.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class InquiryCategory(StrEnum):
    CHARGES = "charges"
    DISCOUNT = "discount"
    TAX = "tax"
    ADDRESS = "address"
    MISSING_INVOICE = "missing_invoice"
    DELIVERY = "delivery"
    OTHER = "other"


class InquiryStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class ResolutionKind(StrEnum):
    EXPLAINED = "explained"
    CORRECTED = "corrected"
    RESENT = "resent"


class ActionKind(StrEnum):
    OPENED = "opened"
    STARTED = "started"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    NOTE = "note"
    RESOLVED = "resolved"


MAX_TIER = 3


class Resolution(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ResolutionKind
    note: str = Field(min_length=1, max_length=2000)
    correction_id: str | None = Field(default=None, max_length=128)
    resend_request_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _linked(self) -> Resolution:
        if self.kind is ResolutionKind.CORRECTED and not self.correction_id:
            raise ValueError("a corrected inquiry names its correction (correction_id)")
        if self.kind is ResolutionKind.RESENT and not self.resend_request_id:
            raise ValueError("a resent inquiry names its resend (resend_request_id)")
        return self


class Inquiry(BaseModel):
    model_config = ConfigDict(frozen=True)

    inquiry_id: str
    invoice_number: str
    order_id: str
    category: InquiryCategory
    description: str
    status: InquiryStatus = InquiryStatus.OPEN
    tier: int = 1
    owner: str | None = None
    opened_by: str
    opened_by_role: str
    opened_at: datetime
    resolution: Resolution | None = None
    resolved_at: datetime | None = None
    version: int = 0
    """Moves with every action, so two people acting at once never overwrite each other."""

    @property
    def seconds_to_resolve(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.opened_at).total_seconds()


class InquiryAction(BaseModel):
    """What a person asks to do to an inquiry (support only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: ActionKind = Field(description="started, assigned, escalated, note or resolved")
    owner: str | None = Field(default=None, max_length=128, description="assigned: who owns it now")
    note: str | None = Field(default=None, max_length=2000)
    resolution: Resolution | None = None


class ActionRecord(BaseModel):
    """One line of the audit trail."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    by: str
    role: str
    action: ActionKind
    detail: str


class InquiryRefused(ValueError):
    """The action does not apply to the inquiry as it is (a 409 or a 400, with why)."""


def apply(inquiry: Inquiry, action: InquiryAction, by: str, now: datetime) -> tuple[Inquiry, ActionRecord]:
    """The inquiry after the action, and its line in the audit trail; InquiryRefused if it cannot be."""
    if inquiry.status is InquiryStatus.RESOLVED:
        raise InquiryRefused(f"{inquiry.inquiry_id} is resolved: a new question is a new inquiry")
    update: dict[str, object] = {"version": inquiry.version + 1}
    if action.action is ActionKind.STARTED:
        update |= {"status": InquiryStatus.IN_PROGRESS, "owner": inquiry.owner or by}
        detail = f"in progress, owned by {inquiry.owner or by}"
    elif action.action is ActionKind.ASSIGNED:
        if not action.owner:
            raise InquiryRefused("assigned needs the owner")
        update["owner"] = action.owner
        detail = f"assigned to {action.owner} (tier {inquiry.tier})"
    elif action.action is ActionKind.ESCALATED:
        if inquiry.tier >= MAX_TIER:
            raise InquiryRefused(f"{inquiry.inquiry_id} is already at the last tier ({MAX_TIER})")
        tier = inquiry.tier + 1
        update |= {"status": InquiryStatus.ESCALATED, "tier": tier, "owner": action.owner}
        detail = f"escalated to tier {tier}" + (
            f", owned by {action.owner}" if action.owner else ", unassigned"
        )
    elif action.action is ActionKind.NOTE:
        if not action.note:
            raise InquiryRefused("a note needs its text")
        detail = action.note
    elif action.action is ActionKind.RESOLVED:
        if action.resolution is None:
            raise InquiryRefused("resolved needs the resolution: explained, corrected or resent")
        update |= {"status": InquiryStatus.RESOLVED, "resolution": action.resolution, "resolved_at": now}
        detail = f"resolved ({action.resolution.kind.value}): {action.resolution.note}"
    else:
        raise InquiryRefused(f"{action.action.value} is not an action on an open inquiry")
    record = ActionRecord(at=now, by=by, role="support", action=action.action, detail=detail[:2000])
    return inquiry.model_copy(update=update), record
