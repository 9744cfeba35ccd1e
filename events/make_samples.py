"""Writes the sample order items in events/orders/, the stream events in events/dynamodb-stream/,
the bus events in events/eventbridge/ and the invoice documents in events/documents/.

The storefront computes its own totals; these samples fill them in the way a correct storefront
would (from the lines), except the invalid ones, which are broken on purpose. Run it after changing
the contract: `.venv/bin/python -m events.make_samples`. Tests check every sample against the
manifest, so a drifted file fails CI.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))

from boto3.dynamodb.types import TypeSerializer  # noqa: E402

from invoicing.domain.order import Order  # noqa: E402
from invoicing.domain.pricing import price_order  # noqa: E402

ORDERS = ROOT / "events" / "orders"
STREAM = ROOT / "events" / "dynamodb-stream"
D = Decimal
STREAM_ARN = (
    "arn:aws:dynamodb:eu-west-1:123456789012:table/saypro-invoicing-dev-orders/stream/2026-11-01T00:00:00.000"
)


def _address(line1: str, city: str, country: str, postal_code: str | None = None) -> dict[str, Any]:
    return {"line1": line1, "city": city, "postal_code": postal_code, "country": country}


def _item(  # noqa: PLR0917 (a sample line reads best as one positional row)
    sku: str, description: str, qty: int, price: str, rate: str, vendor: str, discount: str = "0"
) -> dict[str, Any]:
    return {
        "sku": sku,
        "description": description,
        "quantity": qty,
        "unit_price": D(price),
        "tax_rate": D(rate),
        "discount": D(discount),
        "vendor_id": vendor,
    }


def _order(
    order_id: str, currency: str, customer: dict[str, Any], items: list[dict[str, Any]], **extra: Any
) -> dict:  # type: ignore[type-arg]
    order: dict[str, Any] = {
        "order_id": order_id,
        "status": "COMPLETED",
        "created_at": "2026-11-20T09:15:00Z",
        "completed_at": "2026-11-21T14:02:11Z",
        "currency": currency,
        "prices_include_tax": False,
        "customer": customer,
        "items": items,
        "order_discounts": [],
        "shipping": None,
        "payment": {
            "method": "card",
            "transaction_reference": f"pi_{order_id.lower().replace('-', '')}",
            "amount_captured": D(0),
            "status": "CAPTURED",
            "captured_at": "2026-11-20T09:16:02Z",
        },
    }
    order.update(extra)
    order["totals"] = {
        k: D(0) for k in ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total")
    }
    return _with_correct_totals(order)


def _with_correct_totals(order: dict[str, Any]) -> dict[str, Any]:
    totals = price_order(Order.model_validate(order)).totals
    order["totals"] = {
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "shipping_total": totals.shipping_total,
        "tax_total": totals.tax_total,
        "grand_total": totals.grand_total,
    }
    order["payment"]["amount_captured"] = totals.grand_total
    return order


def samples() -> dict[str, dict[str, Any]]:
    eur = _order(
        "ORD-2026-0001",
        "EUR",
        {
            "customer_id": "CUST-ZOE",
            "name": "Zoë Łukasiewicz",
            "email": "zoe@example.com",
            "phone": "+48501234567",
            "billing_address": _address("ul. Długa 1", "Kraków", "PL", "31-147"),
            "preferred_channels": ["email"],
            "locale": "pl-PL",
        },
        [
            _item("BOOK-PT", "Pan Tadeusz (hardcover)", 2, "24.90", "0.05", "V-BOOKS"),
            _item("LAMP-7", "Desk lamp, brass", 1, "89.00", "0.23", "V-HOME", discount="9.00"),
            _item("MUG-2", "Stoneware mug", 4, "12.50", "0.23", "V-HOME"),
        ],
        order_discounts=[{"code": "WELCOME10", "description": "Welcome offer", "amount": D("10.00")}],
        shipping={
            "method": "InPost courier",
            "cost": D("14.99"),
            "tax_rate": D("0.23"),
            "tracking_reference": "INP-99120034",
        },
    )
    gbp = _order(
        "ORD-2026-0002",
        "GBP",
        {
            "customer_id": "CUST-JOSE",
            "name": "José Núñez",
            "email": "jose.nunez@example.co.uk",
            "phone": "+447700900123",
            "billing_address": _address("12 Rosebery Avenue", "London", "GB", "EC1R 4SX"),
            "preferred_channels": ["sms", "email"],
            "locale": "en-GB",
        },
        [
            _item("TEA-EG", "Earl Grey tea, 250 g", 3, "4.99", "0.20", "V-PANTRY"),
            _item("BREAD-SD", "Sourdough loaf", 1, "3.20", "0", "V-PANTRY"),
            _item("CARD-BD", "Birthday card", 2, "2.75", "0.20", "V-PAPER", discount="0.50"),
        ],
        prices_include_tax=True,
        shipping={
            "method": "Royal Mail Tracked 48",
            "cost": D("3.99"),
            "tax_rate": D("0.20"),
            "tracking_reference": "RM123456785GB",
        },
    )
    jpy = _order(
        "ORD-2026-0003",
        "JPY",
        {
            "customer_id": "CUST-YUKI",
            "name": "Yuki Tanaka",
            "email": "yuki.tanaka@example.jp",
            "billing_address": _address("1-2-3 Jingumae, Shibuya-ku", "Tokyo", "JP", "150-0001"),
            "preferred_channels": ["email"],
            "locale": "ja-JP",
        },
        [
            _item("MATCHA-1", "Uji matcha, 100 g", 3, "2480", "0.08", "V-TEA"),
            _item("CHAWAN", "Tea bowl", 1, "5600", "0.10", "V-CRAFT"),
        ],
        order_discounts=[{"code": "AUTUMN", "description": "Autumn campaign", "amount": D("500")}],
        shipping={
            "method": "Yamato",
            "cost": D("800"),
            "tax_rate": D("0.10"),
            "tracking_reference": "YMT-4471",
        },
    )
    bhd = _order(
        "ORD-2026-0004",
        "BHD",
        {
            "customer_id": "CUST-DMITRI",
            "name": "Дмитрий Иванов",
            "email": "dmitri@example.bh",
            "billing_address": _address("Building 221, Road 2803", "Manama", "BH"),
            "preferred_channels": ["email"],
            "locale": "ru-RU",
        },
        [
            _item("DATES-1", "Medjool dates, 1 kg", 7, "1.125", "0.10", "V-PANTRY"),
            _item("OUD-50", "Oud perfume, 50 ml", 1, "42.750", "0.10", "V-SCENT", discount="2.750"),
        ],
        shipping={
            "method": "Aramex",
            "cost": D("1.500"),
            "tax_rate": D("0"),
            "tracking_reference": "ARX-88812",
        },
    )
    vendors = ["V-BOOKS", "V-HOME", "V-PAPER"]
    long_items = [
        _item(
            f"PART-{i:03d}",
            f"Spare part {i:03d}, Ersatzteil für Größe {i % 7 + 1}",
            i % 5 + 1,
            f"{(i * 37) % 900 / 10 + 1.05:.2f}",
            "0.19" if i % 4 else "0.07",
            vendors[i % 3],
        )
        for i in range(1, 121)
    ]
    long_order = _order(
        "ORD-2026-0005",
        "EUR",
        {
            "customer_id": "CUST-MUELLER",
            "name": "Müller GmbH",
            "email": "einkauf@mueller.example.de",
            "billing_address": _address("Königstraße 5", "Stuttgart", "DE", "70173"),
            "preferred_channels": ["portal"],
            "locale": "de-DE",
        },
        long_items,
        order_discounts=[{"code": "B2B5", "description": "Business customer 5 EUR off", "amount": D("5.00")}],
        shipping={
            "method": "DHL Freight",
            "cost": D("49.00"),
            "tax_rate": D("0.19"),
            "tracking_reference": "DHL-00340434",
        },
    )
    greek = _order(
        "ORD-2026-0006",
        "EUR",
        {
            "customer_id": "CUST-ELENI",
            "name": "Ελένη Παπαδοπούλου",
            "email": "eleni@example.gr",
            "phone": "+306912345678",
            "billing_address": _address("Οδός Ερμού 10", "Αθήνα", "GR", "105 63"),
            "preferred_channels": ["email", "sms"],
            "locale": "el-GR",
        },
        [_item("OLIVE-1", "Olive oil, 1 l", 2, "14.80", "0.13", "V-PANTRY")],
        status="SHIPPED",
        completed_at=None,
        shipping={
            "method": "ELTA Courier",
            "cost": D("4.50"),
            "tax_rate": D("0.24"),
            "tracking_reference": "ELTA-5521",
        },
    )
    wrong = _order(
        "ORD-2026-0007",
        "EUR",
        {
            "customer_id": "CUST-BROKEN",
            "name": "Ana Broken",
            "email": "not-an-email",
            "phone": "0611",
            "billing_address": _address("Rua Augusta 1", "Lisboa", "PT", "1100-053"),
            "preferred_channels": ["email"],
        },
        [
            _item("SHOE-1", "Running shoes", -1, "79.99", "0.23", "V-SPORT"),
            _item("SOCK-3", "Socks, 3 pairs", 1, "9.995", "1.5", "V-SPORT"),
        ],
    )
    wrong["totals"]["grand_total"] = D("89.99")
    wrong["payment"]["amount_captured"] = D("89.99")
    malformed = {
        "order_id": "ORD-2026-0008",
        "status": "COMPLETED",
        "created_at": "2026-11-20T09:15:00Z",
        "completed_at": "2026-11-21T14:02:11Z",
        "currency": "EUR",
        "payment": {"method": "card", "status": "CAPTURED", "amount_captured": D("10.00")},
        "items": [{"sku": "X", "quantity": "lots"}],
    }
    return {
        "eur-two-rates-discounts-shipping.json": eur,
        "gbp-tax-inclusive-sms.json": gbp,
        "jpy-zero-decimals.json": jpy,
        "bhd-three-decimals-cyrillic.json": bhd,
        "eur-long-order-120-lines-portal.json": long_order,
        "eur-greek-shipped-then-completed.json": greek,
        "invalid-several-problems.json": wrong,
        "invalid-malformed-item.json": malformed,
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent >= 0
            else float(value)
        )
    raise TypeError(value)


def _dump(path: Path, data: Any) -> None:
    path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8"
    )


def _typed(item: dict[str, Any]) -> dict[str, Any]:
    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items() if v is not None}


def _record(name: str, seq: int, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    source = new or old or {}
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": 1763733731,
        "Keys": {"order_id": {"S": source["order_id"]}},
        "SequenceNumber": f"4000000000000{seq:08d}",
        "SizeBytes": 2048,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        change["NewImage"] = _typed(new)
    if old is not None:
        change["OldImage"] = _typed(old)
    return {
        "eventID": f"c81e728d9d4c2f636f067f89cc14862c{seq}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }


def main() -> None:
    all_samples = samples()
    for name, order in all_samples.items():
        _dump(ORDERS / name, order)
    eur = all_samples["eur-two-rates-discounts-shipping.json"]
    shipped = copy.deepcopy(eur) | {"status": "SHIPPED", "completed_at": None}
    tracked = copy.deepcopy(eur)
    tracked["shipping"]["tracking_reference"] = "INP-99120034-B"
    stream = {
        "insert-completed-order.json": [_record("INSERT", 1, eur, None)],
        "modify-shipped-to-completed.json": [_record("MODIFY", 2, eur, shipped)],
        "modify-completed-to-completed.json": [_record("MODIFY", 3, tracked, eur)],
        "remove-order.json": [_record("REMOVE", 4, None, eur)],
        "insert-malformed-item.json": [
            _record("INSERT", 5, all_samples["invalid-malformed-item.json"], None)
        ],
    }
    for name, records in stream.items():
        _dump(STREAM / name, {"Records": records})
    _write_bus_events(all_samples)


def _envelope(detail_type: str, detail: Any, resources: list[str]) -> dict[str, Any]:
    # Every announcement names its outbox entry: the resource consumers deduplicate on.
    entry = hashlib.sha256(f"{detail_type}{resources}".encode()).hexdigest()[:16]
    resources = [*resources, f"announcement/{entry}"] if detail_type != "VendorInvoicesDue" else resources
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "saypro.invoicing",
        "account": "123456789012",
        "time": "2026-11-21T14:02:12Z",
        "region": "eu-west-1",
        "resources": resources,
        "detail": json.loads(detail.model_dump_json()),
    }


def _write_documents(eur_item: dict[str, Any]) -> tuple[Any, bytes, Any, bytes]:
    """The invoice document of record and one of its vendor invoices, exactly as stored in S3."""
    from datetime import UTC, datetime

    from invoicing.domain.documents import encode_document, order_fingerprint, sha256_hex
    from invoicing.domain.invoice import Seller, freeze_invoice
    from invoicing.domain.vendor_invoice import freeze_vendor_invoice
    from invoicing.domain.vendors import Vendor, vendor_statements

    order = Order.model_validate(eur_item)
    invoice = freeze_invoice(
        order,
        price_order(order),
        invoice_number="INV-2026-000001",
        issued_at=datetime(2026, 11, 21, 14, 2, 12, tzinfo=UTC),
        seller=Seller(),
        source_sha256=order_fingerprint(eur_item),
    )
    invoice_bytes = encode_document(invoice)
    vendors = json.loads((ROOT / "events" / "vendors" / "vendors.json").read_text(), parse_float=Decimal)
    known = {v["vendor_id"]: Vendor.model_validate(v) for v in vendors}
    statement = next(s for s in vendor_statements(invoice.priced(), known) if s.vendor.vendor_id == "V-HOME")
    vendor_invoice = freeze_vendor_invoice(
        invoice,
        sha256_hex(invoice_bytes),
        statement,
        invoice_number="VND-2026-000001",
        issued_at=datetime(2026, 11, 21, 14, 2, 13, tzinfo=UTC),
    )
    vendor_bytes = encode_document(vendor_invoice)
    folder = ROOT / "events" / "documents"
    folder.mkdir(exist_ok=True)
    # The stored bytes are compact JSON; these copies are indented to be read (same content).
    _dump(folder / "invoice-INV-2026-000001.json", json.loads(invoice_bytes))
    _dump(folder / "vendor-invoice-VND-2026-000001.json", json.loads(vendor_bytes))
    return invoice, invoice_bytes, vendor_invoice, vendor_bytes


def _write_bus_events(all_samples: dict[str, dict[str, Any]]) -> None:
    """The envelopes as EventBridge delivers them, built from the models the functions publish."""
    from datetime import UTC, datetime

    from invoicing.domain.documents import sha256_hex
    from invoicing.domain.events import (
        ChannelProblem,
        InvoiceDeliveryFailed,
        InvoiceDeliveryOutcome,
        InvoiceDownloaded,
        InvoiceIssued,
        InvoiceSent,
        InvoiceValidationFailed,
    )
    from invoicing.domain.order import Channel
    from invoicing.domain.validation import validate_order_item
    from invoicing.domain.vendor_invoice import VendorInvoiceFailed

    invoice, invoice_bytes, vendor_invoice, vendor_bytes = _write_documents(
        all_samples["eur-two-rates-discounts-shipping.json"]
    )
    totals = invoice.totals
    issued = InvoiceIssued(
        invoice_number=invoice.invoice_number,
        kind="CUSTOMER",
        order_id=invoice.order.order_id,
        customer_id=invoice.customer.customer_id,
        customer_name=invoice.customer.name,
        currency=invoice.currency,
        grand_total=str(totals.grand_total),
        tax_total=str(totals.tax_total),
        payment_status=invoice.payment.status.value,
        preferred_channels=invoice.customer.preferred_channels,
        s3_bucket="saypro-invoicing-prod-documents",
        s3_key="invoices/customer/2026/INV-2026-000001.pdf",
        s3_version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        sha256="5e9318fd86cc0f1c7a4c0e7f2d7b8f1e3c2a1b0d9e8f7a6b5c4d3e2f1a0b9c8d",
        document_key="invoices/customer/2026/INV-2026-000001.json",
        document_version_id="Lk1fP0vX3Zc5u8RbA2sWq9EoYhT4mJnD",
        document_sha256=sha256_hex(invoice_bytes),
        issued_at=invoice.issued_at,
        order_completed_at=invoice.order.completed_at,
    )
    vendor_issued = issued.model_copy(
        update={
            "invoice_number": vendor_invoice.invoice_number,
            "kind": "VENDOR",
            "customer_name": vendor_invoice.statement.vendor.name,
            "vendor_id": vendor_invoice.statement.vendor.vendor_id,
            "grand_total": str(vendor_invoice.statement.gross_sales),
            "tax_total": str(vendor_invoice.statement.tax),
            "preferred_channels": [],
            "s3_key": "invoices/vendor/2026/VND-2026-000001.pdf",
            "document_key": "invoices/vendor/2026/VND-2026-000001.json",
            "document_sha256": sha256_hex(vendor_bytes),
            "issued_at": vendor_invoice.issued_at,
        }
    )
    bad = all_samples["invalid-several-problems.json"]
    failed = InvoiceValidationFailed(
        order_id=bad["order_id"],
        customer_id=bad["customer"]["customer_id"],
        issues=validate_order_item(bad).issues,
        attempts=1,
        failed_at=datetime(2026, 11, 21, 14, 2, 12, tzinfo=UTC),
    )
    bus = ROOT / "events" / "eventbridge"
    bus.mkdir(exist_ok=True)
    resources = ["invoice/INV-2026-000001", f"order/{issued.order_id}"]
    _dump(bus / "invoice-issued.json", _envelope("InvoiceIssued", issued, resources))
    _dump(
        bus / "invoice-issued-vendor.json",
        _envelope(
            "InvoiceIssued", vendor_issued, ["invoice/VND-2026-000001", *resources[1:], "vendor/V-HOME"]
        ),
    )
    _dump(
        bus / "invoice-validation-failed.json",
        _envelope("InvoiceValidationFailed", failed, ["order/ORD-2026-0007"]),
    )
    bounced = InvoiceDeliveryFailed(
        invoice_number=issued.invoice_number,
        order_id=issued.order_id,
        customer_id=issued.customer_id,
        problems=[
            ChannelProblem(
                channel=Channel.EMAIL, reason="bounced: Permanent/General: smtp; 550 5.1.1 user unknown"
            )
        ],
        failed_at=datetime(2026, 11, 21, 14, 3, 40, tzinfo=UTC),
        undeliverable=False,
    )
    message_id = "0102019a7f3c9d2e-3b1d1a52-5c7e-4a8f-9d47-2f0e6c1b7a90-000000"
    sent = InvoiceSent(
        invoice_number=issued.invoice_number,
        kind="CUSTOMER",
        order_id=issued.order_id,
        customer_id=issued.customer_id,
        channel=Channel.EMAIL,
        provider_message_id=message_id,
        sent_at=datetime(2026, 11, 21, 14, 2, 13, tzinfo=UTC),
        seconds_since_completion=2.1,
    )
    outcome = InvoiceDeliveryOutcome(
        invoice_number=issued.invoice_number,
        channel=Channel.EMAIL,
        provider_message_id=message_id,
        occurred_at=datetime(2026, 11, 21, 14, 2, 15, tzinfo=UTC),
    )
    downloaded = InvoiceDownloaded(
        invoice_number=issued.invoice_number,
        party_id=issued.customer_id,
        downloaded_at=datetime(2026, 11, 21, 18, 40, 2, tzinfo=UTC),
    )
    vendor_failed = VendorInvoiceFailed(
        order_id=issued.order_id,
        vendor_ids=["V-GONE"],
        code="VENDOR_UNKNOWN",
        message="vendors not in the Vendors table: V-GONE; their invoices are not issued",
        failed_at=datetime(2026, 11, 21, 14, 2, 13, tzinfo=UTC),
    )
    invoice_only = ["invoice/INV-2026-000001"]
    _dump(bus / "invoice-delivery-failed.json", _envelope("InvoiceDeliveryFailed", bounced, resources))
    _dump(bus / "invoice-delivery-due.json", _envelope("InvoiceDeliveryDue", issued, resources))
    _dump(bus / "vendor-invoices-due.json", _envelope("VendorInvoicesDue", issued, resources[1:]))
    _dump(bus / "invoice-sent.json", _envelope("InvoiceSent", sent, resources))
    _dump(bus / "invoice-delivered.json", _envelope("InvoiceDelivered", outcome, invoice_only))
    _dump(
        bus / "invoice-opened.json",
        _envelope(
            "InvoiceOpened",
            outcome.model_copy(update={"occurred_at": datetime(2026, 11, 21, 18, 39, 50, tzinfo=UTC)}),
            invoice_only,
        ),
    )
    _dump(bus / "invoice-downloaded.json", _envelope("InvoiceDownloaded", downloaded, invoice_only))
    _dump(
        bus / "vendor-invoice-failed.json",
        _envelope("VendorInvoiceFailed", vendor_failed, [f"order/{issued.order_id}", "vendor/V-GONE"]),
    )
    _write_corrections(invoice, issued, resources)
    _write_vendor_correction(vendor_invoice, vendor_issued, resources)
    _write_outbox_record(issued, resources)
    _write_sns_notifications()


def _write_corrections(invoice: Any, issued: Any, resources: list[str]) -> None:
    """A price correction of INV-2026-000001: its credit note (document and CreditNoteIssued), the
    revised invoice's InvoiceIssued, and an edit refused because the order no longer validates."""
    from datetime import UTC, datetime

    from invoicing.domain.credit_note import CreditReason, full_credit
    from invoicing.domain.documents import encode_document, sha256_hex
    from invoicing.domain.events import InvoiceCorrectionRejected
    from invoicing.domain.validation import ValidationIssue

    at = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    note = full_credit(
        invoice,
        credit_note_number="CN-2026-000001",
        issued_at=at,
        reason=CreditReason.ORDER_CHANGED,
        replaced_by="INV-2026-000002",
    )
    note_bytes = encode_document(note)
    _dump(ROOT / "events" / "documents" / "credit-note-CN-2026-000001.json", json.loads(note_bytes))
    credit_issued = issued.model_copy(
        update={
            "invoice_number": note.invoice_number,
            "kind": "CREDIT_NOTE",
            "grand_total": str(note.totals.grand_total),
            "tax_total": str(note.totals.tax_total),
            "s3_key": "invoices/credit_note/2026/CN-2026-000001.pdf",
            "document_key": "invoices/credit_note/2026/CN-2026-000001.json",
            "document_sha256": sha256_hex(note_bytes),
            "issued_at": at,
            "credits_invoice_number": invoice.invoice_number,
            "replaced_by": "INV-2026-000002",
        }
    )
    revised = issued.model_copy(
        update={
            "invoice_number": "INV-2026-000002",
            "s3_key": "invoices/customer/2026/INV-2026-000002.pdf",
            "document_key": "invoices/customer/2026/INV-2026-000002.json",
            "issued_at": at,
            "replaces": invoice.invoice_number,
            "credit_note_number": note.invoice_number,
        }
    )
    rejected = InvoiceCorrectionRejected(
        order_id=issued.order_id,
        invoice_number=invoice.invoice_number,
        correction_id="5d41402abc4b2a76b9719d911017c592",
        issues=[
            ValidationIssue(
                code="TOTAL_MISMATCH",  # type: ignore[arg-type]
                field="totals.grand_total",
                message="the storefront says grand_total is 52.73 EUR, the order's lines give 54.96 EUR",
            )
        ],
        issue_count=1,
        discovered_at=at,
    )
    bus = ROOT / "events" / "eventbridge"
    order = resources[1:]
    _dump(
        bus / "credit-note-issued.json",
        _envelope(
            "CreditNoteIssued", credit_issued, ["invoice/CN-2026-000001", *order, "invoice/INV-2026-000001"]
        ),
    )
    _dump(
        bus / "invoice-issued-revised.json",
        _envelope("InvoiceIssued", revised, ["invoice/INV-2026-000002", *order, "invoice/INV-2026-000001"]),
    )
    _dump(
        bus / "invoice-correction-rejected.json",
        _envelope("InvoiceCorrectionRejected", rejected, ["invoice/INV-2026-000001", *order]),
    )


