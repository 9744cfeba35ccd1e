"""The correction chain in the invoices API, and support's corrections route, on moto.

The chains are made by the real corrector (as in test_invoice_corrections.py): through the
generator's issuer on a storefront edit, or through POST /invoices/{number}/corrections after the
order was changed in the Orders table.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest
from pypdf import PdfReader

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


def pdf_text(aws: dict[str, str], key: str) -> str:
    body = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key)["Body"].read()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


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
    status, answer = api("POST", path, SUPPORT, body=REDERIVE)
    correction_id = answer.pop("correction_id")
    assert (status, answer) == (201, made) and correction_id  # what an inquiry resolved "corrected" names
    made["correction_id"] = correction_id
    # The same request for the same order version: the same single correction.
    assert api("POST", path, SUPPORT, body={**REDERIVE, "reason": "asked again"}) == (201, made)
    # Still the same once the corrected invoice was sent (the sweep stopped its 48-hour clock).
    from invoicing.adapters.correction_ledger import CorrectionLedger

    records = boto3.client("dynamodb").query(
        TableName=aws["INVOICES_TABLE_NAME"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": "ORDER#ORD-1001"}, ":prefix": {"S": "CORRECTION#"}},
    )["Items"]
    # The first request, that changed nothing, is on record as such (no sweep entry, no event).
    [unchanged] = [r for r in records if r["status"]["S"] == "UNCHANGED"]
    assert "sweep_kind" not in unchanged and "nothing the invoice says differs" in unchanged["note"]["S"]
    [correction] = [r for r in records if r["status"]["S"] != "UNCHANGED"]
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
    status, answer = api("POST", path, SUPPORT, body=REDERIVE)
    made["correction_id"] = answer["correction_id"]
    assert (status, answer) == (201, made)
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


NEW_ADDRESS = {"line1": "ul. Krótka 5", "city": "Gdańsk", "postal_code": "80-001", "country": "PL"}


def test_an_explicit_billing_correction_revises_the_invoice_and_survives_the_next_storefront_write(
    aws: dict[str, str], api: Any, issuer: InvoiceIssuer, order: dict[str, Any]
) -> None:
    body = {
        "reason": "customer wrote in: company name and address were wrong",
        "mode": "explicit",
        "billing": {"name": "Łukasiewicz Sp. z o.o.", "billing_address": NEW_ADDRESS},
        "inquiry_id": "INQ-2026-000042",
    }
    path = "/invoices/INV-2026-000001/corrections"
    status, made = api("POST", path, SUPPORT, body=body)
    assert (status, made["outcome"], made["credit_note_number"], made["revised_invoice_number"]) == (
        201,
        "REVISED",
        "CN-2026-000001",
        "INV-2026-000002",
    )
    assert api("POST", path, SUPPORT, body={**body, "reason": "again"}) == (201, made)  # the same one
    # Who asked, why, and the inquiry it resolves are on the correction record (the first asker).
    [record] = [
        r
        for r in boto3.client("dynamodb").query(
            TableName=aws["INVOICES_TABLE_NAME"],
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": "ORDER#ORD-1001"}, ":prefix": {"S": "CORRECTION#"}},
        )["Items"]
        if r.get("credit_note_number", {}).get("S") == "CN-2026-000001"
    ]
    assert (record["requested_by"]["S"], record["inquiry_id"]["S"], record["reason"]["S"]) == (
        "agent-7",
        "INQ-2026-000042",
        "CUSTOMER_SERVICE",
    )
    assert record["requested_reason"]["S"] == body["reason"]
    revised = ledger(aws).get_invoice("INV-2026-000002")
    assert revised is not None and revised.customer_name == "Łukasiewicz Sp. z o.o."
    assert revised.grand_total == ledger(aws).get_invoice("INV-2026-000001").grand_total  # type: ignore[union-attr]
    text = pdf_text(aws, revised.s3_key or "")
    assert "Łukasiewicz Sp. z o.o." in text and "ul. Krótka 5" in text and "Gdańsk" in text
    _, note = api("GET", "/invoices/CN-2026-000001", SUPPORT)
    assert note["credits_invoice_number"] == "INV-2026-000001"

    # The storefront then fixes a price: the correction keeps support's billing details.
    put_order(aws["ORDERS_TABLE_NAME"], repriced(order))
    result = issuer.handle_order_change("MODIFY", "ORD-1001", order, repriced(order))
    assert result is not None and result.outcome is Outcome.REVISED
    newest = ledger(aws).find_by_order("ORD-1001")
    assert newest is not None and newest.invoice_number == "INV-2026-000003"
    assert newest.customer_name == "Łukasiewicz Sp. z o.o."
    # And a write that changes nothing billed changes nothing, with support's details laid over.
    again = {**repriced(order), "note": "touched"}
    assert issuer.handle_order_change("MODIFY", "ORD-1001", repriced(order), again) is None
    assert ledger(aws).last_sequence("CN", 2026) == 2


def test_an_explicit_amount_credit_is_shared_over_the_tax_rates_and_never_exceeds_what_is_left(
    aws: dict[str, str], api: Any, order: dict[str, Any]
) -> None:
    path = "/invoices/INV-2026-000001/corrections"
    body = {"reason": "goodwill: late delivery", "mode": "explicit", "credit_amount": "10.00"}
    status, made = api("POST", path, SUPPORT, body=body)
    assert (status, made["outcome"], made["credit_note_number"], made.get("revised_invoice_number")) == (
        201,
        "CREDITED",
        "CN-2026-000001",
        None,
    )
    assert api("POST", path, SUPPORT, body=body) == (201, made)  # the same request: one credit
    note = ledger(aws).get_invoice("CN-2026-000001")
    assert note is not None and note.grand_total == D("10.00")
    assert sum(line.gross for line in note.tax_lines) == D("10.00") and len(note.tax_lines) == 2
    assert note.net_total + note.tax_total == D("10.00")
    text = pdf_text(aws, note.s3_key or "")
    assert "customer service credited 10.00" in text.replace("\n", " ")
    _, invoice = api("GET", "/invoices/INV-2026-000001", SUPPORT)
    assert invoice["correction_status"] == "partially credited"

    # More than is left (52.73 - 10.00 = 42.73) is refused, and nothing is credited.
    too_much = {"reason": "goodwill again", "mode": "explicit", "credit_amount": "42.74"}
    status, answer = api("POST", path, SUPPORT, body=too_much)
    assert status == 400 and "more than" in answer["message"]
    rest = {"reason": "refund the rest", "mode": "explicit", "credit_amount": "42.73"}
    assert api("POST", path, SUPPORT, body=rest)[0] == 201
    _, invoice = api("GET", "/invoices/INV-2026-000001", SUPPORT)
    assert invoice["correction_status"] == "credited"
    assert ledger(aws).last_sequence("CN", 2026) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "why", "mode": "explicit"},
        {"reason": "why", "mode": "explicit", "credit_amount": "5.00", "billing": {"name": "X"}},
        {"reason": "why", "mode": "rederive", "credit_amount": "5.00"},
        {"reason": "why", "mode": "explicit", "credit_amount": "-5.00"},
        {"reason": "why", "mode": "explicit", "credit_amount": "5,00"},
        {"reason": "why", "mode": "explicit", "billing": {}},
        {"reason": "why", "mode": "explicit", "billing": {"billing_address": {"line1": "x"}}},
    ],
)
def test_a_bad_explicit_correction_is_a_400(api: Any, order: dict[str, Any], body: Any) -> None:
    status, answer = api("POST", "/invoices/INV-2026-000001/corrections", SUPPORT, body=body)
    assert (status, answer["error"]) == (400, "invalid_body")


def test_an_amount_in_more_decimals_than_the_currency_has_is_a_400(api: Any, order: dict[str, Any]) -> None:
    body = {"reason": "why", "mode": "explicit", "credit_amount": "1.005"}
    status, answer = api("POST", "/invoices/INV-2026-000001/corrections", SUPPORT, body=body)
    assert status == 400 and "minor units" in answer["message"]


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
