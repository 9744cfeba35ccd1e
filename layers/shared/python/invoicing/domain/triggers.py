"""When does a change to an order make an invoice due?

Decided on the raw stream images so that the common case (an order that is not completed) is
skipped without parsing the order or touching any table.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from invoicing.domain.corrections import reversal_reason
from invoicing.domain.order import is_due_for_invoice
from invoicing.domain.payment_terms import CAPTURE_ONLY, PaymentPolicy


class Trigger(StrEnum):
    SKIP = "SKIP"
    """Nothing to invoice: not completed and paid, or a removal."""
    DUE = "DUE"
    """The order just became completed and paid."""
    RECHECK = "RECHECK"
    """Completed before and still completed: due only if it has no invoice yet (e.g. a rejected
    order the storefront has since corrected, or a change we missed); if it has one, the change
    may call for a correction."""
    REVERSED = "REVERSED"
    """Completed and paid before, cancelled or refunded now: its invoice, if any, is credited."""


def classify_change(
    event_name: str,
    old_image: Mapping[str, Any] | None,
    new_image: Mapping[str, Any] | None,
    policy: PaymentPolicy = CAPTURE_ONLY,
) -> Trigger:
    if event_name == "REMOVE" or new_image is None:
        return Trigger.SKIP
    if not is_due_for_invoice(dict(new_image), policy):
        was_due = event_name == "MODIFY" and is_due_for_invoice(
            dict(old_image) if old_image else None, policy
        )
        return Trigger.REVERSED if was_due and reversal_reason(new_image) else Trigger.SKIP
    if event_name == "INSERT":
        return Trigger.DUE
    was_due = is_due_for_invoice(dict(old_image) if old_image else None, policy)
    return Trigger.RECHECK if was_due else Trigger.DUE


_CONTACT_FIELDS = ("email", "phone", "preferred_channels")


def contact_changed(old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None) -> bool:
    """The customer's email, phone or channel preference differs: worth another delivery attempt
    for an invoice that could not be delivered (customer service corrected the order)."""

    def contact(image: Mapping[str, Any] | None) -> tuple[Any, ...]:
        customer = (image or {}).get("customer")
        customer = customer if isinstance(customer, Mapping) else {}
        return tuple(customer.get(name) for name in _CONTACT_FIELDS)

    return contact(old_image) != contact(new_image)
