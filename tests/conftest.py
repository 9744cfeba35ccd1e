"""Shared fixtures: a valid order item as the storefront writes it, and AWS on moto."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

D = Decimal
ROOT = Path(__file__).resolve().parents[1]

_BASE_ORDER: dict[str, Any] = {
    "order_id": "ORD-1001",
    "status": "COMPLETED",
    "created_at": "2026-11-20T09:15:00Z",
    "completed_at": "2026-11-21T14:02:11Z",
    "currency": "EUR",
    "prices_include_tax": False,
    "customer": {
        "customer_id": "CUST-42",
        "name": "Zoë Łukasiewicz",
        "email": "zoe@example.com",
        "phone": "+48501234567",
        "billing_address": {
            "line1": "ul. Długa 1",
            "city": "Kraków",
            "postal_code": "31-147",
            "country": "PL",
        },
        "preferred_channels": ["email"],
        "locale": "pl-PL",
    },
    "items": [
        {
            "sku": "BOOK-1",
            "description": "Pan Tadeusz (hardcover)",
            "quantity": D(2),
            "unit_price": D("10.00"),
            "tax_rate": D("0.05"),
            "vendor_id": "V-BOOKS",
        },
        {
            "sku": "LAMP-7",
            "description": "Desk lamp",
            "quantity": D(1),
            "unit_price": D("30.00"),
            "tax_rate": D("0.23"),
            "discount": D("5.00"),
            "vendor_id": "V-HOME",
        },
    ],
    "order_discounts": [{"code": "WELCOME", "description": "Welcome offer", "amount": D("4.50")}],
    "shipping": {"method": "Courier", "cost": D("5.00"), "tax_rate": D("0.23"), "tracking_reference": "TRK1"},
    "payment": {
        "method": "card",
        "transaction_reference": "pi_3Nx",
        "amount_captured": D("52.73"),
        "status": "CAPTURED",
        "captured_at": "2026-11-20T09:16:00Z",
    },
    "totals": {
        "subtotal": D("50.00"),
        "discount_total": D("9.50"),
        "shipping_total": D("5.00"),
        "tax_total": D("7.23"),
        "grand_total": D("52.73"),
    },
}


def make_order(**overrides: Any) -> dict[str, Any]:
    """A valid completed, paid order item (EUR, two tax rates, discounts, taxed shipping)."""
    order = copy.deepcopy(_BASE_ORDER)
    order.update(copy.deepcopy(overrides))
    return order


def with_derived_totals(item: dict[str, Any]) -> dict[str, Any]:
    """`item` with the totals and captured amount we derive, as a correct storefront writes them."""
    from invoicing.domain.order import Order
    from invoicing.domain.pricing import price_order

    totals = price_order(Order.model_validate(item)).totals
    item["totals"] = {
        name: getattr(totals, name)
        for name in ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total")
    }
    item["payment"]["amount_captured"] = totals.grand_total
    return item


@pytest.fixture
def order_item() -> dict[str, Any]:
    return make_order()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[dict[str, str]]:
    """Moto in-process with the tables, bucket and bus the stack defines. Yields their names."""
    from moto import mock_aws

    from infra.local import moto_patches
    from infra.local.provisioning import provision

    moto_patches.apply()

    with mock_aws():
        names = provision(prefix="test")
        for key, value in names.items():
            os.environ[key] = value
        yield names


@pytest.fixture
def publish_outbox(aws: dict[str, str]) -> Callable[[], int]:
    """Runs the real outbox publisher over the Invoices table's stream, as its event source mapping
    would: every new OUTBOX# entry onto the bus. Returns how many records it delivered."""
    from infra.local.pipeline import outbox_runner
    from invoicing.settings import outbox_publisher_settings

    outbox_publisher_settings.cache_clear()
    runner = outbox_runner(aws)
    return runner.run_until_quiescent


@pytest.fixture
def pipeline(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every function wired as in the cloud (infra/local/pipeline.py), with the sample vendors."""
    from infra.local.pipeline import LocalPipeline
    from infra.local.vendors import load_vendors, put_vendors
    from invoicing import settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    for loader in (
        settings.generator_settings,
        settings.dispatcher_settings,
        settings.vendor_invoicer_settings,
        settings.outbox_publisher_settings,
        settings.sweeper_settings,
        settings.webhook_settings,
    ):
        loader.cache_clear()
    put_vendors(aws["VENDORS_TABLE_NAME"], load_vendors(ROOT / "events" / "vendors" / "vendors.json"))
    return LocalPipeline.start(aws)


SHARED_SESSIONS = ("infrastructure", "pages")
"""Folders whose tests share one costly session fixture (the CDK synth; the local stack and the
browser): under `pytest -n` (make test), each folder runs on one worker, so each is built once."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.relative_to(ROOT / "tests").parts[0]
        if folder in SHARED_SESSIONS:
            item.add_marker(pytest.mark.xdist_group(folder))
