"""The back-office console (web/console/) in a real browser: a support agent takes a customer's
inquiry, finds the invoice, reads its timeline, credits it with a correction linked to the
inquiry, and resolves the inquiry as corrected; every step is on the audit trail. A customer's
token gets nothing from the routes the console calls."""

from __future__ import annotations

import re
import uuid
from typing import Any

from infra.local.tokens import issue_token
from tests.conftest import make_order
from tests.pages.conftest import LocalSite, screenshot, sign_in
from tests.pages.test_invoice_page import accessibility_violations, first_invoice

ANA = {**make_order()["customer"], "customer_id": "CUST-ANA", "name": "Ana", "email": "ana@example.com"}


def test_an_agent_resolves_an_inquiry_with_a_correction(site: LocalSite, page: Any) -> None:
    number, _ = first_invoice(site, "", "ORD-CONSOLE-0001", make_order(customer=ANA))
    customer = {"Authorization": f"Bearer {issue_token('CUST-ANA', 'customer')}"}
    reported = page.request.post(
        f"{site.api_url}/invoices/{number}/inquiries",
        headers=customer,
        data={
            "category": "charges",
            "description": "The lamp was on offer at 5.00 less.",
            "request_id": uuid.uuid4().hex,
        },
    )
    assert reported.status == 201, reported.text()
    inquiry_id = reported.json()["inquiry_id"]

    sign_in(page, site, "console", "support:agent-7")
    assert page.get_by_text("Signed in as agent-7 (support)").is_visible()
    page.get_by_role("button", name="Inquiry log").click()
    page.get_by_role("cell", name=inquiry_id).click()
    page.get_by_role("heading", name=re.compile(inquiry_id)).wait_for()
    page.get_by_label("Action").select_option("started")
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Recorded: started.").wait_for()
    assert "in_progress" in page.locator("#inquiry-summary").inner_text()
    screenshot(page, "console-inquiry")
    assert accessibility_violations(page) == []

    page.get_by_role("button", name="Invoices", exact=True).click()
    page.get_by_label("Value").fill(number)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("cell", name=number).click()
    page.get_by_role("heading", name=f"Invoice {number}").wait_for()
    assert "issued" in page.locator("#timeline").inner_text().lower()
    page.get_by_label("Why", exact=True).nth(1).fill("customer service: the lamp's offer price")
    page.get_by_label("Credit an amount (blank: compare with the order as it is now)").fill("5.00")
    page.get_by_label("For inquiry (optional)").fill(inquiry_id)
    page.get_by_role("button", name="Correct").click()
    message = page.locator("#invoice-message")
    message.get_by_text(re.compile("Corrected: credit note CN-")).wait_for()
    correction_id = re.search(r"Correction id ([0-9a-f]+)\.", message.inner_text()).group(1)  # type: ignore[union-attr]
    screenshot(page, "console-invoice")
    assert accessibility_violations(page) == []

    page.get_by_role("button", name="Inquiry log").click()
    page.get_by_role("cell", name=inquiry_id).click()
    page.get_by_role("heading", name=re.compile(inquiry_id)).wait_for()
    page.get_by_label("Action").select_option("resolved")
    page.get_by_label("Resolution").select_option("corrected")
    page.get_by_label("Correction id or resend request id").fill(correction_id)
    page.get_by_label("Note").fill("Credited 5.00 for the offer price.")
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Recorded: resolved.").wait_for()
    assert "resolved" in page.locator("#inquiry-summary").inner_text()
    trail = page.locator("#trail").inner_text()
    for line in ("CUST-ANA (customer) opened", "agent-7 (support) started", "agent-7 (support) resolved"):
        assert line in trail, trail
    screenshot(page, "console-inquiry-resolved")

    site.settle()  # the credit note is issued, sent and on the invoice's timeline
    timeline = page.request.get(
        f"{site.api_url}/support/invoices/{number}/timeline",
        headers={"Authorization": f"Bearer {issue_token('agent-7', 'support')}"},
    ).json()
    kinds = {e["kind"] for e in timeline["entries"]}
    assert {"credited", "correction"} <= kinds, timeline["entries"]
    assert any(e["kind"] == "correction" and "agent-7" in e["text"] for e in timeline["entries"])


def test_a_customers_token_gets_nothing_from_the_consoles_routes(site: LocalSite, page: Any) -> None:
    customer = {"Authorization": f"Bearer {issue_token('CUST-ANA', 'customer')}"}
    for path in ("/support/invoices?customer_id=CUST-ANA", "/support/inquiries"):
        assert page.request.get(site.api_url + path, headers=customer).status == 403, path


