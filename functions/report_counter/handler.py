"""Report counter: invoicing's own announcements (EventBridge, the rule lists the detail-types
`domain/report_counts.COUNTED_DETAIL_TYPES`) -> the operations report's daily counters, each event
once (services/report_counting.py).

An event about an invoice not counted as issued yet fails the invocation, so EventBridge's Lambda
target retries it (asynchronous invocation: two retries over minutes); after that it lands in the
rule's dead-letter queue, which is alarmed. Publishes `ReportEventsCounted` and
`ReportEventsDuplicate`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.report_counters import ReportCounters
from invoicing.observability import logger, metrics, tracer
from invoicing.services.report_counting import CountOutcome, ReportCounting
from invoicing.settings import report_counting_settings

settings = report_counting_settings()
counting = ReportCounting(ReportCounters(settings.report_counters_table_name, settings.report_counter_shards))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    counted = counting.count(event)
    if counted.outcome is CountOutcome.COUNTED:
        metrics.add_metric(name="ReportEventsCounted", unit=MetricUnit.Count, value=1)
    elif counted.outcome is CountOutcome.DUPLICATE:
        metrics.add_metric(name="ReportEventsDuplicate", unit=MetricUnit.Count, value=1)
    logger.debug("counted", detail_type=counted.detail_type, outcome=counted.outcome.value)
    return counted.model_dump(mode="json")
