"""The Invoices table: invoice records, gapless numbering, one invoice per order, failures.

Item shapes (single table, keys `pk`/`sk`):
    INVOICE#<number>         / INVOICE              the invoice record
    ORDER#<order_id>         / CUSTOMER_INVOICE     claim: this order's invoice number
    ORDER#<order_id>         / VENDOR_INVOICE#<v>   claim: vendor v's invoice for this order
    ORDER#<order_id>         / VALIDATION_FAILURE   why the order could not be invoiced
    ORDER#<order_id>         / VENDOR_INVOICES      the vendor invoices the order is due
    COUNTER#<series>#<year>  / COUNTER              last sequence handed out
    <partition>              / OUTBOX#...           an announcement of a change (see outbox.py)

Numbering is gapless because a number is consumed only in the same transaction that creates the
invoice record and the order's claim: the counter moves from n to n+1 on condition it still is n,
the record and the claim are created on condition they do not exist. Either all three happen or
none, so concurrent generators and retries can neither skip nor repeat a number, and an order
that already has a claim keeps the number it was given.

The invoice document is frozen in that same transaction (gzip-compressed on the record, with its
SHA-256), so whatever happens to the order afterwards, the number is completed with exactly the
document it was allocated for. Once the document and PDF are stored in S3, the copy on the record
is dropped (at ISSUED); the record keeps the totals and the per-rate breakdown.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from invoicing.adapters.document_store import StoredDocument
from invoicing.adapters.outbox import outbox_put
from invoicing.adapters.sweep_attributes import SWEEP_ATTRIBUTES, sweep_attributes
from invoicing.adapters.vendor_entries import vendor_entry_items
from invoicing.domain.events import DetailType, InvoiceIssued, InvoiceValidationFailed
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.numbering import InvoiceNumber, counter_key
from invoicing.domain.pricing import TaxLine
from invoicing.domain.receivables import PaymentState, Receivable
from invoicing.domain.sla import SweepKind
from invoicing.domain.validation import ValidationIssue
from invoicing.domain.vendor_invoice import VendorInvoiceFailed

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

MAX_ALLOCATION_ATTEMPTS = 25


class NewInvoice(BaseModel):
    """What the generator knows before it has a number."""

    model_config = ConfigDict(frozen=True)

    kind: InvoiceKind
    order_id: str
    customer_id: str | None = None
    """Set on customer invoices only: it is the key of the customer's listing index."""
    vendor_id: str | None = None
    """Set on vendor invoices only: it is the key of the vendor's listing index."""
    customer_name: str
    """The billed party's name: the customer, or the vendor on a vendor invoice."""
    currency: str
    net_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    payment_status: str
    order_completed_at: datetime | None = None
    tax_lines: list[TaxLine] = []
    """The per-rate breakdown of the document (net, tax, gross per rate)."""
    replaces: str | None = None
    """A revised invoice: the invoice it replaces."""
    credits_invoice_number: str | None = None
    """A credit note: the invoice it credits."""
    amount_received: Decimal | None = None
    """A customer invoice: the money received for it when it was issued (captured, or a deposit);
    None on records from before payments were tracked (then its payment status says)."""
    due_date: date | None = None
    """A pay-later invoice: the last day to pay."""
    payment_reference: str | None = None
    """The order's payment transaction reference: payment events quoting it find this invoice."""
    contact_key: str | None = None
    """A customer invoice: the SHA-256 of the customer's email as billed (trimmed, lower case), so
    customer service can find invoices by email without the table holding the address twice."""
    amount_owed: Decimal | None = None
    """A vendor invoice: what it says is owed to the vendor; a vendor credit note: what it says is
    no longer owed. Entered on the vendor's account when it is issued (adapters/vendor_accounts.py)."""


DocumentFreezer = Callable[[str, datetime], bytes]
"""(invoice number, issue time) -> the document's bytes, frozen at allocation."""


