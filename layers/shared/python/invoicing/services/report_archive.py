"""The console's past operations reports (GET /operations/reports, /operations/reports/{id}): the
reports of a year, newest first, and one report's figures, charts' data and file links.

Read from the reports as they were made (`report.json`, written next to the PDF and the CSVs), so
the console shows the figures the PDF shows, not a recount. Staff only, like the overview; a
customer or vendor gets 403 before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from invoicing.adapters.report_store import ReportStore, operations_key
from invoicing.domain.operations_report import DailyRow, OperationsReport, PeriodKind, ReportPeriod
from invoicing.services.invoice_listing import STAFF, BadRequest, Caller, NotAllowed, NotFound
from invoicing.services.operations_reports import OPERATIONS_REPORT_FILES, REPORT_DOCUMENT

FIRST_YEAR = 2020
KIND_ORDER = {PeriodKind.QUARTER: 0, PeriodKind.MONTH: 1, PeriodKind.WEEK: 2, PeriodKind.CUSTOM: 3}
"""At the same end date, the longer period first."""


class ReportEntry(BaseModel):
    report_id: str
    kind: PeriodKind
    title: str
    start: date
    end: date


class ReportList(BaseModel):
    model_config = ConfigDict(frozen=True)

    year: int
    reports: list[ReportEntry] = Field(description="newest first (by the period's end)")


class ReportFigure(BaseModel):
    section: str
    key: str
    label: str
    shown: str
    value: str | None = Field(description="the exact figure, as in figures.csv (none: no data)")
    unit: str
    target: str
    status: str
    definition: str


class ArchivedReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    report_id: str
    kind: PeriodKind
    title: str
    start: date
    end: date
    generated_at: datetime
    deviations: list[str]
    figures: list[ReportFigure]
    daily: list[DailyRow]
    rejections_by_code: dict[str, int]
    inquiries_by_category: dict[str, int]
    send_distribution: list[tuple[str, int]] = Field(description="time from completion to first send")
    not_yet_sent: int
    links: dict[str, str] = Field(description="file name -> its signed link (90 days)")


class ReportArchive:
    def __init__(
        self,
        *,
        store: ReportStore,
        link_for: Callable[[str, str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._link_for = link_for
        """(report id, file name) -> a signed link, as the report's message carries."""
        self._clock = clock

    def year(self, caller: Caller, year: int | None) -> ReportList:
        if caller.role not in STAFF:
            raise NotAllowed
        this_year = self._clock().year
        year = this_year if year is None else year
        if not FIRST_YEAR <= year <= this_year:
            raise BadRequest(f"year is {FIRST_YEAR} to {this_year}")
        entries = []
        for report_id in self._store.operations_report_ids(year):
            try:
                period = ReportPeriod.from_report_id(report_id)
            except ValueError:
                continue  # not a report's folder: nothing the console can open
            entries.append(
                ReportEntry(
                    report_id=report_id,
                    kind=period.kind,
                    title=period.title,
                    start=period.start,
                    end=period.end,
                )
            )
        entries.sort(key=lambda e: (-e.end.toordinal(), KIND_ORDER[e.kind], -e.start.toordinal()))
        return ReportList(year=year, reports=entries)

    def one(self, caller: Caller, report_id: str) -> ArchivedReport:
        if caller.role not in STAFF:
            raise NotAllowed
        try:
            ReportPeriod.from_report_id(report_id)
        except ValueError:
            raise NotFound from None
        stored = self._store.get(operations_key(report_id, REPORT_DOCUMENT))
        if stored is None:
            raise NotFound
        try:
            report = OperationsReport.model_validate_json(stored)
        except ValidationError:
            raise NotFound from None  # written by another version of the report: its PDF stands
        return ArchivedReport(
            report_id=report.report_id,
            kind=report.period.kind,
            title=report.period.title,
            start=report.period.start,
            end=report.period.end,
            generated_at=report.generated_at,
            deviations=report.deviation_lines,
            figures=[
                ReportFigure(
                    section=f.section,
                    key=f.key,
                    label=f.label,
                    shown=f.shown,
                    value=f.csv_value or None,
                    unit=f.unit,
                    target=f.target,
                    status=f.status.value,
                    definition=f.definition,
                )
                for f in report.figures
            ],
            daily=report.daily,
            rejections_by_code=report.rejections_by_code,
            inquiries_by_category=report.inquiries_by_category,
            send_distribution=report.send_distribution,
            not_yet_sent=report.not_yet_sent,
            links={name: self._link_for(report.report_id, name) for name in OPERATIONS_REPORT_FILES},
        )
