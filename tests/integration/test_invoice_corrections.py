"""Corrections on moto: an issued invoice is never edited; it is credited, and replaced when what
was sold changed, with gapless numbers, once per change, whatever is redelivered or races."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import boto3
import pytest
from pypdf import PdfReader

from infra.local.provisioning import read_events
from invoicing.adapters.correction_ledger import CorrectionLedger
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.corrections import correction_id
from invoicing.domain.documents import order_fingerprint
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus, Seller
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.invoice_corrections import InvoiceCorrector
from invoicing.services.invoice_issuing import InvoiceIssuer, Outcome
from tests.conftest import make_order, with_derived_totals

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def issuer(aws: dict[str, str]) -> InvoiceIssuer:
    return InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=render_document_pdf,
        series="INV",
        seller=Seller(),
        clock=lambda: NOW,
        credit_note_series="CN",
    )


def ledger(aws: dict[str, str]) -> InvoiceLedger:
    return InvoiceLedger(aws["INVOICES_TABLE_NAME"])


def make_corrector(aws: dict[str, str]) -> InvoiceCorrector:
    """The corrector on its own, as a run that read the ledger earlier holds it."""
    return InvoiceCorrector(
        ledger=ledger(aws),
        corrections=CorrectionLedger(aws["INVOICES_TABLE_NAME"], ledger(aws)),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=render_document_pdf,
        invoice_series="INV",
        credit_note_series="CN",
        seller=Seller(),
        clock=lambda: NOW,
    )


def invoiced(aws: dict[str, str], order: dict[str, Any] | None = None) -> dict[str, Any]:
    order = order or make_order()
    result = issuer(aws).handle_order_change("INSERT", order["order_id"], None, order)
    assert result is not None and result.outcome is Outcome.ISSUED
    return order


def repriced(order: dict[str, Any], unit_price: str = "12.00") -> dict[str, Any]:
    changed = make_order(**{k: v for k, v in order.items() if k != "items"})
    changed["items"][0]["unit_price"] = D(unit_price)
    return with_derived_totals(changed)


def pdf_text(aws: dict[str, str], key: str) -> str:
    body = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=key)["Body"].read()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def events(aws: dict[str, str], publish_outbox: Callable[[], int]) -> list[dict[str, Any]]:
    publish_outbox()
    return read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])


def test_a_price_change_credits_the_invoice_and_issues_a_revised_one(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    order = invoiced(aws)
    events(aws, publish_outbox)
    changed = repriced(order)
    result = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, changed)
    assert result is not None and result.outcome is Outcome.REVISED
    assert result.invoice_number == "INV-2026-000002"

    original = ledger(aws).get_invoice("INV-2026-000001")
    credit_note = ledger(aws).get_invoice("CN-2026-000001")
    revised = ledger(aws).get_invoice("INV-2026-000002")
    assert original and credit_note and revised
    # The original keeps its number, document and PDF; it is superseded and credited in full.
    assert original.status is InvoiceStatus.ISSUED and original.s3_key
    assert (original.replaced_by, original.credit_notes) == ("INV-2026-000002", ["CN-2026-000001"])
    assert credit_note.kind is InvoiceKind.CREDIT_NOTE and credit_note.status is InvoiceStatus.ISSUED
    assert credit_note.credits_invoice_number == "INV-2026-000001"
    assert credit_note.grand_total == original.grand_total
    assert sum(line.tax for line in credit_note.tax_lines) == original.tax_total
    assert revised.replaces == "INV-2026-000001" and revised.status is InvoiceStatus.ISSUED
    assert revised.grand_total == changed["totals"]["grand_total"] != original.grand_total
    assert ledger(aws).find_by_order("ORD-1001").invoice_number == "INV-2026-000002"  # type: ignore[union-attr]
    assert ledger(aws).last_sequence("CN", 2026) == 1 and ledger(aws).last_sequence("INV", 2026) == 2

    text = pdf_text(aws, credit_note.s3_key or "")
    for expected in (
        "Credit note",
        "CN-2026-000001",
        "INV-2026-000001",
        "52.73",
        "replaced by invoice INV-2026-000002",
    ):
        assert expected in text.replace("\n", " "), expected
    assert "Replaces invoice" in pdf_text(aws, revised.s3_key or "")

    announced = {e["detail-type"]: e["detail"] for e in events(aws, publish_outbox)}
    assert announced["CreditNoteIssued"]["credits_invoice_number"] == "INV-2026-000001"
    assert announced["CreditNoteIssued"]["replaced_by"] == "INV-2026-000002"
    assert announced["InvoiceIssued"]["replaces"] == "INV-2026-000001"


def test_a_redelivered_edit_makes_one_correction(aws: dict[str, str]) -> None:
    order = invoiced(aws)
    changed = repriced(order)
    first = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, changed)
    again = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, changed)
    assert first is not None and first.outcome is Outcome.REVISED
    assert again is None  # compared with the revised invoice now: nothing billed differs
    assert ledger(aws).last_sequence("CN", 2026) == 1 and ledger(aws).last_sequence("INV", 2026) == 2
    # The same correction replayed against the original (a crash after allocating) finds itself.
    corrector = make_corrector(aws)
    stale = ledger(aws).get_invoice("INV-2026-000001")
    assert stale is not None
    before = {"replaced_by": None, "credit_version": 0, "credit_notes": [], "credited_tax_lines": []}
    replay = corrector.consider(stale.model_copy(update=before), changed)
    assert replay is not None and replay.credit_note_number == "CN-2026-000001"
    assert ledger(aws).last_sequence("CN", 2026) == 1


@pytest.mark.parametrize("touch", ["tracking", "contact"])
def test_a_write_that_changes_nothing_billed_corrects_nothing(aws: dict[str, str], touch: str) -> None:
    order = invoiced(aws)
    changed = make_order()
    if touch == "tracking":
        changed["shipping"]["tracking_reference"] = "TRK-NEW"
    else:
        changed["customer"]["email"] = "new@example.com"
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, changed) is None
    assert ledger(aws).last_sequence("CN", 2026) == 0


def test_a_cancellation_after_issue_credits_in_full_and_issues_nothing_new(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    order = invoiced(aws)
    cancelled = {**make_order(), "status": "CANCELLED"}
    result = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, cancelled)
    assert result is not None and result.outcome is Outcome.CREDITED
    original = ledger(aws).get_invoice("INV-2026-000001")
    assert (
        original is not None and original.replaced_by is None and original.credit_notes == ["CN-2026-000001"]
    )
    assert ledger(aws).last_sequence("INV", 2026) == 1
    # Refunded as well afterwards: nothing is left to credit, nothing more is issued.
    refunded = {**cancelled, "payment": {**cancelled["payment"], "status": "REFUNDED"}}
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", cancelled, refunded) is None
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, cancelled) is None
    assert ledger(aws).last_sequence("CN", 2026) == 1
    kinds = [e["detail-type"] for e in events(aws, publish_outbox)]
    assert kinds.count("CreditNoteIssued") == 1 and kinds.count("InvoiceIssued") == 1


def test_a_change_into_an_invalid_order_is_refused_and_the_invoice_stands(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    order = invoiced(aws)
    events(aws, publish_outbox)
    broken = make_order()
    broken["items"][0]["quantity"] = D(0)
    for _ in range(2):  # redelivered: recorded and announced once
        result = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, broken)
        assert result is not None and result.outcome is Outcome.CORRECTION_REJECTED
    assert "QUANTITY_NOT_POSITIVE" in {i.code.value for i in result.issues}
    original = ledger(aws).get_invoice("INV-2026-000001")
    assert original is not None and original.replaced_by is None and original.credit_notes == []
    assert ledger(aws).last_sequence("CN", 2026) == 0 and ledger(aws).last_sequence("INV", 2026) == 1
    [rejected] = events(aws, publish_outbox)
    assert rejected["detail-type"] == "InvoiceCorrectionRejected"
    assert rejected["detail"]["invoice_number"] == "INV-2026-000001"


def test_two_edits_in_quick_succession_make_one_consistent_chain(aws: dict[str, str]) -> None:
    order = invoiced(aws)
    first, second = repriced(order, "12.00"), repriced(order, "13.00")
    corrector_view = ledger(aws).get_invoice("INV-2026-000001")  # what a slow run read
    issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, first)
    corrector = make_corrector(aws)
    # The slow run still holds the original: its transaction fails, it re-plans from the newest.
    assert corrector_view is not None
    result = corrector.consider(corrector_view, second)
    assert result is not None and result.invoice_number == "INV-2026-000002"
    assert (result.credit_note_number, result.revised_invoice_number) == ("CN-2026-000002", "INV-2026-000003")
    chain = [ledger(aws).get_invoice(f"INV-2026-00000{i}") for i in (1, 2, 3)]
    assert [r.replaced_by if r else "?" for r in chain] == ["INV-2026-000002", "INV-2026-000003", None]
    assert [r.credit_notes if r else "?" for r in chain] == [["CN-2026-000001"], ["CN-2026-000002"], []]


def test_concurrent_corrections_of_many_orders_keep_both_series_gapless(aws: dict[str, str]) -> None:
    orders = [invoiced(aws, make_order(order_id=f"ORD-{i}")) for i in range(6)]
    errors: list[BaseException] = []

    def correct(order: dict[str, Any]) -> None:
        try:
            issuer(aws).handle_order_change("MODIFY", order["order_id"], order, repriced(order))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=correct, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ledger(aws).last_sequence("CN", 2026) == 6 and ledger(aws).last_sequence("INV", 2026) == 12
    notes = {ledger(aws).get_invoice(f"CN-2026-{i:06d}") is not None for i in range(1, 7)}
    assert notes == {True}


def test_a_lost_change_is_reconciled_from_the_order_as_it_is_now(aws: dict[str, str]) -> None:
    """The sweep replays a failed stream batch without its old image: the order is compared with
    its invoice, so the correction is made once, and nothing when there is nothing to correct."""
    order = invoiced(aws)
    assert issuer(aws).reconcile("ORD-1001", order) is None
    changed = repriced(order)
    result = issuer(aws).reconcile("ORD-1001", changed)
    assert result is not None and result.outcome is Outcome.REVISED
    assert issuer(aws).reconcile("ORD-1001", changed) is None
    cancelled = {**changed, "status": "CANCELLED"}
    credited = issuer(aws).reconcile("ORD-1001", cancelled)
    assert credited is not None and credited.outcome is Outcome.CREDITED
    assert ledger(aws).last_sequence("CN", 2026) == 2 and ledger(aws).last_sequence("INV", 2026) == 2
    assert issuer(aws).reconcile("ORD-NEW", None) is None


# --- returns: some units of some lines refunded -------------------------------------------------


def returned(order: dict[str, Any], **units: int) -> dict[str, Any]:
    """`order` with these units refunded so far, by line (`line0=1`): nothing billed changes."""
    changed = make_order(**{k: v for k, v in order.items() if k != "items"})
    changed["items"] = [dict(line) for line in order["items"]]
    for name, quantity in units.items():
        changed["items"][int(name.removeprefix("line"))]["refunded_quantity"] = D(quantity)
    return changed


def test_returns_are_credited_unit_by_unit_and_a_refund_then_credits_only_what_is_left(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    order = invoiced(aws)  # BOOK-1 2 x 10.00 (18.00 after discounts) at 5 %, LAMP-7 and shipping at 23 %
    events(aws, publish_outbox)
    one = returned(order, line0=1)
    result = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, one)
    assert result is not None and result.outcome is Outcome.CREDITED
    assert result.invoice_number == "INV-2026-000001"
    first = ledger(aws).get_invoice("CN-2026-000001")
    assert first is not None and first.status is InvoiceStatus.ISSUED
    assert (first.net_total, first.tax_total, first.grand_total) == (D("9.00"), D("0.45"), D("9.45"))
    original = ledger(aws).get_invoice("INV-2026-000001")
    assert original is not None and original.replaced_by is None
    assert original.credited_quantities == {"0": 1} and original.credit_notes == ["CN-2026-000001"]
    assert ledger(aws).last_sequence("INV", 2026) == 1  # no revised invoice

    text = pdf_text(aws, first.s3_key or "").replace("\n", " ")
    for expected in ("Credit note", "CN-2026-000001", "INV-2026-000001", "in part", "In part", "BOOK-1"):
        assert expected in text, expected
    assert "9.00" in text and "9.45" in text and "LAMP-7" not in text

    # Redelivered, or written again for another reason: the unit is credited once.
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, one) is None
    tracked = returned(order, line0=1)
    tracked["shipping"]["tracking_reference"] = "TRK-2"
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", one, tracked) is None
    assert ledger(aws).last_sequence("CN", 2026) == 1

    two = returned(order, line0=2)
    second = issuer(aws).handle_order_change("MODIFY", "ORD-1001", one, two)
    assert second is not None and second.outcome is Outcome.CREDITED
    note = ledger(aws).get_invoice("CN-2026-000002")
    assert note is not None and (note.net_total, note.tax_total) == (D("9.00"), D("0.45"))

    refunded = {**two, "payment": {**two["payment"], "status": "REFUNDED"}}
    last = issuer(aws).handle_order_change("MODIFY", "ORD-1001", two, refunded)
    assert last is not None and last.outcome is Outcome.CREDITED
    rest = ledger(aws).get_invoice("CN-2026-000003")
    assert rest is not None
    # What was left: LAMP-7 and shipping at 23 % (27.50 net, 6.33 tax), nothing more at 5 %.
    assert [(t.rate, t.net, t.tax) for t in rest.tax_lines] == [(D("0.23"), D("27.50"), D("6.33"))]
    notes = [first, note, rest]
    original = ledger(aws).get_invoice("INV-2026-000001")
    assert original is not None
    assert sum(n.grand_total for n in notes) == original.grand_total == D("52.73")
    assert sum(n.tax_total for n in notes) == original.tax_total
    assert original.credit_notes == ["CN-2026-000001", "CN-2026-000002", "CN-2026-000003"]
    assert original.credited_quantities == {"0": 2, "1": 1}
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", two, refunded) is None

    announced = [e["detail"] for e in events(aws, publish_outbox) if e["detail-type"] == "CreditNoteIssued"]
    assert [e["invoice_number"] for e in announced] == ["CN-2026-000001", "CN-2026-000002", "CN-2026-000003"]
    assert {e["replaced_by"] for e in announced} == {None}
    corrections = CorrectionLedger(aws["INVOICES_TABLE_NAME"], ledger(aws))
    ids = {correction_id("INV-2026-000001", order_fingerprint(version)) for version in (one, two, refunded)}
    assert len(ids) == 3
    assert {corrections.get_correction("ORD-1001", i).credit_note_number for i in ids} == {  # type: ignore[union-attr]
        "CN-2026-000001",
        "CN-2026-000002",
        "CN-2026-000003",
    }


def test_returns_of_several_lines_in_one_write_make_one_credit_note(aws: dict[str, str]) -> None:
    order = invoiced(aws)
    both = returned(order, line0=1, line1=1)
    result = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, both)
    assert result is not None and result.outcome is Outcome.CREDITED
    note = ledger(aws).get_invoice("CN-2026-000001")
    assert note is not None
    # 9.00 at 5 % (0.45) and LAMP-7's 22.50 at 23 % (5.18): shipping stays on the invoice.
    assert [(t.rate, t.net, t.tax) for t in note.tax_lines] == [
        (D("0.05"), D("9.00"), D("0.45")),
        (D("0.23"), D("22.50"), D("5.18")),
    ]
    text = pdf_text(aws, note.s3_key or "").replace("\n", " ")
    assert "BOOK-1 × 1" in text and "LAMP-7 × 1" in text


def test_a_refunded_quantity_above_the_quantity_is_refused_and_the_invoice_stands(
    aws: dict[str, str],
) -> None:
    order = invoiced(aws)
    too_many = returned(order, line0=3)
    result = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, too_many)
    assert result is not None and result.outcome is Outcome.CORRECTION_REJECTED
    assert [i.code.value for i in result.issues] == ["REFUND_EXCEEDS_QUANTITY"]
    assert ledger(aws).last_sequence("CN", 2026) == 0


def test_a_return_with_a_price_change_is_credited_on_the_revised_invoice(aws: dict[str, str]) -> None:
    order = invoiced(aws)
    changed = returned(repriced(order), line0=1)
    result = issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, changed)
    assert result is not None and result.outcome is Outcome.REVISED
    revised = ledger(aws).get_invoice("INV-2026-000002")
    assert revised is not None and revised.credit_notes == ["CN-2026-000002"]
    assert revised.credited_quantities == {"0": 1}
    returned_note = ledger(aws).get_invoice("CN-2026-000002")
    assert returned_note is not None and returned_note.credits_invoice_number == "INV-2026-000002"
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, changed) is None
    assert ledger(aws).last_sequence("CN", 2026) == 2


def test_a_lost_return_is_reconciled_from_the_order_as_it_is_now(aws: dict[str, str]) -> None:
    order = invoiced(aws)
    one = returned(order, line0=1)
    result = issuer(aws).reconcile("ORD-1001", one)
    assert result is not None and result.outcome is Outcome.CREDITED
    assert issuer(aws).reconcile("ORD-1001", one) is None
    assert ledger(aws).last_sequence("CN", 2026) == 1


def test_units_returned_before_the_invoice_is_issued_are_credited_when_it_is(aws: dict[str, str]) -> None:
    order = returned(make_order(), line0=1)
    invoiced(aws, order)
    original = ledger(aws).get_invoice("INV-2026-000001")
    assert original is not None and original.grand_total == D("52.73")  # every unit sold is billed
    assert original.credit_notes == ["CN-2026-000001"] and original.credited_quantities == {"0": 1}
    note = ledger(aws).get_invoice("CN-2026-000001")
    assert note is not None and note.grand_total == D("9.45") and note.status is InvoiceStatus.ISSUED
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, order) is None
    assert ledger(aws).last_sequence("CN", 2026) == 1


def test_a_change_that_calls_for_nothing_is_recorded_as_such_once(aws: dict[str, str]) -> None:
    """The storefront lowers a refunded quantity (a credit is never taken back): compared, nothing to
    do, and that is on record (status UNCHANGED, with why, outside the sweep); redelivered, once."""
    order = invoiced(aws)
    two = returned(order, line0=2)
    assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", order, two) is not None
    one = returned(order, line0=1)
    for _ in range(2):
        assert issuer(aws).handle_order_change("MODIFY", "ORD-1001", two, one) is None
    assert ledger(aws).last_sequence("CN", 2026) == 1
    record = CorrectionLedger(aws["INVOICES_TABLE_NAME"], ledger(aws)).get_correction(
        "ORD-1001", correction_id("INV-2026-000001", order_fingerprint(one))
    )
    assert record is not None and record.status == "UNCHANGED" and record.credit_note_number is None
    assert record.note == "nothing the invoice says differs from the order as it is now"
    item = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": "ORDER#ORD-1001"}, "sk": {"S": f"CORRECTION#{record.correction_id}"}},
    )["Item"]
    assert "sweep_kind" not in item
