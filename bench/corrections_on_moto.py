"""Corrections on in-process moto: what one correction costs, end to end but for delivery.

A customer price correction (compare with the invoice document, credit note + revised invoice in
one transaction, both documents and PDFs stored and announced), then the vendor reconciliation
it calls for (three vendors, one whose line changed: a vendor credit note and a revised vendor
invoice; the other two compared and left alone). Median per order over fresh orders. Times include
moto's emulation of DynamoDB and S3, which is not AWS latency: they compare versions of our code.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.cold_start import ROOT


@dataclass(frozen=True)
class CorrectionTiming:
    orders: int
    customer_ms: float
    vendors_ms: float
    vendor_requests: int
    """DynamoDB requests of one vendor reconciliation (a cost that grows with the order's vendors)."""


def _order(order_id: str) -> dict[str, Any]:
    from tests.conftest import make_order, with_derived_totals

    order = make_order(order_id=order_id, order_discounts=[])
    order["items"].append(
        {
            "sku": "TEA-3",
            "description": "Sencha, 100 g",
            "quantity": Decimal(3),
            "unit_price": Decimal("4.99"),
            "tax_rate": Decimal("0.05"),
            "vendor_id": "V-TEA",
        }
    )
    return with_derived_totals(order)


def _repriced(order: dict[str, Any]) -> dict[str, Any]:
    from tests.conftest import with_derived_totals

    changed = {**order, "items": [dict(line) for line in order["items"]]}
    changed["items"][1]["unit_price"] = Decimal("32.00")
    return with_derived_totals(changed)


def measure(orders: int = 8) -> CorrectionTiming:
    from moto import mock_aws

    from infra.local import moto_patches

    moto_patches.apply()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)

    with mock_aws():
        import boto3

        from infra.local.provisioning import provision
        from infra.local.vendors import load_vendors, put_vendors
        from invoicing.adapters.correction_ledger import CorrectionLedger
        from invoicing.adapters.document_store import DocumentStore
        from invoicing.adapters.invoice_ledger import InvoiceLedger
        from invoicing.adapters.party_records import VendorRecords
        from invoicing.domain.invoice import Seller
        from invoicing.rendering.pdf import render_document_pdf
        from invoicing.services.invoice_issuing import InvoiceIssuer
        from invoicing.services.vendor_invoicing import VendorInvoicer

        names = provision(prefix="bench")
        put_vendors(names["VENDORS_TABLE_NAME"], load_vendors(ROOT / "events" / "vendors" / "vendors.json"))
        ledger = InvoiceLedger(names["INVOICES_TABLE_NAME"])
        documents = DocumentStore(names["INVOICE_BUCKET_NAME"])
        issuer = InvoiceIssuer(
            ledger=ledger,
            documents=documents,
            renderer=render_document_pdf,
            series="INV",
            seller=Seller(),
            credit_note_series="CN",
        )
        client = boto3.client("dynamodb")
        requests = {"count": 0}

        def count(**_: Any) -> None:
            requests["count"] += 1

        client.meta.events.register("before-call.dynamodb.*", count)
        counted_ledger = InvoiceLedger(names["INVOICES_TABLE_NAME"], client=client)
        invoicer = VendorInvoicer(
            ledger=counted_ledger,
            corrections=CorrectionLedger(names["INVOICES_TABLE_NAME"], counted_ledger, client=client),
            documents=documents,
            load_vendor=VendorRecords(names["VENDORS_TABLE_NAME"]).get,
            renderer=render_document_pdf,
            series="VND",
            credit_note_series="VCN",
        )
        customer, vendors, counted = [], [], []
        for index in range(orders + 1):  # the first warms the code paths and the fonts
            order = _order(f"ORD-BENCH-{index:04d}")
            issuer.handle_order_change("INSERT", order["order_id"], None, order)
            invoicer.reconcile(order["order_id"])
            started = time.perf_counter()
            issuer.handle_order_change("MODIFY", order["order_id"], order, _repriced(order))
            corrected = time.perf_counter()
            requests["count"] = 0
            invoicer.reconcile(order["order_id"])
            done = time.perf_counter()
            if index:
                customer.append((corrected - started) * 1000)
                vendors.append((done - corrected) * 1000)
                counted.append(requests["count"])
        return CorrectionTiming(
            orders=orders,
            customer_ms=statistics.median(customer),
            vendors_ms=statistics.median(vendors),
            vendor_requests=int(statistics.median(counted)),
        )


if __name__ == "__main__":
    timing = measure()
    print(timing)
