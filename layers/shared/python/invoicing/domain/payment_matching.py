"""Which invoice a payment event is for, and what it does to it: never applied on a guess.

The invoice is found by a reference first: the invoice number the payer quoted, else the
transaction reference (the order's payment, or a payment already applied), else the order id;
only an event without any of these is matched by amount, currency and customer among the
customer's open invoices, and only when exactly one invoice is owed exactly that amount. A quoted
invoice number that is not ours is not matched by amount instead: the payer meant something, and
people must find out what. What cannot be matched is recorded as unmatched with every reason.

A matched event is then checked against the invoice: same currency, same customer when the event
names one, an amount with no more decimals than the currency has, a refund no larger than the
money kept. Payments are applied and classified matched (settles the balance exactly), partial
or overpaid (applied, and flagged to finance with the excess); a payment on an invoice already
settled is flagged as a possible duplicate. Disputes and failures change no money: they are
recorded against the invoice and announced.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from invoicing.domain.money import fits_minor_units, minor_units
from invoicing.domain.payment_events import PaymentEvent, PaymentEventKind
from invoicing.domain.receivables import PaymentState, Receivable


class MatchedBy(StrEnum):
    INVOICE_REFERENCE = "invoice_reference"
    TRANSACTION_REFERENCE = "transaction_reference"
    ORDER_ID = "order_id"
    AMOUNT_AND_CUSTOMER = "amount_and_customer"


class MatchOutcome(StrEnum):
    MATCHED = "matched"
    """Settles the invoice's balance exactly (a payment), or is applied as it says (a refund,
    a dispute or a failure recorded against its invoice)."""
    PARTIAL = "partial"
    """Applied; the invoice still owes the rest."""
    OVERPAID = "overpaid"
    """Applied; more than the balance was received: finance must refund or keep the excess."""
    UNMATCHED = "unmatched"
    """Applied to nothing: recorded with its reasons and sent to finance."""


class MatchReason(StrEnum):
    AMOUNT_PRECISION = "AMOUNT_PRECISION"
    ZERO_AMOUNT = "ZERO_AMOUNT"
    UNKNOWN_INVOICE_REFERENCE = "UNKNOWN_INVOICE_REFERENCE"
    NOT_PAYABLE = "NOT_PAYABLE"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    CUSTOMER_MISMATCH = "CUSTOMER_MISMATCH"
    NO_REFERENCE = "NO_REFERENCE"
    NO_OPEN_INVOICE = "NO_OPEN_INVOICE"
    AMBIGUOUS = "AMBIGUOUS"
    REFUND_EXCEEDS_KEPT = "REFUND_EXCEEDS_KEPT"
    # Flags on an applied event (finance looks, nothing is refused):
    OVERPAYMENT = "OVERPAYMENT"
    POSSIBLE_DUPLICATE = "POSSIBLE_DUPLICATE"
    APPLIED_TO_REVISED = "APPLIED_TO_REVISED"


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: MatchReason
    message: str


class PayableInvoice(BaseModel):
    """What matching needs of an invoice, read from the ledger by the caller."""

    model_config = ConfigDict(frozen=True)

    invoice_number: str
    is_customer_invoice: bool
    customer_id: str | None
    receivable: Receivable
    payment_events: int = 0
    """Payments already applied to it."""


class PaymentDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: MatchOutcome
    findings: list[Finding] = []
    invoice_number: str | None = None
    matched_by: MatchedBy | None = None
    amount: Decimal | None = None
    """The amount, exact in the currency's minor units; None when it is not money (too many decimals)."""
    before: Receivable | None = None
    after: Receivable | None = None
    state_before: PaymentState | None = None
    state_after: PaymentState | None = None
    to_credit: Decimal = Decimal(0)
    """A refund on a settled invoice: the part a credit note must follow (if none has by then)."""

    @property
    def is_applied(self) -> bool:
        return self.outcome is not MatchOutcome.UNMATCHED

    @property
    def reasons(self) -> list[MatchReason]:
        return [finding.code for finding in self.findings]


def unmatched(*findings: Finding, amount: Decimal | None = None) -> PaymentDecision:
    return PaymentDecision(outcome=MatchOutcome.UNMATCHED, findings=list(findings), amount=amount)


def event_amount(event: PaymentEvent) -> tuple[Decimal | None, list[Finding]]:
    """The event's amount as money, or the findings that make it none."""
    try:
        amount = Decimal(event.amount)
    except InvalidOperation:  # pragma: no cover - the model's pattern admits decimals only
        return None, [
            Finding(code=MatchReason.AMOUNT_PRECISION, message=f"{event.amount!r} is not an amount")
        ]
    if not fits_minor_units(amount, event.currency):
        places = minor_units(event.currency)
        return None, [
            Finding(
                code=MatchReason.AMOUNT_PRECISION,
                message=f"{event.amount} has more decimals than {event.currency} has ({places}): "
                "it is not applied rounded",
            )
        ]
    if amount == 0 and event.kind is not PaymentEventKind.FAILED:
        return None, [Finding(code=MatchReason.ZERO_AMOUNT, message="an amount of zero moves no money")]
    return amount, []