def _write_vendor_correction(vendor_invoice: Any, vendor_issued: Any, resources: list[str]) -> None:
    """The same correction as the vendor of its lines sees it: V-HOME's vendor credit note
    (document and CreditNoteIssued), replaced by the revised vendor invoice VND-2026-000004."""
    from datetime import UTC, datetime

    from invoicing.domain.credit_note import CreditReason
    from invoicing.domain.documents import encode_document, sha256_hex
    from invoicing.domain.vendor_credit_note import VendorCredited, units_left, vendor_credit

    at = datetime(2026, 11, 22, 9, 30, 2, tzinfo=UTC)
    note = vendor_credit(
        vendor_invoice,
        credit_note_number="VCN-2026-000001",
        issued_at=at,
        units=units_left(vendor_invoice, VendorCredited()),
        credited=VendorCredited(),
        customer_credit_note_number="CN-2026-000001",
        reason=CreditReason.ORDER_CHANGED,
        reason_text="the order was changed after the invoice was issued",
        replaced_by="VND-2026-000004",
    )
    note_bytes = encode_document(note)
    _dump(ROOT / "events" / "documents" / "vendor-credit-note-VCN-2026-000001.json", json.loads(note_bytes))
    issued = vendor_issued.model_copy(
        update={
            "invoice_number": note.invoice_number,
            "kind": "VENDOR_CREDIT_NOTE",
            "grand_total": str(note.totals.gross_sales),
            "tax_total": str(note.totals.tax),
            "s3_key": "invoices/vendor_credit_note/2026/VCN-2026-000001.pdf",
            "document_key": "invoices/vendor_credit_note/2026/VCN-2026-000001.json",
            "document_sha256": sha256_hex(note_bytes),
            "issued_at": at,
            "credits_invoice_number": vendor_invoice.invoice_number,
            "replaced_by": "VND-2026-000004",
        }
    )
    _dump(
        ROOT / "events" / "eventbridge" / "credit-note-issued-vendor.json",
        _envelope(
            "CreditNoteIssued",
            issued,
            ["invoice/VCN-2026-000001", *resources[1:], "invoice/VND-2026-000001", "vendor/V-HOME"],
        ),
    )


