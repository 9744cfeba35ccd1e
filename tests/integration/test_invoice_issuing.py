"""The issuing service on moto: exactly one invoice per order, whatever fails and is retried."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest

from infra.local.provisioning import read_events
from invoicing.adapters.document_store import DocumentStore, invoice_key
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.invoice import InvoiceDocument, InvoiceStatus, Seller
from invoicing.services.invoice_issuing import InvoiceIssuer, Outcome
from tests.conftest import make_order

NOW = datetime(2026, 11, 21, 14, 3, tzinfo=UTC)


class FlakyRenderer:
    """Stands in for the PDF renderer: fails the first `failures` calls, then returns bytes."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[InvoiceDocument] = []

    def __call__(self, document: InvoiceDocument) -> bytes:
        self.calls.append(document)
        if len(self.calls) <= self.failures:
            raise RuntimeError("renderer crashed")
        return f"%PDF-1.7 {document.invoice_number} {document.totals.grand_total}".encode()


def make_issuer(aws: dict[str, str], renderer: Any, s3: Any = None) -> InvoiceIssuer:
    return InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"], client=s3),
        renderer=renderer,
        series="INV",
        seller=Seller(),
        clock=lambda: NOW,
    )


def test_a_valid_order_becomes_a_stored_recorded_announced_invoice(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    result = make_issuer(aws, FlakyRenderer()).issue("ORD-1001", make_order())
    assert result.outcome is Outcome.ISSUED
    assert result.invoice_number == "INV-2026-000001"

    record = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_invoice("INV-2026-000001")
    assert record is not None
    assert record.status is InvoiceStatus.ISSUED
    assert record.grand_total == D("52.73")
    assert record.order_completed_at == datetime(2026, 11, 21, 14, 2, 11, tzinfo=UTC)
    assert record.s3_key == invoice_key("INV-2026-000001") == "invoices/customer/2026/INV-2026-000001.pdf"

    head = boto3.client("s3").head_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=record.s3_key)
    assert head["ContentType"] == "application/pdf"
    assert head["Metadata"] == {
        "invoice-number": "INV-2026-000001",
        "order-id": "ORD-1001",
        "sha256": record.sha256,
        "kind": "CUSTOMER",
    }
    assert head["VersionId"] == record.s3_version_id

    # The document of record is stored beside the PDF, exactly the bytes frozen at numbering.
    document_key = invoice_key("INV-2026-000001", extension="json")
    assert document_key == "invoices/customer/2026/INV-2026-000001.json"
    assert record.document_key == document_key
    stored = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=document_key)
    body = stored["Body"].read()
    assert hashlib.sha256(body).hexdigest() == record.document_sha256
    assert stored["ContentType"] == "application/json"
    assert stored["VersionId"] == record.document_version_id
    document = json.loads(body)
    assert document["invoice_number"] == "INV-2026-000001"
    assert document["order"]["order_id"] == "ORD-1001"
    assert document["totals"]["grand_total"] == "52.73"

    publish_outbox()
    events = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert [e["detail-type"] for e in events] == ["InvoiceIssued"]
    detail = events[0]["detail"]
    assert detail["invoice_number"] == "INV-2026-000001"
    assert detail["grand_total"] == "52.73"
    assert detail["s3_key"] == record.s3_key
    assert detail["preferred_channels"] == ["email"]
    assert detail["document_key"] == document_key
    assert detail["document_version_id"] == record.document_version_id
    assert detail["document_sha256"] == record.document_sha256


def test_a_redelivered_order_issues_no_second_invoice_and_no_second_event(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    renderer = FlakyRenderer()
    issuer = make_issuer(aws, renderer)
    issuer.issue("ORD-1001", make_order())
    again = issuer.issue("ORD-1001", make_order())
    assert again.outcome is Outcome.ALREADY_ISSUED
    assert again.invoice_number == "INV-2026-000001"
    assert len(renderer.calls) == 1
    publish_outbox()
    assert len(read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])) == 1
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).last_sequence("INV", 2026) == 1


def test_a_render_failure_after_numbering_is_completed_by_the_retry_with_the_same_number(
    aws: dict[str, str],
) -> None:
    renderer = FlakyRenderer(failures=1)
    issuer = make_issuer(aws, renderer)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        issuer.issue("ORD-1001", make_order())
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    assert ledger.find_by_order("ORD-1001").status is InvoiceStatus.NUMBERED  # type: ignore[union-attr]

    # The retry completes the document frozen at numbering, whatever the order item says now.
    edited = make_order()
    edited["customer"]["name"] = "Someone Else"
    retried = issuer.issue("ORD-1001", edited)
    assert retried.invoice_number == "INV-2026-000001"
    assert renderer.calls[-1] == renderer.calls[0]
    assert renderer.calls[-1].customer.name == "Zoë Łukasiewicz"
    assert ledger.get_invoice("INV-2026-000001").status is InvoiceStatus.ISSUED  # type: ignore[union-attr]
    # The next order continues the sequence: no gap, no duplicate.
    assert issuer.issue("ORD-1002", make_order(order_id="ORD-1002")).invoice_number == "INV-2026-000002"


