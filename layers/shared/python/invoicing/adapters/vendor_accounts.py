"""Vendors' accounts: payouts in, balances, the month's entries, and the statements issued.

The item shapes are in adapters/vendor_entries.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from invoicing.adapters.outbox import outbox_put
from invoicing.adapters.vendor_entries import ACCOUNTS_PARTITION, account_items, entry_from_item, vendor_pk
from invoicing.domain.events import DetailType, VendorPayoutRecorded, VendorStatementIssued
from invoicing.domain.money import plain_amount
from invoicing.domain.vendor_accounts import AccountEntry, EntryKind, VendorPayout, VendorStatementDocument


class StatementRecord(BaseModel):
    """A statement issued: what it says in short, and where its PDF is."""

    model_config = ConfigDict(frozen=True)

    statement_id: str
    vendor_id: str
    currency: str
    period_start: str
    period_end: str
    opening_balance: Decimal
    closing_balance: Decimal
    s3_key: str
    sha256: str
    issued_at: datetime


class VendorAccounts:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    # --- payouts -------------------------------------------------------------------------------

    def record_payout(self, payout: VendorPayout, now: datetime) -> bool:
        """Enter the payout on the vendor's account, announced; False when recorded before."""
        amount = payout.money()
        entry = AccountEntry(
            kind=EntryKind.PAYOUT,
            reference=payout.payout_id,
            at=payout.paid_at,
            currency=payout.currency,
            amount=-amount,
            note=payout.reference,
        )
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"PAYOUT#{payout.payout_id}"},
                        "sk": {"S": "PAYOUT"},
                        "payout": {"S": payout.model_dump_json()},
                        "recorded_at": {"S": now.isoformat()},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *account_items(self._table, payout.vendor_id, entry),
            outbox_put(
                self._table,
                vendor_pk(payout.vendor_id),
                DetailType.VENDOR_PAYOUT_RECORDED,
                VendorPayoutRecorded(
                    payout_id=payout.payout_id,
                    vendor_id=payout.vendor_id,
                    currency=payout.currency,
                    amount=plain_amount(amount, payout.currency),
                    paid_at=payout.paid_at,
                    reference=payout.reference,
                    recorded_at=now,
                ),
                resources=[f"vendor/{payout.vendor_id}", f"payout/{payout.payout_id}"],
                now=now,
            ),
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    # --- reading -------------------------------------------------------------------------------

    def accounts(self) -> Iterator[tuple[str, str]]:
        """(vendor id, currency) of every account with an entry, in vendor order."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": ACCOUNTS_PARTITION}},
        }
        while True:
            page = self._client.query(**params)
            for item in page["Items"]:
                yield item["vendor_id"]["S"], item["currency"]["S"]
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def balances(self, vendor_id: str) -> dict[str, Decimal]:
        """Currency -> what the marketplace owes the vendor now."""
        page = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :balance)",
            ExpressionAttributeValues={":pk": {"S": vendor_pk(vendor_id)}, ":balance": {"S": "BALANCE#"}},
            ConsistentRead=True,
        )
        return {item["currency"]["S"]: Decimal(item["balance"]["N"]) for item in page["Items"]}

    def entries(
        self, vendor_id: str, currency: str, start: datetime, end: datetime | None = None
    ) -> list[AccountEntry]:
        """The entries from `start` (inclusive) to `end` (exclusive; None: up to now), oldest first."""
        upper = f"ENTRY#{currency}#{end.isoformat()}" if end else f"ENTRY#{currency}#~"
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": {"S": vendor_pk(vendor_id)},
                ":from": {"S": f"ENTRY#{currency}#{start.isoformat()}"},
                ":to": {"S": upper},
            },
            "ConsistentRead": True,
        }
        found: list[AccountEntry] = []
        while True:
            page = self._client.query(**params)
            found += [entry_from_item(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [e for e in found if e.at >= start and (end is None or e.at < end)]

    # --- statements ----------------------------------------------------------------------------

    def put_statement(
        self, document: VendorStatementDocument, s3_key: str, pdf: bytes, now: datetime
    ) -> StatementRecord:
        """Record the statement (listed in the vendor's API), announced for delivery. Making the
        same statement again overwrites its record and announces it again: the dispatcher sends
        each statement id once."""
        currency = document.currency
        record = StatementRecord(
            statement_id=document.statement_id,
            vendor_id=document.vendor.vendor_id,
            currency=currency,
            period_start=document.period_start.isoformat(),
            period_end=document.period_end.isoformat(),
            opening_balance=document.opening_balance,
            closing_balance=document.closing_balance,
            s3_key=s3_key,
            sha256=hashlib.sha256(pdf).hexdigest(),
            issued_at=now,
        )
        body = {"S": record.model_dump_json()}
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": vendor_pk(record.vendor_id)},
                            "sk": {"S": f"STATEMENT#{record.period_start[:7]}#{currency}"},
                            "statement": body,
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"STATEMENT#{record.statement_id}"},
                            "sk": {"S": "STATEMENT"},
                            "statement": body,
                        },
                    }
                },
                outbox_put(
                    self._table,
                    vendor_pk(record.vendor_id),
                    DetailType.VENDOR_STATEMENT_ISSUED,
                    VendorStatementIssued(
                        statement_id=record.statement_id,
                        vendor_id=record.vendor_id,
                        currency=currency,
                        period_start=record.period_start,
                        period_end=record.period_end,
                        opening_balance=plain_amount(record.opening_balance, currency),
                        closing_balance=plain_amount(record.closing_balance, currency),
                        s3_key=s3_key,
                        sha256=record.sha256,
                        issued_at=now,
                    ),
                    resources=[f"vendor/{record.vendor_id}", f"statement/{record.statement_id}"],
                    now=now,
                ),
            ]
        )
        return record

    def statements_of(self, vendor_id: str) -> list[StatementRecord]:
        """The vendor's statements, newest first."""
        page = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :statement)",
            ExpressionAttributeValues={":pk": {"S": vendor_pk(vendor_id)}, ":statement": {"S": "STATEMENT#"}},
            ScanIndexForward=False,
        )
        return [StatementRecord.model_validate_json(item["statement"]["S"]) for item in page["Items"]]

    def statement(self, statement_id: str) -> StatementRecord | None:
        if not statement_id.isascii() or len(statement_id) > 200:
            return None
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"STATEMENT#{statement_id}"}, "sk": {"S": "STATEMENT"}}
        ).get("Item")
        return StatementRecord.model_validate_json(item["statement"]["S"]) if item else None
