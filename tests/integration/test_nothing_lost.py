"""Issue 8's seven findings, each reproduced with the real handlers on moto, and fixed.

1. Every message and rendition comes from the frozen invoice document, not the edited order.
2. An allocated number is always issued, with the document it was allocated for.
3. A validation failure is announced even when the bus fails at that moment.
4. The operations digest is never lost to a failed publish.
5. Vendor invoices are recorded as due, so a vendor invoicer that keeps failing is re-driven.
6. A half-issued vendor invoice (and a corrected rejected order) is completed, not stranded.
7. The sweep sees the whole backlog fairly, the digest stays small, and sends in doubt settle.
"""

from __future__ import annotations

import copy
import io
import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import boto3
import pytest
from pypdf import PdfReader

from infra.local.api_server import http_api_event
from infra.local.demo_sla import scheduled_tick
from infra.local.orders import put_order
from infra.local.outbox import sent_emails, sent_texts
from infra.local.pipeline import LocalPipeline
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_module
from infra.local.sns_signer import LocalSns, ses_send
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.documents import parse_document, parse_invoice
from invoicing.domain.invoice import InvoiceKind
from invoicing.domain.order import Order
from invoicing.domain.pricing import price_order
from invoicing.domain.sla import SweepKind
from invoicing.domain.validation import IssueCode, ValidationIssue, validate_order_item
from invoicing.domain.vendor_invoice import VendorInvoiceDocument
from tests.conftest import make_order

BACKLOG = int(os.environ.get("TEST_BACKLOG", "1200"))


def _ledger(aws: dict[str, str]) -> InvoiceLedger:
    return InvoiceLedger(aws["INVOICES_TABLE_NAME"])


def _events(aws: dict[str, str], detail_type: str) -> list[dict[str, Any]]:
    return [
        e["detail"] for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"]) if e["detail-type"] == detail_type
    ]


def _pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _sweep(monkeypatch: pytest.MonkeyPatch, **environment: str) -> Any:
    """The real sweeper function (its module), acting on anything due at once."""
    from invoicing.settings import sweeper_settings

    monkeypatch.setenv("SWEEP_GRACE_SECONDS", "0")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    sweeper_settings.cache_clear()
    return load_module("sla_sweeper")


def _tick(sweeper: Any) -> dict[str, Any]:
    result: dict[str, Any] = sweeper.lambda_handler(
        scheduled_tick(), FakeLambdaContext(function_name="sla-sweeper")
    )
    return result


def _issue_without_delivering(pipeline: LocalPipeline, order: dict[str, Any], table: str) -> None:
    """The generator and the outbox run; the dispatcher and vendor invoicer have not yet."""
    put_order(table, order)
    pipeline.generator.run_until_quiescent()
    pipeline.outbox.run_until_quiescent()


def _deliver(pipeline: LocalPipeline) -> None:
    pipeline.run_until_quiet()


def _edit_after_issue(order: dict[str, Any]) -> dict[str, Any]:
    """The storefront rewrites the whole item: a new price, name and address, a new line."""
    edited = copy.deepcopy(order)
    edited["items"][1]["unit_price"] = D("99.00")
    edited["items"].append({**edited["items"][0], "sku": "EXTRA", "description": "Added later"})
    edited["customer"]["name"] = "Someone Else"
    edited["customer"]["billing_address"]["city"] = "Gdańsk"
    return edited


# --- 1 ----------------------------------------------------------------------------------------


