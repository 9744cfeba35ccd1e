"""The Invoices table on moto: numbers are gapless and unique, one invoice per order."""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local import ROOT
from invoicing.adapters.document_store import StoredDocument
from invoicing.adapters.invoice_ledger import InvoiceLedger, NewInvoice
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.validation import IssueCode, ValidationIssue

NOW = datetime(2026, 11, 21, 14, 3, tzinfo=UTC)


def new_invoice(order_id: str) -> NewInvoice:
    return NewInvoice(
        kind=InvoiceKind.CUSTOMER,
        order_id=order_id,
        customer_id="CUST-1",
        customer_name="Zoë",
        currency="EUR",
        net_total=D("10.00"),
        tax_total=D("2.00"),
        grand_total=D("12.00"),
        payment_status="CAPTURED",
        order_completed_at=NOW,
    )


def freeze(number: str, issued_at: datetime) -> bytes:
    """Stands in for the issuer's document freezer: the bytes depend on the number and time."""
    return json.dumps({"invoice_number": number, "issued_at": issued_at.isoformat()}).encode()


def stored(key: str, version_id: str, data: bytes) -> StoredDocument:
    return StoredDocument(
        bucket="b", key=key, version_id=version_id, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )


class SerializedClient:
    """One lock in front of DynamoDB: each request is atomic, as in DynamoDB, while the
    generators interleave between requests (moto itself is not thread-safe)."""

    def __init__(self, client: Any, lock: threading.Lock) -> None:
        self._client = client
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call


def test_first_number_of_a_series_and_year_is_one(aws: dict[str, str]) -> None:
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    record = ledger.allocate(new_invoice("ORD-1"), "INV", NOW, freeze)
    assert record.invoice_number == "INV-2026-000001"
    assert record.status is InvoiceStatus.NUMBERED
    assert ledger.last_sequence("INV", 2026) == 1
    assert ledger.get_invoice("INV-2026-000001") == record
    # The document is frozen for exactly this number, in the same transaction.
    document = freeze("INV-2026-000001", NOW)
    assert ledger.frozen_document("INV-2026-000001") == document
    assert record.document_sha256 == hashlib.sha256(document).hexdigest()


def test_an_order_keeps_its_number_however_often_it_is_allocated(aws: dict[str, str]) -> None:
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    first = ledger.allocate(new_invoice("ORD-1"), "INV", NOW, freeze)
    again = ledger.allocate(new_invoice("ORD-1"), "INV", NOW, freeze)
    other = ledger.allocate(new_invoice("ORD-2"), "INV", NOW, freeze)
    assert again.invoice_number == first.invoice_number
    assert other.invoice_number == "INV-2026-000002"
    assert ledger.last_sequence("INV", 2026) == 2


def test_series_and_years_have_separate_sequences(aws: dict[str, str]) -> None:
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    assert ledger.allocate(new_invoice("A"), "INV", NOW, freeze).invoice_number == "INV-2026-000001"
    assert ledger.allocate(new_invoice("B"), "TST", NOW, freeze).invoice_number == "TST-2026-000001"
    next_year = NOW.replace(year=2027)
    assert ledger.allocate(new_invoice("C"), "INV", next_year, freeze).invoice_number == "INV-2027-000001"


def test_a_generator_that_read_a_stale_counter_retries_and_takes_the_next_number(aws: dict[str, str]) -> None:
    fast = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    slow = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    real_read = slow.last_sequence
    reads: list[int] = []

    def stale_then_real(series: str, year: int) -> int:
        value = real_read(series, year)
        if not reads:
            # The other generator commits between our read and our transaction.
            fast.allocate(new_invoice("ORD-FAST"), series, NOW, freeze)
        reads.append(value)
        return value

    slow.last_sequence = stale_then_real  # type: ignore[method-assign]
    record = slow.allocate(new_invoice("ORD-SLOW"), "INV", NOW, freeze)
    assert reads[0] == 0  # it first tried number 1, which the fast one took
    assert record.invoice_number == "INV-2026-000002"
    # Each invoice keeps the document frozen for its own number, not the one first tried.
    assert slow.frozen_document("INV-2026-000002") == freeze("INV-2026-000002", NOW)
    assert slow.frozen_document("INV-2026-000001") == freeze("INV-2026-000001", NOW)
    assert fast.find_by_order("ORD-FAST").invoice_number == "INV-2026-000001"  # type: ignore[union-attr]


