"""Issue the invoice of a completed order, or record every reason it cannot be issued.

Each step is safe to repeat, so a stream redelivery or a retry after a crash finishes the same
invoice with the same number instead of making a second one:

1. validate and re-derive the totals (pure);
2. allocate the number, freeze the invoice document, create the record and claim the order in one
   transaction (an order that already has a claim gets its existing invoice back);
3. complete it from the frozen document (`invoice_completion.py`): store the document and PDF,
   mark STORED, then ISSUED with `InvoiceIssued` in the outbox.

An order that already has a number is completed from its frozen document without looking at the
order again: a later edit, even one that makes the order invalid, cannot change or strand it.
An invoice already ISSUED is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.correction_ledger import CorrectionLedger
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import (
    MAX_RECORD_BYTES,
    InvoiceLedger,
    InvoiceRecord,
    InvoiceTooLarge,
)
from invoicing.domain.corrections import billed_fields, reversal_reason
from invoicing.domain.documents import encode_document, order_fingerprint
from invoicing.domain.invoice import InvoiceStatus, Seller, freeze_invoice
from invoicing.domain.order import is_due_for_invoice, is_identifier
from invoicing.domain.payment_terms import CAPTURE_ONLY, PaymentPolicy
from invoicing.domain.triggers import Trigger, classify_change, contact_changed
from invoicing.domain.validation import IssueCode, ValidationIssue, validate_order_item
from invoicing.observability import logger
from invoicing.services.invoice_completion import InvoiceCompletion, Renderer, new_invoice_of
from invoicing.services.invoice_corrections import CorrectionOutcome, InvoiceCorrector

Clock = Callable[[], datetime]


class Outcome(StrEnum):
    ISSUED = "ISSUED"
    ALREADY_ISSUED = "ALREADY_ISSUED"
    REJECTED = "REJECTED"
    REDELIVERY_REQUESTED = "REDELIVERY_REQUESTED"
    """The invoice was undeliverable and the customer's contact has been corrected."""
    REVISED = "REVISED"
    """The order changed what it bills: a credit note and a revised invoice were issued."""
    CREDITED = "CREDITED"
    """The order was cancelled or refunded after its invoice: a credit note was issued."""
    CORRECTION_REJECTED = "CORRECTION_REJECTED"
    """The order changed into one that does not validate: the invoice stands, problems recorded."""


class IssuingResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    order_id: str
    invoice_number: str | None = None
    issues: list[ValidationIssue] = []
    seconds_since_completion: float | None = None
    """For a newly issued invoice: order completed -> invoice issued (the 24-hour target)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InvoiceIssuer:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        documents: DocumentStore,
        renderer: Renderer,
        series: str,
        seller: Seller,
        clock: Clock = _utc_now,
        credit_note_series: str | None = None,
        policy: PaymentPolicy = CAPTURE_ONLY,
    ) -> None:
        """`credit_note_series` turns corrections on: without it, changes to invoiced orders are
        left alone."""
        self._ledger = ledger
        self._series = series
        self._seller = seller
        self._clock = clock
        self._policy = policy
        self._completion = InvoiceCompletion(ledger=ledger, documents=documents, render=renderer, clock=clock)
        self._corrector = (
            InvoiceCorrector(
                ledger=ledger,
                corrections=CorrectionLedger(ledger.table_name, ledger),
                documents=documents,
                renderer=renderer,
                invoice_series=series,
                credit_note_series=credit_note_series,
                seller=seller,
                clock=clock,
                policy=policy,
            )
            if credit_note_series
            else None
        )

    def handle_order_change(
        self,
        event_name: str,
        order_id: str,
        old_image: Mapping[str, Any] | None,
        new_image: Mapping[str, Any] | None,
    ) -> IssuingResult | None:
        """React to one change of the Orders table; None when the change makes nothing due."""
        trigger = classify_change(event_name, old_image, new_image, self._policy)
        if trigger is Trigger.SKIP or new_image is None:
            return None
        if trigger is Trigger.REVERSED:
            existing = self._ledger.find_by_order(order_id)
            if existing is None:
                return None  # never invoiced: nothing to credit
            existing = self._issued(existing)
            return self._correct(existing, new_image) if existing else None
        if trigger is Trigger.RECHECK:
            existing = self._ledger.find_by_order(order_id)
            if existing is not None:
                return self._recheck(existing, old_image, new_image)
        return self.issue(order_id, new_image)

    def _recheck(
        self, existing: InvoiceRecord, old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any]
    ) -> IssuingResult | None:
        """A completed order that has an invoice changed again."""
        if existing.status is not InvoiceStatus.ISSUED:
            completed = self._complete(existing)
            # The change that arrived while it was being finished still counts.
            issued = self._ledger.get_invoice(existing.invoice_number)
            if issued is not None and billed_fields(old_image) != billed_fields(new_image):
                return self._correct(issued, new_image) or completed
            return completed
        if existing.delivery_status == "UNDELIVERABLE" and contact_changed(old_image, new_image):
            return self._redeliver(existing)
        # A retry of the write that issued it, whose run died before closing the order's earlier
        # failure: close it (a conditional write that changes nothing otherwise).
        self._ledger.resolve_validation_failure(existing.order_id, existing.invoice_number, self._clock())
        # Only a write that changed what an invoice says can call for a correction.
        if billed_fields(old_image) != billed_fields(new_image):
            return self._correct(existing, new_image)
        return None

    def _issued(self, record: InvoiceRecord) -> InvoiceRecord | None:
        """The invoice issued, finishing it first if a run died before (numbered or stored)."""
        if record.status is not InvoiceStatus.ISSUED:
            self._complete(record)
            return self._ledger.get_invoice(record.invoice_number)
        return record

    def _correct(self, existing: InvoiceRecord, order_item: Mapping[str, Any]) -> IssuingResult | None:
        if self._corrector is None:
            return None
        corrected = self._corrector.consider(existing, order_item)
        if corrected is None:
            return None
        outcome = {
            CorrectionOutcome.REVISED: Outcome.REVISED,
            CorrectionOutcome.CREDITED: Outcome.CREDITED,
            CorrectionOutcome.REJECTED: Outcome.CORRECTION_REJECTED,
        }[corrected.outcome]
        return IssuingResult(
            outcome=outcome,
            order_id=existing.order_id,
            invoice_number=corrected.revised_invoice_number or existing.invoice_number,
            issues=corrected.issues,
        )

    def reconcile(self, order_id: str, order_item: Mapping[str, Any] | None) -> IssuingResult | None:
        """Bring an order whose change was never handled (a failed stream batch) up to date: the
        invoice it is due, or the correction its invoice is due, judged from the order as it is
        now, since the change itself is gone."""
        if order_item is None:
            return None
        existing = self._ledger.find_by_order(order_id)
        if existing is None:
            return self.handle_order_change("INSERT", order_id, None, order_item)
        issued = self._issued(existing)
        if issued and (
            reversal_reason(order_item) is not None or is_due_for_invoice(dict(order_item), self._policy)
        ):
            return self._correct(issued, order_item)
        return None

    def _redeliver(self, record: InvoiceRecord) -> IssuingResult | None:
        """Customer service corrected the contact of an undeliverable invoice: deliver it again."""
        number = record.invoice_number
        announcement = self._ledger.issued_announcement(number)
        if announcement is None:
            raise LookupError(f"{number} is undeliverable but its announcement was not kept")
        if not self._ledger.reopen_undeliverable(number, announcement, self._clock()):
            return None  # a repeated record: already reopened
        logger.info("contact corrected; undeliverable invoice delivered again", invoice_number=number)
        return IssuingResult(
            outcome=Outcome.REDELIVERY_REQUESTED, order_id=record.order_id, invoice_number=number
        )

    def issue(self, order_id: str, order_item: Mapping[str, Any]) -> IssuingResult:
        """`order_id` comes from the record's key, so even an unparseable item is accounted for."""
        existing = self._ledger.find_by_order(order_id)
        if existing and existing.status is InvoiceStatus.ISSUED:
            logger.info("invoice already issued", order_id=order_id, invoice_number=existing.invoice_number)
            # A run that died after issuing but before closing an earlier failure: close it now.
            self._ledger.resolve_validation_failure(order_id, existing.invoice_number, self._clock())
            return IssuingResult(
                outcome=Outcome.ALREADY_ISSUED, order_id=order_id, invoice_number=existing.invoice_number
            )
        if existing:
            return self._complete(existing)

        result = validate_order_item(order_item, key=order_id, policy=self._policy)
        if not result.is_valid or result.order is None or result.priced is None:
            return self._reject(order_id, order_item, result.issues, result.issue_count)
        order, priced = result.order, result.priced
        fingerprint = order_fingerprint(order_item)
        pay_later = self._policy.unpaid_terms(order.payment.method, order.payment.status.value)

        def freeze(number: str, issued_at: datetime) -> bytes:
            return encode_document(
                freeze_invoice(
                    order,
                    priced,
                    invoice_number=number,
                    issued_at=issued_at,
                    seller=self._seller,
                    source_sha256=fingerprint,
                    pay_later=pay_later,
                )
            )

        try:
            record = self._ledger.allocate(
                new_invoice_of(order, priced, pay_later), self._series, self._clock(), freeze
            )
        except InvoiceTooLarge as too_large:
            issue = ValidationIssue(
                code=IssueCode.ORDER_TOO_LARGE,
                field="items",
                message=f"the invoice would be too large to keep ({too_large.size:,} bytes compressed, "
                f"at most {MAX_RECORD_BYTES:,}): split the order or shorten its descriptions",
            )
            return self._reject(order_id, order_item, [issue], 1)
        issued = self._complete(record)
        if issued.outcome is Outcome.ISSUED and any(line.refunded_quantity for line in order.items):
            # Units returned before the invoice was issued: it bills them, its credit note credits them.
            fresh = self._ledger.get_invoice(record.invoice_number)
            if fresh is not None and fresh.status is InvoiceStatus.ISSUED:
                self._correct(fresh, order_item)
        return issued

    def complete_numbered(self, record: InvoiceRecord) -> IssuingResult:
        """The SLA sweep finishing an invoice numbered earlier (from its frozen document)."""
        return self._complete(record)

    def _complete(self, record: InvoiceRecord) -> IssuingResult:
        # A revised invoice: the credit note numbered with it is finished first.
        replaced = self._ledger.get_invoice(record.replaces) if record.replaces else None
        if replaced is not None and self._corrector is not None:
            self._corrector.finish_pending(replaced)
        document = self._completion.complete(record)
        if self._ledger.resolve_validation_failure(record.order_id, record.invoice_number, self._clock()):
            logger.info("earlier validation failure resolved", order_id=record.order_id)
        completed_at = record.order_completed_at
        if document is None:
            return IssuingResult(
                outcome=Outcome.ALREADY_ISSUED, order_id=record.order_id, invoice_number=record.invoice_number
            )
        logger.info(
            "invoice issued",
            order_id=record.order_id,
            invoice_number=record.invoice_number,
            grand_total=str(record.grand_total),
            currency=record.currency,
        )
        return IssuingResult(
            outcome=Outcome.ISSUED,
            order_id=record.order_id,
            invoice_number=record.invoice_number,
            seconds_since_completion=(self._clock() - completed_at).total_seconds() if completed_at else None,
        )

    def _reject(
        self, order_id: str, order_item: Mapping[str, Any], issues: list[ValidationIssue], issue_count: int
    ) -> IssuingResult:
        customer = order_item.get("customer")
        customer_id = customer.get("customer_id") if isinstance(customer, Mapping) else None
        # An index key: only an id the contract allows (a 300 KB one would make the write fail).
        customer_id = customer_id if is_identifier(customer_id) else None
        # Recorded and announced in one transaction; a redelivered record repeats the same verdict
        # and is only counted, so operations are not paged twice for one problem.
        _, announced = self._ledger.record_validation_failure(
            order_id, customer_id, issues, self._clock(), issue_count=issue_count
        )
        logger.warning(
            "order cannot be invoiced",
            order_id=order_id,
            issue_codes=sorted({issue.code.value for issue in issues}),
            issue_count=issue_count,
            announced=announced,
        )
        return IssuingResult(outcome=Outcome.REJECTED, order_id=order_id, issues=issues)
