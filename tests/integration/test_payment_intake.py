"""Payment events against issued invoices on moto: matched by reference first, applied once,
partial and over payments, refunds, and what cannot be matched recorded with its reasons."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest

from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.domain.payment_events import PaymentEvent
from invoicing.services.invoice_issuing import Outcome
from invoicing.services.payment_intake import PaymentIntake
from tests.conftest import make_order
from tests.integration.test_pay_later_invoices import NOW, issuer
from tests.unit.test_payment_terms import bank_transfer


def intake(aws: dict[str, str], now: datetime = NOW) -> PaymentIntake:
    table = aws["INVOICES_TABLE_NAME"]
    return PaymentIntake(ledger=InvoiceLedger(table), payments=PaymentLedger(table), clock=lambda: now)


def event(event_id: str, amount: str, kind: str = "payment.partial", **fields: Any) -> PaymentEvent:
    return PaymentEvent.model_validate(
        {
            "event_id": event_id,
            "kind": kind,
            "occurred_at": "2026-11-25T10:15:00Z",
            "amount": amount,
            "currency": "EUR",
            **fields,
        }
    )


def issue(aws: dict[str, str], order: dict[str, Any]) -> str:
    result = issuer(aws).handle_order_change("INSERT", order["order_id"], None, order)
    assert result is not None and result.outcome is Outcome.ISSUED and result.invoice_number
    return result.invoice_number


def record(aws: dict[str, str], number: str) -> Any:
    found = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_invoice(number)
    assert found is not None
    return found


def outbox(aws: dict[str, str], detail_type: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=aws["INVOICES_TABLE_NAME"])["Items"]
    return [
        json.loads(item["detail"]["S"])
        for item in items
        if item["sk"]["S"].startswith("OUTBOX#") and item["detail_type"]["S"] == detail_type
    ]


def test_a_partial_then_the_final_payment_settle_a_bank_transfer_invoice_once(aws: dict[str, str]) -> None:
    number = issue(aws, bank_transfer())
    unpaid = record(aws, number)
    assert unpaid.payment_state == "unpaid" and unpaid.balance_due == D("52.73")
    assert PaymentLedger(aws["INVOICES_TABLE_NAME"]).payment_due(number) is not None  # reminders scheduled

    first = intake(aws).receive(event("evt_1", "20.00", invoice_reference=number), door="webhook")
    assert (first.outcome, first.payment_state, first.balance_due) == ("partial", "partially_paid", "32.73")
    again = intake(aws).receive(event("evt_1", "20.00", invoice_reference=number), door="eventbridge")
    assert again.duplicate and again.outcome == "partial"
    assert record(aws, number).amount_received == D("20.00")  # applied once

    final = intake(aws).receive(
        event("evt_2", "32.73", kind="payment.succeeded", invoice_reference=number.lower()), door="webhook"
    )
    assert (final.outcome, final.payment_state, final.balance_due) == ("matched", "paid", "0.00")
    paid = record(aws, number)
    assert paid.payment_state == "paid" and paid.balance_due == 0 and paid.payment_events == 2
    assert PaymentLedger(aws["INVOICES_TABLE_NAME"]).payment_due(number) is None  # reminders stop

    announced = outbox(aws, "InvoicePaymentRecorded")
    assert [a["payment_state"] for a in sorted(announced, key=lambda a: a["event_id"])] == [
        "partially_paid",
        "paid",
    ]
    history = PaymentLedger(aws["INVOICES_TABLE_NAME"]).history(number)
    assert [h.event_id for h in history] == ["evt_1", "evt_2"]


def test_an_overpayment_is_applied_and_flagged_with_its_excess(aws: dict[str, str]) -> None:
    number = issue(aws, bank_transfer())
    over = intake(aws).receive(
        event("evt_o", "60.00", kind="payment.succeeded", invoice_reference=number), door="w"
    )
    assert over.outcome == "overpaid" and over.balance_due == "-7.27" and over.payment_state == "paid"
    assert [r.code for r in over.reasons] == ["OVERPAYMENT"]
    twice = intake(aws).receive(
        event("evt_t", "52.73", kind="payment.succeeded", invoice_reference=number), door="w"
    )
    assert twice.outcome == "overpaid"
    assert {r.code for r in twice.reasons} == {"POSSIBLE_DUPLICATE", "OVERPAYMENT"}


@pytest.mark.parametrize(
    ("fields", "amount", "reason"),
    [
        ({"invoice_reference": "INV-2026-999999"}, "52.73", "UNKNOWN_INVOICE_REFERENCE"),
        ({"invoice_reference": "not an invoice"}, "52.73", "UNKNOWN_INVOICE_REFERENCE"),
        ({"invoice_reference": "INV-2026-000001", "currency": "USD"}, "52.73", "CURRENCY_MISMATCH"),
        ({"invoice_reference": "INV-2026-000001", "customer_id": "CUST-7"}, "52.73", "CUSTOMER_MISMATCH"),
        ({"invoice_reference": "INV-2026-000001"}, "52.731", "AMOUNT_PRECISION"),
        ({"invoice_reference": "INV-2026-000001"}, "0", "ZERO_AMOUNT"),
        ({}, "52.73", "NO_REFERENCE"),
        ({"customer_id": "CUST-42"}, "12.00", "NO_OPEN_INVOICE"),
    ],
)
def test_what_cannot_be_matched_is_recorded_and_announced_with_its_reason_and_changes_nothing(
    aws: dict[str, str], fields: dict[str, str], amount: str, reason: str
) -> None:
    number = issue(aws, bank_transfer())
    assert number == "INV-2026-000001"
    receipt = intake(aws).receive(event("evt_u", amount, **fields), door="webhook")
    assert receipt.outcome == "unmatched" and reason in [r.code for r in receipt.reasons]
    untouched = record(aws, number)
    assert untouched.payment_state == "unpaid" and untouched.payment_events == 0
    (announced,) = outbox(aws, "PaymentUnmatched")
    assert announced["event_id"] == "evt_u" and reason in [r["code"] for r in announced["reasons"]]
    assert announced["amount"] == amount  # what was said, never rounded
    day = list(PaymentLedger(aws["INVOICES_TABLE_NAME"]).day(NOW.date()))
    assert [p.event_id for p in day] == ["evt_u"] and day[0].outcome == "unmatched"


def test_without_a_reference_only_one_open_invoice_owed_exactly_that_amount_is_matched(
    aws: dict[str, str],
) -> None:
    first = issue(aws, bank_transfer(order_id="ORD-1"))
    second = issue(aws, bank_transfer(order_id="ORD-2"))
    ambiguous = intake(aws).receive(event("evt_a", "52.73", customer_id="CUST-42"), door="w")
    assert ambiguous.outcome == "unmatched" and [r.code for r in ambiguous.reasons] == ["AMBIGUOUS"]
    intake(aws).receive(event("evt_p", "10.00", invoice_reference=first), door="w")
    matched = intake(aws).receive(event("evt_b", "52.73", customer_id="CUST-42"), door="w")
    assert matched.outcome == "matched" and matched.invoice_number == second
    rest = intake(aws).receive(
        event("evt_c", "42.73", kind="payment.succeeded", customer_id="CUST-42"), door="w"
    )
    assert rest.invoice_number == first and rest.payment_state == "paid"


def test_a_refund_is_matched_by_the_orders_transaction_reference_and_awaits_its_credit_note(
    aws: dict[str, str],
) -> None:
    number = issue(aws, make_order())  # a card order, captured: paid at issue
    assert record(aws, number).payment_state == "paid"
    refund = intake(aws).receive(
        event("evt_r", "10.00", kind="payment.refunded", transaction_reference="pi_3Nx"), door="w"
    )
    assert refund.outcome == "matched" and refund.invoice_number == number
    refunded = record(aws, number)
    assert refunded.amount_refunded == D("10.00") and refunded.refund_credit_pending == D("10.00")
    assert refunded.payment_state == "partially_refunded" and refunded.balance_due == 0
    too_much = intake(aws).receive(
        event("evt_r2", "50.00", kind="payment.refunded", transaction_reference="pi_3Nx"), door="w"
    )
    assert too_much.outcome == "unmatched" and [r.code for r in too_much.reasons] == ["REFUND_EXCEEDS_KEPT"]
    rest = intake(aws).receive(
        event("evt_r3", "42.73", kind="payment.refunded", order_id="ORD-1001"), door="w"
    )
    assert rest.payment_state == "refunded"


def test_a_dispute_and_a_failure_are_recorded_against_the_invoice_and_move_no_money(
    aws: dict[str, str],
) -> None:
    number = issue(aws, make_order())
    disputed = intake(aws).receive(
        event("evt_d", "52.73", kind="payment.disputed", transaction_reference="pi_3Nx"), door="w"
    )
    failed = intake(aws).receive(
        event("evt_f", "52.73", kind="payment.failed", invoice_reference=number), door="w"
    )
    assert disputed.outcome == failed.outcome == "matched"
    after = record(aws, number)
    assert after.disputed_amount == D("52.73") and after.payment_state == "paid" and after.payment_events == 2


def test_money_paid_to_a_replaced_invoice_is_its_revised_invoices(aws: dict[str, str]) -> None:
    order = bank_transfer()
    number = issue(aws, order)
    intake(aws).receive(event("evt_1", "20.00", invoice_reference=number), door="w")
    customer = order["customer"]
    changed = {
        **order,
        "customer": {**customer, "billing_address": {**customer["billing_address"], "line1": "2 New Street"}},
    }
    result = issuer(aws).handle_order_change("MODIFY", order["order_id"], order, changed)
    assert result is not None and result.outcome is Outcome.REVISED
    original = record(aws, number)
    revised = record(aws, original.replaced_by)
    assert original.payment_state == "credited" and original.amount_transferred == D("20.00")
    assert revised.amount_received == D("20.00") and revised.payment_state == "partially_paid"
    late = intake(aws).receive(event("evt_2", "32.73", invoice_reference=number), door="w")
    assert late.invoice_number == revised.invoice_number and late.payment_state == "paid"
    assert "APPLIED_TO_REVISED" in [r.code for r in late.reasons]
