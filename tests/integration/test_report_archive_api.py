"""The console's past reports through the invoices API (GET /operations/reports[/{id}]): the
reports the real function made, listed newest first by period; one report's figures, charts'
data and file links as the PDF has them; staff only; anything that is not a report is a 404."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import boto3
import pytest

from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.domain.operations_report import PeriodKind, ReportPeriod
from tests.integration.test_invoices_api import request
from tests.integration.test_operations_reports import BASE_URL, download, function, invoke

OPERATIONS = {"sub": "ops-1", "role": "operations"}
__all__ = ["function"]  # the fixture: the seeded week's counters and the report function


@pytest.fixture
def api(aws: dict[str, str], function: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from invoicing.settings import api_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", BASE_URL)
    api_settings.cache_clear()
    for event in (
        {"period": "week", "day": "2026-11-25"},
        {"period": "week", "day": "2026-11-16"},
        {"period": "month", "day": "2026-11-02"},
        {"period": "quarter", "day": "2026-11-02"},
        {"start": "2026-11-24", "end": "2026-11-25"},
        {"period": "month", "day": "2025-12-01"},
    ):
        invoke(function, event)
    handler = load_handler("invoices_api")

    def call(path: str, claims: dict[str, Any], query: dict[str, str] | None = None) -> tuple[int, Any]:
        response = handler(request(path, claims, query), FakeLambdaContext(function_name="invoices-api"))
        return int(response["statusCode"]), json.loads(response["body"] or "null")

    return call


def test_a_years_reports_are_listed_newest_first_the_longer_period_first(
    api: Any, aws: dict[str, str]
) -> None:
    boto3.client("s3").put_object(  # a folder that is not a report's is never listed
        Bucket=aws["INVOICE_BUCKET_NAME"], Key="reports/operations/OPS-2026-notes/readme.txt", Body=b"x"
    )
    status, listed = api("/operations/reports", OPERATIONS, {"year": "2026"})
    assert status == 200 and listed["year"] == 2026
    assert [r["report_id"] for r in listed["reports"]] == [
        "OPS-2026-Q4",  # ends 31 Dec
        "OPS-2026-11",  # ends 30 Nov
        "OPS-2026-W48",  # ends 29 Nov
        "OPS-2026-11-24_2026-11-25",
        "OPS-2026-W47",
    ]
    assert listed["reports"][2] == {
        "report_id": "OPS-2026-W48",
        "kind": "week",
        "title": "Week 48 of 2026 (23 Nov 2026 to 29 Nov 2026)",
        "start": "2026-11-23",
        "end": "2026-11-29",
    }
    _, earlier = api("/operations/reports", OPERATIONS, {"year": "2025"})
    assert [r["report_id"] for r in earlier["reports"]] == ["OPS-2025-12"]


def test_one_report_has_the_figures_the_pdf_has_its_charts_data_and_working_links(api: Any) -> None:
    status, report = api("/operations/reports/OPS-2026-W48", {"sub": "fin-1", "role": "finance"})
    assert status == 200 and report["title"] == "Week 48 of 2026 (23 Nov 2026 to 29 Nov 2026)"
    figures = {f["key"]: f for f in report["figures"]}
    assert figures["accuracy_pct"] | {"definition": ""} == {
        "section": "generation",
        "key": "accuracy_pct",
        "label": "Accuracy",
        "shown": "80.00%",
        "value": "80.00",
        "unit": "percent",
        "target": ">= 98%",
        "status": "deviation",
        "definition": "",
    }
    assert figures["invoices_issued"]["shown"] == "10"
    assert len(report["deviations"]) == 8 and "Accuracy 80.00% (target >= 98%)" in report["deviations"]
    assert [(d["day"], d["issued"]) for d in report["daily"]][:2] == [("2026-11-23", 2), ("2026-11-24", 2)]
    assert len(report["daily"]) == 7
    assert report["rejections_by_code"]["TOTAL_MISMATCH"] == 2
    assert report["send_distribution"][-1] == ["> 24 h", 1]
    assert report["inquiries_by_category"]["charges"] >= 1
    assert set(report["links"]) == {"report.pdf", "figures.csv", "daily.csv"}
    opened = download(report["links"]["report.pdf"])
    assert opened["statusCode"] == 302
    assert "reports/operations/OPS-2026-W48/report.pdf" in opened["headers"]["Location"]


def test_only_staff_see_the_reports_and_anything_not_a_stored_report_is_not_found(api: Any) -> None:
    for claims in (
        {"sub": "CUST-42", "role": "customer"},
        {"sub": "V-BOOKS", "role": "vendor"},
        {"sub": "x"},
    ):
        assert api("/operations/reports", claims)[0] == 403, claims
        assert api("/operations/reports/OPS-2026-W48", claims)[0] == 403, claims
    assert api("/operations/reports", {"sub": "agent-7", "role": "support"})[0] == 200
    for report_id in (
        "OPS-2026-W49",
        "OPS-2026-W99",
        "OPS-2026-13",
        "OPS-2026-Q5",
        "OPS-2026-notes",
        "RECON-2026-11-30",
    ):
        assert api(f"/operations/reports/{report_id}", OPERATIONS) == (404, {"message": "Not found"}), (
            report_id
        )
    for year in ("1999", "2019", "3000", "twenty"):
        assert api("/operations/reports", OPERATIONS, {"year": year})[0] in (400, 422), year


@pytest.mark.parametrize(
    "period",
    [
        ReportPeriod.week_of(date(2026, 1, 1)),  # ISO week 53 of 2025
        ReportPeriod.week_of(date(2026, 12, 31)),  # ISO week 53 of 2026
        ReportPeriod.month_of(date(2026, 2, 1)),
        ReportPeriod.quarter_of(date(2026, 12, 31)),
        ReportPeriod.custom(date(2025, 12, 30), date(2026, 1, 2)),
    ],
)
def test_a_report_id_names_its_period_back(period: ReportPeriod) -> None:
    assert ReportPeriod.from_report_id(period.report_id) == period
    assert period.kind in PeriodKind


@pytest.mark.parametrize(
    "report_id",
    ["OPS-2026-W00", "OPS-2026-W54", "OPS-2026-00", "OPS-2026-11-30_2026-11-01", "OPS-2026-W8", "OPS-2026-2"],
)
def test_a_malformed_report_id_names_no_period(report_id: str) -> None:
    with pytest.raises(ValueError):
        ReportPeriod.from_report_id(report_id)
