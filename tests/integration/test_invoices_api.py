"""The invoices API with JWT-authorizer claims, on moto: each caller sees only its own."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.invoice import Seller
from invoicing.domain.links import Keyring
from invoicing.domain.page_tokens import seal_page_token
from invoicing.services.invoice_issuing import InvoiceIssuer
from tests.conftest import make_order

OPENAPI = Path(__file__).parents[2] / "docs" / "openapi.json"


def request(path: str, claims: dict[str, Any] | None, query: dict[str, str] | None = None) -> dict[str, Any]:
    query = query or {}
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.saypro.example",
        "http": {
            "method": "GET",
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "198.51.100.7",
            "userAgent": "pytest",
        },
        "requestId": "req",
        "routeKey": "$default",
        "stage": "$default",
        "time": "22/Nov/2026:12:00:00 +0000",
        "timeEpoch": 1795348800000,
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(query),
        "headers": {"host": "api.saypro.example"},
        "queryStringParameters": query or None,
        "requestContext": context,
        "isBase64Encoded": False,
    }


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from invoicing.settings import api_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    api_settings.cache_clear()
    issuer = InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: b"%PDF-1.7",
        series="INV",
        seller=Seller(),
    )
    other = {**make_order()["customer"], "customer_id": "CUST-OTHER"}
    for i in range(5):
        issuer.issue(f"ORD-{i}", make_order(order_id=f"ORD-{i}"))
    issuer.issue("ORD-THEIRS", make_order(order_id="ORD-THEIRS", customer=other))
    handler = load_handler("invoices_api")

    def call(
        path: str, claims: dict[str, Any] | None, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        response = handler(request(path, claims, query), FakeLambdaContext(function_name="invoices-api"))
        return response["statusCode"], json.loads(response["body"] or "null")

    return call


ME = {"sub": "CUST-42", "role": "customer"}


def test_a_customer_lists_only_its_own_invoices_newest_first_with_pagination(api: Any) -> None:
    status, page = api("/invoices", ME, {"limit": "3"})
    assert status == 200
    first = [item["order_id"] for item in page["items"]]
    status, rest = api("/invoices", ME, {"limit": "3", "next_token": page["next_token"]})
    seen = first + [item["order_id"] for item in rest["items"]]
    assert sorted(seen) == [f"ORD-{i}" for i in range(5)]
    assert "ORD-THEIRS" not in seen
    assert all(isinstance(item["grand_total"], str) for item in page["items"])
    numbers = [item["invoice_number"] for item in page["items"] + rest["items"]]
    assert numbers == sorted(numbers, reverse=True)  # issued in order, listed newest first


def test_filters_narrow_the_list(api: Any) -> None:
    status, page = api("/invoices", ME, {"order_id": "ORD-3"})
    assert status == 200 and [i["order_id"] for i in page["items"]] == ["ORD-3"]
    _, none = api("/invoices", ME, {"payment_status": "REFUNDED"})
    assert none["items"] == []
    _, old = api("/invoices", ME, {"issued_to": "2020-01-01"})
    assert old["items"] == []


def test_nobody_reads_another_partys_invoice_by_path_or_forged_page_token(api: Any) -> None:
    _, theirs = api("/invoices", {"sub": "CUST-OTHER", "role": "customer"})
    their_number = theirs["items"][0]["invoice_number"]
    assert api(f"/invoices/{their_number}", ME)[0] == 404
    assert api(f"/invoices/{their_number}/download-link", ME)[0] == 404
    forged = base64.urlsafe_b64encode(
        json.dumps(
            {
                "pk": {"S": f"INVOICE#{their_number}"},
                "sk": {"S": "INVOICE"},
                "customer_id": {"S": "CUST-OTHER"},
                "issued_at": {"S": "2099-01-01"},
            }
        ).encode()
    ).decode()
    assert api("/invoices", ME, {"next_token": forged}) == (400, BAD_TOKEN)
    assert api("/invoices", ME, {"next_token": "not-base64!"}) == (400, BAD_TOKEN)


BAD_TOKEN = {
    "error": "invalid_next_token",
    "message": "next_token is not a page token of this listing (same caller, same filters); "
    "start again without it",
}


def legacy(key: Any) -> str:
    """The old page-token format: plain base64 of the key JSON."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def a_key(**values: Any) -> dict[str, Any]:
    key = {
        "pk": {"S": "INVOICE#INV-2026-000001"},
        "sk": {"S": "INVOICE"},
        "customer_id": {"S": "CUST-42"},
        "issued_at": {"S": "2026-11-22T12:00:00+00:00"},
    }
    return {**key, **values}


def test_page_tokens_are_opaque_and_page_through_everything_with_the_same_filters(api: Any) -> None:
    seen: list[str] = []
    query = {"limit": "2", "payment_status": "CAPTURED"}
    _, page = api("/invoices", ME, query)
    everyone = [i["order_id"] for i in api("/invoices", ME, {"payment_status": "CAPTURED"})[1]["items"]]
    assert len(everyone) == 5
    while True:
        seen += [item["order_id"] for item in page["items"]]
        token = page["next_token"]
        if not token:
            break
        assert token.startswith("v1.") and len(token) < 2048
        body = base64.urlsafe_b64decode(token.split(".")[-1] + "==")
        assert b"INVOICE" not in body and b"CUST-42" not in body
        status, page = api("/invoices", ME, {**query, "next_token": token})
        assert status == 200
    assert seen == everyone


