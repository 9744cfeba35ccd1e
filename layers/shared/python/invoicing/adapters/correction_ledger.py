"""Corrections in the Invoices table: a credit note, and a revised invoice, in one transaction.

Item shapes (beside those of `invoice_ledger.py`):
    ORDER#<order_id>  / CORRECTION#<id>   one correction of the order's invoice (its id is the
                                          invoice number and the order version it answers)

A correction is allocated all at once: the credit-note counter, the credit note's record with its
frozen document, the revised invoice's counter, record and frozen document, the order's claim
moved to the revised invoice, the credited invoice marked (credit notes, credited per rate and
per line, superseded), and the correction record. Either all of it happens or none, so both series stay
gapless, a redelivered edit finds the correction it made, and two corrections racing for one
invoice cannot both credit it: the invoice's `credit_version` must still be what was read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from invoicing.adapters.invoice_ledger import (
    MAX_RECORD_BYTES,
    InvoiceLedger,
    InvoiceRecord,
    InvoiceTooLarge,
    NewInvoice,
    claim_key,
    counter_key_item,
    from_item,
    invoice_key_item,
    iso,
    order_pk,
    record_to_item,
    to_item,
    with_payment_state,
)
from invoicing.adapters.outbox import outbox_put
from invoicing.adapters.sweep_attributes import SWEEP_ATTRIBUTES, sweep_attributes
from invoicing.domain.credit_note import CreditReason
from invoicing.domain.events import DetailType, InvoiceCorrectionRejected
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.numbering import InvoiceNumber
from invoicing.domain.pricing import TaxLine
from invoicing.domain.sla import SweepKind
from invoicing.domain.validation import ValidationIssue

MAX_ATTEMPTS = 25
ALLOCATED, REJECTED, SENT, UNCHANGED = "ALLOCATED", "REJECTED", "SENT", "UNCHANGED"


class CorrectionConflict(RuntimeError):
    """The invoice was credited or superseded meanwhile: plan again from the current invoice."""


class CorrectionRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    correction_id: str
    invoice_number: str
    """The invoice corrected."""
    reason: CreditReason
    status: str
    """ALLOCATED (credit note and any revised invoice numbered), SENT (the revised invoice, or the
    credit note alone, reached the customer), REJECTED (the changed order does not validate:
    nothing credited), UNCHANGED (compared, and nothing the invoice says differs, or nothing is left
    to credit: nothing to do, and `note` says which)."""
    discovered_at: datetime
    credit_note_number: str | None = None
    revised_invoice_number: str | None = None
    issues: list[ValidationIssue] = []
    sent_at: datetime | None = None
    note: str | None = None
    requested_by: str | None = None
    """Customer service: who asked for it (the agent's id), with why and the inquiry it answers."""
    requested_reason: str | None = None
    inquiry_id: str | None = None

    @property
    def delivered_document(self) -> str | None:
        """What the customer must receive: the revised invoice, or the credit note on its own."""
        return self.revised_invoice_number or self.credit_note_number


class BillingOverride(BaseModel):
    """Customer service's correction of an order's billed name or address (ORDER#<id> /
    BILLING_OVERRIDE): laid over the order item whenever the order is compared with its invoice,
    so a later storefront change does not undo it."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    billing_address: dict[str, Any] | None = None

    def merged(self, newer: BillingOverride) -> BillingOverride:
        return BillingOverride(
            name=newer.name if newer.name is not None else self.name,
            billing_address=newer.billing_address
            if newer.billing_address is not None
            else self.billing_address,
        )

    def applied_to(self, order_item: Mapping[str, Any]) -> dict[str, Any]:
        customer = order_item.get("customer")
        customer = dict(customer) if isinstance(customer, Mapping) else {}
        if self.name is not None:
            customer["name"] = self.name
        if self.billing_address is not None:
            customer["billing_address"] = dict(self.billing_address)
        return {**order_item, "customer": customer}


class AllocatedCorrection(BaseModel):
    model_config = ConfigDict(frozen=True)

    correction: CorrectionRecord
    credit_note: InvoiceRecord
    revised: InvoiceRecord | None


CreditNoteFreezer = Callable[[str, datetime, str | None], bytes]
"""(credit note number, issue time, revised invoice number or None) -> the credit note's bytes."""
RevisedFreezer = Callable[[str, datetime], bytes]
"""(revised invoice number, issue time) -> the revised invoice's bytes."""


def _correction_key(order_id: str, correction_id: str) -> dict[str, Any]:
    return {"pk": {"S": order_pk(order_id)}, "sk": {"S": f"CORRECTION#{correction_id}"}}


def _override_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": order_pk(order_id)}, "sk": {"S": "BILLING_OVERRIDE"}}


class CorrectionLedger:
    def __init__(self, table_name: str, ledger: InvoiceLedger, client: Any | None = None) -> None:
        self._table = table_name
        self._ledger = ledger
        self._client = client or boto3.client("dynamodb")

    def get_correction(self, order_id: str, correction_id: str) -> CorrectionRecord | None:
        item = self._client.get_item(
            TableName=self._table, Key=_correction_key(order_id, correction_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return CorrectionRecord.model_validate(from_item(item))

    def allocate(
        self,
        *,
        original: InvoiceRecord,
        correction_id: str,
        reason: CreditReason,
        discovered_at: datetime,
        credit_note: NewInvoice,
        credited_after: list[TaxLine],
        revised: NewInvoice | None,
        credit_series: str,
        invoice_series: str,
        freeze_credit_note: CreditNoteFreezer,
        freeze_revised: RevisedFreezer | None,
        now: datetime,
        credited_quantities: dict[str, int] | None = None,
        credited_commission: Decimal | None = None,
        extra_items: list[dict[str, Any]] | None = None,
        settles_refund: Decimal | None = None,
    ) -> AllocatedCorrection:
        """Number and record the correction, or return the one this id already made.

        `credited_after` and `credited_quantities` (when given) are what the invoice will have been
        credited in all, per rate and per line, once this credit note is: set on it in the same
        transaction, on condition that nothing was credited meanwhile. A vendor invoice's
        `credited_commission` likewise. A customer correction also makes the order's vendor
        invoices due again (`VENDOR_INVOICES`), so the vendors it concerns are corrected even if
        every event is lost: the sweep asks the vendor invoicer again until they are."""
        for attempt in range(MAX_ATTEMPTS):
            existing = self._existing(original.order_id, correction_id)
            if existing is not None:
                return existing
            credit_number = self._next_number(credit_series, now)
            revised_number = self._next_number(invoice_series, now) if revised and freeze_revised else None
            credit_document = freeze_credit_note(credit_number, now, revised_number)
            credit_record = _numbered_record(credit_note, credit_number, now, credit_document)
            revised_record, revised_document = None, b""
            if revised and freeze_revised and revised_number:
                revised_document = freeze_revised(revised_number, now)
                if original.kind is InvoiceKind.CUSTOMER:
                    # After issue, money moves by payment events only: the revised invoice has
                    # received what the invoice it replaces kept.
                    revised = revised.model_copy(update={"amount_received": original.receivable().kept})
                revised_record = _numbered_record(revised, revised_number, now, revised_document)
            correction = CorrectionRecord(
                order_id=original.order_id,
                correction_id=correction_id,
                invoice_number=original.invoice_number,
                reason=reason,
                status=ALLOCATED,
                discovered_at=discovered_at,
                credit_note_number=credit_number,
                revised_invoice_number=revised_number,
            )
            items = [
                *self._numbered(credit_series, credit_record, credit_document),
                *(self._numbered(invoice_series, revised_record, revised_document) if revised_record else []),
                self._credit_original(
                    original,
                    credit_number=credit_number,
                    revised_number=revised_number,
                    credited_after=credited_after,
                    credited_quantities=credited_quantities,
                    credited_commission=credited_commission,
                    now=now,
                    settles_refund=settles_refund,
                ),
                self._put_correction(correction),
            ]
            if original.kind is InvoiceKind.CUSTOMER:
                newest = revised_number or original.invoice_number
                items.append(self._vendor_invoices_due(original, newest, now))
            if revised_record:
                items.append(self._move_claim(original, revised_record))
            items += extra_items or []
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                current = self._ledger.get_invoice(original.invoice_number)
                moved = current is None or current.credit_version != original.credit_version
                moved = moved or current is None or current.replaced_by is not None
                moved = moved or current is None or current.payment_version != original.payment_version
                if moved and self._existing(original.order_id, correction_id) is None:
                    raise CorrectionConflict(original.invoice_number) from error
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 (jitter, not crypto)
                continue
            return AllocatedCorrection(
                correction=correction, credit_note=credit_record, revised=revised_record
            )
        raise CorrectionConflict(f"could not allocate the correction of {original.invoice_number}")

    def record_rejected(
        self,
        *,
        original: InvoiceRecord,
        correction_id: str,
        discovered_at: datetime,
        issues: list[ValidationIssue],
        issue_count: int,
    ) -> bool:
        """The changed order does not validate: recorded and announced once; the invoice stands."""
        correction = CorrectionRecord(
            order_id=original.order_id,
            correction_id=correction_id,
            invoice_number=original.invoice_number,
            reason=CreditReason.ORDER_CHANGED,
            status=REJECTED,
            discovered_at=discovered_at,
            issues=issues,
        )
        rejected = InvoiceCorrectionRejected(
            order_id=original.order_id,
            invoice_number=original.invoice_number,
            correction_id=correction_id,
            issues=issues,
            issue_count=issue_count,
            discovered_at=discovered_at,
        )
        try:
            self._client.transact_write_items(
                TransactItems=[
                    self._put_correction(correction),
                    outbox_put(
                        self._table,
                        order_pk(original.order_id),
                        DetailType.INVOICE_CORRECTION_REJECTED,
                        rejected,
                        resources=[f"invoice/{original.invoice_number}", f"order/{original.order_id}"],
                        now=discovered_at,
                    ),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return False  # recorded and announced by an earlier delivery of the same change
        return True

    def billing_override(self, order_id: str) -> BillingOverride | None:
        item = self._client.get_item(
            TableName=self._table, Key=_override_key(order_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        values = from_item(item)
        return BillingOverride(name=values.get("name"), billing_address=values.get("billing_address"))

    def keep_billing_override(
        self, order_id: str, override: BillingOverride, correction_id: str
    ) -> dict[str, Any]:
        """The transaction item that keeps support's billing correction with the correction it made."""
        values = {
            "order_id": order_id,
            "correction_id": correction_id,
            **override.model_dump(exclude_none=True),
        }
        return {"Put": {"TableName": self._table, "Item": {**_override_key(order_id), **to_item(values)}}}

    def annotate_request(
        self, order_id: str, correction_id: str, *, requested_by: str, reason: str, inquiry_id: str | None
    ) -> None:
        """Who asked for the correction, why, and the inquiry it answers (the first asker is kept:
        a repeated request answers the same correction). The audit trail of a person's action."""
        values = {":by": {"S": requested_by}, ":why": {"S": reason}}
        update = "SET requested_by = if_not_exists(requested_by, :by), "
        update += "requested_reason = if_not_exists(requested_reason, :why)"
        if inquiry_id:
            update += ", inquiry_id = if_not_exists(inquiry_id, :inquiry)"
            values[":inquiry"] = {"S": inquiry_id}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_correction_key(order_id, correction_id),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def record_unchanged(
        self,
        *,
        original: InvoiceRecord,
        correction_id: str,
        reason: CreditReason,
        discovered_at: datetime,
        note: str,
    ) -> bool:
        """A change that was compared and calls for nothing: recorded once (audit, the reports),
        announced to nobody, as nothing changed. True when first recorded."""
        correction = CorrectionRecord(
            order_id=original.order_id,
            correction_id=correction_id,
            invoice_number=original.invoice_number,
            reason=reason,
            status=UNCHANGED,
            discovered_at=discovered_at,
            note=note,
        )
        try:
            self._client.transact_write_items(TransactItems=[self._put_correction(correction)])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return False
        return True

    # --- the parts of the transaction ----------------------------------------------------------

    def _existing(self, order_id: str, correction_id: str) -> AllocatedCorrection | None:
        correction = self.get_correction(order_id, correction_id)
        if correction is None or correction.credit_note_number is None:
            return None
        credit_note = self._ledger.get_invoice(correction.credit_note_number)
        revised = (
            self._ledger.get_invoice(correction.revised_invoice_number)
            if correction.revised_invoice_number
            else None
        )
        if credit_note is None:  # pragma: no cover - written in the same transaction
            raise LookupError(correction.credit_note_number)
        return AllocatedCorrection(correction=correction, credit_note=credit_note, revised=revised)

    def _next_number(self, series: str, now: datetime) -> str:
        sequence = self._ledger.last_sequence(series, now.year) + 1
        return str(InvoiceNumber(series=series, year=now.year, sequence=sequence))

    def _numbered(self, series: str, record: InvoiceRecord, document: bytes) -> list[dict[str, Any]]:
        """The counter moved on from exactly the number before, and the record with its document."""
        sequence = InvoiceNumber.parse(record.invoice_number).sequence
        counter: dict[str, Any] = {
            "TableName": self._table,
            "Key": counter_key_item(series, record.issued_at.year),
            "UpdateExpression": "SET last_sequence = :next, updated_at = :now",
            "ExpressionAttributeValues": {
                ":next": {"N": str(sequence)},
                ":now": {"S": iso(record.issued_at)},
            },
        }
        if sequence == 1:
            counter["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            counter["ConditionExpression"] = "last_sequence = :current"
            counter["ExpressionAttributeValues"][":current"] = {"N": str(sequence - 1)}
        frozen = gzip.compress(document, mtime=0)
        item = {
            **invoice_key_item(record.invoice_number),
            **record_to_item(record),
            "frozen_document": {"B": frozen},
        }
        size = len(frozen) + len(json.dumps(record_to_item(record)))
        if size > MAX_RECORD_BYTES:  # before any write: no number is used up for it
            raise InvoiceTooLarge(size)
        return [
            {"Update": counter},
            {
                "Put": {
                    "TableName": self._table,
                    # Completed (stored, announced) by the corrections path, or by the sweep if it dies.
                    "Item": {**item, **sweep_attributes(SweepKind.INVOICE_UNSENT, record.issued_at)},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]

    def _credit_original(
        self,
        original: InvoiceRecord,
        *,
        credit_number: str,
        revised_number: str | None,
        credited_after: list[TaxLine],
        credited_quantities: dict[str, int] | None = None,
        credited_commission: Decimal | None = None,
        now: datetime,
        settles_refund: Decimal | None = None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":issued": {"S": InvoiceStatus.ISSUED.value},
            ":note": {"L": [{"S": credit_number}]},
            ":none": {"L": []},
            ":credited": to_item({"v": [line.model_dump() for line in credited_after]})["v"],
            ":version": {"N": str(original.credit_version)},
            ":next": {"N": str(original.credit_version + 1)},
        }
        update = (
            "SET credit_notes = list_append(if_not_exists(credit_notes, :none), :note), "
            "credited_tax_lines = :credited, credit_version = :next"
        )
        if credited_quantities is not None:
            update += ", credited_quantities = :quantities"
            values[":quantities"] = to_item({"v": credited_quantities})["v"]
        if credited_commission is not None:
            update += ", credited_commission = :commission"
            values[":commission"] = {"N": str(credited_commission)}
        if revised_number:
            update += ", replaced_by = :revised"
            values[":revised"] = {"S": revised_number}
        condition = (
            "#status = :issued AND attribute_not_exists(replaced_by) AND "
            "(attribute_not_exists(credit_version) OR credit_version = :version)"
        )
        if original.kind is InvoiceKind.CUSTOMER:
            # Its payment status as the credit leaves it, on condition no payment moved it meanwhile.
            transferred = original.receivable().kept if revised_number else original.amount_transferred
            pending = max(Decimal(0), original.refund_credit_pending - (settles_refund or 0))
            after = with_payment_state(
                original.model_copy(
                    update={
                        "credited_tax_lines": credited_after,
                        "amount_transferred": transferred,
                        "refund_credit_pending": pending,
                    }
                ),
                now.date(),
            )
            update += (
                ", payment_state = :state, balance_due = :balance, amount_transferred = :transferred, "
                "refund_credit_pending = :pending"
            )
            values[":state"] = {"S": str(after.payment_state)}
            values[":balance"] = {"N": str(after.balance_due)}
            values[":transferred"] = {"N": str(transferred)}
            values[":pending"] = {"N": str(pending)}
            values[":payments"] = {"N": str(original.payment_version)}
            condition += " AND (attribute_not_exists(payment_version) OR payment_version = :payments)"
        return {
            "Update": {
                "TableName": self._table,
                "Key": invoice_key_item(original.invoice_number),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values,
            }
        }

    def _move_claim(self, original: InvoiceRecord, revised: InvoiceRecord) -> dict[str, Any]:
        """The order's invoice (or the vendor's, for a vendor invoice) is the revised one from now
        on: what a later change is compared with."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": claim_key(original.order_id, original.kind, original.vendor_id),
                "UpdateExpression": "SET invoice_number = :revised, revised_at = :now",
                "ConditionExpression": "invoice_number = :original",
                "ExpressionAttributeValues": {
                    ":revised": {"S": revised.invoice_number},
                    ":original": {"S": original.invoice_number},
                    ":now": {"S": iso(revised.issued_at)},
                },
            }
        }

    def _vendor_invoices_due(self, original: InvoiceRecord, newest: str, now: datetime) -> dict[str, Any]:
        """The order's vendor invoices are due again, against its newest invoice (sweep-indexed)."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": order_pk(original.order_id)}, "sk": {"S": "VENDOR_INVOICES"}},
                "UpdateExpression": "SET #status = :due, order_id = :order, invoice_number = :newest, "
                "sweep_kind = :kind, sweep_since = :now, sweep_due_at = :now "
                "REMOVE sweep_attempts, reminded_at, warned_at, settled_at",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":due": {"S": "DUE"},
                    ":order": {"S": original.order_id},
                    ":newest": {"S": newest},
                    ":kind": {"S": SweepKind.VENDOR_INVOICES_DUE.value},
                    ":now": {"S": iso(now)},
                },
            }
        }

    def _put_correction(self, correction: CorrectionRecord) -> dict[str, Any]:
        values = correction.model_dump(mode="json", exclude_none=True)
        # An allocated correction is watched by the sweep until it is sent (the 48-hour clock).
        pending = (
            sweep_attributes(SweepKind.CORRECTION_PENDING, correction.discovered_at)
            if correction.status == ALLOCATED
            else {}
        )
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    **_correction_key(correction.order_id, correction.correction_id),
                    **to_item(values),
                    **pending,
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    # --- the 48-hour clock ---------------------------------------------------------------------

    def sent_at(self, number: str) -> datetime | None:
        """When the invoice or credit note first reached its recipient's channel (sent or listed)."""
        item = self._client.get_item(
            TableName=self._table,
            Key=invoice_key_item(number),
            ProjectionExpression="first_sent_at, listed_at",
            ConsistentRead=True,
        ).get("Item")
        moments = [datetime.fromisoformat(v["S"]) for v in (item or {}).values() if "S" in v]
        return min(moments) if moments else None

    def settle(self, order_id: str, correction_id: str, sent_at: datetime) -> bool:
        """Sent: out of the sweep index, with the moment that stops the 48-hour clock."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_correction_key(order_id, correction_id),
                UpdateExpression=f"SET #status = :sent, sent_at = :at REMOVE {SWEEP_ATTRIBUTES}",
                ConditionExpression="#status = :allocated",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":sent": {"S": SENT},
                    ":allocated": {"S": ALLOCATED},
                    ":at": {"S": iso(sent_at)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True


def _numbered_record(new: NewInvoice, number: str, now: datetime, document: bytes) -> InvoiceRecord:
    record = InvoiceRecord(
        invoice_number=number,
        status=InvoiceStatus.NUMBERED,
        issued_at=now,
        document_sha256=hashlib.sha256(document).hexdigest(),
        **new.model_dump(),
    )
    return with_payment_state(record, now.date())
