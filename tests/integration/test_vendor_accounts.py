"""Vendors' accounts on moto: vendor invoices and credit notes entered once as they are issued,
payouts in once per id, the monthly statement (its PDF's text and figures), its email sent once,
and the vendor's own listing and link (nobody else's)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest
from pypdf import PdfReader

from infra.local.api_server import http_api_event
from infra.local.event_runner import eventbridge_event
from infra.local.outbox import sent_emails
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler, load_module
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.party_records import VendorRecords
from invoicing.adapters.report_store import ReportStore
from invoicing.adapters.vendor_accounts import VendorAccounts
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceKind, Seller
from invoicing.rendering.pdf import render_vendor_statement_pdf
from invoicing.services.vendor_invoicing import VendorInvoicer
from invoicing.services.vendor_statements import VendorStatements
from tests.integration.test_invoices_api import request
from tests.integration.test_vendor_invoicing import invoiced  # noqa: F401 (the fixture)

NOW = datetime.now(UTC)


def payout_event(payout_id: str, vendor_id: str, amount: str, currency: str = "EUR") -> dict[str, Any]:
    return eventbridge_event(
        {
            "id": f"evb-{payout_id}",
            "detail-type": "VendorPayout",
            "source": "saypro.payments",
            "time": NOW.isoformat(),
            "detail": {
                "payout_id": payout_id,
                "vendor_id": vendor_id,
                "amount": amount,
                "currency": currency,
                "paid_at": NOW.isoformat(),
                "reference": "SEPA 2026-12 batch 7",
            },
        }
    )


@pytest.fixture
def accounts(
    aws: dict[str, str],
    invoiced: tuple[InvoiceIssued, VendorInvoicer],  # noqa: F811 (the fixture imported above)
    publish_outbox: Callable[[], int],
) -> VendorAccounts:
    customer_invoice, invoicer = invoiced
    invoicer.issue_for(customer_invoice)
    invoicer.issue_for(customer_invoice)  # redelivered: nothing entered twice
    publish_outbox()
    return VendorAccounts(aws["INVOICES_TABLE_NAME"])


def owed(aws: dict[str, str], vendor_id: str) -> D:
    record = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).find_by_order(
        "ORD-1001", InvoiceKind.VENDOR, vendor_id
    )
    assert record is not None and record.amount_owed is not None
    return record.amount_owed


def statements(aws: dict[str, str]) -> VendorStatements:
    return VendorStatements(
        accounts=VendorAccounts(aws["INVOICES_TABLE_NAME"]),
        load_vendor=VendorRecords(aws["VENDORS_TABLE_NAME"]).get,
        reports=ReportStore(aws["INVOICE_BUCKET_NAME"]),
        seller=Seller(),
        render=render_vendor_statement_pdf,
    )


def test_each_vendor_invoice_is_entered_once_and_a_payout_once_per_id(
    aws: dict[str, str], accounts: VendorAccounts
) -> None:
    assert accounts.balances("V-HOME") == {"EUR": owed(aws, "V-HOME")}
    assert accounts.balances("V-TOYS") == {"EUR": owed(aws, "V-TOYS")}
    from invoicing.settings import payment_events_settings

    payment_events_settings.cache_clear()
    consumer = load_module("payment_events")
    context = FakeLambdaContext(function_name="payment-events")
    first = consumer.lambda_handler(payout_event("po_1", "V-HOME", "10.00"), context)
    again = consumer.lambda_handler(payout_event("po_1", "V-HOME", "10.00"), context)
    assert (first["recorded"], again["duplicate"]) == (True, True)
    assert accounts.balances("V-HOME") == {"EUR": owed(aws, "V-HOME") - D("10.00")}
    for bad in (
        payout_event("po_2", "V-HOME", "1.234"),
        payout_event("po_3", "V-HOME", "0"),
        payout_event("po_4", "V-HOME", "5.00", currency="XXQ"),
    ):
        with pytest.raises(ValueError):
            consumer.lambda_handler(bad, context)
    assert accounts.balances("V-HOME") == {"EUR": owed(aws, "V-HOME") - D("10.00")}


def test_the_monthly_statement_lists_the_entries_with_the_running_balance_and_is_emailed_once(
    aws: dict[str, str], accounts: VendorAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoicing.settings import dispatcher_settings, payment_events_settings

    payment_events_settings.cache_clear()
    load_module("payment_events").lambda_handler(
        payout_event("po_1", "V-HOME", "10.00"), FakeLambdaContext(function_name="payment-events")
    )
    issued = statements(aws).issue_month(NOW.date())
    assert sorted(r.vendor_id for r in issued) == ["V-BOOKS", "V-HOME", "V-TOYS"]
    (home,) = [r for r in issued if r.vendor_id == "V-HOME"]
    assert home.statement_id == f"STMT-{NOW:%Y-%m}-EUR-V-HOME"
    assert home.opening_balance == 0 and home.closing_balance == owed(aws, "V-HOME") - D("10.00")
    pdf = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=home.s3_key)["Body"].read()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", " ")
    for expected in (
        "VENDOR STATEMENT",
        home.statement_id,
        "Vendor invoice VND-2026-",
        "Payout po_1",
        "Owed to you",
    ):
        assert expected in text, expected
    assert f"{home.closing_balance:,.2f}" in text

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    dispatcher_settings.cache_clear()
    dispatcher = load_handler("invoice_dispatcher")
    announced = [
        e
        for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
        if e["detail-type"] == "VendorStatementIssued"
    ]
    assert announced == []  # in the outbox until published
    items = boto3.client("dynamodb").scan(TableName=aws["INVOICES_TABLE_NAME"])["Items"]
    (detail,) = [
        json.loads(i["detail"]["S"])
        for i in items
        if i["sk"]["S"].startswith("OUTBOX#")
        and i["detail_type"]["S"] == "VendorStatementIssued"
        and json.loads(i["detail"]["S"])["vendor_id"] == "V-HOME"
    ]
    event = eventbridge_event(
        {
            "id": "e1",
            "detail-type": "VendorStatementIssued",
            "source": "saypro.invoicing",
            "time": NOW.isoformat(),
            "detail": detail,
        }
    )
    context = FakeLambdaContext(function_name="dispatcher")
    assert [dispatcher(event, context)["outcome"] for _ in range(2)] == ["SENT", "ALREADY_SENT"]
    (email,) = [e for e in sent_emails().values() if home.statement_id in e.subject]
    assert email.recipients == ["home@v.example"] and email.attachment_name == f"{home.statement_id}.pdf"


def test_a_vendor_lists_its_own_statements_and_only_its_link_opens_them(
    aws: dict[str, str], accounts: VendorAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoicing.settings import api_settings, download_settings

    statements(aws).issue_month(NOW.date())
    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    api_settings.cache_clear()
    download_settings.cache_clear()
    api = load_handler("invoices_api")
    context = FakeLambdaContext(function_name="invoices-api")
    answer = api(request("/statements", {"sub": "V-HOME", "role": "vendor"}), context)
    assert answer["statusCode"] == 200
    page = json.loads(answer["body"])
    (item,) = page["items"]
    assert item["statement_id"].endswith("-V-HOME") and page["balances"] == {"EUR": item["closing_balance"]}
    assert api(request("/statements", {"sub": "CUST-42", "role": "customer"}), context)["statusCode"] == 403

    toys = json.loads(api(request("/statements", {"sub": "V-TOYS", "role": "vendor"}), context)["body"])[
        "items"
    ][0]
    download = load_module("invoice_download")

    def get(statement_id: str, url: str) -> int:
        token = url.partition("token=")[2]
        event = http_api_event(
            "GET",
            f"/statements/{statement_id}?token={token}",
            {},
            "/statements/{statement_id}",
            {"statement_id": statement_id},
        )
        event["queryStringParameters"] = {"token": token} if token else None
        return int(download.lambda_handler(event, FakeLambdaContext(function_name="download"))["statusCode"])

    assert get(item["statement_id"], item["download_url"]) == 302
    assert get(item["statement_id"], toys["download_url"]) == 403  # another vendor's token
    assert get(toys["statement_id"], item["download_url"]) == 403
    assert get(item["statement_id"], "") == 403
    assert get("STMT-2026-11-EUR-NOPE", item["download_url"]) == 403
