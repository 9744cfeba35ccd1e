"""Customer service's tools through the real API handler on moto: find an invoice by number, order,
customer or email; read its timeline (issued, sent, paid, downloaded, corrected, resent); resend it
once per request, to the address on file or a corrected one. Customers and vendors are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra.local.event_runner import eventbridge_event
from infra.local.outbox import sent_emails
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.adapters.delivery_log import record_download
from tests.integration.test_invoices_api import request
from tests.integration.test_payment_intake import event, intake, issue
from tests.unit.test_payment_terms import bank_transfer

SUPPORT = {"sub": "agent-7", "role": "support"}
CUSTOMER = {"sub": "CUST-42", "role": "customer"}


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, Any]]:
    from invoicing.settings import api_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    api_settings.cache_clear()
    handler = load_handler("invoices_api")

    def call(
        path: str, claims: dict[str, Any], query: dict[str, str] | None = None, body: Any = None
    ) -> tuple[int, Any]:
        event = request(path, claims, query)
        if body is not None:
            event["requestContext"]["http"]["method"] = "POST"
            event["body"] = json.dumps(body)
        response = handler(event, FakeLambdaContext(function_name="invoices-api"))
        return int(response["statusCode"]), json.loads(response["body"] or "null")

    return call


@pytest.fixture
def dispatcher(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, publish_outbox: Callable[[], int]
) -> Callable[[], list[dict[str, Any]]]:
    from invoicing.settings import dispatcher_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    dispatcher_settings.cache_clear()
    handler = load_handler("invoice_dispatcher")

    def run() -> list[dict[str, Any]]:
        publish_outbox()
        return [
            handler(eventbridge_event(body), FakeLambdaContext(function_name="dispatcher"))
            for body in read_events(aws["DISPATCHER_QUEUE_URL"])
        ]

    return run


def test_customers_and_vendors_cannot_use_support_routes(
    aws: dict[str, str], api: Callable[..., tuple[int, Any]]
) -> None:
    number = issue(aws, bank_transfer())
    for claims in (CUSTOMER, {"sub": "V-BOOKS", "role": "vendor"}):
        assert api("/support/invoices", claims, {"invoice_number": number})[0] == 403
        assert api(f"/support/invoices/{number}/timeline", claims)[0] == 403
        status, _ = api(
            f"/support/invoices/{number}/resend", claims, body={"request_id": "req-00001", "reason": "x"}
        )
        assert status == 403


def test_support_finds_an_invoice_by_number_order_customer_or_email(
    aws: dict[str, str], api: Callable[..., tuple[int, Any]]
) -> None:
    number = issue(aws, bank_transfer())
    other = issue(
        aws,
        bank_transfer(
            order_id="ORD-2",
            customer={**bank_transfer()["customer"], "customer_id": "CUST-9", "email": "ana@example.com"},
        ),
    )
    for query, expected in (
        ({"invoice_number": number.lower()}, [number]),
        ({"order_id": "ORD-1001"}, [number]),
        ({"customer_id": "CUST-9"}, [other]),
        ({"email": "  Zoe@Example.com "}, [number]),  # as typed by a person: trimmed, any case
        ({"email": "nobody@example.com"}, []),
    ):
        status, found = api("/support/invoices", SUPPORT, query)
        assert status == 200 and [f["invoice_number"] for f in found] == expected, query
    assert api("/support/invoices", SUPPORT, {})[0] == 400
    assert api("/support/invoices", SUPPORT, {"order_id": "ORD-1001", "email": "zoe@example.com"})[0] == 400


def test_the_timeline_tells_everything_that_happened_in_order(
    aws: dict[str, str], api: Callable[..., tuple[int, Any]], dispatcher: Callable[[], list[dict[str, Any]]]
) -> None:
    number = issue(aws, bank_transfer())
    dispatcher()  # emailed
    intake(aws).receive(event("evt_1", "20.00", invoice_reference=number), door="webhook")
    record_download(aws["INVOICES_TABLE_NAME"])(
        number, "CUST-42", __import__("datetime").datetime.now(__import__("datetime").UTC)
    )
    status, timeline = api(f"/support/invoices/{number}/timeline", SUPPORT)
    assert status == 200 and timeline["invoice"]["invoice_number"] == number
    kinds = [e["kind"] for e in timeline["entries"]]
    assert kinds[0] == "issued" and {"sent", "payment", "downloaded"} <= set(kinds)
    sent = next(e for e in timeline["entries"] if e["kind"] == "sent")
    assert "z***@example.com" in sent["text"] and "zoe@example.com" not in json.dumps(timeline)
    payment = next(e for e in timeline["entries"] if e["kind"] == "payment")
    assert "20.00 EUR" in payment["text"] and "partially_paid" in payment["text"]
    assert api("/support/invoices/INV-2026-999999/timeline", SUPPORT)[0] == 404


def test_a_resend_is_recorded_with_who_and_why_and_sent_once_per_request(
    aws: dict[str, str], api: Callable[..., tuple[int, Any]], dispatcher: Callable[[], list[dict[str, Any]]]
) -> None:
    number = issue(aws, bank_transfer())
    dispatcher()
    before = len(sent_emails())
    body = {"request_id": "req-zoe-0001", "reason": "customer says it never arrived"}
    status, first = api(f"/support/invoices/{number}/resend", SUPPORT, body=body)
    status_again, again = api(f"/support/invoices/{number}/resend", SUPPORT, body=body)
    assert (status, first["repeated"], status_again, again["repeated"]) == (202, False, 202, True)
    assert first["to"] == "the address on file" and first["requested_by"] == "agent-7"
    outcomes = [r["outcome"] for r in dispatcher()]
    assert outcomes == ["SENT"]
    new = [e for k, e in list(sent_emails().items())[before:]]
    assert [e.recipients for e in new] == [["zoe@example.com"]] and new[0].attachment_name == f"{number}.pdf"

    corrected = {
        "request_id": "req-zoe-0002",
        "reason": "typo in the address on file",
        "email": "zoe.l@example.org",
    }
    status, answer = api(f"/support/invoices/{number}/resend", SUPPORT, body=corrected)
    assert status == 202 and answer["to"] == "the address given" and "zoe.l@" not in json.dumps(answer)
    assert [r["outcome"] for r in dispatcher()] == ["SENT"]
    assert list(sent_emails().values())[-1].recipients == ["zoe.l@example.org"]
    _, timeline = api(f"/support/invoices/{number}/timeline", SUPPORT)
    resent = [e for e in timeline["entries"] if e["kind"] == "resent"]
    assert len(resent) == 2 and all("agent-7" in e["text"] and "(sent)" in e["text"] for e in resent)

    for bad in (
        {"request_id": "x", "reason": "r"},
        {"request_id": "req-00000003", "reason": "r", "email": "not an address"},
    ):
        assert api(f"/support/invoices/{number}/resend", SUPPORT, body=bad)[0] == 400
