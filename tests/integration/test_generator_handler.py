"""The generator Lambda, called with real-shaped stream events, against moto."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from pypdf import PdfReader

from infra.local.provisioning import read_events
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.invoice import InvoiceStatus
from tests.conftest import make_order
from tests.stream_events import stream_event, stream_record

HANDLER_PATH = Path(__file__).parents[2] / "functions" / "invoice_generator" / "handler.py"


@dataclass
class FakeLambdaContext:
    function_name: str = "invoice-generator"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:invoice-generator"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def generator(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh import of the handler module inside the moto mock (it builds clients at import)."""
    from invoicing.settings import generator_settings

    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "invoicing")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SayProInvoicing")
    generator_settings.cache_clear()
    spec = importlib.util.spec_from_file_location("invoice_generator_handler", HANDLER_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def invoke(generator: ModuleType, event: dict[str, Any]) -> list[str]:
    response = generator.lambda_handler(event, FakeLambdaContext())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def pdf_text(aws: dict[str, str], key: str) -> str:
    body = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key)["Body"].read()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_a_completed_order_insert_becomes_an_invoice_with_a_readable_pdf(
    aws: dict[str, str], generator: ModuleType, publish_outbox: Callable[[], int]
) -> None:
    assert invoke(generator, stream_event(stream_record("INSERT", make_order()))) == []

    record = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).find_by_order("ORD-1001")
    assert record is not None and record.status is InvoiceStatus.ISSUED
    assert record.invoice_number == "INV-2026-000001"
    text = pdf_text(aws, record.s3_key)  # type: ignore[arg-type]
    assert "INV-2026-000001" in text
    assert "Zoë Łukasiewicz" in text
    assert "52.73" in text

    # The document of record is stored beside the PDF, the very bytes the record's hash was taken of.
    assert record.document_key == "invoices/customer/2026/INV-2026-000001.json"
    body = (
        boto3.client("s3")
        .get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=record.document_key)["Body"]
        .read()
    )
    assert hashlib.sha256(body).hexdigest() == record.document_sha256
    document = json.loads(body)
    assert document["invoice_number"] == "INV-2026-000001"
    assert document["customer"]["name"] == "Zoë Łukasiewicz"
    assert document["totals"]["grand_total"] == "52.73"

    publish_outbox()
    events = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert [e["detail-type"] for e in events] == ["InvoiceIssued"]
    assert events[0]["detail"]["document_sha256"] == record.document_sha256


def test_a_mixed_batch_invoices_only_orders_that_became_completed(
    aws: dict[str, str], generator: ModuleType, publish_outbox: Callable[[], int]
) -> None:
    pending = make_order(order_id="ORD-P", status="PENDING", completed_at=None)
    shipped = make_order(order_id="ORD-S", status="SHIPPED", completed_at=None)
    invalid = make_order(order_id="ORD-BAD")
    invalid["totals"]["grand_total"] = D("0.01")
    event = stream_event(
        stream_record("INSERT", pending),
        stream_record("MODIFY", make_order(order_id="ORD-S"), shipped),
        stream_record("REMOVE", None, make_order(order_id="ORD-GONE")),
        stream_record("INSERT", invalid),
        stream_record("INSERT", make_order(order_id="ORD-2")),
    )
    assert invoke(generator, event) == []

    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    assert ledger.find_by_order("ORD-P") is None
    assert ledger.find_by_order("ORD-GONE") is None
    assert ledger.find_by_order("ORD-S").invoice_number == "INV-2026-000001"  # type: ignore[union-attr]
    assert ledger.find_by_order("ORD-2").invoice_number == "INV-2026-000002"  # type: ignore[union-attr]
    assert ledger.find_by_order("ORD-BAD") is None
    assert ledger.get_validation_failure("ORD-BAD") is not None
    publish_outbox()
    kinds = sorted(e["detail-type"] for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"]))
    assert kinds == ["InvoiceIssued", "InvoiceIssued", "InvoiceValidationFailed"]


def test_a_redelivered_batch_issues_no_second_invoice_number_or_event(
    aws: dict[str, str], generator: ModuleType, publish_outbox: Callable[[], int]
) -> None:
    event = stream_event(*(stream_record("INSERT", make_order(order_id=f"ORD-{i}")) for i in range(3)))
    assert invoke(generator, event) == []
    publish_outbox()
    first = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert invoke(generator, event) == []
    assert invoke(generator, event) == []
    publish_outbox()

    assert len(first) == 3
    assert read_events(aws["EVENTS_OBSERVER_QUEUE_URL"]) == []
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).last_sequence("INV", 2026) == 3


def test_a_poison_record_is_reported_alone_and_the_rest_of_the_batch_is_invoiced(
    aws: dict[str, str], generator: ModuleType
) -> None:
    poison = stream_record("INSERT", make_order(order_id="ORD-X"), keys={})
    good = stream_record("INSERT", make_order(order_id="ORD-OK"))
    failed = invoke(generator, stream_event(poison, good))
    assert failed == [poison["dynamodb"]["SequenceNumber"]]
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).find_by_order("ORD-OK") is not None


def test_a_failure_after_numbering_is_retried_to_the_same_number(
    aws: dict[str, str], generator: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    unlucky = stream_record("INSERT", make_order())
    lucky = stream_record("INSERT", make_order(order_id="ORD-LUCKY"))
    documents = generator.issuer._completion._documents
    real_put = documents.put_invoice_pdf

    def unavailable_for_one_order(number: str, order_id: str, *args: Any, **kwargs: Any) -> Any:
        if order_id == "ORD-1001":
            raise ConnectionError("S3 is having a bad day")
        return real_put(number, order_id, *args, **kwargs)

    monkeypatch.setattr(documents, "put_invoice_pdf", unavailable_for_one_order)
    assert invoke(generator, stream_event(unlucky, lucky)) == [unlucky["dynamodb"]["SequenceNumber"]]
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    assert ledger.find_by_order("ORD-1001").status is InvoiceStatus.NUMBERED  # type: ignore[union-attr]
    # When every record of a batch fails, the whole batch is reported failed (Lambda retries it).
    with pytest.raises(BatchProcessingError):
        invoke(generator, stream_event(unlucky))

    monkeypatch.setattr(documents, "put_invoice_pdf", real_put)
    assert invoke(generator, stream_event(unlucky)) == []
    issued = ledger.find_by_order("ORD-1001")
    assert issued is not None
    assert (issued.invoice_number, issued.status) == ("INV-2026-000001", InvoiceStatus.ISSUED)
    assert ledger.find_by_order("ORD-LUCKY").invoice_number == "INV-2026-000002"  # type: ignore[union-attr]
    assert ledger.last_sequence("INV", 2026) == 2


def test_a_malformed_item_is_recorded_as_a_validation_failure_not_a_crash_loop(
    aws: dict[str, str], generator: ModuleType
) -> None:
    malformed = {"order_id": "ORD-M", "status": "COMPLETED", "payment": {"status": "CAPTURED"}}
    assert invoke(generator, stream_event(stream_record("INSERT", malformed))) == []
    failure = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_validation_failure("ORD-M")
    assert failure is not None
    assert {"customer", "items", "totals", "currency"} <= {i.field for i in failure.issues}
