"""The account's Invoices section (web/account/, the <saypro-invoices> component the storefront
embeds) in a real browser: a customer's own invoices newest first, filtered by order number,
payment status and dates, opened, and never another customer's."""

from __future__ import annotations

import re
from typing import Any

from infra.local.tokens import issue_token
from tests.conftest import make_order
from tests.pages.conftest import LocalSite, screenshot
from tests.pages.conftest import sign_in as sign_in_as
from tests.pages.test_invoice_page import accessibility_violations, first_invoice
from tests.unit.test_payment_terms import bank_transfer

ZOE = {**make_order()["customer"], "customer_id": "CUST-ZOE", "email": "zoe@example.com"}
JOSE = {**make_order()["customer"], "customer_id": "CUST-JOSE", "name": "José", "email": "jose@example.com"}


def sign_in(page: Any, site: LocalSite, account: str) -> Any:
    sign_in_as(page, site, "account", account)
    section = page.locator("saypro-invoices")
    table = section.get_by_role("table")
    try:  # "N shown." once listed (on a phone the rows are cards and the header row is hidden)
        section.get_by_text(re.compile(r"^[1-9][0-9]* shown\.$")).wait_for()
    except Exception as error:  # say what the section showed instead
        screenshot(page, "account-invoices-failed")
        raise AssertionError("no invoice listed (screenshot account-invoices-failed)") from error
    return table


def test_a_customer_lists_filters_and_opens_only_their_own_invoices(site: LocalSite, page: Any) -> None:
    paid, _ = first_invoice(site, "", "ORD-ACCT-0001", make_order(customer=ZOE))
    unpaid, _ = first_invoice(site, "", "ORD-ACCT-0002", bank_transfer(customer=ZOE))
    theirs, _ = first_invoice(site, "", "ORD-ACCT-0003", make_order(customer=JOSE))

    table = sign_in(page, site, "customer:CUST-ZOE")
    section = page.locator("saypro-invoices")
    text = table.inner_text()
    assert paid in text and unpaid in text and theirs not in text
    assert text.index(unpaid) < text.index(paid)  # newest first
    screenshot(page, "account-invoices")
    assert accessibility_violations(page) == []

    section.get_by_label("Order number").fill("ORD-ACCT-0001")
    section.get_by_role("button", name="Show").click()
    section.get_by_text("1 shown.").wait_for()
    assert paid in table.inner_text() and unpaid not in table.inner_text()

    section.get_by_role("button", name="Clear").click()
    section.get_by_label("Payment status").select_option("unpaid")
    section.get_by_role("button", name="Show").click()
    section.get_by_text("1 shown.").wait_for()
    assert unpaid in table.inner_text() and "due by" in table.inner_text()

    section.get_by_role("button", name="Clear").click()
    section.get_by_label("Issued from").fill("2099-01-01")
    section.get_by_role("button", name="Show").click()
    section.get_by_text("No invoice matches.").wait_for()

    section.get_by_role("button", name="Clear").click()
    section.get_by_text("shown.").wait_for()
    with page.context.expect_page() as opened:
        section.get_by_role("button", name=f"Open {unpaid}").click()
    invoice_page = opened.value
    invoice_page.wait_for_load_state()
    assert invoice_page.get_by_role("heading", level=1).inner_text() == f"Invoice {unpaid}"
    assert invoice_page.get_by_role("status").inner_text() == "Unpaid"
    screenshot(invoice_page, "invoice-page-unpaid")

    # Another customer's invoice is not theirs to see, by the API the component calls.
    mine = issue_token("CUST-ZOE", "customer")
    answer = page.request.get(
        f"{site.api_url}/invoices/{theirs}", headers={"Authorization": f"Bearer {mine}"}
    )
    assert answer.status == 404
    link = page.request.get(
        f"{site.api_url}/invoices/{theirs}/download-link", headers={"Authorization": f"Bearer {mine}"}
    )
    assert link.status == 404


def test_the_section_reads_on_a_phone(site: LocalSite, browser: Any) -> None:
    first_invoice(site, "", "ORD-ACCT-0004", make_order(customer=ZOE))
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, site, "customer:CUST-ZOE")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the account page scrolls sideways on a phone ({width}px)"
    screenshot(page, "account-invoices-phone")
    context.close()
