"""Vendor corrections on moto, through the whole local pipeline: when the customer's invoice is
corrected, only the vendors whose part changed get a vendor credit note (and, if their lines
changed, a revised vendor invoice), in their own series, once, and by one email each."""

from __future__ import annotations

import io
from decimal import Decimal as D
from typing import Any

import boto3
from pypdf import PdfReader

from infra.local.orders import put_order
from infra.local.outbox import sent_emails
from infra.local.pipeline import LocalPipeline
from infra.local.vendors import load_vendors, put_vendors
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.adapters.party_records import VendorRecords
from invoicing.domain.documents import parse_document
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus, Seller
from invoicing.domain.vendor_credit_note import VendorCreditNoteDocument
from invoicing.domain.vendor_invoice import VendorInvoiceDocument
from invoicing.rendering.pdf import render_document_pdf
from invoicing.services.invoice_issuing import InvoiceIssuer
from invoicing.services.vendor_invoicing import VendorInvoicer
from tests.conftest import ROOT, make_order, with_derived_totals

ORDER = "ORD-VC-1"


def three_vendor_order(**overrides: Any) -> dict[str, Any]:
    """Books (2 x 10.00 at 5 %), a lamp (30.00 less 5.00 at 23 %), tea (3 x 4.99 at 5 %); no order
    discount, so a change of one line's price concerns that line's vendor only."""
    order = make_order(order_id=ORDER, order_discounts=[], **overrides)
    order["items"].append(
        {
            "sku": "TEA-3",
            "description": "Sencha, 100 g",
            "quantity": D(3),
            "unit_price": D("4.99"),
            "tax_rate": D("0.05"),
            "vendor_id": "V-TEA",
        }
    )
    return with_derived_totals(order)


def ledger(aws: dict[str, str]) -> InvoiceLedger:
    return InvoiceLedger(aws["INVOICES_TABLE_NAME"])


def vendor_invoices(aws: dict[str, str]) -> dict[str, InvoiceRecord]:
    return ledger(aws).vendor_invoices_of(ORDER)


def document(aws: dict[str, str], record: InvoiceRecord) -> Any:
    data = DocumentStore(aws["INVOICE_BUCKET_NAME"]).get_verified(
        record.document_key or "", record.document_version_id, record.document_sha256
    )
    return parse_document(data)


def pdf_text(aws: dict[str, str], record: InvoiceRecord) -> str:
    body = boto3.client("s3").get_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=record.s3_key or "")["Body"]
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body.read())).pages).replace(
        "\n", " "
    )


def vendor_emails() -> list[Any]:
    return [e for e in sent_emails().values() if "vendor" in e.subject]


def invoiced(aws: dict[str, str], pipeline: LocalPipeline) -> dict[str, Any]:
    order = three_vendor_order()
    put_order(aws["ORDERS_TABLE_NAME"], order)
    pipeline.run_until_quiet()
    assert sorted(vendor_invoices(aws)) == ["V-BOOKS", "V-HOME", "V-TEA"]
    return order


