"""The details of the events invoicing puts on the EventBridge bus (source `saypro.invoicing`).

Amounts travel as strings so that no consumer ever turns them into floats.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from invoicing.domain.order import Channel
from invoicing.domain.personal_data import MaskedText
from invoicing.domain.validation import ValidationIssue


class DetailType(StrEnum):
    INVOICE_ISSUED = "InvoiceIssued"
    INVOICE_VALIDATION_FAILED = "InvoiceValidationFailed"
    INVOICE_DELIVERY_FAILED = "InvoiceDeliveryFailed"
    INVOICE_DELIVERY_DUE = "InvoiceDeliveryDue"
    """Deliver this issued invoice (again): a bounce fell back, or the SLA sweep re-drives it.
    Its detail is the invoice's `InvoiceIssued` detail, so the dispatcher treats both alike."""
    VENDOR_INVOICES_DUE = "VendorInvoicesDue"
    """Issue the vendor invoices of this customer invoice (again): the SLA sweep re-drives a stuck one."""
    VENDOR_INVOICE_FAILED = "VendorInvoiceFailed"
    INVOICE_SENT = "InvoiceSent"
    INVOICE_DELIVERED = "InvoiceDelivered"
    INVOICE_LISTED = "InvoiceListed"
    """The customer's preferred channel is the account: the invoice is there (its first listing)."""
    INVOICE_OPENED = "InvoiceOpened"
    INVOICE_DOWNLOADED = "InvoiceDownloaded"
    INVOICE_COMPLAINED = "InvoiceComplaintReceived"
    """The recipient marked the invoice email as spam (SES complaint): its detail is
    `InvoiceDeliveryOutcome`."""
    CREDIT_NOTE_ISSUED = "CreditNoteIssued"
    """A credit note is stored and recorded; its detail has the `InvoiceIssued` shape (kind
    CREDIT_NOTE) and names the invoice it credits and the revised invoice issued with it, if any."""
    INVOICE_PAYMENT_RECORDED = "InvoicePaymentRecorded"
    """A payment event was matched with a customer invoice and applied: a payment (matched,
    partial or overpaid), a refund, a dispute or a failure; with the status before and after."""
    PAYMENT_UNMATCHED = "PaymentUnmatched"
    """A payment event could not be applied to any invoice: finance must look (every reason given)."""
    INVOICE_OVERDUE = "InvoiceOverdue"
    """A pay-later invoice is still owed something the day after its due date."""
    PAYMENT_REMINDER_DUE = "PaymentReminderDue"
    """Remind the customer of this invoice's balance (before, on or after the due date)."""
    PAYMENT_REMINDER_SENT = "PaymentReminderSent"
    RECONCILIATION_REPORT_READY = "ReconciliationReportReady"
    OPERATIONS_REPORT_READY = "OperationsReportReady"
    """A period's operations report is stored: its deviations and signed links, for operations
    and finance."""
    VENDOR_PAYOUT_RECORDED = "VendorPayoutRecorded"
    VENDOR_STATEMENT_ISSUED = "VendorStatementIssued"
    VENDOR_STATEMENT_SENT = "VendorStatementSent"
    INVOICE_RESEND_REQUESTED = "InvoiceResendRequested"
    """Customer service asked for an invoice to be sent again (once per request id)."""
    INVOICE_RESENT = "InvoiceResent"
    INVOICE_FEEDBACK_GIVEN = "InvoiceFeedbackGiven"
    INQUIRY_OPENED = "InquiryOpened"
    INQUIRY_RESOLVED = "InquiryResolved"
    """A vendor's monthly statement is stored: the dispatcher emails it to the vendor."""
    """The day's reconciliation report is stored: its figures and signed links, for finance."""
    INVOICE_CORRECTION_REJECTED = "InvoiceCorrectionRejected"
    """An invoiced order changed into one that does not validate: the invoice stands, nothing is
    credited, and these are the problems to fix."""


