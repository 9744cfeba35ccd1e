"""Remind a customer of an invoice still owed: one stage (before, on or after the due date), once.

The receivables tick (services/receivables.py) asks for a stage with `PaymentReminderDue`; the
dispatcher function sends it here, by the customer's channel as the invoice went (email with the
PDF, SMS with the link, or only listed in the account), passing over a channel the provider
refuses for good. What the reminder says is the invoice document's, with the invoice's live
balance; an invoice paid or credited meanwhile is not reminded. Each stage is claimed before it
is sent (adapters/reminder_log.py), so a redelivered request never sends a second reminder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.delivery_log import DeliveryLog
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceRecord
from invoicing.adapters.message_senders import (
    PermanentSendError,
    SesEmailSender,
    SnsSmsSender,
    TransientSendError,
)
from invoicing.adapters.reminder_log import ReminderLog
from invoicing.domain.contact import deliverable_address, phone_problem
from invoicing.domain.delivery import choose_channel, current_contact
from invoicing.domain.documents import parse_document
from invoicing.domain.events import PaymentReminderDue, PaymentReminderSent
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.money import plain_amount
from invoicing.domain.order import Channel
from invoicing.messages.compose import compose_payment_reminder_email, compose_payment_reminder_sms
from invoicing.observability import logger


class ReminderOutcome(StrEnum):
    SENT = "SENT"
    LISTED = "LISTED"
    ALREADY_SENT = "ALREADY_SENT"
    """This stage was sent (or claimed and in doubt) before: not sent again."""
    NOT_OWED = "NOT_OWED"
    """Paid, credited or replaced since the reminder was asked for: nothing is sent."""
    UNDELIVERABLE = "UNDELIVERABLE"


class ReminderResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_number: str
    stage: str
    outcome: ReminderOutcome
    channel: Channel | None = None
    message_id: str | None = None


class ReminderSender:
    def __init__(
        self,
        *,
        reminders: ReminderLog,
        deliveries: DeliveryLog,
        documents: DocumentStore,
        email: SesEmailSender,
        sms: SnsSmsSender,
        load_order: Callable[[str], Mapping[str, Any] | None],
        load_invoice: Callable[[str], InvoiceRecord | None],
        link_for: Callable[[str, str], str],
        sender_address: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._reminders = reminders
        self._deliveries = deliveries
        self._documents = documents
        self._email = email
        self._sms = sms
        self._load_order = load_order
        self._load_invoice = load_invoice
        self._link_for = link_for
        self._sender = sender_address
        self._clock = clock

    def remind(self, due: PaymentReminderDue) -> ReminderResult:
        number, stage = due.invoice_number, due.stage
        record = self._load_invoice(number)
        now = self._clock()
        if record is None or not record.is_owed(now.date()):
            logger.info(
                "reminder not sent: the invoice is not owed anything", invoice_number=number, stage=stage
            )
            return ReminderResult(invoice_number=number, stage=stage, outcome=ReminderOutcome.NOT_OWED)
        document, pdf = self._issued(record)
        balance = record.receivable().balance_due
        customer = current_contact(self._load_order(record.order_id), document.customer)
        email = deliverable_address(customer.email) if customer.email else None
        phone = customer.phone if not phone_problem(customer.phone) else None
        suppressed = self._deliveries.suppressed([address for address in (email, phone) if address])
        excluded: set[Channel] = set()
        while True:
            choice = choose_channel(customer, exclude=excluded, suppressed=suppressed)
            if choice.channel is None:
                logger.warning("reminder undeliverable: no channel left", invoice_number=number, stage=stage)
                return ReminderResult(
                    invoice_number=number, stage=stage, outcome=ReminderOutcome.UNDELIVERABLE
                )
            if not self._reminders.claim(number, stage, choice.channel.value, now):
                return ReminderResult(
                    invoice_number=number, stage=stage, outcome=ReminderOutcome.ALREADY_SENT
                )
            link = self._link_for(number, record.customer_id or "")
            try:
                message_id = self._send(
                    choice.channel, choice.recipient or "", document, pdf, stage, record, link
                )
            except PermanentSendError as refused:
                self._reminders.mark_failed(number, stage, f"{choice.channel.value}: {refused}", now)
                excluded.add(choice.channel)
                continue
            except TransientSendError:
                self._reminders.release(number, stage)
                raise
            self._reminders.mark_sent(
                PaymentReminderSent(
                    invoice_number=number,
                    order_id=record.order_id,
                    customer_id=record.customer_id,
                    stage=stage,
                    channel=choice.channel,
                    provider_message_id=message_id,
                    balance_due=plain_amount(balance, record.currency),
                    sent_at=self._clock(),
                )
            )
            outcome = ReminderOutcome.SENT if message_id else ReminderOutcome.LISTED
            logger.info("payment reminder", invoice_number=number, stage=stage, outcome=outcome.value)
            return ReminderResult(
                invoice_number=number,
                stage=stage,
                outcome=outcome,
                channel=choice.channel,
                message_id=message_id,
            )

    def _send(  # noqa: PLR0917 (the parts of one message)
        self,
        channel: Channel,
        recipient: str,
        document: InvoiceDocument,
        pdf: bytes,
        stage: str,
        record: InvoiceRecord,
        link: str,
    ) -> str | None:
        """The provider's message id; None for the account (it shows the balance, nothing is sent)."""
        receivable = record.receivable()
        if channel is Channel.PORTAL:
            return None
        if channel is Channel.EMAIL:
            message = compose_payment_reminder_email(
                document,
                pdf,
                stage=stage,
                balance_due=receivable.balance_due,
                received=receivable.kept,
                sender=self._sender,
                recipient=recipient,
                download_url=link,
            )
            tags = {"invoice": record.invoice_number.replace("#", "-"), "purpose": f"reminder-{stage}"}
            return self._email.send(message, recipient, tags)
        text = compose_payment_reminder_sms(
            document, stage=stage, balance_due=receivable.balance_due, download_url=link
        )
        return self._sms.send(recipient, text)

    def _issued(self, record: InvoiceRecord) -> tuple[InvoiceDocument, bytes]:
        in_force = record.pdf_in_force()  # what has been paid since, if anything
        if in_force is None or not record.document_key:
            raise LookupError(f"{record.invoice_number} is issued without its files")
        pdf = self._documents.get_verified(*in_force)
        document = parse_document(
            self._documents.get_verified(
                record.document_key, record.document_version_id, record.document_sha256
            )
        )
        if not isinstance(document, InvoiceDocument):
            raise TypeError(f"{record.invoice_number} is not a customer invoice")
        return document, pdf
