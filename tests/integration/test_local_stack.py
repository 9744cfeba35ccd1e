"""The local runtime behind `make demo`: Lambda-shaped records, retries and the on-failure queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.orders import load_order, put_order
from infra.local.stream_runner import StreamRunner, lambda_record
from invoicing.domain.validation import validate_order_item

ROOT = Path(__file__).parents[2]
MANIFEST = json.loads((ROOT / "events" / "orders" / "manifest.json").read_text())["orders"]


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_every_sample_order_validates_as_its_manifest_says(entry: dict[str, Any]) -> None:
    item = load_order(ROOT / "events" / "orders" / entry["file"])
    if entry["write"] == "insert-then-complete":
        item["status"], item["completed_at"] = "COMPLETED", "2026-11-21T15:00:00Z"
    result = validate_order_item(item)
    codes = {issue.code.value for issue in result.issues}
    if entry["expect"] == "invoice":
        assert result.is_valid, result.issues
    else:
        assert set(entry["codes"]) <= codes


def test_sample_numbers_load_as_decimal_never_float() -> None:
    item = load_order(ROOT / "events" / "orders" / "bhd-three-decimals-cyrillic.json")
    assert item["items"][0]["unit_price"] == Decimal("1.125")
    assert isinstance(item["items"][0]["quantity"], Decimal)


def test_moto_records_are_shaped_as_lambda_delivers_them() -> None:
    raw = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
            "Keys": {"order_id": {"S": "ORD-1"}},
            "NewImage": {"order_id": {"S": "ORD-1"}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    shaped = lambda_record(raw, "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x", "eu-west-1")
    assert shaped["eventSourceARN"] == "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x"
    assert shaped["awsRegion"] == "eu-west-1"
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == 1795348800
    sample = json.loads((ROOT / "events" / "dynamodb-stream" / "insert-completed-order.json").read_text())
    assert set(shaped) == set(sample["Records"][0])


def test_a_record_that_always_fails_is_retried_then_bisected_then_sent_to_the_on_failure_queue(
    aws: dict[str, str],
) -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        ids = [r["dynamodb"]["Keys"]["order_id"]["S"] for r in event["Records"]]
        seen.append(ids)
        poison = [r for r in event["Records"] if r["dynamodb"]["Keys"]["order_id"]["S"] == "POISON"]
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in poison]}

    for order_id in ("A", "POISON", "B", "C"):
        put_order(aws["ORDERS_TABLE_NAME"], {"order_id": order_id, "status": "PENDING"})
    runner = StreamRunner(
        aws["ORDERS_TABLE_NAME"],
        handler,
        max_attempts=2,
        on_failure_queue_url=aws["GENERATOR_ON_FAILURE_QUEUE_URL"],
    )
    assert runner.run_until_quiescent() == 4
    assert seen[0] == ["A", "POISON", "B", "C"]
    assert seen[1] == ["POISON", "B", "C"]  # retried from the first failure, as Lambda does
    assert len(runner.stats.sent_to_on_failure) == 1
    assert ["B", "C"] in seen or ["C"] in seen  # the records after the poison were still delivered
    message = boto3.client("sqs").receive_message(QueueUrl=aws["GENERATOR_ON_FAILURE_QUEUE_URL"])["Messages"][
        0
    ]
    info = json.loads(message["Body"])["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == runner.stats.sent_to_on_failure[0]
    assert info["streamArn"] == runner.stream_arn


def test_the_outbox_runner_passes_only_new_outbox_entries_as_the_mapping_filter_does(
    aws: dict[str, str],
) -> None:
    from infra.local.pipeline import outbox_runner

    seen: list[tuple[str, str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for r in event["Records"]:
            seen.append((r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"]))
        return {"batchItemFailures": []}

    runner = outbox_runner(aws, handler)
    dynamodb = boto3.client("dynamodb")
    table = aws["INVOICES_TABLE_NAME"]
    outbox_key = {"pk": {"S": "INVOICE#INV-1"}, "sk": {"S": "OUTBOX#2026-11-21T15:00:00+00:00#X#1"}}
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "INVOICE#INV-1"}, "sk": {"S": "INVOICE"}})
    dynamodb.put_item(TableName=table, Item={**outbox_key, "detail_type": {"S": "X"}})
    dynamodb.update_item(
        TableName=table,
        Key=outbox_key,
        UpdateExpression="SET published_at = :now",
        ExpressionAttributeValues={":now": {"S": "2026-11-21T15:00:01+00:00"}},
    )
    dynamodb.delete_item(TableName=table, Key=outbox_key)

    assert runner.run_until_quiescent() == 1
    assert seen == [("INSERT", outbox_key["sk"]["S"])]


def test_make_local_says_so_and_stops_when_its_port_is_taken() -> None:
    import socket
    import subprocess
    import sys

    from infra.local import ROOT

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = subprocess.run(
            [sys.executable, "-m", "infra.local.serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert started.returncode == 2
    assert f"port {port}" in started.stderr and "already taken" in started.stderr
    assert "Traceback" not in started.stderr


def test_put_order_without_a_local_stack_says_so_in_one_line_and_exits_2() -> None:
    import socket
    import subprocess
    import sys

    from infra.local import ROOT

    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.local.put_order",
            "events/orders/jpy-zero-decimals.json",
            "--endpoint",
            endpoint,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"put_order: the local stack is not running on {endpoint}: start it with `make local` "
        "in another terminal"
    ]


def test_make_local_says_so_and_stops_when_the_local_api_port_is_taken() -> None:
    import socket
    import subprocess
    import sys

    from infra.local import ROOT

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = subprocess.run(
            [sys.executable, "-m", "infra.local.serve", "--port", "0", "--api-port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert started.returncode == 2
    assert len(started.stderr.splitlines()) == 1
    assert f"port {port} on 127.0.0.1, for the local API, is already taken" in started.stderr
    assert "--api-port" in started.stderr and "Traceback" not in started.stderr


def test_make_local_listens_on_fixed_default_ports() -> None:
    from infra.local.serve import DEFAULT_API_PORT, DEFAULT_PORT

    assert (DEFAULT_PORT, DEFAULT_API_PORT) == (4566, 8787)
