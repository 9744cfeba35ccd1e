"""The correction chain in the invoices API, and support's corrections route, on moto.

The chains are made by the real corrector (as in test_invoice_corrections.py): through the
generator's issuer on a storefront edit, or through POST /invoices/{number}/corrections after the
order was changed in the Orders table.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest

from infra.local.orders import put_order
from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.invoice import Seller
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.invoice_issuing import InvoiceIssuer, Outcome
from tests.conftest import make_order, with_derived_totals

ME = {"sub": "CUST-42", "role": "customer"}
VENDOR = {"sub": "V-BOOKS", "role": "vendor"}
SUPPORT = {"sub": "agent-7", "role": "support"}
REDERIVE = {"reason": "customer reported the wrong price", "mode": "rederive"}


def event(
    method: str,
    path: str,
    claims: dict[str, Any] | None,
    query: dict[str, str] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    query = query or {}
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.saypro.example",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7"},
        "requestId": "req",
        "routeKey": "$default",
        "stage": "$default",
        "time": "22/Nov/2026:12:00:00 +0000",
        "timeEpoch": 1795348800000,
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(query),
        "headers": {"host": "api.saypro.example", "content-type": "application/json"},
        "queryStringParameters": query or None,
        "requestContext": context,
        "body": raw,
        "isBase64Encoded": False,
    }


def repriced(order: dict[str, Any], unit_price: str = "12.00") -> dict[str, Any]:
    changed = make_order(**{k: v for k, v in order.items() if k != "items"})
    changed["items"][0]["unit_price"] = D(unit_price)
    return with_derived_totals(changed)


@pytest.fixture
def issuer(aws: dict[str, str]) -> InvoiceIssuer:
    return InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=render_document_pdf,
        series="INV",
        seller=Seller(),
        credit_note_series="CN",
    )


@pytest.fixture
def order(aws: dict[str, str], issuer: InvoiceIssuer) -> dict[str, Any]:
    """ORD-1001 of CUST-42 in the Orders table, invoiced as INV-2026-000001."""
    order = make_order()
    put_order(aws["ORDERS_TABLE_NAME"], order)
    assert issuer.issue(order["order_id"], order).invoice_number == "INV-2026-000001"
    return order


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from invoicing.settings import api_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    monkeypatch.setenv("INVOICE_SERIES", "INV")
    monkeypatch.setenv("CREDIT_NOTE_SERIES", "CN")
    api_settings.cache_clear()
    handler = load_handler("invoices_api")

    def call(
        method: str,
        path: str,
        claims: dict[str, Any] | None,
        query: dict[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, Any]:
        response = handler(
            event(method, path, claims, query, body), FakeLambdaContext(function_name="invoices-api")
        )
        return response["statusCode"], json.loads(response["body"] or "null")

    return call


def ledger(aws: dict[str, str]) -> InvoiceLedger:
    return InvoiceLedger(aws["INVOICES_TABLE_NAME"])


def by_number(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["invoice_number"]: item for item in page["items"]}


# --- the chain in the listing and in one invoice ----------------------------------------------


def test_a_customer_sees_the_whole_chain_with_its_correction_status(
    api: Any, issuer: InvoiceIssuer, order: dict[str, Any]
) -> None:
    result = issuer.handle_order_change("MODIFY", "ORD-1001", order, repriced(order))
    assert result is not None and result.outcome is Outcome.REVISED
    status, page = api("GET", "/invoices", ME)
    assert status == 200
    items = by_number(page)
    assert set(items) == {"INV-2026-000001", "CN-2026-000001", "INV-2026-000002"}
    original, credit_note, revised = (
        items["INV-2026-000001"],
        items["CN-2026-000001"],
        items["INV-2026-000002"],
    )
    assert (original["kind"], original["replaced_by"], original["credit_notes"]) == (
        "CUSTOMER",
        "INV-2026-000002",
        ["CN-2026-000001"],
    )
    assert original["correction_status"] == "superseded"
    assert (credit_note["kind"], credit_note["credits_invoice_number"]) == ("CREDIT_NOTE", "INV-2026-000001")
    assert credit_note["correction_status"] is None and credit_note["grand_total"] == original["grand_total"]
    assert (revised["replaces"], revised["replaced_by"], revised["correction_status"]) == (
        "INV-2026-000001",
        None,
        None,
    )
    # The same fields on one invoice.
    assert api("GET", "/invoices/INV-2026-000001", ME) == (200, original)
    assert api("GET", "/invoices/CN-2026-000001", ME) == (200, credit_note)


def test_a_cancelled_invoice_is_credited_and_the_kind_filter_picks_credit_notes(
    api: Any, issuer: InvoiceIssuer, order: dict[str, Any]
) -> None:
    cancelled = {**make_order(), "status": "CANCELLED"}
    result = issuer.handle_order_change("MODIFY", "ORD-1001", order, cancelled)
    assert result is not None and result.outcome is Outcome.CREDITED
    _, invoice = api("GET", "/invoices/INV-2026-000001", ME)
    assert (invoice["correction_status"], invoice["replaced_by"]) == ("credited", None)
    _, notes = api("GET", "/invoices", ME, {"kind": "CREDIT_NOTE"})
    assert [(i["invoice_number"], i["kind"]) for i in notes["items"]] == [("CN-2026-000001", "CREDIT_NOTE")]
    _, invoices = api("GET", "/invoices", ME, {"kind": "CUSTOMER"})
    assert [i["invoice_number"] for i in invoices["items"]] == ["INV-2026-000001"]
    assert api("GET", "/invoices", ME, {"kind": "VENDOR"})[1]["items"] == []


@pytest.mark.parametrize("kind", ["credit_note", "BOGUS", "CUSTOMER,VENDOR", "X" * 32])
def test_an_unknown_kind_is_a_400(api: Any, kind: str) -> None:
    assert api("GET", "/invoices", ME, {"kind": kind}) == (
        400,
        {
            "error": "bad_request",
            "message": "kind is one of CUSTOMER, VENDOR, CREDIT_NOTE, VENDOR_CREDIT_NOTE",
        },
    )


def test_a_kind_filtered_page_token_continues_only_that_filter(
    api: Any, issuer: InvoiceIssuer, order: dict[str, Any]
) -> None:
    issuer.handle_order_change("MODIFY", "ORD-1001", order, repriced(order))
    _, page = api("GET", "/invoices", ME, {"kind": "CUSTOMER", "limit": "1"})
    token = page["next_token"]
    assert token and page["items"][0]["kind"] == "CUSTOMER"
    assert api("GET", "/invoices", ME, {"limit": "1", "next_token": token})[0] == 400
    status, rest = api("GET", "/invoices", ME, {"kind": "CUSTOMER", "next_token": token})
    assert status == 200 and {i["kind"] for i in rest["items"]} == {"CUSTOMER"}


def test_vendors_never_see_credit_notes(api: Any, issuer: InvoiceIssuer, order: dict[str, Any]) -> None:
    issuer.handle_order_change("MODIFY", "ORD-1001", order, repriced(order))
    assert api("GET", "/invoices", VENDOR)[1]["items"] == []
    assert api("GET", "/invoices", VENDOR, {"kind": "CREDIT_NOTE"})[1]["items"] == []
    assert api("GET", "/invoices/CN-2026-000001", VENDOR)[0] == 404


# --- support ----------------------------------------------------------------------------------


def test_support_reads_any_invoice_by_number_but_lists_nothing(api: Any, order: dict[str, Any]) -> None:
    status, invoice = api("GET", "/invoices/INV-2026-000001", SUPPORT)
    assert status == 200 and invoice["order_id"] == "ORD-1001"
    assert api("GET", "/invoices/INV-2026-999999", SUPPORT)[0] == 404
    assert api("GET", "/invoices", SUPPORT)[0] == 403
    assert api("GET", "/invoices", SUPPORT, {"order_id": "ORD-1001"})[0] == 403
    assert api("GET", "/invoices/INV-2026-000001/download-link", SUPPORT)[0] == 403
    # The role may come in the custom claim too, as the other roles do.
    assert api("GET", "/invoices/INV-2026-000001", {"sub": "agent-7", "custom:role": "support"})[0] == 200


def test_support_corrects_an_invoice_from_the_order_as_it_is_now_once(
    aws: dict[str, str], api: Any, order: dict[str, Any]
) -> None:
    path = "/invoices/INV-2026-000001/corrections"
    assert api("POST", path, SUPPORT, body=REDERIVE) == (200, {"outcome": "unchanged"})
    assert ledger(aws).last_sequence("CN", 2026) == 0
    put_order(aws["ORDERS_TABLE_NAME"], repriced(order))
    made = {
        "outcome": "REVISED",
        "order_id": "ORD-1001",
        "invoice_number": "INV-2026-000001",
        "credit_note_number": "CN-2026-000001",
        "revised_invoice_number": "INV-2026-000002",
    }
    assert api("POST", path, SUPPORT, body=REDERIVE) == (201, made)
    # The same request for the same order version: the same single correction.
    assert api("POST", path, SUPPORT, body={**REDERIVE, "reason": "asked again"}) == (201, made)
    # Still the same once the corrected invoice was sent (the sweep stopped its 48-hour clock).
    from invoicing.adapters.correction_ledger import CorrectionLedger

    [correction] = boto3.client("dynamodb").query(
        TableName=aws["INVOICES_TABLE_NAME"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": "ORDER#ORD-1001"}, ":prefix": {"S": "CORRECTION#"}},
    )["Items"]
    corrections = CorrectionLedger(aws["INVOICES_TABLE_NAME"], ledger(aws))
    sent_id = correction["sk"]["S"].removeprefix("CORRECTION#")
    assert corrections.settle("ORD-1001", sent_id, datetime.now(UTC))
    assert api("POST", path, SUPPORT, body={**REDERIVE, "reason": "asked after it was sent"}) == (201, made)
    assert ledger(aws).last_sequence("CN", 2026) == 1 and ledger(aws).last_sequence("INV", 2026) == 2
    credit_note, revised = (
        ledger(aws).get_invoice("CN-2026-000001"),
        ledger(aws).get_invoice("INV-2026-000002"),
    )
    assert credit_note and credit_note.status.value == "ISSUED" and credit_note.s3_key
    assert revised and revised.status.value == "ISSUED" and revised.replaces == "INV-2026-000001"
    assert api("GET", "/invoices/INV-2026-000001", ME)[1]["correction_status"] == "superseded"
    # The revised invoice is now the current one: nothing differs from the order.
    assert api("POST", "/invoices/INV-2026-000002/corrections", SUPPORT, body=REDERIVE) == (
        200,
        {"outcome": "unchanged"},
    )


def test_only_the_orders_current_invoice_can_be_corrected(
    aws: dict[str, str], api: Any, order: dict[str, Any]
) -> None:
    put_order(aws["ORDERS_TABLE_NAME"], repriced(order, "12.00"))
    assert api("POST", "/invoices/INV-2026-000001/corrections", SUPPORT, body=REDERIVE)[0] == 201
    put_order(aws["ORDERS_TABLE_NAME"], repriced(order, "13.00"))  # a later version of the order
    status, body = api("POST", "/invoices/INV-2026-000001/corrections", SUPPORT, body=REDERIVE)
    assert (status, body["error"], body["current_invoice_number"]) == (409, "not_current", "INV-2026-000002")
    status, body = api("POST", "/invoices/CN-2026-000001/corrections", SUPPORT, body=REDERIVE)
    assert (status, body["current_invoice_number"]) == (409, "INV-2026-000002")
    assert ledger(aws).last_sequence("CN", 2026) == 1
    assert api("POST", "/invoices/INV-2026-000002/corrections", SUPPORT, body=REDERIVE)[1]["outcome"] == (
        "REVISED"
    )


def test_a_cancelled_order_is_credited_only(aws: dict[str, str], api: Any, order: dict[str, Any]) -> None:
    put_order(aws["ORDERS_TABLE_NAME"], {**order, "status": "CANCELLED"})
    made = {
        "outcome": "CREDITED",
        "order_id": "ORD-1001",
        "invoice_number": "INV-2026-000001",
        "credit_note_number": "CN-2026-000001",
    }
    path = "/invoices/INV-2026-000001/corrections"
    assert api("POST", path, SUPPORT, body=REDERIVE) == (201, made)
    assert api("POST", path, SUPPORT, body=REDERIVE) == (201, made)
    assert ledger(aws).last_sequence("CN", 2026) == 1 and ledger(aws).last_sequence("INV", 2026) == 1


def test_an_order_that_no_longer_validates_is_a_422_with_its_issues(
    aws: dict[str, str], api: Any, order: dict[str, Any]
) -> None:
    broken = make_order()
    broken["items"][0]["quantity"] = D(0)
    put_order(aws["ORDERS_TABLE_NAME"], broken)
    status, body = api("POST", "/invoices/INV-2026-000001/corrections", SUPPORT, body=REDERIVE)
    assert (status, body["error"], body["invoice_number"]) == (422, "order_invalid", "INV-2026-000001")
    assert "QUANTITY_NOT_POSITIVE" in {issue["code"] for issue in body["issues"]}
    assert ledger(aws).last_sequence("CN", 2026) == 0


@pytest.mark.parametrize(
    "claims",
    [
        ME,
        VENDOR,
        {"sub": "CUST-42", "role": "admin"},
        {"sub": "agent-7", "roles": ["support"]},  # not our claim: no role at all
        None,
    ],
)
def test_nobody_but_support_may_correct_whatever_the_body(
    aws: dict[str, str], api: Any, order: dict[str, Any], claims: dict[str, Any] | None
) -> None:
    put_order(aws["ORDERS_TABLE_NAME"], repriced(order))
    path = "/invoices/INV-2026-000001/corrections"
    for body in (REDERIVE, {"reason": ""}, "not json"):
        assert api("POST", path, claims, body=body) == (403, {"message": "Forbidden"})
    assert ledger(aws).last_sequence("CN", 2026) == 0


@pytest.mark.parametrize(
    "body",
    [
        None,
        "not json",
        [],
        {},
        {"mode": "rederive"},
        {"reason": "", "mode": "rederive"},
        {"reason": "x" * 501, "mode": "rederive"},
        {"reason": "why", "mode": "guess"},
        {"reason": "why", "mode": "rederive", "value": "12.00"},
        {"reason": 7, "mode": "rederive"},
    ],
)
def test_a_bad_body_is_a_400(api: Any, order: dict[str, Any], body: Any) -> None:
    status, answer = api("POST", "/invoices/INV-2026-000001/corrections", SUPPORT, body=body)
    assert (status, answer["error"]) == (400, "invalid_body")
    assert all(entry["loc"][0] == "body" for entry in answer["detail"])


def test_explicit_corrections_are_not_supported_yet(api: Any, order: dict[str, Any]) -> None:
    body = {"reason": "set the price by hand", "mode": "explicit"}
    status, answer = api("POST", "/invoices/INV-2026-000001/corrections", SUPPORT, body=body)
    assert status == 400 and "not supported yet" in answer["message"]
    assert (
        api("POST", "/invoices/INV-2026-000001/corrections", SUPPORT, body={**REDERIVE, "reason": "x" * 500})[
            0
        ]
        == 200
    )


@pytest.mark.parametrize("number", ["INV-2026-999999", "nope", "INV-2026-" + "1" * 3000])
def test_an_unknown_invoice_is_a_404(api: Any, order: dict[str, Any], number: str) -> None:
    assert api("POST", f"/invoices/{number}/corrections", SUPPORT, body=REDERIVE)[0] == 404


def test_the_local_api_takes_a_support_token_minted_by_tokens_py(
    aws: dict[str, str], api: Any, order: dict[str, Any]
) -> None:
    import socket
    import urllib.error
    import urllib.request

    from infra.local.api_server import start_api_server
    from infra.local.tokens import issue_token

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server, url = start_api_server(port)
    put_order(aws["ORDERS_TABLE_NAME"], {**order, "status": "CANCELLED"})

    def post(role: str) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{url}/invoices/INV-2026-000001/corrections",
            data=json.dumps(REDERIVE).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {issue_token('agent-7', role)}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    try:
        assert post("customer")[0] == 403
        status, body = post("support")
        assert (status, body["outcome"], body["credit_note_number"]) == (201, "CREDITED", "CN-2026-000001")
    finally:
        server.shutdown()
        server.server_close()
