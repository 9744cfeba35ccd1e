"""The bounce webhook's verification and the SLA sweep's cost, offline.

1. Verifying one SNS message (RSA-2048 PKCS#1 v1.5, SHA1 and SHA256), certificate cached.
2. One sweep tick on in-process moto as the backlog grows, with an Orders table of thousands of
   items beside it: the DynamoDB requests (and the Orders items read) follow the backlog, never
   the table. Times include moto's emulation; compare versions of our code with them, not AWS.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench.documents import order_item


@dataclass(frozen=True)
class SweepTiming:
    backlog: int
    orders_in_table: int
    tick_ms: float
    dynamodb_requests: int
    orders_requests: int


def verify_timing(rounds: int = 300) -> dict[str, float]:
    """Median microseconds to verify one notification, per signature version."""
    from infra.local.sns_signer import LocalSns, ses_delivery
    from invoicing.adapters.sns_certificates import SnsCertificates
    from invoicing.domain.sns_messages import verify_sns_message

    topic = "arn:aws:sns:eu-west-1:123456789012:bench-ses-notifications"
    sns = LocalSns.create(topic)
    certificates = SnsCertificates(download=lambda url: sns.certificate_pem)
    results = {}
    for version in ("1", "2"):
        message = sns.notification(ses_delivery("0100018c-bench", "someone@example.com"), version)
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            verify_sns_message(message, fetch_certificate=certificates, allowed_topics={topic})
            samples.append(time.perf_counter() - started)
        results[version] = statistics.median(samples) * 1e6
    return results


def sweep_timing(backlogs: tuple[int, ...] = (0, 50, 200), orders_in_table: int = 3000) -> list[SweepTiming]:
    from moto import mock_aws

    from infra.local import moto_patches

    moto_patches.apply()  # moto's TransactWriteItems copies whole tables (see its docstring)

    from infra.local.provisioning import provision

    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        POWERTOOLS_LOG_LEVEL="ERROR",
        POWERTOOLS_TRACE_DISABLED="true",
    )
    results = []
    try:
        with mock_aws():
            names = provision(prefix="bench")
            dynamodb = boto3.client("dynamodb")
            _fill_orders(dynamodb, names["ORDERS_TABLE_NAME"], orders_in_table)
            issued = 0
            for backlog in backlogs:
                issued = _issue_undelivered(names, dynamodb, issued, backlog)
                results.append(_tick(names, dynamodb, backlog, orders_in_table))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return results


def _fill_orders(dynamodb: Any, table: str, count: int) -> None:
    for index in range(count):
        dynamodb.put_item(
            TableName=table,
            Item={"order_id": {"S": f"ORD-HISTORY-{index:06d}"}, "status": {"S": "COMPLETED"}},
        )


def _issue_undelivered(names: dict[str, str], dynamodb: Any, start: int, backlog: int) -> int:
    """`backlog` invoices issued whose delivery never happened (the dispatcher was down)."""
    from invoicing.adapters.document_store import DocumentStore
    from invoicing.adapters.invoice_ledger import InvoiceLedger
    from invoicing.domain.invoice import Seller
    from invoicing.services.invoice_issuing import InvoiceIssuer

    # Everything already in the index is settled first, so each tick sees exactly `backlog`.
    _settle_index(names, dynamodb)
    issuer = InvoiceIssuer(
        ledger=InvoiceLedger(names["INVOICES_TABLE_NAME"], dynamodb),
        documents=DocumentStore(names["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: b"%PDF-1.7 " + document.invoice_number.encode(),
        series="INV",
        seller=Seller(),
        clock=lambda: datetime.now(UTC) - timedelta(minutes=10),
    )
    for index in range(start, start + backlog):
        order = order_item(3, order_id=f"ORD-SWEEP-{index:05d}")
        issuer.issue(order["order_id"], order)
    # Their announcements as published, their vendor invoices as issued: only the unsent invoices stay.
    _settle_index(names, dynamodb, keep="INVOICE_UNSENT")
    return start + backlog


def _settle_index(names: dict[str, str], dynamodb: Any, keep: str | None = None) -> None:
    """Bench set-up only (it scans): take out of the sweep index what this measurement is not about."""
    params: dict[str, Any] = {"TableName": names["INVOICES_TABLE_NAME"]}
    while True:
        page = dynamodb.scan(**params)
        for item in page["Items"]:
            kind = item.get("sweep_kind", {}).get("S")
            if kind and kind != keep:
                dynamodb.update_item(
                    TableName=names["INVOICES_TABLE_NAME"],
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="REMOVE sweep_kind",
                )
        if "LastEvaluatedKey" not in page:
            return
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _tick(names: dict[str, str], dynamodb: Any, backlog: int, orders_in_table: int) -> SweepTiming:
    from invoicing.adapters.event_publisher import EventPublisher
    from invoicing.adapters.invoice_ledger import InvoiceLedger
    from invoicing.adapters.operations_alerts import OperationsAlerts
    from invoicing.adapters.outbox import Outbox
    from invoicing.adapters.party_records import OrderItems
    from invoicing.adapters.stream_failures import StreamFailures
    from invoicing.adapters.sweep_index import SweepIndex
    from invoicing.services.sla_sweep import SlaSweeper, SweepPolicy

    requests: list[tuple[str, str]] = []

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        requests.append((model.name, str(params.get("TableName", ""))))

    from invoicing.observability import logger

    logger.setLevel("ERROR")  # one warning per re-drive would bury the table
    dynamodb.meta.events.register("provide-client-params.dynamodb.*", count)
    ledger = InvoiceLedger(names["INVOICES_TABLE_NAME"], dynamodb)
    sweeper = SlaSweeper(
        index=SweepIndex(names["INVOICES_TABLE_NAME"], dynamodb),
        stream_failures=StreamFailures(names["GENERATOR_ON_FAILURE_QUEUE_URL"]),
        load_order=OrderItems(names["ORDERS_TABLE_NAME"], dynamodb).get,
        issuer=None,  # type: ignore[arg-type]  (no failed stream batches in this bench)
        ledger=ledger,
        events=EventPublisher(names["EVENT_BUS_NAME"]),
        outbox=Outbox(names["INVOICES_TABLE_NAME"], EventPublisher(names["EVENT_BUS_NAME"]), dynamodb),
        alerts=OperationsAlerts(names["OPERATIONS_TOPIC_ARN"]),
        policy=SweepPolicy(grace=timedelta(minutes=2)),
    )
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        report = sweeper.sweep()
    elapsed = time.perf_counter() - started
    dynamodb.meta.events.unregister("provide-client-params.dynamodb.*", count)
    from invoicing.domain.sla import SweepKind

    if report.kinds[SweepKind.INVOICE_UNSENT].redriven != backlog:
        raise RuntimeError(f"expected {backlog} re-drives, got {report.kinds[SweepKind.INVOICE_UNSENT]}")
    return SweepTiming(
        backlog=backlog,
        orders_in_table=orders_in_table,
        tick_ms=elapsed * 1000,
        dynamodb_requests=len(requests),
        orders_requests=sum(1 for _, table in requests if table == names["ORDERS_TABLE_NAME"]),
    )
