"""A resend customer service asked for: the invoice (or credit note) emailed again, once per
request, to the address given or to the one on file now. What it says and attaches is the
document's (the newest rendition's PDF for an invoice with payments since): never the order's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceRecord
from invoicing.adapters.message_senders import PermanentSendError, SesEmailSender, TransientSendError
from invoicing.adapters.resend_log import FAILED, REQUESTED, ResendLog
from invoicing.domain.contact import deliverable_address
from invoicing.domain.credit_note import CreditNoteDocument
from invoicing.domain.delivery import current_contact
from invoicing.domain.documents import parse_document
from invoicing.domain.events import InvoiceResendRequested, InvoiceResent
from invoicing.domain.invoice import InvoiceDocument, InvoiceStatus
from invoicing.domain.order import Channel
from invoicing.messages.compose import compose_credit_note_email, compose_invoice_email
from invoicing.observability import logger, mask_email


class ResendOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str
    request_id: str
    outcome: str
    """SENT, ALREADY_SENT, NO_ADDRESS or REFUSED."""
    message_id: str | None = None


class ResendSender:
    def __init__(
        self,
        *,
        resends: ResendLog,
        documents: DocumentStore,
        email: SesEmailSender,
        load_order: Callable[[str], Mapping[str, Any] | None],
        load_invoice: Callable[[str], InvoiceRecord | None],
        link_for: Callable[[str, str], str],
        sender_address: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._resends = resends
        self._documents = documents
        self._email = email
        self._load_order = load_order
        self._load_invoice = load_invoice
        self._link_for = link_for
        self._sender = sender_address
        self._clock = clock

    def send(self, requested: InvoiceResendRequested) -> ResendOutcome:
        number, request_id = requested.invoice_number, requested.request_id

        def answer(outcome: str, message_id: str | None = None) -> ResendOutcome:
            return ResendOutcome(
                invoice_number=number, request_id=request_id, outcome=outcome, message_id=message_id
            )

        resend = self._resends.get(number, request_id)
        if resend is None or resend.status not in (REQUESTED, FAILED):
            return answer("ALREADY_SENT")
        record = self._load_invoice(number)
        if record is None or record.status is not InvoiceStatus.ISSUED or not record.document_key:
            raise LookupError(f"{number} is not issued")
        document = parse_document(
            self._documents.get_verified(
                record.document_key, record.document_version_id, record.document_sha256
            )
        )
        if not isinstance(document, InvoiceDocument | CreditNoteDocument):
            raise TypeError(f"{number} is not a customer's document")
        on_file = current_contact(self._load_order(record.order_id), document.customer).email
        recipient = resend.recipient or (deliverable_address(on_file) if on_file else None)
        if not recipient:
            self._resends.mark_failed(number, request_id)
            logger.warning("resend: no email on file", invoice_number=number, request_id=request_id)
            return answer("NO_ADDRESS")
        now = self._clock()
        if not self._resends.take(number, request_id, Channel.EMAIL.value, recipient, now):
            return answer("ALREADY_SENT")
        pdf = self._pdf(record)
        link = self._link_for(number, record.customer_id or "")
        if isinstance(document, InvoiceDocument):
            message = compose_invoice_email(
                document, pdf, sender=self._sender, recipient=recipient, download_url=link
            )
        else:
            message = compose_credit_note_email(
                document, pdf, sender=self._sender, recipient=recipient, download_url=link
            )
        try:
            message_id = self._email.send(message, recipient, {"purpose": "resend"})
        except PermanentSendError as refused:
            self._resends.mark_failed(number, request_id)
            logger.warning("resend refused", invoice_number=number, code=refused.code)
            return answer("REFUSED")
        except TransientSendError:
            self._resends.release(number, request_id)
            raise
        self._resends.mark_sent(
            InvoiceResent(
                invoice_number=number,
                request_id=request_id,
                requested_by=resend.requested_by,
                channel=Channel.EMAIL,
                provider_message_id=message_id,
                sent_at=self._clock(),
            )
        )
        logger.info("invoice resent", invoice_number=number, request_id=request_id, to=mask_email(recipient))
        return answer("SENT", message_id)

    def _pdf(self, record: InvoiceRecord) -> bytes:
        in_force = record.pdf_in_force()
        if in_force is None:
            raise LookupError(f"{record.invoice_number} has no PDF")
        return self._documents.get_verified(*in_force)
