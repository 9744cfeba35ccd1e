"""The sample events in events/ are the documentation of our contracts: they must parse."""

import json
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from invoicing.domain.events import InvoiceDeliveryFailed, InvoiceIssued, InvoiceValidationFailed
from invoicing.domain.ses_notifications import DeliveryEvent, parse_ses_notification
from invoicing.domain.sns_messages import string_to_sign
from invoicing.domain.triggers import Trigger, classify_change

EVENTS = Path(__file__).parents[2] / "events"


def test_bus_samples_parse_into_the_published_detail_models() -> None:
    issued = json.loads((EVENTS / "eventbridge" / "invoice-issued.json").read_text())
    assert InvoiceIssued.model_validate(issued["detail"]).grand_total == "218.82"
    failed = json.loads((EVENTS / "eventbridge" / "invoice-validation-failed.json").read_text())
    assert InvoiceValidationFailed.model_validate(failed["detail"]).issues


def test_stream_samples_are_real_lambda_events_that_trigger_as_named() -> None:
    expected = {
        "insert-completed-order.json": Trigger.DUE,
        "modify-shipped-to-completed.json": Trigger.DUE,
        "modify-completed-to-completed.json": Trigger.RECHECK,
        "remove-order.json": Trigger.SKIP,
        "insert-malformed-item.json": Trigger.DUE,
    }
    for name, trigger in expected.items():
        event = DynamoDBStreamEvent(json.loads((EVENTS / "dynamodb-stream" / name).read_text()))
        record = next(iter(event.records))
        assert record.dynamodb is not None and record.event_name is not None
        assert record.event_source_arn.startswith("arn:aws:dynamodb:")  # type: ignore[union-attr]
        got = classify_change(record.event_name.name, record.dynamodb.old_image, record.dynamodb.new_image)
        assert got is trigger, name


def test_delivery_samples_parse_into_their_models() -> None:
    failed = json.loads((EVENTS / "eventbridge" / "invoice-delivery-failed.json").read_text())
    assert InvoiceDeliveryFailed.model_validate(failed["detail"]).undeliverable is False
    due = json.loads((EVENTS / "eventbridge" / "invoice-delivery-due.json").read_text())
    assert InvoiceIssued.model_validate(due["detail"]).invoice_number == "INV-2026-000001"


def test_sns_samples_are_signed_ses_events_as_the_webhook_receives_them() -> None:
    expected = {
        "ses-bounce-permanent.json": DeliveryEvent.PERMANENT_BOUNCE,
        "ses-bounce-transient.json": DeliveryEvent.TRANSIENT_BOUNCE,
        "ses-complaint.json": DeliveryEvent.COMPLAINT,
        "ses-delivery.json": DeliveryEvent.DELIVERED,
    }
    for name, event in expected.items():
        message = json.loads((EVENTS / "sns" / name).read_text())
        assert message["SignatureVersion"] == "2" and string_to_sign(message)
        assert parse_ses_notification(message["Message"]).event is event
    confirmation = json.loads((EVENTS / "sns" / "subscription-confirmation.json").read_text())
    assert string_to_sign(confirmation).startswith(b"Message\n")


def test_correction_samples_parse_and_the_credit_note_credits_the_sample_invoice() -> None:
    from invoicing.domain.credit_note import CreditNoteDocument
    from invoicing.domain.documents import parse_document
    from invoicing.domain.events import InvoiceCorrectionRejected

    invoice = parse_document((EVENTS / "documents" / "invoice-INV-2026-000001.json").read_bytes())
    note = parse_document((EVENTS / "documents" / "credit-note-CN-2026-000001.json").read_bytes())
    assert isinstance(note, CreditNoteDocument)
    assert (note.credits.invoice_number, note.replaced_by) == (invoice.invoice_number, "INV-2026-000002")
    assert note.totals.grand_total == note.credits.grand_total == invoice.totals.grand_total  # type: ignore[union-attr]
    bus = EVENTS / "eventbridge"
    credit = json.loads((bus / "credit-note-issued.json").read_text())
    assert credit["detail-type"] == "CreditNoteIssued"
    detail = InvoiceIssued.model_validate(credit["detail"])
    assert (detail.kind, detail.credits_invoice_number, detail.replaced_by) == (
        "CREDIT_NOTE",
        "INV-2026-000001",
        "INV-2026-000002",
    )
    revised = InvoiceIssued.model_validate(
        json.loads((bus / "invoice-issued-revised.json").read_text())["detail"]
    )
    assert (revised.replaces, revised.credit_note_number) == ("INV-2026-000001", "CN-2026-000001")
    rejected = json.loads((bus / "invoice-correction-rejected.json").read_text())
    assert InvoiceCorrectionRejected.model_validate(rejected["detail"]).issues


def test_the_vendor_credit_note_sample_credits_the_sample_vendor_invoice_in_full() -> None:
    from invoicing.domain.documents import parse_document
    from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
    from invoicing.domain.vendor_invoice import VendorInvoiceDocument

    vendor_invoice = parse_document(
        (EVENTS / "documents" / "vendor-invoice-VND-2026-000001.json").read_bytes()
    )
    note = parse_document((EVENTS / "documents" / "vendor-credit-note-VCN-2026-000001.json").read_bytes())
    assert isinstance(vendor_invoice, VendorInvoiceDocument) and isinstance(note, VendorCreditNoteDocument)
    assert (note.credits.invoice_number, note.customer_credit_note_number) == (
        "VND-2026-000001",
        "CN-2026-000001",
    )
    statement = vendor_invoice.statement
    assert (note.totals.gross_sales, note.totals.commission, note.totals.amount_owed) == (
        statement.gross_sales,
        statement.commission,
        statement.amount_owed,
    )
    event = json.loads((EVENTS / "eventbridge" / "credit-note-issued-vendor.json").read_text())
    detail = InvoiceIssued.model_validate(event["detail"])
    assert (event["detail-type"], detail.kind, detail.vendor_id) == (
        "CreditNoteIssued",
        "VENDOR_CREDIT_NOTE",
        "V-HOME",
    )
    assert (detail.credits_invoice_number, detail.replaced_by) == ("VND-2026-000001", "VND-2026-000004")


def test_payment_samples_parse_into_the_published_detail_models() -> None:
    from invoicing.domain.events import InvoiceOverdue, InvoicePaymentRecorded, PaymentUnmatched

    recorded = json.loads((EVENTS / "eventbridge" / "invoice-payment-recorded.json").read_text())
    assert InvoicePaymentRecorded.model_validate(recorded["detail"]).payment_state == "partially_paid"
    unmatched = json.loads((EVENTS / "eventbridge" / "payment-unmatched.json").read_text())
    reasons = PaymentUnmatched.model_validate(unmatched["detail"]).reasons
    assert [r.code for r in reasons] == ["AMOUNT_PRECISION", "UNKNOWN_INVOICE_REFERENCE"]
    overdue = json.loads((EVENTS / "eventbridge" / "invoice-overdue.json").read_text())
    assert InvoiceOverdue.model_validate(overdue["detail"]).due_date == "2026-12-05"
