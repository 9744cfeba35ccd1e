"""The receivables tick on moto: reminders before, on and after the due date, each sent once by
the real dispatcher and stopped once paid; overdue marked and announced; a refund nobody credited
credited by amount, and one the storefront credited left alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest

from infra.local.event_runner import eventbridge_event
from infra.local.outbox import sent_emails
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.adapters.correction_ledger import CorrectionLedger
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.invoice import Seller
from invoicing.domain.payment_reminders import ReminderPolicy
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.invoice_corrections import InvoiceCorrector
from invoicing.services.receivables import ReceivablesTick, TickReport
from tests.conftest import make_order
from tests.integration.test_pay_later_invoices import issuer
from tests.integration.test_payment_intake import event, intake, issue, record
from tests.unit.test_payment_terms import POLICY, bank_transfer

# Completed 21 Nov 2026, 14 days: due 5 Dec. Reminders 2 Dec 08:00, 5 Dec 08:00, 12 Dec 08:00.
DUE = "2026-12-05"


def at(day: int, hour: int = 9, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def tick(aws: dict[str, str], now: datetime) -> TickReport:
    table = aws["INVOICES_TABLE_NAME"]
    ledger = InvoiceLedger(table)
    return ReceivablesTick(
        index=SweepIndex(table),
        ledger=ledger,
        payments=PaymentLedger(table),
        events=EventPublisher(aws["EVENT_BUS_NAME"]),
        corrector=InvoiceCorrector(
            ledger=ledger,
            corrections=CorrectionLedger(table, ledger),
            documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
            renderer=render_document_pdf,
            invoice_series="INV",
            credit_note_series="CN",
            seller=Seller(),
            clock=lambda: now,
            policy=POLICY,
        ),
        policy=ReminderPolicy(),
        clock=lambda: now,
    ).tick()


@pytest.fixture
def dispatch(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """Hands what the tick put on the bus to the real dispatcher; returns what it answered."""
    from invoicing.settings import dispatcher_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    dispatcher_settings.cache_clear()
    handler = load_handler("invoice_dispatcher")

    def run() -> list[dict[str, Any]]:
        answers = []
        for body in read_events(aws["DISPATCHER_QUEUE_URL"]):
            if body["detail-type"] == "PaymentReminderDue":
                answers.append(
                    handler(eventbridge_event(body), FakeLambdaContext(function_name="dispatcher"))
                )
        return answers

    read_events(aws["DISPATCHER_QUEUE_URL"])  # what issuing asked for is not what is tested here
    return run


def reminder_subjects() -> list[str]:
    return sorted(
        e.subject
        for e in sent_emails().values()
        if "invoice INV" in e.subject.lower() or "Overdue" in e.subject
    )


def outbox_details(aws: dict[str, str], detail_type: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=aws["INVOICES_TABLE_NAME"])["Items"]
    return [
        json.loads(i["detail"]["S"])
        for i in items
        if i["sk"]["S"].startswith("OUTBOX#") and i["detail_type"]["S"] == detail_type
    ]


def test_each_stage_is_reminded_once_then_overdue_is_announced_and_payment_stops_the_rest(
    aws: dict[str, str], dispatch: Callable[[], list[dict[str, Any]]]
) -> None:
    number = issue(aws, bank_transfer())
    assert tick(aws, at(25, month=11)).reminders_requested == 0  # scheduled for the first stage
    assert dispatch() == []

    first = tick(aws, at(2))
    assert first.reminders_requested == 1
    (sent,) = dispatch()
    assert (sent["stage"], sent["outcome"], sent["channel"]) == ("before", "SENT", "email")
    assert tick(aws, at(2, 10)).reminders_requested == 0  # not again
    before = [e for e in sent_emails().values() if e.subject.startswith("Payment reminder")]
    assert len(before) == 1 and number in before[0].subject and before[0].attachment_name

    intake(aws, at(3)).receive(event("evt_1", "20.00", invoice_reference=number), door="webhook")
    assert tick(aws, at(5)).reminders_requested == 1
    (on_day,) = dispatch()
    assert on_day["stage"] == "on"
    (today,) = [e for e in sent_emails().values() if e.subject.startswith("Payment due today")]
    assert number in today.subject

    overdue = tick(aws, at(6, 1))
    assert overdue.marked_overdue == 1 and overdue.reminders_requested == 0
    assert record(aws, number).payment_state == "overdue"
    (announced,) = outbox_details(aws, "InvoiceOverdue")
    assert announced["balance_due"] == "32.73" and announced["due_date"] == DUE

    paid = intake(aws, at(8)).receive(
        event("evt_2", "32.73", kind="payment.succeeded", invoice_reference=number), door="webhook"
    )
    assert paid.payment_state == "paid"
    assert tick(aws, at(12)).reminders_requested == 0  # paid: the after-due reminder never goes
    assert dispatch() == []
    assert PaymentLedger(aws["INVOICES_TABLE_NAME"]).payment_due(number) is None
    sent_stages = [d["stage"] for d in outbox_details(aws, "PaymentReminderSent")]
    assert sorted(sent_stages) == ["before", "on"]


def test_a_reminder_asked_for_twice_is_sent_once_and_not_at_all_once_paid(
    aws: dict[str, str], dispatch: Callable[[], list[dict[str, Any]]]
) -> None:
    number = issue(aws, bank_transfer())
    tick(aws, at(2))
    (request,) = read_events(aws["DISPATCHER_QUEUE_URL"])
    handler = load_handler("invoice_dispatcher")
    context = FakeLambdaContext(function_name="dispatcher")
    outcomes = [handler(eventbridge_event(request), context)["outcome"] for _ in range(3)]
    assert outcomes == ["SENT", "ALREADY_SENT", "ALREADY_SENT"]
    intake(aws, at(3)).receive(
        event("evt_p", "52.73", kind="payment.succeeded", invoice_reference=number), door="w"
    )
    late = {**request, "detail": {**request["detail"], "stage": "on"}}
    assert handler(eventbridge_event(late), context)["outcome"] == "NOT_OWED"


def test_stages_missed_are_skipped_never_sent_together(
    aws: dict[str, str], dispatch: Callable[[], list[dict[str, Any]]]
) -> None:
    issue(aws, bank_transfer())
    report = tick(aws, at(13))  # first tick after every stage's moment (a long outage)
    assert report.reminders_requested == 1 and report.marked_overdue == 1
    (sent,) = dispatch()
    assert sent["stage"] == "after"
    assert tick(aws, at(20)).reminders_requested == 0


def test_a_refund_nobody_credited_is_credited_by_amount_after_the_grace(aws: dict[str, str]) -> None:
    number = issue(aws, make_order())
    intake(aws, at(1)).receive(
        event("evt_r", "10.00", kind="payment.refunded", transaction_reference="pi_3Nx"), door="w"
    )
    assert tick(aws, at(1, 9)).refunds_credited == 0  # within the grace: waits for the storefront
    report = tick(aws, at(1, 10))
    assert report.refunds_credited == 1
    credited = record(aws, number)
    (note,) = credited.credit_notes
    credit_note = record(aws, note)
    assert credit_note.grand_total == D("10.00") and credit_note.status == "ISSUED"
    assert credited.refund_credit_pending == 0 and credited.payment_state == "partially_refunded"
    assert credited.balance_due == 0
    assert tick(aws, at(1, 11)).refunds_credited == 0  # once


def test_a_refund_the_storefronts_return_credited_meanwhile_issues_nothing_more(aws: dict[str, str]) -> None:
    order = make_order()
    number = issue(aws, order)
    intake(aws, at(1)).receive(
        event("evt_r", "9.45", kind="payment.refunded", transaction_reference="pi_3Nx"), door="w"
    )
    # The storefront records the return of one unit of the first line itself (9.45 with its
    # discount share and tax): its own correction credits what the refund gave back.
    returned = {**order, "items": [{**order["items"][0], "refunded_quantity": 1}, *order["items"][1:]]}
    issuer(aws).handle_order_change("MODIFY", order["order_id"], order, returned)
    after_return = record(aws, number)
    assert len(after_return.credit_notes) == 1
    report = tick(aws, at(1, 10))
    assert report.refunds_credited == 0 and report.refunds_covered == 1
    settled = record(aws, number)
    assert len(settled.credit_notes) == 1 and settled.refund_credit_pending == 0
