"""SLA sweeper: an EventBridge schedule -> one sweep of everything late or stuck (services/sla_sweep.py).

Publishes the backlog as EMF metrics, one set per kind (`BacklogCount`, `BacklogOldestAgeSeconds`
with dimension `kind`), plus `SlaAtRisk`, `Redriven`, `RedriveFailed` and `RemindersSent`: the
alarms and the dashboard are built on them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.operations_alerts import OperationsAlerts
from invoicing.adapters.outbox import Outbox
from invoicing.adapters.party_records import OrderItems
from invoicing.adapters.stream_failures import StreamFailures
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.sla import CORRECTION_SLA, SweepKind
from invoicing.observability import NAMESPACE, SERVICE, logger, metrics, tracer
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.invoice_issuing import InvoiceIssuer
from invoicing.services.sla_sweep import SlaSweeper, SweepPolicy, SweepReport
from invoicing.settings import sweeper_settings

settings = sweeper_settings()
ledger = InvoiceLedger(settings.invoices_table_name)
events = EventPublisher(settings.event_bus_name)
sweeper = SlaSweeper(
    index=SweepIndex(settings.invoices_table_name),
    stream_failures=StreamFailures(settings.generator_on_failure_queue_url),
    load_order=OrderItems(settings.orders_table_name).get,
    issuer=InvoiceIssuer(
        ledger=ledger,
        documents=DocumentStore(settings.invoice_bucket_name),
        renderer=render_document_pdf,
        series=settings.invoice_series,
        seller=settings.seller,
        credit_note_series=settings.credit_note_series,
        policy=settings.payment_policy,
    ),
    ledger=ledger,
    events=events,
    outbox=Outbox(settings.invoices_table_name, events),
    alerts=OperationsAlerts(settings.operations_topic_arn),
    policy=SweepPolicy(
        grace=timedelta(seconds=settings.sweep_grace_seconds),
        in_doubt_after=timedelta(seconds=settings.in_doubt_after_seconds),
        warning=timedelta(hours=settings.sla_warning_hours),
        reminder_interval=timedelta(hours=settings.reminder_interval_hours),
        digest_max_items=settings.digest_max_items,
        invoices_table=settings.invoices_table_name,
    ),
)


def _publish_backlog(report: SweepReport) -> None:
    # single_metric prints even when POWERTOOLS_METRICS_DISABLED is set (the local demo sets it).
    for kind, summary in report.kinds.items() if not is_metrics_disabled() else ():
        for name, unit, value in (
            ("BacklogCount", MetricUnit.Count, summary.count),
            ("BacklogOldestAgeSeconds", MetricUnit.Seconds, summary.oldest_age_seconds),
        ):
            with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
                metric.add_dimension(name="service", value=SERVICE)
                metric.add_dimension(name="kind", value=kind.value)
    metrics.add_metric(name="SlaAtRisk", unit=MetricUnit.Count, value=report.at_risk)
    metrics.add_metric(
        name="Redriven", unit=MetricUnit.Count, value=sum(k.redriven for k in report.kinds.values())
    )
    metrics.add_metric(
        name="RedriveFailed", unit=MetricUnit.Count, value=sum(k.failed for k in report.kinds.values())
    )
    metrics.add_metric(
        name="RemindersSent", unit=MetricUnit.Count, value=len(report.reminders) + len(report.warnings)
    )
    metrics.add_metric(
        name="RedriveDeferred", unit=MetricUnit.Count, value=sum(k.deferred for k in report.kinds.values())
    )
    # 1 when the digest could not be published (nothing was marked; the next tick retries): alarmed.
    metrics.add_metric(name="DigestFailed", unit=MetricUnit.Count, value=0 if report.digest_published else 1)
    # The 48-hour target of corrections: one value per correction found sent (its Average is the rate).
    for seconds in report.kind(SweepKind.CORRECTION_PENDING).settled_seconds:
        metrics.add_metric(name="CorrectionReissueSeconds", unit=MetricUnit.Seconds, value=seconds)
        within = 1 if seconds <= CORRECTION_SLA.total_seconds() else 0
        metrics.add_metric(name="CorrectionsReissuedWithin48h", unit=MetricUnit.Count, value=within)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.info("sweep", scheduled_at=event.get("time"))
    report = sweeper.sweep(lambda: context.get_remaining_time_in_millis() / 1000)
    _publish_backlog(report)
    logger.info(
        "sweep done",
        backlog={k.value: v.count for k, v in report.kinds.items()},
        at_risk=report.at_risk,
        reminders=len(report.reminders),
    )
    return report.model_dump(mode="json")