def test_concurrent_generators_never_duplicate_or_skip_a_number(aws: dict[str, str]) -> None:
    lock = threading.Lock()
    client = SerializedClient(boto3.client("dynamodb"), lock)
    orders = [f"ORD-{i:03d}" for i in range(60)]

    def allocate(order_id: str) -> str:
        ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"], client=client)
        return ledger.allocate(new_invoice(order_id), "INV", NOW, freeze).invoice_number

    # Every order is submitted twice, as a redelivering stream would.
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(allocate, orders + orders))

    by_order: dict[str, set[str]] = {}
    for order_id, number in zip(orders + orders, numbers, strict=True):
        by_order.setdefault(order_id, set()).add(number)
    assert all(len(assigned) == 1 for assigned in by_order.values())
    distinct = sorted({n for assigned in by_order.values() for n in assigned})
    assert distinct == [f"INV-2026-{i:06d}" for i in range(1, 61)]
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).last_sequence("INV", 2026) == 60


def test_status_moves_from_numbered_to_stored_to_issued(aws: dict[str, str]) -> None:
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    numbered = ledger.allocate(new_invoice("ORD-1"), "INV", NOW, freeze)
    number = numbered.invoice_number
    frozen = ledger.frozen_document(number)
    assert frozen is not None
    document = stored("invoices/customer/2026/INV-2026-000001.json", "d1", frozen)
    # Only the document frozen at allocation can be recorded as stored.
    with pytest.raises(ClientError):
        ledger.mark_stored(
            number, pdf=stored("k", "v0", b"%PDF"), document=stored("j", "d0", b"other"), stored_at=NOW
        )
    assert ledger.get_invoice(number).status is InvoiceStatus.NUMBERED  # type: ignore[union-attr]

    ledger.mark_stored(number, pdf=stored("k", "v1", b"%PDF-1"), document=document, stored_at=NOW)
    record = ledger.get_invoice(number)
    assert record is not None
    assert record.status is InvoiceStatus.STORED
    assert (record.document_key, record.document_version_id) == (document.key, "d1")
    announcement = InvoiceIssued.model_validate(
        json.loads((ROOT / "events" / "eventbridge" / "invoice-issued.json").read_text())["detail"]
    )
    assert ledger.mark_issued(record, announcement, NOW, []) is True
    assert ledger.mark_issued(record, announcement, NOW, []) is False  # issued once only
    ledger.mark_stored(number, pdf=stored("k", "v2", b"%PDF-2"), document=document, stored_at=NOW)
    record = ledger.get_invoice(number)
    assert record is not None
    assert record.status is InvoiceStatus.ISSUED
    assert record.s3_version_id == "v1"  # an issued invoice's document is never replaced
    assert record.sha256 == hashlib.sha256(b"%PDF-1").hexdigest()
    assert record.document_sha256 == numbered.document_sha256
    assert ledger.frozen_document(number) is None  # the record's copy is dropped once it is in S3
    assert ledger.issued_announcement(number) == announcement  # what the sweep re-drives delivery with


def test_validation_failures_count_attempts_and_resolve_once(aws: dict[str, str]) -> None:
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    issues = [ValidationIssue(code=IssueCode.ITEMS_EMPTY, field="items", message="no items")]
    _, announced = ledger.record_validation_failure("ORD-9", "CUST-1", issues, NOW)
    assert announced is True
    later, announced_again = ledger.record_validation_failure("ORD-9", "CUST-1", issues, NOW.replace(hour=15))
    assert announced_again is False  # the same verdict is announced once
    assert later.attempts == 2
    assert later.first_failed_at == NOW
    assert later.issues == issues
    assert ledger.resolve_validation_failure("ORD-9", "INV-2026-000001", NOW) is True
    assert ledger.resolve_validation_failure("ORD-9", "INV-2026-000001", NOW) is False
    assert ledger.get_validation_failure("ORD-9").status == "RESOLVED"  # type: ignore[union-attr]


@pytest.mark.parametrize("order_id", ["ORD-X"])
def test_unknown_orders_have_no_invoice(aws: dict[str, str], order_id: str) -> None:
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).find_by_order(order_id) is None
