"""Issue the invoice of a completed order, or record every reason it cannot be issued.

Each step is safe to repeat, so a stream redelivery or a retry after a crash finishes the same
invoice with the same number instead of making a second one:

1. validate and re-derive the totals (pure);
2. allocate the number, create the record and claim the order in one transaction
   (an order that already has a claim gets its existing invoice back);
3. render the PDF and store it under the invoice's stable key, record where (NUMBERED -> STORED);
4. announce `InvoiceIssued` and mark the invoice ISSUED.

An invoice already ISSUED is left alone. EventBridge is at-least-once anyway, so if the run dies
between 4's announcement and its mark, the retry announces again and consumers deduplicate on
the invoice number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord, NewInvoice
from invoicing.domain.events import DetailType, InvoiceValidationFailed
from invoicing.domain.invoice import InvoiceDocument, InvoiceKind, InvoiceStatus, Seller
from invoicing.domain.order import Order
from invoicing.domain.pricing import PricedOrder
from invoicing.domain.triggers import Trigger, classify_change, contact_changed
from invoicing.domain.validation import ValidationIssue, validate_order_item
from invoicing.observability import logger
from invoicing.services.invoice_publication import store_and_announce

Renderer = Callable[[InvoiceDocument], bytes]
Clock = Callable[[], datetime]


class Outcome(StrEnum):
    ISSUED = "ISSUED"
    ALREADY_ISSUED = "ALREADY_ISSUED"
    REJECTED = "REJECTED"
    REDELIVERY_REQUESTED = "REDELIVERY_REQUESTED"
    """The invoice was undeliverable and the customer's contact has been corrected."""


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
        events: EventPublisher,
        renderer: Renderer,
        series: str,
        seller: Seller,
        clock: Clock = _utc_now,
    ) -> None:
        self._ledger = ledger
        self._documents = documents
        self._events = events
        self._render = renderer
        self._series = series
        self._seller = seller
        self._clock = clock

    def handle_order_change(
        self,
        event_name: str,
        order_id: str,
        old_image: Mapping[str, Any] | None,
        new_image: Mapping[str, Any] | None,
    ) -> IssuingResult | None:
        """React to one change of the Orders table; None when the change makes nothing due."""
        trigger = classify_change(event_name, old_image, new_image)
        if trigger is Trigger.SKIP or new_image is None:
            return None
        if trigger is Trigger.RECHECK:
            existing = self._ledger.find_by_order(order_id)
            if existing is not None:
                if existing.delivery_status == "UNDELIVERABLE" and contact_changed(old_image, new_image):
                    return self._redeliver(existing)
                return None
        return self.issue(order_id, new_image)

    def _redeliver(self, record: InvoiceRecord) -> IssuingResult | None:
        """Customer service corrected the contact of an undeliverable invoice: deliver it again."""
        number = record.invoice_number
        if not self._ledger.reopen_undeliverable(number, self._clock()):
            return None  # a repeated record: already reopened
        announcement = self._ledger.issued_announcement(number)
        if announcement is None:
            raise LookupError(f"{number} is undeliverable but its announcement was not kept")
        self._events.publish(
            DetailType.INVOICE_DELIVERY_DUE,
            announcement,
            resources=[f"invoice/{number}", f"order/{record.order_id}"],
        )
        logger.info("contact corrected; undeliverable invoice delivered again", invoice_number=number)
        return IssuingResult(
            outcome=Outcome.REDELIVERY_REQUESTED, order_id=record.order_id, invoice_number=number
        )

    def issue(self, order_id: str, order_item: Mapping[str, Any]) -> IssuingResult:
        """`order_id` comes from the record's key, so even an unparseable item is accounted for."""
        existing = self._ledger.find_by_order(order_id)
        if existing and existing.status is InvoiceStatus.ISSUED:
            logger.info("invoice already issued", order_id=order_id, invoice_number=existing.invoice_number)
            return IssuingResult(
                outcome=Outcome.ALREADY_ISSUED, order_id=order_id, invoice_number=existing.invoice_number
            )

        result = validate_order_item(order_item)
        if not result.is_valid or result.order is None or result.priced is None:
            return self._reject(order_id, order_item, result.issues)
        order, priced = result.order, result.priced

        record = existing or self._ledger.allocate(_new_invoice(order, priced), self._series, self._clock())
        self._complete(record, order, priced)
        elapsed = (self._clock() - order.completed_at).total_seconds() if order.completed_at else None
        return IssuingResult(
            outcome=Outcome.ISSUED,
            order_id=order_id,
            invoice_number=record.invoice_number,
            seconds_since_completion=elapsed,
        )

    def _complete(self, record: InvoiceRecord, order: Order, priced: PricedOrder) -> None:
        document = InvoiceDocument(
            invoice_number=record.invoice_number,
            kind=record.kind,
            issued_at=record.issued_at,
            order=order,
            priced=priced,
            seller=self._seller,
        )
        pdf = self._render(document)
        store_and_announce(
            record,
            pdf,
            customer_id=order.customer.customer_id,
            preferred_channels=order.customer.preferred_channels,
            ledger=self._ledger,
            documents=self._documents,
            events=self._events,
            clock=self._clock,
        )
        if self._ledger.resolve_validation_failure(order.order_id, record.invoice_number, self._clock()):
            logger.info("earlier validation failure resolved", order_id=order.order_id)
        logger.info(
            "invoice issued",
            order_id=order.order_id,
            invoice_number=record.invoice_number,
            pdf_bytes=len(pdf),
            grand_total=str(priced.totals.grand_total),
            currency=order.currency,
        )

    def _reject(
        self, order_id: str, order_item: Mapping[str, Any], issues: list[ValidationIssue]
    ) -> IssuingResult:
        customer = order_item.get("customer")
        customer_id = customer.get("customer_id") if isinstance(customer, Mapping) else None
        customer_id = customer_id if isinstance(customer_id, str) else None
        previous = self._ledger.get_validation_failure(order_id)
        failure = self._ledger.record_validation_failure(order_id, customer_id, issues, self._clock())
        # A redelivered record repeats the same verdict: announce a failure once, and again only
        # when what is wrong has changed, so operations are not paged twice for one problem.
        if previous is None or previous.status != "OPEN" or previous.issues != issues:
            self._events.publish(
                DetailType.INVOICE_VALIDATION_FAILED,
                InvoiceValidationFailed(
                    order_id=order_id,
                    customer_id=customer_id,
                    issues=issues,
                    attempts=failure.attempts,
                    failed_at=failure.last_failed_at,
                ),
                resources=[f"order/{order_id}"],
            )
        logger.warning(
            "order cannot be invoiced",
            order_id=order_id,
            issue_codes=sorted({issue.code.value for issue in issues}),
            issue_count=len(issues),
        )
        return IssuingResult(outcome=Outcome.REJECTED, order_id=order_id, issues=issues)


def _new_invoice(order: Order, priced: PricedOrder) -> NewInvoice:
    return NewInvoice(
        kind=InvoiceKind.CUSTOMER,
        order_id=order.order_id,
        customer_id=order.customer.customer_id,
        customer_name=order.customer.name,
        currency=order.currency,
        net_total=priced.totals.net_total,
        tax_total=priced.totals.tax_total,
        grand_total=priced.totals.grand_total,
        payment_status=order.payment.status.value,
        order_completed_at=order.completed_at,
    )
