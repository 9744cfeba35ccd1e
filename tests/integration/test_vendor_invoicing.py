"""Vendor invoices on moto: one per vendor, own gapless series, idempotent, unknown vendors recorded."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import boto3
import pytest
from pypdf import PdfReader

from infra.local.orders import put_order
from infra.local.provisioning import read_events
from infra.local.vendors import put_vendors
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.party_records import VendorRecords
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceKind, Seller
from invoicing.rendering.pdf import render_vendor_invoice_pdf
from invoicing.services.invoice_issuing import InvoiceIssuer
from invoicing.services.vendor_invoicing import VendorInvoicer
from tests.conftest import make_order

VENDORS = [
    {"vendor_id": "V-BOOKS", "name": "Księgarnia", "email": "books@v.example", "commission_rate": D("0.10")},
    {
        "vendor_id": "V-HOME",
        "name": "Müller GmbH",
        "email": "home@v.example",
        "commission_rate": D("0.15"),
        "payment_terms": "Net 30 by SEPA transfer.",
        "address_lines": ["Marienstraße 3", "Stuttgart"],
    },
    {"vendor_id": "V-TOYS", "name": "Toy Box", "email": "toys@v.example", "commission_rate": D("0.20")},
]


def three_vendor_order() -> dict[str, Any]:
    order = make_order()
    order["items"].append(
        {
            "sku": "TOY-1",
            "description": "Wooden train",
            "quantity": D(1),
            "unit_price": D("10.00"),
            "tax_rate": D("0.23"),
            "vendor_id": "V-TOYS",
        }
    )
    order["order_discounts"] = []
    order["totals"] = {
        "subtotal": D("60.00"),
        "discount_total": D("5.00"),
        "shipping_total": D("5.00"),
        "tax_total": D("10.20"),
        "grand_total": D("70.20"),
    }
    order["payment"]["amount_captured"] = D("70.20")
    return order


@pytest.fixture
def invoiced(aws: dict[str, str], publish_outbox: Callable[[], int]) -> tuple[InvoiceIssued, VendorInvoicer]:
    put_vendors(aws["VENDORS_TABLE_NAME"], VENDORS)
    order = three_vendor_order()
    put_order(aws["ORDERS_TABLE_NAME"], order)
    result = InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: b"%PDF-1.7 customer",
        series="INV",
        seller=Seller(),
    ).issue(order["order_id"], order)
    assert result.invoice_number
    publish_outbox()
    [event] = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert event["detail-type"] == "InvoiceIssued"
    invoicer = VendorInvoicer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        load_vendor=VendorRecords(aws["VENDORS_TABLE_NAME"]).get,
        renderer=render_vendor_invoice_pdf,
        series="VND",
    )
    return InvoiceIssued.model_validate(event["detail"]), invoicer


def vendor_invoices_due(aws: dict[str, str]) -> dict[str, Any]:
    """The order's VENDOR_INVOICES record (what the sweep re-asks for while it is in the index)."""
    return boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": "ORDER#ORD-1001"}, "sk": {"S": "VENDOR_INVOICES"}},
        ConsistentRead=True,
    )["Item"]


def pdf_text(aws: dict[str, str], key: str) -> str:
    body = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key)["Body"].read()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_a_three_vendor_order_gets_three_vendor_invoices_in_their_own_series(
    aws: dict[str, str],
    invoiced: tuple[InvoiceIssued, VendorInvoicer],
    publish_outbox: Callable[[], int],
) -> None:
    customer_invoice, invoicer = invoiced
    assert vendor_invoices_due(aws)["sweep_kind"]["S"] == "VENDOR_INVOICES_DUE"
    numbers = invoicer.issue_for(customer_invoice)
    assert numbers == ["VND-2026-000001", "VND-2026-000002", "VND-2026-000003"]
    settled = vendor_invoices_due(aws)
    assert settled["status"]["S"] == "DONE" and "sweep_kind" not in settled  # out of the sweep index

    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    home = ledger.find_by_order("ORD-1001", InvoiceKind.VENDOR, "V-HOME")
    assert home is not None and home.customer_id is None and home.vendor_id == "V-HOME"
    assert home.s3_key == "invoices/vendor/2026/VND-2026-000002.pdf"
    # Müller's lines: lamp 25.00 + mug... (make_order: lamp 30 - 5) at 23 % -> tax 5.75, commission 15 %
    assert (home.net_total, home.tax_total, home.grand_total) == (D("25.00"), D("5.75"), D("30.75"))
    text = pdf_text(aws, home.s3_key)  # type: ignore[arg-type]
    for expected in (
        "VENDOR INVOICE",
        "VND-2026-000002",
        "Müller GmbH",
        "INV-2026-000001",
        "Net 30 by SEPA",
        "15%",
        "-3.75",
        "27.00 EUR",
        "Desk lamp",
    ):
        assert expected in text, expected
    assert "Pan Tadeusz" not in text  # another vendor's line

    publish_outbox()
    events = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert sorted((e["detail-type"], e["detail"]["kind"], e["detail"]["vendor_id"]) for e in events) == [
        ("InvoiceIssued", "VENDOR", "V-BOOKS"),
        ("InvoiceIssued", "VENDOR", "V-HOME"),
        ("InvoiceIssued", "VENDOR", "V-TOYS"),
    ]


