"""An undeliverable invoice is delivered once customer service corrects the customer's contact."""

from __future__ import annotations

import json
from typing import Any

import boto3

from infra.local.api_server import http_api_event
from infra.local.orders import put_order
from infra.local.outbox import sent_emails
from infra.local.pipeline import LocalPipeline
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_module
from infra.local.sns_signer import LocalSns, ses_bounce
from invoicing.adapters.invoice_ledger import InvoiceLedger
from tests.conftest import make_order

BAD, GOOD = "bounce@simulator.amazonses.com", "zoe.corrected@example.com"


def _bounce(aws: dict[str, str], message_id: str) -> None:
    sns = LocalSns.create(aws["NOTIFICATION_TOPIC_ARNS"])
    webhook = load_module("delivery_webhook")
    webhook.certificates.preload(sns.certificate_url, sns.certificate_pem)
    event = http_api_event("POST", "/webhooks/ses", {}, "/webhooks/ses", {})
    event["body"] = json.dumps(sns.notification(ses_bounce(message_id, BAD)))
    assert webhook.lambda_handler(event, FakeLambdaContext(function_name="webhook"))["statusCode"] == 200


def _correct_email(aws: dict[str, str], order_id: str, email: str) -> None:
    """What the storefront writes when customer service fixes the address."""
    boto3.client("dynamodb").update_item(
        TableName=aws["ORDERS_TABLE_NAME"],
        Key={"order_id": {"S": order_id}},
        UpdateExpression="SET customer.email = :email",
        ExpressionAttributeValues={":email": {"S": email}},
    )


def _item(aws: dict[str, str], number: str, sk: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"], Key={"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": sk}}
    )["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def test_a_corrected_address_gets_the_undeliverable_invoice_once(
    aws: dict[str, str], pipeline: LocalPipeline
) -> None:
    customer = {**make_order()["customer"], "email": BAD, "phone": None, "preferred_channels": ["email"]}
    order = make_order(customer=customer)
    put_order(aws["ORDERS_TABLE_NAME"], order)
    pipeline.run_until_quiet()
    record = InvoiceLedger(aws["INVOICES_TABLE_NAME"]).find_by_order(order["order_id"])
    assert record is not None
    [first] = [e for e in sent_emails().values() if BAD in e.recipients]
    _bounce(aws, first.message_id)
    pipeline.run_until_quiet()  # the fallback finds no other channel
    events = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    failures = [e["detail"] for e in events if e["detail-type"] == "InvoiceDeliveryFailed"]
    assert [f["undeliverable"] for f in failures] == [False, True]
    assert _item(aws, record.invoice_number, "UNDELIVERABLE")["sweep_kind"] == "UNDELIVERABLE"

    _correct_email(aws, order["order_id"], GOOD)
    pipeline.run_until_quiet()
    reopened = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    # Through the outbox: the reopening's InvoiceDeliveryDue, then the send it caused.
    types = [e["detail-type"] for e in reopened]
    assert types.count("InvoiceDeliveryDue") == 1 and types.count("InvoiceSent") == 1

    resent = [e for e in sent_emails().values() if GOOD in e.recipients]
    assert len(resent) == 1 and record.invoice_number in resent[0].subject
    undeliverable = _item(aws, record.invoice_number, "UNDELIVERABLE")
    assert undeliverable["status"] == "REOPENED" and "sweep_kind" not in undeliverable
    invoice = _item(aws, record.invoice_number, "INVOICE")
    assert invoice["delivery_status"] == "SENT" and "sweep_kind" not in invoice
    assert InvoiceLedger(aws["INVOICES_TABLE_NAME"]).last_sequence("INV", record.issued_at.year) == 1

    # Delivered now: later contact changes, and the whole stream again, send nothing more.
    _correct_email(aws, order["order_id"], "zoe.again@example.com")
    pipeline.run_until_quiet()
    pipeline.generator.redeliver_everything()
    pipeline.run_until_quiet()
    customer_emails = [e for e in sent_emails().values() if record.invoice_number in e.subject]
    assert len(customer_emails) == 2  # the bounced one and the corrected one; vendors get their own
    assert not pipeline.dead_letters
