"""Payment webhook: POST /webhooks/payments <- the payment provider (signed, as Stripe signs).

No authorizer on this route: the HMAC signature over the timestamp and the raw body, verified
before anything is read, is the credential. A refusal is 401 and changes nothing; a signed body
that is not a payment event is 400 with what is wrong; a genuine event is 200 with what it did
(also when it was delivered before: applied once). An error while recording answers 5xx, so the
provider delivers it again.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.webhook_secrets import WebhookSecrets
from invoicing.observability import logger, metrics, tracer
from invoicing.services.payment_intake import PaymentIntake, PaymentReceipt
from invoicing.services.payment_webhook import NotAPaymentEvent, PaymentWebhook, WebhookRefused
from invoicing.settings import payment_webhook_settings

settings = payment_webhook_settings()
webhook = PaymentWebhook(
    intake=PaymentIntake(
        ledger=InvoiceLedger(settings.invoices_table_name),
        payments=PaymentLedger(settings.invoices_table_name),
        refund_grace=timedelta(minutes=settings.refund_grace_minutes),
    ),
    secrets=WebhookSecrets(settings.payment_webhook_secret_id),
)
app = APIGatewayHttpResolver()


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def count(receipt: PaymentReceipt) -> None:
    if receipt.duplicate:
        metrics.add_metric(name="PaymentEventsRedelivered", unit=MetricUnit.Count, value=1)
        return
    name = "PaymentsUnmatched" if receipt.outcome == "unmatched" else "PaymentEventsApplied"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    if receipt.outcome == "overpaid":
        metrics.add_metric(name="PaymentsOverpaid", unit=MetricUnit.Count, value=1)


def raw_body() -> bytes | None:
    """The body's bytes as the provider signed them (API Gateway base64-encodes a binary one);
    None when it is not even that."""
    event = app.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


@app.post("/webhooks/payments")
def payment_event() -> Response[str]:
    event = app.current_event
    body = raw_body()
    if body is None:
        metrics.add_metric(name="PaymentEventsRejected", unit=MetricUnit.Count, value=1)
        return _json(400, {"message": "Not a payment event", "problems": ["the body is not valid base64"]})
    try:
        receipt = webhook.receive(dict(event.headers or {}), body)
    except WebhookRefused:
        metrics.add_metric(name="PaymentWebhooksRefused", unit=MetricUnit.Count, value=1)
        return _json(401, {"message": "Unauthorized: the signature does not verify"})
    except NotAPaymentEvent as bad:
        metrics.add_metric(name="PaymentEventsRejected", unit=MetricUnit.Count, value=1)
        return _json(400, {"message": "Not a payment event", "problems": bad.problems})
    count(receipt)
    return _json(200, receipt.model_dump(mode="json"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
