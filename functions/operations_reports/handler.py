"""Operations reports: EventBridge schedules -> last week's (Mondays), last month's (the 1st) and
last quarter's (the 1st of January, April, July, October) report; any period on demand
(`aws lambda invoke`, README "Reports"):

    {"period": "week"}                              the last whole week (likewise month, quarter)
    {"period": "week", "day": "2026-12-02"}         the week (month, quarter) holding that day,
                                                    to date if it is the current one
    {"start": "2026-11-01", "end": "2026-11-15"}    any span of whole UTC days (up to 400)

Input that names no period is answered with its problem (nothing is written). A scheduled run
that fails is not retried (run it again on demand): its schedule's dead-letter queue is alarmed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.operations_alerts import OperationsAlerts
from invoicing.adapters.report_counters import ReportCounters
from invoicing.adapters.report_store import ReportStore
from invoicing.domain.operations_report import PeriodKind, ReportPeriod
from invoicing.observability import logger, metrics, tracer
from invoicing.rendering.operations_report_pdf import render_operations_report_pdf
from invoicing.services.download_links import DownloadLinks
from invoicing.services.operations_reports import OperationsReports
from invoicing.settings import operations_reports_settings

settings = operations_reports_settings()
links = DownloadLinks(
    LinkKeySource(settings.link_keys_secret_id),
    settings.download_base_url,
    timedelta(days=settings.link_lifetime_days),
)
reports = OperationsReports(
    counters=ReportCounters(settings.report_counters_table_name, settings.report_counter_shards),
    reports=ReportStore(settings.invoice_bucket_name),
    events=EventPublisher(settings.event_bus_name),
    link_for=links.operations_report_link,
    render=render_operations_report_pdf,
    targets=settings.report_targets,
    tell_operations=OperationsAlerts(settings.operations_topic_arn).publish,
)


def period_of(event: dict[str, Any], today: date) -> ReportPeriod:
    """The period an invocation asks for; ValueError saying why when it names none."""
    if "start" in event or "end" in event:
        return ReportPeriod.custom(
            date.fromisoformat(str(event.get("start"))), date.fromisoformat(str(event.get("end")))
        )
    try:
        kind = PeriodKind(str(event.get("period", "")))
    except ValueError:
        raise ValueError(
            "name a period: week, month or quarter (with an optional day), or a start and an end"
        ) from None
    if kind is PeriodKind.CUSTOM:
        raise ValueError("a custom period is given by its start and end")
    day = event.get("day")
    return ReportPeriod.of(kind, date.fromisoformat(str(day))) if day else ReportPeriod.previous(kind, today)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        period = period_of(event, datetime.now(UTC).date())
    except ValueError as problem:
        logger.warning("operations report not made", problem=str(problem))
        return {"error": str(problem)}
    published = reports.publish(period)
    report = published.report
    metrics.add_metric(name="OperationsReportDeviations", unit=MetricUnit.Count, value=len(report.deviations))
    return {
        "report_id": report.report_id,
        "period": period.model_dump(mode="json"),
        "deviations": [f.key for f in report.deviations],
        "links": published.links,
    }