def changed(order: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The order with item fields changed (`line<i>_<field>=value`), totals derived again."""
    item = make_order(**{k: v for k, v in order.items() if k != "items"})
    item["items"] = [dict(line) for line in order["items"]]
    for name, value in changes.items():
        line, field = name.split("_", 1)
        item["items"][int(line.removeprefix("line"))][field] = value
    return with_derived_totals(item)


def test_a_price_change_on_one_vendors_line_corrects_that_vendor_only(
    aws: dict[str, str], pipeline: LocalPipeline
) -> None:
    order = invoiced(aws, pipeline)
    before = vendor_invoices(aws)
    put_order(aws["ORDERS_TABLE_NAME"], changed(order, line1_unit_price=D("32.00")))
    pipeline.run_until_quiet()

    after = vendor_invoices(aws)
    # Books and tea keep their invoices; the lamp's vendor has a revised one.
    assert after["V-BOOKS"].invoice_number == before["V-BOOKS"].invoice_number
    assert after["V-TEA"].invoice_number == before["V-TEA"].invoice_number
    old, new = before["V-HOME"], after["V-HOME"]
    assert new.invoice_number != old.invoice_number and new.replaces == old.invoice_number
    replaced = ledger(aws).get_invoice(old.invoice_number)
    assert replaced is not None and replaced.replaced_by == new.invoice_number
    [credit_number] = replaced.credit_notes
    assert credit_number == "VCN-2026-000001" and ledger(aws).last_sequence("VCN", 2026) == 1
    assert ledger(aws).last_sequence("VND", 2026) == 4  # three, then the revised one
    for vendor in ("V-BOOKS", "V-TEA"):
        assert not (ledger(aws).get_invoice(before[vendor].invoice_number) or old).credit_notes

    credit = ledger(aws).get_invoice(credit_number)
    assert credit is not None and credit.kind is InvoiceKind.VENDOR_CREDIT_NOTE
    assert credit.status is InvoiceStatus.ISSUED and credit.vendor_id == "V-HOME"
    note = document(aws, credit)
    assert isinstance(note, VendorCreditNoteDocument)
    original = document(aws, old)
    assert isinstance(original, VendorInvoiceDocument)
    # Everything the vendor invoice said is credited: sales, tax, commission, amount owed.
    assert note.totals.gross_sales == original.statement.gross_sales
    assert note.totals.commission == original.statement.commission
    assert note.totals.amount_owed == original.statement.amount_owed
    assert note.replaced_by == new.invoice_number and note.reason.value == "ORDER_CHANGED"
    revised = document(aws, new)
    assert isinstance(revised, VendorInvoiceDocument)
    assert revised.statement.lines[0].unit_price == D("32.00")
    assert revised.customer_invoice_number == ledger(aws).find_by_order(ORDER).invoice_number  # type: ignore[union-attr]

    text = pdf_text(aws, credit)
    for expected in ("VENDOR CREDIT NOTE", credit_number, old.invoice_number, "replaced by vendor invoice"):
        assert expected in text, expected
    assert f"Replaces invoice {old.invoice_number}" in pdf_text(aws, new)

    # One email to the lamp's vendor with both PDFs; none to the others for this change.
    corrected = [e for e in vendor_emails() if "corrected" in e.subject]
    assert [e.subject for e in corrected] == [
        f"SayPro corrected vendor invoice {new.invoice_number} for order {ORDER}"
    ]
    [email] = corrected
    assert email.recipients == ["abrechnung@mueller-wohnen.example.de"]
    names = sorted(a.get_filename() for a in email.message.iter_attachments())
    assert names == sorted([f"{new.invoice_number}.pdf", f"{credit_number}.pdf"])
    assert not [e for e in vendor_emails() if "credit note" in e.subject]  # never sent on its own


def test_a_return_of_one_line_credits_its_vendor_only_for_the_units_returned(
    aws: dict[str, str], pipeline: LocalPipeline
) -> None:
    order = invoiced(aws, pipeline)
    before = vendor_invoices(aws)
    put_order(aws["ORDERS_TABLE_NAME"], {**changed(order, line2_refunded_quantity=D(1))})
    pipeline.run_until_quiet()

    after = vendor_invoices(aws)
    assert {v: r.invoice_number for v, r in after.items()} == {v: r.invoice_number for v, r in before.items()}
    tea = ledger(aws).get_invoice(before["V-TEA"].invoice_number)
    assert tea is not None and tea.credit_notes == ["VCN-2026-000001"] and tea.replaced_by is None
    assert tea.credited_quantities == {"0": 1}
    credit = ledger(aws).get_invoice("VCN-2026-000001")
    assert credit is not None
    note = document(aws, credit)
    assert isinstance(note, VendorCreditNoteDocument) and note.scope.value == "LINES"
    # One tin of 4.99 at 5 %: net 4.99, tax 0.25, commission 5 % of net (V-TEA's rate) rounded once.
    rate = document(aws, before["V-TEA"]).statement.vendor.commission_rate
    assert (note.totals.net_sales, note.totals.tax) == (D("4.99"), D("0.25"))
    assert note.totals.commission == (D("4.99") * rate).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    for vendor in ("V-BOOKS", "V-HOME"):
        assert not (ledger(aws).get_invoice(before[vendor].invoice_number) or tea).credit_notes
    [email] = [e for e in vendor_emails() if "credit note" in e.subject]
    assert email.subject == f"SayPro vendor credit note VCN-2026-000001 for order {ORDER}"
    assert [a.get_filename() for a in email.message.iter_attachments()] == ["VCN-2026-000001.pdf"]

    # The other two tins come back: the last credit takes exactly what is left, commission too.
    put_order(aws["ORDERS_TABLE_NAME"], {**changed(order, line2_refunded_quantity=D(3))})
    pipeline.run_until_quiet()
    tea = ledger(aws).get_invoice(before["V-TEA"].invoice_number)
    assert tea is not None and len(tea.credit_notes) == 2 and tea.credited_quantities == {"0": 3}
    whole = document(aws, before["V-TEA"]).statement
    notes = [document(aws, ledger(aws).get_invoice(n)) for n in tea.credit_notes]  # type: ignore[arg-type]
    assert sum(n.totals.gross_sales for n in notes) == whole.gross_sales
    assert sum(n.totals.commission for n in notes) == whole.commission
    assert sum(n.totals.amount_owed for n in notes) == whole.amount_owed


def test_a_cancellation_credits_every_vendor_in_full_once(
    aws: dict[str, str], pipeline: LocalPipeline
) -> None:
    order = invoiced(aws, pipeline)
    before = vendor_invoices(aws)
    cancelled = {**order, "status": "CANCELLED"}
    put_order(aws["ORDERS_TABLE_NAME"], cancelled)
    pipeline.run_until_quiet()
    put_order(aws["ORDERS_TABLE_NAME"], {**cancelled, "note": "redelivered"})  # changes nothing billed
    pipeline.run_until_quiet()

    assert ledger(aws).last_sequence("VCN", 2026) == 3
    for vendor, record in before.items():
        current = ledger(aws).get_invoice(record.invoice_number)
        assert current is not None and len(current.credit_notes) == 1 and current.replaced_by is None, vendor
        note = document(aws, ledger(aws).get_invoice(current.credit_notes[0]))  # type: ignore[arg-type]
        statement = document(aws, record).statement
        assert note.scope.value == "FULL" and note.reason.value == "CANCELLED"
        assert (note.totals.gross_sales, note.totals.amount_owed) == (
            statement.gross_sales,
            statement.amount_owed,
        )
    assert len([e for e in vendor_emails() if "credit note" in e.subject]) == 3


def test_vendor_corrections_are_made_once_however_often_they_are_asked_for(
    aws: dict[str, str], pipeline: LocalPipeline
) -> None:
    order = invoiced(aws, pipeline)
    put_order(aws["ORDERS_TABLE_NAME"], changed(order, line0_unit_price=D("11.00")))
    pipeline.run_until_quiet()
    invoicer = VendorInvoicer(
        ledger=ledger(aws),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        load_vendor=VendorRecords(aws["VENDORS_TABLE_NAME"]).get,
        renderer=render_document_pdf,
        series="VND",
        credit_note_series="VCN",
    )
    numbers = {v: r.invoice_number for v, r in vendor_invoices(aws).items()}
    for _ in range(3):  # the customer's events redelivered, the sweep asking again
        assert sorted(invoicer.reconcile(ORDER)) == sorted(numbers.values())
    assert ledger(aws).last_sequence("VCN", 2026) == 1 and ledger(aws).last_sequence("VND", 2026) == 4
    due = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"],
        Key={"pk": {"S": f"ORDER#{ORDER}"}, "sk": {"S": "VENDOR_INVOICES"}},
        ConsistentRead=True,
    )["Item"]
    assert due["status"]["S"] == "DONE" and "sweep_kind" not in due


def test_a_customer_correction_makes_the_vendor_invoices_due_again_for_the_sweep(aws: dict[str, str]) -> None:
    """If every event after the customer's correction is lost, the VENDOR_INVOICES record is back
    in the sweep index against the newest invoice, so the sweep asks the vendor invoicer again."""

    def fake_pdf(_: Any) -> bytes:
        return b"%PDF-1.7"

    put_vendors(aws["VENDORS_TABLE_NAME"], load_vendors(ROOT / "events" / "vendors" / "vendors.json"))
    issuer = InvoiceIssuer(
        ledger=ledger(aws),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=fake_pdf,
        series="INV",
        seller=Seller(),
        credit_note_series="CN",
    )
    order = three_vendor_order()
    issuer.handle_order_change("INSERT", ORDER, None, order)
    invoicer = VendorInvoicer(
        ledger=ledger(aws),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        load_vendor=VendorRecords(aws["VENDORS_TABLE_NAME"]).get,
        renderer=fake_pdf,
        series="VND",
    )
    invoicer.reconcile(ORDER)
    key = {"pk": {"S": f"ORDER#{ORDER}"}, "sk": {"S": "VENDOR_INVOICES"}}

    def due() -> dict[str, Any]:
        return boto3.client("dynamodb").get_item(
            TableName=aws["INVOICES_TABLE_NAME"], Key=key, ConsistentRead=True
        )["Item"]

    assert due()["status"]["S"] == "DONE"
    issuer.handle_order_change("MODIFY", ORDER, order, changed(order, line1_unit_price=D("31.00")))
    newest = ledger(aws).find_by_order(ORDER)
    assert newest is not None and newest.replaces
    record = due()
    assert record["status"]["S"] == "DUE" and record["sweep_kind"]["S"] == "VENDOR_INVOICES_DUE"
    assert record["invoice_number"]["S"] == newest.invoice_number
    invoicer.reconcile(ORDER)
    assert due()["status"]["S"] == "DONE"
    assert vendor_invoices(aws)["V-HOME"].replaces is not None
