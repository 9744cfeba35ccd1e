"""Realistic invoices of any length for the benchmarks: Unicode names, discounts, two tax rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from invoicing.domain.documents import order_fingerprint
from invoicing.domain.invoice import InvoiceDocument, Seller, freeze_invoice
from invoicing.domain.order import Order
from invoicing.domain.pricing import price_order

_PRODUCTS = (
    ("Pan Tadeusz (hardcover)", "10.00", "0.05"),
    ("Desk lamp with adjustable arm, warm white LED, 40 cm", "30.00", "0.23"),
    ("Kaffeebecher Müller GmbH, 350 ml", "7.90", "0.23"),
    ("Κούπα καφέ / Чашка кофе, ceramic", "12.50", "0.23"),
    (
        "Organic cotton T-shirt, size M, colour: slate blue, made in Portugal by José Núñez & Co.",
        "19.99",
        "0.23",
    ),
    ("USB-C cable 2 m", "4.49", "0.23"),
)


def order_item(lines: int, order_id: str = "ORD-BENCH-1") -> dict[str, Any]:
    """A completed, paid order item as the storefront writes it, with totals that add up."""
    items = []
    for index in range(lines):
        description, price, rate = _PRODUCTS[index % len(_PRODUCTS)]
        items.append(
            {
                "sku": f"SKU-{index:05d}",
                "description": description,
                "quantity": Decimal(1 + index % 3),
                "unit_price": Decimal(price),
                "tax_rate": Decimal(rate),
                "discount": Decimal("1.00") if index % 4 == 3 else Decimal(0),
                "vendor_id": f"V-{index % 5}",
            }
        )
    item: dict[str, Any] = {
        "order_id": order_id,
        "status": "COMPLETED",
        "created_at": "2026-11-20T09:15:00Z",
        "completed_at": "2026-11-21T14:02:11Z",
        "currency": "EUR",
        "prices_include_tax": False,
        "customer": {
            "customer_id": "CUST-42",
            "name": "Zoë Łukasiewicz",
            "email": "zoe@example.com",
            "billing_address": {
                "line1": "ul. Długa 1",
                "city": "Kraków",
                "postal_code": "31-147",
                "country": "PL",
            },
            "preferred_channels": ["email"],
        },
        "items": items,
        "order_discounts": [{"code": "WELCOME", "description": "Welcome offer", "amount": Decimal("4.50")}],
        "shipping": {
            "method": "Courier",
            "cost": Decimal("5.00"),
            "tax_rate": Decimal("0.23"),
            "tracking_reference": "TRK1",
        },
        "payment": {
            "method": "card",
            "transaction_reference": "pi_3NxBench",
            "amount_captured": Decimal(0),
            "status": "CAPTURED",
            "captured_at": "2026-11-20T09:16:00Z",
        },
        "totals": {
            name: Decimal(0)
            for name in ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total")
        },
    }
    totals = price_order(Order.model_validate(item)).totals
    item["totals"] = {
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "shipping_total": totals.shipping_total,
        "tax_total": totals.tax_total,
        "grand_total": totals.grand_total,
    }
    item["payment"]["amount_captured"] = totals.grand_total
    return item


def invoice_document(lines: int) -> InvoiceDocument:
    item = order_item(lines)
    order = Order.model_validate(item)
    return freeze_invoice(
        order,
        price_order(order),
        invoice_number="INV-2026-000123",
        issued_at=datetime(2026, 11, 21, 15, 0, tzinfo=UTC),
        seller=Seller(),
        source_sha256=order_fingerprint(item),
    )