def test_a_page_token_only_continues_its_own_callers_own_query(api: Any) -> None:
    query = {"limit": "2", "payment_status": "CAPTURED", "issued_from": "2020-01-01"}
    _, page = api("/invoices", ME, query)
    token = page["next_token"]
    assert token
    version, kid, body = token.split(".")
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    refused = [
        api("/invoices", ME, {**query, "next_token": f"{version}.{kid}.{flipped}"}),  # tampered
        api("/invoices", {"sub": "CUST-OTHER", "role": "customer"}, {**query, "next_token": token}),
        api("/invoices", {"sub": "CUST-42", "role": "vendor"}, {**query, "next_token": token}),
        api("/invoices", ME, {"limit": "2", "next_token": token}),  # the filters dropped
        api("/invoices", ME, {**query, "payment_status": "PAID", "next_token": token}),
        api("/invoices", ME, {**query, "issued_from": "2020-01-02", "next_token": token}),
        api("/invoices", ME, {**query, "order_id": "ORD-1", "next_token": token}),
    ]
    assert refused == [(400, BAD_TOKEN)] * len(refused)
    # The page size may change from one page to the next; an empty next_token is the first page.
    assert api("/invoices", ME, {**query, "limit": "3", "next_token": token})[0] == 200
    assert api("/invoices", ME, {**query, "next_token": ""})[0] == 200


@pytest.mark.parametrize(
    "next_token",
    [
        legacy(a_key()),  # the old unsigned format, even for the caller's own partition
        legacy(a_key(issued_at={"S": 5})),  # non-string values reached boto3: 500
        legacy(a_key(issued_at={"S": ["2026"]})),
        legacy(a_key(issued_at={"S": {"S": "2026"}})),
        legacy(a_key(issued_at={"N": "5"})),
        legacy(a_key(issued_at={"S": ""})),  # an empty key value: DynamoDB's ValidationException
        legacy([1, 2]),
        legacy(7),
        "v1.",
        "v1.local-1.é",
        "é" * 10,
        "😀",
        "not-base64!",
        "v1.local-1." + "A" * 64,
        "v1.unknown." + "A" * 64,
    ],
)
def test_malformed_page_tokens_get_a_400_not_a_500(api: Any, next_token: str) -> None:
    assert api("/invoices", ME, {"next_token": next_token}) == (400, BAD_TOKEN)


@pytest.mark.parametrize(
    "key",
    [
        a_key(issued_at={"S": 5}),
        a_key(issued_at={"S": ""}),
        a_key(issued_at={"S": None}),
        a_key(issued_at={"N": "5"}),
        a_key(customer_id={"S": "CUST-OTHER"}),
        {"pk": {"S": "INVOICE#INV-2026-000001"}},
        ["not", "a", "key"],
        "key",
    ],
)
def test_even_a_sealed_token_carrying_a_wrong_key_gets_a_400(aws: dict[str, str], api: Any, key: Any) -> None:
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=aws["LINK_KEYS_SECRET_ID"])
    keyring = Keyring.model_validate_json(secret["SecretString"])
    context = {
        "party": "CUST-42",
        "role": "customer",
        "order_id": None,
        "payment_status": None,
        "issued_from": None,
        "issued_to": None,
    }
    assert api("/invoices", ME, {"next_token": seal_page_token(keyring, key, context)}) == (400, BAD_TOKEN)


def test_an_overlong_page_token_or_an_inverted_date_range_is_a_4xx(api: Any) -> None:
    assert api("/invoices", ME, {"next_token": "v1." + "A" * 4000})[0] == 422  # the API's parameter limit
    status, body = api("/invoices", ME, {"issued_from": "2026-02-01", "issued_to": "2026-01-01"})
    assert (status, body) == (400, {"error": "bad_request", "message": "issued_from is after issued_to"})


def test_identity_comes_only_from_the_token(api: Any) -> None:
    assert api("/invoices", None)[0] == 403
    assert api("/invoices", {"sub": "CUST-42", "role": "admin"})[0] == 403
    # A vendor token with a customer's id lists vendor invoices only: none here.
    assert api("/invoices", {"sub": "CUST-42", "role": "vendor"})[1]["items"] == []
    assert api("/invoices", ME, {"customer_id": "CUST-OTHER"})[1]["items"][0]["order_id"] != "ORD-THEIRS"


def test_a_caller_gets_a_signed_link_for_its_own_invoice(api: Any) -> None:
    _, page = api("/invoices", ME, {"limit": "1"})
    number = page["items"][0]["invoice_number"]
    status, link = api(f"/invoices/{number}/download-link", ME)
    assert status == 200
    assert link["url"].startswith(f"https://invoices.saypro.example/download/{number}?token=v2.")
    assert api(f"/invoices/{number}", ME)[1]["invoice_number"] == number


def test_the_committed_openapi_description_is_what_the_code_generates(api: Any) -> None:
    from infra.openapi import generate

    assert json.loads(OPENAPI.read_text()) == json.loads(generate())