def _write_outbox_record(issued: Any, resources: list[str]) -> None:
    """The Invoices-stream record the outbox publisher receives for a new InvoiceIssued entry."""
    from datetime import UTC, datetime

    from invoicing.adapters.outbox import outbox_put

    put = outbox_put(
        "saypro-invoicing-prod-invoices",
        f"INVOICE#{issued.invoice_number}",
        "InvoiceIssued",
        issued,
        resources=resources,
        now=datetime(2026, 11, 21, 14, 2, 12, 418000, tzinfo=UTC),
    )["Put"]["Item"]
    # A stable sample: the entry id is random in real entries.
    entry_id = put["sk"]["S"].rsplit("#", 1)[1]
    put["sk"]["S"] = put["sk"]["S"].replace(entry_id, "5c0ffee15ca1ab1e")
    put["resources"]["L"][-1]["S"] = "announcement/5c0ffee15ca1ab1e"
    record = {
        "eventID": "a1c5e2f0b3d94e7c8a6f2d1b0e9c8a7f",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1763733732,
            "Keys": {"pk": put["pk"], "sk": put["sk"]},
            "NewImage": put,
            "SequenceNumber": "5000000000000000000001",
            "SizeBytes": 1380,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": STREAM_ARN.replace("-orders/", "-invoices/"),
    }
    _dump(STREAM / "invoices-outbox-insert.json", {"Records": [record]})


