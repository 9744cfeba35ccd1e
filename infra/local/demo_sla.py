"""The demo's second half: a bounced email falls back to SMS, a stuck order is found by the sweep.

Bounce: an order whose customer's email is SES's bounce simulator is emailed; SES's Bounce event,
wrapped and signed as SNS delivers it, is posted to the local webhook over HTTP; the delivery
becomes BOUNCED, the address is suppressed, `InvoiceDeliveryFailed` is announced and the
dispatcher texts the customer instead. A forged notification and a repeat change nothing.

Sweep: an order is written while the generator is down; its stream record ends in the on-failure
queue; one tick of the real sweeper handler invoices it (and the dispatcher emails it), and a
second tick does nothing more. Operations' digest (what needs a person) is printed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any, Protocol

import boto3

from infra.local import ROOT
from infra.local.orders import load_order, put_order
from infra.local.outbox import sent_emails, sent_texts
from infra.local.pipeline import LocalPipeline
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler
from infra.local.sns_signer import LocalSns, ses_bounce, ses_delivery

BOUNCING_ADDRESS = "bounce@simulator.amazonses.com"
SAMPLE = ROOT / "events" / "orders" / "eur-two-rates-discounts-shipping.json"


class Checks(Protocol):
    lines: list[str]

    def check(self, condition: bool, problem: str) -> None: ...


def _order(order_id: str, **customer: Any) -> dict[str, Any]:
    order = load_order(SAMPLE)
    order["order_id"] = order_id
    order["completed_at"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    order["customer"] = {**order["customer"], **customer}
    return order


def post_notification(api_url: str, message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 (our own loopback endpoint)
        f"{api_url}/webhooks/ses",
        data=json.dumps(message).encode(),
        headers={"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": message["Type"]},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def _email_delivery(names: dict[str, str], number: str) -> dict[str, Any]:
    from invoicing.adapters.delivery_log import DeliveryLog

    deliveries = DeliveryLog(names["INVOICES_TABLE_NAME"]).deliveries(number)
    return next((d for d in deliveries if d["channel"] == "email"), {})


def show_bounce(
    outcome: Checks, pipeline: LocalPipeline, names: dict[str, str], api_url: str, sns: LocalSns
) -> None:
    from invoicing.adapters.delivery_log import DeliveryLog
    from invoicing.adapters.invoice_ledger import InvoiceLedger

    out = outcome.lines.append
    out("\nBounce webhook: an email to SES's bounce simulator, the customer also has a phone")
    order = _order(
        "ORD-DEMO-BOUNCE", email=BOUNCING_ADDRESS, phone="+447700900123", preferred_channels=["email"]
    )
    texts_before = set(sent_texts())
    put_order(names["ORDERS_TABLE_NAME"], order)
    pipeline.run_until_quiet()
    read_events(names["EVENTS_OBSERVER_QUEUE_URL"])
    record = InvoiceLedger(names["INVOICES_TABLE_NAME"]).find_by_order(order["order_id"])
    if record is None:
        outcome.check(False, "the bouncing order was not invoiced")
        return
    number = record.invoice_number
    message_id = str(_email_delivery(names, number).get("provider_message_id", ""))
    out(f"  {number} emailed to {BOUNCING_ADDRESS} (SES message {message_id})")

    forged = LocalSns.create(sns.topic_arn).notification(ses_bounce(message_id, BOUNCING_ADDRESS))
    forged_status, _ = post_notification(api_url, forged)
    out(
        f"  a forged bounce (signed with another key) -> {forged_status}; delivery still "
        f"{_email_delivery(names, number).get('status')}"
    )
    outcome.check(forged_status == 403, f"a forged notification got {forged_status}, not 403")
    outcome.check(
        _email_delivery(names, number).get("status") == "SENT", "a forged notification changed state"
    )

    bounce = sns.notification(ses_bounce(message_id, BOUNCING_ADDRESS))
    status, body = post_notification(api_url, bounce)
    pipeline.run_until_quiet()
    events = read_events(names["EVENTS_OBSERVER_QUEUE_URL"])
    delivery = _email_delivery(names, number)
    failed = [e["detail"] for e in events if e["detail-type"] == "InvoiceDeliveryFailed"]
    new_texts = {k: v for k, v in sent_texts().items() if k not in texts_before}
    suppressed = DeliveryLog(names["INVOICES_TABLE_NAME"]).suppressed([BOUNCING_ADDRESS])
    out(f"  SES Bounce event, signed as SNS (SignatureVersion 2), POSTed to /webhooks/ses -> {status}")
    out(f"  -> delivery {delivery.get('status')}: {delivery.get('bounce_reason')}")
    out(f"  -> {BOUNCING_ADDRESS} suppressed for future sends: {bool(suppressed)}")
    for detail in failed:
        out(f"  -> InvoiceDeliveryFailed for customer service: {detail['problems'][0]['reason']}")
    for phone, text in new_texts.values():
        out(f"  -> fallback texted {phone}: {text}")
    outcome.check(
        status == 200 and body.get("fell_back") is True, f"the bounce was not applied: {status} {body}"
    )
    outcome.check(delivery.get("status") == "BOUNCED", "the bounced email is not BOUNCED")
    outcome.check(bool(suppressed), "the bounced address was not suppressed")
    outcome.check(len(failed) == 1, f"expected one InvoiceDeliveryFailed, saw {len(failed)}")
    told = [
        json.loads(body)["detail"]
        for body in read_operations_inbox(names["CUSTOMER_SERVICE_INBOX_QUEUE_URL"])
    ]
    for detail in told:
        out(
            f"  -> customer service told (their topic): {detail['invoice_number']} of order "
            f"{detail['order_id']}: {detail['problems'][0]['reason']}"
        )
    outcome.check(
        [d["invoice_number"] for d in told] == [number],
        f"customer service was told {len(told)} times, not once",
    )
    outcome.check(len(new_texts) == 1, f"expected one SMS fallback, saw {len(new_texts)}")

    again, _ = post_notification(api_url, sns.notification(ses_bounce(message_id, BOUNCING_ADDRESS)))
    late, _ = post_notification(api_url, sns.notification(ses_delivery(message_id, BOUNCING_ADDRESS), "1"))
    pipeline.run_until_quiet()
    repeats = read_events(names["EVENTS_OBSERVER_QUEUE_URL"])
    extra_texts = len(sent_texts()) - len(texts_before) - 1
    out(
        f"  the same bounce again -> {again}, a late Delivery (SignatureVersion 1) -> {late}: "
        f"{len(repeats)} new events, {extra_texts} more texts, "
        f"delivery stays {_email_delivery(names, number).get('status')}"
    )
    outcome.check(not repeats and extra_texts == 0, "a repeated notification had an effect")
    outcome.check(
        _email_delivery(names, number).get("status") == "BOUNCED", "a late Delivery resurrected a bounce"
    )


def show_sweep(outcome: Checks, pipeline: LocalPipeline, names: dict[str, str]) -> None:
    from invoicing.adapters.invoice_ledger import InvoiceLedger

    out = outcome.lines.append
    out("\nSLA sweep: an order written while the generator was down")
    order = _order("ORD-DEMO-STUCK", email="stuck.but.found@example.com", preferred_channels=["email"])
    with pipeline.generator.outage({order["order_id"]}):
        put_order(names["ORDERS_TABLE_NAME"], order)
        pipeline.run_until_quiet()
    ledger = InvoiceLedger(names["INVOICES_TABLE_NAME"])
    queued = boto3.client("sqs").get_queue_attributes(
        QueueUrl=names["GENERATOR_ON_FAILURE_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    out(
        f"  after the stream's retries: invoice {ledger.find_by_order(order['order_id'])}, "
        f"{queued} batch in the generator's on-failure queue"
    )
    outcome.check(
        ledger.find_by_order(order["order_id"]) is None, "the stuck order was invoiced during the outage"
    )

    sweeper = load_handler("sla_sweeper")
    customer = order["customer"]["email"]
    report = sweeper(scheduled_tick(), FakeLambdaContext(function_name="sla-sweeper"))
    pipeline.run_until_quiet()
    record = ledger.find_by_order(order["order_id"])
    emailed = [e for e in sent_emails().values() if customer in e.recipients]
    out(
        f"  sweep tick -> {report['kinds']['ORDER_UNINVOICED']['redriven']} failed batch re-driven: "
        f"{record.invoice_number if record else 'NO INVOICE'} {record.status.value if record else ''}, "
        f"emailed to {customer} {len(emailed)} time(s) (and to its vendors, theirs)"
    )
    outcome.check(
        record is not None and record.status.value == "ISSUED", "the sweep did not invoice the stuck order"
    )
    outcome.check(len(emailed) == 1, f"expected the swept invoice emailed once, saw {len(emailed)}")

    emails_before = len(sent_emails())
    second = sweeper(scheduled_tick(), FakeLambdaContext(function_name="sla-sweeper"))
    pipeline.run_until_quiet()
    redriven = sum(kind["redriven"] for kind in second["kinds"].values())
    out(f"  a second tick -> {redriven} re-driven, {len(sent_emails()) - emails_before} more emails")
    outcome.check(redriven == 0 and len(sent_emails()) == emails_before, "the second tick did more")
    backlog = ", ".join(f"{kind} {summary['count']}" for kind, summary in second["kinds"].items())
    out(f"  backlog now (BacklogCount per kind): {backlog}")
    digest = read_operations_inbox(names["OPERATIONS_INBOX_QUEUE_URL"])
    if digest:
        out("  operations were sent this digest (the alarms topic):")
        out("\n".join(f"    {line}" for line in digest[0].splitlines() if line))


def scheduled_tick() -> dict[str, Any]:
    """An EventBridge schedule's event, as the sweeper receives it."""
    now = datetime.now(UTC).isoformat()
    return {
        "version": "0",
        "id": f"local-sweep-{now}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": now,
        "resources": [],
        "detail": {},
    }


def read_operations_inbox(queue_url: str) -> list[str]:
    """What operations received on the alarms topic (a queue subscribed to it stands in for them)."""
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in messages]
