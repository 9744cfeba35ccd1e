"""A chaos run of the whole pipeline on embedded AWS: faults at every AWS call that matters, hard
crashes right after side effects, redelivered stream batches and events, then sweeps until quiet;
then every invariant of issue 8 is checked against what is in DynamoDB, S3, SES, SNS and the bus.

Used by `tests/integration/test_chaos.py` (a few hundred orders, in `make test`) and by
`bench/chaos.py` (10,000 orders, `make chaos`). Faults come from botocore's event hooks on the
default session, so every client the real handlers create carries them:

* before a call (nothing happened): a throttling or 5xx `ClientError`, or a dropped connection;
* after a call that succeeded (it happened): `Crash`, a `BaseException` that no `except Exception`
  in the product can catch, exactly as if the Lambda died there. The runners turn it into a failed
  invocation, which Lambda retries (stream: the batch; asynchronous: the event, then its DLQ).

Time is compressed for the sweep (its clock jumps past every backoff each tick); nothing in the
product is changed or bypassed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes
from email import policy as email_policy
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, EndpointConnectionError

from infra.local.api_server import http_api_event
from infra.local.demo_sla import scheduled_tick
from infra.local.pipeline import LocalPipeline
from infra.local.runtime import ACCOUNT_ID, REGION, FakeLambdaContext, LambdaHandler, load_module
from infra.local.sns_signer import LocalSns, ses_delivery, ses_send
from invoicing.adapters.delivery_log import delivery_tag
from invoicing.adapters.document_store import DocumentStore
from invoicing.domain.documents import order_fingerprint, parse_document
from invoicing.domain.order import Channel, Order
from invoicing.domain.pricing import price_order
from tests.conftest import make_order

_serializer, _deserializer = TypeSerializer(), TypeDeserializer()

SIDE_EFFECTS = {
    ("s3", "PutObject"),
    ("eventbridge", "PutEvents"),
    ("ses", "SendRawEmail"),
    ("sns", "Publish"),
    ("dynamodb", "TransactWriteItems"),
    ("dynamodb", "PutItem"),
    ("dynamodb", "UpdateItem"),
    ("dynamodb", "DeleteItem"),
}
READS = {("dynamodb", "GetItem"), ("dynamodb", "Query"), ("s3", "GetObject")}
_TRANSIENT = ("ThrottlingException", "InternalServerError", "ServiceUnavailable", "RequestLimitExceeded")


class Crash(BaseException):
    """The function died right after this call took effect."""


@dataclass
class FaultInjector:
    rng: random.Random
    fail_rate: float
    crash_rate: float
    enabled: bool = False
    failed: Counter[str] = field(default_factory=Counter)
    crashed: Counter[str] = field(default_factory=Counter)

    def before(self, model: Any, **_: Any) -> None:
        operation = (model.service_model.service_id.hyphenize(), model.name)
        if not self.enabled or (operation not in SIDE_EFFECTS and operation not in READS):
            return
        if self.rng.random() < self.fail_rate:
            self.failed[".".join(operation)] += 1
            if self.rng.random() < 0.3:
                raise EndpointConnectionError(endpoint_url=f"https://{operation[0]}.{REGION}.amazonaws.com")
            code = self.rng.choice(_TRANSIENT)
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, model.name)

    def after(self, model: Any, http_response: Any = None, parsed: Any = None, **_: Any) -> None:
        operation = (model.service_model.service_id.hyphenize(), model.name)
        if not self.enabled or operation not in SIDE_EFFECTS:
            return
        succeeded = http_response is not None and http_response.status_code < 300
        if succeeded and self.rng.random() < self.crash_rate:
            self.crashed[".".join(operation)] += 1
            raise Crash(".".join(operation))

    @contextmanager
    def paused(self) -> Iterator[None]:
        enabled, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = enabled

    @contextmanager
    def installed(self) -> Iterator[None]:
        events = boto3._get_default_session().events
        events.register("before-call", self.before, unique_id="chaos-before")
        events.register("after-call", self.after, unique_id="chaos-after")
        try:
            yield
        finally:
            events.unregister("before-call", unique_id="chaos-before")
            events.unregister("after-call", unique_id="chaos-after")


def survives_crashes(handler: LambdaHandler) -> LambdaHandler:
    """What Lambda sees when the function dies: a failed invocation (retried by its source)."""

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handler(event, context)
        except Crash as crash:
            raise RuntimeError(f"crashed after {crash}") from None

    return invoke


# --- the orders ---------------------------------------------------------------------------------

VENDORS = ("V-BOOKS", "V-HOME", "V-PAPER")
CHANNELS = (["email"], ["email"], ["email"], ["sms"], ["portal"], ["sms", "email"])


@dataclass
class Plan:
    """What was written, and so what must come out."""

    versions: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    kind: dict[str, str] = field(default_factory=dict)


def _with_totals(order: dict[str, Any]) -> dict[str, Any]:
    totals = price_order(Order.model_validate(order)).totals
    order["totals"] = {name: getattr(totals, name) for name in order["totals"]}
    order["payment"]["amount_captured"] = totals.grand_total
    return order


def random_order(rng: random.Random, order_id: str, customer_index: int) -> dict[str, Any]:
    base = make_order(order_id=order_id)
    customer = base["customer"]
    customer["customer_id"] = f"CUST-{customer_index:05d}"
    customer["email"] = f"customer{customer_index}@example.com"
    customer["phone"] = f"+4477009{customer_index % 100000:05d}"
    customer["preferred_channels"] = list(rng.choice(CHANNELS))
    items = []
    for index in range(rng.randint(1, 3)):
        price = Decimal(rng.randint(100, 20000)) / 100
        quantity = rng.randint(1, 5)
        items.append(
            {
                "sku": f"SKU-{index}",
                "description": f"Article {index} of {order_id}",
                "quantity": Decimal(quantity),
                "unit_price": price,
                "tax_rate": rng.choice([Decimal("0.05"), Decimal("0.23"), Decimal(0)]),
                "discount": Decimal(rng.randint(0, int(price * quantity * 10))) / 100
                if rng.random() < 0.3
                else Decimal(0),
                "vendor_id": rng.choice(VENDORS),
            }
        )
    base["items"] = items
    gross = sum((i["quantity"] * i["unit_price"] - i["discount"] for i in items), Decimal(0))
    code_amount = (gross * Decimal("0.1")).quantize(Decimal("0.01"))
    base["order_discounts"] = (
        [{"code": "TENOFF", "amount": code_amount}] if rng.random() < 0.4 and code_amount else []
    )
    return _with_totals(base)


def plan_orders(rng: random.Random, count: int) -> Plan:
    """Valid 60 %, invalid 10 %, completed later 10 %, edited after issue 10 %, corrected 10 %."""
    plan = Plan()
    for n in range(count):
        order_id = f"ORD-CHAOS-{n:06d}"
        order = random_order(rng, order_id, n)
        roll = rng.random()
        if roll < 0.6:
            plan.kind[order_id] = "valid"
            plan.versions[order_id] = [order]
        elif roll < 0.7:
            plan.kind[order_id] = "invalid"
            broken = copy.deepcopy(order)
            broken["items"][0]["quantity"] = Decimal(0)
            plan.versions[order_id] = [broken]
        elif roll < 0.8:
            plan.kind[order_id] = "completed-later"
            pending = copy.deepcopy(order) | {"status": "SHIPPED", "completed_at": None}
            plan.versions[order_id] = [pending, order]
        elif roll < 0.9:
            plan.kind[order_id] = "edited-after-issue"
            edited = copy.deepcopy(order)
            edited["items"][0]["unit_price"] += Decimal("1.00")
            edited["customer"]["name"] = "Edited After Issue"
            plan.versions[order_id] = [order, _with_totals(edited)]
        else:
            plan.kind[order_id] = "invalid-then-corrected"
            broken = copy.deepcopy(order)
            broken["totals"]["grand_total"] += Decimal("0.01")
            plan.versions[order_id] = [broken, order]
    return plan


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Figures:
    orders: Counter[str] = field(default_factory=Counter)
    stream_redeliveries: int = 0
    bus: list[dict[str, Any]] = field(default_factory=list)
    """Everything that reached the bus (drained as it comes: moto's SQS slows as a queue grows)."""
    duplicate_events: int = 0
    sweep_ticks: int = 0
    settled_by_ses: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


class ChaosRun:
    """Give it the provisioned names (with the vendors written and the settings loaded); `run`
    wires every function itself, after the fault hooks are on the session, so each of their
    clients carries them."""

    def __init__(
        self,
        aws: dict[str, str],
        *,
        seed: int,
        fail_rate: float = 0.04,
        crash_rate: float = 0.03,
        redelivery_rate: float = 0.1,
    ) -> None:
        self.aws = aws
        self.rng = random.Random(seed)  # reproducible chaos, not cryptography
        self.faults = FaultInjector(random.Random(seed + 1), fail_rate, crash_rate)
        self.redelivery_rate = redelivery_rate
        self.figures = Figures()
        self._dynamodb = boto3.client("dynamodb")  # the harness's own: created before the faults
        self._clock = datetime.now(UTC)
        self._digests: list[str] = []

    def _wire(self) -> None:
        self.pipeline = LocalPipeline.start(self.aws)
        self._sweeper = load_module("sla_sweeper")
        self._webhook = load_module("delivery_webhook")
        self._sns = LocalSns.create(self.aws["NOTIFICATION_TOPIC_ARNS"])
        self._webhook.certificates.preload(self._sns.certificate_url, self._sns.certificate_pem)
        self._sweeper.sweeper._clock = lambda: self._clock
        self._arm()

    def _arm(self) -> None:
        """Every function dies like a Lambda; every event may arrive twice."""
        self.pipeline.generator._handler = survives_crashes(self.pipeline.generator._handler)
        self.pipeline.outbox._handler = survives_crashes(self.pipeline.outbox._handler)
        for stage in self.pipeline.event_stages:
            stage.handler = self._twice_sometimes(survives_crashes(stage.handler))
        failures = self._sweeper.sweeper._stream_failures
        pending, postpone = failures.pending, failures.postpone
        # Time compression for SQS: a held or postponed batch is back within a second, not minutes.
        failures.pending = lambda max_batches=50, hold_seconds=300: pending(max_batches, 1)
        failures.postpone = lambda batch, seconds: postpone(batch, 0)

    def _twice_sometimes(self, handler: LambdaHandler) -> LambdaHandler:
        def deliver(event: dict[str, Any], context: Any) -> dict[str, Any]:
            result = handler(event, context)
            if self.rng.random() < self.redelivery_rate:  # EventBridge is at-least-once
                self.figures.duplicate_events += 1
                handler(event, context)
            return result

        return deliver

    def write(self, plan: Plan, version: int, order_ids: list[str]) -> None:
        for order_id in order_ids:
            versions = plan.versions[order_id]
            if version < len(versions):
                item = {k: _serializer.serialize(v) for k, v in versions[version].items() if v is not None}
                self._dynamodb.put_item(TableName=self.aws["ORDERS_TABLE_NAME"], Item=item)

    def run(self, plan: Plan, *, chunk: int = 100, progress: Callable[[str], None] | None = None) -> Figures:
        """Writes the orders a chunk at a time, as a storefront's traffic arrives, then their later
        versions (completions, corrections, edits after issue), all under faults."""
        started = time.perf_counter()
        self.figures.orders = Counter(plan.kind.values())
        order_ids = list(plan.versions)
        chunks = [order_ids[i : i + chunk] for i in range(0, len(order_ids), chunk)]
        with self.faults.installed():
            self._wire()
            self.faults.enabled = True
            for version in (0, 1):
                for number, ids in enumerate(chunks, start=1):
                    self.write(plan, version, ids)
                    self._pump()
                    if progress:
                        progress(
                            f"version {version + 1}/2, chunk {number}/{len(chunks)}, "
                            f"{time.perf_counter() - started:.0f} s"
                        )
            self.figures.seconds["with faults"] = time.perf_counter() - started
            for _ in range(3):  # sweeps keep meeting faults for a while
                self._tick()
                self._pump()
            self.faults.enabled = False
            self._play_ses()
            self._sweep_until_quiet()
        self.figures.seconds["total"] = time.perf_counter() - started
        return self.figures

    def _observe(self) -> None:
        from infra.local.provisioning import read_events

        with self.faults.paused():
            self.figures.bus += read_events(self.aws["EVENTS_OBSERVER_QUEUE_URL"])

    def _quiet(self) -> int:
        moved = self.pipeline.run_until_quiet(max_rounds=40)
        self._observe()
        return moved

    def _pump(self) -> None:
        self._quiet()
        delivered = self.pipeline.generator.delivered
        again = [r for r in delivered if self.rng.random() < self.redelivery_rate / 5]
        if again:
            self.figures.stream_redeliveries += len(again)
            self.pipeline.generator.deliver(again)
            self._quiet()

    def _tick(self) -> dict[str, Any]:
        self._clock += timedelta(hours=3)  # past every backoff
        self.figures.sweep_ticks += 1
        try:
            result: dict[str, Any] = self._sweeper.lambda_handler(
                scheduled_tick(), FakeLambdaContext(function_name="sla-sweeper")
            )
        except Crash:
            return {}
        except Exception:  # a failed tick: the next one is the retry (its failure queue in AWS)
            return {}
        return result

    def _sweep_until_quiet(self, max_ticks: int = 30) -> None:
        for _ in range(max_ticks):
            self._wait_for_held_batches()
            report = self._tick()
            moved = self._quiet()
            redriven = sum(kind.get("redriven", 0) for kind in report.get("kinds", {}).values())
            if report and not redriven and not moved:
                return
        raise AssertionError("the sweep never went quiet")

    def operations_digests(self) -> list[str]:
        """Everything operations received on the alarms topic (a queue stands in for their inbox)."""
        sqs = boto3.client("sqs")
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.aws["OPERATIONS_INBOX_QUEUE_URL"], MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return self._digests
            for message in messages:
                self._digests.append(message["Body"])
                sqs.delete_message(
                    QueueUrl=self.aws["OPERATIONS_INBOX_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
                )

    def _wait_for_held_batches(self) -> None:
        """A failed-batch message a tick received is hidden for a second (see `_arm`)."""
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.aws["GENERATOR_ON_FAILURE_QUEUE_URL"],
            AttributeNames=["ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if int(attributes["ApproximateNumberOfMessagesNotVisible"]):
            time.sleep(1.05)

    def _play_ses(self) -> None:
        """SES's configuration-set events through the real webhook, as SNS would post them: Send
        (which carries the message tags) and Delivery, for every email we hold no record of sending
        (the sends in doubt), and for a sample of the others (which change nothing or mark them
        delivered). Posting them for every email would only load-test the webhook."""
        from moto.ses.models import ses_backends

        recorded = {
            i["pk"].removeprefix("MESSAGE#") for i in _items(self.aws) if i["pk"].startswith("MESSAGE#")
        }
        for message in list(ses_backends[ACCOUNT_ID][REGION].sent_messages):
            if message.id in recorded and self.rng.random() > 0.1:
                continue
            raw = message.raw_data.encode() if isinstance(message.raw_data, str) else message.raw_data
            subject = _subject(raw)
            number = next(
                word for word in subject.split() if word.startswith(("INV-", "VND-", "CN-", "VCN-"))
            )
            recipient = message.destinations[0]
            tags = {"invoice_number": number, "delivery": delivery_tag(Channel.EMAIL, recipient)}
            for event in (ses_send(message.id, recipient, tags), ses_delivery(message.id, recipient, tags)):
                body = self._post(self._sns.notification(event))
                self.figures.settled_by_ses += int(body.get("settled_in_doubt", False))

    def _post(self, notification: dict[str, Any]) -> dict[str, Any]:
        event = http_api_event("POST", "/webhooks/ses", {}, "/webhooks/ses", {})
        event["body"] = json.dumps(notification)
        for _ in range(5):  # SNS retries a 5xx
            try:
                answer = self._webhook.lambda_handler(event, FakeLambdaContext(function_name="webhook"))
            except Exception:
                continue
            if answer["statusCode"] == 200:
                body: dict[str, Any] = json.loads(answer["body"])
                return body
        raise AssertionError("the webhook never took a notification")


# --- the invariants ------------------------------------------------------------------------------


def _items(aws: dict[str, str]) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": aws["INVOICES_TABLE_NAME"]}
    while True:  # the test reads everything; the product never scans
        page = client.scan(**params)
        items += [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def check_invariants(aws: dict[str, str], plan: Plan, run: ChaosRun) -> dict[str, Any]:
    """Every guarantee of issue 8; raises AssertionError naming the first one broken."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    items = _items(aws)
    by_key = {(i["pk"], i["sk"]): i for i in items}
    invoices = [i for i in items if i["sk"] == "INVOICE"]
    problems: list[str] = []

    # One invoice per valid order, from one of the versions written, with exactly its figures.
    documents = DocumentStore(aws["INVOICE_BUCKET_NAME"])
    claims = {
        i["pk"].removeprefix("ORDER#"): i["invoice_number"] for i in items if i["sk"] == "CUSTOMER_INVOICE"
    }
    for order_id, kind in plan.kind.items():
        if kind == "invalid":
            if order_id in claims:
                problems.append(f"{order_id} is invalid but was invoiced")
            failure = by_key.get((f"ORDER#{order_id}", "VALIDATION_FAILURE"))
            if not failure or failure["status"] != "OPEN":
                problems.append(f"{order_id} is invalid but has no open failure record")
            continue
        if order_id not in claims:
            problems.append(f"{order_id} ({kind}) has no invoice")
            continue
        record = by_key[(f"INVOICE#{claims[order_id]}", "INVOICE")]
        document = parse_document(
            documents.get_verified(
                record["document_key"], record.get("document_version_id"), record["document_sha256"]
            )
        )
        documents.get_verified(record["s3_key"], record.get("s3_version_id"), record["sha256"])
        fingerprints = {order_fingerprint(v): v for v in plan.versions[order_id]}
        source = fingerprints.get(document.order.source_sha256)  # type: ignore[union-attr]
        if source is None:
            problems.append(f"{order_id}: the invoice was made from no version the storefront wrote")
        elif kind == "edited-after-issue" and source is not plan.versions[order_id][-1]:
            problems.append(f"{order_id}: edited after issue, but its current invoice is not corrected")
        elif price_order(Order.model_validate(source)).totals.grand_total != document.totals.grand_total:  # type: ignore[union-attr]
            problems.append(f"{order_id}: the invoice's total is not its version's")
        if kind == "invalid-then-corrected":
            failure = by_key.get((f"ORDER#{order_id}", "VALIDATION_FAILURE"))
            if failure and failure["status"] != "RESOLVED":
                problems.append(
                    f"{order_id} was corrected and invoiced, but its failure is still {failure['status']}"
                )

    # Every number issued, contiguous per series; nothing stuck NUMBERED or STORED.
    for series in ("INV", "VND", "CN", "VCN"):
        numbers = sorted(
            int(i["invoice_number"].rsplit("-", 1)[1])
            for i in invoices
            if i["invoice_number"].startswith(series)
        )
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(
                f"{series} numbers are not contiguous: {len(numbers)} issued, "
                f"highest {numbers[-1] if numbers else 0}"
            )
    stuck = [i["invoice_number"] for i in invoices if i["status"] != "ISSUED"]
    if stuck:
        problems.append(f"invoices never issued: {stuck[:5]}")

    # One vendor invoice per order and vendor, all issued, their PDFs and documents intact.
    vendor_claims = Counter((i["pk"], i["sk"]) for i in items if i["sk"].startswith("VENDOR_INVOICE#"))
    for order_id, number in claims.items():
        record = by_key[(f"INVOICE#{number}", "INVOICE")]
        customer_document = parse_document(
            documents.get_verified(
                record["document_key"], record.get("document_version_id"), record["document_sha256"]
            )
        )
        for vendor_id in customer_document.vendor_ids:  # type: ignore[union-attr]
            if vendor_claims[(f"ORDER#{order_id}", f"VENDOR_INVOICE#{vendor_id}")] != 1:
                problems.append(f"{order_id}: vendor {vendor_id} has no invoice")
    for invoice in invoices:
        if invoice["kind"] == "VENDOR" and invoice["status"] == "ISSUED":
            documents.get_verified(
                invoice["document_key"], invoice.get("document_version_id"), invoice["document_sha256"]
            )
            documents.get_verified(invoice["s3_key"], invoice.get("s3_version_id"), invoice["sha256"])

    # At most one message per invoice, channel and recipient; every invoice sent, listed, or in doubt
    # and surfaced to operations; no send silently repeated.
    emails: Counter[tuple[str, str]] = Counter()
    for message in ses_backends[ACCOUNT_ID][REGION].sent_messages:
        raw = message.raw_data.encode() if isinstance(message.raw_data, str) else message.raw_data
        subject = _subject(raw)
        number = next(word for word in subject.split() if word.startswith(("INV-", "VND-", "CN-", "VCN-")))
        emails[(number, message.destinations[0])] += 1
    texts: Counter[tuple[str, str]] = Counter()
    for phone, text in sns_backends[ACCOUNT_ID][REGION].sms_messages.values():
        number = next(word.rstrip(",") for word in text.split() if word.startswith(("INV-", "CN-")))
        texts[(number, phone)] += 1
    repeated = [key for key, count in (emails + texts).items() if count > 1]
    if repeated:
        problems.append(f"sent more than once: {repeated[:5]}")
    deliveries = defaultdict(list)
    for item in items:
        if item["sk"].startswith("DELIVERY#"):
            deliveries[item["pk"].removeprefix("INVOICE#")].append(item)
    in_doubt = []
    records = {i["invoice_number"]: i for i in invoices}
    for invoice in invoices:
        number = invoice["invoice_number"]
        credited = records.get(invoice.get("credits_invoice_number") or "", {})
        if invoice["kind"] in {"CREDIT_NOTE", "VENDOR_CREDIT_NOTE"} and credited.get("replaced_by"):
            continue  # sent in one message with the revised invoice, whose delivery is checked
        statuses = {d["status"] for d in deliveries[number]}
        if invoice.get("delivery_status") == "LISTED" or statuses & {"SENT", "DELIVERED"}:
            continue
        if "SENDING" in statuses:
            in_doubt.append(number)
            for claim in (d for d in deliveries[number] if d["status"] == "SENDING"):
                if claim.get("sweep_kind") != "DELIVERY_IN_DOUBT":
                    problems.append(f"{number}: a send in doubt is not in front of operations")
            continue
        problems.append(f"{number} was neither sent, listed nor surfaced as in doubt ({sorted(statuses)})")

    # Every announcement published (at least once); each validation verdict announced exactly once.
    unpublished = [
        (i["pk"], i["sk"]) for i in items if i["sk"].startswith("OUTBOX#") and "published_at" not in i
    ]
    if unpublished:
        problems.append(f"announcements never published: {unpublished[:3]}")
    run._observe()
    bus = run.figures.bus
    announcements: dict[str, Counter[str]] = defaultdict(Counter)
    for event in bus:
        ids = [r for r in event.get("resources", []) if r.startswith("announcement/")]
        if ids:
            announcements[event["detail-type"]][ids[0]] += 1
    distinct_failures: dict[str, set[str]] = defaultdict(set)
    for event in bus:
        if event["detail-type"] == "InvoiceValidationFailed":
            ids = [r for r in event["resources"] if r.startswith("announcement/")]
            distinct_failures[event["detail"]["order_id"]].update(ids)
    for order_id, kind in plan.kind.items():
        count = len(distinct_failures.get(order_id, set()))
        if kind == "invalid" and count != 1:
            problems.append(f"{order_id} is invalid and was announced {count} times")
        if kind != "invalid" and kind != "invalid-then-corrected" and count:
            problems.append(f"{order_id} is valid but was announced as failed")
    announced_kinds = ("InvoiceIssued", "CreditNoteIssued")
    issued_ids = {e["detail"]["invoice_number"] for e in bus if e["detail-type"] in announced_kinds}
    missing = [
        i["invoice_number"]
        for i in invoices
        if i["status"] == "ISSUED" and i["invoice_number"] not in issued_ids
    ]
    if missing:
        problems.append(f"issued but never announced: {missing[:5]}")

    # What is left in doubt was put in front of operations (their digest names each invoice).
    digests = run.operations_digests()
    for number in in_doubt:
        if not any(number in digest for digest in digests):
            problems.append(f"{number}: its send in doubt never reached the operations digest")

    if problems:
        raise AssertionError("\n".join(problems[:40]))
    copies = sum(sum(c.values()) for c in announcements.values())
    distinct = sum(len(c) for c in announcements.values())
    return {
        "orders": dict(run.figures.orders),
        "invoices issued": sum(1 for i in invoices if i["kind"] == "CUSTOMER"),
        "vendor invoices issued": sum(1 for i in invoices if i["kind"] == "VENDOR"),
        "rejected (open failures)": sum(
            1 for i in items if i["sk"] == "VALIDATION_FAILURE" and i["status"] == "OPEN"
        ),
        "faults injected before calls": dict(run.faults.failed.most_common()),
        "crashes after side effects": dict(run.faults.crashed.most_common()),
        "stream records redelivered": run.figures.stream_redeliveries,
        "events delivered twice": run.figures.duplicate_events,
        "dead letters (then re-driven by the sweep)": len(run.pipeline.dead_letters),
        "sweep ticks": run.figures.sweep_ticks,
        "emails sent": sum(emails.values()),
        "texts sent": sum(texts.values()),
        "sends in doubt settled by SES events": run.figures.settled_by_ses,
        "sends in doubt left for operations": len(in_doubt),
        "announcements (distinct / copies on the bus)": f"{distinct} / {copies}",
        "seconds": {k: round(v, 1) for k, v in run.figures.seconds.items()},
        "digest": hashlib.sha256(json.dumps(sorted(claims.items())).encode()).hexdigest()[:12],
    }


def print_figures(figures: dict[str, Any], out: Callable[[str], None] = print) -> None:
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        out(f"  {key:<{width}}  {value}")


def _subject(raw: bytes) -> str:
    """The Subject header unfolded (a long one is written on several lines)."""
    return str(message_from_bytes(raw, policy=email_policy.default)["Subject"])
