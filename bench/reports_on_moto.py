"""The operations report's data path on in-process moto: what counting one announcement costs,
and what a month's report costs as the month's invoices grow.

Each invoice of the month gets its real announcements (issued, sent, delivered) through the
report counter. Then the month's report is built from the counters, and, for comparison, the
figures it needs are read the other way: one item per invoice (the month's facts by key, as a
report over invoice records would have to). DynamoDB requests are counted. Times include moto's
emulation: they compare the two paths, not AWS latency.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class ReportScale:
    invoices: int
    events: int
    count_ms: float
    """Median per counted announcement."""
    count_requests: float
    """DynamoDB requests per announcement (mean)."""
    report_ms: float
    report_requests: int
    per_invoice_ms: float
    """Reading one item per invoice of the month instead (BatchGetItem of its facts)."""
    per_invoice_requests: int


def _environment() -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)


def _announcements(number: str, day: date) -> list[dict[str, Any]]:
    """An invoice of `day`: issued a second after its order completed, emailed, delivered."""
    from invoicing.domain.events import DetailType
    from tests.integration.test_report_counting import envelope, issued, outcome, sent

    completed = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return [
        envelope(
            DetailType.INVOICE_ISSUED,
            issued(number, at_=completed + timedelta(seconds=1), completed=completed),
        ),
        envelope(DetailType.INVOICE_SENT, sent(number, at_=completed + timedelta(seconds=3), seconds=3.0)),
        envelope(DetailType.INVOICE_DELIVERED, outcome(number, completed + timedelta(seconds=9))),
    ]


def measure(sizes: tuple[int, ...] = (300, 3000), shards: int = 8) -> list[ReportScale]:
    from moto import mock_aws

    from infra.local import moto_patches

    moto_patches.apply()
    _environment()
    results = []
    for size in sizes:
        with mock_aws():
            import boto3

            from infra.local.provisioning import provision
            from invoicing.adapters.report_counters import ReportCounters
            from invoicing.domain.operations_report import ReportPeriod, ReportTargets, build_report
            from invoicing.services.report_counting import ReportCounting

            names = provision(prefix="bench")
            table = names["REPORT_COUNTERS_TABLE_NAME"]
            client = boto3.client("dynamodb")
            requests = {"count": 0}

            def count(counted: dict[str, int] = requests, **_: Any) -> None:
                counted["count"] += 1

            client.meta.events.register("before-call.dynamodb.*", count)
            counters = ReportCounters(table, shards=shards, client=client)
            month = ReportPeriod.month_of(date(2026, 11, 1))
            counting = ReportCounting(counters, clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))
            numbers = [f"INV-2026-{n:06d}" for n in range(size)]
            timings = []
            for n, number in enumerate(numbers):
                for event in _announcements(number, month.start + timedelta(days=n % 30)):
                    started = time.perf_counter()
                    counting.count(event)
                    timings.append(time.perf_counter() - started)
            events = len(timings)
            count_requests = requests["count"] / events

            requests["count"] = 0
            started = time.perf_counter()
            report = build_report(month, counters.days(month.days()), ReportTargets(), datetime.now(UTC))
            report_ms = (time.perf_counter() - started) * 1000
            report_requests = requests["count"]
            assert report.figure("invoices_issued").value == size

            requests["count"] = 0
            started = time.perf_counter()
            for start in range(0, size, 100):
                keys = [
                    {"pk": {"S": f"FACT#INVOICE#{n}"}, "sk": {"S": "FACT"}}
                    for n in numbers[start : start + 100]
                ]
                pending: dict[str, Any] = {table: {"Keys": keys}}
                while pending:
                    pending = client.batch_get_item(RequestItems=pending).get("UnprocessedKeys") or {}
            per_invoice_ms = (time.perf_counter() - started) * 1000
            results.append(
                ReportScale(
                    invoices=size,
                    events=events,
                    count_ms=statistics.median(timings) * 1000,
                    count_requests=count_requests,
                    report_ms=report_ms,
                    report_requests=report_requests,
                    per_invoice_ms=per_invoice_ms,
                    per_invoice_requests=requests["count"],
                )
            )
    return results


if __name__ == "__main__":
    for result in measure():
        print(result)
