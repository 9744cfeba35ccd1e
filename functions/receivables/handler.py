"""Receivables tick: an EventBridge schedule -> reminders asked for, overdue invoices marked and
announced, refunds nobody credited credited by amount (services/receivables.py).

A tick that fails is not retried (the next tick is the retry): what it did not finish is still
due in the sweep index. Publishes `RemindersRequested`, `InvoicesMarkedOverdue`,
`RefundsCredited` and `ReceivablesFailed` as metrics.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.correction_ledger import CorrectionLedger
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.observability import logger, metrics, tracer
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.invoice_corrections import InvoiceCorrector
from invoicing.services.receivables import ReceivablesTick
from invoicing.settings import receivables_settings

settings = receivables_settings()
ledger = InvoiceLedger(settings.invoices_table_name)
receivables = ReceivablesTick(
    index=SweepIndex(settings.invoices_table_name),
    ledger=ledger,
    payments=PaymentLedger(settings.invoices_table_name),
    events=EventPublisher(settings.event_bus_name),
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
    report = receivables.tick(lambda: context.get_remaining_time_in_millis() / 1000)
    for field, name in _METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=getattr(report, field))
    logger.info("receivables tick", **report.model_dump())
    return report.model_dump()
