"""Vendor credit notes in the invoices API, on moto: made by the whole local pipeline (as in
test_vendor_corrections.py), then read with the test tokens' claims. A vendor credit note is the
vendor's document: its vendor lists and reads it; the order's customer and the other vendors of
the order never see it, not even by its number."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from infra.local.orders import put_order
from infra.local.pipeline import LocalPipeline
from infra.local.runtime import FakeLambdaContext, load_handler
from tests.integration.test_invoice_corrections_api import event
from tests.integration.test_vendor_corrections import ORDER, changed, invoiced, ledger, vendor_invoices

CUSTOMER = {"sub": "CUST-42", "role": "customer"}
SUPPORT = {"sub": "agent-7", "role": "support"}


def vendor(vendor_id: str) -> dict[str, str]:
    return {"sub": vendor_id, "role": "vendor"}


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from invoicing.settings import api_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    api_settings.cache_clear()
    handler = load_handler("invoices_api")

    def call(
        path: str, claims: dict[str, Any] | None, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        response = handler(event("GET", path, claims, query), FakeLambdaContext(function_name="invoices-api"))
        return response["statusCode"], json.loads(response["body"] or "null")

    return call


@pytest.fixture
def corrected(aws: dict[str, str], pipeline: LocalPipeline) -> dict[str, str]:
    """ORD-VC-1 invoiced to its three vendors, then the lamp's price changed: V-HOME's invoice is
    credited by VCN-2026-000001 and replaced. Returns the numbers involved."""
    order = invoiced(aws, pipeline)
    before = vendor_invoices(aws)
    put_order(aws["ORDERS_TABLE_NAME"], changed(order, line1_unit_price=D("32.00")))
    pipeline.run_until_quiet()
    after = vendor_invoices(aws)
    credited = ledger(aws).get_invoice(before["V-HOME"].invoice_number)
    assert credited is not None and credited.credit_notes == ["VCN-2026-000001"]
    return {
        "credit_note": "VCN-2026-000001",
        "credited": before["V-HOME"].invoice_number,
        "revised": after["V-HOME"].invoice_number,
        "books": after["V-BOOKS"].invoice_number,
        "tea": after["V-TEA"].invoice_number,
    }


def by_number(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["invoice_number"]: item for item in page["items"]}


def test_the_vendor_lists_and_reads_its_vendor_credit_note(api: Any, corrected: dict[str, str]) -> None:
    home = vendor("V-HOME")
    status, page = api("/invoices", home)
    assert status == 200
    items = by_number(page)
    assert set(items) == {corrected["credit_note"], corrected["credited"], corrected["revised"]}
    note = items[corrected["credit_note"]]
    assert (note["kind"], note["order_id"], note["credits_invoice_number"]) == (
        "VENDOR_CREDIT_NOTE",
        ORDER,
        corrected["credited"],
    )
    credited = items[corrected["credited"]]
    assert (credited["kind"], credited["credit_notes"], credited["replaced_by"]) == (
        "VENDOR",
        [corrected["credit_note"]],
        corrected["revised"],
    )
    assert note["grand_total"] == credited["grand_total"]  # the whole vendor invoice is credited
    assert items[corrected["revised"]]["replaces"] == corrected["credited"]

    status, only = api("/invoices", home, {"kind": "VENDOR_CREDIT_NOTE"})
    assert status == 200
    assert [(i["invoice_number"], i["kind"]) for i in only["items"]] == [
        (corrected["credit_note"], "VENDOR_CREDIT_NOTE")
    ]
    _, invoices = api("/invoices", home, {"kind": "VENDOR"})
    assert {i["invoice_number"] for i in invoices["items"]} == {corrected["credited"], corrected["revised"]}
    assert api("/invoices", home, {"kind": "CREDIT_NOTE"})[1]["items"] == []  # the customer's kind

    assert api(f"/invoices/{corrected['credit_note']}", home) == (200, note)
    status, link = api(f"/invoices/{corrected['credit_note']}/download-link", home)
    assert status == 200 and corrected["credit_note"] in link["url"]
    # Support reads any issued document by number.
    assert api(f"/invoices/{corrected['credit_note']}", SUPPORT)[0] == 200


def test_the_orders_customer_never_sees_the_vendor_credit_note(api: Any, corrected: dict[str, str]) -> None:
    number = corrected["credit_note"]
    assert api(f"/invoices/{number}", CUSTOMER)[0] == 404
    assert api(f"/invoices/{number}/download-link", CUSTOMER)[0] == 404
    status, page = api("/invoices", CUSTOMER)
    assert status == 200
    kinds = {i["kind"] for i in page["items"]}
    assert kinds == {"CUSTOMER", "CREDIT_NOTE"}  # its own chain: invoice, credit note, revised invoice
    assert api("/invoices", CUSTOMER, {"kind": "VENDOR_CREDIT_NOTE"})[1]["items"] == []
    # Nor the vendor invoice it credits.
    assert api(f"/invoices/{corrected['credited']}", CUSTOMER)[0] == 404


@pytest.mark.parametrize("other", ["V-BOOKS", "V-TEA", "V-PAPER"])
def test_another_vendor_never_sees_it_even_of_the_same_order(
    api: Any, corrected: dict[str, str], other: str
) -> None:
    number = corrected["credit_note"]
    assert api(f"/invoices/{number}", vendor(other))[0] == 404
    assert api(f"/invoices/{number}/download-link", vendor(other))[0] == 404
    _, page = api("/invoices", vendor(other), {"kind": "VENDOR_CREDIT_NOTE"})
    assert page["items"] == []
    _, everything = api("/invoices", vendor(other))
    assert number not in by_number(everything)
    # Its own vendor invoice of the order is still there, uncredited.
    mine = {"V-BOOKS": corrected["books"], "V-TEA": corrected["tea"]}.get(other)
    if mine is not None:
        assert api(f"/invoices/{mine}", vendor(other))[1]["credit_notes"] == []
