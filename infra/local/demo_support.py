"""The demo's customer service: an agent finds an invoice by the customer's email, reads its
timeline, works the inquiry the customer reported (escalated, then resolved), and resends the
invoice to a corrected address, once, through the local API with test tokens."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from infra.local.demo_corrections import Checks
from infra.local.outbox import sent_emails
from infra.local.pipeline import LocalPipeline
from infra.local.tokens import issue_token

AGENT = ("agent-7", "support")


def _call(api_url: str, path: str, who: tuple[str, str], body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 (our own loopback endpoint)
        f"{api_url}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {issue_token(*who)}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def show_support(outcome: Checks, pipeline: LocalPipeline, api_url: str) -> None:
    out = outcome.lines.append
    out("\nCustomer service (a support token): find, timeline, an inquiry worked to its end, a resend")
    status, found = _call(api_url, "/support/invoices?" + urlencode({"email": " ZOE@example.com "}), AGENT)
    numbers = [f["invoice_number"] for f in found] if status == 200 else []
    out(f'  found by the email "ZOE@example.com": {", ".join(numbers) or "nothing"}')
    outcome.check(bool(numbers), "support found nothing by the customer's email")
    if not numbers:
        return
    number = next(
        (f["invoice_number"] for f in found if f["kind"] == "CUSTOMER" and not f.get("replaced_by")),
        numbers[0],
    )
    denied, _ = _call(api_url, f"/support/invoices/{number}/timeline", ("CUST-ZOE", "customer"))
    _, timeline = _call(api_url, f"/support/invoices/{number}/timeline", AGENT)
    out(f"  {number}'s timeline ({len(timeline['entries'])} entries; a customer's token -> {denied}):")
    for entry in timeline["entries"][:6]:
        out(f"    {entry['at'][:19]}  {entry['kind']:<11} {entry['text']}")
    outcome.check(
        denied == 403 and timeline["entries"][0]["kind"] == "issued",
        "the timeline was wrong or not support's",
    )

    report = {
        "category": "address",
        "description": "the street name is misspelt",
        "request_id": "demo-report-1",
    }
    _, inquiry = _call(api_url, f"/invoices/{number}/inquiries", ("CUST-ZOE", "customer"), report)
    actions = f"/support/inquiries/{inquiry['inquiry_id']}/actions"
    for body in ({"action": "started"}, {"action": "escalated", "owner": "billing-lead"}):
        _call(api_url, actions, AGENT, body)
    status, resend = _call(
        api_url,
        f"/support/invoices/{number}/resend",
        AGENT,
        {
            "request_id": "demo-resend-0001",
            "reason": "sent again with the street corrected",
            "email": "zoe.l@example.org",
        },
    )
    again, repeated = _call(
        api_url,
        f"/support/invoices/{number}/resend",
        AGENT,
        {
            "request_id": "demo-resend-0001",
            "reason": "sent again with the street corrected",
            "email": "zoe.l@example.org",
        },
    )
    before = len(sent_emails())
    pipeline.run_until_quiet()
    resent = [e for e in list(sent_emails().values())[before:] if "zoe.l@example.org" in e.recipients]
    _, view = _call(
        api_url,
        actions,
        AGENT,
        {
            "action": "resolved",
            "resolution": {
                "kind": "resent",
                "note": "resent to the corrected address",
                "resend_request_id": "demo-resend-0001",
            },
        },
    )
    out(f"  the customer reported {inquiry['inquiry_id']} ({inquiry['category']}); its audit trail:")
    for action in view["actions"]:
        out(f"    {action['at'][:19]}  {action['by']:<9} {action['action']:<9} {action['detail']}")
    out(
        f"  resend {resend.get('request_id')} -> {status} ({resend.get('to')}); the same request again -> "
        f"{again}, repeated {repeated.get('repeated')}; emails sent: {len(resent)}"
    )
    outcome.check(view["inquiry"]["status"] == "resolved", "the inquiry was not resolved")
    outcome.check(
        len(resent) == 1 and repeated.get("repeated") is True, "the resend was not sent exactly once"
    )
