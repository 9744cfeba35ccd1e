"""Invoice documents for tests, frozen from order items exactly as the issuer freezes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from invoicing.domain.documents import order_fingerprint
from invoicing.domain.invoice import InvoiceDocument, Seller, freeze_invoice
from invoicing.domain.order import Order
from invoicing.domain.pricing import price_order
from tests.conftest import make_order

ISSUED_AT = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def frozen(
    item: Mapping[str, Any], number: str = "INV-2026-000042", issued_at: datetime = ISSUED_AT
) -> InvoiceDocument:
    order = Order.model_validate(item)
    return freeze_invoice(
        order,
        price_order(order),
        invoice_number=number,
        issued_at=issued_at,
        seller=Seller(),
        source_sha256=order_fingerprint(item),
    )


def invoice_document(
    number: str = "INV-2026-000042", issued_at: datetime = ISSUED_AT, **order_overrides: Any
) -> InvoiceDocument:
    """The document of `make_order(**order_overrides)`."""
    return frozen(make_order(**order_overrides), number, issued_at)
