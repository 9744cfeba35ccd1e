"""Dispatching issued invoices on moto: SES raw email, SNS SMS, portal, fallbacks, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local.provisioning import read_events
from invoicing.adapters.delivery_log import DeliveryLog, DeliveryStatus
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.message_senders import SesEmailSender, SnsSmsSender, TransientSendError
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import InvoiceDocument, Seller
from invoicing.domain.order import Channel
from invoicing.domain.vendors import Vendor
from invoicing.services.invoice_delivery import DispatchOutcome, DocumentIntegrityError, InvoiceDispatcher
from invoicing.services.invoice_issuing import InvoiceIssuer
from tests.conftest import make_order

NOW = datetime(2026, 11, 21, 14, 2, 30, tzinfo=UTC)
ACCOUNT = "123456789012"


def fake_pdf(document: InvoiceDocument) -> bytes:
    return f"%PDF-1.7 {document.invoice_number} \x00\xff binary".encode("latin-1")


@pytest.fixture
def orders(aws: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {}


def issue(aws: dict[str, str], orders: dict[str, dict[str, Any]], **overrides: Any) -> InvoiceIssued:
    order = make_order(**overrides)
    orders[order["order_id"]] = order
    InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        events=EventPublisher(aws["EVENT_BUS_NAME"]),
        renderer=fake_pdf,
        series="INV",
        seller=Seller(),
        clock=lambda: NOW,
    ).issue(order["order_id"], order)
    event = next(
        e for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"]) if e["detail-type"] == "InvoiceIssued"
    )
    return InvoiceIssued.model_validate(event["detail"])


def dispatcher(aws: dict[str, str], orders: dict[str, dict[str, Any]], **overrides: Any) -> InvoiceDispatcher:
    parts: dict[str, Any] = {
        "deliveries": DeliveryLog(aws["INVOICES_TABLE_NAME"]),
        "documents": DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        "events": EventPublisher(aws["EVENT_BUS_NAME"]),
        "email": SesEmailSender(aws["SES_CONFIGURATION_SET"]),
        "sms": SnsSmsSender(),
        "load_order": orders.get,
        "load_vendor": {
            "V-HOME": Vendor(
                vendor_id="V-HOME", name="Müller GmbH", email="home@v.example", commission_rate="0.15"
            )
        }.get,
        "link_for": lambda number, party: (
            f"https://invoices.saypro.example/download/{number}?token=t-{party}"
        ),
        "sender_address": aws["SENDER_ADDRESS"],
        "seller": Seller(),
        "clock": lambda: NOW,
    }
    parts.update(overrides)
    return InvoiceDispatcher(**parts)


def sent_emails() -> list[EmailMessage]:
    from moto.ses.models import ses_backends

    raw = [m.raw_data for m in ses_backends[ACCOUNT]["eu-west-1"].sent_messages]
    return [message_from_bytes(r.encode() if isinstance(r, str) else r, policy=policy.default) for r in raw]  # type: ignore[misc]


def sent_sms() -> list[tuple[str, str]]:
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT]["eu-west-1"].sms_messages.values())


def test_email_carries_the_stored_pdf_byte_for_byte_and_is_recorded(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    issued = issue(aws, orders)
    result = dispatcher(aws, orders).dispatch(issued)

    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.EMAIL)
    [email] = sent_emails()
    assert email["Subject"] == f"Your SayPro Order Invoice {issued.invoice_number}"
    assert "zoe@example.com" in email["To"]
    attachment = next(email.iter_attachments())
    stored = DocumentStore(aws["INVOICE_BUCKET_NAME"]).get_pdf(issued.s3_key, issued.s3_version_id)
    assert attachment.get_filename() == f"{issued.invoice_number}.pdf"
    assert attachment.get_content() == stored
    text = email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "52.73 EUR" in text and "TRK1" in text and f"token=t-{issued.customer_id}" in text

    [delivery] = DeliveryLog(aws["INVOICES_TABLE_NAME"]).deliveries(issued.invoice_number)
    assert delivery["status"] == DeliveryStatus.SENT
    assert delivery["provider_message_id"] == result.message_id
    record = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"INVOICE#{issued.invoice_number}"}, "sk": {"S": "INVOICE"}},
    )["Item"]
    assert record["first_sent_at"]["S"] == NOW.isoformat()
    assert float(record["seconds_to_first_send"]["N"]) == 19.0  # completed 14:02:11, sent 14:02:30
    lookup = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"MESSAGE#{result.message_id}"}, "sk": {"S": "DELIVERY"}},
    )["Item"]
    assert lookup["invoice_number"]["S"] == issued.invoice_number


def test_a_redelivered_event_sends_nothing_twice(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    issued = issue(aws, orders)
    first = dispatcher(aws, orders).dispatch(issued)
    again = dispatcher(aws, orders).dispatch(issued)
    assert first.outcome is DispatchOutcome.SENT
    assert again.outcome is DispatchOutcome.ALREADY_SENT
    assert len(sent_emails()) == 1


def test_send_succeeds_then_bookkeeping_fails_and_the_retry_sends_nothing(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = issue(aws, orders)
    deliveries = DeliveryLog(aws["INVOICES_TABLE_NAME"])

    def table_unavailable(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")

    monkeypatch.setattr(deliveries, "mark_sent", table_unavailable)
    with pytest.raises(ClientError):
        dispatcher(aws, orders, deliveries=deliveries).dispatch(issued)
    assert len(sent_emails()) == 1

    retried = dispatcher(aws, orders).dispatch(issued)
    assert retried.outcome is DispatchOutcome.IN_DOUBT
    assert len(sent_emails()) == 1


def test_sms_customers_get_a_short_text_with_the_link(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    order = make_order()
    order["customer"]["preferred_channels"] = ["sms", "email"]
    issued = issue(aws, orders, customer=order["customer"])
    result = dispatcher(aws, orders).dispatch(issued)
    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.SMS)
    [(phone, text)] = sent_sms()
    assert phone == "+48501234567"
    assert (
        issued.invoice_number in text and "52.73 EUR" in text and "https://invoices.saypro.example/" in text
    )
    assert sent_emails() == []


def test_an_impossible_preference_falls_back_and_records_why(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    order = make_order()
    order["customer"].update(preferred_channels=["sms"], phone="0501 234 567")
    issued = issue(aws, orders, customer=order["customer"])
    result = dispatcher(aws, orders).dispatch(issued)
    assert result.channel is Channel.EMAIL
    assert [(p.channel, p.reason) for p in result.passed_over] == [
        (Channel.SMS, "the phone number is not in E.164 form")
    ]
    record = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"INVOICE#{issued.invoice_number}"}, "sk": {"S": "INVOICE"}},
    )["Item"]
    assert record["channels_passed_over"]["L"] == [{"S": "sms: the phone number is not in E.164 form"}]


def test_portal_only_customers_get_no_email_or_sms(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    order = make_order()
    order["customer"]["preferred_channels"] = ["portal"]
    issued = issue(aws, orders, customer=order["customer"])
    assert dispatcher(aws, orders).dispatch(issued).outcome is DispatchOutcome.LISTED
    assert sent_emails() == [] and sent_sms() == []


def test_a_permanent_refusal_is_recorded_and_the_next_channel_is_used(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    issued = issue(aws, orders)
    # An unverified sender: SES answers MessageRejected, which no retry can fix.
    result = dispatcher(aws, orders, sender_address="nobody@unverified.example").dispatch(issued)
    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.SMS)
    assert result.passed_over[0].channel is Channel.EMAIL
    assert "MessageRejected" in result.passed_over[0].reason
    statuses = {
        d["channel"]: d["status"]
        for d in DeliveryLog(aws["INVOICES_TABLE_NAME"]).deliveries(issued.invoice_number)
    }
    assert statuses == {"email": "FAILED", "sms": "SENT"}
    # A retry of the event neither re-tries the refused email nor texts twice.
    assert dispatcher(aws, orders, sender_address="nobody@unverified.example").dispatch(issued).outcome is (
        DispatchOutcome.ALREADY_SENT
    )
    assert len(sent_sms()) == 1


def test_throttling_releases_the_claim_so_the_retry_sends(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    issued = issue(aws, orders)

    class ThrottledSes:
        def send(self, message: Any, recipient: str) -> str:
            raise TransientSendError("Throttling", "Maximum sending rate exceeded")

    with pytest.raises(TransientSendError):
        dispatcher(aws, orders, email=ThrottledSes()).dispatch(issued)
    assert DeliveryLog(aws["INVOICES_TABLE_NAME"]).deliveries(issued.invoice_number) == []
    assert dispatcher(aws, orders).dispatch(issued).outcome is DispatchOutcome.SENT
    assert len(sent_emails()) == 1


def test_no_usable_channel_is_recorded_undeliverable_and_announced_once(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    order = make_order()
    order["customer"].update(phone=None)
    issued = issue(aws, orders, customer=order["customer"])
    boto3.client("dynamodb").put_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Item={"pk": {"S": "SUPPRESSED#zoe@example.com"}, "sk": {"S": "SUPPRESSED"}},
    )
    first = dispatcher(aws, orders).dispatch(issued)
    second = dispatcher(aws, orders).dispatch(issued)
    assert first.outcome is second.outcome is DispatchOutcome.UNDELIVERABLE
    events = [
        e
        for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
        if e["detail-type"] == "InvoiceDeliveryFailed"
    ]
    assert len(events) == 1
    reasons = {p["channel"]: p["reason"] for p in events[0]["detail"]["problems"]}
    assert "suppressed" in reasons["email"] and reasons["sms"] == "no phone number"
    assert sent_emails() == []


def test_a_pdf_that_is_not_the_issued_one_is_never_sent(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    issued = issue(aws, orders)
    boto3.client("s3").put_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=issued.s3_key, Body=b"tampered")
    tampered = issued.model_copy(update={"s3_version_id": None})
    with pytest.raises(DocumentIntegrityError):
        dispatcher(aws, orders).dispatch(tampered)
    assert sent_emails() == []


def test_vendor_invoices_go_to_the_vendors_registered_email(
    aws: dict[str, str], orders: dict[str, dict[str, Any]]
) -> None:
    issued = issue(aws, orders)
    vendor_invoice = issued.model_copy(
        update={"kind": "VENDOR", "vendor_id": "V-HOME", "customer_name": "Müller GmbH"}
    )
    result = dispatcher(aws, orders).dispatch(vendor_invoice)
    assert result.outcome is DispatchOutcome.SENT
    [email] = sent_emails()
    assert "home@v.example" in email["To"]
    assert email["Subject"] == f"SayPro vendor invoice {issued.invoice_number} for order ORD-1001"
    assert "token=t-V-HOME" in email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
