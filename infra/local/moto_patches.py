"""Four fixes to embedded DynamoDB (moto 5.2), for the local stack and the tests only.

moto's `TransactWriteItems` backs up every table it touches with `copy.deepcopy` before applying
the transaction, and on a cancelled transaction replaces the table with that copy. That costs
time in proportion to the table (about 0.8 s per transaction at 20,000 items), and the copy
carries a *new* stream shard: a stream reader holding an iterator of the old one never sees
another record. Real DynamoDB does neither. The patched version keeps the same semantics (all or
nothing, the same errors and cancellation reasons) but remembers only the items it changes and,
on cancellation, puts those back and drops the stream records the transaction wrote. And moto
runs two threads' transactions interleaved (one's rollback can put back an item the other just
wrote); DynamoDB isolates them, so here they run one at a time. And moto's UpdateItem of an item
that does not exist yet first stores the bare key, then applies the update to it in place, so
another thread's GetItem or Query can read an item with its key only (a new counter without its
`last_sequence`) or a transaction's writes before it is rolled back; in DynamoDB every item is
read whole and committed, so here each read and write runs one at a time with the transactions.

Nothing in the product depends on this: the Lambdas run against real DynamoDB in AWS.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

_PATCHED = "_saypro_item_level_transactions"


def _key_values(table: Any, key: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table: Any, hash_value: DynamoType, range_value: DynamoType | None, item: Any) -> None:
    """Put an item back as it was (or remove it), without writing a stream record."""
    if range_value is not None:
        if item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:  # noqa: PLR0912, PLR0915
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo: list[tuple[Any, DynamoType, DynamoType | None, Any]] = []
    stream_lengths: dict[str, tuple[Any, int]] = {}
    targets: set[tuple[str, str]] = set()

    def rollback() -> None:
        for table, hash_value, range_value, item in reversed(undo):
            _restore(table, hash_value, range_value, item)
        for shard, length in stream_lengths.values():
            del shard.items[length:]

    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for entry in transact_items:
        original_item: dict[str, Any] | None = None
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)

            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if condition is not None and not get_filter_expression(condition, names, values).expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                if table.stream_shard is not None and table_name not in stream_lengths:
                    stream_lengths[table_name] = (table.stream_shard, len(table.stream_shard.items))
                undo.append((table, *_key_values(table, key), copy.deepcopy(current)))
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as error:
            errors.append(("ConditionalCheckFailed", str(error.message), original_item))
        except Exception as error:
            errors.append((type(error).__name__, str(error), original_item))
    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)


_TRANSACTIONS = threading.RLock()
"""Reentrant: a transaction reads and writes its items through the (isolated) methods below."""

_ISOLATED = ("get_item", "put_item", "update_item", "delete_item", "query", "scan")


def _isolated_transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with _TRANSACTIONS:
        _transact_write_items(self, transact_items)


def _isolated(method: Any) -> Any:
    def run(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _TRANSACTIONS:
            return method(self, *args, **kwargs)

    return run


def apply() -> None:
    """Idempotent: replaces moto's TransactWriteItems, and isolates its reads and writes, once per process."""
    if getattr(DynamoDBBackend, _PATCHED, False):
        return
    DynamoDBBackend.transact_write_items = _isolated_transact_write_items  # type: ignore[method-assign]
    for name in _ISOLATED:
        setattr(DynamoDBBackend, name, _isolated(getattr(DynamoDBBackend, name)))
    setattr(DynamoDBBackend, _PATCHED, True)