def test_an_order_edited_after_issue_changes_nothing_the_customer_vendors_or_the_api_see(
    aws: dict[str, str], pipeline: LocalPipeline
) -> None:
    order = make_order(order_id="ORD-EDITED")
    by_sms = make_order(
        order_id="ORD-EDITED-SMS", customer={**order["customer"], "preferred_channels": ["sms"]}
    )
    for item in (order, by_sms):
        _issue_without_delivering(pipeline, item, aws["ORDERS_TABLE_NAME"])
        put_order(aws["ORDERS_TABLE_NAME"], _edit_after_issue(item))
    _deliver(pipeline)

    ledger, documents = _ledger(aws), DocumentStore(aws["INVOICE_BUCKET_NAME"])
    record = ledger.find_by_order("ORD-EDITED")
    assert record is not None and record.document_key is not None
    document = parse_invoice(
        documents.get_verified(record.document_key, record.document_version_id, record.document_sha256)
    )
    pdf = documents.get_verified(record.s3_key or "", record.s3_version_id, record.sha256 or "")
    assert document.totals.grand_total == D("52.73") and "52.73 EUR" in _pdf_text(pdf)
    assert "Someone Else" not in _pdf_text(pdf) and "Kraków" in _pdf_text(pdf)

    [email] = [e for e in sent_emails().values() if record.invoice_number in e.subject]
    body = email.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Total: 52.73 EUR" in body and "Dear Zoë Łukasiewicz" in body
    assert "Someone Else" not in body and "Added later" not in body and "99.00" not in body
    assert email.attachment_sha256 == record.sha256  # the email's PDF is the stored one

    sms_record = ledger.find_by_order("ORD-EDITED-SMS")
    assert sms_record is not None
    [(_, text)] = [t for t in sent_texts().values() if sms_record.invoice_number in t[1]]
    assert "52.73 EUR" in text

    # Each vendor's invoice is the customer document's lines, not the edited item's.
    for vendor_id in document.vendor_ids:
        vendor = ledger.find_by_order("ORD-EDITED", InvoiceKind.VENDOR, vendor_id)
        assert vendor is not None and vendor.document_key is not None
        vendor_document = parse_document(
            documents.get_verified(vendor.document_key, vendor.document_version_id, vendor.document_sha256)
        )
        assert isinstance(vendor_document, VendorInvoiceDocument)
        assert vendor_document.customer_invoice_sha256 == record.document_sha256
        assert vendor_document.statement.lines == [
            line for line in document.lines if line.vendor_id == vendor_id
        ]

    api = load_module("invoices_api")
    event = http_api_event("GET", f"/invoices/{record.invoice_number}", {}, "/invoices/{invoice_number}", {})
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "CUST-42", "role": "customer"}}}
    event["pathParameters"] = {"invoice_number": record.invoice_number}
    summary = json.loads(api.lambda_handler(event, FakeLambdaContext(function_name="api"))["body"])
    assert summary["grand_total"] == "52.73" and summary["document_sha256"] == record.document_sha256
    assert summary["tax_lines"] == [
        {"rate": "0.05", "net": "18.00", "tax": "0.90", "gross": "18.90"},
        {"rate": "0.23", "net": "27.50", "tax": "6.33", "gross": "33.83"},
    ]
    assert not pipeline.dead_letters


# --- 2 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("edit", ["invalid", "valid with other totals"])
def test_a_number_allocated_before_a_crash_is_issued_from_its_frozen_document_then_the_edit_counts(
    aws: dict[str, str], pipeline: LocalPipeline, edit: str
) -> None:
    generator = load_module("invoice_generator")
    completion = generator.issuer._completion
    real_render = completion._render
    completion._render = lambda document: (_ for _ in ()).throw(RuntimeError("renderer crashed"))
    order = make_order(order_id="ORD-CRASH")
    put_order(aws["ORDERS_TABLE_NAME"], order)
    pipeline.generator._handler = generator.lambda_handler
    pipeline.generator.run_until_quiescent()
    numbered = _ledger(aws).find_by_order("ORD-CRASH")
    assert numbered is not None and numbered.status.value == "NUMBERED"

    completion._render = real_render
    edited = copy.deepcopy(order)
    if edit == "invalid":
        edited["items"][0]["quantity"] = D(0)  # QUANTITY_NOT_POSITIVE, and every total off
    else:
        edited["items"][0]["unit_price"] = D("15.28")
        totals = price_order(Order.model_validate(edited)).totals
        edited["totals"] = {name: getattr(totals, name) for name in edited["totals"]}
        edited["payment"]["amount_captured"] = totals.grand_total
        assert validate_order_item(edited).is_valid and totals.grand_total == D("63.90")
    put_order(aws["ORDERS_TABLE_NAME"], edited)  # completed -> completed: the stream delivers it
    put_order(aws["ORDERS_TABLE_NAME"], make_order(order_id="ORD-NEXT"))
    _deliver(pipeline)

    ledger = _ledger(aws)
    issued = ledger.get_invoice(numbered.invoice_number)
    assert issued is not None and issued.status.value == "ISSUED"
    assert issued.grand_total == D("52.73") and issued.document_sha256 == numbered.document_sha256
    pdf = DocumentStore(aws["INVOICE_BUCKET_NAME"]).get_verified(
        issued.s3_key or "", issued.s3_version_id, issued.sha256 or ""
    )
    assert "52.73 EUR" in _pdf_text(pdf)
    [announced] = [e for e in _events(aws, "InvoiceIssued") if e["invoice_number"] == numbered.invoice_number]
    assert announced["grand_total"] == "52.73"
    [email] = [e for e in sent_emails().values() if issued.invoice_number in e.subject]
    assert "Total: 52.73 EUR" in email.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    # Then the edit counts as what it is: a valid one corrects the invoice once it is issued (a
    # credit note and a revised invoice), an invalid one is refused and the invoice stands.
    current = ledger.find_by_order("ORD-CRASH")
    assert current is not None
    if edit == "invalid":
        assert current.invoice_number == numbered.invoice_number and issued.credit_notes == []
    else:
        assert (current.invoice_number, current.replaces) == ("INV-2026-000002", numbered.invoice_number)
        assert current.grand_total == D("63.90") and issued.credit_notes == ["CN-2026-000001"]
    nxt = ledger.find_by_order("ORD-NEXT")
    expected = 2 if edit == "invalid" else 3  # contiguous: no number spent for nothing
    assert nxt is not None and nxt.invoice_number == f"INV-2026-{expected:06d}"
    assert ledger.last_sequence("INV", 2026) == expected


