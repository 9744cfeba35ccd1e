"""Get an issued invoice to the people who must have it, exactly once per channel and recipient.

Everything a message says comes from the invoice document (read from S3 and checked against the
SHA-256 it was issued with), never from the order; only the recipient is looked up at send time,
so a contact that customer service corrected is the one used.

Customer invoices follow the customer's channel preference (`domain/delivery.py`); a channel that
cannot be used, or that the provider refuses for good, is passed over for the next one, and the
reason kept. With no channel left the invoice is recorded undeliverable and `InvoiceDeliveryFailed`
is announced once for customer service. Vendor invoices go to the vendor's registered email and
are always in the vendor's account; a vendor's correction is one email too (the revised vendor
invoice with its vendor credit note, or the credit note alone).

Corrections reach the customer as one message: a revised invoice (`replaces` set) is sent with
the credit note that cancels the invoice it replaces, both PDFs attached and checked, and why; a
credit note with no revised invoice (a cancellation or refund) is sent on its own. A credit note
issued with a revised invoice is never sent by itself. Either is claimed, sent, tracked and fallen
back exactly as an invoice, under the number announced (the revised invoice's, or the credit note's).

Exactly once: the message is composed first, then the send is claimed, made, and marked SENT.
A throttled send (the provider did not take it) releases the claim and the event is retried; an
error that leaves it unknown whether the provider took the message keeps the claim, so a retry
never sends a second copy (see `adapters/delivery_log.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from enum import StrEnum
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.delivery_log import Claim, DeliveryLog, delivery_tag
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceRecord
from invoicing.adapters.message_senders import (
    PermanentSendError,
    SesEmailSender,
    SnsSmsSender,
    TransientSendError,
)
from invoicing.domain.contact import deliverable_address, email_problem, phone_problem
from invoicing.domain.credit_note import CreditNoteDocument
from invoicing.domain.delivery import PassedOver, choose_channel, current_contact
from invoicing.domain.documents import Document, parse_document
from invoicing.domain.events import (
    ChannelProblem,
    InvoiceDeliveryFailed,
    InvoiceIssued,
    InvoiceListed,
    InvoiceSent,
)
from invoicing.domain.invoice import InvoiceDocument, InvoiceStatus
from invoicing.domain.order import Channel
from invoicing.domain.ses_notifications import DELIVERY_TAG, INVOICE_TAG
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
from invoicing.domain.vendor_invoice import VendorInvoiceDocument
from invoicing.domain.vendors import Vendor
from invoicing.messages.compose import (
    check_correction,
    check_vendor_correction,
    compose_corrected_invoice_email,
    compose_corrected_invoice_sms,
    compose_credit_note_email,
    compose_credit_note_sms,
    compose_invoice_email,
    compose_invoice_sms,
    compose_vendor_correction_email,
    compose_vendor_invoice_email,
)
from invoicing.observability import logger, mask_email

LinkBuilder = Callable[[str, str], str]
"""(invoice number, party id) -> durable download URL."""


class DispatchOutcome(StrEnum):
    SENT = "SENT"
    ALREADY_SENT = "ALREADY_SENT"
    IN_DOUBT = "IN_DOUBT"
    RETRY_LATER = "RETRY_LATER"
    LISTED = "LISTED"
    UNDELIVERABLE = "UNDELIVERABLE"
    WITH_REVISED_INVOICE = "WITH_REVISED_INVOICE"
    """A credit note issued with a revised invoice: it is sent with that invoice, not on its own."""


class CorrectionNotReady(LookupError):
    """The credit note a revised invoice travels with is not issued yet (a run completing the pair
    died between them): raised, so the event is retried; the sweep re-drives it besides."""


@dataclass(frozen=True)
class _Composer:
    """The message of one announcement, for each channel (what it says is fixed by the documents)."""

    email: Callable[[str], EmailMessage]
    """recipient -> the email."""
    sms: Callable[[], str]


class DispatchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str
    outcome: DispatchOutcome
    channel: Channel | None = None
    message_id: str | None = None
    passed_over: list[PassedOver] = []
    seconds_since_completion: float | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InvoiceDispatcher:
    def __init__(
        self,
        *,
        deliveries: DeliveryLog,
        documents: DocumentStore,
        email: SesEmailSender,
        sms: SnsSmsSender,
        load_order: Callable[[str], Mapping[str, Any] | None],
        load_vendor: Callable[[str], Vendor | None],
        load_invoice: Callable[[str], InvoiceRecord | None],
        link_for: LinkBuilder,
        sender_address: str,
        clock: Callable[[], datetime] = _utc_now,
        feedback_for: LinkBuilder | None = None,
    ) -> None:
        self._deliveries = deliveries
        self._documents = documents
        self._email = email
        self._sms = sms
        self._load_order = load_order
        self._load_vendor = load_vendor
        self._load_invoice = load_invoice
        self._link_for = link_for
        self._sender = sender_address
        self._clock = clock
        self._feedback_for = feedback_for
        """(invoice number, party) -> the one-click feedback link of an invoice email."""

    def dispatch(self, issued: InvoiceIssued) -> DispatchResult:
        if issued.replaced_by is not None:
            return self._with_revised(issued)
        # Both files must be exactly the ones issued (DocumentIntegrityError otherwise: never sent).
        pdf = self._documents.get_verified(issued.s3_key, issued.s3_version_id, issued.sha256)
        document = parse_document(
            self._documents.get_verified(
                issued.document_key, issued.document_version_id, issued.document_sha256
            )
        )
        if isinstance(document, CreditNoteDocument | VendorCreditNoteDocument) and document.replaced_by:
            return self._with_revised(issued)  # announced before announcements named it
        if isinstance(document, VendorInvoiceDocument | VendorCreditNoteDocument):
            return self._dispatch_vendor(issued, *self._vendor_composer(issued, document, pdf))
        if isinstance(document, CreditNoteDocument):
            return self._dispatch_customer(
                issued, document, self._credit_note_composer(issued, document, pdf)
            )
        if document.replaces is not None:
            return self._dispatch_customer(issued, document, self._corrected_composer(issued, document, pdf))
        return self._dispatch_customer(issued, document, self._invoice_composer(issued, document, pdf))

    # --- what is sent ----------------------------------------------------------------------------

    def _invoice_composer(self, issued: InvoiceIssued, document: InvoiceDocument, pdf: bytes) -> _Composer:
        link = self._link_for(issued.invoice_number, issued.customer_id)
        feedback = (
            self._feedback_for(issued.invoice_number, issued.customer_id) if self._feedback_for else None
        )
        return _Composer(
            email=lambda recipient: compose_invoice_email(
                document,
                pdf,
                sender=self._sender,
                recipient=recipient,
                download_url=link,
                feedback_url=feedback,
            ),
            sms=lambda: compose_invoice_sms(document, link),
        )

    def _corrected_composer(self, issued: InvoiceIssued, revised: InvoiceDocument, pdf: bytes) -> _Composer:
        credit_note, credit_note_pdf = self._credit_note_with(issued, revised)
        link = self._link_for(issued.invoice_number, issued.customer_id)
        credit_note_link = self._link_for(credit_note.invoice_number, issued.customer_id)
        return _Composer(
            email=lambda recipient: compose_corrected_invoice_email(
                revised,
                pdf,
                credit_note,
                credit_note_pdf,
                sender=self._sender,
                recipient=recipient,
                download_url=link,
                credit_note_url=credit_note_link,
            ),
            sms=lambda: compose_corrected_invoice_sms(revised, link),
        )

    def _credit_note_composer(
        self, issued: InvoiceIssued, credit_note: CreditNoteDocument, pdf: bytes
    ) -> _Composer:
        link = self._link_for(issued.invoice_number, issued.customer_id)
        return _Composer(
            email=lambda recipient: compose_credit_note_email(
                credit_note, pdf, sender=self._sender, recipient=recipient, download_url=link
            ),
            sms=lambda: compose_credit_note_sms(credit_note, link),
        )

    def _credit_note_with(
        self, issued: InvoiceIssued, revised: InvoiceDocument
    ) -> tuple[CreditNoteDocument, bytes]:
        """The credit note a revised invoice is sent with, and its PDF, both checked as issued."""
        number = issued.credit_note_number
        if number is None:  # announced before announcements named it: the original's last credit note
            original = self._load_invoice(revised.replaces or "")
            if original is None or not original.credit_notes:
                raise CorrectionNotReady(
                    f"{revised.replaces} has no credit note to send with {revised.invoice_number}"
                )
            number = original.credit_notes[-1]
        credit_note, pdf = self._issued_document(number, revised.invoice_number)
        if not isinstance(credit_note, CreditNoteDocument):
            raise TypeError(f"{number} is not a credit note")
        check_correction(revised, credit_note)  # the two halves of one correction, or nothing is sent
        return credit_note, pdf

    def _with_revised(self, issued: InvoiceIssued) -> DispatchResult:
        logger.info(
            "credit note travels with its revised invoice; not sent on its own",
            invoice_number=issued.invoice_number,
            replaced_by=issued.replaced_by,
        )
        return DispatchResult(
            invoice_number=issued.invoice_number, outcome=DispatchOutcome.WITH_REVISED_INVOICE
        )

    # --- customers -----------------------------------------------------------------------------

    def _dispatch_customer(
        self, issued: InvoiceIssued, document: InvoiceDocument | CreditNoteDocument, compose: _Composer
    ) -> DispatchResult:
        customer = current_contact(self._load_order(issued.order_id), document.customer)
        # Recipients as they are sent to (an IDN domain in ASCII), and only ones that could be.
        email = deliverable_address(customer.email) if customer.email else None
        phone = customer.phone if not phone_problem(customer.phone) else None
        suppressed = self._deliveries.suppressed([address for address in (email, phone) if address])
        excluded = self._deliveries.failed_channels(
            issued.invoice_number, {Channel.EMAIL: email, Channel.SMS: phone}
        )
        problems: list[PassedOver] = []
        while True:
            choice = choose_channel(customer, exclude=excluded, suppressed=suppressed)
            problems += [p for p in choice.passed_over if p.channel not in {q.channel for q in problems}]
            if choice.channel is None:
                return self._undeliverable(issued, problems)
            if problems:
                self._deliveries.record_passed_over(
                    issued.invoice_number, [f"{p.channel.value}: {p.reason}" for p in problems]
                )
            if choice.channel is Channel.PORTAL:
                now = self._clock()
                completed = issued.order_completed_at
                listed = InvoiceListed(
                    invoice_number=issued.invoice_number,
                    kind=issued.kind,
                    order_id=issued.order_id,
                    customer_id=issued.customer_id,
                    listed_at=now,
                    seconds_since_completion=(now - completed).total_seconds() if completed else None,
                )
                self._deliveries.record_listed(issued.invoice_number, now, listed)
                return DispatchResult(
                    invoice_number=issued.invoice_number,
                    outcome=DispatchOutcome.LISTED,
                    channel=Channel.PORTAL,
                    passed_over=problems,
                )
            recipient = choice.recipient or ""
            if choice.channel is Channel.EMAIL:
                try:
                    message = compose.email(recipient)
                except (ValueError, UnicodeError) as unwritable:
                    # A safety net: names and addresses are made header-safe before this, but an
                    # email that cannot be written passes the channel over; it never strands the invoice.
                    excluded = {*excluded, Channel.EMAIL}
                    problems.append(
                        PassedOver(
                            channel=Channel.EMAIL, reason=f"the email could not be written: {unwritable}"
                        )
                    )
                    continue
                result = self._send(
                    issued,
                    Channel.EMAIL,
                    recipient,
                    partial(self._email.send, message, recipient, _tags(issued, recipient)),
                )
            else:
                text = compose.sms()
                result = self._send(issued, Channel.SMS, recipient, partial(self._sms.send, recipient, text))
            if isinstance(result, DispatchResult):
                return result.model_copy(update={"passed_over": problems})
            excluded = {*excluded, choice.channel}
            problems.append(PassedOver(channel=choice.channel, reason=f"refused by the provider: {result}"))
            self._deliveries.record_passed_over(
                issued.invoice_number, [f"{p.channel.value}: {p.reason}" for p in problems]
            )

    # --- vendors -------------------------------------------------------------------------------

    def _vendor_composer(
        self, issued: InvoiceIssued, document: VendorInvoiceDocument | VendorCreditNoteDocument, pdf: bytes
    ) -> tuple[Vendor, Callable[[str], EmailMessage]]:
        """The vendor as at issue, and its email: an invoice, a corrected invoice (with its credit
        note), or a credit note on its own."""
        link = self._link_for(issued.invoice_number, _vendor_of(document).vendor_id)
        if isinstance(document, VendorCreditNoteDocument):
            return document.vendor, lambda recipient: compose_vendor_correction_email(
                document,
                pdf,
                None,
                sender=self._sender,
                recipient=recipient,
                download_url=link,
                credit_note_url=link,
            )
        vendor = document.statement.vendor
        if document.replaces is None:
            return vendor, lambda recipient: compose_vendor_invoice_email(
                document, pdf, sender=self._sender, recipient=recipient, download_url=link
            )
        credit_note, credit_note_pdf = self._vendor_credit_note_with(issued, document)
        credit_note_link = self._link_for(credit_note.invoice_number, vendor.vendor_id)
        return vendor, lambda recipient: compose_vendor_correction_email(
            credit_note,
            credit_note_pdf,
            (document, pdf),
            sender=self._sender,
            recipient=recipient,
            download_url=link,
            credit_note_url=credit_note_link,
        )

    def _vendor_credit_note_with(
        self, issued: InvoiceIssued, revised: VendorInvoiceDocument
    ) -> tuple[VendorCreditNoteDocument, bytes]:
        """The vendor credit note a revised vendor invoice is sent with, checked as issued."""
        number = issued.credit_note_number
        if number is None:
            raise CorrectionNotReady(f"{revised.invoice_number} names no credit note")
        credit_note, pdf = self._issued_document(number, revised.invoice_number)
        if not isinstance(credit_note, VendorCreditNoteDocument):
            raise TypeError(f"{number} is not a vendor credit note")
        check_vendor_correction(revised, credit_note)
        return credit_note, pdf

    def _issued_document(self, number: str, wanted_by: str) -> tuple[Document, bytes]:
        record = self._load_invoice(number)
        if (
            record is None
            or record.status is not InvoiceStatus.ISSUED
            or not record.s3_key
            or not record.sha256
            or not record.document_key
        ):
            raise CorrectionNotReady(f"credit note {number} of {wanted_by} is not issued yet")
        pdf = self._documents.get_verified(record.s3_key, record.s3_version_id, record.sha256)
        document = parse_document(
            self._documents.get_verified(
                record.document_key, record.document_version_id, record.document_sha256
            )
        )
        return document, pdf

    def _dispatch_vendor(
        self, issued: InvoiceIssued, at_issue: Vendor, compose: Callable[[str], EmailMessage]
    ) -> DispatchResult:
        # The vendor's current address (master data may have been corrected), else the one at issue.
        vendor = self._load_vendor(at_issue.vendor_id) or at_issue
        recipient = deliverable_address(vendor.email) if not email_problem(vendor.email) else None
        if recipient is None:
            # An address no provider could send to: listed in the vendor's account, people told.
            self._deliveries.record_listed(issued.invoice_number, self._clock())
            reason = email_problem(vendor.email) or "the email address is not valid"
            return self._undeliverable(issued, [PassedOver(channel=Channel.EMAIL, reason=reason)])
        message = compose(recipient)
        result = self._send(
            issued,
            Channel.EMAIL,
            recipient,
            partial(self._email.send, message, recipient, _tags(issued, recipient)),
        )
        if isinstance(result, DispatchResult):
            return result
        # Refused for good: the invoice stays in the vendor's account; customer service is told.
        self._deliveries.record_listed(issued.invoice_number, self._clock())
        return self._undeliverable(
            issued, [PassedOver(channel=Channel.EMAIL, reason=f"refused by the provider: {result}")]
        )

    # --- sending -------------------------------------------------------------------------------

    def _send(
        self, issued: InvoiceIssued, channel: Channel, recipient: str, send: Callable[[], str]
    ) -> DispatchResult | str:
        """A DispatchResult when this channel is settled, or the provider's permanent refusal."""
        number = issued.invoice_number
        claim = self._deliveries.claim_send(number, channel, recipient, self._clock())
        masked = mask_email(recipient) if channel is Channel.EMAIL else f"***{recipient[-3:]}"
        if claim is Claim.ALREADY_SENT:
            logger.info("already sent", invoice_number=number, channel=channel.value, recipient=masked)
            return DispatchResult(
                invoice_number=number, outcome=DispatchOutcome.ALREADY_SENT, channel=channel
            )
        if claim is Claim.IN_DOUBT:
            logger.warning(
                "an earlier send may have reached the provider; not sending again",
                invoice_number=number,
                channel=channel.value,
                recipient=masked,
            )
            return DispatchResult(invoice_number=number, outcome=DispatchOutcome.IN_DOUBT, channel=channel)
        if claim is Claim.RETRY_LATER:
            logger.info("soft-bounce retry not due yet", invoice_number=number, channel=channel.value)
            return DispatchResult(invoice_number=number, outcome=DispatchOutcome.RETRY_LATER, channel=channel)
        if claim is Claim.FAILED_BEFORE:
            return "failed on an earlier attempt"
        try:
            message_id = send()
        except PermanentSendError as refusal:
            self._deliveries.mark_failed(number, channel, recipient, reason=str(refusal), now=self._clock())
            logger.warning("send refused", invoice_number=number, channel=channel.value, code=refusal.code)
            return str(refusal)
        except TransientSendError:
            self._deliveries.release_claim(number, channel, recipient)
            raise
        now = self._clock()
        elapsed = (now - issued.order_completed_at).total_seconds() if issued.order_completed_at else None
        self._deliveries.mark_sent(
            number,
            channel,
            recipient,
            InvoiceSent(
                invoice_number=number,
                kind=issued.kind,
                order_id=issued.order_id,
                customer_id=issued.customer_id,
                vendor_id=issued.vendor_id,
                channel=channel,
                provider_message_id=message_id,
                sent_at=now,
                seconds_since_completion=elapsed,
            ),
        )
        logger.info("invoice sent", invoice_number=number, channel=channel.value, recipient=masked)
        return DispatchResult(
            invoice_number=number,
            outcome=DispatchOutcome.SENT,
            channel=channel,
            message_id=message_id,
            seconds_since_completion=elapsed,
        )

    def _undeliverable(self, issued: InvoiceIssued, problems: list[PassedOver]) -> DispatchResult:
        now = self._clock()
        reasons = [f"{p.channel.value}: {p.reason}" for p in problems]
        # Recorded and announced (InvoiceDeliveryFailed, for customer service) in one transaction, once.
        self._deliveries.record_undeliverable(
            InvoiceDeliveryFailed(
                invoice_number=issued.invoice_number,
                order_id=issued.order_id,
                customer_id=issued.customer_id,
                vendor_id=issued.vendor_id,
                problems=[ChannelProblem(channel=p.channel, reason=p.reason) for p in problems],
                failed_at=now,
            ),
            reasons,
        )
        logger.warning("invoice undeliverable", invoice_number=issued.invoice_number, reasons=reasons)
        return DispatchResult(
            invoice_number=issued.invoice_number, outcome=DispatchOutcome.UNDELIVERABLE, passed_over=problems
        )


def _vendor_of(document: VendorInvoiceDocument | VendorCreditNoteDocument) -> Vendor:
    return document.vendor if isinstance(document, VendorCreditNoteDocument) else document.statement.vendor


def _tags(issued: InvoiceIssued, recipient: str) -> dict[str, str]:
    """The delivery claim, as SES message tags: SES echoes them in every event of the message, so a
    send whose bookkeeping was lost is settled by the webhook (`delivery_notifications.py`)."""
    return {
        INVOICE_TAG: issued.invoice_number,
        DELIVERY_TAG: delivery_tag(Channel.EMAIL, recipient),
    }
