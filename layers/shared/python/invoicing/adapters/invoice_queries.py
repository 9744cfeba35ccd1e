"""Reading a party's invoices: the by-customer and by-vendor indexes, newest first, paginated.

A customer's index holds its invoices and its credit notes (a credit note carries the customer's
`customer_id`); a vendor's holds only its vendor invoices (no other record carries `vendor_id`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from invoicing.adapters.invoice_ledger import InvoiceRecord
from invoicing.domain.receivables import PaymentState

_deserializer = TypeDeserializer()
LIVE_STATES = frozenset(state.value for state in PaymentState)
INDEX_BY_ROLE = {"customer": ("by-customer", "customer_id"), "vendor": ("by-vendor", "vendor_id")}


class InvoiceQueries:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def list_for(
        self,
        role: str,
        party_id: str,
        *,
        limit: int,
        start_key: dict[str, Any] | None = None,
        order_id: str | None = None,
        payment_status: str | None = None,
        issued_from: date | None = None,
        issued_to: date | None = None,
        kind: str | None = None,
    ) -> tuple[list[InvoiceRecord], dict[str, Any] | None]:
        index, key = INDEX_BY_ROLE[role]
        condition = "#party = :party"
        values: dict[str, Any] = {":party": {"S": party_id}, ":issued": {"S": "ISSUED"}}
        if issued_from or issued_to:
            condition += " AND issued_at BETWEEN :from AND :to"
            values[":from"] = {"S": (issued_from or date.min).isoformat()}
            values[":to"] = {"S": f"{(issued_to or date.max).isoformat()}T23:59:59.999999+99:99"}
        filters = ["#status = :issued"]
        if order_id:
            filters.append("order_id = :order_id")
            values[":order_id"] = {"S": order_id}
        if payment_status in LIVE_STATES:
            # The live status (lower case), kept on the record by payments, credits and the tick.
            filters.append("payment_state = :payment_status")
            values[":payment_status"] = {"S": payment_status}
        elif payment_status:
            filters.append("payment_status = :payment_status")
            values[":payment_status"] = {"S": payment_status}
        names = {"#party": key, "#status": "status"}
        if kind:
            filters.append("#kind = :kind")
            names["#kind"] = "kind"
            values[":kind"] = {"S": kind}
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "FilterExpression": " AND ".join(filters),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            params["ExclusiveStartKey"] = start_key
        response = self._client.query(**params)
        records = [
            InvoiceRecord.model_validate({k: _deserializer.deserialize(v) for k, v in item.items()})
            for item in response.get("Items", [])
        ]
        return records, response.get("LastEvaluatedKey")

    def customers_at(self, contact_key: str) -> list[str]:
        """The customers invoiced at the email with this key (`CONTACT#` items)."""
        page = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CONTACT#{contact_key}"}},
            Limit=50,
        )
        return [item["customer_id"]["S"] for item in page.get("Items", [])]
