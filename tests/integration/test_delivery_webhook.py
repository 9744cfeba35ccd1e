"""The bounce webhook on moto: real SNS signatures (a certificate made here, served by a stub),
real API Gateway events, the real dispatcher for the fallback."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from infra.local.api_server import http_api_event
from infra.local.demo_sla import scheduled_tick
from infra.local.event_runner import eventbridge_event
from infra.local.orders import put_order
from infra.local.outbox import sent_emails, sent_texts
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler, load_module
from infra.local.sns_signer import LocalSns, ses_bounce, ses_complaint, ses_delivery, ses_open
from invoicing.adapters.delivery_log import DeliveryLog
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.invoice import Seller
from invoicing.services.invoice_issuing import InvoiceIssuer
from tests.conftest import make_order

CONTEXT = FakeLambdaContext(function_name="delivery-webhook")
RECIPIENT = "bounce@simulator.amazonses.com"


@pytest.fixture
def stack(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, publish_outbox: Callable[[], int]
) -> dict[str, Any]:
    """An invoice emailed to a customer who also has a phone; the webhook with SNS's certificate."""
    from invoicing.settings import dispatcher_settings, webhook_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    dispatcher_settings.cache_clear()
    webhook_settings.cache_clear()
    order = make_order(
        customer={**make_order()["customer"], "email": RECIPIENT, "preferred_channels": ["email"]}
    )
    put_order(aws["ORDERS_TABLE_NAME"], order)
    InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: b"%PDF-1.7 " + document.invoice_number.encode(),
        series="INV",
        seller=Seller(),
    ).issue(order["order_id"], order)
    publish_outbox()
    [issued] = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert issued["detail-type"] == "InvoiceIssued"
    dispatcher = load_handler("invoice_dispatcher")
    sent = dispatcher(eventbridge_event(issued), FakeLambdaContext(function_name="invoice-dispatcher"))
    assert (sent["outcome"], sent["channel"]) == ("SENT", "email")
    publish_outbox()
    assert [e["detail-type"] for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])] == ["InvoiceSent"]
    sns = LocalSns.create(aws["NOTIFICATION_TOPIC_ARNS"])
    module = load_module("delivery_webhook")
    module.certificates.preload(sns.certificate_url, sns.certificate_pem)
    return {
        "names": aws,
        "sns": sns,
        "webhook": module,
        "dispatcher": dispatcher,
        "number": issued["detail"]["invoice_number"],
        "message_id": sent["message_id"],
        "publish_outbox": publish_outbox,
    }


