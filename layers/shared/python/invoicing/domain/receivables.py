"""What a customer invoice is still owed, and the payment status people read and filter on.

An invoice's receivable is four figures in its currency: its grand total, what its credit notes
credited (tax included), the money received against it and the money refunded. What is still
owed (`balance_due`) is the total less the credits less the money kept (received - refunded); a
negative balance is money the marketplace holds beyond what it billed (an overpayment, or a
credit not yet refunded).

The status is derived from those figures and the due date, one rule for every reader:
    refunded            money came back and none is kept (the refund returned everything)
    partially_refunded  some money came back, some is kept, nothing is owed
    credited            nothing is owed and no money is kept: credit notes cancelled it (any money
                        paid moved on to the revised invoice that replaced it)
    paid                nothing is owed (overpaid is paid, with `overpaid` > 0)
    overdue             something is owed and the due date has passed
    partially_paid      something is owed, something was received
    unpaid              something is owed, nothing was received
A refund on a settled invoice that gives back money for what it bills awaits its credit note
(`awaiting_credit`, owed no more meanwhile); a refund on an invoice not settled returns a payment:
the balance is owed again, and reminders start again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from invoicing.domain.money import round_money


class PaymentState(StrEnum):
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    UNPAID = "unpaid"
    OVERDUE = "overdue"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CREDITED = "credited"

    @property
    def is_open(self) -> bool:
        """Still owed something: reminded, aged, listed to finance."""
        return self in (PaymentState.UNPAID, PaymentState.PARTIALLY_PAID, PaymentState.OVERDUE)


PAYMENT_STATE_LABELS = {
    PaymentState.PAID: "Paid",
    PaymentState.PARTIALLY_PAID: "Partially paid",
    PaymentState.UNPAID: "Unpaid",
    PaymentState.OVERDUE: "Overdue",
    PaymentState.REFUNDED: "Refunded",
    PaymentState.PARTIALLY_REFUNDED: "Partially refunded",
    PaymentState.CREDITED: "Credited",
}


class Receivable(BaseModel):
    """A customer invoice's money: what it billed, credited, received and refunded."""

    model_config = ConfigDict(frozen=True)

    currency: str
    total: Decimal
    credited: Decimal = Decimal(0)
    received: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    transferred: Decimal = Decimal(0)
    """Money kept that moved on to the revised invoice replacing this one."""
    awaiting_credit: Decimal = Decimal(0)
    """Refunded for what the invoice bills, its credit note not issued yet: owed no more."""
    due_date: date | None = None

    @property
    def owed(self) -> Decimal:
        """What the invoice bills once its credit notes are taken off."""
        return round_money(self.total - self.credited - self.awaiting_credit, self.currency)

    @property
    def kept(self) -> Decimal:
        """The money received and neither refunded nor moved on to a revised invoice."""
        return round_money(self.received - self.refunded - self.transferred, self.currency)

    @property
    def balance_due(self) -> Decimal:
        return round_money(self.owed - self.kept, self.currency)

    @property
    def overpaid(self) -> Decimal:
        return max(Decimal(0), -self.balance_due)

    def state(self, today: date) -> PaymentState:
        balance = self.balance_due
        if balance > 0:
            if self.due_date is not None and today > self.due_date:
                return PaymentState.OVERDUE
            return PaymentState.PARTIALLY_PAID if self.kept > 0 else PaymentState.UNPAID
        if self.owed == 0 and self.kept == 0:
            return PaymentState.REFUNDED if self.refunded > 0 else PaymentState.CREDITED
        if self.refunded > 0:
            return PaymentState.PARTIALLY_REFUNDED if self.kept > 0 else PaymentState.REFUNDED
        return PaymentState.PAID

    def receiving(self, amount: Decimal) -> Receivable:
        return self.model_copy(update={"received": round_money(self.received + amount, self.currency)})

    def refunding(self, amount: Decimal) -> Receivable:
        """After a refund of `amount`, with the part that must be credited awaiting its credit note."""
        to_credit = self.refund_to_credit(amount)
        return self.model_copy(
            update={
                "refunded": round_money(self.refunded + amount, self.currency),
                "awaiting_credit": round_money(self.awaiting_credit + to_credit, self.currency),
            }
        )

    def refund_to_credit(self, amount: Decimal) -> Decimal:
        """The part of a refund of `amount` that gives back money for what is still billed, so a
        credit note must follow (when the storefront's own correction has not already made one).

        A refund of money held beyond what is owed (an overpayment, a credit already noted) needs
        none; nor does the return of a payment on an invoice that was not settled: the balance is
        owed again. Only a settled invoice whose refund cuts into what it bills is credited.
        """
        if self.balance_due > 0:
            return Decimal(0)
        refunded = self.model_copy(update={"refunded": round_money(self.refunded + amount, self.currency)})
        return min(amount, max(Decimal(0), refunded.balance_due))


class PaymentStanding(BaseModel):
    """An invoice's payment status as at a day: what a later rendition of its PDF prints (the
    document stays as issued; the rendition says what has been paid since)."""

    model_config = ConfigDict(frozen=True)

    state: PaymentState
    received: Decimal
    """Kept: received less refunded."""
    balance_due: Decimal
    as_of: date

    @property
    def label(self) -> str:
        return PAYMENT_STATE_LABELS[self.state].upper()


def standing_of(receivable: Receivable, today: date) -> PaymentStanding:
    return PaymentStanding(
        state=receivable.state(today),
        received=receivable.kept,
        balance_due=receivable.balance_due,
        as_of=today,
    )
