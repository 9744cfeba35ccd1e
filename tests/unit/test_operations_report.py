"""The operations report's arithmetic: periods and their ids, the histogram buckets and the
nearest-rank percentile, targets and statuses at their edges, CSV cells, and the PDF of a long
period."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from invoicing.domain.operations_report import (
    PeriodKind,
    ReportPeriod,
    ReportTargets,
    Status,
    _cell,
    build_report,
)
from invoicing.domain.report_counts import Counter, DayCounts, keyed, percentile, seconds_bucket
from invoicing.rendering.operations_report_pdf import render_operations_report_pdf

NOW = datetime(2027, 1, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "today", "start", "end", "report_id"),
    [
        (PeriodKind.WEEK, date(2026, 11, 30), date(2026, 11, 23), date(2026, 11, 29), "OPS-2026-W48"),
        (PeriodKind.WEEK, date(2027, 1, 4), date(2026, 12, 28), date(2027, 1, 3), "OPS-2026-W53"),
        (PeriodKind.MONTH, date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 28), "OPS-2026-02"),
        (PeriodKind.MONTH, date(2028, 3, 15), date(2028, 2, 1), date(2028, 2, 29), "OPS-2028-02"),
        (PeriodKind.QUARTER, date(2027, 1, 1), date(2026, 10, 1), date(2026, 12, 31), "OPS-2026-Q4"),
        (PeriodKind.QUARTER, date(2026, 5, 20), date(2026, 1, 1), date(2026, 3, 31), "OPS-2026-Q1"),
    ],
)
def test_the_schedule_reports_the_last_whole_period(
    kind: PeriodKind, today: date, start: date, end: date, report_id: str
) -> None:
    period = ReportPeriod.previous(kind, today)
    assert (period.start, period.end, period.report_id) == (start, end, report_id)
    assert len(period.days()) == (end - start).days + 1


def test_a_custom_period_must_run_forwards_and_not_too_long() -> None:
    assert ReportPeriod.custom(date(2026, 1, 1), date(2026, 1, 1)).report_id == "OPS-2026-01-01_2026-01-01"
    with pytest.raises(ValueError, match="before it starts"):
        ReportPeriod.custom(date(2026, 1, 2), date(2026, 1, 1))
    with pytest.raises(ValueError, match="at most 400 days"):
        ReportPeriod.custom(date(2025, 1, 1), date(2026, 2, 5))


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [
        (0, 0),
        (0.001, 1),
        (1, 1),
        (59.5, 60),
        (120, 120),
        (120.2, 130),
        (600, 600),
        (600.5, 660),
        (3600, 3600),
        (3601, 7200),
        (172800, 172800),
        (172801, 259200),
        (-4, 0),
    ],
)
def test_each_duration_falls_in_its_bucket(seconds: float, bucket: int) -> None:
    assert seconds_bucket(seconds) == bucket


def test_the_percentile_is_the_nearest_rank() -> None:
    histogram = {1: 50, 2: 45, 9: 4, 600: 1}  # 100 values
    assert percentile(histogram, Decimal("0.5")) == 1
    assert percentile(histogram, Decimal("0.51")) == 2
    assert percentile(histogram, Decimal("0.95")) == 2
    assert percentile(histogram, Decimal("0.96")) == 9
    assert percentile(histogram, Decimal("0.99")) == 9
    assert percentile(histogram, Decimal(1)) == 600
    assert percentile({}, Decimal("0.5")) is None


def day(on: date, **values: int) -> DayCounts:
    return DayCounts(day=on, values={k: Decimal(v) for k, v in values.items()})


@pytest.mark.parametrize(("corrected", "status"), [(2, Status.OK), (3, Status.DEVIATION)])
def test_a_target_is_met_at_its_edge_and_missed_just_past_it(corrected: int, status: Status) -> None:
    period = ReportPeriod.week_of(date(2026, 11, 23))
    days = [day(date(2026, 11, 23), issued=100, corrected=corrected)]
    report = build_report(period, days, ReportTargets(), NOW)
    assert report.figure("accuracy_pct").status is status  # 98% is on target, 97% is not


def test_the_targets_are_the_environments() -> None:
    period = ReportPeriod.week_of(date(2026, 11, 23))
    days = [day(date(2026, 11, 23), issued=100, corrected=3)]
    report = build_report(period, days, ReportTargets(accuracy_pct=Decimal(95)), NOW)
    assert (
        report.figure("accuracy_pct").status is Status.OK and report.figure("accuracy_pct").target == ">= 95%"
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("@cmd", "'@cmd"),
        ("-2.50", "-2.50"),
        ("-x", "'-x"),
        ("ok", "ok"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(value: str, written: str) -> None:
    assert _cell(value) == written


def test_a_quarter_renders_with_its_scale_and_every_figure() -> None:
    period = ReportPeriod.quarter_of(date(2026, 11, 1))
    days = [
        day(
            d,
            issued=n % 7 + 1,
            first_sent=n % 7 + 1,
            rejected=n % 3,
            **{keyed(Counter.SEND_HISTOGRAM, "4"): n % 7 + 1},
        )
        for n, d in enumerate(period.days())
    ]
    report = build_report(period, days, ReportTargets(), NOW)
    pdf = render_operations_report_pdf(report)
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Q4 2026 (01 Oct 2026 to 31 Dec 2026)" in text and "highest bar: 9" in text
    for figure in report.figures:
        assert figure.label in text, figure.label


def test_the_readme_defines_every_figure_the_report_has() -> None:
    from pathlib import Path

    from invoicing.domain.operations_report import DEFINITIONS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for key, (label, definition) in DEFINITIONS.items():
        shown = {"received": "received_<currency>", "refunded": "refunded_<currency>"}.get(key, key)
        shown = "reconciliation_<section>" if key == "reconciliation" else shown
        assert f"| `{shown}` | {label} |" in readme, key
        assert definition in readme, key
