"""When an order is invoiced, by its payment method: at capture, or on completion as unpaid.

Card-like methods are invoiced once the payment is captured (the invoice says Paid). Methods the
environment lists as pay-later (bank transfer, cash on delivery, invoice terms) are invoiced when
the order completes, while the payment is still PENDING or AUTHORIZED: the invoice says Unpaid,
how much is due by when (the order's completion date plus the method's days), how to pay, and the
reference to quote (the invoice number). A method not listed is invoiced at capture, as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

PAY_LATER_STATUSES = frozenset({"PENDING", "AUTHORIZED"})
"""What the storefront's payment status says while a pay-later order waits for its money."""


class PayLaterTerms(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    due_days: int = Field(ge=0, le=365, description="days after the order's completion")
    instructions: str = Field(
        min_length=1,
        max_length=300,
        description="how to pay, as the invoice and the email say it (bank details, where to pay)",
    )


class PaymentPolicy(BaseModel):
    """Per environment: the payment methods invoiced on completion, unpaid (method -> terms)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pay_later: dict[str, PayLaterTerms] = Field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str | None) -> PaymentPolicy:
        return cls.model_validate(json.loads(text)) if text else cls()

    def terms_for(self, method: object) -> PayLaterTerms | None:
        return self.pay_later.get(method) if isinstance(method, str) else None

    def awaits_payment(self, payment: Mapping[str, object] | None) -> bool:
        """A pay-later method whose payment has not come in yet: invoiced now, as unpaid."""
        if not isinstance(payment, Mapping):
            return False
        return (
            self.terms_for(payment.get("method")) is not None and payment.get("status") in PAY_LATER_STATUSES
        )

    def unpaid_terms(self, method: str, status: str) -> PayLaterTerms | None:
        """The terms an order paid by `method` is invoiced under while its payment is `status`:
        None when it is invoiced as paid."""
        return self.terms_for(method) if status in PAY_LATER_STATUSES else None


CAPTURE_ONLY = PaymentPolicy()
"""Every method invoiced at capture: the behaviour when an environment lists no pay-later method."""


def due_date(completed_at: datetime, terms: PayLaterTerms) -> date:
    """The last day to pay: the completion date (UTC) plus the method's days."""
    return completed_at.date() + timedelta(days=terms.due_days)