def _write_sns_notifications() -> None:
    """SES events as SNS posts them to the webhook (signed with a throwaway key: shape only)."""
    from infra.local.sns_signer import LocalSns, ses_bounce, ses_complaint, ses_delivery

    topic = "arn:aws:sns:eu-west-1:123456789012:saypro-invoicing-prod-ses-notifications"
    sns = LocalSns.create(topic)
    folder = ROOT / "events" / "sns"
    folder.mkdir(exist_ok=True)
    message_id = "0102019a7f3c9d2e-3b1d1a52-5c7e-4a8f-9d47-2f0e6c1b7a90-000000"
    for name, ses_event in (
        ("ses-bounce-permanent.json", ses_bounce(message_id, "bounce@simulator.amazonses.com")),
        ("ses-bounce-transient.json", ses_bounce(message_id, "full@example.com", permanent=False)),
        ("ses-complaint.json", ses_complaint(message_id, "complaint@simulator.amazonses.com")),
        ("ses-delivery.json", ses_delivery(message_id, "zoe@example.com")),
    ):
        _dump(folder / name, sns.notification(ses_event))
    _dump(
        folder / "subscription-confirmation.json",
        sns.subscription_confirmation("2336412f37fb687f5d51e6e2425c"),
    )


if __name__ == "__main__":
    main()
