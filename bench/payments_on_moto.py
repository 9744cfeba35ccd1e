"""Payments on in-process moto: what one payment event costs, and the reconciliation report.

A partial payment quoting its invoice number, then the final one (signature verified, matched,
applied in one transaction, announced), median over fresh invoices; a payment matched by amount
among a customer's open invoices; then the day's reconciliation report over every event of the
day and the open receivables. DynamoDB requests are counted: the report's grow with the day's
payments and the open receivables, never the table. Times include moto's emulation: they compare
versions of our code, not AWS latency.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class PaymentTiming:
    invoices: int
    webhook_ms: float
    """Verify the signature, match by invoice number, apply (one partial payment)."""
    by_amount_ms: float
    """Match by amount among the customer's open invoices, then apply (the final payment)."""
    requests_per_event: int
    report_ms: float
    report_events: int
    report_requests: int


def measure(invoices: int = 30) -> PaymentTiming:
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

        from infra.local.provisioning import LOCAL_WEBHOOK_SECRET, provision
        from invoicing.adapters.document_store import DocumentStore
        from invoicing.adapters.event_publisher import EventPublisher
        from invoicing.adapters.invoice_ledger import InvoiceLedger
        from invoicing.adapters.payment_ledger import PaymentLedger
        from invoicing.adapters.report_store import ReportStore
        from invoicing.adapters.sweep_index import SweepIndex
        from invoicing.adapters.webhook_secrets import WebhookSecrets
        from invoicing.domain.invoice import Seller
        from invoicing.domain.payment_events import PaymentEvent
        from invoicing.domain.webhook_signatures import sign
        from invoicing.services.invoice_issuing import InvoiceIssuer
        from invoicing.services.payment_intake import PaymentIntake
        from invoicing.services.payment_webhook import PaymentWebhook
        from invoicing.services.reconciliation import Reconciliation
        from tests.unit.test_payment_terms import POLICY, bank_transfer

        names = provision(prefix="bench")
        table = names["INVOICES_TABLE_NAME"]
        issuer = InvoiceIssuer(
            ledger=InvoiceLedger(table),
            documents=DocumentStore(names["INVOICE_BUCKET_NAME"]),
            renderer=lambda document: b"%PDF-1.7 bench",
            series="INV",
            seller=Seller(),
            policy=POLICY,
        )
        client = boto3.client("dynamodb")
        requests = {"count": 0}

        def count(**_: Any) -> None:
            requests["count"] += 1

        client.meta.events.register("before-call.dynamodb.*", count)
        intake = PaymentIntake(
            ledger=InvoiceLedger(table, client=client), payments=PaymentLedger(table, client=client)
        )
        webhook = PaymentWebhook(intake=intake, secrets=WebhookSecrets(names["PAYMENT_WEBHOOK_SECRET_ID"]))
        numbers = []
        for index in range(invoices + 1):
            order = bank_transfer(
                order_id=f"ORD-BENCH-{index:04d}",
                customer={
                    "customer_id": f"CUST-{index % 7}",
                    "name": "Bench",
                    "email": "b@example.com",
                    "billing_address": {"line1": "1 A St", "city": "Leeds", "country": "GB"},
                },
            )
            numbers.append(issuer.issue(order["order_id"], order).invoice_number)
        webhook_ms, by_amount_ms, counted = [], [], []
        now = datetime.now(UTC)
        for index, number in enumerate(numbers):
            body = (
                PaymentEvent(
                    event_id=f"evt-{index}",
                    kind="payment.partial",
                    occurred_at=now,
                    amount="20.00",
                    currency="EUR",
                    invoice_reference=number,
                )
                .model_dump_json()
                .encode()
            )
            header = sign(LOCAL_WEBHOOK_SECRET.encode(), int(time.time()), body)
            requests["count"] = 0
            started = time.perf_counter()
            webhook.receive({"SayPro-Signature": header}, body)
            elapsed = time.perf_counter() - started
            if index:
                webhook_ms.append(elapsed * 1000)
                counted.append(requests["count"])
            if index % 2:
                continue  # half stay partly paid: open receivables for the report
            rest = PaymentEvent(
                event_id=f"evt-rest-{index}",
                kind="payment.succeeded",
                occurred_at=now,
                amount="32.73",
                currency="EUR",
                customer_id=f"CUST-{index % 7}",
            )
            started = time.perf_counter()
            intake.receive(rest, door="eventbridge")
            if index:
                by_amount_ms.append((time.perf_counter() - started) * 1000)
        reconciliation = Reconciliation(
            index=SweepIndex(table, client=client),
            ledger=InvoiceLedger(table, client=client),
            payments=PaymentLedger(table, client=client),
            reports=ReportStore(names["INVOICE_BUCKET_NAME"]),
            events=EventPublisher(names["EVENT_BUS_NAME"]),
            link_for=lambda report, file: f"https://x/reports/{report}/{file}",
        )
        requests["count"] = 0
        started = time.perf_counter()
        report = reconciliation.publish(now.date())
        report_ms = (time.perf_counter() - started) * 1000
        return PaymentTiming(
            invoices=invoices,
            webhook_ms=statistics.median(webhook_ms),
            by_amount_ms=statistics.median(by_amount_ms),
            requests_per_event=int(statistics.median(counted)),
            report_ms=report_ms,
            report_events=report.payments_recorded,
            report_requests=requests["count"],
        )


if __name__ == "__main__":
    print(measure())
