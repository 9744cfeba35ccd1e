"""The inquiry log through the real API handler on moto: a customer reports a problem with its own
invoice (never another's), support works it (start, escalate, note, resolve with the correction it
led to), every action audited with who and when, counted by category, on the invoice's timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.test_payment_intake import issue
from tests.integration.test_support_desk import SUPPORT, api  # noqa: F401 (the fixture)
from tests.unit.test_payment_terms import bank_transfer

CUSTOMER = {"sub": "CUST-42", "role": "customer"}
STRANGER = {"sub": "CUST-9", "role": "customer"}


def test_a_customer_reports_on_its_own_invoice_once_per_request_and_support_works_it_to_resolution(
    aws: dict[str, str],
    api: Callable[..., tuple[int, Any]],  # noqa: F811 (the fixture imported above)
) -> None:
    number = issue(aws, bank_transfer())
    report = {
        "category": "discount",
        "description": "my promo code was not applied",
        "request_id": "rep-000001",
    }
    assert api(f"/invoices/{number}/inquiries", STRANGER, body=report)[0] == 404  # not theirs: not found
    status, inquiry = api(f"/invoices/{number}/inquiries", CUSTOMER, body=report)
    again, same = api(f"/invoices/{number}/inquiries", CUSTOMER, body=report)
    assert (status, again, same["inquiry_id"]) == (201, 200, inquiry["inquiry_id"])
    assert inquiry["status"] == "open" and inquiry["opened_by_role"] == "customer" and inquiry["tier"] == 1
    bad = api(f"/invoices/{number}/inquiries", CUSTOMER, body={"category": "weather", "description": "x"})
    assert bad[0] == 400 and bad[1]["error"] == "invalid_body" and "category" in bad[1]["message"]

    inquiry_id = inquiry["inquiry_id"]
    assert api(f"/support/inquiries/{inquiry_id}", CUSTOMER)[0] == 403
    actions = f"/support/inquiries/{inquiry_id}/actions"
    assert api(actions, CUSTOMER, body={"action": "started"})[0] == 403
    for body in (
        {"action": "started"},
        {"action": "escalated", "owner": "billing-lead"},
        {"action": "note", "note": "the code expired the day before the order"},
    ):
        status, view = api(actions, SUPPORT, body=body)
        assert status == 200, body
    assert (view["inquiry"]["status"], view["inquiry"]["tier"], view["inquiry"]["owner"]) == (
        "escalated",
        2,
        "billing-lead",
    )
    unlinked = api(
        actions, SUPPORT, body={"action": "resolved", "resolution": {"kind": "corrected", "note": "credited"}}
    )
    assert unlinked[0] == 400  # a corrected inquiry names its correction
    status, view = api(
        actions,
        SUPPORT,
        body={
            "action": "resolved",
            "resolution": {"kind": "corrected", "note": "credited 5.00", "correction_id": "c-1"},
        },
    )
    assert status == 200 and view["inquiry"]["status"] == "resolved" and view["inquiry"]["resolved_at"]
    trail = [(a["action"], a["by"]) for a in view["actions"]]
    assert trail == [
        ("opened", "CUST-42"),
        ("started", "agent-7"),
        ("escalated", "agent-7"),
        ("note", "agent-7"),
        ("resolved", "agent-7"),
    ]
    status, refused = api(actions, SUPPORT, body={"action": "note", "note": "late"})
    assert status == 409 and "resolved" in refused["message"]

    status, log = api("/support/inquiries", SUPPORT, {"status": "resolved"})
    assert status == 200 and [i["inquiry_id"] for i in log["items"]] == [inquiry_id]
    assert log["counts"] == {"discount": 1}
    assert api("/support/inquiries", SUPPORT, {"status": "open"})[1]["items"] == []
    _, timeline = api(f"/support/invoices/{number}/timeline", SUPPORT)
    assert any(e["kind"] == "inquiry" and inquiry_id in e["text"] for e in timeline["entries"])


def test_escalation_stops_at_the_last_tier(
    aws: dict[str, str],
    api: Callable[..., tuple[int, Any]],  # noqa: F811 (the fixture imported above)
) -> None:
    number = issue(aws, bank_transfer())
    _, inquiry = api(
        f"/invoices/{number}/inquiries", SUPPORT, body={"category": "tax", "description": "VAT?"}
    )
    actions = f"/support/inquiries/{inquiry['inquiry_id']}/actions"
    assert [api(actions, SUPPORT, body={"action": "escalated"})[0] for _ in range(3)] == [200, 200, 409]
    assert api("/support/inquiries/INQ-NOPE", SUPPORT)[0] == 404
