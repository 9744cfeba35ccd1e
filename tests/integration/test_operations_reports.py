"""The operations report through its function: the seeded week's files in S3 (the PDF's text,
the CSV's rows), the announcement with its deviations, the signed links operations and finance
open (and forged or borrowed ones refused, and counted), and the periods the schedule and an
on-demand call ask for."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from pypdf import PdfReader

from infra.local.api_server import http_api_event
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_module
from invoicing.adapters.report_counters import ReportCounters
from invoicing.domain.report_counts import Counter
from invoicing.services.report_counting import ReportCounting
from tests.integration.test_report_counting import NOW, WEEK, seeded_events

BASE_URL = "https://invoices.saypro.example"


@pytest.fixture
def function(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from invoicing.settings import download_settings, operations_reports_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", BASE_URL)
    operations_reports_settings.cache_clear()
    download_settings.cache_clear()
    counting = ReportCounting(ReportCounters(aws["REPORT_COUNTERS_TABLE_NAME"]), clock=lambda: NOW)
    for event in seeded_events():
        counting.count(event)
    return load_module("operations_reports")


def invoke(function: Any, event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = function.lambda_handler(
        event, FakeLambdaContext(function_name="operations-reports")
    )
    return answer


def stored(aws: dict[str, str], report_id: str, name: str) -> bytes:
    key = f"reports/operations/{report_id}/{name}"
    body: bytes = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key)["Body"].read()
    return body


def download(url: str) -> dict[str, Any]:
    handler = load_module("invoice_download")
    path = url.removeprefix(BASE_URL)
    route_path, _, query = path.partition("?")
    parts = route_path.split("/")
    if parts[1] == "reports":
        event = http_api_event(
            "GET",
            path,
            {},
            "/reports/{report_id}/{file_name}",
            {"report_id": parts[2], "file_name": parts[3]},
        )
    else:
        event = http_api_event("GET", path, {}, "/download/{invoice_number}", {"invoice_number": parts[2]})
    event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&")) if query else None
    answer: dict[str, Any] = handler.lambda_handler(event, FakeLambdaContext(function_name="download"))
    return answer


def test_the_weeks_report_is_stored_readable_announced_and_linked(aws: dict[str, str], function: Any) -> None:
    answer = invoke(function, {"period": "week", "day": "2026-11-25"})
    assert answer["report_id"] == "OPS-2026-W48"
    assert "accuracy_pct" in answer["deviations"]

    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(stored(aws, "OPS-2026-W48", "report.pdf"))).pages
    )
    text = " ".join(text.split())
    for expected in (
        "Operations report",
        "Week 48 of 2026 (23 Nov 2026 to 29 Nov 2026)",
        "Deviations from target (8)",
        "Accuracy: 80.00%",
        "Sent within 24 h: 80.00%",
        "Daily volume",
        "Time from completion to first send",
        "Rejections by code",
        "TOTAL_MISMATCH",
        "Inquiries by category",
        "charges",
        "Invoices issued 10",
        "Completion to first send, p50 45.0 s",
        "Received (EUR) 16.56 EUR",
    ):
        assert expected in text, expected

    rows = list(csv.DictReader(io.StringIO(stored(aws, "OPS-2026-W48", "figures.csv").decode())))
    by_figure = {row["figure"]: row for row in rows}
    assert by_figure["accuracy_pct"] | {"definition": ""} == {
        "section": "generation",
        "figure": "accuracy_pct",
        "label": "Accuracy",
        "value": "80.00",
        "unit": "percent",
        "target": ">= 98%",
        "status": "deviation",
        "definition": "",
    }
    assert by_figure["rejected.TOTAL_MISMATCH"]["value"] == "2"
    assert by_figure["send_distribution.6"] == by_figure["send_distribution.6"] | {
        "label": "> 24 h",
        "value": "1",
    }
    daily = list(csv.DictReader(io.StringIO(stored(aws, "OPS-2026-W48", "daily.csv").decode())))
    assert [(row["day"], row["issued"]) for row in daily][:2] == [("2026-11-23", "2"), ("2026-11-24", "2")]
    assert len(daily) == 7

    ready = [
        e["detail"]
        for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
        if e["detail-type"] == "OperationsReportReady"
    ]
    assert len(ready) == 1 and ready[0]["deviation_count"] == 8 and ready[0]["invoices_issued"] == 10
    assert "Accuracy 80.00% (target >= 98%)" in ready[0]["deviations"]

    opened = download(ready[0]["pdf_url"])
    assert (
        opened["statusCode"] == 302
        and "reports/operations/OPS-2026-W48/report.pdf" in opened["headers"]["Location"]
    )
    token = ready[0]["pdf_url"].partition("token=")[2]
    for forged in (
        ready[0]["pdf_url"].replace("report.pdf", "figures.csv"),  # another file, the same token
        ready[0]["pdf_url"].replace("OPS-2026-W48", "OPS-2026-W47"),
        ready[0]["pdf_url"].replace("report.pdf", "findings.csv"),  # a reconciliation report's file name
        ready[0]["pdf_url"].replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        f"{BASE_URL}/reports/OPS-2026-W48/report.pdf",
    ):
        assert download(forged)["statusCode"] == 403, forged
    assert download(f"{BASE_URL}/download/INV-1?token={token}")["statusCode"] == 403
    refused = ReportCounters(aws["REPORT_COUNTERS_TABLE_NAME"]).days([datetime.now(UTC).date()])[0]
    assert refused.count(Counter.DOWNLOADS_REFUSED) == 1  # only /download refusals are invoices'


@pytest.mark.parametrize(
    ("event", "report_id"),
    [
        ({"period": "week", "day": "2026-11-29"}, "OPS-2026-W48"),
        ({"period": "month", "day": "2026-11-02"}, "OPS-2026-11"),
        ({"period": "quarter", "day": "2026-11-02"}, "OPS-2026-Q4"),
        ({"start": "2026-11-24", "end": "2026-11-25"}, "OPS-2026-11-24_2026-11-25"),
    ],
)
def test_each_period_is_asked_for_by_name_or_by_its_days(
    function: Any, event: dict[str, Any], report_id: str
) -> None:
    assert invoke(function, event)["report_id"] == report_id


def test_the_schedules_input_reports_the_last_whole_period(function: Any) -> None:
    today = datetime.now(UTC).date()
    week = invoke(function, {"period": "week"})
    expected = function.ReportPeriod.previous(function.PeriodKind.WEEK, today)
    assert (
        week["period"] == expected.model_dump(mode="json")
        and date.fromisoformat(week["period"]["end"]) < today
    )


def test_a_custom_period_is_two_days_only_over_those_two_days(function: Any) -> None:
    report = function.reports.build(
        function.period_of({"start": "2026-11-24", "end": "2026-11-25"}, NOW.date())
    )
    assert report.figure("invoices_issued").value == 4
    assert report.figure("orders_rejected").value == 2


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"period": "fortnight"},
        {"period": "custom"},
        {"start": "2026-11-25", "end": "2026-11-01"},
        {"start": "2024-01-01", "end": "2026-11-01"},
        {"start": "yesterday", "end": "2026-11-01"},
        {"period": "week", "day": "someday"},
    ],
)
def test_input_that_names_no_period_is_answered_with_its_problem(
    aws: dict[str, str], function: Any, event: dict[str, Any]
) -> None:
    answer = invoke(function, event)
    assert set(answer) == {"error"} and answer["error"]
    listed = boto3.client("s3").list_objects_v2(
        Bucket=aws["INVOICE_BUCKET_NAME"], Prefix="reports/operations/"
    )
    assert listed.get("KeyCount", 0) == 0


def test_the_week_matches_its_period(function: Any) -> None:
    assert WEEK.report_id == "OPS-2026-W48"