def test_a_storage_failure_is_retried_to_the_same_invoice(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    real = boto3.client("s3")

    class FailingOnceS3:
        failed = False

        def put_object(self, **kwargs: Any) -> Any:
            if not self.failed:
                self.failed = True
                raise ConnectionError("S3 unreachable")
            return real.put_object(**kwargs)

    issuer = make_issuer(aws, FlakyRenderer(), s3=FailingOnceS3())
    with pytest.raises(ConnectionError):
        issuer.issue("ORD-1001", make_order())
    publish_outbox()
    assert read_events(aws["EVENTS_OBSERVER_QUEUE_URL"]) == []
    assert issuer.issue("ORD-1001", make_order()).invoice_number == "INV-2026-000001"
    publish_outbox()
    assert [e["detail-type"] for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])] == ["InvoiceIssued"]


def test_an_invalid_order_gets_no_invoice_but_a_recorded_and_announced_failure(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    item = make_order()
    item["items"][0]["quantity"] = D(0)
    item["totals"]["grand_total"] = D("1.00")
    result = make_issuer(aws, FlakyRenderer()).issue("ORD-1001", item)

    assert result.outcome is Outcome.REJECTED
    codes = {issue.code.value for issue in result.issues}
    assert {"QUANTITY_NOT_POSITIVE", "TOTAL_MISMATCH"} <= codes
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    assert ledger.find_by_order("ORD-1001") is None
    assert ledger.last_sequence("INV", 2026) == 0  # no number was spent
    failure = ledger.get_validation_failure("ORD-1001")
    assert failure is not None and failure.status == "OPEN"
    assert {issue.code.value for issue in failure.issues} == codes

    publish_outbox()
    events = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert [e["detail-type"] for e in events] == ["InvoiceValidationFailed"]
    announced = events[0]["detail"]
    assert announced["order_id"] == "ORD-1001"
    assert {i["code"] for i in announced["issues"]} == codes
    assert all(i["message"] and i["field"] for i in announced["issues"])


def test_a_redelivered_invalid_order_is_announced_once_until_its_problems_change(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    issuer = make_issuer(aws, FlakyRenderer())
    broken = make_order()
    broken["totals"]["tax_total"] = D("7.00")
    issuer.issue("ORD-1001", broken)
    issuer.issue("ORD-1001", broken)
    publish_outbox()
    assert len(read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])) == 1
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_validation_failure("ORD-1001").attempts == 2  # type: ignore[union-attr]

    broken["items"][0]["quantity"] = D(0)
    issuer.issue("ORD-1001", broken)
    publish_outbox()
    [changed] = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert "QUANTITY_NOT_POSITIVE" in {i["code"] for i in changed["detail"]["issues"]}


def test_a_corrected_order_is_invoiced_and_its_failure_resolved(aws: dict[str, str]) -> None:
    issuer = make_issuer(aws, FlakyRenderer())
    broken = make_order()
    broken["totals"]["tax_total"] = D("7.00")
    completed = {"status": "COMPLETED", "payment": {"status": "CAPTURED"}}
    first = issuer.handle_order_change("INSERT", "ORD-1001", None, broken)
    assert first is not None and first.outcome is Outcome.REJECTED

    fixed = issuer.handle_order_change("MODIFY", "ORD-1001", completed, make_order())
    assert fixed is not None and fixed.outcome is Outcome.ISSUED
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    failure = ledger.get_validation_failure("ORD-1001")
    assert failure is not None and failure.status == "RESOLVED"

    # Later touches of the invoiced order (e.g. a tracking number) cost one read and issue nothing.
    assert issuer.handle_order_change("MODIFY", "ORD-1001", completed, make_order()) is None


def test_an_unparseable_item_is_recorded_against_its_key(aws: dict[str, str]) -> None:
    garbage = {"order_id": "ORD-BAD", "status": "COMPLETED", "payment": {"status": "CAPTURED"}, "items": "??"}
    result = make_issuer(aws, FlakyRenderer()).handle_order_change("INSERT", "ORD-BAD", None, garbage)
    assert result is not None and result.outcome is Outcome.REJECTED
    failure = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_validation_failure("ORD-BAD")
    assert failure is not None
    assert {"FIELD_MISSING", "FIELD_INVALID"} <= {i.code.value for i in failure.issues}
