"""Inputs the Orders table can hold but an invoice cannot: each is refused with its codes, before a
number is allocated, recorded and announced within the stores' limits, and nothing is lost."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any
from urllib.parse import unquote

import boto3
import pytest

from infra.local.provisioning import read_events
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.validation import MAX_REPORTED_ISSUES
from invoicing.services.invoice_issuing import Outcome
from tests.conftest import make_order, with_derived_totals
from tests.integration.test_invoice_issuing import FlakyRenderer, make_issuer

EVENT_LIMIT = 256 * 1024


def ledger(aws: dict[str, str]) -> InvoiceLedger:
    return InvoiceLedger(aws["INVOICES_TABLE_NAME"])


def with_order_id(order_id: str) -> dict[str, Any]:
    return make_order(order_id=order_id)


@pytest.mark.parametrize("order_id", ["ORD-Ü1", "注文-0001", "ORD 7/8?x=1&y"])
def test_an_order_id_in_any_script_is_invoiced_and_kept_whole(aws: dict[str, str], order_id: str) -> None:
    """S3 metadata is ASCII: these ids used to fail after numbering and stay NUMBERED for ever."""
    result = make_issuer(aws, FlakyRenderer()).issue(order_id, with_order_id(order_id))
    assert result.outcome is Outcome.ISSUED
    record = ledger(aws).get_invoice(result.invoice_number or "")
    assert record is not None and record.order_id == order_id
    head = boto3.client("s3").head_object(Bucket=aws["INVOICE_BUCKET_NAME"], Key=record.s3_key or "")
    assert unquote(head["Metadata"]["order-id"]) == order_id


@pytest.mark.parametrize("order_id", ["ORD-1\n2", "ORD-1\t", "ORD-\u200b1", "O" * 129])
def test_an_order_id_no_invoice_can_carry_is_refused_before_numbering(
    aws: dict[str, str], publish_outbox: Callable[[], int], order_id: str
) -> None:
    result = make_issuer(aws, FlakyRenderer()).issue(order_id, with_order_id(order_id))
    assert result.outcome is Outcome.REJECTED
    assert {(i.code.value, i.field) for i in result.issues} & {
        ("FIELD_INVALID", "order_id"),
        ("FIELD_TOO_LONG", "order_id"),
    }
    assert ledger(aws).last_sequence("INV", 2026) == 0
    failure = ledger(aws).get_validation_failure(order_id)
    assert failure is not None and failure.order_id == order_id
    assert publish_outbox() == 1


def test_an_order_whose_key_is_too_long_for_our_keys_is_still_recorded_and_announced(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    """The Orders table takes 2 KB of key; ORDER#<that> is more than DynamoDB takes."""
    order_id = "Ö" * 1000  # 2,000 bytes
    item = with_order_id(order_id)
    item["customer"]["customer_id"] = "C" * 300_000  # an index key: left out, not a failed write
    result = make_issuer(aws, FlakyRenderer()).handle_order_change("INSERT", order_id, None, item)
    assert result is not None and result.outcome is Outcome.REJECTED
    failure = ledger(aws).get_validation_failure(order_id)
    assert failure is not None and failure.order_id == order_id and failure.customer_id is None
    assert publish_outbox() == 1
    [event] = read_events(boto3_queue(aws))
    assert event["detail"]["order_id"] == order_id


def boto3_queue(aws: dict[str, str]) -> str:
    return aws["EVENTS_OBSERVER_QUEUE_URL"]


def test_thousands_of_problems_are_recorded_as_the_first_ones_and_a_count(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    """5,000 lines of quantity 0 gave 5,000 issues: over DynamoDB's 400 KB, nothing was recorded."""
    item = make_order()
    item["items"] = [{**item["items"][0], "sku": f"SKU-{i}", "quantity": D(0)} for i in range(5000)]
    result = make_issuer(aws, FlakyRenderer()).issue("ORD-1001", item)
    assert result.outcome is Outcome.REJECTED
    failure = ledger(aws).get_validation_failure("ORD-1001")
    assert failure is not None
    assert len(failure.issues) == MAX_REPORTED_ISSUES
    assert failure.issue_count is not None and failure.issue_count > 1000
    codes = [i.code.value for i in failure.issues]
    assert "TOO_MANY_ENTRIES" in codes and codes[-1] == "MORE_ISSUES"
    assert "QUANTITY_NOT_POSITIVE" in failure.issues[-1].message
    assert publish_outbox() == 1
    [event] = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert len(json.dumps(event)) < EVENT_LIMIT / 4
    assert event["detail"]["issue_count"] == failure.issue_count


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("customer", "name"), "N" * 300_000),
        (("customer", "billing_address", "line1"), "L" * 201),
        (("items", 0, "description"), "d" * 501),
        (("items", 0, "sku"), "S" * 65),
        (("payment", "transaction_reference"), "t" * 129),
        (("customer", "email"), "e" * 250 + "@example.com"),
    ],
)
def test_every_text_field_has_a_limit_refused_with_its_code(
    aws: dict[str, str], publish_outbox: Callable[[], int], path: tuple[Any, ...], value: str
) -> None:
    """A 300 KB name took 96 s to render and made InvoiceIssued too large to announce."""
    item = make_order()
    target: Any = item
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    result = make_issuer(aws, FlakyRenderer()).issue("ORD-1001", item)
    assert result.outcome is Outcome.REJECTED
    field = ".".join(str(p) for p in path).replace(".0.", "[0].")
    assert ("FIELD_TOO_LONG", field) in {(i.code.value, i.field) for i in result.issues}
    assert ledger(aws).last_sequence("INV", 2026) == 0
    assert publish_outbox() == 1
    [event] = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert len(json.dumps(event)) < 16 * 1024


def test_an_invoice_too_large_to_keep_is_refused_before_a_number_is_used(
    aws: dict[str, str], publish_outbox: Callable[[], int]
) -> None:
    """Within every field limit, 1,000 lines of incompressible text would not fit the ledger."""
    rng = random.Random(7)
    item = make_order(order_discounts=[], shipping=None)
    template = item["items"][0]
    item["items"] = [
        {
            **template,
            "sku": f"SKU-{i}",
            "description": "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(500)),
            "quantity": D(1),
            "unit_price": D("1.00"),
            "discount": D(0),
        }
        for i in range(1000)
    ]
    with_derived_totals(item)
    result = make_issuer(aws, FlakyRenderer()).issue("ORD-1001", item)
    assert result.outcome is Outcome.REJECTED
    assert [i.code.value for i in result.issues] == ["ORDER_TOO_LARGE"]
    assert ledger(aws).last_sequence("INV", 2026) == 0
    assert ledger(aws).find_by_order("ORD-1001") is None
    assert publish_outbox() == 1
