"""Pay-later methods: invoiced when the order completes, as unpaid, with a due date and how to pay."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any

from invoicing.domain.invoice import Seller, freeze_invoice
from invoicing.domain.order import is_due_for_invoice
from invoicing.domain.payment_terms import CAPTURE_ONLY, PayLaterTerms, PaymentPolicy, due_date
from invoicing.domain.triggers import Trigger, classify_change
from invoicing.domain.validation import IssueCode, validate_order_item
from tests.conftest import make_order

POLICY = PaymentPolicy(
    pay_later={
        "bank_transfer": PayLaterTerms(due_days=14, instructions="Bank transfer to IBAN GB00 TEST."),
        "cash_on_delivery": PayLaterTerms(due_days=0, instructions="Pay the courier."),
    }
)


def bank_transfer(amount_paid: str = "0", status: str = "PENDING", **overrides: Any) -> dict[str, Any]:
    order = make_order(**overrides)
    order["payment"] = {
        "method": "bank_transfer",
        "amount_captured": D(amount_paid),
        "status": status,
    }
    return order


def test_a_pay_later_order_is_due_when_it_completes_and_a_card_one_only_when_captured() -> None:
    assert is_due_for_invoice(bank_transfer(), POLICY)
    assert is_due_for_invoice(bank_transfer(status="AUTHORIZED"), POLICY)
    assert not is_due_for_invoice(bank_transfer(), CAPTURE_ONLY)  # not listed: at capture, as before
    assert not is_due_for_invoice(bank_transfer(status="FAILED"), POLICY)
    assert not is_due_for_invoice({**bank_transfer(), "status": "SHIPPED"}, POLICY)
    card = make_order()
    card["payment"]["status"] = "PENDING"
    assert not is_due_for_invoice(card, POLICY)
    assert is_due_for_invoice(make_order(), POLICY)
    assert classify_change("INSERT", None, bank_transfer(), POLICY) is Trigger.DUE
    assert classify_change("INSERT", None, bank_transfer(), CAPTURE_ONLY) is Trigger.SKIP


def test_a_pay_later_order_validates_with_nothing_or_a_deposit_paid_but_not_more_than_its_total() -> None:
    for paid in ("0", "10.00", "52.73"):
        result = validate_order_item(bank_transfer(paid), key="ORD-1001", policy=POLICY)
        assert result.is_valid, (paid, result.issues)
    over = validate_order_item(bank_transfer("52.74"), key="ORD-1001", policy=POLICY)
    assert [i.code for i in over.issues] == [IssueCode.PAYMENT_AMOUNT_MISMATCH]
    not_listed = validate_order_item(bank_transfer(), key="ORD-1001")
    assert IssueCode.PAYMENT_NOT_CAPTURED in {i.code for i in not_listed.issues}
    card = make_order()
    card["payment"]["status"] = "PENDING"
    refused = validate_order_item(card, key="ORD-1001", policy=POLICY)
    assert [i.code for i in refused.issues] == [IssueCode.PAYMENT_NOT_CAPTURED]
    failed = validate_order_item(bank_transfer(status="FAILED"), key="ORD-1001", policy=POLICY)
    [issue] = [i for i in failed.issues if i.code is IssueCode.PAYMENT_NOT_CAPTURED]
    assert "PENDING or AUTHORIZED" in issue.message


def test_the_invoice_says_unpaid_what_is_due_by_when_and_how_to_pay() -> None:
    item = bank_transfer("10.00")
    result = validate_order_item(item, key="ORD-1001", policy=POLICY)
    assert result.order is not None and result.priced is not None
    terms = POLICY.unpaid_terms("bank_transfer", "PENDING")
    invoice = freeze_invoice(
        result.order,
        result.priced,
        invoice_number="INV-2026-000001",
        issued_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        seller=Seller(),
        source_sha256="0" * 64,
        pay_later=terms,
    )
    payment = invoice.payment
    completed = result.order.completed_at
    assert completed is not None
    assert payment.due_date == completed.date() + (date(2026, 1, 15) - date(2026, 1, 1))
    assert (payment.amount_paid, payment.balance_due) == (D("10.00"), D("42.73"))
    assert payment.instructions == "Bank transfer to IBAN GB00 TEST." and payment.is_unpaid
    assert POLICY.unpaid_terms("bank_transfer", "CAPTURED") is None
    assert POLICY.unpaid_terms("card", "PENDING") is None


def test_the_due_date_counts_days_from_the_completion_date_in_utc() -> None:
    terms = PayLaterTerms(due_days=30, instructions="x")
    assert due_date(datetime(2026, 12, 31, 23, 59, tzinfo=UTC), terms) == date(2027, 1, 30)
    assert due_date(datetime(2026, 2, 1, tzinfo=UTC), PayLaterTerms(due_days=0, instructions="x")) == date(
        2026, 2, 1
    )


def test_the_policy_reads_from_its_environment_json() -> None:
    policy = PaymentPolicy.from_json(
        '{"pay_later": {"invoice": {"due_days": 30, "instructions": "Net 30."}}}'
    )
    assert policy.terms_for("invoice") == PayLaterTerms(due_days=30, instructions="Net 30.")
    assert PaymentPolicy.from_json(None) == CAPTURE_ONLY
