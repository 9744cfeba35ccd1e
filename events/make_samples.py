"""Writes the sample order items in events/orders/ and the stream events in events/dynamodb-stream/.

The storefront computes its own totals; these samples fill them in the way a correct storefront
would (from the lines), except the invalid ones, which are broken on purpose. Run it after changing
the contract: `.venv/bin/python -m events.make_samples`. Tests check every sample against the
manifest, so a drifted file fails CI.
"""

from __future__ import annotations

import copy
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


def _write_bus_events(all_samples: dict[str, dict[str, Any]]) -> None:
    """The envelopes as EventBridge delivers them, built from the models the generator publishes."""
    from datetime import UTC, datetime

    from invoicing.domain.events import (
        ChannelProblem,
        InvoiceDeliveryFailed,
        InvoiceIssued,
        InvoiceValidationFailed,
    )
    from invoicing.domain.order import Channel
    from invoicing.domain.validation import validate_order_item

    eur = Order.model_validate(all_samples["eur-two-rates-discounts-shipping.json"])
    totals = price_order(eur).totals
    issued = InvoiceIssued(
        invoice_number="INV-2026-000001",
        kind="CUSTOMER",
        order_id=eur.order_id,
        customer_id=eur.customer.customer_id,
        customer_name=eur.customer.name,
        currency=eur.currency,
        grand_total=str(totals.grand_total),
        tax_total=str(totals.tax_total),
        payment_status=eur.payment.status.value,
        preferred_channels=eur.customer.preferred_channels,
        s3_bucket="saypro-invoicing-prod-documents",
        s3_key="invoices/customer/2026/INV-2026-000001.pdf",
        s3_version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        sha256="5e9318fd86cc0f1c7a4c0e7f2d7b8f1e3c2a1b0d9e8f7a6b5c4d3e2f1a0b9c8d",
        issued_at=datetime(2026, 11, 21, 14, 2, 12, tzinfo=UTC),
        order_completed_at=eur.completed_at,
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
    _dump(bus / "invoice-issued.json", _envelope("InvoiceIssued", issued, ["invoice/INV-2026-000001"]))
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
    resources = ["invoice/INV-2026-000001", f"order/{issued.order_id}"]
    _dump(bus / "invoice-delivery-failed.json", _envelope("InvoiceDeliveryFailed", bounced, resources))
    _dump(bus / "invoice-delivery-due.json", _envelope("InvoiceDeliveryDue", issued, resources))
    _write_sns_notifications()


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
