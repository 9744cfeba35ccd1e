"""The invoice document of record: what it freezes, its bytes and hash, reading it back."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from invoicing.domain.documents import (
    DocumentIntegrityError,
    encode_document,
    order_fingerprint,
    parse_document,
    parse_invoice,
    sha256_hex,
)
from invoicing.domain.invoice import InvoiceDocument
from invoicing.domain.vendor_invoice import VendorInvoiceDocument
from tests.conftest import make_order
from tests.documents import invoice_document

EVENTS = Path(__file__).parents[2] / "events"


def test_the_document_freezes_what_the_invoice_says_with_every_amount_in_minor_units() -> None:
    document = invoice_document()
    assert document.document_schema == "saypro.invoice.v1"
    assert document.customer.name == "Zoë Łukasiewicz"
    assert document.customer.billing_address.city == "Kraków"
    assert [line.amount for line in document.lines] == [D("18.00"), D("22.50")]
    assert [str(line.line_discount) for line in document.lines] == ["0.00", "5.00"]
    assert [(t.rate, t.net, t.tax) for t in document.tax_lines] == [
        (D("0.05"), D("18.00"), D("0.90")),
        (D("0.23"), D("27.50"), D("6.33")),  # 23 % of 22.50 + 5.00 shipping, rounded once
    ]
    assert document.totals.grand_total == D("52.73")
    assert document.payment.amount_paid == D("52.73")
    assert document.vendor_ids == ["V-BOOKS", "V-HOME"]


def test_the_bytes_read_back_to_the_same_document_and_amounts_travel_as_strings() -> None:
    document = invoice_document()
    data = encode_document(document)
    assert '"grand_total":"52.73"' in data.decode()
    again = parse_document(data, sha256_hex(data))
    assert again == document and isinstance(again, InvoiceDocument)
    assert encode_document(again) == data  # stable: the hash of a document never drifts


def test_bytes_that_do_not_match_their_hash_are_refused() -> None:
    data = encode_document(invoice_document())
    tampered = data.replace(b'"52.73"', b'"5.73"')
    with pytest.raises(DocumentIntegrityError):
        parse_document(tampered, sha256_hex(data))


def test_the_order_fingerprint_is_canonical_and_changes_with_any_field() -> None:
    item = make_order()
    reordered = dict(reversed(list(item.items())))
    assert order_fingerprint(item) == order_fingerprint(reordered)
    edited = make_order()
    edited["items"][0]["quantity"] = D(3)
    assert order_fingerprint(edited) != order_fingerprint(item)
    assert len(order_fingerprint({"tags": {"a", "b"}, "blob": b"\x00"})) == 64  # sets and binary too


def test_the_shipped_samples_are_documents_of_both_kinds() -> None:
    customer = (EVENTS / "documents" / "invoice-INV-2026-000001.json").read_bytes()
    vendor = (EVENTS / "documents" / "vendor-invoice-VND-2026-000001.json").read_bytes()
    invoice = parse_invoice(json.dumps(json.loads(customer)).encode())
    vendor_invoice = parse_document(vendor)
    assert isinstance(vendor_invoice, VendorInvoiceDocument)
    assert vendor_invoice.customer_invoice_number == invoice.invoice_number
    assert vendor_invoice.order == invoice.order
    vendor_lines = [
        line for line in invoice.lines if line.vendor_id == vendor_invoice.statement.vendor.vendor_id
    ]
    assert vendor_invoice.statement.lines == vendor_lines


def test_an_unknown_schema_or_an_extra_field_is_not_a_document() -> None:
    data = json.loads(encode_document(invoice_document()))
    with pytest.raises(ValueError):
        parse_document(json.dumps({**data, "document_schema": "saypro.invoice.v9"}).encode())
    with pytest.raises(ValueError):
        parse_document(json.dumps({**data, "surprise": 1}).encode())
