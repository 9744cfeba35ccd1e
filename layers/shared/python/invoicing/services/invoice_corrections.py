"""Correct an issued invoice: a credit note, and a revised invoice when what was sold changed.

An issued invoice is never edited. When the storefront changes what an invoiced order bills, or
cancels or refunds it, the invoice is compared with the order as it is now (`domain/corrections`):
nothing billed changed -> nothing happens, unless some units were returned (a line's
`refunded_quantity` rose beyond what was credited for it): then a credit note for those units
only; the order no longer validates -> the correction is recorded with every problem and
announced, and the invoice stands; otherwise a credit note cancels what is left of it and, unless
the order was cancelled or refunded, a revised invoice with a new number replaces it. Both are
numbered in one transaction (`adapters/correction_ledger.py`) and completed like any invoice
(stored, recorded, announced), so a crash anywhere is finished by the retry or by the sweep, and a
redelivered change makes the same correction once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.correction_ledger import (
    AllocatedCorrection,
    BillingOverride,
    CorrectionConflict,
    CorrectionLedger,
)
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord, NewInvoice
from invoicing.domain.corrections import bills_differently, correction_id, returned_units, reversal_reason
from invoicing.domain.credit_note import (
    Creditable,
    CreditNoteDocument,
    CreditReason,
    OverCredit,
    amount_credit,
    full_credit,
    partial_credit,
)
from invoicing.domain.documents import encode_document, order_fingerprint, parse_invoice
from invoicing.domain.invoice import InvoiceDocument, InvoiceKind, InvoiceStatus, Seller, freeze_invoice
from invoicing.domain.money import format_money
from invoicing.domain.payment_terms import CAPTURE_ONLY, PaymentPolicy
from invoicing.domain.pricing import TaxLine
from invoicing.domain.validation import ValidationIssue, ValidationResult, validate_order_item
from invoicing.observability import logger
from invoicing.services.invoice_completion import InvoiceCompletion, Renderer, new_invoice_of

MAX_REPLANS = 5
NOTHING_BILLED_DIFFERS = "nothing the invoice says differs from the order as it is now"
NOTHING_LEFT_TO_CREDIT = "the invoice is credited in full already"
BILLING_CORRECTED = "customer service corrected the billing details"


class CorrectionOutcome(StrEnum):
    REVISED = "REVISED"
    """Credited and replaced by a revised invoice."""
    CREDITED = "CREDITED"
    """Credited only (cancelled or refunded, in full or for the units returned)."""
    REJECTED = "REJECTED"
    """The changed order does not validate: the invoice stands, the problems are recorded."""


class CorrectionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: CorrectionOutcome
    order_id: str
    invoice_number: str
    """The invoice corrected."""
    credit_note_number: str | None = None
    revised_invoice_number: str | None = None
    issues: list[ValidationIssue] = []
    correction_id: str | None = None
    """The correction record it made or found (`ORDER#<id>` / `CORRECTION#<correction_id>`)."""


class InvoiceCorrector:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        corrections: CorrectionLedger,
        documents: DocumentStore,
        renderer: Renderer,
        invoice_series: str,
        credit_note_series: str,
        seller: Seller,
        clock: Callable[[], datetime],
        policy: PaymentPolicy = CAPTURE_ONLY,
    ) -> None:
        self._ledger = ledger
        self._corrections = corrections
        self._documents = documents
        self._invoice_series = invoice_series
        self._credit_note_series = credit_note_series
        self._seller = seller
        self._clock = clock
        self._policy = policy
        self._completion = InvoiceCompletion(ledger=ledger, documents=documents, render=renderer, clock=clock)

    def consider(
        self,
        current: InvoiceRecord,
        order_item: Mapping[str, Any],
        billing: BillingOverride | None = None,
    ) -> CorrectionResult | None:
        """Correct the order's current invoice if the order no longer bills what it says.

        `billing` is customer service's explicit correction of the billed name or address: it is
        laid over the order (and kept, so the order's later changes are compared with it too)."""
        self.finish_pending(current)
        kept = self._corrections.billing_override(current.order_id)
        override = kept.merged(billing) if kept and billing else billing or kept
        if override is not None:
            order_item = override.applied_to(order_item)
        by_support = billing is not None and override is not None and override != kept
        for _ in range(MAX_REPLANS):
            try:
                result = self._correct(current, order_item, override if by_support else None)
                if result is not None and result.revised_invoice_number:
                    self._credit_returns_on(result.revised_invoice_number, order_item)
                return result
            except CorrectionConflict:
                # Another change corrected it meanwhile: compare with the newest invoice of the chain.
                newest = self._ledger.find_by_order(current.order_id)
                if newest is None or newest.status is not InvoiceStatus.ISSUED:
                    raise
                current = newest
        raise CorrectionConflict(f"{current.invoice_number} kept moving while being corrected")

    def _correct(
        self,
        current: InvoiceRecord,
        order_item: Mapping[str, Any],
        new_override: BillingOverride | None = None,
    ) -> CorrectionResult | None:
        invoice = self._document_of(current)
        now = self._clock()
        reason = reversal_reason(order_item)
        correction = correction_id(current.invoice_number, order_fingerprint(order_item))
        revised: tuple[NewInvoice, Callable[[str, datetime], bytes]] | None = None
        if reason is None:
            validated = validate_order_item(order_item, key=current.order_id, policy=self._policy)
            if not bills_differently(invoice, validated):
                return self._credit_returns(current, invoice, validated, correction, now)
            if validated.order is None or validated.priced is None or not validated.is_valid:
                return self._reject(current, correction, now, validated.issues, validated.issue_count)
            reason = CreditReason.CUSTOMER_SERVICE if new_override else CreditReason.ORDER_CHANGED
            order, priced, source = validated.order, validated.priced, order_fingerprint(order_item)
            pay_later = self._policy.unpaid_terms(order.payment.method, order.payment.status.value)

            def freeze_revised(number: str, issued_at: datetime) -> bytes:
                return encode_document(
                    freeze_invoice(
                        order,
                        priced,
                        invoice_number=number,
                        issued_at=issued_at,
                        seller=self._seller,
                        source_sha256=source,
                        replaces=current.invoice_number,
                        pay_later=pay_later,
                    )
                )

            revised = (
                new_invoice_of(order, priced, pay_later).model_copy(
                    update={"replaces": current.invoice_number}
                ),
                freeze_revised,
            )
        creditable = Creditable.of(invoice, current.credited_tax_lines)
        if creditable.is_exhausted:
            self._unchanged(current, correction, reason, now, NOTHING_LEFT_TO_CREDIT)
            return None
        credit_lines = creditable.remaining()

        def freeze_credit_note(number: str, issued_at: datetime, revised_number: str | None) -> bytes:
            return encode_document(
                full_credit(
                    invoice,
                    credit_note_number=number,
                    issued_at=issued_at,
                    reason=reason,
                    reason_text=BILLING_CORRECTED if new_override else None,
                    credited_before=current.credited_tax_lines,
                    replaced_by=revised_number,
                )
            )

        allocated = self._corrections.allocate(
            original=current,
            correction_id=correction,
            reason=reason,
            discovered_at=now,
            credit_note=_credit_note_of(current, credit_lines, reason),
            credited_after=[*current.credited_tax_lines, *credit_lines],
            revised=revised[0] if revised else None,
            credit_series=self._credit_note_series,
            invoice_series=self._invoice_series,
            freeze_credit_note=freeze_credit_note,
            freeze_revised=revised[1] if revised else None,
            now=now,
            credited_quantities={str(index): line.quantity for index, line in enumerate(invoice.lines)},
            extra_items=[self._corrections.keep_billing_override(current.order_id, new_override, correction)]
            if new_override and revised
            else [],
        )
        return self._completed(current, allocated, reason)

    def credit_amount(
        self,
        current: InvoiceRecord,
        amount: Decimal,
        request_key: str,
        *,
        reason: CreditReason = CreditReason.CUSTOMER_SERVICE,
        reason_text: str | None = None,
        settles_refund: Decimal | None = None,
    ) -> CorrectionResult:
        """Credit an amount (tax included) of the invoice: a credit note shared over its tax rates,
        no revised invoice. `request_key` makes a repeated request one credit. Customer service
        asks for it; so does a refund nobody credited (`settles_refund`: the refund awaiting its
        credit note that this one settles, taken off in the same transaction)."""
        self.finish_pending(current)
        invoice = self._document_of(current)
        now = self._clock()
        correction = correction_id(current.invoice_number, f"amount|{amount}|{request_key}")
        why = reason_text or f"customer service credited {format_money(amount, invoice.currency)}"

        def credit(number: str, issued_at: datetime) -> CreditNoteDocument:
            return amount_credit(
                invoice,
                credit_note_number=number,
                issued_at=issued_at,
                amount=amount,
                reason_text=why,
                credited_before=current.credited_tax_lines,
            )

        planned = credit(self._credit_note_series, now)  # OverCredit: more than is left
        return self._credit_alone(
            current, correction, reason, now, planned, credit, settles_refund=settles_refund
        )

    def _credit_returns_on(self, revised_number: str, order_item: Mapping[str, Any]) -> None:
        """A revised invoice bills every unit sold again: the units already returned are credited
        on it too (a credit note of their own), as a later write would, with no write to wait for."""
        revised = self._ledger.get_invoice(revised_number)
        if revised is None or revised.status is not InvoiceStatus.ISSUED or revised.replaced_by is not None:
            return
        order = validate_order_item(order_item, key=revised.order_id, policy=self._policy).order
        if order is not None and returned_units(order, revised.credited_quantities):
            self._correct(revised, order_item)  # only then: a check, not a change to put on record

    def _credit_returns(
        self,
        current: InvoiceRecord,
        invoice: InvoiceDocument,
        validated: ValidationResult,
        correction: str,
        now: datetime,
    ) -> CorrectionResult | None:
        """Nothing billed changed: credit the units returned since the last credit, if any."""
        returned = returned_units(validated.order, current.credited_quantities) if validated.order else {}
        if not returned:
            self._unchanged(current, correction, CreditReason.ORDER_CHANGED, now, NOTHING_BILLED_DIFFERS)
            return None
        credited_quantities = {
            **current.credited_quantities,
            **{str(i): current.credited_quantities.get(str(i), 0) + n for i, n in returned.items()},
        }

        def credit(number: str, issued_at: datetime) -> CreditNoteDocument:
            return partial_credit(
                invoice,
                credit_note_number=number,
                issued_at=issued_at,
                refunded=returned,
                credited_before=current.credited_tax_lines,
                credited_quantities={int(i): n for i, n in current.credited_quantities.items()},
            )

        try:
            planned = credit(self._credit_note_series, now)
        except OverCredit as too_much:
            logger.warning(
                "return not credited: more than is left to credit",
                invoice_number=current.invoice_number,
                problem=str(too_much),
            )
            self._unchanged(current, correction, CreditReason.REFUNDED, now, f"not credited: {too_much}")
            return None
        if planned.totals.grand_total <= 0:  # units that cost nothing (discounted to zero)
            self._unchanged(
                current, correction, CreditReason.REFUNDED, now, "the units returned cost nothing"
            )
            return None
        return self._credit_alone(
            current, correction, CreditReason.REFUNDED, now, planned, credit, credited_quantities
        )

    def _credit_alone(  # noqa: PLR0917 (the parts of one planned credit note)
        self,
        current: InvoiceRecord,
        correction: str,
        reason: CreditReason,
        now: datetime,
        planned: CreditNoteDocument,
        credit: Callable[[str, datetime], CreditNoteDocument],
        credited_quantities: dict[str, int] | None = None,
        settles_refund: Decimal | None = None,
    ) -> CorrectionResult:
        """Number, record and complete a credit note with no revised invoice (`planned` is what it
        will say; `credit` makes it under its number)."""
        allocated = self._corrections.allocate(
            original=current,
            correction_id=correction,
            reason=reason,
            discovered_at=now,
            credit_note=_credit_note_of(current, planned.tax_lines, reason),
            credited_after=[*current.credited_tax_lines, *planned.tax_lines],
            revised=None,
            credit_series=self._credit_note_series,
            invoice_series=self._invoice_series,
            freeze_credit_note=lambda number, issued_at, _: encode_document(credit(number, issued_at)),
            freeze_revised=None,
            now=now,
            credited_quantities=credited_quantities,
            settles_refund=settles_refund,
        )
        return self._completed(current, allocated, reason)

    def _completed(
        self, current: InvoiceRecord, allocated: AllocatedCorrection, reason: CreditReason
    ) -> CorrectionResult:
        self._complete(allocated)
        result = CorrectionResult(
            outcome=CorrectionOutcome.REVISED if allocated.revised else CorrectionOutcome.CREDITED,
            order_id=current.order_id,
            invoice_number=current.invoice_number,
            credit_note_number=allocated.credit_note.invoice_number,
            revised_invoice_number=allocated.revised.invoice_number if allocated.revised else None,
            correction_id=allocated.correction.correction_id,
        )
        logger.info(
            "invoice corrected", **result.model_dump(mode="json", exclude={"issues"}), reason=reason.value
        )
        return result

    def finish_pending(self, invoice: InvoiceRecord) -> None:
        """Complete the invoice's credit notes that a run died before storing and announcing."""
        self.finish_numbered(invoice.credit_notes)

    def finish_numbered(self, numbers: Iterable[str | None]) -> None:
        """Complete these credit notes or invoices if a run died before storing and announcing them."""
        for number in numbers:
            record = self._ledger.get_invoice(number) if number else None
            if record is not None and record.status is not InvoiceStatus.ISSUED:
                self._completion.complete(record)

    def _complete(self, allocated: AllocatedCorrection) -> None:
        """Store, record and announce both documents (each step safe to repeat)."""
        for record in (allocated.credit_note, allocated.revised):
            if record is not None:
                fresh = self._ledger.get_invoice(record.invoice_number) or record
                self._completion.complete(fresh)

    def _unchanged(
        self, current: InvoiceRecord, correction: str, reason: CreditReason, now: datetime, note: str
    ) -> None:
        first = self._corrections.record_unchanged(
            original=current, correction_id=correction, reason=reason, discovered_at=now, note=note
        )
        logger.info(
            "correction considered: nothing to do",
            invoice_number=current.invoice_number,
            note=note,
            first_time=first,
        )

    def _reject(
        self,
        current: InvoiceRecord,
        correction: str,
        now: datetime,
        issues: list[ValidationIssue],
        issue_count: int,
    ) -> CorrectionResult:
        announced = self._corrections.record_rejected(
            original=current,
            correction_id=correction,
            discovered_at=now,
            issues=issues,
            issue_count=issue_count,
        )
        logger.warning(
            "correction refused: the changed order does not validate",
            invoice_number=current.invoice_number,
            issue_codes=sorted({issue.code.value for issue in issues}),
            announced=announced,
        )
        return CorrectionResult(
            outcome=CorrectionOutcome.REJECTED,
            order_id=current.order_id,
            invoice_number=current.invoice_number,
            issues=issues,
            correction_id=correction,
        )

    def _document_of(self, record: InvoiceRecord) -> InvoiceDocument:
        if not record.document_key:
            raise LookupError(f"{record.invoice_number} is issued but its document is not recorded")
        data = self._documents.get_verified(
            record.document_key, record.document_version_id, record.document_sha256
        )
        return parse_invoice(data)


def _credit_note_of(invoice: InvoiceRecord, lines: list[TaxLine], reason: CreditReason) -> NewInvoice:
    net = sum((line.net for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    return NewInvoice(
        kind=InvoiceKind.CREDIT_NOTE,
        order_id=invoice.order_id,
        customer_id=invoice.customer_id,
        customer_name=invoice.customer_name,
        currency=invoice.currency,
        net_total=net,
        tax_total=tax,
        grand_total=net + tax,
        payment_status="REFUNDED" if reason is CreditReason.REFUNDED else invoice.payment_status,
        order_completed_at=invoice.order_completed_at,
        tax_lines=lines,
        credits_invoice_number=invoice.invoice_number,
    )
