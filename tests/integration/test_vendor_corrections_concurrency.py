"""Vendor corrections of many orders at once, on moto: each order's customer correction and its
vendor reconciliations run in threads of their own (the customer's event and the sweep racing for
the same order too), yet the vendor credit-note series stays gapless and each vendor invoice is
credited at most once for the change."""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

from infra.local.vendors import load_vendors, put_vendors
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.adapters.party_records import VendorRecords
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus, Seller
from invoicing.services.invoice_issuing import InvoiceIssuer, Outcome
from invoicing.services.vendor_invoicing import VendorInvoicer
from tests.conftest import ROOT
from tests.integration.test_vendor_corrections import changed, three_vendor_order

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ORDERS = 6
RACERS = 2
"""Reconciliations of one order racing each other (its CreditNoteIssued or InvoiceIssued, the sweep)."""


def fake_pdf(_: Any) -> bytes:
    return b"%PDF-1.7"


def ledger(aws: dict[str, str]) -> InvoiceLedger:
    return InvoiceLedger(aws["INVOICES_TABLE_NAME"])


def issuer(aws: dict[str, str]) -> InvoiceIssuer:
    return InvoiceIssuer(
        ledger=ledger(aws),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=fake_pdf,
        series="INV",
        seller=Seller(),
        clock=lambda: NOW,
        credit_note_series="CN",
    )


def invoicer(aws: dict[str, str]) -> VendorInvoicer:
    return VendorInvoicer(
        ledger=ledger(aws),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        load_vendor=VendorRecords(aws["VENDORS_TABLE_NAME"]).get,
        renderer=fake_pdf,
        series="VND",
        credit_note_series="VCN",
        clock=lambda: NOW,
    )


# Three kinds of change, each concerning other vendors: (the order after it, vendors credited).
CHANGES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], set[str]]] = [
    ("lamp repriced", lambda order: changed(order, line1_unit_price=D("32.00")), {"V-HOME"}),
    ("two tins returned", lambda order: changed(order, line2_refunded_quantity=D(2)), {"V-TEA"}),
    ("cancelled", lambda order: {**order, "status": "CANCELLED"}, {"V-BOOKS", "V-HOME", "V-TEA"}),
]


def in_threads(work: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(work))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_vendor_corrections_of_many_orders_keep_the_vendor_credit_note_series_gapless(
    aws: dict[str, str],
) -> None:
    put_vendors(aws["VENDORS_TABLE_NAME"], load_vendors(ROOT / "events" / "vendors" / "vendors.json"))
    orders: dict[str, dict[str, Any]] = {}
    before: dict[str, dict[str, InvoiceRecord]] = {}
    for i in range(ORDERS):
        order = {**three_vendor_order(), "order_id": f"ORD-VCC-{i}"}
        result = issuer(aws).handle_order_change("INSERT", order["order_id"], None, order)
        assert result is not None and result.outcome is Outcome.ISSUED
        assert len(invoicer(aws).reconcile(order["order_id"])) == 3
        orders[order["order_id"]] = order
        before[order["order_id"]] = ledger(aws).vendor_invoices_of(order["order_id"])
    assert ledger(aws).last_sequence("VND", 2026) == 3 * ORDERS
    assert ledger(aws).last_sequence("VCN", 2026) == 0

    def correction(order_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[], None]:
        # Built here, in the main thread, as each Lambda container holds its own clients.
        customer = issuer(aws)
        vendors = [invoicer(aws) for _ in range(RACERS)]

        def correct() -> None:
            order = orders[order_id]
            result = customer.handle_order_change("MODIFY", order_id, order, change(order))
            assert result is not None and result.outcome in (Outcome.REVISED, Outcome.CREDITED)
            errors = in_threads([lambda v=v: v.reconcile(order_id) for v in vendors])
            if errors:
                raise errors[0]

        return correct

    plan = {order_id: CHANGES[i % len(CHANGES)] for i, order_id in enumerate(orders)}
    errors = in_threads([correction(order_id, change) for order_id, (_, change, _) in plan.items()])
    assert errors == [], "".join("".join(traceback.format_exception(e)) for e in errors)

    expected_credits = sum(len(credited) for _, _, credited in plan.values())
    revised = sum(1 for name, _, _ in plan.values() if name == "lamp repriced")
    # Gapless: exactly 1..N issued, N the number of vendor credit notes, none twice.
    assert ledger(aws).last_sequence("VCN", 2026) == expected_credits
    assert ledger(aws).last_sequence("VND", 2026) == 3 * ORDERS + revised
    numbers: list[str] = []
    for order_id, (name, _, credited) in plan.items():
        for vendor_id, original in before[order_id].items():
            record = ledger(aws).get_invoice(original.invoice_number)
            assert record is not None
            if vendor_id in credited:
                # At most one credit note for this change (here: exactly one).
                assert len(record.credit_notes) == 1, (order_id, name, vendor_id, record.credit_notes)
                numbers.extend(record.credit_notes)
            else:
                assert record.credit_notes == [], (order_id, name, vendor_id)
            assert (record.replaced_by is not None) == (name == "lamp repriced" and vendor_id == "V-HOME")
    assert sorted(numbers) == [f"VCN-2026-{n:06d}" for n in range(1, expected_credits + 1)]
    assert len(set(numbers)) == len(numbers)

    for number in numbers:
        note = ledger(aws).get_invoice(number)
        assert note is not None and note.kind is InvoiceKind.VENDOR_CREDIT_NOTE
        assert note.status is InvoiceStatus.ISSUED and note.s3_key
        assert re.fullmatch(r"VND-2026-\d{6}", note.credits_invoice_number or "")
        credited = ledger(aws).get_invoice(note.credits_invoice_number or "")
        assert credited is not None and credited.vendor_id == note.vendor_id
        assert credited.credit_notes == [number]

    # Asked again afterwards (a redelivery, the sweep): nothing more is issued.
    for order_id in orders:
        invoicer(aws).reconcile(order_id)
    assert ledger(aws).last_sequence("VCN", 2026) == expected_credits
    assert ledger(aws).last_sequence("VND", 2026) == 3 * ORDERS + revised