def post(webhook: ModuleType, message: dict[str, Any] | str) -> tuple[int, dict[str, Any]]:
    body = message if isinstance(message, str) else json.dumps(message)
    event = http_api_event(
        "POST",
        "/webhooks/ses",
        {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"},
        "/webhooks/ses",
        {},
    )
    event["body"] = body
    response = webhook.lambda_handler(event, CONTEXT)
    return int(response["statusCode"]), json.loads(response["body"])


def email_delivery(stack: dict[str, Any]) -> dict[str, Any]:
    [delivery] = [
        d
        for d in DeliveryLog(stack["names"]["INVOICES_TABLE_NAME"]).deliveries(stack["number"])
        if d["channel"] == "email"
    ]
    return delivery


def suppressed(stack: dict[str, Any]) -> set[str]:
    return DeliveryLog(stack["names"]["INVOICES_TABLE_NAME"]).suppressed([RECIPIENT])


def bus_events(stack: dict[str, Any]) -> list[dict[str, Any]]:
    """What reached the bus: the outbox published first, as the stream's publisher would."""
    stack["publish_outbox"]()
    return read_events(stack["names"]["EVENTS_OBSERVER_QUEUE_URL"])


def deliver_due_events(stack: dict[str, Any]) -> list[dict[str, Any]]:
    """What the webhook announced; InvoiceDeliveryDue ones are handed to the real dispatcher.

    The dispatcher's own announcements (InvoiceSent of a fallback) are published and returned too,
    until the bus is quiet."""
    events: list[dict[str, Any]] = []
    while batch := bus_events(stack):
        events += batch
        for event in batch:
            if event["detail-type"] == "InvoiceDeliveryDue":
                stack["dispatcher"](eventbridge_event(event), FakeLambdaContext(function_name="dispatcher"))
    return events


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_permanent_bounce_suppresses_the_address_and_falls_back_to_sms_once(
    stack: dict[str, Any], version: str
) -> None:
    bounce = stack["sns"].notification(ses_bounce(stack["message_id"], RECIPIENT), version)

    status, body = post(stack["webhook"], bounce)
    events = deliver_due_events(stack)

    assert (status, body["outcome"], body["fell_back"]) == (200, "APPLIED", True)
    assert email_delivery(stack)["status"] == "BOUNCED"
    assert "550 5.1.1 user unknown" in email_delivery(stack)["bounce_reason"]
    assert suppressed(stack) == {RECIPIENT}
    [failed] = [e["detail"] for e in events if e["detail-type"] == "InvoiceDeliveryFailed"]
    assert failed["undeliverable"] is False and failed["problems"][0]["channel"] == "email"
    assert "bounced" in failed["problems"][0]["reason"]
    [fallback] = [e["detail"] for e in events if e["detail-type"] == "InvoiceSent"]
    assert fallback["channel"] == "sms"
    [(phone, text)] = sent_texts().values()
    assert phone == "+48501234567" and stack["number"] in text
    ledger_record = boto3.client("dynamodb").get_item(
        TableName=stack["names"]["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"INVOICE#{stack['number']}"}, "sk": {"S": "INVOICE"}},
    )["Item"]
    assert ledger_record["delivery_status"]["S"] == "SENT"
    assert "sweep_kind" not in ledger_record  # delivered by the fallback: out of the sweep index

    # SNS delivers at least once, and out of order: the same bounce again, then a late Delivery.
    again, _ = post(stack["webhook"], stack["sns"].notification(ses_bounce(stack["message_id"], RECIPIENT)))
    late, late_body = post(
        stack["webhook"], stack["sns"].notification(ses_delivery(stack["message_id"], RECIPIENT))
    )
    assert (again, late, late_body["outcome"]) == (200, 200, "ALREADY_APPLIED")
    assert not deliver_due_events(stack)  # no second failure event, no second fallback
    assert len(sent_texts()) == 1 and len(sent_emails()) == 1
    assert email_delivery(stack)["status"] == "BOUNCED"  # the late Delivery does not resurrect it


def _forged(stack: dict[str, Any]) -> dict[str, Any]:
    other = LocalSns.create(stack["sns"].topic_arn)  # a different key, claiming SNS's certificate
    return other.notification(ses_bounce(stack["message_id"], RECIPIENT))


def _tampered(stack: dict[str, Any]) -> dict[str, Any]:
    genuine = stack["sns"].notification(ses_delivery(stack["message_id"], RECIPIENT))
    return {**genuine, "Message": json.dumps(ses_bounce(stack["message_id"], RECIPIENT))}


def _wrong_topic(stack: dict[str, Any]) -> dict[str, Any]:
    stranger = LocalSns(
        topic_arn="arn:aws:sns:eu-west-1:999999999999:someone-elses-topic",
        key=stack["sns"].key,
        certificate_pem=stack["sns"].certificate_pem,
    )
    return stranger.notification(ses_bounce(stack["message_id"], RECIPIENT))


def _wrong_certificate_host(stack: dict[str, Any]) -> dict[str, Any]:
    impostor = LocalSns(
        topic_arn=stack["sns"].topic_arn,
        key=stack["sns"].key,
        certificate_pem=stack["sns"].certificate_pem,
        certificate_url="https://sns.eu-west-1.amazonaws.com.attacker.example/cert.pem",
    )
    return impostor.notification(ses_bounce(stack["message_id"], RECIPIENT))


def _certificate_in_a_bucket_named_sns(stack: dict[str, Any]) -> dict[str, Any]:
    """Whoever owns an S3 bucket called `sns` can serve a certificate at sns.s3.amazonaws.com."""
    attacker = LocalSns.create(stack["sns"].topic_arn)
    attacker.certificate_url = (
        "https://sns.s3.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
    )
    return attacker.notification(ses_bounce(stack["message_id"], RECIPIENT))


def _topic_as_a_list(stack: dict[str, Any]) -> dict[str, Any]:
    message = stack["sns"].notification(ses_bounce(stack["message_id"], RECIPIENT))
    return {**message, "TopicArn": [message["TopicArn"]]}


def _plain_http_certificate(stack: dict[str, Any]) -> dict[str, Any]:
    message = stack["sns"].notification(ses_bounce(stack["message_id"], RECIPIENT))
    return {**message, "SigningCertURL": message["SigningCertURL"].replace("https://", "http://")}


def _unsigned(stack: dict[str, Any]) -> dict[str, Any]:
    message = stack["sns"].notification(ses_bounce(stack["message_id"], RECIPIENT))
    return {k: v for k, v in message.items() if k != "Signature"}


@pytest.mark.parametrize(
    "forge",
    [
        _forged,
        _tampered,
        _wrong_topic,
        _wrong_certificate_host,
        _certificate_in_a_bucket_named_sns,
        _topic_as_a_list,
        _plain_http_certificate,
        _unsigned,
    ],
)
def test_an_untrusted_notification_is_refused_and_changes_nothing(stack: dict[str, Any], forge: Any) -> None:
    status, body = post(stack["webhook"], forge(stack))

    assert (status, body) == (403, {"message": "Forbidden"})
    assert email_delivery(stack)["status"] == "SENT"
    assert not suppressed(stack)
    assert not bus_events(stack)
    assert not sent_texts()


def test_a_body_that_is_not_an_sns_message_is_refused(stack: dict[str, Any]) -> None:
    assert post(stack["webhook"], "not json")[0] == 403
    assert post(stack["webhook"], "[1, 2]")[0] == 403
    assert post(stack["webhook"], "[" * 100_000 + "]" * 100_000)[0] == 403  # deeper than json can go


def test_a_genuine_message_that_is_not_an_ses_event_is_ignored_not_a_500(stack: dict[str, Any]) -> None:
    status, body = post(stack["webhook"], stack["sns"].notification([]))  # type: ignore[arg-type]
    assert (status, body["outcome"]) == (200, "IGNORED")
    assert email_delivery(stack)["status"] == "SENT" and not bus_events(stack)


def test_an_unreachable_certificate_host_answers_503_so_sns_delivers_again(stack: dict[str, Any]) -> None:
    from invoicing.adapters.sns_certificates import CertificateUnavailable, SnsCertificates

    def unreachable(url: str) -> bytes:
        raise CertificateUnavailable("certificate fetch failed (TimeoutError)")

    stack["webhook"].webhook._certificates = SnsCertificates(download=unreachable)
    status, _ = post(stack["webhook"], stack["sns"].notification(ses_bounce(stack["message_id"], RECIPIENT)))
    assert status == 503
    assert email_delivery(stack)["status"] == "SENT" and not suppressed(stack) and not bus_events(stack)


def test_the_subscription_to_our_topic_is_confirmed_and_no_other(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    confirmed: list[tuple[str, str]] = []
    monkeypatch.setattr(
        stack["webhook"].webhook._subscriptions,
        "confirm",
        lambda topic, token: confirmed.append((topic, token)) or f"{topic}:sub",
    )
    ours = stack["sns"].subscription_confirmation("token-123")
    theirs = {**_wrong_topic(stack), "Type": "SubscriptionConfirmation"}

    assert post(stack["webhook"], ours)[0] == 200
    assert post(stack["webhook"], theirs)[0] == 403
    assert confirmed == [(stack["sns"].topic_arn, "token-123")]


def test_confirming_calls_the_sns_api_for_the_topic(stack: dict[str, Any]) -> None:
    status, body = post(stack["webhook"], stack["sns"].subscription_confirmation("token-456"))
    assert (status, body["outcome"]) == (200, "SUBSCRIPTION_CONFIRMED")


def test_a_delivery_is_recorded_with_its_time_and_an_open_confirms(stack: dict[str, Any]) -> None:
    delivered = ses_delivery(stack["message_id"], RECIPIENT)
    opened = ses_open(stack["message_id"], RECIPIENT)
    post(stack["webhook"], stack["sns"].notification(delivered))
    post(stack["webhook"], stack["sns"].notification(opened))
    post(stack["webhook"], stack["sns"].notification(opened))  # a repeat: announced once

    delivery = email_delivery(stack)
    assert delivery["status"] == "DELIVERED"
    assert delivery["delivered_at"].startswith(delivered["delivery"]["timestamp"][:19])
    assert delivery["first_opened_at"]
    invoice = boto3.client("dynamodb").get_item(
        TableName=stack["names"]["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"INVOICE#{stack['number']}"}, "sk": {"S": "INVOICE"}},
    )["Item"]
    assert invoice["delivery_status"]["S"] == "DELIVERED" and invoice["confirmed_at"]["S"]
    announced = [(e["detail-type"], e["detail"]["invoice_number"]) for e in bus_events(stack)]
    assert announced == [("InvoiceDelivered", stack["number"]), ("InvoiceOpened", stack["number"])]


def test_a_complaint_suppresses_the_address_without_any_fallback(stack: dict[str, Any]) -> None:
    status, body = post(
        stack["webhook"], stack["sns"].notification(ses_complaint(stack["message_id"], RECIPIENT))
    )

    assert (status, body["outcome"], body["fell_back"]) == (200, "APPLIED", False)
    assert email_delivery(stack)["status"] == "COMPLAINED"
    assert suppressed(stack) == {RECIPIENT}
    # Announced for the reports, and nothing re-sent: no fallback to a text.
    announced = [(e["detail-type"], e["detail"]["invoice_number"]) for e in deliver_due_events(stack)]
    assert announced == [("InvoiceComplaintReceived", stack["number"])]
    assert not sent_texts()


def _make_retry_due(stack: dict[str, Any]) -> None:
    """Time passes: the deferred email's retry moment is now."""
    delivery = email_delivery(stack)
    boto3.client("dynamodb").update_item(
        TableName=stack["names"]["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": delivery["pk"]}, "sk": {"S": delivery["sk"]}},
        UpdateExpression="SET retry_at = :past",
        ExpressionAttributeValues={":past": {"S": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}},
    )


def test_soft_bounces_retry_the_email_later_then_fall_back_after_the_limit(stack: dict[str, Any]) -> None:
    issued = eventbridge_event(
        {
            "id": "redrive",
            "detail-type": "InvoiceDeliveryDue",
            "source": "saypro.invoicing",
            "time": datetime.now(UTC).isoformat(),
            "detail": json.loads(
                InvoiceLedger(stack["names"]["INVOICES_TABLE_NAME"])
                .issued_announcement(stack["number"])
                .model_dump_json()  # type: ignore[union-attr]
            ),
        }
    )
    context = FakeLambdaContext(function_name="dispatcher")
    message_id = stack["message_id"]
    for attempt in (1, 2):
        soft = stack["sns"].notification(ses_bounce(message_id, RECIPIENT, permanent=False))
        status, body = post(stack["webhook"], soft)
        assert (status, body["outcome"]) == (200, "APPLIED")
        assert post(stack["webhook"], soft)[1]["outcome"] == "ALREADY_APPLIED"  # duplicate
        delivery = email_delivery(stack)
        assert (delivery["status"], int(delivery["soft_bounces"]), delivery["sweep_kind"]) == (
            "DEFERRED",
            attempt,
            "EMAIL_RETRY",
        )
        too_early = stack["dispatcher"](issued, context)
        assert too_early["outcome"] == "RETRY_LATER" and len(sent_emails()) == attempt
        _make_retry_due(stack)
        resent = stack["dispatcher"](issued, context)
        assert resent["outcome"] == "SENT" and len(sent_emails()) == attempt + 1
        message_id = resent["message_id"]

    third = stack["sns"].notification(ses_bounce(message_id, RECIPIENT, permanent=False))
    status, body = post(stack["webhook"], third)
    deliver_due_events(stack)

    assert (body["outcome"], body["fell_back"]) == ("APPLIED", True)
    assert email_delivery(stack)["status"] == "BOUNCED"
    assert not suppressed(stack)  # a full mailbox is not a bad address
    assert len(sent_texts()) == 1


def test_a_notification_for_a_message_we_did_not_send_is_acknowledged_and_ignored(
    stack: dict[str, Any],
) -> None:
    status, body = post(stack["webhook"], stack["sns"].notification(ses_bounce("someone-else", RECIPIENT)))
    assert (status, body["outcome"]) == (200, "UNKNOWN_MESSAGE")
    assert email_delivery(stack)["status"] == "SENT" and not suppressed(stack)


def _unpublished_outbox(stack: dict[str, Any]) -> list[str]:
    """The detail-types of the invoice's outbox entries not yet confirmed on the bus."""
    items = boto3.client("dynamodb").query(
        TableName=stack["names"]["INVOICES_TABLE_NAME"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :outbox)",
        ExpressionAttributeValues={
            ":pk": {"S": f"INVOICE#{stack['number']}"},
            ":outbox": {"S": "OUTBOX#"},
        },
        ConsistentRead=True,
    )["Items"]
    return sorted(
        i["detail_type"]["S"]
        for i in items
        if "published_at" not in i and i.get("sweep_kind", {}).get("S") == "EVENT_UNPUBLISHED"
    )


def test_an_eventbridge_outage_keeps_the_bounce_announcements_in_the_outbox_until_the_sweep_publishes(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoicing.settings import sweeper_settings

    def eventbridge_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("EventBridge unavailable")

    bounce = stack["sns"].notification(ses_bounce(stack["message_id"], RECIPIENT))
    with monkeypatch.context() as outage:
        outage.setattr(EventPublisher, "publish_json", eventbridge_down)
        outage.setattr(EventPublisher, "publish", eventbridge_down)
        status, body = post(stack["webhook"], bounce)  # the webhook itself publishes nothing
        assert (status, body["outcome"], body["fell_back"]) == (200, "APPLIED", True)
        assert stack["publish_outbox"]() > 0  # the publisher tried (and retried) and gave up
        assert not read_events(stack["names"]["EVENTS_OBSERVER_QUEUE_URL"])

    # Recorded together with both announcements: nothing lost, nothing on the bus yet.
    assert email_delivery(stack)["status"] == "BOUNCED" and suppressed(stack) == {RECIPIENT}
    assert _unpublished_outbox(stack) == ["InvoiceDeliveryDue", "InvoiceDeliveryFailed"]
    assert not sent_texts()
    assert stack["publish_outbox"]() == 0  # the stream has moved on: the sweep publishes them

    monkeypatch.setenv("SWEEP_GRACE_SECONDS", "0")
    sweeper_settings.cache_clear()
    sweep = load_handler("sla_sweeper")
    sweep(scheduled_tick(), FakeLambdaContext(function_name="sla-sweeper"))
    events = deliver_due_events(stack)

    assert _unpublished_outbox(stack) == []
    assert [e["detail-type"] for e in events].count("InvoiceDeliveryFailed") == 1
    [(phone, text)] = sent_texts().values()
    assert phone == "+48501234567" and stack["number"] in text

    # SNS delivers the bounce again, the sweep ticks again: no second announcement, no second text.
    again, again_body = post(stack["webhook"], bounce)
    assert (again, again_body["outcome"], again_body["fell_back"]) == (200, "ALREADY_APPLIED", False)
    sweep(scheduled_tick(), FakeLambdaContext(function_name="sla-sweeper"))
    assert "InvoiceDeliveryFailed" not in [e["detail-type"] for e in deliver_due_events(stack)]
    assert len(sent_texts()) == 1 and len(sent_emails()) == 1


def test_a_bounce_diagnostic_naming_the_recipient_is_masked_in_logs_records_and_events(
    stack: dict[str, Any], capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    note = ses_bounce(stack["message_id"], RECIPIENT)
    note["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = (
        f"smtp; 550 5.1.1 <{RECIPIENT}>: Recipient address rejected; questions to +44 20 7946 0958"
    )
    capfd.readouterr()
    caplog.clear()

    status, body = post(stack["webhook"], stack["sns"].notification(note))
    logged = capfd.readouterr().out + "".join(str(r.__dict__) for r in caplog.records)
    events = bus_events(stack)

    assert (status, body["outcome"]) == (200, "APPLIED")
    assert "email bounced" in logged and "550 5.1.1" in logged
    [failed] = [e["detail"] for e in events if e["detail-type"] == "InvoiceDeliveryFailed"]
    [problem] = failed["problems"]
    stored = email_delivery(stack)["bounce_reason"]
    suppression = boto3.client("dynamodb").get_item(
        TableName=stack["names"]["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"SUPPRESSED#{RECIPIENT}"}, "sk": {"S": "SUPPRESSED"}},
    )
    for text in (logged, problem["reason"], stored, json.dumps(suppression.get("Item", {}).get("reason"))):
        assert RECIPIENT not in text and "bounce@" not in text
        assert "7946" not in text and "0958" not in text.replace("***958", "")
    for text in (problem["reason"], stored):
        assert "Permanent/General: smtp; 550 5.1.1 <b***@simulator.amazonses.com>: Recipient" in text
        assert text.endswith("questions to ***958")
    assert suppressed(stack) == {RECIPIENT}  # the address itself is still what gets suppressed
