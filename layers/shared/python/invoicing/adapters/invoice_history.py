"""Reading an invoice's history for its timeline (domain/timeline.py): one Query of the invoice's
partition (its deliveries, downloads, payments, reminders and resends live there), its credit notes,
and the corrections and inquiries recorded under its order. Cost follows the invoice's own history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3

from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord, from_item, order_pk
from invoicing.domain.money import plain_amount
from invoicing.domain.personal_data import mask_email
from invoicing.domain.timeline import TimelineEntry, TimelineKind, ordered


def _masked(channel: str, recipient: str) -> str:
    if channel.lower() == "email":
        return mask_email(recipient) or "***"
    return f"***{recipient[-3:]}" if recipient else "***"


class InvoiceHistory:
    def __init__(self, table_name: str, ledger: InvoiceLedger, client: Any | None = None) -> None:
        self._table = table_name
        self._ledger = ledger
        self._client = client or boto3.client("dynamodb")

    def timeline(self, record: InvoiceRecord) -> list[TimelineEntry]:
        entries = list(self._of_record(record))
        for item in self._partition(f"INVOICE#{record.invoice_number}"):
            entries += list(self._of_item(item, record))
        for item in self._partition(order_pk(record.order_id), prefix="CORRECTION#"):
            entries += list(self._of_correction(item, record))
        for item in self._partition(order_pk(record.order_id), prefix="INQUIRY#"):
            entries += list(self._of_inquiry(item))
        return ordered(entries)

    def _partition(self, pk: str, prefix: str | None = None) -> Iterator[dict[str, Any]]:
        condition = "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else "")
        values: dict[str, Any] = {":pk": {"S": pk}}
        if prefix:
            values[":prefix"] = {"S": prefix}
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        while True:
            page = self._client.query(**params)
            for item in page["Items"]:
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _of_record(self, record: InvoiceRecord) -> Iterator[TimelineEntry]:
        total = f"{plain_amount(record.grand_total, record.currency)} {record.currency}"
        what = {"CUSTOMER": "invoice", "VENDOR": "vendor invoice"}.get(record.kind.value, "document")
        yield TimelineEntry(
            at=record.issued_at,
            kind=TimelineKind.ISSUED,
            text=f"{record.invoice_number} issued: {what} of {total} for order {record.order_id}"
            + (f", replacing {record.replaces}" if record.replaces else ""),
            reference=record.invoice_number,
        )
        for number in record.credit_notes:
            note = self._ledger.get_invoice(number)
            if note is not None:
                credited = f"{plain_amount(note.grand_total, note.currency)} {note.currency}"
                yield TimelineEntry(
                    at=note.issued_at,
                    kind=TimelineKind.CREDITED,
                    text=f"credited {credited} by credit note {number}",
                    reference=number,
                )
        if record.replaced_by:
            revised = self._ledger.get_invoice(record.replaced_by)
            yield TimelineEntry(
                at=revised.issued_at if revised else record.issued_at,
                kind=TimelineKind.REPLACED,
                text=f"replaced by revised invoice {record.replaced_by}",
                reference=record.replaced_by,
            )

    def _of_item(self, item: dict[str, Any], record: InvoiceRecord) -> Iterator[TimelineEntry]:
        sk = str(item["sk"])
        if sk.startswith("DELIVERY#"):
            yield from _of_delivery(item)
        elif sk.startswith("DOWNLOAD#"):
            yield TimelineEntry(
                at=_when(item["downloaded_at"]),
                kind=TimelineKind.DOWNLOADED,
                text="downloaded through a signed link",
            )
        elif sk.startswith("PAYMENT#"):
            payment = json.loads(item["payment"])
            yield TimelineEntry(
                at=_when(payment["recorded_at"]),
                kind=TimelineKind.PAYMENT,
                text=f"{payment['kind']} of {payment['amount']} {payment['currency']}: {payment['outcome']}, "
                f"now {payment.get('payment_state')}, balance {payment.get('balance_due')}",
                reference=payment["event_id"],
            )
        elif sk.startswith("REMINDER#") and item.get("sent_at"):
            yield TimelineEntry(
                at=_when(item["sent_at"]),
                kind=TimelineKind.REMINDER,
                text=f"payment reminder ({item.get('stage')}) {str(item.get('status', '')).lower()} "
                f"by {item.get('channel')}",
            )
        elif sk.startswith("RESEND#"):
            channel = str(item.get("channel", "email"))
            to = _masked(channel, str(item.get("sent_to") or item.get("recipient", "")))
            yield TimelineEntry(
                at=_when(item.get("sent_at") or item["requested_at"]),
                kind=TimelineKind.RESENT,
                text=f"resent by {channel} to {to} at the "
                f"request of {item.get('requested_by')} ({str(item.get('status', 'REQUESTED')).lower()})",
                reference=str(item.get("request_id")),
            )
        del record

    def _of_correction(self, item: dict[str, Any], record: InvoiceRecord) -> Iterator[TimelineEntry]:
        if item.get("invoice_number") != record.invoice_number or not item.get("discovered_at"):
            return
        made = [n for n in (item.get("credit_note_number"), item.get("revised_invoice_number")) if n]
        outcome = ", ".join(str(n) for n in made) or str(item.get("status", "")).lower()
        who = f" by {item['requested_by']}" if item.get("requested_by") else ""
        yield TimelineEntry(
            at=_when(item["discovered_at"]),
            kind=TimelineKind.CORRECTION,
            text=f"correction ({str(item.get('reason', '')).lower()}){who}: {outcome}",
            reference=str(item.get("correction_id")),
        )

    def _of_inquiry(self, item: dict[str, Any]) -> Iterator[TimelineEntry]:
        yield TimelineEntry(
            at=_when(item["opened_at"]),
            kind=TimelineKind.INQUIRY,
            text=f"inquiry {item.get('inquiry_id')} ({item.get('category')}): "
            f"{str(item.get('status', '')).lower()}",
            reference=str(item.get("inquiry_id")),
        )


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _of_delivery(item: dict[str, Any]) -> Iterator[TimelineEntry]:
    channel = str(item.get("channel", ""))
    to = _masked(channel, str(item.get("recipient", "")))
    if item.get("sent_at"):
        yield TimelineEntry(
            at=_when(item["sent_at"]),
            kind=TimelineKind.SENT,
            text=f"sent by {channel} to {to}",
            reference=str(item.get("provider_message_id") or ""),
        )
    for field, kind, words in (
        ("delivered_at", TimelineKind.DELIVERED, f"delivered to {to}'s mail server"),
        ("first_opened_at", TimelineKind.OPENED, "opened"),
        ("first_clicked_at", TimelineKind.CLICKED, "a link in it clicked"),
        ("listed_at", TimelineKind.LISTED, "listed in the customer's account"),
    ):
        if item.get(field):
            yield TimelineEntry(at=_when(item[field]), kind=kind, text=words)
    if item.get("bounced_at"):
        yield TimelineEntry(
            at=_when(item["bounced_at"]),
            kind=TimelineKind.BOUNCED,
            text=f"bounced: {item.get('bounce_reason', '')}",
        )
    if item.get("complained_at"):
        yield TimelineEntry(
            at=_when(item["complained_at"]), kind=TimelineKind.COMPLAINED, text="marked as spam"
        )
    if item.get("failed_at"):
        yield TimelineEntry(
            at=_when(item["failed_at"]),
            kind=TimelineKind.SEND_FAILED,
            text=f"refused by the provider: {item.get('failure_reason', '')}",
        )
