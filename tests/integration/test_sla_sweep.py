"""The SLA sweep on moto: stuck orders and invoices pushed through once, people told, no scans."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infra.local.demo_sla import scheduled_tick
from infra.local.event_runner import eventbridge_event
from infra.local.orders import put_order
from infra.local.outbox import sent_emails
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler
from infra.local.stream_runner import StreamRunner
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.operations_alerts import OperationsAlerts
from invoicing.adapters.outbox import Outbox
from invoicing.adapters.party_records import OrderItems
from invoicing.adapters.stream_failures import StreamFailures
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.documents import parse_invoice
from invoicing.domain.invoice import Seller
from invoicing.domain.sla import SweepKind
from invoicing.domain.validation import IssueCode, ValidationIssue
from invoicing.services.invoice_issuing import InvoiceIssuer
from invoicing.services.sla_sweep import SlaSweeper, SweepPolicy
from tests.conftest import make_order

COMPLETED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class DynamoDbCalls:
    """Every DynamoDB operation made, with the table and index it touched."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        client.meta.events.register("provide-client-params.dynamodb.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, str(params.get("TableName", "")), params.get("IndexName")))


def _order(order_id: str, completed: datetime = COMPLETED, **overrides: Any) -> dict[str, Any]:
    stamp = completed.isoformat().replace("+00:00", "Z")
    return make_order(order_id=order_id, completed_at=stamp, **overrides)


@pytest.fixture
def world(aws: dict[str, str], publish_outbox: Callable[[], int]) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb")
    calls = DynamoDbCalls(dynamodb)
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"], dynamodb)
    clock = Clock(COMPLETED + timedelta(minutes=1))
    issuer = InvoiceIssuer(
        ledger=ledger,
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: b"%PDF-1.7 " + document.invoice_number.encode(),
        series="INV",
        seller=Seller(),
        clock=clock,
    )

    def sweeper(streams: Any | None = None) -> SlaSweeper:
        events = EventPublisher(aws["EVENT_BUS_NAME"])
        return SlaSweeper(
            index=SweepIndex(aws["INVOICES_TABLE_NAME"], dynamodb),
            stream_failures=StreamFailures(aws["GENERATOR_ON_FAILURE_QUEUE_URL"], streams=streams),
            load_order=OrderItems(aws["ORDERS_TABLE_NAME"], dynamodb).get,
            issuer=issuer,
            ledger=ledger,
            events=events,
            outbox=Outbox(aws["INVOICES_TABLE_NAME"], events, dynamodb),
            alerts=OperationsAlerts(aws["OPERATIONS_TOPIC_ARN"]),
            policy=SweepPolicy(grace=timedelta(minutes=2), reminder_interval=timedelta(hours=6)),
            clock=clock,
        )

    return {
        "names": aws,
        "ledger": ledger,
        "issuer": issuer,
        "clock": clock,
        "calls": calls,
        "sweeper": sweeper,
        "publish_outbox": publish_outbox,
    }


def events_of(world: dict[str, Any], detail_type: str) -> list[dict[str, Any]]:
    """What reached the bus of one detail-type (the outbox published first, as its stream would)."""
    world["publish_outbox"]()
    return [
        e for e in read_events(world["names"]["EVENTS_OBSERVER_QUEUE_URL"]) if e["detail-type"] == detail_type
    ]


def drain_bus(world: dict[str, Any]) -> None:
    """Publish what the outbox holds and drop it (nobody consumed it)."""
    world["publish_outbox"]()
    read_events(world["names"]["EVENTS_OBSERVER_QUEUE_URL"])


