"""The PDF's next rendition: after a payment, the same invoice document rendered with what has been
paid; the links open it, reminders attach it, the document itself is never changed."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from pypdf import PdfReader

from infra.local.event_runner import eventbridge_event
from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.report_store import ReportStore
from invoicing.domain.links import Keyring, sign_link
from invoicing.rendering.pdf import render_invoice_pdf
from invoicing.services.payment_renditions import PaymentRenditions
from tests.integration.test_invoice_download import http_event
from tests.integration.test_pay_later_invoices import NOW
from tests.integration.test_payment_intake import event, intake, issue, record
from tests.unit.test_payment_terms import bank_transfer


def renditions(aws: dict[str, str]) -> PaymentRenditions:
    return PaymentRenditions(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        files=ReportStore(aws["INVOICE_BUCKET_NAME"]),
        render=render_invoice_pdf,
        clock=lambda: NOW + timedelta(days=1),
    )


def text_of(aws: dict[str, str], key: str) -> str:
    body = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key)["Body"].read()
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages).replace("\n", " ")


def test_after_a_payment_the_next_rendition_says_what_was_paid_and_the_link_opens_it(
    aws: dict[str, str],
) -> None:
    number = issue(aws, bank_transfer())
    issued = record(aws, number)
    assert renditions(aws).refresh(number) is None  # nothing paid since issue: the PDF as issued stands
    intake(aws).receive(event("evt_1", "20.00", invoice_reference=number), door="webhook")
    key = renditions(aws).refresh(number)
    assert key == f"renditions/{number}/payment-1.pdf"
    text = text_of(aws, key)
    assert "PARTIALLY PAID (as of 21 Nov 2026)" in text and "Received 20.00" in text
    assert "Balance due 32.73 EUR" in text and "Please pay 32.73 EUR by" in text
    assert text_of(aws, issued.s3_key or "").count("UNPAID") >= 1  # the PDF as issued is untouched
    after = record(aws, number)
    assert after.document_sha256 == issued.document_sha256 and after.rendition_version == 1

    intake(aws).receive(event("evt_2", "32.73", kind="payment.succeeded", invoice_reference=number), door="w")
    paid_key = renditions(aws).refresh(number)
    assert paid_key == f"renditions/{number}/payment-2.pdf"
    paid = text_of(aws, paid_key)
    assert "PAID (as of" in paid and "Balance due 0.00 EUR" in paid and "Please pay" not in paid

    from invoicing.settings import download_settings

    download_settings.cache_clear()
    download = load_handler("invoice_download")
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=aws["LINK_KEYS_SECRET_ID"])
    token = sign_link(
        Keyring.model_validate_json(secret["SecretString"]),
        number,
        "CUST-42",
        datetime.now(UTC),
        timedelta(days=1),
    )
    opened: dict[str, Any] = download(
        http_event(f"/download/{number}", {"token": token}), FakeLambdaContext(function_name="d")
    )
    assert (
        opened["statusCode"] == 302 and f"renditions/{number}/payment-2.pdf" in opened["headers"]["Location"]
    )


def test_its_function_renders_it_on_invoice_payment_recorded_once_per_payment(aws: dict[str, str]) -> None:
    from invoicing.settings import renditions_settings

    number = issue(aws, bank_transfer())
    intake(aws).receive(event("evt_1", "20.00", invoice_reference=number), door="webhook")
    renditions_settings.cache_clear()
    dispatcher = load_handler("payment_renditions")
    recorded = {
        "id": "e1",
        "detail-type": "InvoicePaymentRecorded",
        "source": "saypro.invoicing",
        "time": NOW.isoformat(),
        "detail": {
            "event_id": "evt_1",
            "kind": "payment.partial",
            "outcome": "partial",
            "invoice_number": number,
            "order_id": "ORD-1001",
            "customer_id": "CUST-42",
            "currency": "EUR",
            "amount": "20.00",
            "matched_by": "invoice_reference",
            "amount_received": "20.00",
            "amount_refunded": "0.00",
            "balance_due": "32.73",
            "payment_state_before": "unpaid",
            "payment_state": "partially_paid",
            "findings": [],
            "occurred_at": NOW.isoformat(),
            "recorded_at": NOW.isoformat(),
        },
    }
    first = dispatcher(eventbridge_event(recorded), FakeLambdaContext(function_name="dispatcher"))
    again = dispatcher(eventbridge_event(recorded), FakeLambdaContext(function_name="dispatcher"))
    assert first["rendition"] == again["rendition"] == f"renditions/{number}/payment-1.pdf"
