"""The download endpoint on moto, called with real API Gateway HTTP API (v2) events."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.invoice import Seller
from invoicing.domain.links import Keyring, sign_link, sign_link_v1
from invoicing.services.invoice_issuing import InvoiceIssuer
from tests.conftest import make_order

PDF = b"%PDF-1.7 the issued one"


def http_event(path: str, query: dict[str, str]) -> dict[str, Any]:
    raw_query = urllib.parse.urlencode(query)
    return {
        "version": "2.0",
        "routeKey": "GET /download/{invoice_number}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": {"host": "invoices.saypro.example"},
        "queryStringParameters": query or None,
        "pathParameters": {"invoice_number": path.rsplit("/", 1)[1]},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "invoices.saypro.example",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "pytest",
            },
            "requestId": "req",
            "routeKey": "GET /download/{invoice_number}",
            "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795348800000,
        },
        "isBase64Encoded": False,
    }


@pytest.fixture(params=["v2", "v1"])
def version(request: pytest.FixtureRequest) -> str:
    """Every test runs with new (v2) links and with links already sent (v1)."""
    return str(request.param)


@pytest.fixture
def setup(aws: dict[str, str], version: str) -> dict[str, Any]:
    from invoicing.settings import download_settings

    download_settings.cache_clear()
    issuer = InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: PDF,
        series="INV",
        seller=Seller(),
    )
    mine = issuer.issue("ORD-1001", make_order()).invoice_number
    theirs = issuer.issue(
        "ORD-2002",
        make_order(order_id="ORD-2002", customer={**make_order()["customer"], "customer_id": "CUST-OTHER"}),
    ).invoice_number
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=aws["LINK_KEYS_SECRET_ID"])
    return {
        "handler": load_handler("invoice_download"),
        "keyring": Keyring.model_validate_json(secret["SecretString"]),
        "mine": mine,
        "theirs": theirs,
        "version": version,
    }


def get(setup: dict[str, Any], number: str, token: str | None) -> dict[str, Any]:
    query = {"token": token} if token is not None else {}
    response: dict[str, Any] = setup["handler"](
        http_event(f"/download/{number}", query), FakeLambdaContext(function_name="invoice-download")
    )
    return response


def downloads_announced(aws: dict[str, str], publish_outbox: Callable[[], int]) -> list[dict[str, Any]]:
    publish_outbox()
    return [
        e["detail"]
        for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
        if e["detail-type"] == "InvoiceDownloaded"
    ]


def token(setup: dict[str, Any], number: str, party: str = "CUST-42", **kwargs: Any) -> str:
    """A v2 token (what links are signed with), or with `version="v1"` one as sent before v2."""
    now = kwargs.get("now", datetime.now(UTC))
    sign = sign_link_v1 if kwargs.get("version", setup.get("version")) == "v1" else sign_link
    return sign(setup["keyring"], number, party, now, kwargs.get("lifetime", timedelta(days=30)))


def test_a_valid_link_redirects_to_a_fresh_presigned_url_of_the_stored_version(
    aws: dict[str, str], setup: dict[str, Any], publish_outbox: Callable[[], int]
) -> None:
    response = get(setup, setup["mine"], token(setup, setup["mine"]))
    assert response["statusCode"] == 302
    assert response["headers"]["Cache-Control"] == "no-store"
    location = urllib.parse.urlsplit(response["headers"]["Location"])
    params = urllib.parse.parse_qs(location.query)
    record = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).get_invoice(setup["mine"])
    assert record is not None and location.path.endswith(record.s3_key)  # type: ignore[arg-type]
    assert params["versionId"] == [record.s3_version_id]
    assert params["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert params["X-Amz-Expires"] == ["300"]
    assert params["response-content-disposition"] == [f'attachment; filename="{setup["mine"]}.pdf"']
    item = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"INVOICE#{setup['mine']}"}, "sk": {"S": "INVOICE"}},
    )["Item"]
    assert item["download_count"]["N"] == "1" and "first_downloaded_at" in item
    [downloaded] = downloads_announced(aws, publish_outbox)
    assert (downloaded["invoice_number"], downloaded["party_id"]) == (setup["mine"], "CUST-42")
    assert datetime.fromisoformat(downloaded["downloaded_at"]) == datetime.fromisoformat(
        item["first_downloaded_at"]["S"]
    )
    # Each download is announced, not only the first.
    assert get(setup, setup["mine"], token(setup, setup["mine"]))["statusCode"] == 302
    assert [d["invoice_number"] for d in downloads_announced(aws, publish_outbox)] == [setup["mine"]]


def test_tampered_expired_foreign_and_missing_tokens_all_get_the_same_403(
    aws: dict[str, str], setup: dict[str, Any], publish_outbox: Callable[[], int]
) -> None:
    good = token(setup, setup["mine"])
    v, kid, payload, signature = good.split(".")
    refused = [
        get(setup, setup["mine"], f"{v}.{kid}.{payload}.{signature[:-2]}AA"),  # tampered
        get(setup, setup["mine"], token(setup, setup["mine"], now=datetime.now(UTC) - timedelta(days=31))),
        get(setup, setup["theirs"], good),  # a token for another invoice
        get(setup, setup["theirs"], token(setup, setup["theirs"], party="CUST-42")),  # not the owner
        get(setup, "INV-2026-999999", token(setup, "INV-2026-999999")),  # no such invoice
        get(setup, setup["mine"], None),
        get(setup, setup["mine"], "garbage"),
    ]
    assert {(r["statusCode"], r["body"]) for r in refused} == {(403, '{"message": "Forbidden"}')}
    assert all("Location" not in r.get("headers", {}) for r in refused)
    assert downloads_announced(aws, publish_outbox) == []  # a refusal is no download


def test_non_ascii_huge_and_misshapen_tokens_get_the_403_too(setup: dict[str, Any]) -> None:
    good = token(setup, setup["mine"])
    odd = [
        f"{good[:-1]}é",  # hmac.compare_digest raised TypeError on this: a 500
        good.rsplit(".", 1)[0] + ".€",
        good * 40,
        good.replace(".", "..", 1),
        "v1.k1.%%%.====",
    ]
    responses = [get(setup, setup["mine"], t) for t in odd]
    assert {(r["statusCode"], r["body"]) for r in responses} == {(403, '{"message": "Forbidden"}')}
