"""Bounce webhook: POST /webhooks/ses <- SNS (SES bounce, complaint, delivery, open, click events).

No authorizer on this route: the SNS signature, verified before anything is read, is the
credential. Every refusal is the same 403 and changes nothing; an error while applying a genuine
notification answers 5xx so SNS delivers it again (applying it twice is harmless).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.adapters.delivery_log import DeliveryNotifications
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.sns_certificates import CertificateUnavailable, SnsCertificates
from invoicing.adapters.sns_subscriptions import SnsSubscriptions
from invoicing.domain.ses_notifications import DeliveryEvent
from invoicing.observability import logger, metrics, tracer
from invoicing.services.delivery_notifications import DeliveryWebhook, NotificationRefused, WebhookOutcome
from invoicing.settings import webhook_settings

settings = webhook_settings()
certificates = SnsCertificates()
webhook = DeliveryWebhook(
    deliveries=DeliveryNotifications(settings.invoices_table_name),
    ledger=InvoiceLedger(settings.invoices_table_name),
    subscriptions=SnsSubscriptions(),
    certificates=certificates,
    allowed_topics=settings.allowed_topics,
)
app = APIGatewayHttpResolver()

_METRICS = {
    DeliveryEvent.DELIVERED: "EmailDelivered",
    DeliveryEvent.PERMANENT_BOUNCE: "EmailBounced",
    DeliveryEvent.TRANSIENT_BOUNCE: "EmailSoftBounced",
    DeliveryEvent.COMPLAINT: "EmailComplained",
    DeliveryEvent.OPENED: "EmailOpened",
    DeliveryEvent.CLICKED: "EmailClicked",
}


def _json(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.post("/webhooks/ses")
def ses_notification() -> Response[str]:
    try:
        # A binary body (base64-encoded by API Gateway) that is not UTF-8 is no SNS message.
        body = app.current_event.decoded_body or ""
    except (UnicodeDecodeError, ValueError):
        metrics.add_metric(name="NotificationsRefused", unit=MetricUnit.Count, value=1)
        return _json(403, '{"message": "Forbidden"}')
    try:
        result = webhook.receive(body)
    except NotificationRefused:
        metrics.add_metric(name="NotificationsRefused", unit=MetricUnit.Count, value=1)
        return _json(403, '{"message": "Forbidden"}')
    except CertificateUnavailable:
        # The SNS endpoint did not answer: nothing was read or changed; SNS delivers it again.
        return Response(
            status_code=503,
            content_type=content_types.APPLICATION_JSON,
            body='{"message": "Try again later"}',
            headers={"Retry-After": "30"},
        )
    if result.outcome is WebhookOutcome.APPLIED and result.event in _METRICS:
        metrics.add_metric(name=_METRICS[result.event], unit=MetricUnit.Count, value=1)
    if result.fell_back:
        metrics.add_metric(name="ChannelFallbacks", unit=MetricUnit.Count, value=1)
    return _json(200, result.model_dump_json())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
