"""Invoice dispatcher: InvoiceIssued, InvoiceDeliveryDue or CreditNoteIssued (EventBridge) -> email,
SMS or the portal, exactly once. All three carry the InvoiceIssued detail: InvoiceDeliveryDue is a
bounce's fallback or the SLA sweep's re-drive; CreditNoteIssued reaches here only for a credit note
on its own (a cancellation or refund), as a revised invoice is sent with its credit note.
PaymentReminderDue (the receivables tick) sends one payment reminder of an unpaid invoice, once
per stage, by the same channels (services/payment_reminders.py); VendorStatementIssued emails a
vendor its monthly statement, once (services/statement_delivery.py); InvoiceResendRequested emails
an invoice again for customer service, once per request (services/resend_delivery.py).

Invoked asynchronously: a raised error is retried by Lambda, then the event goes to the function's
on-failure queue (alarmed); the invoice stays in the sweep index until sent, so the SLA sweep
re-drives it. The dispatch itself is safe to repeat (see services/invoice_delivery.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.delivery_log import DeliveryLog
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.message_senders import SesEmailSender, SnsSmsSender
from invoicing.adapters.party_records import OrderItems, VendorRecords
from invoicing.adapters.reminder_log import ReminderLog
from invoicing.adapters.report_store import ReportStore
from invoicing.adapters.resend_log import ResendLog
from invoicing.domain.events import (
    DetailType,
    InvoiceIssued,
    InvoiceResendRequested,
    PaymentReminderDue,
    VendorStatementIssued,
)
from invoicing.domain.sla import SLA
from invoicing.observability import logger, metrics, tracer
from invoicing.services.download_links import DownloadLinks
from invoicing.services.invoice_delivery import DispatchOutcome, InvoiceDispatcher
from invoicing.services.payment_reminders import ReminderSender
from invoicing.services.resend_delivery import ResendSender
from invoicing.services.statement_delivery import StatementSender
from invoicing.settings import dispatcher_settings

settings = dispatcher_settings()
links = DownloadLinks(
    LinkKeySource(settings.link_keys_secret_id),
    settings.download_base_url,
    timedelta(days=settings.link_lifetime_days),
)
deliveries = DeliveryLog(settings.invoices_table_name)
documents = DocumentStore(settings.invoice_bucket_name)
email, sms = SesEmailSender(settings.ses_configuration_set), SnsSmsSender()
load_order = OrderItems(settings.orders_table_name).get
# A revised invoice's credit note (where it is stored), to send the two together.
load_invoice = InvoiceLedger(settings.invoices_table_name).get_invoice
load_vendor = VendorRecords(settings.vendors_table_name).get
dispatcher = InvoiceDispatcher(
    deliveries=deliveries,
    documents=documents,
    email=email,
    sms=sms,
    load_order=load_order,
    load_vendor=load_vendor,
    load_invoice=load_invoice,
    link_for=links.link_for,
    sender_address=settings.sender_address,
    feedback_for=links.feedback_link,
)
reminders = ReminderSender(
    reminders=ReminderLog(settings.invoices_table_name),
    deliveries=deliveries,
    documents=documents,
    email=email,
    sms=sms,
    load_order=load_order,
    load_invoice=load_invoice,
    link_for=links.link_for,
    sender_address=settings.sender_address,
)

resend_sender = ResendSender(
    resends=ResendLog(settings.invoices_table_name),
    documents=documents,
    email=email,
    load_order=load_order,
    load_invoice=load_invoice,
    link_for=links.link_for,
    sender_address=settings.sender_address,
)
statement_sender = StatementSender(
    notices=ReminderLog(settings.invoices_table_name, partition="STATEMENT#", sort="SENT#"),
    reports=ReportStore(settings.invoice_bucket_name),
    email=email,
    load_vendor=load_vendor,
    seller=settings.seller,
    sender_address=settings.sender_address,
    statement_link=links.statement_link,
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    envelope = parse(event=event, model=EventBridgeModel)
    if envelope.detail_type == DetailType.PAYMENT_REMINDER_DUE:
        reminder = reminders.remind(PaymentReminderDue.model_validate(envelope.detail))
        metrics.add_metric(
            name=f"Reminder{reminder.outcome.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1
        )
        return reminder.model_dump(mode="json")
    if envelope.detail_type == DetailType.INVOICE_RESEND_REQUESTED:
        resent = resend_sender.send(InvoiceResendRequested.model_validate(envelope.detail))
        metrics.add_metric(
            name=f"Resend{resent.outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1
        )
        return resent.model_dump(mode="json")
    if envelope.detail_type == DetailType.VENDOR_STATEMENT_ISSUED:
        delivered = statement_sender.send(VendorStatementIssued.model_validate(envelope.detail))
        metrics.add_metric(
            name=f"Statement{delivered.outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1
        )
        return delivered.model_dump(mode="json")
    return dispatch(InvoiceIssued.model_validate(envelope.detail))


def dispatch(issued: InvoiceIssued) -> dict[str, Any]:
    logger.append_keys(invoice_number=issued.invoice_number, order_id=issued.order_id)
    result = dispatcher.dispatch(issued)
    metrics.add_metric(
        name=f"Dispatch{result.outcome.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    if result.outcome is DispatchOutcome.SENT and result.seconds_since_completion is not None:
        metrics.add_metric(
            name="CompletionToSendSeconds", unit=MetricUnit.Seconds, value=result.seconds_since_completion
        )
        # 1 or 0 per send: its Average over a day is the rolling share sent within 24 hours.
        within = result.seconds_since_completion <= SLA.total_seconds()
        metrics.add_metric(name="SentWithinTarget", unit=MetricUnit.Count, value=1 if within else 0)
    if result.passed_over:
        metrics.add_metric(name="ChannelFallbacks", unit=MetricUnit.Count, value=len(result.passed_over))
    return result.model_dump(mode="json")