class InvoiceRecord(NewInvoice):
    """The invoice as recorded in the Invoices table: numbered, then stored, then issued."""

    invoice_number: str
    status: InvoiceStatus
    issued_at: datetime
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_version_id: str | None = None
    sha256: str | None = None
    """Of the PDF."""
    document_sha256: str
    """Of the invoice document (JSON), fixed at allocation."""
    document_key: str | None = None
    document_version_id: str | None = None
    replaced_by: str | None = None
    """Superseded by this revised invoice (a credit note cancelled this one)."""
    credit_notes: list[str] = []
    """Every credit note against this invoice, oldest first."""
    credited_tax_lines: list[TaxLine] = []
    """What those credit notes credited together, per tax rate: never more than `tax_lines`."""
    credited_quantities: dict[str, int] = {}
    """Units of each line those credit notes credited (line index as text -> units): a return
    (`refunded_quantity` rising on the order) is credited for the units beyond these only."""
    credited_commission: Decimal = Decimal(0)
    """A vendor invoice: the commission its credit notes gave back."""
    credit_version: int = 0
    """Moves with every credit note, so two corrections can never both credit the same amount."""
    stored_at: datetime | None = None
    announced_at: datetime | None = None
    delivery_status: str | None = None
    """Set by delivery: SENT, LISTED, DELIVERED, BOUNCED, UNDELIVERABLE, REDELIVERING."""
    amount_refunded: Decimal = Decimal(0)
    """A customer invoice: the money refunded against it by payment events."""
    amount_transferred: Decimal = Decimal(0)
    """The money it kept when a revised invoice replaced it: that invoice received it."""
    payment_state: PaymentState | None = None
    """A customer invoice's live payment status (domain/receivables.py), kept for the listing's
    filter: set when it is numbered, by every payment event and credit note, and by the sweep on
    the day after its due date."""
    balance_due: Decimal | None = None
    payment_version: int = 0
    """Moves with every payment event applied, so two can never both apply to the same balance."""
    payment_events: int = 0
    disputed_amount: Decimal = Decimal(0)
    refund_credit_pending: Decimal = Decimal(0)
    """Refunded for what it bills, awaiting the credit note (the storefront's, or by amount)."""
    rendition_key: str | None = None
    """A later rendition of the PDF, saying what has been paid (services/payment_renditions.py);
    the links open it rather than the PDF as issued."""
    rendition_sha256: str | None = None
    rendition_version: int = 0
    """The payment version it shows: a newer payment makes a newer rendition."""

    def receivable(self) -> Receivable:
        """What the invoice billed, credited, received and refunded."""
        received = self.amount_received
        if received is None:  # recorded before payments were tracked: paid if it was captured
            received = self.grand_total if self.payment_status == "CAPTURED" else Decimal(0)
        return Receivable(
            currency=self.currency,
            total=self.grand_total,
            credited=sum((line.gross for line in self.credited_tax_lines), Decimal(0)),
            received=received,
            refunded=self.amount_refunded,
            transferred=self.amount_transferred,
            awaiting_credit=self.refund_credit_pending,
            due_date=self.due_date,
        )

    def is_owed(self, today: date) -> bool:
        """A customer invoice in force (issued, not replaced) still owed something today."""
        return (
            self.kind is InvoiceKind.CUSTOMER
            and self.status is InvoiceStatus.ISSUED
            and self.replaced_by is None
            and self.receivable().state(today).is_open
        )

    def pdf_in_force(self) -> tuple[str, str | None, str] | None:
        """(key, version, SHA-256) of the PDF its links and messages use: the newest rendition
        saying what has been paid, else the PDF as issued; None before it is stored."""
        if self.rendition_key and self.rendition_sha256:
            return self.rendition_key, None, self.rendition_sha256
        if self.s3_key and self.sha256:
            return self.s3_key, self.s3_version_id, self.sha256
        return None

    def live_payment_state(self, today: date) -> PaymentState | None:
        """None for what is not a customer invoice (credit notes, vendor documents)."""
        if self.kind is not InvoiceKind.CUSTOMER:
            return None
        return self.receivable().state(today)


class ValidationFailureRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str | None = None
    status: str
    issues: list[ValidationIssue]
    issue_count: int | None = None
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime


MAX_RECORD_BYTES = 350_000
"""What the invoice record may weigh with its compressed document: DynamoDB takes 400 KB an item."""


class InvoiceTooLarge(ValueError):
    """The invoice would not fit its ledger record; found before a number is allocated."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the invoice record would weigh {size:,} bytes, over {MAX_RECORD_BYTES:,}")
        self.size = size


class NumberAllocationError(RuntimeError):
    """The counter stayed contended for every attempt; the record is retried by the stream."""


_KEY_BYTES = 1024
"""DynamoDB takes 2,048 bytes of partition key; an order id the contract allows uses 512 at most."""


def order_pk(order_id: str) -> str:
    """The ledger's partition key of an order. An id too long for a key (the Orders table takes
    up to 2 KB, which the contract refuses) is keyed by its SHA-256, so the order's failure can
    still be recorded; its `order_id` attribute keeps it whole."""
    key = f"ORDER#{order_id}"
    if len(key.encode()) <= _KEY_BYTES:
        return key
    return f"ORDER#sha256:{hashlib.sha256(order_id.encode()).hexdigest()}"


def invoice_key_item(number: str) -> dict[str, Any]:
    return {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "INVOICE"}}


def claim_key(order_id: str, kind: InvoiceKind, vendor_id: str | None = None) -> dict[str, Any]:
    suffix = f"#{vendor_id}" if kind is InvoiceKind.VENDOR else ""
    return {"pk": {"S": order_pk(order_id)}, "sk": {"S": f"{kind.value}_INVOICE{suffix}"}}


def _failure_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": order_pk(order_id)}, "sk": {"S": "VALIDATION_FAILURE"}}


def counter_key_item(series: str, year: int) -> dict[str, Any]:
    return {"pk": {"S": f"COUNTER#{counter_key(series, year)}"}, "sk": {"S": "COUNTER"}}


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def iso(moment: datetime) -> str:
    return moment.isoformat()


class InvoiceLedger:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    # --- reading -------------------------------------------------------------------------------

    @property
    def table_name(self) -> str:
        return self._table

    def get_invoice(self, number: str) -> InvoiceRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=invoice_key_item(number), ConsistentRead=True
        )
        item = response.get("Item")
        return record_from_item(item) if item else None

    def find_by_order(
        self, order_id: str, kind: InvoiceKind = InvoiceKind.CUSTOMER, vendor_id: str | None = None
    ) -> InvoiceRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=claim_key(order_id, kind, vendor_id), ConsistentRead=True
        )
        claim = response.get("Item")
        if not claim:
            return None
        return self.get_invoice(claim["invoice_number"]["S"])

    def vendor_invoices_of(self, order_id: str) -> dict[str, InvoiceRecord]:
        """Vendor id -> the vendor invoice in force for the order (what its claim holds)."""
        paginator = self._client.get_paginator("query")
        claims: dict[str, str] = {}
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(order_id)},
                ":prefix": {"S": f"{InvoiceKind.VENDOR.value}_INVOICE#"},
            },
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                claims[item["sk"]["S"].split("#", 1)[1]] = item["invoice_number"]["S"]
        records = {vendor: self.get_invoice(number) for vendor, number in claims.items()}
        return {vendor: record for vendor, record in records.items() if record is not None}

    def last_sequence(self, series: str, year: int) -> int:
        response = self._client.get_item(
            TableName=self._table, Key=counter_key_item(series, year), ConsistentRead=True
        )
        item = response.get("Item")
        return int(item["last_sequence"]["N"]) if item else 0

    def get_validation_failure(self, order_id: str) -> ValidationFailureRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=_failure_key(order_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        return ValidationFailureRecord.model_validate(from_item(item))

    # --- numbering -----------------------------------------------------------------------------

    def allocate(self, new: NewInvoice, series: str, now: datetime, freeze: DocumentFreezer) -> InvoiceRecord:
        """Give the order its invoice number with its frozen document, or return the invoice it has.

        Optimistic: read the counter, then commit counter + record (with the document) + claim in
        one transaction on the condition that nobody moved the counter meanwhile; on contention
        read again.
        """
        for attempt in range(MAX_ALLOCATION_ATTEMPTS):
            # The claim's condition guards the first attempt; after a cancelled one, look for it.
            existing = self.find_by_order(new.order_id, new.kind, new.vendor_id) if attempt else None
            if existing:
                return existing
            current = self.last_sequence(series, now.year)
            number = str(InvoiceNumber(series=series, year=now.year, sequence=current + 1))
            document = freeze(number, now)
            record = with_payment_state(
                InvoiceRecord(
                    invoice_number=number,
                    status=InvoiceStatus.NUMBERED,
                    issued_at=now,
                    document_sha256=hashlib.sha256(document).hexdigest(),
                    **new.model_dump(),
                ),
                now.date(),
            )
            frozen = gzip.compress(document, mtime=0)
            size = len(frozen) + len(json.dumps(record_to_item(record)))
            if size > MAX_RECORD_BYTES:  # before any write: no number is used up for it
                raise InvoiceTooLarge(size)
            try:
                self._client.transact_write_items(
                    TransactItems=self._allocation_items(record, current, series, frozen)
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                # Contended counter, or another generator claimed this order: look again.
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 (jitter, not crypto)
                continue
            return record
        raise NumberAllocationError(f"could not allocate a number for order {new.order_id}")

    def _allocation_items(
        self, record: InvoiceRecord, current: int, series: str, frozen_document: bytes
    ) -> list[dict[str, Any]]:
        counter_update: dict[str, Any] = {
            "TableName": self._table,
            "Key": counter_key_item(series, record.issued_at.year),
            "UpdateExpression": "SET last_sequence = :next, updated_at = :now",
            "ExpressionAttributeValues": {
                ":next": {"N": str(current + 1)},
                ":now": {"S": iso(record.issued_at)},
            },
        }
        if current == 0:
            counter_update["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            counter_update["ConditionExpression"] = "last_sequence = :current"
            counter_update["ExpressionAttributeValues"][":current"] = {"N": str(current)}
        return [
            {"Update": counter_update},
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **invoice_key_item(record.invoice_number),
                        **record_to_item(record),
                        "frozen_document": {"B": frozen_document},
                        # In the sweep index until it is sent, listed or declared undeliverable.
                        **sweep_attributes(SweepKind.INVOICE_UNSENT, record.issued_at),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **claim_key(record.order_id, record.kind, record.vendor_id),
                        **to_item(
                            {
                                "order_id": record.order_id,
                                "invoice_number": record.invoice_number,
                                "claimed_at": iso(record.issued_at),
                            }
                        ),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]

    # --- completing an invoice -----------------------------------------------------------------

    def frozen_document(self, number: str) -> bytes | None:
        """The document bytes frozen at allocation; None once it is issued (then it is in S3)."""
        item = self._client.get_item(
            TableName=self._table,
            Key=invoice_key_item(number),
            ProjectionExpression="frozen_document",
            ConsistentRead=True,
        ).get("Item")
        if not item or "frozen_document" not in item:
            return None
        return gzip.decompress(item["frozen_document"]["B"])

    def mark_stored(
        self, number: str, *, pdf: StoredDocument, document: StoredDocument, stored_at: datetime
    ) -> None:
        """NUMBERED -> STORED with where both files are. Repeating it (a retry) overwrites the location."""
        values = {
            ":stored": {"S": InvoiceStatus.STORED.value},
            ":numbered": {"S": InvoiceStatus.NUMBERED.value},
            ":bucket": {"S": pdf.bucket},
            ":key": {"S": pdf.key},
            ":sha": {"S": pdf.sha256},
            ":version": {"S": pdf.version_id} if pdf.version_id else {"NULL": True},
            ":doc_key": {"S": document.key},
            ":doc_version": {"S": document.version_id} if document.version_id else {"NULL": True},
            ":doc_sha": {"S": document.sha256},
            ":at": {"S": iso(stored_at)},
        }
        try:
            self._client.update_item(
                TableName=self._table,
                Key=invoice_key_item(number),
                UpdateExpression=(
                    "SET #status = :stored, s3_bucket = :bucket, s3_key = :key, s3_version_id = :version, "
                    "sha256 = :sha, document_key = :doc_key, document_version_id = :doc_version, "
                    "stored_at = :at"
                ),
                # The document stored must be the one frozen at allocation.
                ConditionExpression="#status IN (:numbered, :stored) AND document_sha256 = :doc_sha",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            current = self.get_invoice(number)
            if current is None or current.document_sha256 != document.sha256:
                raise
            # Already ISSUED by a concurrent run: the stored files stand.

    def mark_issued(
        self, record: InvoiceRecord, announcement: InvoiceIssued, now: datetime, vendor_ids: list[str]
    ) -> bool:
        """STORED -> ISSUED with `InvoiceIssued` in the outbox, in one transaction.

        Keeps the announcement (the sweep re-drives delivery from it) and drops the record's copy of
        the document (it is in S3 now). For a customer invoice it also records the vendor invoices
        the order is due, so the sweep finds any that never get issued. False if already issued.
        """
        number = record.invoice_number
        credit_note = record.kind in (InvoiceKind.CREDIT_NOTE, InvoiceKind.VENDOR_CREDIT_NOTE)
        # A credit note issued with a revised invoice is delivered with that invoice (which stays in
        # the sweep index until sent): it leaves the index once issued. A credit note on its own (a
        # cancellation or refund) is delivered like an invoice, so it stays until sent or listed.
        with_revised = credit_note and announcement.replaced_by is not None
        leaves_sweep = f", {SWEEP_ATTRIBUTES}" if with_revised else ""
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": invoice_key_item(number),
                    "UpdateExpression": "SET #status = :issued, announced_at = :at, issued_event = :event "
                    f"REMOVE frozen_document{leaves_sweep}",
                    "ConditionExpression": "#status = :stored",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":issued": {"S": InvoiceStatus.ISSUED.value},
                        ":stored": {"S": InvoiceStatus.STORED.value},
                        ":at": {"S": iso(now)},
                        ":event": {"S": announcement.model_dump_json()},
                    },
                }
            },
            outbox_put(
                self._table,
                f"INVOICE#{number}",
                DetailType.CREDIT_NOTE_ISSUED if credit_note else DetailType.INVOICE_ISSUED,
                announcement,
                resources=_invoice_resources(record),
                now=now,
            ),
        ]
        items += self._payment_items(record, now)
        items += vendor_entry_items(self._table, record, now)
        if vendor_ids:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": order_pk(record.order_id)},
                            "sk": {"S": "VENDOR_INVOICES"},
                            "order_id": {"S": record.order_id},
                            "invoice_number": {"S": number},
                            "vendor_ids": {"L": [{"S": v} for v in vendor_ids]},
                            "status": {"S": "DUE"},
                            "order_completed_at": {"S": iso(record.order_completed_at)}
                            if record.order_completed_at
                            else {"NULL": True},
                            **sweep_attributes(SweepKind.VENDOR_INVOICES_DUE, now),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            current = self.get_invoice(number)
            if current is None or current.status is not InvoiceStatus.ISSUED:
                raise
            return False
        return True

    def set_rendition(self, number: str, key: str, sha256: str, version: int) -> bool:
        """Point the invoice at a rendition of `version`, unless one as new is there already."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=invoice_key_item(number),
                UpdateExpression="SET rendition_key = :key, rendition_sha256 = :sha, "
                "rendition_version = :version",
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(rendition_version) OR rendition_version < :version)",
                ExpressionAttributeValues={
                    ":key": {"S": key},
                    ":sha": {"S": sha256},
                    ":version": {"N": str(version)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _payment_items(self, record: InvoiceRecord, now: datetime) -> list[dict[str, Any]]:
        """A customer invoice issued: payment events quoting its order's transaction reference find
        it (a revised invoice takes the reference over), and one owed by a due date is reminded
        (due at once: the receivables function schedules its stages)."""
        if record.kind is not InvoiceKind.CUSTOMER:
            return []
        items: list[dict[str, Any]] = []
        reference = record.payment_reference
        if reference and len(reference.encode()) <= 1000:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"PAYREF#{reference}"},
                            "sk": {"S": "REFERENCE"},
                            "invoice_number": {"S": record.invoice_number},
                        },
                    }
                }
            )
        if record.contact_key and record.customer_id:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"CONTACT#{record.contact_key}"},
                            "sk": {"S": f"CUSTOMER#{record.customer_id}"},
                            "customer_id": {"S": record.customer_id},
                        },
                    }
                }
            )
        state = record.payment_state
        if record.due_date is not None and state is not None and state.is_open:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"INVOICE#{record.invoice_number}"},
                            "sk": {"S": "PAYMENT_DUE"},
                            "invoice_number": {"S": record.invoice_number},
                            "order_id": {"S": record.order_id},
                            "due_date": {"S": record.due_date.isoformat()},
                            **sweep_attributes(SweepKind.PAYMENT_DUE, now),
                        },
                    }
                }
            )
        return items

    def settle_vendor_invoices(
        self, order_id: str, numbers: list[str], now: datetime, against: str | None = None
    ) -> None:
        """Every vendor of the order has its invoice (or a recorded problem): out of the sweep index.

        `against` is the customer invoice the vendor invoices were made to agree with: if a
        correction made them due against a newer one meanwhile, they stay due."""
        condition, values = (
            "attribute_exists(pk)",
            {
                ":done": {"S": "DONE"},
                ":now": {"S": iso(now)},
                ":numbers": {"L": [{"S": n} for n in numbers]},
            },
        )
        if against is not None:
            condition += " AND invoice_number = :against"
            values[":against"] = {"S": against}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": order_pk(order_id)}, "sk": {"S": "VENDOR_INVOICES"}},
                UpdateExpression=f"SET #status = :done, settled_at = :now, vendor_invoice_numbers = :numbers "
                f"REMOVE {SWEEP_ATTRIBUTES}",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def get_invoice_and_announcement(self, number: str) -> tuple[InvoiceRecord | None, InvoiceIssued | None]:
        """The record and, once issued, its kept announcement, in one read (the sweep's re-drive)."""
        response = self._client.get_item(
            TableName=self._table, Key=invoice_key_item(number), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None, None
        event = item.get("issued_event", {}).get("S")
        return record_from_item(item), InvoiceIssued.model_validate_json(event) if event else None

    def issued_announcement(self, number: str) -> InvoiceIssued | None:
        """The `InvoiceIssued` detail the invoice was announced with (None until it is issued)."""
        item = self._client.get_item(
            TableName=self._table,
            Key=invoice_key_item(number),
            ProjectionExpression="issued_event",
            ConsistentRead=True,
        ).get("Item")
        if not item or "issued_event" not in item:
            return None
        return InvoiceIssued.model_validate_json(item["issued_event"]["S"])

    def reopen_undeliverable(self, number: str, announcement: InvoiceIssued, now: datetime) -> bool:
        """An undeliverable invoice gets another delivery attempt (its contact was corrected).

        The UNDELIVERABLE record leaves the sweep index (REOPENED), the invoice re-enters it as
        INVOICE_UNSENT and `InvoiceDeliveryDue` goes into the outbox, all in one transaction.
        True the first time only.
        """
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "UNDELIVERABLE"}},
                            "UpdateExpression": "SET #status = :reopened, reopened_at = :now "
                            f"REMOVE {SWEEP_ATTRIBUTES}",
                            "ConditionExpression": "#status = :open",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":reopened": {"S": "REOPENED"},
                                ":open": {"S": "OPEN"},
                                ":now": {"S": iso(now)},
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": invoice_key_item(number),
                            "UpdateExpression": "SET delivery_status = :redelivering, sweep_kind = :kind, "
                            "sweep_since = :now, sweep_due_at = :now "
                            "REMOVE sweep_attempts, reminded_at, warned_at",
                            "ExpressionAttributeValues": {
                                ":redelivering": {"S": "REDELIVERING"},
                                ":kind": {"S": SweepKind.INVOICE_UNSENT.value},
                                ":now": {"S": iso(now)},
                            },
                        }
                    },
                    outbox_put(
                        self._table,
                        f"INVOICE#{number}",
                        DetailType.INVOICE_DELIVERY_DUE,
                        announcement,
                        resources=[f"invoice/{number}", f"order/{announcement.order_id}"],
                        now=now,
                    ),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    # --- vendor problems -----------------------------------------------------------------------

    def record_vendor_problem(
        self, order_id: str, vendor_ids: list[str], message: str, now: datetime
    ) -> bool:
        """ORDER#<id> / VENDOR_PROBLEM, announced (`VendorInvoiceFailed`) in the same transaction
        when first recorded; a repeat only counts the attempt. True when first recorded."""
        key = {"pk": {"S": order_pk(order_id)}, "sk": {"S": "VENDOR_PROBLEM"}}
        announcement = VendorInvoiceFailed(
            order_id=order_id, vendor_ids=vendor_ids, code="VENDOR_UNKNOWN", message=message, failed_at=now
        )
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **key,
                                "order_id": {"S": order_id},
                                "code": {"S": "VENDOR_UNKNOWN"},
                                "vendor_ids": {"L": [{"S": v} for v in vendor_ids]},
                                "message": {"S": message},
                                "first_seen_at": {"S": iso(now)},
                                "last_seen_at": {"S": iso(now)},
                                "status": {"S": "OPEN"},
                                "attempts": {"N": "1"},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    outbox_put(
                        self._table,
                        order_pk(order_id),
                        DetailType.VENDOR_INVOICE_FAILED,
                        announcement,
                        resources=[f"order/{order_id}", *(f"vendor/{v}" for v in vendor_ids)],
                        now=now,
                    ),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET last_seen_at = :now ADD attempts :one",
                ExpressionAttributeValues={":now": {"S": iso(now)}, ":one": {"N": "1"}},
            )
            return False
        return True

    # --- validation failures -------------------------------------------------------------------

    def record_validation_failure(
        self,
        order_id: str,
        customer_id: str | None,
        issues: list[ValidationIssue],
        now: datetime,
        *,
        issue_count: int | None = None,
    ) -> tuple[ValidationFailureRecord, bool]:
        """Create or refresh the order's failure record; it stays OPEN until an invoice is issued.

        A new verdict (no open record, or other issues than the open one) is announced
        (`InvoiceValidationFailed`) in the same transaction that records it, so it can never be
        recorded and not announced; a repeated verdict only counts the attempt. Returns the record
        and whether this call announced it.
        """
        verdict = hashlib.sha256(
            json.dumps([issue.model_dump(mode="json") for issue in issues], sort_keys=True).encode()
        ).hexdigest()
        previous = self.get_validation_failure(order_id)
        attempts = (previous.attempts if previous else 0) + 1
        values: dict[str, Any] = {
            ":order_id": {"S": order_id},
            ":open": {"S": "OPEN"},
            ":issues": _serializer.serialize([issue.model_dump(mode="json") for issue in issues]),
            ":verdict": {"S": verdict},
            ":now": {"S": iso(now)},
            ":one": {"N": "1"},
            ":kind": {"S": SweepKind.VALIDATION_FAILURE.value},
            ":count": {"N": str(issue_count if issue_count is not None else len(issues))},
        }
        # customer_id is an index key: absent (not NULL) when the item did not even carry one.
        customer = ""
        if customer_id:
            customer, values[":customer_id"] = "customer_id = :customer_id, ", {"S": customer_id}
        update = {
            "TableName": self._table,
            "Key": _failure_key(order_id),
            "UpdateExpression": (
                f"SET order_id = :order_id, {customer}#status = :open, issues = :issues, "
                "issue_count = :count, verdict = :verdict, "
                "last_failed_at = :now, first_failed_at = if_not_exists(first_failed_at, :now), "
                "open_since = if_not_exists(open_since, :now), sweep_kind = :kind, "
                "sweep_since = if_not_exists(sweep_since, :now), "
                "sweep_due_at = if_not_exists(sweep_due_at, :now) "
                "ADD attempts :one"
            ),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
        }
        announcement = InvoiceValidationFailed(
            order_id=order_id,
            customer_id=customer_id,
            issues=issues,
            issue_count=issue_count if issue_count is not None else len(issues),
            attempts=attempts,
            failed_at=now,
        )
        announced = True
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            **update,
                            "ConditionExpression": "attribute_not_exists(pk) OR #status <> :open "
                            "OR attribute_not_exists(verdict) OR verdict <> :verdict",
                        }
                    },
                    outbox_put(
                        self._table,
                        order_pk(order_id),
                        DetailType.INVOICE_VALIDATION_FAILED,
                        announcement,
                        resources=[f"order/{order_pk(order_id).removeprefix('ORDER#')}"],
                        now=now,
                    ),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            # The same verdict is open and was announced with it: count the attempt only.
            self._client.update_item(**update)
            announced = False
        record = self.get_validation_failure(order_id)
        if record is None:  # pragma: no cover - just written
            raise LookupError(order_id)
        return record, announced

    def resolve_validation_failure(self, order_id: str, invoice_number: str, now: datetime) -> bool:
        """Close an open failure once the corrected order is invoiced. False if there was none."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_failure_key(order_id),
                UpdateExpression="SET #status = :resolved, resolved_at = :now, resolved_by = :number "
                f"REMOVE open_since, {SWEEP_ATTRIBUTES}",
                ConditionExpression="#status = :open",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":resolved": {"S": "RESOLVED"},
                    ":open": {"S": "OPEN"},
                    ":now": {"S": iso(now)},
                    ":number": {"S": invoice_number},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _invoice_resources(record: InvoiceRecord) -> list[str]:
    resources = [f"invoice/{record.invoice_number}", f"order/{record.order_id}"]
    for related in (record.replaces, record.credits_invoice_number):
        if related:
            resources.append(f"invoice/{related}")
    if record.vendor_id:
        resources.append(f"vendor/{record.vendor_id}")
    return resources


def contact_key_of(email: str | None) -> str | None:
    """How an email is looked up (never stored as such outside the document)."""
    if not email or not email.strip():
        return None
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def with_payment_state(record: InvoiceRecord, today: date) -> InvoiceRecord:
    """The record with its payment status and balance as its figures make them today."""
    state = record.live_payment_state(today)
    if state is None:
        return record
    return record.model_copy(update={"payment_state": state, "balance_due": record.receivable().balance_due})


def record_to_item(record: InvoiceRecord) -> dict[str, Any]:
    values = record.model_dump(mode="python")
    for name, value in list(values.items()):
        if isinstance(value, datetime):
            values[name] = iso(value)
        elif isinstance(value, date):
            values[name] = value.isoformat()
        elif hasattr(value, "value"):  # enums
            values[name] = value.value
    return to_item(values)


def record_from_item(item: Mapping[str, Any]) -> InvoiceRecord:
    return InvoiceRecord.model_validate(from_item(item))