def test_a_redelivered_customer_invoice_issues_no_vendor_invoice_twice(
    aws: dict[str, str],
    invoiced: tuple[InvoiceIssued, VendorInvoicer],
    publish_outbox: Callable[[], int],
) -> None:
    customer_invoice, invoicer = invoiced
    first = invoicer.issue_for(customer_invoice)
    publish_outbox()
    assert len(read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])) == 3
    assert invoicer.issue_for(customer_invoice) == first
    publish_outbox()
    assert read_events(aws["EVENTS_OBSERVER_QUEUE_URL"]) == []
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).last_sequence("VND", 2026) == 3


def test_a_failure_after_numbering_is_completed_with_the_same_number(
    aws: dict[str, str], invoiced: tuple[InvoiceIssued, VendorInvoicer], monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_invoice, invoicer = invoiced
    documents = invoicer._documents
    real_put = documents.put_invoice_pdf
    calls = {"n": 0}

    def fail_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("S3 unavailable")
        return real_put(*args, **kwargs)

    monkeypatch.setattr(documents, "put_invoice_pdf", fail_second)
    with pytest.raises(ConnectionError):
        invoicer.issue_for(customer_invoice)
    monkeypatch.setattr(documents, "put_invoice_pdf", real_put)
    assert invoicer.issue_for(customer_invoice) == ["VND-2026-000001", "VND-2026-000002", "VND-2026-000003"]
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    assert ledger.last_sequence("VND", 2026) == 3
    home = ledger.get_invoice("VND-2026-000002")
    assert home is not None and home.status.value == "ISSUED" and home.vendor_id == "V-HOME"


def test_an_unknown_vendor_is_recorded_and_announced_once_and_the_others_are_invoiced(
    aws: dict[str, str],
    invoiced: tuple[InvoiceIssued, VendorInvoicer],
    publish_outbox: Callable[[], int],
) -> None:
    customer_invoice, invoicer = invoiced
    boto3.client("dynamodb").delete_item(
        TableName=aws["VENDORS_TABLE_NAME"], Key={"vendor_id": {"S": "V-TOYS"}}
    )
    assert invoicer.issue_for(customer_invoice) == ["VND-2026-000001", "VND-2026-000002"]
    invoicer.issue_for(customer_invoice)
    publish_outbox()
    failures = [
        e for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"]) if e["detail-type"] == "VendorInvoiceFailed"
    ]
    assert len(failures) == 1
    assert (
        failures[0]["detail"]["vendor_ids"] == ["V-TOYS"]
        and failures[0]["detail"]["code"] == "VENDOR_UNKNOWN"
    )
    problem = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": "ORDER#ORD-1001"}, "sk": {"S": "VENDOR_PROBLEM"}},
    )["Item"]
    assert problem["status"]["S"] == "OPEN" and problem["attempts"]["N"] == "2"
    # The order stays due in the sweep index, so the sweep asks again ...
    due = vendor_invoices_due(aws)
    assert due["status"]["S"] == "DUE" and due["sweep_kind"]["S"] == "VENDOR_INVOICES_DUE"

    # ... and once the vendor's master data exists, its invoice is issued and the order settles.
    put_vendors(aws["VENDORS_TABLE_NAME"], [v for v in VENDORS if v["vendor_id"] == "V-TOYS"])
    assert invoicer.issue_for(customer_invoice) == ["VND-2026-000001", "VND-2026-000002", "VND-2026-000003"]
    settled = vendor_invoices_due(aws)
    assert settled["status"]["S"] == "DONE" and "sweep_kind" not in settled


def test_each_vendor_lists_only_its_own_vendor_invoices(
    aws: dict[str, str], invoiced: tuple[InvoiceIssued, VendorInvoicer]
) -> None:
    from invoicing.adapters.invoice_queries import InvoiceQueries

    customer_invoice, invoicer = invoiced
    invoicer.issue_for(customer_invoice)
    queries = InvoiceQueries(aws["INVOICES_TABLE_NAME"])
    home, _ = queries.list_for("vendor", "V-HOME", limit=10)
    assert [r.invoice_number for r in home] == ["VND-2026-000002"]
    as_customer, _ = queries.list_for("customer", "CUST-42", limit=10)
    assert [r.invoice_number for r in as_customer] == [customer_invoice.invoice_number]  # no vendor invoices
