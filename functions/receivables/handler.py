"""Receivables tick: an EventBridge schedule -> reminders asked for, overdue invoices marked and
announced, refunds nobody credited credited by amount (services/receivables.py). The daily
schedule's input `{"task": "reconciliation"}` makes yesterday's reconciliation report instead
(services/reconciliation.py); `{"task": "reconciliation", "day": "2026-12-01"}` makes any day's,
on demand (`aws lambda invoke`, README "Payments"). The monthly `{"task": "vendor-statements"}`
issues last month's vendor statements (`"month": "2026-11"` for any month's).

A tick that fails is not retried (the next tick is the retry): what it did not finish is still
due in the sweep index. Publishes `RemindersRequested`, `InvoicesMarkedOverdue`,
`RefundsCredited` and `ReceivablesFailed` as metrics.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.correction_ledger import CorrectionLedger
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.party_records import VendorRecords
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.report_store import ReportStore
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.adapters.vendor_accounts import VendorAccounts
from invoicing.domain.reconciliation import ReconciliationReport
from invoicing.observability import NAMESPACE, SERVICE, logger, metrics, tracer
from invoicing.rendering.pdf import render_document_pdf, render_vendor_statement_pdf
from invoicing.services.download_links import DownloadLinks
from invoicing.services.invoice_corrections import InvoiceCorrector
from invoicing.services.receivables import ReceivablesTick
from invoicing.services.reconciliation import Reconciliation, outstanding
from invoicing.services.vendor_statements import VendorStatements, previous_month
from invoicing.settings import receivables_settings

settings = receivables_settings()
ledger = InvoiceLedger(settings.invoices_table_name)
index = SweepIndex(settings.invoices_table_name)
payments = PaymentLedger(settings.invoices_table_name)
events = EventPublisher(settings.event_bus_name)
links = DownloadLinks(
    LinkKeySource(settings.link_keys_secret_id),
    settings.download_base_url,
    timedelta(days=settings.link_lifetime_days),
)
reconciliation = Reconciliation(
    index=index,
    ledger=ledger,
    payments=payments,
    reports=ReportStore(settings.invoice_bucket_name),
    events=events,
    link_for=links.report_link,
)
reports = ReportStore(settings.invoice_bucket_name)
statements = VendorStatements(
    accounts=VendorAccounts(settings.invoices_table_name),
    load_vendor=VendorRecords(settings.vendors_table_name).get,
    reports=reports,
    seller=settings.seller,
    render=render_vendor_statement_pdf,
)
receivables = ReceivablesTick(
    index=index,
    ledger=ledger,
    payments=payments,
    events=events,
    corrector=InvoiceCorrector(
        ledger=ledger,
        corrections=CorrectionLedger(settings.invoices_table_name, ledger),
        documents=DocumentStore(settings.invoice_bucket_name),
        renderer=render_document_pdf,
        invoice_series=settings.invoice_series,
        credit_note_series=settings.credit_note_series,
        seller=settings.seller,
        clock=lambda: datetime.now(UTC),
        policy=settings.payment_policy,
    ),
    policy=settings.reminder_policy,
)

_METRICS = {
    "reminders_requested": "RemindersRequested",
    "marked_overdue": "InvoicesMarkedOverdue",
    "refunds_credited": "RefundsCredited",
    "failed": "ReceivablesFailed",
}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") == "reconciliation":
        return reconcile(event.get("day"))
    if event.get("task") == "vendor-statements":
        month = event.get("month")
        wanted = (
            date.fromisoformat(f"{month}-01")
            if isinstance(month, str)
            else previous_month(datetime.now(UTC).date())
        )
        issued = statements.issue_month(wanted)
        metrics.add_metric(name="VendorStatementsIssued", unit=MetricUnit.Count, value=len(issued))
        return {"month": f"{wanted:%Y-%m}", "statements": [s.statement_id for s in issued]}
    report = receivables.tick(lambda: context.get_remaining_time_in_millis() / 1000)
    for field, name in _METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=getattr(report, field))
    logger.info("receivables tick", **report.model_dump())
    return report.model_dump()


def reconcile(day: object) -> dict[str, Any]:
    """The day's report (yesterday's by default, UTC); its figures to metrics for the dashboard."""
    wanted = date.fromisoformat(day) if isinstance(day, str) else datetime.now(UTC).date() - timedelta(days=1)
    report = reconciliation.publish(wanted)
    if not is_metrics_disabled():  # single_metric prints even when metrics are disabled (the demo)
        _publish_figures(report)
    return {
        "report_id": report.report_id,
        "counts": report.counts(),
        "payments_recorded": report.payments_recorded,
    }


def _publish_figures(report: ReconciliationReport) -> None:
    for section, count in report.counts().items():
        with single_metric(
            name="ReconciliationFindings", unit=MetricUnit.Count, value=count, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            metric.add_dimension(name="section", value=section)
    for (currency, bucket), amount in outstanding(report).items():
        with single_metric(
            name="ReceivablesOutstanding", unit=MetricUnit.NoUnit, value=float(amount), namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            metric.add_dimension(name="currency", value=currency)
            metric.add_dimension(name="bucket", value=bucket)
    return {
        "report_id": report.report_id,
        "counts": report.counts(),
        "payments_recorded": report.payments_recorded,
    }
