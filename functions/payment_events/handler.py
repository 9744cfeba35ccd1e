"""Payment events from the payment service inside AWS: EventBridge (source `saypro.payments`,
detail-type `PaymentEvent`) -> one event applied once, exactly as the webhook applies it; and
`VendorPayout` -> the payout entered on the vendor's account, once per payout id.

Only the rule's source and detail-type reach this function. A detail that is not a payment event
fails the invocation after logging what is wrong: EventBridge retries it and then keeps it in the
rule's dead-letter queue, which is alarmed, so nothing is dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.vendor_accounts import VendorAccounts
from invoicing.domain.payment_events import PaymentEvent
from invoicing.domain.vendor_accounts import VendorPayout
from invoicing.observability import logger, metrics, tracer
from invoicing.services.payment_intake import PaymentIntake
from invoicing.settings import payment_events_settings

settings = payment_events_settings()
intake = PaymentIntake(
    ledger=InvoiceLedger(settings.invoices_table_name),
    payments=PaymentLedger(settings.invoices_table_name),
    refund_grace=timedelta(minutes=settings.refund_grace_minutes),
)
accounts = VendorAccounts(settings.invoices_table_name)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    envelope = parse(event=event, model=EventBridgeModel)
    if envelope.detail_type == "VendorPayout":
        return payout(envelope.detail)
    try:
        payment = PaymentEvent.model_validate(envelope.detail)
    except ValidationError as invalid:
        metrics.add_metric(name="PaymentEventsRejected", unit=MetricUnit.Count, value=1)
        logger.error(
            "payment event refused: not a payment event",
            eventbridge_id=envelope.id,
            problems=[
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in invalid.errors(include_url=False, include_input=False)
            ],
        )
        raise
    receipt = intake.receive(payment, door="eventbridge")
    if not receipt.duplicate:
        name = "PaymentsUnmatched" if receipt.outcome == "unmatched" else "PaymentEventsApplied"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return receipt.model_dump(mode="json")


def payout(detail: dict[str, Any]) -> dict[str, Any]:
    """A payout to a vendor: a detail that is not one fails the invocation (retried, then kept)."""
    recorded = VendorPayout.model_validate(detail)
    recorded.money()  # an amount its currency cannot hold is refused before anything is written
    first = accounts.record_payout(recorded, datetime.now(UTC))
    metrics.add_metric(name="VendorPayoutsRecorded", unit=MetricUnit.Count, value=int(first))
    logger.info("vendor payout", payout_id=recorded.payout_id, vendor_id=recorded.vendor_id, first=first)
    return {"payout_id": recorded.payout_id, "recorded": first, "duplicate": not first}
