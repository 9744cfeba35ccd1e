"""Seeded mutations of the sample orders: what a buggy or hostile storefront could write.

Every mutation is an item DynamoDB would store (it serializes, its key is a string of at most
2 KB, it weighs under 400 KB), because only those can reach the generator. About a third keep
the order valid but put odd text where the contract allows text (line breaks in names, ids in
any script, internationalized addresses) and re-derive the totals, so that the valid path is
fuzzed too, not only the refusals.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from boto3.dynamodb.types import TypeSerializer

from tests.conftest import with_derived_totals

SAMPLES = Path(__file__).parents[1] / "events" / "orders"
ITEM_LIMIT = 400_000
KEY_LIMIT = 2048
_serializer = TypeSerializer()

STRINGS = [
    "",
    " ",
    "\n",
    "Zoë\r\nBcc: victim@example.com",
    "Ü" * 3,
    "注文-0001",
    "山田太郎",
    "\x00",
    "a\u200bb",
    "<script>alert(1)</script>",
    "x" * 129,
    "x" * 501,
    "w" * 5_000,
    "n" * 80_000,
    "+48501234567",
    "0501 234 567",
    "zoe@bücher.de",
    "zoë@example.com",
    "zoe@" + "a" * 64 + ".de",
    "EUR",
    "XCG",
    "ANG",
    "XX",
    "UK",
    "COMPLETED",
    "CAPTURED",
    "1e5",
    "NaN",
    "2026-11-21T14:02:11",
    "2026-13-45T99:99:99Z",
    "true",
]
NUMBERS = [
    Decimal(0),
    Decimal(-1),
    Decimal(1),
    Decimal("0.001"),
    Decimal("0.5"),
    Decimal("1E+37"),
    Decimal("9" * 38),
    Decimal("1E-130"),
    Decimal("123456789012345678901234567890.12345678"),
    Decimal(1_000_001),
    Decimal("0.1234567"),
    Decimal("999999999999.99"),
]
OTHERS: list[Any] = [True, False, None, [], {}, [Decimal(1), "a"], {"a": Decimal(1)}, b"\x00\xff", {"a", "b"}]
ODD_KEYS = ["注文", "ORD-Ü", "O" * 130, "ORD-1\n", "Ö" * 1000, "ORD\u200b"]
TEXT_PATHS = [
    ("customer", "name"),
    ("customer", "billing_address", "line1"),
    ("customer", "billing_address", "city"),
    ("items", 0, "description"),
    ("items", 0, "sku"),
    ("customer", "email"),
    ("customer", "phone"),
    ("payment", "transaction_reference"),
    ("customer", "customer_id"),
]
VALID_TEXT = [
    "Zoë\r\nŁukasiewicz",
    "山田太郎",
    "José Núñez\tGarcía",
    "Ω" * 200,
    "<b>&amp;</b>",
    "zoe@bücher.de",
    "a.b+c@example.co.uk",
    "Ünïcödé",
    "z" * 128,
]


@dataclass(frozen=True)
class FuzzedOrder:
    key: str
    item: dict[str, Any]
    mutations: tuple[str, ...]


def samples() -> list[dict[str, Any]]:
    manifest = json.loads((SAMPLES / "manifest.json").read_text())
    return [
        json.loads((SAMPLES / entry["file"]).read_text(), parse_float=Decimal, parse_int=Decimal)
        for entry in manifest["orders"]
    ]


def storable(item: dict[str, Any]) -> bool:
    """Would DynamoDB store this as an Orders item (key, types, numbers, size)?"""
    key = item.get("order_id")
    if not isinstance(key, str) or not key or len(key.encode()) > KEY_LIMIT:
        return False
    try:
        image = {name: _serializer.serialize(value) for name, value in item.items()}
    except (TypeError, ValueError, ArithmeticError):
        return False
    return len(json.dumps(image, default=lambda raw: "b" * len(raw))) < ITEM_LIMIT


class OrderFuzzer:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._samples = samples()

    def orders(self, count: int) -> Iterator[FuzzedOrder]:
        keys: set[str] = set()  # one write per key, as each order is its own item
        made = 0
        while made < count:
            fuzzed = self._one(made)
            if fuzzed is not None and storable(fuzzed.item) and fuzzed.key not in keys:
                keys.add(fuzzed.key)
                made += 1
                yield fuzzed

    def _one(self, index: int) -> FuzzedOrder | None:
        rng = self._rng
        item = copy.deepcopy(rng.choice(self._samples))
        item["order_id"] = f"FUZZ-{index:05d}"
        if rng.random() < 0.35:
            return self._odd_but_valid(index, item)
        applied: list[str] = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            operation = rng.choice(self._operations)
            applied.append(operation(self, item))
        if rng.random() < 0.1:
            item["order_id"] = f"{rng.choice(ODD_KEYS)}-{index}"
            applied.append("odd key")
        return FuzzedOrder(key=item["order_id"], item=item, mutations=tuple(applied))

    def _odd_but_valid(self, index: int, item: dict[str, Any]) -> FuzzedOrder | None:
        try:
            with_derived_totals(item)
        except Exception:
            return None
        path = self._rng.choice(TEXT_PATHS)
        value = self._rng.choice(VALID_TEXT)
        _set(item, path, value)
        if self._rng.random() < 0.2:
            item["order_id"] = f"注文-{index}"
        return FuzzedOrder(key=item["order_id"], item=item, mutations=(f"odd text at {path}",))

    # --- the operations ------------------------------------------------------------------------

    def _replace_leaf(self, item: dict[str, Any]) -> str:
        path = self._random_path(item)
        value = self._random_value()
        _set(item, path, value)
        return f"replace {path}"

    def _delete(self, item: dict[str, Any]) -> str:
        path = self._random_path(item)
        if not path or path == ("order_id",):
            return "delete nothing"
        parent = _get(item, path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif isinstance(parent, list) and parent:
            parent.pop(path[-1] if isinstance(path[-1], int) and path[-1] < len(parent) else 0)
        return f"delete {path}"

    def _grow(self, item: dict[str, Any]) -> str:
        lines = item.get("items")
        if not isinstance(lines, list) or not lines:
            return "grow nothing"
        size = self._rng.choice((0, 2, 50, 1001, 3000))
        line = copy.deepcopy(lines[0])
        if isinstance(line, dict) and self._rng.random() < 0.5:
            line["quantity"] = Decimal(0)
        item["items"] = [copy.deepcopy(line) for _ in range(size)]
        return f"items x {size}"

    def _retype(self, item: dict[str, Any]) -> str:
        name = self._rng.choice(("customer", "items", "payment", "totals", "shipping", "order_discounts"))
        item[name] = self._rng.choice([*OTHERS, "x", Decimal(1)])
        return f"retype {name}"

    _operations: ClassVar[list[Callable[[OrderFuzzer, dict[str, Any]], str]]] = [
        _replace_leaf,
        _replace_leaf,
        _replace_leaf,
        _delete,
        _grow,
        _retype,
    ]

    def _random_path(self, item: dict[str, Any]) -> tuple[Any, ...]:
        path: tuple[Any, ...] = ()
        node: Any = item
        while isinstance(node, dict | list) and node:
            step = self._rng.choice(list(node) if isinstance(node, dict) else range(len(node)))
            path += (step,)
            node = node[step]
            if self._rng.random() < 0.25:
                break
        return path or ("status",)

    def _random_value(self) -> Any:
        pool = self._rng.choice((STRINGS, NUMBERS, OTHERS))
        return copy.deepcopy(self._rng.choice(pool))


def _get(item: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        item = item[step]
    return item


def _set(item: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    parent: Any = item
    for step in path[:-1]:
        if isinstance(parent, dict):
            parent = parent.setdefault(step, {})
        elif isinstance(parent, list) and isinstance(step, int) and step < len(parent):
            parent = parent[step]
        else:
            return
    last = path[-1]
    if isinstance(parent, dict) or (
        isinstance(parent, list) and isinstance(last, int) and last < len(parent)
    ):
        parent[last] = value
