"""Seeded mutations of the sample orders through the generator on moto (600 in make test).

Whatever the storefront writes that DynamoDB stores: no record raises (so none is retried for
ever), no number is used up without an invoice, and every order due for an invoice ends either
invoiced or recorded with its codes, within the stores' limits. `FUZZ_ORDERS` and `FUZZ_SEED`
change the run (`make fuzz` runs 20,000).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from types import ModuleType
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from invoicing.domain.order import is_due_for_invoice
from invoicing.domain.validation import MAX_REPORTED_ISSUES, IssueCode
from tests.integration.test_generator_handler import generator, invoke  # noqa: F401 - the fixture
from tests.order_fuzzer import FuzzedOrder, OrderFuzzer
from tests.stream_events import stream_event, stream_record

FUZZ_ORDERS = int(os.environ.get("FUZZ_ORDERS", "600"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261202"))
BATCH = 25
EVENT_LIMIT = 256 * 1024
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def test_no_mutation_of_an_order_crashes_burns_a_number_or_is_lost(
    aws: dict[str, str],
    generator: ModuleType,  # noqa: F811
) -> None:
    dynamodb = boto3.client("dynamodb")
    fuzzed: list[FuzzedOrder] = []
    batch: list[dict[str, Any]] = []
    for order in OrderFuzzer(FUZZ_SEED).orders(FUZZ_ORDERS):
        image = {name: _serializer.serialize(value) for name, value in order.item.items()}
        dynamodb.put_item(TableName=aws["ORDERS_TABLE_NAME"], Item=image)  # DynamoDB takes it
        fuzzed.append(order)
        batch.append(stream_record("INSERT", order.item, keys={"order_id": order.key}))
        if len(batch) == BATCH:
            assert invoke(generator, stream_event(*batch)) == [], "a record raised"
            batch = []
    if batch:
        assert invoke(generator, stream_event(*batch)) == [], "a record raised"

    items = _scan(dynamodb, aws["INVOICES_TABLE_NAME"])
    invoices = {i["invoice_number"]: i for i in items if i["sk"] == "INVOICE"}
    claims = {i["pk"]: i["invoice_number"] for i in items if i["sk"] == "CUSTOMER_INVOICE"}
    failures = {i["order_id"]: i for i in items if i["sk"] == "VALIDATION_FAILURE"}
    counters = [i for i in items if str(i["pk"]).startswith("COUNTER#")]

    # Numbers: one per invoice, none used up, every invoice finished.
    assert sum(int(c["last_sequence"]) for c in counters) == len(invoices) == len(claims)
    assert {i["status"] for i in invoices.values()} <= {"ISSUED"}

    outcomes: Counter[str] = Counter()
    for order in fuzzed:
        invoiced = next((n for pk, n in claims.items() if invoices[n]["order_id"] == order.key), None)
        failure = failures.get(order.key)
        if not is_due_for_invoice(order.item):
            assert invoiced is None and failure is None, order.mutations
            outcomes["not due"] += 1
            continue
        assert (invoiced is None) != (failure is None), (order.key[:40], order.mutations)
        if invoiced is not None:
            # Invoiced only when the storefront's own figures are exactly ours.
            assert str(order.item["totals"]["grand_total"]) == str(invoices[invoiced]["grand_total"])
            outcomes["invoiced"] += 1
        else:
            assert failure is not None and failure["status"] == "OPEN"
            issues = failure["issues"]
            assert 0 < len(issues) <= MAX_REPORTED_ISSUES
            assert all(IssueCode(i["code"]) and i["message"] and i["field"] for i in issues)
            outcomes["recorded"] += 1

    # Announcements fit the bus.
    outbox = [i for i in items if str(i["sk"]).startswith("OUTBOX#")]
    assert outbox and max(len(json.dumps(i, default=str)) for i in outbox) < EVENT_LIMIT
    print(f"fuzzed {len(fuzzed)} orders (seed {FUZZ_SEED}): {dict(outcomes)}")
    assert outcomes["invoiced"] > FUZZ_ORDERS // 10 and outcomes["recorded"] > FUZZ_ORDERS // 4


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items += [{k: _deserializer.deserialize(v) for k, v in i.items()} for i in page["Items"]]
    return items
