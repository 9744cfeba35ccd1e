"""Support asks for an invoice to be corrected: POST /invoices/{invoice_number}/corrections.

`explicit` takes the corrected value from the request instead: `billing` (the billed name or
address, which the storefront does not own once invoiced) is laid over the order and the invoice
re-derived from that, a credit note and a revised invoice, and kept for the order's later changes;
`credit_amount` credits an amount (tax included, shared over the tax rates), no revised invoice.
Vendors are not concerned by either (what they sold did not change).

`rederive`: the order is read again from the Orders table and the invoice is compared with it,
exactly as the generator does on a stream change (`InvoiceCorrector.consider`), so what support can
do is what a storefront edit would have done, no more: nothing billed differs -> unchanged; the
order no longer validates -> refused with its issues, the invoice stands; otherwise a credit note,
and a revised invoice unless the order was cancelled or refunded.

Every request is on the correction record it made or found: who asked (`requested_by`), why, and
the inquiry it resolves (`inquiry_id`: the hook of the inquiry log, where a customer's or vendor's
reported problem that customer service accepts becomes a correction through this same call).

Only the order's current invoice can be corrected (a superseded one is answered with the current
number). The same request for the same order version answers the same correction again: its id is
the invoice number and the order's fingerprint (`domain/corrections.correction_id`), and the
correction record it left is read back before anything is compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.correction_ledger import BillingOverride, CorrectionLedger
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.api_models import CorrectionAnswer, CorrectionRequest
from invoicing.domain.corrections import correction_id
from invoicing.domain.credit_note import OverCredit
from invoicing.domain.documents import order_fingerprint
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.validation import ValidationIssue
from invoicing.observability import logger
from invoicing.services.invoice_corrections import CorrectionOutcome, CorrectionResult, InvoiceCorrector
from invoicing.services.invoice_listing import BadRequest, Caller, NotAllowed, NotFound, is_invoice_number

OrderLoader = Callable[[str], Mapping[str, Any] | None]


class NotCurrent(Exception):
    """The invoice is not its order's current invoice (superseded, a credit note, not issued yet)."""

    def __init__(self, message: str, current_invoice_number: str | None) -> None:
        super().__init__(message)
        self.current_invoice_number = current_invoice_number


class OrderInvalid(Exception):
    """The order as it is now does not validate: the correction is refused, the invoice stands."""

    def __init__(self, invoice_number: str, issues: list[ValidationIssue]) -> None:
        super().__init__(f"the order of {invoice_number} does not validate as it is now")
        self.invoice_number = invoice_number
        self.issues = issues


class Corrected(BaseModel):
    """What the API answers: 201 when a correction was made (or is the one made before), 200 when
    nothing billed differs."""

    model_config = ConfigDict(frozen=True)

    created: bool
    answer: CorrectionAnswer


class SupportCorrections:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        corrections: CorrectionLedger,
        corrector: InvoiceCorrector,
        load_order: OrderLoader,
    ) -> None:
        self._ledger = ledger
        self._corrections = corrections
        self._corrector = corrector
        self._load_order = load_order

    @staticmethod
    def _correction_id(request: CorrectionRequest, invoice_number: str, order_item: Mapping[str, Any]) -> str:
        """The id the correction this request asks for has (or had): an amount credit by its amount
        and reason, anything else by the order version it answers (with support's billing laid over)."""
        if request.credit_amount is not None:
            return correction_id(invoice_number, f"amount|{Decimal(request.credit_amount)}|{request.reason}")
        return correction_id(invoice_number, order_fingerprint(order_item))

    def correct(self, caller: Caller, invoice_number: str, request: CorrectionRequest) -> Corrected:
        if not caller.is_support:
            raise NotAllowed
        if not is_invoice_number(invoice_number):
            raise NotFound
        record = self._ledger.get_invoice(invoice_number)
        if record is None:
            raise NotFound
        logger.info(
            "correction requested by support",
            support_id=caller.party_id,
            invoice_number=invoice_number,
            order_id=record.order_id,
            mode=request.mode,
            reason=request.reason,
        )
        if record.kind is not InvoiceKind.CUSTOMER:
            current = self._ledger.find_by_order(record.order_id)
            raise NotCurrent(
                f"{invoice_number} is a {record.kind.value.lower().replace('_', ' ')}: "
                "only the order's current customer invoice can be corrected",
                current.invoice_number if current else None,
            )
        order_item = self._load_order(record.order_id)
        if order_item is None:
            raise NotCurrent(f"the order of {invoice_number} is no longer in the Orders table", None)
        billing = _billing_of(request)
        if billing is not None:
            kept = self._corrections.billing_override(record.order_id)
            order_item = (kept.merged(billing) if kept else billing).applied_to(order_item)
        made = self._corrections.get_correction(
            record.order_id, self._correction_id(request, invoice_number, order_item)
        )
        if made is not None and made.credit_note_number is not None:  # allocated, or sent since
            # The same request for the same order version: the correction it made, once (finished
            # here if the run that made it died before storing and announcing it).
            self._corrector.finish_numbered([made.credit_note_number, made.revised_invoice_number])
            return _made(
                made.order_id,
                made.invoice_number,
                made.credit_note_number,
                made.revised_invoice_number,
                made.correction_id,
            )
        current = self._ledger.find_by_order(record.order_id)
        if current is None or current.invoice_number != invoice_number:
            number = current.invoice_number if current else None
            raise NotCurrent(f"{invoice_number} is not the order's current invoice", number)
        if current.status is not InvoiceStatus.ISSUED:
            raise NotCurrent(f"{invoice_number} is not issued yet: ask again shortly", invoice_number)
        result = self._apply(current, request, order_item, billing)
        self._corrections.annotate_request(
            record.order_id,
            result.correction_id
            if result and result.correction_id
            else self._correction_id(request, invoice_number, order_item),
            requested_by=caller.party_id,
            reason=request.reason,
            inquiry_id=request.inquiry_id,
        )
        if result is None:
            return Corrected(created=False, answer=CorrectionAnswer(outcome="unchanged"))
        if result.outcome is CorrectionOutcome.REJECTED:
            raise OrderInvalid(invoice_number, result.issues)
        return _made(
            result.order_id,
            result.invoice_number,
            result.credit_note_number,
            result.revised_invoice_number,
            result.correction_id,
        )

    def _apply(
        self,
        current: InvoiceRecord,
        request: CorrectionRequest,
        order_item: Mapping[str, Any],
        billing: BillingOverride | None,
    ) -> CorrectionResult | None:
        if request.credit_amount is None:
            return self._corrector.consider(current, order_item, billing)
        try:
            return self._corrector.credit_amount(current, Decimal(request.credit_amount), request.reason)
        except OverCredit as too_much:
            raise BadRequest(str(too_much)) from None


def _billing_of(request: CorrectionRequest) -> BillingOverride | None:
    if request.billing is None:
        return None
    address = request.billing.billing_address
    return BillingOverride(
        name=request.billing.name,
        billing_address=address.model_dump(mode="json") if address else None,
    )


def _made(
    order_id: str,
    invoice_number: str,
    credit_note: str | None,
    revised: str | None,
    correction_id: str | None,
) -> Corrected:
    return Corrected(
        created=True,
        answer=CorrectionAnswer(
            outcome="REVISED" if revised else "CREDITED",
            order_id=order_id,
            invoice_number=invoice_number,
            credit_note_number=credit_note,
            revised_invoice_number=revised,
            correction_id=correction_id,
        ),
    )