def pick_by_amount(
    amount: Decimal, currency: str, open_invoices: list[PayableInvoice]
) -> PaymentDecision | str:
    """The one open invoice owed exactly `amount` in `currency` (its number), else why not."""
    owed = [
        invoice
        for invoice in open_invoices
        if invoice.receivable.currency == currency and invoice.receivable.balance_due == amount
    ]
    if len(owed) == 1:
        return owed[0].invoice_number
    if not owed:
        return unmatched(
            Finding(
                code=MatchReason.NO_OPEN_INVOICE,
                message=f"no open invoice of the customer is owed exactly {amount} {currency} "
                f"({len(open_invoices)} open)",
            ),
            amount=amount,
        )
    numbers = ", ".join(sorted(invoice.invoice_number for invoice in owed))
    return unmatched(
        Finding(
            code=MatchReason.AMBIGUOUS,
            message=f"{len(owed)} open invoices are owed exactly {amount} {currency} ({numbers}): "
            "not applied to one of them on a guess",
        ),
        amount=amount,
    )


def decide(
    event: PaymentEvent,
    invoice: PayableInvoice,
    amount: Decimal,
    matched_by: MatchedBy,
    today: date,
    *,
    revised_from: str | None = None,
) -> PaymentDecision:
    """What the event does to the invoice it was matched with."""
    refusals: list[Finding] = []
    before = invoice.receivable
    if not invoice.is_customer_invoice:
        refusals.append(
            Finding(
                code=MatchReason.NOT_PAYABLE,
                message=f"{invoice.invoice_number} is not a customer invoice (a credit note or a vendor's)",
            )
        )
    if event.currency != before.currency:
        refusals.append(
            Finding(
                code=MatchReason.CURRENCY_MISMATCH,
                message=f"paid in {event.currency}, {invoice.invoice_number} is in {before.currency}",
            )
        )
    if event.customer_id is not None and event.customer_id != invoice.customer_id:
        refusals.append(
            Finding(
                code=MatchReason.CUSTOMER_MISMATCH,
                message=f"the event names another customer than {invoice.invoice_number}'s",
            )
        )
    if event.kind is PaymentEventKind.REFUNDED and amount > before.kept and not refusals:
        refusals.append(
            Finding(
                code=MatchReason.REFUND_EXCEEDS_KEPT,
                message=f"a refund of {amount} {event.currency}, but {invoice.invoice_number} kept "
                f"{before.kept} {before.currency}",
            )
        )
    if refusals:
        return unmatched(*refusals, amount=amount).model_copy(
            update={"invoice_number": invoice.invoice_number}
        )

    flags: list[Finding] = []
    if revised_from is not None:
        flags.append(
            Finding(
                code=MatchReason.APPLIED_TO_REVISED,
                message=f"{revised_from} was replaced: applied to its revised invoice "
                f"{invoice.invoice_number}",
            )
        )
    after, outcome, to_credit = before, MatchOutcome.MATCHED, Decimal(0)
    if event.kind in (PaymentEventKind.SUCCEEDED, PaymentEventKind.PARTIAL):
        after = before.receiving(amount)
        if before.balance_due <= 0:
            outcome = MatchOutcome.OVERPAID
            flags.append(
                Finding(
                    code=MatchReason.POSSIBLE_DUPLICATE,
                    message=f"{invoice.invoice_number} was already settled: {amount} {event.currency} "
                    "received again (a second payment of the same invoice?)",
                )
            )
        elif after.balance_due < 0:
            outcome = MatchOutcome.OVERPAID
        elif after.balance_due > 0:
            outcome = MatchOutcome.PARTIAL
        if outcome is MatchOutcome.OVERPAID:
            flags.append(
                Finding(
                    code=MatchReason.OVERPAYMENT,
                    message=f"{after.overpaid} {event.currency} received beyond what "
                    f"{invoice.invoice_number} bills: refund it or keep it as the customer's credit",
                )
            )
    elif event.kind is PaymentEventKind.REFUNDED:
        to_credit = before.refund_to_credit(amount)
        after = before.refunding(amount)
    return PaymentDecision(
        outcome=outcome,
        findings=flags,
        invoice_number=invoice.invoice_number,
        matched_by=matched_by,
        amount=amount,
        before=before,
        after=after,
        state_before=before.state(today),
        state_after=after.state(today),
        to_credit=to_credit,
    )
