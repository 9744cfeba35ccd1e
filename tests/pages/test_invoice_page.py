"""The emailed link in a real browser: the hosted invoice page, its PDF, an expired link and the
fresh one it sends, someone else's link refused, and no accessibility violation on any page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3

from infra.local.orders import load_order
from infra.local.outbox import sent_emails
from invoicing.domain.links import Keyring, sign_link
from tests.pages.conftest import ROOT, LocalSite, now_iso, screenshot

LINK = re.compile(r"(/download/(INV-[0-9]{4}-[0-9]{6})\?token=[A-Za-z0-9._~-]+)")


def emailed_links(invoice_number: str) -> list[str]:
    """The invoice's links in the emails sent so far, oldest first (the path and token)."""
    links = []
    for email in sent_emails().values():
        body = email.message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        links += [m.group(1) for m in LINK.finditer(text) if m.group(2) == invoice_number]
    return links


def accessibility_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


def first_invoice(
    site: LocalSite, order_file: str, order_id: str, order: dict[str, Any] | None = None
) -> tuple[str, str]:
    """The invoice of a completed order written as the storefront would, and its emailed link."""
    order = order or load_order(ROOT / "events" / "orders" / order_file)
    order["order_id"] = order_id
    order["completed_at"] = now_iso()
    site.order_through(order)
    item = boto3.client("dynamodb").get_item(
        TableName=site.names["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "CUSTOMER_INVOICE"}},
    )["Item"]
    number = item["invoice_number"]["S"]
    (link,) = emailed_links(number)
    return number, link


def test_the_emailed_link_opens_the_invoice_page_and_its_pdf(site: LocalSite, page: Any) -> None:
    number, link = first_invoice(site, "eur-two-rates-discounts-shipping.json", "ORD-PAGE-0001")
    page.goto(site.api_url + link)
    assert number in page.title()
    assert page.get_by_role("heading", level=1).inner_text() == f"Invoice {number}"
    assert page.get_by_role("status").inner_text() == "Paid"
    assert page.get_by_text("Pan Tadeusz (hardcover)").is_visible()
    assert page.get_by_role("button", name="Print").is_visible()
    screenshot(page, "invoice-page")
    assert accessibility_violations(page) == []

    pdf_link = page.get_by_role("link", name="Download PDF").get_attribute("href")
    assert pdf_link and "format=pdf" in pdf_link
    response = page.request.get(site.api_url + pdf_link)
    assert response.ok and response.body().startswith(b"%PDF-")
    assert urlsplit(response.url).path.endswith(f"{number}.pdf") or number in response.url

    page.get_by_text("Report a problem").click()
    page.get_by_label("What is it about?").select_option("discount")
    page.get_by_label("What is wrong?").fill("The welcome discount is missing.")
    screenshot(page, "invoice-page-report-a-problem")
    page.get_by_role("button", name="Send to customer service").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you: customer service has your report"
    assert re.search(r"INQ-[0-9A-F]{16}", page.inner_text("main"))
    page.go_back()

    phone = page.context.browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    small.goto(site.api_url + link)
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    screenshot(small, "invoice-page-phone")
    phone.close()


def test_an_expired_link_sends_a_fresh_one_to_the_contact_on_file(site: LocalSite, page: Any) -> None:
    number, _ = first_invoice(site, "eur-two-rates-discounts-shipping.json", "ORD-PAGE-0002")
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=site.names["LINK_KEYS_SECRET_ID"])
    keyring = Keyring.model_validate_json(secret["SecretString"])
    expired = sign_link(
        keyring, number, "CUST-ZOE", datetime.now(UTC) - timedelta(days=45), timedelta(days=30)
    )
    page.goto(f"{site.api_url}/download/{number}?token={expired}")
    assert page.get_by_role("heading", level=1).inner_text() == "This link has expired"
    assert page.locator("input[type=email], input[name=email]").count() == 0
    screenshot(page, "invoice-page-expired")
    assert accessibility_violations(page) == []

    before = len(emailed_links(number))
    page.get_by_role("button", name="Send me a fresh link").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "A fresh link is on its way"
    screenshot(page, "invoice-page-fresh-link-sent")
    site.settle()  # the dispatcher sends it
    links = emailed_links(number)
    assert len(links) == before + 1
    page.goto(site.api_url + links[-1])
    assert page.get_by_role("heading", level=1).inner_text() == f"Invoice {number}"

    # The button again, on the same expired link: nothing more is sent.
    page.goto(f"{site.api_url}/download/{number}?token={expired}")
    page.get_by_role("button", name="Send me a fresh link").click()
    page.wait_for_load_state()
    site.settle()
    assert len(emailed_links(number)) == before + 1


def test_someone_elses_link_is_refused(site: LocalSite, page: Any) -> None:
    number, _ = first_invoice(site, "eur-two-rates-discounts-shipping.json", "ORD-PAGE-0003")
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=site.names["LINK_KEYS_SECRET_ID"])
    keyring = Keyring.model_validate_json(secret["SecretString"])
    theirs = sign_link(keyring, number, "CUST-SOMEONE-ELSE", datetime.now(UTC), timedelta(days=30))
    answer = page.goto(f"{site.api_url}/download/{number}?token={theirs}")
    assert answer is not None and answer.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "This link does not open an invoice"
    assert page.locator("form").count() == 0
    screenshot(page, "invoice-page-refused")
    assert accessibility_violations(page) == []