class _Detail(BaseModel):
    model_config = ConfigDict(frozen=True)


class InvoiceIssued(_Detail):
    """Everything the delivery step needs, without reading the order again."""

    invoice_number: str
    kind: str
    order_id: str
    customer_id: str
    """The order's customer (on a vendor invoice too)."""
    customer_name: str
    vendor_id: str | None = None
    """Set on vendor invoices: whose invoice this is."""
    currency: str
    grand_total: str
    tax_total: str
    payment_status: str
    preferred_channels: list[Channel]
    s3_bucket: str
    s3_key: str
    s3_version_id: str | None
    sha256: str
    """Of the PDF."""
    document_key: str
    """The invoice document (JSON) in the same bucket: what every consumer reads the invoice from."""
    document_version_id: str | None
    document_sha256: str
    issued_at: datetime
    order_completed_at: datetime | None
    replaces: str | None = None
    """On a revised invoice: the invoice it replaces."""
    credit_note_number: str | None = None
    """On a revised invoice: the credit note that cancels the invoice it replaces (they are
    delivered together, in one message)."""
    credits_invoice_number: str | None = None
    """On a credit note: the invoice it credits."""
    replaced_by: str | None = None
    """On a credit note: the revised invoice issued with it."""


class InvoiceValidationFailed(_Detail):
    order_id: str
    customer_id: str | None
    issues: list[ValidationIssue]
    """At most 50; the last one counts the rest by code when there were more (`MORE_ISSUES`)."""
    issue_count: int | None = None
    """Every problem found (None on events from before the count was kept)."""
    attempts: int
    failed_at: datetime


class InvoiceCorrectionRejected(_Detail):
    order_id: str
    invoice_number: str
    """The invoice that stands."""
    correction_id: str
    issues: list[ValidationIssue]
    issue_count: int
    discovered_at: datetime


class ChannelProblem(_Detail):
    channel: Channel
    reason: MaskedText
    """May quote the provider (a bounce's diagnostic): personal data masked, the SMTP codes kept."""


class InvoiceSent(_Detail):
    """A message carrying the invoice was accepted by the provider (SES or SNS)."""

    invoice_number: str
    kind: str
    order_id: str
    customer_id: str
    vendor_id: str | None = None
    channel: Channel
    provider_message_id: str
    sent_at: datetime
    seconds_since_completion: float | None = None
    settled_by: str = "dispatcher"
    """dispatcher, or `provider-notification` when SES's own event settled a send in doubt."""


class InvoiceListed(_Detail):
    """Delivered to the customer's account (the portal), their preferred channel: no message."""

    invoice_number: str
    kind: str
    order_id: str
    customer_id: str
    listed_at: datetime
    seconds_since_completion: float | None = None


class InvoiceDeliveryOutcome(_Detail):
    """InvoiceDelivered (the recipient's mail server accepted it), InvoiceOpened (first open)."""

    invoice_number: str
    channel: Channel
    provider_message_id: str
    occurred_at: datetime


class InvoiceDownloaded(_Detail):
    invoice_number: str
    party_id: str
    """The customer or vendor whose signed link was used."""
    downloaded_at: datetime


class InvoiceDeliveryFailed(_Detail):
    """A channel failed for good (e.g. the email bounced): customer service should fix the contact.

    `undeliverable` is True when no channel is left and the customer must be reached by hand; False
    when the next channel is being tried.
    """

    invoice_number: str
    order_id: str
    customer_id: str
    vendor_id: str | None = None
    problems: list[ChannelProblem]
    failed_at: datetime
    undeliverable: bool = True


class PaymentFinding(_Detail):
    code: str
    message: str