def operations_inbox(world: dict[str, Any]) -> list[str]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=world["names"]["OPERATIONS_INBOX_QUEUE_URL"], MaxNumberOfMessages=10
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(
            QueueUrl=world["names"]["OPERATIONS_INBOX_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
        )
    return [m["Body"] for m in messages]


def _generator_failing_for(order_id: str) -> Any:
    """The real generator, except that it crashes on one order's records (say, a bug or an outage)."""
    generator = load_handler("invoice_generator")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if any(r["dynamodb"]["Keys"]["order_id"]["S"] == order_id for r in event["Records"]):
            raise RuntimeError("generator crashed")
        return generator(event, context)

    return handler


def test_an_order_whose_stream_record_failed_is_invoiced_without_scanning_orders(
    world: dict[str, Any],
) -> None:
    names = world["names"]
    stream = StreamRunner(
        names["ORDERS_TABLE_NAME"],
        _generator_failing_for("ORD-FAILED"),
        on_failure_queue_url=names["GENERATOR_ON_FAILURE_QUEUE_URL"],
    )
    for i in range(12):
        put_order(names["ORDERS_TABLE_NAME"], _order(f"ORD-OK-{i}"))
    put_order(names["ORDERS_TABLE_NAME"], _order("ORD-FAILED"))
    stream.run_until_quiescent()
    assert len(stream.stats.sent_to_on_failure) == 1 and world["ledger"].find_by_order("ORD-FAILED") is None
    drain_bus(world)
    world["calls"].calls.clear()

    report = world["sweeper"]().sweep()

    record = world["ledger"].find_by_order("ORD-FAILED")
    assert record is not None and record.status.value == "ISSUED"
    assert world["ledger"].last_sequence("INV", record.issued_at.year) == 13  # gapless, no duplicate
    [issued] = events_of(world, "InvoiceIssued")
    assert issued["detail"]["order_id"] == "ORD-FAILED"
    assert report.kinds[SweepKind.ORDER_UNINVOICED].redriven == 1
    assert not [c for c in world["calls"].calls if c[0] == "Scan"]
    orders_calls = [c for c in world["calls"].calls if c[1] == names["ORDERS_TABLE_NAME"]]
    assert orders_calls == [("GetItem", names["ORDERS_TABLE_NAME"], None)]  # that one order, by key

    # Settled: the on-failure queue is empty and the next tick has nothing to do.
    again = world["sweeper"]().sweep()
    assert again.kinds[SweepKind.ORDER_UNINVOICED].count == 0
    assert not events_of(world, "InvoiceIssued")


def test_a_failed_batch_whose_records_left_the_stream_is_reported_not_dropped(world: dict[str, Any]) -> None:
    names = world["names"]
    stream_arn = boto3.client("dynamodb").describe_table(TableName=names["ORDERS_TABLE_NAME"])["Table"][
        "LatestStreamArn"
    ]
    boto3.client("sqs").send_message(
        QueueUrl=names["GENERATOR_ON_FAILURE_QUEUE_URL"],
        MessageBody=json.dumps(
            {
                "requestContext": {"condition": "RecordAgeExceeded"},
                "timestamp": COMPLETED.isoformat(),
                "DDBStreamBatchInfo": {
                    "shardId": "shardId-00000001573689847184-864758bb",
                    "startSequenceNumber": "800000000003126276362",
                    "endSequenceNumber": "800000000003126276382",
                    "approximateArrivalOfFirstRecord": (COMPLETED - timedelta(hours=30)).isoformat(),
                    "batchSize": 21,
                    "streamArn": stream_arn,
                },
            }
        ),
    )

    # What DynamoDB Streams answers past its 24 hours (moto keeps every record, so it is stubbed).
    streams = boto3.client("dynamodbstreams")
    with Stubber(streams) as trimmed:
        trimmed.add_client_error("get_shard_iterator", service_error_code="TrimmedDataAccessException")
        report = world["sweeper"](streams).sweep()

    assert report.at_risk == 1 and report.kinds[SweepKind.ORDER_UNINVOICED].count == 1
    [digest] = operations_inbox(world)
    assert "800000000003126276362..800000000003126276382" in digest and "RecordAgeExceeded" in digest


def _issue_without_delivery(world: dict[str, Any], count: int) -> list[str]:
    """Invoices issued while the dispatcher was down: their InvoiceIssued events are gone."""
    numbers = []
    for i in range(count):
        order = _order(f"ORD-LOST-{i}")
        put_order(world["names"]["ORDERS_TABLE_NAME"], order)
        numbers.append(world["issuer"].issue(order["order_id"], order).invoice_number)
    drain_bus(world)
    return numbers


def _dispatch(world: dict[str, Any], events: list[dict[str, Any]]) -> None:
    dispatcher = load_handler("invoice_dispatcher")
    for event in events:
        dispatcher(eventbridge_event(event), FakeLambdaContext(function_name="dispatcher"))


def test_a_sweep_run_twice_over_the_same_backlog_sends_each_invoice_once(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoicing.settings import dispatcher_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    dispatcher_settings.cache_clear()
    numbers = _issue_without_delivery(world, 3)
    world["clock"].now = COMPLETED + timedelta(minutes=5)

    first, second = world["sweeper"]().sweep(), world["sweeper"]().sweep()
    due = events_of(world, "InvoiceDeliveryDue")
    assert first.kinds[SweepKind.INVOICE_UNSENT].redriven == 3
    assert second.kinds[SweepKind.INVOICE_UNSENT].redriven == 0  # taken by the first, not due again yet
    assert sorted(e["detail"]["invoice_number"] for e in due) == numbers

    # Later sweeps re-drive again (backoff passed) while the first re-drives are still queued.
    world["clock"].now += timedelta(minutes=10)
    world["sweeper"]().sweep()
    due += events_of(world, "InvoiceDeliveryDue")
    assert len(due) == 6
    _dispatch(world, due)
    assert len(events_of(world, "InvoiceSent")) == 3

    emails = sent_emails()
    assert sorted(n for e in emails.values() for n in numbers if n in e.subject) == numbers
    assert len(emails) == 3
    world["clock"].now += timedelta(hours=1)
    report = world["sweeper"]().sweep()
    assert report.kinds[SweepKind.INVOICE_UNSENT].count == 0  # all sent: out of the index
    assert not events_of(world, "InvoiceDeliveryDue")


def test_an_invoice_numbered_but_never_issued_is_finished_with_its_number(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _order("ORD-CRASHED")
    put_order(world["names"]["ORDERS_TABLE_NAME"], order)
    issuer: InvoiceIssuer = world["issuer"]
    crash: Callable[..., None] = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("S3 unavailable"))  # noqa: E731
    with monkeypatch.context() as outage:
        outage.setattr(DocumentStore, "put_invoice_pdf", crash)
        with pytest.raises(RuntimeError):
            issuer.issue("ORD-CRASHED", order)
    numbered = world["ledger"].find_by_order("ORD-CRASHED")
    assert numbered.status.value == "NUMBERED"
    assert not events_of(world, "InvoiceIssued")
    # The storefront edits the order meanwhile; the number was allocated for the frozen document.
    boto3.client("dynamodb").update_item(
        TableName=world["names"]["ORDERS_TABLE_NAME"],
        Key={"order_id": {"S": "ORD-CRASHED"}},
        UpdateExpression="SET customer.#name = :name",
        ExpressionAttributeNames={"#name": "name"},
        ExpressionAttributeValues={":name": {"S": "Someone Else"}},
    )
    # The order itself is accounted for (it has a claim); the invoice's sweep entry finishes it.
    world["clock"].now = COMPLETED + timedelta(minutes=5)

    world["sweeper"]().sweep()

    finished = world["ledger"].find_by_order("ORD-CRASHED")
    assert (finished.invoice_number, finished.status.value) == (numbered.invoice_number, "ISSUED")
    assert world["ledger"].last_sequence("INV", finished.issued_at.year) == 1
    assert finished.document_sha256 == numbered.document_sha256
    [issued] = events_of(world, "InvoiceIssued")
    detail = issued["detail"]
    assert detail["invoice_number"] == numbered.invoice_number
    stored = DocumentStore(world["names"]["INVOICE_BUCKET_NAME"]).get_verified(
        detail["document_key"], detail["document_version_id"], detail["document_sha256"]
    )
    assert detail["document_sha256"] == numbered.document_sha256
    document = parse_invoice(stored)
    assert document.invoice_number == numbered.invoice_number
    assert document.customer.name == order["customer"]["name"]  # the frozen one, not the edit


def test_open_problems_are_reminded_once_per_interval_and_late_invoices_warned_once(
    world: dict[str, Any],
) -> None:
    ledger: InvoiceLedger = world["ledger"]
    issue = ValidationIssue(code=IssueCode.ITEMS_EMPTY, field="items", message="no items")
    ledger.record_validation_failure("ORD-BROKEN", "CUST-1", [issue], COMPLETED)
    late = _order("ORD-LATE", completed=COMPLETED - timedelta(hours=21))
    put_order(world["names"]["ORDERS_TABLE_NAME"], late)
    world["issuer"].issue("ORD-LATE", late)
    drain_bus(world)
    world["clock"].now = COMPLETED + timedelta(minutes=5)

    report = world["sweeper"]().sweep()
    [digest] = operations_inbox(world)
    again = world["sweeper"]().sweep()

    assert report.at_risk == 1 and again.at_risk == 1  # still at risk, but warned only once
    number = world["ledger"].find_by_order("ORD-LATE").invoice_number
    warned, reminded = digest.split("Needs a person:")
    assert "About to miss the 24-hour target:" in warned and number in warned and "ORD-BROKEN" not in warned
    assert "ORD-LATE" not in digest  # the invoice is named by its number
    assert "VALIDATION_FAILURE ORD-BROKEN" in reminded
    [open_now] = [line for line in digest.splitlines() if line.startswith("Open now:")]
    assert "INVOICE_UNSENT 1" in open_now and "VALIDATION_FAILURE 1" in open_now
    assert not operations_inbox(world)
    # The next reminder is due one interval later, and acted on after the sweep's grace.
    world["clock"].now += timedelta(hours=3)
    world["sweeper"]().sweep()
    assert not operations_inbox(world)
    world["clock"].now += timedelta(hours=3, minutes=2)
    world["sweeper"]().sweep()
    [reminder] = operations_inbox(world)
    assert "About to miss the 24-hour target:" not in reminder  # warned once only
    assert "ORD-BROKEN" in reminder.split("Needs a person:")[1]


def test_a_digest_that_could_not_be_published_marks_nothing_and_is_sent_next_tick(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = ValidationIssue(code=IssueCode.ITEMS_EMPTY, field="items", message="no items")
    world["ledger"].record_validation_failure("ORD-BROKEN", "CUST-1", [issue], COMPLETED)
    drain_bus(world)
    world["clock"].now = COMPLETED + timedelta(minutes=5)

    def topic_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("SNS unavailable")

    with monkeypatch.context() as outage:
        outage.setattr(OperationsAlerts, "publish", topic_down)
        failed = world["sweeper"]().sweep()
    assert failed.digest_published is False and not operations_inbox(world)

    retried = world["sweeper"]().sweep()
    [digest] = operations_inbox(world)
    assert retried.digest_published and "VALIDATION_FAILURE ORD-BROKEN" in digest.split("Needs a person:")[1]
    world["sweeper"]().sweep()
    assert not operations_inbox(world)  # marked once told


def test_the_handler_publishes_the_backlog_per_kind_as_emf(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoicing.settings import sweeper_settings

    monkeypatch.setenv("SWEEP_GRACE_SECONDS", "0")
    sweeper_settings.cache_clear()
    _issue_without_delivery(world, 2)
    handler = load_handler("sla_sweeper")
    capsys.readouterr()

    handler(scheduled_tick(), FakeLambdaContext(function_name="sla-sweeper"))

    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    backlog = {m["kind"]: m["BacklogCount"] for m in metrics if "BacklogCount" in m}
    assert backlog["INVOICE_UNSENT"] == [2.0] and backlog["VALIDATION_FAILURE"] == [0.0]
    # Nobody issued their vendors' invoices either: the sweep asks for those too.
    assert backlog["VENDOR_INVOICES_DUE"] == [2.0] and backlog["EVENT_UNPUBLISHED"] == [0.0]
    assert {
        d for m in metrics if "BacklogCount" in m for d in m["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
    } == {
        "service",
        "kind",
    }
    [main] = [m for m in metrics if "Redriven" in m]
    assert main["Redriven"] == [4.0] and main["SlaAtRisk"] == [0.0]


def _correcting_issuer(world: dict[str, Any]) -> InvoiceIssuer:
    return InvoiceIssuer(
        ledger=world["ledger"],
        documents=DocumentStore(world["names"]["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: b"%PDF-1.7 " + document.invoice_number.encode(),
        series="INV",
        seller=Seller(),
        clock=world["clock"],
        credit_note_series="CN",
    )


def _corrected(world: dict[str, Any], order_id: str) -> None:
    from decimal import Decimal

    from tests.conftest import with_derived_totals

    order = _order(order_id)
    put_order(world["names"]["ORDERS_TABLE_NAME"], order)
    issuer = _correcting_issuer(world)
    issuer.issue(order_id, order)
    changed = _order(order_id)
    changed["items"][0]["unit_price"] = Decimal("12.00")
    with_derived_totals(changed)
    put_order(world["names"]["ORDERS_TABLE_NAME"], changed)
    result = issuer.handle_order_change("MODIFY", order_id, order, changed)
    assert result is not None and result.outcome.value == "REVISED"


def test_a_correction_is_watched_until_sent_and_its_48_hour_clock_measured(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoicing.settings import dispatcher_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    dispatcher_settings.cache_clear()
    _corrected(world, "ORD-FIX")
    issued = events_of(world, "InvoiceIssued")  # the original's and the revised invoice's
    world["clock"].now += timedelta(minutes=5)
    report = world["sweeper"]().sweep()
    assert report.kinds[SweepKind.CORRECTION_PENDING].count == 1
    assert report.kinds[SweepKind.CORRECTION_PENDING].settled_seconds == []  # not sent yet

    _dispatch(world, [e for e in issued if e["detail"].get("replaces")])
    world["clock"].now += timedelta(minutes=10)
    report = world["sweeper"]().sweep()
    [seconds] = report.kinds[SweepKind.CORRECTION_PENDING].settled_seconds
    assert 0 <= seconds < 48 * 3600
    world["clock"].now += timedelta(hours=3)
    assert world["sweeper"]().sweep().kinds[SweepKind.CORRECTION_PENDING].count == 0


def test_a_correction_unsent_for_36_hours_is_at_risk_and_operations_are_warned(world: dict[str, Any]) -> None:
    _corrected(world, "ORD-LATE")
    drain_bus(world)
    world["clock"].now += timedelta(hours=37)
    report = world["sweeper"]().sweep()
    assert report.at_risk >= 1
    assert any("CORRECTION_PENDING" in text and "48-hour" in text for text in report.warnings)
    assert any("CORRECTION_PENDING" in body for body in operations_inbox(world))