def test_operations_see_the_sla_picture_orders_to_fix_and_unmatched_payments(
    site: LocalSite, page: Any
) -> None:
    import json
    from datetime import UTC, datetime

    from infra.local.api_server import AWS_LOCK
    from infra.local.demo_payments import put_payment_service_event
    from infra.local.orders import load_order
    from tests.pages.conftest import ROOT, now_iso

    first_invoice(site, "", "ORD-OPS-0001", make_order(customer=ANA))
    broken = load_order(ROOT / "events" / "orders" / "invalid-several-problems.json")
    broken["order_id"], broken["completed_at"] = "ORD-OPS-BROKEN", now_iso()
    site.order_through(broken)
    with AWS_LOCK:
        put_payment_service_event(
            site.names,
            "PaymentEvent",
            json.loads(
                json.dumps(
                    {
                        "event_id": "evt_ops_unknown",
                        "kind": "payment.succeeded",
                        "occurred_at": datetime.now(UTC).isoformat(),
                        "amount": "12.34",
                        "currency": "EUR",
                        "invoice_reference": "INV-2099-999999",
                    }
                )
            ),
        )
    site.settle()

    sign_in(page, site, "console", "operations:ops-1")
    # Operations land on their own view.
    page.get_by_text(re.compile("^As of ")).wait_for()
    figures = page.locator("#ops-figures").inner_text()
    assert "Invoices issued" in figures and "Sent within 24 h" in figures and ">= 98%" in figures
    assert "ORD-OPS-BROKEN" in page.locator("#ops-failures").inner_text()
    unmatched = page.locator("#ops-unmatched").inner_text()
    assert "evt_ops_unknown" in unmatched and "12.34 EUR" in unmatched
    assert "VALIDATION_FAILURE" in page.locator("#ops-backlog").inner_text()
    assert page.locator("#ops-daily div").count() == 7
    screenshot(page, "console-operations")
    assert accessibility_violations(page) == []


def test_each_role_sees_only_its_own_part(site: LocalSite, page: Any) -> None:
    def status(path: str, sub: str, role: str) -> int:
        headers = {"Authorization": f"Bearer {issue_token(sub, role)}"}
        return int(page.request.get(site.api_url + path, headers=headers).status)

    assert status("/operations/overview", "CUST-ANA", "customer") == 403
    assert status("/operations/overview", "V-BOOKS", "vendor") == 403
    for role in ("operations", "finance", "support"):
        assert status("/operations/overview", f"{role}-1", role) == 200, role
    for role in ("operations", "finance"):
        assert status("/invoices", f"{role}-1", role) == 403, role
        assert status("/support/invoices?customer_id=CUST-ANA", f"{role}-1", role) == 403, role
        assert status("/invoices/INV-2026-000001", f"{role}-1", role) == 403, role


def test_operations_open_a_past_report_with_its_charts_and_files(site: LocalSite, page: Any) -> None:
    from datetime import UTC, datetime

    from infra.local.api_server import AWS_LOCK
    from infra.local.runtime import FakeLambdaContext, load_handler

    first_invoice(site, "", "ORD-REPORT-0001", make_order(customer=ANA))
    with AWS_LOCK:
        made = load_handler("operations_reports")(
            {"period": "week", "day": datetime.now(UTC).date().isoformat()},
            FakeLambdaContext(function_name="operations-reports"),
        )
    report_id = made["report_id"]

    sign_in(page, site, "console", "finance:fin-1")
    page.get_by_role("button", name="Reports").click()
    page.get_by_role("button", name=report_id).click()
    page.get_by_role("heading", name=re.compile(f"^{report_id}: Week ")).wait_for()
    assert re.match(r"^[1-9][0-9]* invoices issued", page.locator("#report-summary").inner_text())
    figures = page.locator("#report-figures").inner_text()
    assert "Accuracy" in figures and ">= 98%" in figures and "Sent within 24 h" in figures
    days = page.locator("#chart-daily g")
    assert days.count() == 7
    today = datetime.now(UTC).date().isoformat()
    tips = [days.nth(i).locator("title").text_content() for i in range(7)]
    (todays,) = [t for t in tips if t and t.startswith(today)]
    assert not todays.startswith(f"{today}: 0 issued")
    assert page.locator("#chart-send rect").count() == 7  # one bar per time-to-send bucket
    screenshot(page, "console-reports")
    assert accessibility_violations(page) == []

    pdf = page.get_by_role("link", name="The report (PDF)").get_attribute("href")
    assert pdf and pdf.startswith(f"{site.api_url}/reports/{report_id}/report.pdf?token=")
    opened = page.request.get(pdf)
    assert opened.status == 200 and opened.body().startswith(b"%PDF")