class InvoicePaymentRecorded(_Detail):
    """Amounts are plain decimal strings in the currency's minor units."""

    event_id: str
    kind: str
    """payment.succeeded, payment.partial, payment.refunded, payment.disputed, payment.failed."""
    outcome: str
    """matched, partial or overpaid."""
    invoice_number: str
    order_id: str
    customer_id: str | None
    currency: str
    amount: str
    matched_by: str
    amount_received: str
    amount_refunded: str
    balance_due: str
    payment_state_before: str
    payment_state: str
    findings: list[PaymentFinding] = []
    """Flags for finance (an overpayment, a possible duplicate): applied all the same."""
    occurred_at: datetime
    recorded_at: datetime


class PaymentUnmatched(_Detail):
    """Everything the event said, and every reason it was not applied."""

    event_id: str
    kind: str
    amount: str
    currency: str
    invoice_reference: str | None
    transaction_reference: str | None
    order_id: str | None
    customer_id: str | None
    invoice_number: str | None
    """The invoice it named, when one was found but the event did not fit it."""
    reasons: list[PaymentFinding]
    occurred_at: datetime
    recorded_at: datetime
    door: str
    """webhook or eventbridge."""


class InvoiceOverdue(_Detail):
    invoice_number: str
    order_id: str
    customer_id: str | None
    currency: str
    balance_due: str
    due_date: str
    overdue_since: str


class PaymentReminderDue(_Detail):
    invoice_number: str
    stage: str
    """before, on or after (the due date)."""
    due_date: str


class PaymentReminderSent(_Detail):
    invoice_number: str
    order_id: str
    customer_id: str | None
    stage: str
    channel: Channel
    provider_message_id: str | None
    """None when the reminder is only listed in the customer's account (portal)."""
    balance_due: str
    sent_at: datetime


class ReconciliationReportReady(_Detail):
    report_id: str
    day: str
    findings: int
    counts: dict[str, int]
    """Findings per section (invoice_without_payment, payment_without_invoice, ...)."""
    payments_recorded: int
    outstanding: dict[str, str]
    """Currency -> the open balance, all ageing buckets."""
    findings_url: str
    ageing_url: str
    generated_at: datetime


class VendorPayoutRecorded(_Detail):
    payout_id: str
    vendor_id: str
    currency: str
    amount: str
    paid_at: datetime
    reference: str | None
    recorded_at: datetime


class VendorStatementIssued(_Detail):
    statement_id: str
    vendor_id: str
    currency: str
    period_start: str
    period_end: str
    opening_balance: str
    closing_balance: str
    s3_key: str
    sha256: str
    issued_at: datetime


class VendorStatementSent(_Detail):
    statement_id: str
    vendor_id: str
    provider_message_id: str
    sent_at: datetime


class InvoiceResendRequested(_Detail):
    """The address, when one was given, stays on the request's record (encrypted), off the bus."""

    invoice_number: str
    request_id: str
    requested_by: str
    requested_at: datetime


class InvoiceResent(_Detail):
    invoice_number: str
    request_id: str
    requested_by: str
    channel: Channel
    provider_message_id: str
    sent_at: datetime


class InquiryChanged(_Detail):
    """InquiryOpened and InquiryResolved: what customer service and the reports count."""

    inquiry_id: str
    invoice_number: str
    order_id: str
    category: str
    status: str
    tier: int
    opened_by_role: str
    opened_at: datetime
    resolution: str | None = None
    seconds_to_resolve: float | None = None


class InvoiceFeedbackGiven(_Detail):
    """The one-click answer in the invoice email: was it clear and correct? Once per invoice."""

    invoice_number: str
    order_id: str
    answer: str
    """yes or no."""
    answered_at: datetime


class OperationsReportReady(_Detail):
    report_id: str
    period: str
    """week, month, quarter or custom."""
    start: str
    end: str
    title: str
    invoices_issued: int
    deviation_count: int
    deviations: list[str]
    """Each as it reads: "Accuracy 97.50% (target >= 98%)"."""
    pdf_url: str
    figures_url: str
    daily_url: str
    generated_at: datetime
