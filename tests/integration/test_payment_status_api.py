"""The live payment status in the invoices API: amount paid, balance due, due date, and the
listing filtered by it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.runtime import FakeLambdaContext, load_handler
from tests.integration.test_invoices_api import request
from tests.integration.test_payment_intake import event, intake, issue
from tests.unit.test_payment_terms import bank_transfer

CUSTOMER = {"sub": "CUST-42", "role": "customer"}


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from invoicing.settings import api_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    api_settings.cache_clear()
    return load_handler("invoices_api")


def listing(api: Any, **query: str) -> list[dict[str, Any]]:
    response = api(request("/invoices", CUSTOMER, query), FakeLambdaContext(function_name="invoices-api"))
    assert response["statusCode"] == 200, response
    items: list[dict[str, Any]] = json.loads(response["body"])["items"]
    return items


def test_each_invoice_shows_its_live_payment_status_and_the_listing_filters_on_it(
    aws: dict[str, str], api: Any
) -> None:
    unpaid = issue(aws, bank_transfer(order_id="ORD-1"))
    partly = issue(aws, bank_transfer(order_id="ORD-2"))
    paid = issue(aws, bank_transfer(order_id="ORD-3"))
    intake(aws).receive(event("evt_1", "20.00", invoice_reference=partly), door="webhook")
    intake(aws).receive(
        event("evt_2", "52.73", kind="payment.succeeded", invoice_reference=paid), door="webhook"
    )

    by_number = {item["invoice_number"]: item for item in listing(api)}
    assert by_number[partly]["payment_state"] == "partially_paid"
    assert (by_number[partly]["amount_paid"], by_number[partly]["balance_due"]) == ("20.00", "32.73")
    assert by_number[partly]["due_date"] == "2026-12-05"
    assert by_number[paid]["payment_state"] == "paid" and by_number[paid]["balance_due"] == "0.00"
    assert by_number[unpaid]["payment_state"] in {"unpaid", "overdue"}  # by today's date

    for state, expected in (("partially_paid", [partly]), ("paid", [paid])):
        assert [i["invoice_number"] for i in listing(api, payment_status=state)] == expected
    assert sorted(i["invoice_number"] for i in listing(api, payment_status="PENDING")) == [
        unpaid,
        partly,
        paid,
    ]
    refused = api(
        request("/invoices", CUSTOMER, {"payment_status": "Paid; DROP"}), FakeLambdaContext(function_name="x")
    )
    assert refused["statusCode"] in {400, 422}
