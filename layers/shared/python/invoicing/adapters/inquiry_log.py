"""The inquiry log in the Invoices table (domain/inquiries.py):

    INQUIRY#<id>            / INQUIRY                 the inquiry as it is now
    INQUIRY#<id>            / ACTION#<at>#<version>   the audit trail: who did what, when
    ORDER#<order_id>        / INQUIRY#<id>            the order's inquiries (the invoice's timeline)
    INQUIRIES#<yyyy-mm>     / <opened_at>#<id>        the month's inquiries (the log people work, the reports)

Every action writes the inquiry on condition of the version it was read at, its audit line, and
the two listings, in one transaction; opening and resolving are announced (outbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from invoicing.adapters.invoice_ledger import order_pk
from invoicing.adapters.outbox import outbox_put
from invoicing.domain.events import DetailType, InquiryChanged
from invoicing.domain.inquiries import ActionRecord, Inquiry, InquiryStatus


class InquiryConflict(RuntimeError):
    """Someone acted on the inquiry meanwhile: read it again."""


def _main_key(inquiry_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"INQUIRY#{inquiry_id}"}, "sk": {"S": "INQUIRY"}}


class InquiryLog:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def get(self, inquiry_id: str) -> Inquiry | None:
        if not inquiry_id.isascii() or len(inquiry_id) > 64:
            return None
        item = self._client.get_item(
            TableName=self._table, Key=_main_key(inquiry_id), ConsistentRead=True
        ).get("Item")
        return Inquiry.model_validate_json(item["inquiry"]["S"]) if item else None

    def actions(self, inquiry_id: str) -> list[ActionRecord]:
        page = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :action)",
            ExpressionAttributeValues={":pk": {"S": f"INQUIRY#{inquiry_id}"}, ":action": {"S": "ACTION#"}},
            ConsistentRead=True,
        )
        return [ActionRecord.model_validate_json(item["action"]["S"]) for item in page["Items"]]

    def month(self, month: str) -> list[Inquiry]:
        """The inquiries opened in a month (yyyy-mm), oldest first, as they are now."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"INQUIRIES#{month}"}},
        }
        found: list[Inquiry] = []
        while True:
            page = self._client.query(**params)
            found += [Inquiry.model_validate_json(item["inquiry"]["S"]) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def open(self, inquiry: Inquiry, opened: ActionRecord) -> Inquiry:
        """Record a new inquiry, or return the one this id already is (the same report again)."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    *self._items(inquiry, opened, condition="attribute_not_exists(pk)", values={}),
                    self._announce(DetailType.INQUIRY_OPENED, inquiry, opened.at),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            existing = self.get(inquiry.inquiry_id)
            if existing is None:
                raise
            return existing
        return inquiry

    def record(self, after: Inquiry, action: ActionRecord, read_version: int) -> Inquiry:
        items = self._items(
            after, action, condition="inquiry_version = :read", values={":read": {"N": str(read_version)}}
        )
        if after.status is InquiryStatus.RESOLVED:
            items.append(self._announce(DetailType.INQUIRY_RESOLVED, after, action.at))
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            raise InquiryConflict(after.inquiry_id) from error
        return after

    def _items(
        self, inquiry: Inquiry, action: ActionRecord, *, condition: str, values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        body = {"S": inquiry.model_dump_json()}
        main: dict[str, Any] = {
            "TableName": self._table,
            "Item": {
                **_main_key(inquiry.inquiry_id),
                "inquiry": body,
                "inquiry_version": {"N": str(inquiry.version)},
            },
            "ConditionExpression": condition,
        }
        if values:
            main["ExpressionAttributeValues"] = values
        listing = {
            "inquiry_id": {"S": inquiry.inquiry_id},
            "category": {"S": inquiry.category.value},
            "status": {"S": inquiry.status.value},
            "opened_at": {"S": inquiry.opened_at.isoformat()},
            "inquiry": body,
        }
        return [
            {"Put": main},
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"INQUIRY#{inquiry.inquiry_id}"},
                        "sk": {"S": f"ACTION#{action.at.isoformat()}#{inquiry.version:06d}"},
                        "action": {"S": action.model_dump_json()},
                    },
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": order_pk(inquiry.order_id)},
                        "sk": {"S": f"INQUIRY#{inquiry.inquiry_id}"},
                        **listing,
                    },
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"INQUIRIES#{inquiry.opened_at:%Y-%m}"},
                        "sk": {"S": f"{inquiry.opened_at.isoformat()}#{inquiry.inquiry_id}"},
                        **listing,
                    },
                }
            },
        ]

    def _announce(self, detail_type: DetailType, inquiry: Inquiry, now: datetime) -> dict[str, Any]:
        return outbox_put(
            self._table,
            f"INQUIRY#{inquiry.inquiry_id}",
            detail_type,
            InquiryChanged(
                inquiry_id=inquiry.inquiry_id,
                invoice_number=inquiry.invoice_number,
                order_id=inquiry.order_id,
                category=inquiry.category.value,
                status=inquiry.status.value,
                tier=inquiry.tier,
                opened_by_role=inquiry.opened_by_role,
                opened_at=inquiry.opened_at,
                resolution=inquiry.resolution.kind.value if inquiry.resolution else None,
                seconds_to_resolve=inquiry.seconds_to_resolve,
            ),
            resources=[f"inquiry/{inquiry.inquiry_id}", f"invoice/{inquiry.invoice_number}"],
            now=now,
        )
