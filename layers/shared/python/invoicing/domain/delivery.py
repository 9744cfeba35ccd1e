"""Which channel an invoice goes out on, and why the ones before it were passed over.

The customer's preferred channels are tried in their order, then email and SMS as fallbacks.
A channel is usable when its contact detail is valid and not suppressed (after a hard bounce or
a complaint). The portal needs no contact detail: every invoice is listed in the account anyway,
so choosing it means nothing is sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from invoicing.domain.contact import deliverable_address, email_problem, phone_problem
from invoicing.domain.order import Channel
from invoicing.domain.personal_data import MaskedText

FALLBACK_ORDER = (Channel.EMAIL, Channel.SMS)


class Reachable(Protocol):
    """Whatever carries a contact: the order's customer, the invoice's, a corrected one."""

    @property
    def email(self) -> str | None: ...

    @property
    def phone(self) -> str | None: ...

    @property
    def preferred_channels(self) -> list[Channel]: ...


class DeliveryContact(BaseModel):
    """Only the contact fields of an order's customer block, read without the rest of the order."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    email: str | None = None
    phone: str | None = None
    preferred_channels: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL])


def current_contact(order_item: Mapping[str, Any] | None, at_issue: Reachable) -> Reachable:
    """Who to send to now: the order's current contact (customer service may have corrected it
    after a bounce), or the contact frozen in the invoice when the order is gone or unreadable.
    Only the recipient comes from the order; what the message says comes from the invoice."""
    customer = (order_item or {}).get("customer")
    if not isinstance(customer, Mapping):
        return at_issue
    try:
        return DeliveryContact.model_validate(customer)
    except ValidationError:
        return at_issue


class PassedOver(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Channel
    reason: MaskedText


class DeliveryChoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Channel | None
    recipient: str | None
    passed_over: list[PassedOver]

    @property
    def undeliverable(self) -> bool:
        return self.channel is None


def _unusable_reason(customer: Reachable, channel: Channel, suppressed: Collection[str]) -> str | None:
    if channel is Channel.EMAIL:
        return email_problem(customer.email, suppressed)
    if channel is Channel.SMS:
        return phone_problem(customer.phone, suppressed)
    return None


def choose_channel(
    customer: Reachable, *, exclude: Collection[Channel] = (), suppressed: Collection[str] = ()
) -> DeliveryChoice:
    """The first usable channel; `exclude` holds channels already tried for this invoice."""
    candidates = list(dict.fromkeys([*customer.preferred_channels, *FALLBACK_ORDER]))
    passed_over: list[PassedOver] = []
    for channel in candidates:
        if channel in exclude:
            passed_over.append(PassedOver(channel=channel, reason="already tried for this invoice"))
            continue
        reason = _unusable_reason(customer, channel, suppressed)
        if reason:
            passed_over.append(PassedOver(channel=channel, reason=reason))
            continue
        recipient = {
            Channel.EMAIL: deliverable_address(customer.email or ""),
            Channel.SMS: customer.phone,
        }.get(channel)
        return DeliveryChoice(channel=channel, recipient=recipient, passed_over=passed_over)
    return DeliveryChoice(channel=None, recipient=None, passed_over=passed_over)
