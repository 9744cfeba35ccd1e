"""Delivering corrections on moto: a revised invoice goes out with the credit note that cancels the
invoice it replaces, in one message; a credit note of a cancellation goes out on its own; a credit
note issued with a revised invoice never goes out by itself. Exactly once, as invoices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest

from infra.local.orders import put_order
from infra.local.outbox import sent_emails as local_emails
from infra.local.pipeline import LocalPipeline
from infra.local.provisioning import read_events
from invoicing.adapters.delivery_log import DeliveryLog, DeliveryStatus
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.events import InvoiceIssued
from invoicing.domain.invoice import Seller
from invoicing.domain.order import Channel
from invoicing.services.invoice_delivery import CorrectionNotReady, DispatchOutcome
from invoicing.services.invoice_issuing import InvoiceIssuer, Outcome
from tests.conftest import make_order, with_derived_totals
from tests.integration import test_invoice_delivery as delivery

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
Orders = dict[str, dict[str, Any]]
Correct = Callable[..., dict[str, InvoiceIssued]]


def issuer(aws: dict[str, str]) -> InvoiceIssuer:
    return InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=delivery.fake_pdf,
        series="INV",
        seller=Seller(),
        clock=lambda: NOW,
        credit_note_series="CN",
    )


def repriced(order: dict[str, Any]) -> dict[str, Any]:
    changed = make_order(**{k: v for k, v in order.items() if k != "items"})
    changed["items"][0]["unit_price"] = D("12.00")
    return with_derived_totals(changed)


@pytest.fixture
def orders(aws: dict[str, str]) -> Orders:
    return {}


@pytest.fixture
def correct(aws: dict[str, str], orders: Orders, publish_outbox: Callable[[], int]) -> Correct:
    """Invoices an order, then changes it (`cancel`: cancels it); returns what was announced of
    the correction, by detail-type."""

    def invoice_then_change(
        *, cancel: bool = False, returned: int = 0, **overrides: Any
    ) -> dict[str, InvoiceIssued]:
        """`returned`: that many units of the first line are returned instead."""
        order = make_order(**overrides)
        orders[order["order_id"]] = order
        assert issuer(aws).handle_order_change("INSERT", order["order_id"], None, order) is not None
        delivery.announced(aws, publish_outbox, "InvoiceIssued")  # the original's announcement
        if returned:
            changed = make_order(**overrides)
            changed["items"][0]["refunded_quantity"] = D(returned)
        else:
            changed = {**order, "status": "CANCELLED"} if cancel else repriced(order)
        orders[order["order_id"]] = changed
        result = issuer(aws).handle_order_change("MODIFY", order["order_id"], order, changed)
        assert result is not None
        assert result.outcome is (Outcome.CREDITED if cancel or returned else Outcome.REVISED)
        publish_outbox()
        return {
            event["detail-type"]: InvoiceIssued.model_validate(event["detail"])
            for event in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
            if event["detail-type"] in {"InvoiceIssued", "CreditNoteIssued"}
        }

    return invoice_then_change


def body(email: Any, subtype: str) -> str:
    part = email.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


SENTENCE = (
    "We corrected your invoice because the order was changed after the invoice was issued: "
    "invoice INV-2026-000001 is cancelled by credit note CN-2026-000001 and replaced by invoice "
    "INV-2026-000002."
)


def test_a_revised_invoice_is_emailed_with_its_credit_note_both_pdfs_and_why(
    aws: dict[str, str], orders: Orders, correct: Correct, publish_outbox: Callable[[], int]
) -> None:
    announced = correct()
    revised, credit_note = announced["InvoiceIssued"], announced["CreditNoteIssued"]
    assert (revised.replaces, revised.credit_note_number) == ("INV-2026-000001", "CN-2026-000001")

    result = delivery.dispatcher(aws, orders).dispatch(revised)

    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.EMAIL)
    [email] = delivery.sent_emails()
    assert email["Subject"] == "Your corrected SayPro invoice INV-2026-000002"
    store = DocumentStore(aws["INVOICE_BUCKET_NAME"])
    attachments = [(a.get_filename(), a.get_content()) for a in email.iter_attachments()]
    assert attachments == [
        ("INV-2026-000002.pdf", store.get_pdf(revised.s3_key, revised.s3_version_id)),
        ("CN-2026-000001.pdf", store.get_pdf(credit_note.s3_key, credit_note.s3_version_id)),
    ]
    assert attachments[0][1] == delivery.fake_pdf_bytes("INV-2026-000002")
    assert attachments[1][1] == delivery.fake_pdf_bytes("CN-2026-000001")
    text, html = body(email, "plain"), body(email, "html")
    assert SENTENCE in text and SENTENCE in html
    for expected in ("token=t-CUST-42", "download/INV-2026-000002", "download/CN-2026-000001"):
        assert expected in text, expected
    assert f"Total: {revised.grand_total} EUR" in text and "52.73 EUR" in text  # new total; the cancelled one
    # Tracked under the revised invoice's number, as any invoice.
    [sent] = delivery.sent_events(aws, publish_outbox)
    assert (sent["invoice_number"], sent["channel"]) == ("INV-2026-000002", "email")
    [logged] = DeliveryLog(aws["INVOICES_TABLE_NAME"]).deliveries("INV-2026-000002")
    assert logged["status"] == DeliveryStatus.SENT


def test_a_redelivered_revised_invoice_sends_nothing_twice(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    revised = correct()["InvoiceIssued"]
    first = delivery.dispatcher(aws, orders).dispatch(revised)
    again = delivery.dispatcher(aws, orders).dispatch(revised)
    assert (first.outcome, again.outcome) == (DispatchOutcome.SENT, DispatchOutcome.ALREADY_SENT)
    assert len(delivery.sent_emails()) == 1


def test_the_credit_note_issued_with_a_revised_invoice_is_not_sent_on_its_own(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    credit_note = correct()["CreditNoteIssued"]
    assert credit_note.replaced_by == "INV-2026-000002"
    result = delivery.dispatcher(aws, orders).dispatch(credit_note)
    assert result.outcome is DispatchOutcome.WITH_REVISED_INVOICE
    assert delivery.sent_emails() == [] and delivery.sent_sms() == []
    assert DeliveryLog(aws["INVOICES_TABLE_NAME"]).deliveries("CN-2026-000001") == []


def test_an_sms_customer_gets_the_corrected_invoice_text(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    customer = {**make_order()["customer"], "preferred_channels": ["sms", "email"]}
    revised = correct(customer=customer)["InvoiceIssued"]
    result = delivery.dispatcher(aws, orders).dispatch(revised)
    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.SMS)
    [(phone, text)] = delivery.sent_sms()
    link = "https://invoices.saypro.example/download/INV-2026-000002?token=t-CUST-42"
    assert phone == "+48501234567"
    assert text == f"Corrected invoice INV-2026-000002, {revised.grand_total} EUR: {link}"
    assert delivery.sent_emails() == []


def test_a_cancellation_emails_the_credit_note_alone_with_why(
    aws: dict[str, str], orders: Orders, correct: Correct, publish_outbox: Callable[[], int]
) -> None:
    announced = correct(cancel=True)
    assert "InvoiceIssued" not in announced
    credit_note = announced["CreditNoteIssued"]
    assert (credit_note.kind, credit_note.replaced_by) == ("CREDIT_NOTE", None)

    result = delivery.dispatcher(aws, orders).dispatch(credit_note)
    again = delivery.dispatcher(aws, orders).dispatch(credit_note)

    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.EMAIL)
    assert again.outcome is DispatchOutcome.ALREADY_SENT
    [email] = delivery.sent_emails()
    assert email["Subject"] == "Your SayPro credit note CN-2026-000001"
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "CN-2026-000001.pdf"
    stored = DocumentStore(aws["INVOICE_BUCKET_NAME"]).get_pdf(credit_note.s3_key, credit_note.s3_version_id)
    assert attachment.get_content() == stored == delivery.fake_pdf_bytes("CN-2026-000001")
    sentence = (
        "We issued this credit note because the order was cancelled after the invoice was issued: "
        "credit note CN-2026-000001 cancels invoice INV-2026-000001 and credits you 52.73 EUR."
    )
    assert sentence in body(email, "plain") and sentence in body(email, "html")
    assert "download/CN-2026-000001?token=t-CUST-42" in body(email, "plain")
    [sent] = delivery.sent_events(aws, publish_outbox)
    assert (sent["invoice_number"], sent["kind"], sent["channel"]) == (
        "CN-2026-000001",
        "CREDIT_NOTE",
        "email",
    )


def test_a_return_emails_its_credit_note_alone_saying_it_cancels_part_of_the_invoice(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    announced = correct(returned=1)
    assert "InvoiceIssued" not in announced
    credit_note = announced["CreditNoteIssued"]
    assert (credit_note.kind, credit_note.replaced_by, credit_note.grand_total) == (
        "CREDIT_NOTE",
        None,
        "9.45",
    )
    result = delivery.dispatcher(aws, orders).dispatch(credit_note)
    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.EMAIL)
    [email] = delivery.sent_emails()
    assert email["Subject"] == "Your SayPro credit note CN-2026-000001"
    sentence = (
        "We issued this credit note because part of the order was returned and refunded (BOOK-1 × 1): "
        "credit note CN-2026-000001 cancels part of invoice INV-2026-000001 and credits you 9.45 EUR."
    )
    assert sentence in body(email, "plain")


def test_a_cancellation_texts_the_credit_note_to_an_sms_customer(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    customer = {**make_order()["customer"], "preferred_channels": ["sms"]}
    credit_note = correct(cancel=True, customer=customer)["CreditNoteIssued"]
    result = delivery.dispatcher(aws, orders).dispatch(credit_note)
    assert (result.outcome, result.channel) == (DispatchOutcome.SENT, Channel.SMS)
    [(_, text)] = delivery.sent_sms()
    link = "https://invoices.saypro.example/download/CN-2026-000001?token=t-CUST-42"
    assert text == f"Credit note CN-2026-000001, 52.73 EUR: {link}"


def test_a_portal_customer_has_the_correction_listed(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    customer = {**make_order()["customer"], "preferred_channels": ["portal"]}
    revised = correct(customer=customer)["InvoiceIssued"]
    result = delivery.dispatcher(aws, orders).dispatch(revised)
    assert (result.outcome, result.channel) == (DispatchOutcome.LISTED, Channel.PORTAL)
    assert delivery.sent_emails() == [] and delivery.sent_sms() == []


def test_an_announcement_without_the_credit_note_number_finds_it_on_the_original(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    revised = correct()["InvoiceIssued"].model_copy(update={"credit_note_number": None})
    assert delivery.dispatcher(aws, orders).dispatch(revised).outcome is DispatchOutcome.SENT
    [email] = delivery.sent_emails()
    assert [a.get_filename() for a in email.iter_attachments()] == [
        "INV-2026-000002.pdf",
        "CN-2026-000001.pdf",
    ]


def test_nothing_is_sent_while_the_credit_note_is_not_issued(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    revised = correct()["InvoiceIssued"]
    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    missing = revised.model_copy(update={"credit_note_number": "CN-2026-000099"})
    with pytest.raises(CorrectionNotReady):
        delivery.dispatcher(aws, orders, load_invoice=ledger.get_invoice).dispatch(missing)
    assert delivery.sent_emails() == []
    assert DeliveryLog(aws["INVOICES_TABLE_NAME"]).deliveries("INV-2026-000002") == []


# --- through every function, wired as in the cloud -----------------------------------------------


def customer_emails() -> list[Any]:
    return [e for e in local_emails().values() if e.subject.startswith("Your ")]  # not the vendors'


def customer_subjects() -> list[str]:
    return [e.subject for e in customer_emails()]


def test_the_pipeline_sends_a_correction_as_one_email_and_a_cancellation_as_a_credit_note(
    aws: dict[str, str], pipeline: LocalPipeline
) -> None:
    edited, cancelled = make_order(order_id="ORD-EDIT"), make_order(order_id="ORD-CANCEL")
    for order in (edited, cancelled):
        put_order(aws["ORDERS_TABLE_NAME"], order)
    pipeline.run_until_quiet()
    assert sorted(customer_subjects()) == [
        "Your SayPro Order Invoice INV-2026-000001",
        "Your SayPro Order Invoice INV-2026-000002",
    ]
    put_order(aws["ORDERS_TABLE_NAME"], repriced(edited))
    put_order(aws["ORDERS_TABLE_NAME"], {**cancelled, "status": "CANCELLED"})
    pipeline.run_until_quiet()

    ledger = InvoiceLedger(aws["INVOICES_TABLE_NAME"])
    revised = ledger.find_by_order("ORD-EDIT")
    assert revised is not None and revised.replaces is not None
    new = [e for e in customer_emails() if "Order Invoice" not in e.subject]
    by_subject = {e.subject: e for e in new}
    assert len(new) == len(by_subject) == 2, sorted(by_subject)
    [corrected] = [e for s, e in by_subject.items() if s.startswith("Your corrected SayPro invoice")]
    [credit_note] = [e for s, e in by_subject.items() if s.startswith("Your SayPro credit note")]
    names = [a.get_filename() for a in corrected.message.iter_attachments()]
    original = ledger.get_invoice(revised.replaces)
    assert original is not None
    [cancelling] = original.credit_notes
    assert names == [f"{revised.invoice_number}.pdf", f"{cancelling}.pdf"]
    assert corrected.subject == f"Your corrected SayPro invoice {revised.invoice_number}"
    # The cancelled order's credit note, on its own; the edited order's is in the corrected email only.
    assert credit_note.attachment_name != f"{cancelling}.pdf"
    assert [a.get_filename() for a in credit_note.message.iter_attachments()] == [credit_note.attachment_name]
    assert pipeline.dead_letters == []


def sweep_kind(aws: dict[str, str], number: str) -> str | None:
    item = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"], Key={"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}}
    )["Item"]
    return item["sweep_kind"]["S"] if "sweep_kind" in item else None


def test_a_credit_note_on_its_own_stays_in_the_sweep_index_until_sent_as_an_invoice_does(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    credit_note = correct(cancel=True)["CreditNoteIssued"]
    # Should its event be lost, the SLA sweep re-drives it (InvoiceDeliveryDue, the same detail).
    assert sweep_kind(aws, "CN-2026-000001") == "INVOICE_UNSENT"
    due = delivery.dispatcher(aws, orders).dispatch(credit_note)
    assert due.outcome is DispatchOutcome.SENT
    assert sweep_kind(aws, "CN-2026-000001") is None


def test_a_credit_note_with_a_revised_invoice_leaves_the_sweep_to_the_revised_invoice(
    aws: dict[str, str], orders: Orders, correct: Correct
) -> None:
    revised = correct()["InvoiceIssued"]
    assert sweep_kind(aws, "CN-2026-000001") is None
    assert sweep_kind(aws, "INV-2026-000002") == "INVOICE_UNSENT"
    delivery.dispatcher(aws, orders).dispatch(revised)
    assert sweep_kind(aws, "INV-2026-000002") is None
