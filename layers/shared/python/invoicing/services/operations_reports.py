"""The operations and finance report of a period (weekly, monthly and quarterly on a schedule, any
period on demand): built from the daily counters, stored, linked and announced.

The files go under `reports/operations/<report id>/` in the documents bucket: `report.pdf` (the
deviations, the charts and every figure), `figures.csv` (one row per figure, with its target,
status and definition) and `daily.csv` (one row per day), and `report.json`, the report itself, from
which the console lists the reports and draws their charts. `OperationsReportReady` carries the
deviations and signed links (90 days, renewed on every click like an invoice link); rules turn it
into a readable message on the operations and the finance topics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.report_counters import ReportCounters
from invoicing.adapters.report_store import CSV, JSON, PDF, ReportStore, operations_key
from invoicing.domain.events import DetailType, OperationsReportReady
from invoicing.domain.operations_report import OperationsReport, ReportPeriod, ReportTargets, build_report
from invoicing.observability import logger

OPERATIONS_REPORT_FILES = {"report.pdf": PDF, "figures.csv": CSV, "daily.csv": CSV}
REPORT_DOCUMENT = "report.json"


class PublishedReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    report: OperationsReport
    links: dict[str, str]
    """File name -> its signed link."""
    files: dict[str, bytes]


class OperationsReports:
    def __init__(
        self,
        *,
        counters: ReportCounters,
        reports: ReportStore,
        events: EventPublisher,
        link_for: Callable[[str, str], str],
        render: Callable[[OperationsReport], bytes],
        targets: ReportTargets,
        tell_operations: Callable[[str, str], object] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._counters = counters
        self._reports = reports
        self._events = events
        self._link_for = link_for
        """(report id, file name) -> a signed link (the download endpoint's)."""
        self._render = render
        self._targets = targets
        self._tell_operations = tell_operations
        """(subject, text) -> published on the operations topic."""
        self._clock = clock

    def build(self, period: ReportPeriod) -> OperationsReport:
        """The period's report: one read of the counters per day of the period."""
        return build_report(period, self._counters.days(period.days()), self._targets, self._clock())

    def publish(self, period: ReportPeriod) -> PublishedReport:
        """Build, store the three files and announce the report (a report made again overwrites its files)."""
        report = self.build(period)
        files = {
            "report.pdf": self._render(report),
            "figures.csv": report.figures_csv().encode(),
            "daily.csv": report.daily_csv().encode(),
        }
        for name, body in files.items():
            self._reports.put(operations_key(report.report_id, name), body, OPERATIONS_REPORT_FILES[name])
        # The report itself, for the console's list of reports and their charts (never linked).
        self._reports.put(
            operations_key(report.report_id, REPORT_DOCUMENT), report.model_dump_json().encode(), JSON
        )
        links = {name: self._link_for(report.report_id, name) for name in files}
        issued = report.figure("invoices_issued").value
        self._events.publish(
            DetailType.OPERATIONS_REPORT_READY,
            OperationsReportReady(
                report_id=report.report_id,
                period=report.period.kind.value,
                start=report.period.start.isoformat(),
                end=report.period.end.isoformat(),
                title=report.period.title,
                invoices_issued=int(issued or 0),
                deviation_count=len(report.deviations),
                deviations=report.deviation_lines,
                pdf_url=links["report.pdf"],
                figures_url=links["figures.csv"],
                daily_url=links["daily.csv"],
                generated_at=report.generated_at,
            ),
            resources=[f"report/{report.report_id}"],
        )
        if self._tell_operations is not None:
            # After the announcement: finance hears of the report even if this call fails.
            self._tell_operations(f"Operations report {report.report_id}", report_message(report, links))
        logger.info(
            "operations report",
            report_id=report.report_id,
            deviations=[f.key for f in report.deviations],
            invoices_issued=int(issued or 0),
        )
        return PublishedReport(report=report, links=links, files=files)


def report_message(report: OperationsReport, links: dict[str, str]) -> str:
    """The readable message operations get: the deviations, the headline figures, the links."""
    lines = [f"Operations report {report.report_id}: {report.period.title}.", ""]
    deviations = report.deviations
    lines.append(
        f"{len(deviations)} figures off target:" if deviations else "Every figure with a target met it."
    )
    lines += [f"  - {f.label}: {f.shown} (target {f.target})" for f in deviations]
    lines.append("")
    for key in (
        "invoices_issued",
        "orders_rejected",
        "accuracy_pct",
        "send_seconds_p95",
        "sent_within_24h_pct",
    ):
        figure = report.figure(key)
        lines.append(f"{figure.label}: {figure.shown}")
    lines += ["", f"PDF: {links['report.pdf']}", f"Figures (CSV): {links['figures.csv']}"]
    lines += [
        f"Daily (CSV): {links['daily.csv']}",
        "",
        "The links work for 90 days. Definitions: README, 'Reports'.",
    ]
    return "\n".join(lines)
