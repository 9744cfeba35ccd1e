"""Payment events coming in: what a payment provider's webhook or the payment service says happened.

Two doors bring the same shape (`PaymentEvent`): the provider's signed HTTPS webhook (verified by
`domain/webhook_signatures.py` before anything is parsed) and EventBridge events from a payment
service inside AWS. Amounts are decimal strings in the currency's major unit ("52.73"), never
floats; an amount with more decimals than its currency has is refused here, so it can never be
applied rounded. Nothing here knows of invoices: matching them is the next step.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from invoicing.domain.money import fits_minor_units, is_known_currency
from invoicing.domain.order import Identifier


class PaymentEventKind(StrEnum):
    SUCCEEDED = "payment.succeeded"
    """The whole amount asked for was paid (captured)."""
    PARTIAL = "payment.partial"
    """Part of it was paid: a deposit, an instalment, a short transfer."""
    REFUNDED = "payment.refunded"
    """Money went back to the payer, in full or in part."""
    DISPUTED = "payment.disputed"
    """A chargeback or dispute was opened: the money may go back."""
    FAILED = "payment.failed"
    """An attempt failed: nothing was paid."""


def _currency(code: str) -> str:
    if not is_known_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency")
    return code


def _amount(value: str) -> str:
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise ValueError("an amount is a non-negative decimal")
    return value


class PaymentEvent(BaseModel):
    """One payment event, as either door delivers it (README, "Payment events")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Identifier = Field(max_length=128, description="the provider's id: applied once per id")
    kind: PaymentEventKind
    occurred_at: AwareDatetime
    amount: Annotated[str, AfterValidator(_amount)] = Field(
        pattern=r"^[0-9]{1,15}(\.[0-9]{1,8})?$",
        description="major units, as text: '52.73'; more decimals than the currency has are kept, to be "
        "recorded as unmatched with that reason (never applied rounded)",
    )
    currency: Annotated[str, AfterValidator(_currency)] = Field(pattern=r"^[A-Z]{3}$")
    invoice_reference: str | None = Field(
        default=None, max_length=64, description="what the payer quoted: the invoice number"
    )
    transaction_reference: str | None = Field(default=None, max_length=128)
    order_id: str | None = Field(default=None, max_length=128)
    customer_id: str | None = Field(default=None, max_length=128)

    def money(self) -> Decimal:
        """The amount as a Decimal, checked against the currency's minor units."""
        amount = Decimal(self.amount)
        if not fits_minor_units(amount, self.currency):
            raise ValueError(f"{self.amount} has more decimals than {self.currency} has")
        return amount
