"""Both doors of payment events, through the real handlers on moto: the provider's signed webhook
(a real HMAC with the secret in Secrets Manager) and the payment service's EventBridge events."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from infra.local.api_server import http_api_event
from infra.local.event_runner import eventbridge_event
from infra.local.provisioning import LOCAL_WEBHOOK_SECRET
from infra.local.runtime import FakeLambdaContext, load_module
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.webhook_signatures import sign
from tests.integration.test_payment_intake import issue
from tests.unit.test_payment_terms import bank_transfer

SAMPLES = Path(__file__).parents[2] / "events" / "payments"
CONTEXT = FakeLambdaContext(function_name="payment-webhook")


@pytest.fixture
def webhook(aws: dict[str, str]) -> ModuleType:
    from invoicing.settings import payment_webhook_settings

    payment_webhook_settings.cache_clear()
    assert issue(aws, bank_transfer()) == "INV-2026-000001"  # what the samples pay
    return load_module("payment_webhook")


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return loaded


def post(webhook: ModuleType, body: str, signature: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["SayPro-Signature"] = signature
    event = http_api_event("POST", "/webhooks/payments", headers, "/webhooks/payments", {})
    event["body"] = body
    response = webhook.lambda_handler(event, CONTEXT)
    return int(response["statusCode"]), json.loads(response["body"])


def signed(body: str, secret: str = LOCAL_WEBHOOK_SECRET, at: int | None = None) -> str:
    return sign(secret.encode(), int(time.time()) if at is None else at, body.encode())


def paid(aws: dict[str, str]) -> Any:
    record = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_invoice("INV-2026-000001")
    assert record is not None
    return record


def test_a_signed_payment_is_applied_once_however_often_it_is_delivered(
    aws: dict[str, str], webhook: ModuleType
) -> None:
    body = sample("webhook-partial.json")["body"]
    status, receipt = post(webhook, body, signed(body))
    assert (status, receipt["outcome"], receipt["balance_due"], receipt["duplicate"]) == (
        200,
        "partial",
        "32.73",
        False,
    )
    status, again = post(webhook, body, signed(body))  # the provider retries, or someone replays it
    assert (status, again["duplicate"], again["outcome"]) == (200, True, "partial")
    assert paid(aws).amount_received == 20


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=" + "0" * 64,
        "v1=" + "a" * 64,
        "t=abc,v1=zz",
    ],
)
def test_an_unsigned_or_malformed_signature_is_refused_and_changes_nothing(
    aws: dict[str, str], webhook: ModuleType, signature: str | None
) -> None:
    body = sample("webhook-succeeded.json")["body"]
    status, answer = post(webhook, body, signature)
    assert status == 401 and answer == {"message": "Unauthorized: the signature does not verify"}
    assert paid(aws).payment_events == 0


def test_a_forged_tampered_stale_or_future_webhook_is_refused(
    aws: dict[str, str], webhook: ModuleType
) -> None:
    body = sample("webhook-succeeded.json")["body"]
    forged = signed(body, secret="whsec_someone_else")
    tampered_body = body.replace("52.73", "0.01")
    now = int(time.time())
    for candidate, signature in [
        (body, forged),
        (tampered_body, signed(body)),
        (body, signed(body, at=now - 301)),
        (body, signed(body, at=now + 301)),
        (body, sample("webhook-succeeded.json")["headers"]["saypro-signature"]),  # the sample's, long stale
    ]:
        status, _ = post(webhook, candidate, signature)
        assert status == 401
    assert paid(aws).payment_events == 0


def test_a_signed_body_that_is_not_a_payment_event_is_a_400_saying_what_is_wrong(
    aws: dict[str, str], webhook: ModuleType
) -> None:
    for body in [
        '{"kind": "payment.partial"}',
        "not json",
        json.dumps({**json.loads(sample("webhook-partial.json")["body"]), "amount": 20}),
    ]:
        status, answer = post(webhook, body, signed(body))
        assert status == 400 and answer["message"] == "Not a payment event" and answer["problems"]
    assert paid(aws).payment_events == 0


def test_too_many_decimals_is_recorded_unmatched_never_rounded(
    aws: dict[str, str], webhook: ModuleType
) -> None:
    body = sample("webhook-unmatched-too-many-decimals.json")["body"]
    status, receipt = post(webhook, body, signed(body))
    assert status == 200 and receipt["outcome"] == "unmatched"
    assert [r["code"] for r in receipt["reasons"]] == ["AMOUNT_PRECISION", "UNKNOWN_INVOICE_REFERENCE"]


def test_the_payment_services_eventbridge_events_are_applied_once(aws: dict[str, str]) -> None:
    from invoicing.settings import payment_events_settings

    payment_events_settings.cache_clear()
    assert issue(aws, bank_transfer()) == "INV-2026-000001"
    consumer = load_module("payment_events")
    context = FakeLambdaContext(function_name="payment-events")
    partial = eventbridge_event(sample("eventbridge-partial.json"))
    first = consumer.lambda_handler(partial, context)
    again = consumer.lambda_handler(partial, context)
    assert (first["outcome"], first["duplicate"], again["duplicate"]) == ("partial", False, True)
    final = consumer.lambda_handler(eventbridge_event(sample("eventbridge-succeeded.json")), context)
    assert final["outcome"] in {"matched", "overpaid"}
    bad = eventbridge_event({**sample("eventbridge-partial.json"), "detail": {"kind": "payment.partial"}})
    with pytest.raises(ValueError, match="validation error"):
        consumer.lambda_handler(bad, context)


def test_a_binary_body_is_a_clear_refusal_never_a_500(aws: dict[str, str], webhook: ModuleType) -> None:
    import base64

    for raw, signature in (
        (b"\xff\xfe\x00binary", None),
        (b"\xff\xfe\x00binary", signed("\xff")),
        (b"not base64 at all!", None),
    ):
        event = http_api_event(
            "POST",
            "/webhooks/payments",
            {"Content-Type": "application/octet-stream"},
            "/webhooks/payments",
            {},
        )
        event["isBase64Encoded"] = True
        event["body"] = base64.b64encode(raw).decode() if raw.startswith(b"\xff") else raw.decode()
        if signature:
            event["headers"]["saypro-signature"] = signature
        response = webhook.lambda_handler(event, CONTEXT)
        assert response["statusCode"] in {400, 401}, raw
    from invoicing.domain.webhook_signatures import sign as sign_bytes

    body = b"\xff\xfe not utf-8"
    event = http_api_event(
        "POST", "/webhooks/payments", {"Content-Type": "application/octet-stream"}, "/webhooks/payments", {}
    )
    event["isBase64Encoded"] = True
    event["body"] = base64.b64encode(body).decode()
    event["headers"]["saypro-signature"] = sign_bytes(LOCAL_WEBHOOK_SECRET.encode(), int(time.time()), body)
    response = webhook.lambda_handler(event, CONTEXT)
    assert response["statusCode"] == 400 and json.loads(response["body"])["message"] == "Not a payment event"
    assert paid(aws).payment_events == 0


def test_the_ses_webhook_refuses_a_binary_body_with_a_403_not_a_500(aws: dict[str, str]) -> None:
    import base64

    from invoicing.settings import webhook_settings

    webhook_settings.cache_clear()
    ses = load_module("delivery_webhook")
    event = http_api_event(
        "POST", "/webhooks/ses", {"Content-Type": "application/octet-stream"}, "/webhooks/ses", {}
    )
    event["isBase64Encoded"] = True
    event["body"] = base64.b64encode(b"\xff\xfe\x00 not a message").decode()
    response = ses.lambda_handler(event, FakeLambdaContext(function_name="delivery-webhook"))
    assert response["statusCode"] == 403
