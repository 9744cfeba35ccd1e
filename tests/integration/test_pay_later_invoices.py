"""A bank-transfer order on moto: invoiced when it completes, as unpaid; the PDF and the email say
what is due, by when, how to pay and what to quote; the money arriving later re-issues nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
from pypdf import PdfReader

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.documents import parse_invoice
from invoicing.domain.invoice import Seller
from invoicing.messages.compose import compose_invoice_email
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.invoice_issuing import InvoiceIssuer, Outcome
from tests.unit.test_payment_terms import POLICY, bank_transfer

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


def issuer(aws: dict[str, str]) -> InvoiceIssuer:
    return InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=render_document_pdf,
        series="INV",
        seller=Seller(),
        clock=lambda: NOW,
        credit_note_series="CN",
        policy=POLICY,
    )


def stored(aws: dict[str, str], key: str) -> bytes:
    body: bytes = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key)["Body"].read()
    return body


def test_a_bank_transfer_order_is_invoiced_unpaid_with_its_due_date_and_how_to_pay(
    aws: dict[str, str],
) -> None:
    order: dict[str, Any] = bank_transfer("10.00")
    result = issuer(aws).handle_order_change("INSERT", "ORD-1001", None, order)
    assert result is not None and result.outcome is Outcome.ISSUED
    record = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_invoice("INV-2026-000001")
    assert record is not None and record.payment_status == "PENDING"
    invoice = parse_invoice(stored(aws, record.document_key or ""))
    assert invoice.payment.balance_due == D("42.73") and invoice.payment.due_date is not None

    pdf = stored(aws, record.s3_key or "")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", " ")
    due = invoice.payment.due_date.strftime("%d %b %Y").lstrip("0")
    for expected in ("UNPAID", "Balance due", "42.73", "Bank transfer to IBAN GB00 TEST.", "Quote"):
        assert expected in text, expected
    assert "Please pay 42.73 EUR by" in text and "quoting INV-2026-000001" in text

    email = compose_invoice_email(
        invoice,
        pdf,
        sender="invoices@saypro.example",
        recipient="zoe@example.com",
        download_url="https://x/d",
    )
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    words = body.get_content()
    assert "Payment: Unpaid by bank_transfer" in words
    assert "please pay 42.73 EUR by" in words and "quoting INV-2026-000001" in words
    assert "Bank transfer to IBAN GB00 TEST." in words
    html = email.get_body(preferencelist=("html",))
    assert html is not None and "Payment due:" in html.get_content()
    assert due.split()[-1] in words  # the year of the due date

    # The money arrives later: the invoice stands (payments are reconciled, never re-invoiced).
    paid = {**order, "payment": {**order["payment"], "status": "CAPTURED", "amount_captured": D("52.73")}}
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, paid) is None
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).last_sequence("INV", 2026) == 1
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).last_sequence("CN", 2026) == 0


def test_without_the_policy_a_bank_transfer_waits_for_its_payment_as_before(aws: dict[str, str]) -> None:
    plain = InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=render_document_pdf,
        series="INV",
        seller=Seller(),
        clock=lambda: NOW,
    )
    assert plain.handle_order_change("INSERT", "ORD-1001", None, bank_transfer()) is None
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).find_by_order("ORD-1001") is None
