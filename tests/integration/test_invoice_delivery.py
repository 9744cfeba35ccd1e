"""Dispatching issued invoices on moto: SES raw email, SNS SMS, portal, fallbacks, exactly once."""

from __future__ import annotations

from collections.abc import Callable
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
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.message_senders import SesEmailSender, SnsSmsSender, TransientSendError
from invoicing.domain.documents import Document, DocumentIntegrityError
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import Seller
from invoicing.domain.order import Channel
from invoicing.domain.vendors import Vendor
from invoicing.services.invoice_delivery import DispatchOutcome, InvoiceDispatcher
from invoicing.services.invoice_issuing import InvoiceIssuer
from invoicing.services.vendor_invoicing import VendorInvoicer
from tests.conftest import make_order

NOW = datetime(2026, 11, 21, 14, 2, 30, tzinfo=UTC)
ACCOUNT = "123456789012"
VENDORS = {
    "V-HOME": Vendor(vendor_id="V-HOME", name="Müller GmbH", email="home@v.example", commission_rate="0.15"),
    "V-BOOKS": Vendor(
        vendor_id="V-BOOKS", name="Księgarnia", email="books@v.example", commission_rate="0.10"
    ),
}


def fake_pdf(document: Document) -> bytes:
    return fake_pdf_bytes(document.invoice_number)


