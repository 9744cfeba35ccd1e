"""Take one payment event in, from either door: match it, apply it once, announce what it did.

The webhook (functions/payment_webhook/) verifies the provider's signature before calling this;
the EventBridge consumer (functions/payment_events/) is reached only by the payment service's
events. Both hand over a parsed `PaymentEvent`. The rules of matching are in
domain/payment_matching.py; what a match does to the invoice's figures, in domain/receivables.py.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.adapters.payment_ledger import PaymentConflict, PaymentLedger, RecordedPayment
from invoicing.domain.events import PaymentFinding
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.payment_events import PaymentEvent, PaymentEventKind
from invoicing.domain.payment_matching import (
    Finding,
    MatchedBy,
    MatchReason,
    PayableInvoice,
    PaymentDecision,
    decide,
    event_amount,
    pick_by_amount,
    unmatched,
)
from invoicing.observability import logger
from invoicing.services.invoice_listing import is_invoice_number

MAX_ATTEMPTS = 10
MAX_CHAIN = 50
"""Revisions followed from an invoice to the one that replaced it last."""
REFUND_GRACE = timedelta(minutes=30)
"""How long a refund waits for the storefront's own correction before it is credited by amount."""


class PaymentReceipt(BaseModel):
    """What the door answers: what the event did (or did the first time it came)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    outcome: str
    invoice_number: str | None
    payment_state: str | None
    balance_due: str | None
    reasons: list[PaymentFinding]
    duplicate: bool = False
    """A redelivery: nothing was applied again."""

    @classmethod
    def of(cls, recorded: RecordedPayment, *, duplicate: bool) -> PaymentReceipt:
        return cls(
            event_id=recorded.event_id,
            outcome=recorded.outcome,
            invoice_number=recorded.invoice_number,
            payment_state=recorded.payment_state,
            balance_due=recorded.balance_due,
            reasons=recorded.reasons,
            duplicate=duplicate,
        )


def payable(record: InvoiceRecord) -> PayableInvoice:
    return PayableInvoice(
        invoice_number=record.invoice_number,
        is_customer_invoice=record.kind is InvoiceKind.CUSTOMER,
        customer_id=record.customer_id,
        receivable=record.receivable(),
        payment_events=record.payment_events,
    )


class PaymentIntake:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        payments: PaymentLedger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        refund_grace: timedelta = REFUND_GRACE,
    ) -> None:
        self._ledger = ledger
        self._payments = payments
        self._clock = clock
        self._refund_grace = refund_grace

    def receive(self, event: PaymentEvent, door: str) -> PaymentReceipt:
        for attempt in range(MAX_ATTEMPTS):
            previous = self._payments.recorded(event.event_id)
            if previous is not None:
                return PaymentReceipt.of(previous, duplicate=True)
            now = self._clock()
            decision, invoice = self._decide(event, now)
            try:
                recorded = self._payments.record(
                    event, decision, invoice, door=door, now=now, refund_grace=self._refund_grace
                )
            except PaymentConflict:
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # noqa: S311 (jitter, not crypto)
                continue
            if recorded is None:
                continue  # recorded meanwhile by a concurrent delivery: answer what it did
            logger.info(
                "payment event recorded",
                event_id=event.event_id,
                kind=event.kind.value,
                outcome=recorded.outcome,
                invoice_number=recorded.invoice_number,
                reasons=[r.code for r in recorded.reasons],
                door=door,
            )
            return PaymentReceipt.of(recorded, duplicate=False)
        raise PaymentConflict(f"payment event {event.event_id}: its invoice kept moving")

    def _decide(self, event: PaymentEvent, now: datetime) -> tuple[PaymentDecision, InvoiceRecord | None]:
        amount, findings = event_amount(event)
        if amount is None:
            # Not money: still say everything else that is wrong with it, for the people who look.
            found = self._find(event, Decimal(0)) if event.invoice_reference else None
            if isinstance(found, PaymentDecision):
                findings += found.findings
            return unmatched(*findings), None
        found = self._find(event, amount)
        if isinstance(found, PaymentDecision):
            return found, None
        record, matched_by = found
        newest, revised_from = self._newest(record)
        decision = decide(event, payable(newest), amount, matched_by, now.date(), revised_from=revised_from)
        return decision, newest if decision.is_applied else None

    def _find(
        self, event: PaymentEvent, amount: Decimal
    ) -> tuple[InvoiceRecord, MatchedBy] | PaymentDecision:
        """The invoice the event names, by reference first; by amount only among open invoices."""
        if event.invoice_reference:
            return self._by_invoice_number(event.invoice_reference, amount)
        found = self._by_transaction_or_order(event)
        if found is not None:
            return found
        payment = event.kind in (PaymentEventKind.SUCCEEDED, PaymentEventKind.PARTIAL)
        if event.customer_id and payment:
            return self._by_amount(event.customer_id, amount, event.currency)
        return unmatched(
            Finding(
                code=MatchReason.NO_REFERENCE,
                message="no invoice number, known transaction reference or invoiced order"
                + ("" if payment else " (a refund, dispute or failure is matched by reference only)")
                + ("" if event.customer_id or not payment else ", and no customer to match by amount"),
            ),
            amount=amount,
        )

    def _by_invoice_number(
        self, quoted: str, amount: Decimal
    ) -> tuple[InvoiceRecord, MatchedBy] | PaymentDecision:
        number = quoted.strip().upper()
        record = self._ledger.get_invoice(number) if is_invoice_number(number) else None
        if record is None or record.status is not InvoiceStatus.ISSUED:
            return unmatched(
                Finding(
                    code=MatchReason.UNKNOWN_INVOICE_REFERENCE,
                    message=f"the payer quoted {quoted!r}, which is not an invoice we issued: "
                    "not matched by amount instead",
                ),
                amount=amount,
            )
        return record, MatchedBy.INVOICE_REFERENCE

    def _by_transaction_or_order(self, event: PaymentEvent) -> tuple[InvoiceRecord, MatchedBy] | None:
        if event.transaction_reference:
            number = self._payments.invoice_of_reference(event.transaction_reference)
            record = self._ledger.get_invoice(number) if number else None
            if record is not None and record.status is InvoiceStatus.ISSUED:
                return record, MatchedBy.TRANSACTION_REFERENCE
        if event.order_id:
            record = self._ledger.find_by_order(event.order_id, InvoiceKind.CUSTOMER)
            if record is not None and record.status is InvoiceStatus.ISSUED:
                return record, MatchedBy.ORDER_ID
        return None

    def _by_amount(
        self, customer_id: str, amount: Decimal, currency: str
    ) -> tuple[InvoiceRecord, MatchedBy] | PaymentDecision:
        open_invoices = [payable(r) for r in self._payments.open_invoices_of(customer_id)]
        picked = pick_by_amount(amount, currency, open_invoices)
        if isinstance(picked, PaymentDecision):
            return picked
        record = self._ledger.get_invoice(picked)
        if record is None:  # pragma: no cover - it was just listed
            raise LookupError(picked)
        return record, MatchedBy.AMOUNT_AND_CUSTOMER

    def _newest(self, record: InvoiceRecord) -> tuple[InvoiceRecord, str | None]:
        """The invoice that replaced this one last (money paid to a replaced invoice is the revised
        invoice's), and the number first matched when it moved on."""
        current, hops = record, 0
        while current.replaced_by and hops < MAX_CHAIN:
            following = self._ledger.get_invoice(current.replaced_by)
            if following is None or following.status is not InvoiceStatus.ISSUED:
                break  # the revised invoice is not issued yet: the conditional write will retry
            current, hops = following, hops + 1
        return current, (record.invoice_number if current is not record else None)
