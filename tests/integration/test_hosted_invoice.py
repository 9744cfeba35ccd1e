"""The hosted invoice page behind the emailed link, on moto through the real download handler:
a browser gets the page (the document as issued, the live status, the corrections), anything
else the PDF; an expired link offers a fresh one sent to the contact on file, once; anything
else is refused like a download."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.resend_log import ResendLog
from invoicing.domain.invoice import Seller
from invoicing.domain.links import Keyring, sign_link
from invoicing.services.hosted_invoice import fresh_link_request_id
from invoicing.services.invoice_issuing import InvoiceIssuer
from tests.conftest import make_order
from tests.integration.test_invoice_download import http_event

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def site(aws: dict[str, str]) -> dict[str, Any]:
    from invoicing.settings import download_settings

    download_settings.cache_clear()
    issuer = InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: b"%PDF-1.7 issued",
        series="INV",
        seller=Seller(),
    )
    customer = {**make_order()["customer"], "name": 'Zoë <script>alert("x")</script> Ł.'}
    mine = issuer.issue("ORD-1001", make_order(customer=customer)).invoice_number
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=aws["LINK_KEYS_SECRET_ID"])
    return {
        "handler": load_handler("invoice_download"),
        "keyring": Keyring.model_validate_json(secret["SecretString"]),
        "mine": mine,
        "aws": aws,
    }


def signed(site: dict[str, Any], party: str = "CUST-42", days_ago: int = 0) -> str:
    now = datetime.now(UTC) - timedelta(days=days_ago)
    return sign_link(site["keyring"], site["mine"], party, now, timedelta(days=30))


def call(site: dict[str, Any], query: dict[str, str], accept: str | None = BROWSER) -> dict[str, Any]:
    event = http_event(f"/download/{site['mine']}", query)
    if accept:
        event["headers"]["accept"] = accept
    answer: dict[str, Any] = site["handler"](event, FakeLambdaContext(function_name="invoice-download"))
    return answer


def post_fresh_link(site: dict[str, Any], body: str) -> dict[str, Any]:
    event = http_event(f"/download/{site['mine']}", {})
    path = f"/download/{site['mine']}/fresh-link"
    event.update({"rawPath": path, "routeKey": "POST /download/{invoice_number}/fresh-link", "body": body})
    event["requestContext"].update({"routeKey": event["routeKey"]})
    event["requestContext"]["http"].update({"method": "POST", "path": path})
    event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    answer: dict[str, Any] = site["handler"](event, FakeLambdaContext(function_name="invoice-download"))
    return answer


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[1])).split())


def test_a_browser_gets_the_invoice_page_as_issued_with_its_status(site: dict[str, Any]) -> None:
    token = signed(site)
    answer = call(site, {"token": token})
    assert answer["statusCode"] == 200
    headers = answer["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    text = text_of(answer["body"])
    for expected in (
        f"Invoice {site['mine']}",
        "Paid",
        "Download PDF",
        "Print",
        "Pan Tadeusz (hardcover)",
        "Desk lamp",
    ):
        assert expected in text, expected
    assert "52.73" in text and "EUR" in text
    assert '<script>alert("x")</script>' not in answer["body"]  # the customer's name is text, escaped
    assert 'Zoë <script>alert("x")</script> Ł.' in text
    pdf_link = html.unescape(re.search(r'href="([^"]+format=pdf)"', answer["body"]).group(1))  # type: ignore[union-attr]
    assert pdf_link == f"/download/{site['mine']}?token={token}&format=pdf"
    assert "@example.com" not in pdf_link and "CUST-42" not in pdf_link  # no personal data in the URL


def test_the_pdf_button_and_anything_but_a_browser_get_the_pdf(site: dict[str, Any]) -> None:
    token = signed(site)
    assert call(site, {"token": token, "format": "pdf"})["statusCode"] == 302
    assert call(site, {"token": token}, accept=None)["statusCode"] == 302
    assert call(site, {"token": token}, accept="application/pdf")["statusCode"] == 302


def test_an_expired_link_offers_a_fresh_one_sent_once_to_the_contact_on_file(site: dict[str, Any]) -> None:
    expired = signed(site, days_ago=31)
    answer = call(site, {"token": expired})
    assert answer["statusCode"] == 403
    text = text_of(answer["body"])
    assert "This link has expired" in text and "Send me a fresh link" in text
    assert f'action="/download/{site["mine"]}/fresh-link"' in answer["body"]
    assert '<input type="email"' not in answer["body"] and 'name="email"' not in answer["body"]

    body = f"token={expired}"
    first = post_fresh_link(site, body)
    again = post_fresh_link(site, body + "&email=attacker@example.net")  # an address is never taken
    assert (first["statusCode"], again["statusCode"]) == (202, 202)
    assert "A fresh link is on its way" in text_of(first["body"])
    resends = ResendLog(site["aws"]["INVOICES_TABLE_NAME"])
    record = resends.get(site["mine"], fresh_link_request_id(expired))
    assert record is not None and record.recipient is None and record.requested_by == "CUST-42"
    items = boto3.client("dynamodb").query(
        TableName=site["aws"]["INVOICES_TABLE_NAME"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :resend)",
        ExpressionAttributeValues={":pk": {"S": f"INVOICE#{site['mine']}"}, ":resend": {"S": "RESEND#"}},
    )["Items"]
    assert len(items) == 1


def test_a_fresh_link_for_a_link_that_still_works_sends_nothing(site: dict[str, Any]) -> None:
    answer = post_fresh_link(site, f"token={signed(site)}")
    assert answer["statusCode"] == 200 and "Your link still works" in text_of(answer["body"])


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "v2.local-1.zzzzzz.AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_anything_else_is_refused_without_saying_why(site: dict[str, Any], token: str) -> None:
    answer = call(site, {"token": token})
    assert answer["statusCode"] == 403 and "This link does not open an invoice" in text_of(answer["body"])
    assert post_fresh_link(site, f"token={token}")["statusCode"] == 403


def test_another_customers_link_and_a_tampered_one_are_refused(site: dict[str, Any]) -> None:
    assert call(site, {"token": signed(site, party="CUST-OTHER")})["statusCode"] == 403
    expired_other = signed(site, party="CUST-OTHER", days_ago=40)
    assert post_fresh_link(site, f"token={expired_other}")["statusCode"] == 403
    token = signed(site)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert call(site, {"token": tampered})["statusCode"] == 403


def post_problem(site: dict[str, Any], body: str) -> dict[str, Any]:
    event = http_event(f"/download/{site['mine']}", {})
    path = f"/download/{site['mine']}/problem"
    event.update({"rawPath": path, "routeKey": "POST /download/{invoice_number}/problem", "body": body})
    event["requestContext"].update({"routeKey": event["routeKey"]})
    event["requestContext"]["http"].update({"method": "POST", "path": path})
    answer: dict[str, Any] = site["handler"](event, FakeLambdaContext(function_name="invoice-download"))
    return answer


def test_a_problem_reported_on_the_page_is_logged_once_for_the_links_customer(site: dict[str, Any]) -> None:
    from urllib.parse import urlencode

    from invoicing.adapters.inquiry_log import InquiryLog

    token = signed(site)
    page = call(site, {"token": token})["body"]
    request_id = re.search(r'name="request_id" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    form = {
        "token": token,
        "request_id": request_id,
        "category": "discount",
        "description": "WELCOME10 missing",
    }
    first = post_problem(site, urlencode(form))
    again = post_problem(site, urlencode(form))  # the same form sent twice: one inquiry
    assert (first["statusCode"], again["statusCode"]) == (202, 202)
    reference = re.search(r"INQ-[0-9A-F]{16}", text_of(first["body"])).group(0)  # type: ignore[union-attr]
    assert reference in text_of(again["body"])
    inquiry = InquiryLog(site["aws"]["INVOICES_TABLE_NAME"]).get(reference)
    assert inquiry is not None and inquiry.opened_by == "CUST-42" and inquiry.category == "discount"
    assert post_problem(site, urlencode({**form, "category": "nonsense"}))["statusCode"] == 400
    assert post_problem(site, urlencode({**form, "description": " "}))["statusCode"] == 400
    theirs = signed(site, party="CUST-OTHER")
    assert post_problem(site, urlencode({**form, "token": theirs}))["statusCode"] == 403
    expired = signed(site, days_ago=31)
    assert post_problem(site, urlencode({**form, "token": expired}))["statusCode"] == 403