@pytest.fixture
def orders(aws: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {}


Issue = Callable[..., InvoiceIssued]


def announced(
    aws: dict[str, str], publish_outbox: Callable[[], int], detail_type: str
) -> list[dict[str, Any]]:
    """What the outbox put on the bus since the last look, of one detail-type."""
    publish_outbox()
    return [e for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"]) if e["detail-type"] == detail_type]


@pytest.fixture
def issue(aws: dict[str, str], orders: dict[str, dict[str, Any]], publish_outbox: Callable[[], int]) -> Issue:
    """Issues the order's invoice for real and returns the InvoiceIssued the outbox published."""

    def issue_order(**overrides: Any) -> InvoiceIssued:
        order = make_order(**overrides)
        orders[order["order_id"]] = order
        InvoiceIssuer(
            ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
            documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
            renderer=fake_pdf,
            series="INV",
            seller=Seller(),
            clock=lambda: NOW,
        ).issue(order["order_id"], order)
        [event] = announced(aws, publish_outbox, "InvoiceIssued")
        return InvoiceIssued.model_validate(event["detail"])

    return issue_order


def fake_pdf_bytes(number: str) -> bytes:
    return f"%PDF-1.7 {number} \x00\xff binary".encode("latin-1")


def sent_events(aws: dict[str, str], publish_outbox: Callable[[], int]) -> list[dict[str, Any]]:
    return [e["detail"] for e in announced(aws, publish_outbox, "InvoiceSent")]


def dispatcher(aws: dict[str, str], orders: dict[str, dict[str, Any]], **overrides: Any) -> InvoiceDispatcher:
    parts: dict[str, Any] = {
        "deliveries": DeliveryLog(aws["INVOICES_TABLE_NAME"]),
        "documents": DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        "email": SesEmailSender(aws["SES_CONFIGURATION_SET"]),
        "sms": SnsSmsSender(),
        "load_order": orders.get,
        "load_vendor": VENDORS.get,
        "load_invoice": InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_invoice,
        "link_for": lambda number, party: (
            f"https://invoices.saypro.example/download/{number}?token=t-{party}"
        ),
        "sender_address": aws["SENDER_ADDRESS"],
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
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    issued = issue()
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
    [sent] = sent_events(aws, publish_outbox)
    assert (sent["invoice_number"], sent["channel"], sent["provider_message_id"]) == (
        issued.invoice_number,
        "email",
        result.message_id,
    )
    assert (sent["order_id"], sent["customer_id"], sent["kind"]) == ("ORD-1001", "CUST-42", "CUSTOMER")
    assert sent["seconds_since_completion"] == 19.0


def test_a_redelivered_event_sends_nothing_twice(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    issued = issue()
    first = dispatcher(aws, orders).dispatch(issued)
    again = dispatcher(aws, orders).dispatch(issued)
    assert first.outcome is DispatchOutcome.SENT
    assert again.outcome is DispatchOutcome.ALREADY_SENT
    assert len(sent_emails()) == 1
    assert [e["provider_message_id"] for e in sent_events(aws, publish_outbox)] == [first.message_id]


def test_send_succeeds_then_bookkeeping_fails_and_the_retry_sends_nothing(
    aws: dict[str, str],
    orders: dict[str, dict[str, Any]],
    issue: Issue,
    publish_outbox: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issued = issue()
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
    # The announcement is in the bookkeeping transaction that failed: nothing claims it was sent.
    assert sent_events(aws, publish_outbox) == []


def test_sms_customers_get_a_short_text_with_the_link(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    order = make_order()
    order["customer"]["preferred_channels"] = ["sms", "email"]
    issued = issue(customer=order["customer"])
    result = dispatcher(aws, orders).dispatch(issued)
    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.SMS)
    [(phone, text)] = sent_sms()
    assert phone == "+48501234567"
    assert (
        issued.invoice_number in text and "52.73 EUR" in text and "https://invoices.saypro.example/" in text
    )
    assert sent_emails() == []
    [sent] = sent_events(aws, publish_outbox)
    assert (sent["channel"], sent["provider_message_id"]) == ("sms", result.message_id)


def test_an_impossible_preference_falls_back_and_records_why(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    order = make_order()
    order["customer"].update(preferred_channels=["sms"], phone="0501 234 567")
    issued = issue(customer=order["customer"])
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
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    order = make_order()
    order["customer"]["preferred_channels"] = ["portal"]
    issued = issue(customer=order["customer"])
    assert dispatcher(aws, orders).dispatch(issued).outcome is DispatchOutcome.LISTED
    assert sent_emails() == [] and sent_sms() == []
    # No send, but delivered by the customer's choice: the first listing is announced, once.
    publish_outbox()
    events = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert [e["detail-type"] for e in events if e["detail-type"] != "InvoiceIssued"] == ["InvoiceListed"]
    (listed,) = [e["detail"] for e in events if e["detail-type"] == "InvoiceListed"]
    assert (
        listed["invoice_number"] == issued.invoice_number and listed["seconds_since_completion"] is not None
    )
    assert dispatcher(aws, orders).dispatch(issued).outcome is DispatchOutcome.LISTED
    assert announced(aws, publish_outbox, "InvoiceListed") == []


def test_a_permanent_refusal_is_recorded_and_the_next_channel_is_used(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    issued = issue()
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
    assert [(e["channel"], e["provider_message_id"]) for e in sent_events(aws, publish_outbox)] == [
        ("sms", result.message_id)
    ]


def test_throttling_releases_the_claim_so_the_retry_sends(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    issued = issue()

    class ThrottledSes:
        def send(self, message: Any, recipient: str, tags: dict[str, str] | None = None) -> str:
            raise TransientSendError("Throttling", "Maximum sending rate exceeded")

    with pytest.raises(TransientSendError):
        dispatcher(aws, orders, email=ThrottledSes()).dispatch(issued)
    assert DeliveryLog(aws["INVOICES_TABLE_NAME"]).deliveries(issued.invoice_number) == []
    assert dispatcher(aws, orders).dispatch(issued).outcome is DispatchOutcome.SENT
    assert len(sent_emails()) == 1


def test_no_usable_channel_is_recorded_undeliverable_and_announced_once(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    order = make_order()
    order["customer"].update(phone=None)
    issued = issue(customer=order["customer"])
    boto3.client("dynamodb").put_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Item={"pk": {"S": "SUPPRESSED#zoe@example.com"}, "sk": {"S": "SUPPRESSED"}},
    )
    first = dispatcher(aws, orders).dispatch(issued)
    second = dispatcher(aws, orders).dispatch(issued)
    assert first.outcome is second.outcome is DispatchOutcome.UNDELIVERABLE
    events = announced(aws, publish_outbox, "InvoiceDeliveryFailed")
    assert len(events) == 1
    reasons = {p["channel"]: p["reason"] for p in events[0]["detail"]["problems"]}
    assert "suppressed" in reasons["email"] and reasons["sms"] == "no phone number"
    assert sent_emails() == []


@pytest.mark.parametrize(
    ("key_field", "version_field", "genuine", "forged"),
    [
        ("s3_key", "s3_version_id", b"binary", b"forged"),  # the PDF
        ("document_key", "document_version_id", b'"52.73"', b'"12.73"'),  # the document JSON
    ],
    ids=["pdf", "document"],
)
def test_a_pdf_or_document_that_is_not_the_issued_one_is_never_sent(
    aws: dict[str, str],
    orders: dict[str, dict[str, Any]],
    issue: Issue,
    publish_outbox: Callable[[], int],
    key_field: str,
    version_field: str,
    genuine: bytes,
    forged: bytes,
) -> None:
    issued = issue()
    key = getattr(issued, key_field)
    s3 = boto3.client("s3")
    original = s3.get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key)["Body"].read()
    assert genuine in original
    s3.put_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key, Body=original.replace(genuine, forged))
    tampered = issued.model_copy(update={version_field: None})  # the latest version: the tampered one
    with pytest.raises(DocumentIntegrityError):
        dispatcher(aws, orders).dispatch(tampered)
    assert sent_emails() == [] and sent_sms() == []
    assert DeliveryLog(aws["INVOICES_TABLE_NAME"]).deliveries(issued.invoice_number) == []
    assert sent_events(aws, publish_outbox) == []


def test_vendor_invoices_go_to_the_vendors_registered_email(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    customer_invoice = issue()
    VendorInvoicer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        load_vendor=VENDORS.get,
        renderer=fake_pdf,
        series="VND",
        clock=lambda: NOW,
    ).issue_for(customer_invoice)
    vendor_invoice = next(
        InvoiceIssued.model_validate(e["detail"])
        for e in announced(aws, publish_outbox, "InvoiceIssued")
        if e["detail"]["vendor_id"] == "V-HOME"
    )
    assert vendor_invoice.kind == "VENDOR"

    # Only the recipient is looked up at send time: the vendor's current registered address.
    corrected = VENDORS["V-HOME"].model_copy(update={"email": "billing@v.example"})
    result = dispatcher(aws, orders, load_vendor={"V-HOME": corrected}.get).dispatch(vendor_invoice)
    assert result.outcome is DispatchOutcome.SENT
    [email] = sent_emails()
    assert "billing@v.example" in email["To"]
    assert email["Subject"] == f"SayPro vendor invoice {vendor_invoice.invoice_number} for order ORD-1001"
    assert "token=t-V-HOME" in email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    attachment = next(email.iter_attachments())
    assert attachment.get_content() == fake_pdf_bytes(vendor_invoice.invoice_number)
    [sent] = sent_events(aws, publish_outbox)
    assert (sent["invoice_number"], sent["kind"], sent["vendor_id"], sent["provider_message_id"]) == (
        vendor_invoice.invoice_number,
        "VENDOR",
        "V-HOME",
        result.message_id,
    )


def test_a_vendor_no_longer_in_master_data_gets_the_address_frozen_in_its_invoice(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    customer_invoice = issue()
    VendorInvoicer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        load_vendor=VENDORS.get,
        renderer=fake_pdf,
        series="VND",
        clock=lambda: NOW,
    ).issue_for(customer_invoice)
    vendor_invoice = next(
        InvoiceIssued.model_validate(e["detail"])
        for e in announced(aws, publish_outbox, "InvoiceIssued")
        if e["detail"]["vendor_id"] == "V-HOME"
    )
    result = dispatcher(aws, orders, load_vendor={}.get).dispatch(vendor_invoice)
    assert result.outcome is DispatchOutcome.SENT
    [email] = sent_emails()
    assert "home@v.example" in email["To"]


def test_a_name_with_line_breaks_and_an_idn_address_are_sent_as_one_well_formed_email(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue
) -> None:
    """Both made composing raise in the dispatcher: the invoice went to the DLQ, never undeliverable."""
    order = make_order()
    order["customer"].update(name="Zoë\r\nBcc: victim@example.com", email="zoe@bücher.de")
    issued = issue(customer=order["customer"])
    result = dispatcher(aws, orders).dispatch(issued)
    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.EMAIL)
    [email] = sent_emails()
    assert email["To"].addresses[0].addr_spec == "zoe@xn--bcher-kva.de"
    assert email["To"].addresses[0].display_name == "Zoë Bcc: victim@example.com"
    assert "Bcc" not in email


def test_an_address_no_provider_can_send_to_falls_back_with_its_reason(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue
) -> None:
    order = make_order()
    order["customer"]["email"] = "zoë@example.com"
    issued = issue(customer=order["customer"])
    result = dispatcher(aws, orders).dispatch(issued)
    assert result.channel is Channel.SMS
    assert "non-ASCII characters before the @" in result.passed_over[0].reason
    assert sent_emails() == []


def test_an_email_that_cannot_be_written_passes_the_channel_over(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoicing.services import invoice_delivery

    def unwritable(*args: Any, **kwargs: Any) -> EmailMessage:
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    monkeypatch.setattr(invoice_delivery, "compose_invoice_email", unwritable)
    result = dispatcher(aws, orders).dispatch(issue())
    assert result.channel is Channel.SMS
    assert result.passed_over[0].reason.startswith("the email could not be written")


def test_a_vendor_address_no_provider_can_send_to_is_listed_and_reported(
    aws: dict[str, str], orders: dict[str, dict[str, Any]], issue: Issue, publish_outbox: Callable[[], int]
) -> None:
    customer_invoice = issue()
    VendorInvoicer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        load_vendor=VENDORS.get,
        renderer=fake_pdf,
        series="VND",
        clock=lambda: NOW,
    ).issue_for(customer_invoice)
    vendor_invoice = next(
        InvoiceIssued.model_validate(e["detail"])
        for e in announced(aws, publish_outbox, "InvoiceIssued")
        if e["detail"]["vendor_id"] == "V-HOME"
    )
    broken = VENDORS["V-HOME"].model_copy(update={"email": "büro@vendor.example"})
    result = dispatcher(aws, orders, load_vendor={"V-HOME": broken}.get).dispatch(vendor_invoice)
    assert result.outcome is DispatchOutcome.UNDELIVERABLE
    assert sent_emails() == []
    [failed] = announced(aws, publish_outbox, "InvoiceDeliveryFailed")
    assert "non-ASCII" in failed["detail"]["problems"][0]["reason"]