# --- 3 ----------------------------------------------------------------------------------------


def test_a_validation_failure_recorded_while_the_bus_is_down_is_announced_exactly_once(
    aws: dict[str, str], pipeline: LocalPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher = load_module("outbox_publisher")
    events_client = publisher.outbox._events._client
    real_put = events_client.put_events
    events_client.put_events = lambda **_: (_ for _ in ()).throw(ConnectionError("EventBridge unreachable"))
    pipeline.outbox._handler = publisher.lambda_handler
    bad = make_order(order_id="ORD-BAD", items=[])
    put_order(aws["ORDERS_TABLE_NAME"], bad)
    pipeline.run_until_quiet()
    assert not _events(aws, "InvoiceValidationFailed")
    failure = _ledger(aws).get_validation_failure("ORD-BAD")
    assert failure is not None and failure.status == "OPEN"

    # The same record again (a retry of the generator): recorded, not announced a second time.
    pipeline.generator.redeliver_everything()
    events_client.put_events = real_put
    pipeline.run_until_quiet()  # the stream gave up on the first entry; there is no second one
    assert not _events(aws, "InvoiceValidationFailed")

    report = _tick(_sweep(monkeypatch))
    assert report["kinds"]["EVENT_UNPUBLISHED"]["redriven"] == 1
    [announced] = _events(aws, "InvoiceValidationFailed")
    assert announced["order_id"] == "ORD-BAD" and announced["issues"][0]["code"] == "ITEMS_EMPTY"
    assert _tick(_sweep(monkeypatch))["kinds"]["EVENT_UNPUBLISHED"]["count"] == 0
    assert not _events(aws, "InvoiceValidationFailed")


# --- 4 ----------------------------------------------------------------------------------------


def _inbox(aws: dict[str, str]) -> list[str]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=aws["OPERATIONS_INBOX_QUEUE_URL"], MaxNumberOfMessages=10).get(
        "Messages", []
    )
    for message in messages:
        sqs.delete_message(QueueUrl=aws["OPERATIONS_INBOX_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in messages]


def test_a_failed_digest_loses_neither_the_reminders_nor_the_24_hour_warnings(
    aws: dict[str, str], pipeline: LocalPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = make_order(order_id="ORD-LATE", completed_at=(datetime.now(UTC) - timedelta(hours=21)).isoformat())
    late["customer"]["preferred_channels"] = ["email"]
    _issue_without_delivering(pipeline, late, aws["ORDERS_TABLE_NAME"])  # the dispatcher is down
    put_order(aws["ORDERS_TABLE_NAME"], make_order(order_id="ORD-BROKEN", items=[]))
    pipeline.generator.run_until_quiescent()
    pipeline.outbox.run_until_quiescent()
    number = _ledger(aws).find_by_order("ORD-LATE").invoice_number  # type: ignore[union-attr]

    sweeper = _sweep(monkeypatch)
    sns = sweeper.sweeper._alerts._client
    real_publish = sns.publish
    sns.publish = lambda **_: (_ for _ in ()).throw(ConnectionError("SNS unreachable"))
    first = _tick(sweeper)
    assert first["digest_published"] is False and not _inbox(aws)

    sns.publish = real_publish
    second = _tick(sweeper)
    [digest] = _inbox(aws)
    assert second["digest_published"] is True
    assert "About to miss the 24-hour target" in digest and number in digest
    assert "VALIDATION_FAILURE ORD-BROKEN" in digest
    _tick(sweeper)
    assert not _inbox(aws)  # told once, marked once


# --- 5 and 6 ----------------------------------------------------------------------------------


def _vendor_numbers(aws: dict[str, str], order_id: str) -> dict[str, str]:
    ledger = _ledger(aws)
    found = {}
    for vendor_id in ("V-BOOKS", "V-HOME"):
        record = ledger.find_by_order(order_id, InvoiceKind.VENDOR, vendor_id)
        if record is not None:
            found[vendor_id] = f"{record.invoice_number} {record.status.value}"
    return found


def test_vendor_invoices_whose_invoicer_keeps_failing_are_re_driven_by_the_sweep(
    aws: dict[str, str], pipeline: LocalPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor_stage = pipeline.event_stages[0]
    working = vendor_stage.handler
    vendor_stage.handler = lambda event, context: (_ for _ in ()).throw(
        TimeoutError("Vendors read throttled")
    )
    put_order(aws["ORDERS_TABLE_NAME"], make_order(order_id="ORD-VENDORS"))
    pipeline.run_until_quiet()
    assert vendor_stage.dead_letters  # Lambda's async retries gave up: the on-failure queue has it
    assert _vendor_numbers(aws, "ORD-VENDORS") == {}
    due = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": "ORDER#ORD-VENDORS"}, "sk": {"S": "VENDOR_INVOICES"}},
    )["Item"]
    assert due["sweep_kind"]["S"] == "VENDOR_INVOICES_DUE"

    vendor_stage.handler = working
    report = _tick(_sweep(monkeypatch))
    pipeline.run_until_quiet()
    assert report["kinds"]["VENDOR_INVOICES_DUE"]["redriven"] == 1
    assert _vendor_numbers(aws, "ORD-VENDORS") == {
        "V-BOOKS": "VND-2026-000001 ISSUED",
        "V-HOME": "VND-2026-000002 ISSUED",
    }
    vendor_emails = [e for e in sent_emails().values() if e.subject.startswith("SayPro vendor invoice")]
    assert len(vendor_emails) == 2
    assert _tick(_sweep(monkeypatch))["kinds"]["VENDOR_INVOICES_DUE"]["count"] == 0


def test_a_vendor_invoice_stored_but_never_marked_issued_is_finished_and_sent_once(
    aws: dict[str, str], pipeline: LocalPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoicer = load_module("vendor_invoicer")
    ledger = invoicer.invoicer._ledger
    real_mark = ledger.mark_issued

    def crash_after_storing(*args: Any, **kwargs: Any) -> bool:
        raise SystemExit("the function died right after storing the vendor PDF")  # no except catches it

    ledger.mark_issued = crash_after_storing
    vendor_stage = pipeline.event_stages[0]

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return invoicer.lambda_handler(event, context)
        except SystemExit as crash:
            raise RuntimeError(str(crash)) from None  # Lambda records the crash as a failed attempt

    vendor_stage.handler = invoke
    put_order(aws["ORDERS_TABLE_NAME"], make_order(order_id="ORD-HALF"))
    pipeline.run_until_quiet()
    assert _vendor_numbers(aws, "ORD-HALF") == {"V-BOOKS": "VND-2026-000001 STORED"}

    ledger.mark_issued = real_mark
    _tick(_sweep(monkeypatch))
    pipeline.run_until_quiet()
    assert _vendor_numbers(aws, "ORD-HALF") == {
        "V-BOOKS": "VND-2026-000001 ISSUED",
        "V-HOME": "VND-2026-000002 ISSUED",
    }
    subjects = sorted(
        e.subject for e in sent_emails().values() if e.subject.startswith("SayPro vendor invoice")
    )
    assert subjects == [
        "SayPro vendor invoice VND-2026-000001 for order ORD-HALF",
        "SayPro vendor invoice VND-2026-000002 for order ORD-HALF",
    ]


def test_a_corrected_order_that_fails_after_numbering_is_finished_by_its_next_change(
    aws: dict[str, str], pipeline: LocalPipeline
) -> None:
    broken = make_order(order_id="ORD-FIXED", items=[])
    put_order(aws["ORDERS_TABLE_NAME"], broken)
    pipeline.run_until_quiet()
    assert _ledger(aws).get_validation_failure("ORD-FIXED").status == "OPEN"  # type: ignore[union-attr]

    generator = load_module("invoice_generator")
    completion = generator.issuer._completion
    real_put = completion._documents.put_invoice_pdf
    completion._documents.put_invoice_pdf = lambda *a, **k: (_ for _ in ()).throw(ConnectionError("S3 down"))
    pipeline.generator._handler = generator.lambda_handler
    put_order(aws["ORDERS_TABLE_NAME"], make_order(order_id="ORD-FIXED"))  # the storefront corrects it
    pipeline.run_until_quiet()
    record = _ledger(aws).find_by_order("ORD-FIXED")
    assert record is not None and record.status.value == "NUMBERED"

    completion._documents.put_invoice_pdf = real_put
    fixed = make_order(order_id="ORD-FIXED")
    fixed["shipping"]["tracking_reference"] = "TRK2"  # any later write of the completed order
    put_order(aws["ORDERS_TABLE_NAME"], fixed)
    pipeline.run_until_quiet()
    record = _ledger(aws).find_by_order("ORD-FIXED")
    assert record is not None and record.status.value == "ISSUED"
    failure = _ledger(aws).get_validation_failure("ORD-FIXED")
    assert failure is not None and failure.status == "RESOLVED"


# --- 7 ----------------------------------------------------------------------------------------


def test_every_entry_of_a_large_backlog_is_reminded_once_in_small_digests(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """More entries of one kind than the old fixed cap (1,000): every one is counted every tick,
    each is listed exactly once, and no digest comes near SNS's limit."""
    ledger = _ledger(aws)
    issue = ValidationIssue(code=IssueCode.ITEMS_EMPTY, field="items", message="the order has no items")
    ledger.record_validation_failure(
        "ORD-BAD-0000", "CUST-1", [issue], datetime.now(UTC) - timedelta(minutes=10)
    )
    dynamodb, table = boto3.client("dynamodb"), aws["INVOICES_TABLE_NAME"]
    template = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "ORDER#ORD-BAD-0000"}, "sk": {"S": "VALIDATION_FAILURE"}}
    )["Item"]
    clones = [
        {**template, "pk": {"S": f"ORDER#ORD-BAD-{i:04d}"}, "order_id": {"S": f"ORD-BAD-{i:04d}"}}
        for i in range(1, BACKLOG)
    ]
    for start in range(0, len(clones), 25):  # the same item the ledger writes, for 1,199 more orders
        batch = [{"PutRequest": {"Item": item}} for item in clones[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})
    sweeper = _sweep(monkeypatch, DIGEST_MAX_ITEMS="500")
    digests = []
    for _ in range(5):
        report = _tick(sweeper)
        assert report["kinds"]["VALIDATION_FAILURE"]["count"] == BACKLOG  # the whole backlog, every tick
        digests += _inbox(aws)
    assert len(digests) == -(-BACKLOG // 500)  # 500 listed a tick, the rest summarized; then quiet
    assert max(len(d.encode()) for d in digests) < 128 * 1024  # far below SNS's 256 KB, at 500 a digest
    assert f"{BACKLOG - 500} more VALIDATION_FAILURE" in digests[0]
    listed = [line for d in digests for line in d.splitlines() if line.startswith("  - VALIDATION_FAILURE")]
    assert len(listed) == len({line.split(":")[0] for line in listed}) == BACKLOG  # each once, none skipped
    entries = [e for page in SweepIndex(table).backlog(SweepKind.VALIDATION_FAILURE) for e in page]
    assert len(entries) == BACKLOG and all(e.reminded_at is not None for e in entries)


def test_an_email_whose_send_was_not_recorded_is_settled_by_ses_own_event(
    aws: dict[str, str], pipeline: LocalPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = load_module("invoice_dispatcher")
    deliveries = dispatcher.dispatcher._deliveries
    real_mark = deliveries.mark_sent
    deliveries.mark_sent = lambda *a, **k: (_ for _ in ()).throw(ConnectionError("DynamoDB unreachable"))
    pipeline.event_stages[1].handler = dispatcher.lambda_handler
    put_order(aws["ORDERS_TABLE_NAME"], make_order(order_id="ORD-DOUBT"))
    pipeline.run_until_quiet()
    record = _ledger(aws).find_by_order("ORD-DOUBT")
    assert record is not None
    [email] = [e for e in sent_emails().values() if record.invoice_number in e.subject]
    [claim] = [
        d
        for d in dispatcher.dispatcher._deliveries.deliveries(record.invoice_number)
        if d["channel"] == "email"
    ]
    assert claim["status"] == "SENDING"  # in doubt: sent, but not recorded
    deliveries.mark_sent = real_mark

    # SES's Send event echoes the message tags the dispatcher set: the webhook settles the claim.
    from moto.ses.models import ses_backends

    [raw] = [m for m in ses_backends["123456789012"]["eu-west-1"].sent_messages if m.id == email.message_id]
    sns = LocalSns.create(aws["NOTIFICATION_TOPIC_ARNS"])
    webhook = load_module("delivery_webhook")
    webhook.certificates.preload(sns.certificate_url, sns.certificate_pem)
    tags = {
        "invoice_number": record.invoice_number,
        "delivery": claim["sk"].removeprefix("DELIVERY#").replace("#", "-"),
    }
    event = http_api_event("POST", "/webhooks/ses", {}, "/webhooks/ses", {})
    event["body"] = json.dumps(sns.notification(ses_send(raw.id, "zoe@example.com", tags)))
    answer = webhook.lambda_handler(event, FakeLambdaContext(function_name="webhook"))
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["settled_in_doubt"] is True

    [settled] = [d for d in deliveries.deliveries(record.invoice_number) if d["channel"] == "email"]
    assert settled["status"] == "SENT" and settled["provider_message_id"] == raw.id
    assert "sweep_kind" not in settled
    pipeline.run_until_quiet()
    [sent] = [e for e in _events(aws, "InvoiceSent") if e["invoice_number"] == record.invoice_number]
    assert sent["settled_by"] == "provider-notification"
    _tick(_sweep(monkeypatch))
    pipeline.run_until_quiet()
    in_doubt = [
        e.pk
        for page in SweepIndex(aws["INVOICES_TABLE_NAME"]).backlog(SweepKind.DELIVERY_IN_DOUBT)
        for e in page
    ]
    # Settled: this invoice is out of doubt; its vendors' emails (the same outage) wait for their own events.
    assert f"INVOICE#{record.invoice_number}" not in in_doubt and len(in_doubt) == 2
    assert len([e for e in sent_emails().values() if record.invoice_number in e.subject]) == 1


def test_a_text_in_doubt_is_settled_by_a_person_and_then_sent_once(
    aws: dict[str, str], pipeline: LocalPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ops.settle_send import main as settle

    dispatcher = load_module("invoice_dispatcher")
    sms = dispatcher.dispatcher._sms
    real_send = sms.send
    sms.send = lambda *a, **k: (_ for _ in ()).throw(
        ConnectionResetError("connection reset after the request")
    )
    pipeline.event_stages[1].handler = dispatcher.lambda_handler
    order = make_order(order_id="ORD-SMS-DOUBT")
    order["customer"]["preferred_channels"] = ["sms"]
    put_order(aws["ORDERS_TABLE_NAME"], order)
    pipeline.run_until_quiet()
    record = _ledger(aws).find_by_order("ORD-SMS-DOUBT")
    assert record is not None
    [claim] = [
        d
        for d in dispatcher.dispatcher._deliveries.deliveries(record.invoice_number)
        if d["channel"] == "sms"
    ]
    assert claim["status"] == "SENDING"
    sms.send = real_send

    sweeper = _sweep(monkeypatch, IN_DOUBT_AFTER_SECONDS="60")
    in_doubt_index = SweepIndex(aws["INVOICES_TABLE_NAME"])
    [entry] = [e for page in in_doubt_index.backlog(SweepKind.DELIVERY_IN_DOUBT) for e in page]
    assert entry.sk == claim["sk"]
    monkeypatch.setenv("INVOICES_TABLE_NAME", aws["INVOICES_TABLE_NAME"])
    assert settle([record.invoice_number, claim["sk"], "--not-sent", "--note", "no SMS in the SNS log"]) == 0
    assert settle([record.invoice_number, claim["sk"], "--not-sent", "--note", "again"]) == 1  # settled once

    _tick(sweeper)
    pipeline.run_until_quiet()
    texts = [t for t in sent_texts().values() if record.invoice_number in t[1]]
    assert len(texts) == 1
    _tick(sweeper)
    pipeline.run_until_quiet()
    assert len([t for t in sent_texts().values() if record.invoice_number in t[1]]) == 1
