"""Payment events in the Invoices table: each recorded once, with what it did, in one transaction.

Item shapes (the Invoices table's single-table layout):
    PAYMENT_EVENT#<event_id> / PAYMENT_EVENT     the event and its outcome: applied once per id
    PAYMENTS#<yyyy-mm-dd>    / <at>#<event_id>    the day's payment events (the reconciliation report)
    INVOICE#<number>         / PAYMENT#<at>#<id>  the invoice's payment history (timeline, statement)
    INVOICE#<number>         / PAYMENT_DUE        a pay-later invoice's reminders (sweep index)
    INVOICE#<number>         / REFUND_CREDIT#<id> a refund to be credited unless a correction does
    PAYREF#<reference>       / REFERENCE          the invoice a transaction reference pays

Recording an event writes its PAYMENT_EVENT item on condition there is none, the day's copy, and,
when it was applied, the invoice's new figures on condition its payment and credit versions are
still those read (so two events, or an event and a credit note, never both apply to the same
balance), its history entry, and the announcement (outbox): all or nothing. A redelivery finds the
PAYMENT_EVENT item and is told what the first delivery did.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from invoicing.adapters.invoice_ledger import (
    InvoiceRecord,
    from_item,
    invoice_key_item,
    iso,
    record_from_item,
    with_payment_state,
)
from invoicing.adapters.outbox import outbox_put
from invoicing.adapters.sweep_attributes import SWEEP_ATTRIBUTES, sweep_attributes
from invoicing.domain.events import (
    DetailType,
    InvoiceOverdue,
    InvoicePaymentRecorded,
    PaymentFinding,
    PaymentUnmatched,
)
from invoicing.domain.invoice import InvoiceKind, InvoiceStatus
from invoicing.domain.money import plain_amount
from invoicing.domain.payment_events import PaymentEvent, PaymentEventKind
from invoicing.domain.payment_matching import PaymentDecision
from invoicing.domain.receivables import PaymentState
from invoicing.domain.sla import SweepKind

BY_CUSTOMER_INDEX = "by-customer"
OPEN_STATES = [state.value for state in PaymentState if state.is_open]


class PaymentConflict(RuntimeError):
    """The invoice moved (another payment, a credit note) between reading and writing: read again."""


class RecordedPayment(BaseModel):
    """A payment event as recorded: what it said and what it did."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    kind: str
    door: str
    amount: str
    currency: str
    occurred_at: datetime
    recorded_at: datetime
    outcome: str
    invoice_number: str | None = None
    matched_by: str | None = None
    invoice_reference: str | None = None
    transaction_reference: str | None = None
    order_id: str | None = None
    customer_id: str | None = None
    reasons: list[PaymentFinding] = []
    payment_state_before: str | None = None
    payment_state: str | None = None
    balance_due: str | None = None
    to_credit: str | None = None


def _guard_key(event_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYMENT_EVENT#{event_id}"}, "sk": {"S": "PAYMENT_EVENT"}}


def payment_due_key(number: str) -> dict[str, Any]:
    return {"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "PAYMENT_DUE"}}


def reference_key(reference: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYREF#{reference}"}, "sk": {"S": "REFERENCE"}}


class PaymentLedger:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    # --- reading -------------------------------------------------------------------------------

    def recorded(self, event_id: str) -> RecordedPayment | None:
        item = self._client.get_item(
            TableName=self._table, Key=_guard_key(event_id), ConsistentRead=True
        ).get("Item")
        return RecordedPayment.model_validate_json(item["payment"]["S"]) if item else None

    def invoice_of_reference(self, reference: str) -> str | None:
        """The invoice a transaction reference pays: the order's payment, or one already applied."""
        if not reference or len(reference.encode()) > 1000:
            return None
        item = self._client.get_item(TableName=self._table, Key=reference_key(reference)).get("Item")
        return item["invoice_number"]["S"] if item else None

    def open_invoices_of(self, customer_id: str) -> list[InvoiceRecord]:
        """The customer's issued invoices still owed something (its listing index, filtered)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_CUSTOMER_INDEX,
            "KeyConditionExpression": "customer_id = :customer",
            "FilterExpression": "kind = :kind AND #status = :issued AND payment_state IN (:s0, :s1, :s2)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":customer": {"S": customer_id},
                ":kind": {"S": InvoiceKind.CUSTOMER.value},
                ":issued": {"S": InvoiceStatus.ISSUED.value},
                **{f":s{i}": {"S": state} for i, state in enumerate(OPEN_STATES)},
            },
        }
        found: list[InvoiceRecord] = []
        while True:
            page = self._client.query(**params)
            found += [record_from_item(item) for item in page["Items"] if item["sk"]["S"] == "INVOICE"]
            if "LastEvaluatedKey" not in page:
                return found
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def day(self, day: date) -> Iterator[RecordedPayment]:
        """Every payment event recorded on `day` (UTC), oldest first."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"PAYMENTS#{day.isoformat()}"}},
        }
        while True:
            page = self._client.query(**params)
            for item in page["Items"]:
                yield RecordedPayment.model_validate_json(item["payment"]["S"])
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def history(self, number: str) -> list[RecordedPayment]:
        """The payment events applied to one invoice, oldest first."""
        page = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :payment)",
            ExpressionAttributeValues={":pk": {"S": f"INVOICE#{number}"}, ":payment": {"S": "PAYMENT#"}},
            ConsistentRead=True,
        )
        return [RecordedPayment.model_validate_json(item["payment"]["S"]) for item in page["Items"]]

    def payment_due(self, number: str) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self._table, Key=payment_due_key(number), ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    # --- writing -------------------------------------------------------------------------------

    def record(
        self,
        event: PaymentEvent,
        decision: PaymentDecision,
        invoice: InvoiceRecord | None,
        *,
        door: str,
        now: datetime,
        refund_grace: timedelta,
    ) -> RecordedPayment | None:
        """Record the event and apply its decision; None when this event id was recorded before
        (the caller reads what it did). PaymentConflict when the invoice moved meanwhile."""
        recorded = self._recorded_of(event, decision, door, now)
        payment = {"S": recorded.model_dump_json()}
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **_guard_key(event.event_id),
                        "payment": payment,
                        "recorded_at": {"S": iso(now)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"PAYMENTS#{now.date().isoformat()}"},
                        "sk": {"S": f"{iso(now)}#{event.event_id}"},
                        "payment": payment,
                        "outcome": {"S": recorded.outcome},
                    },
                }
            },
        ]
        if decision.is_applied and invoice is not None:
            items += self._applied(event, decision, invoice, recorded, now, refund_grace)
        else:
            items.append(
                outbox_put(
                    self._table,
                    f"PAYMENT_EVENT#{event.event_id}",
                    DetailType.PAYMENT_UNMATCHED,
                    PaymentUnmatched(
                        event_id=event.event_id,
                        kind=event.kind.value,
                        amount=event.amount,
                        currency=event.currency,
                        invoice_reference=event.invoice_reference,
                        transaction_reference=event.transaction_reference,
                        order_id=event.order_id,
                        customer_id=event.customer_id,
                        invoice_number=decision.invoice_number,
                        reasons=recorded.reasons,
                        occurred_at=event.occurred_at,
                        recorded_at=now,
                        door=door,
                    ),
                    resources=[f"payment/{event.event_id}"]
                    + ([f"invoice/{decision.invoice_number}"] if decision.invoice_number else []),
                    now=now,
                )
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return None  # recorded before: a redelivery
            if self.recorded(event.event_id) is not None:
                return None
            raise PaymentConflict(decision.invoice_number or event.event_id) from error
        return recorded

    def _applied(  # noqa: PLR0917 (the parts of one recorded event)
        self,
        event: PaymentEvent,
        decision: PaymentDecision,
        invoice: InvoiceRecord,
        recorded: RecordedPayment,
        now: datetime,
        refund_grace: timedelta,
    ) -> list[dict[str, Any]]:
        after = decision.after
        if after is None or decision.state_after is None or decision.state_before is None:
            raise ValueError("an applied decision has the receivable after it")
        number, currency = invoice.invoice_number, invoice.currency
        disputed = invoice.disputed_amount
        if event.kind is PaymentEventKind.DISPUTED and decision.amount is not None:
            disputed += decision.amount
        values: dict[str, Any] = {
            ":received": {"N": str(after.received)},
            ":refunded": {"N": str(after.refunded)},
            ":disputed": {"N": str(disputed)},
            ":awaiting": {"N": str(after.awaiting_credit)},
            ":state": {"S": decision.state_after.value},
            ":balance": {"N": str(after.balance_due)},
            ":next": {"N": str(invoice.payment_version + 1)},
            ":events": {"N": str(invoice.payment_events + 1)},
            ":version": {"N": str(invoice.payment_version)},
            ":credits": {"N": str(invoice.credit_version)},
            ":issued": {"S": InvoiceStatus.ISSUED.value},
        }
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": invoice_key_item(number),
                    "UpdateExpression": "SET amount_received = :received, amount_refunded = :refunded, "
                    "disputed_amount = :disputed, refund_credit_pending = :awaiting, "
                    "payment_state = :state, balance_due = :balance, "
                    "payment_version = :next, payment_events = :events",
                    "ConditionExpression": "#status = :issued AND attribute_not_exists(replaced_by) "
                    "AND (attribute_not_exists(payment_version) OR payment_version = :version) "
                    "AND (attribute_not_exists(credit_version) OR credit_version = :credits)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"INVOICE#{number}"},
                        "sk": {"S": f"PAYMENT#{iso(now)}#{event.event_id}"},
                        "payment": {"S": recorded.model_dump_json()},
                    },
                }
            },
            outbox_put(
                self._table,
                f"INVOICE#{number}",
                DetailType.INVOICE_PAYMENT_RECORDED,
                InvoicePaymentRecorded(
                    event_id=event.event_id,
                    kind=event.kind.value,
                    outcome=decision.outcome.value,
                    invoice_number=number,
                    order_id=invoice.order_id,
                    customer_id=invoice.customer_id,
                    currency=currency,
                    amount=plain_amount(decision.amount or Decimal(0), currency),
                    matched_by=decision.matched_by.value if decision.matched_by else "",
                    amount_received=plain_amount(after.received, currency),
                    amount_refunded=plain_amount(after.refunded, currency),
                    balance_due=plain_amount(after.balance_due, currency),
                    payment_state_before=decision.state_before.value,
                    payment_state=decision.state_after.value,
                    findings=recorded.reasons,
                    occurred_at=event.occurred_at,
                    recorded_at=now,
                ),
                resources=[f"invoice/{number}", f"order/{invoice.order_id}", f"payment/{event.event_id}"],
                now=now,
            ),
        ]
        if event.transaction_reference and len(event.transaction_reference.encode()) <= 1000:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **reference_key(event.transaction_reference),
                            "invoice_number": {"S": number},
                        },
                    }
                }
            )
        if not decision.state_after.is_open:
            items.append({"Delete": {"TableName": self._table, "Key": payment_due_key(number)}})
        elif (
            invoice.due_date is not None
            and decision.state_before is not None
            and not decision.state_before.is_open
        ):
            # Owed again (a payment was returned): reminders resume where they were.
            items.append(self._reminders_resume(invoice, now))
        if decision.to_credit > 0:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"INVOICE#{number}"},
                            "sk": {"S": f"REFUND_CREDIT#{event.event_id}"},
                            "invoice_number": {"S": number},
                            "order_id": {"S": invoice.order_id},
                            "amount": {"N": str(decision.to_credit)},
                            "currency": {"S": currency},
                            "event_id": {"S": event.event_id},
                            **sweep_attributes(SweepKind.REFUND_UNCREDITED, now),
                            "sweep_due_at": {"S": iso(now + refund_grace)},
                        },
                    }
                }
            )
        return items

    def _reminders_resume(self, invoice: InvoiceRecord, now: datetime) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": payment_due_key(invoice.invoice_number),
                "UpdateExpression": "SET invoice_number = :number, order_id = :order, due_date = :due, "
                "sweep_kind = :kind, sweep_since = if_not_exists(sweep_since, :now), sweep_due_at = :now",
                "ExpressionAttributeValues": {
                    ":number": {"S": invoice.invoice_number},
                    ":order": {"S": invoice.order_id},
                    ":due": {"S": invoice.due_date.isoformat() if invoice.due_date else ""},
                    ":kind": {"S": SweepKind.PAYMENT_DUE.value},
                    ":now": {"S": iso(now)},
                },
            }
        }

    def _recorded_of(
        self, event: PaymentEvent, decision: PaymentDecision, door: str, now: datetime
    ) -> RecordedPayment:
        currency = event.currency
        return RecordedPayment(
            event_id=event.event_id,
            kind=event.kind.value,
            door=door,
            amount=event.amount,
            currency=currency,
            occurred_at=event.occurred_at,
            recorded_at=now,
            outcome=decision.outcome.value,
            invoice_number=decision.invoice_number,
            matched_by=decision.matched_by.value if decision.matched_by else None,
            invoice_reference=event.invoice_reference,
            transaction_reference=event.transaction_reference,
            order_id=event.order_id,
            customer_id=event.customer_id,
            reasons=[PaymentFinding(code=f.code.value, message=f.message) for f in decision.findings],
            payment_state_before=decision.state_before.value if decision.state_before else None,
            payment_state=decision.state_after.value if decision.state_after else None,
            balance_due=plain_amount(decision.after.balance_due, currency) if decision.after else None,
            to_credit=plain_amount(decision.to_credit, currency) if decision.to_credit else None,
        )

    # --- scheduled work ------------------------------------------------------------------------

    def stop_reminders(self, number: str) -> None:
        self._client.delete_item(TableName=self._table, Key=payment_due_key(number))

    def schedule_reminders(self, number: str, done: list[str], next_at: datetime) -> None:
        """The stages asked for so far, and when the tick should look again. An invoice reminded of
        every stage and still owed stays in the index (the ageing and the overdue list read it),
        looked at again weekly until it is paid or credited."""
        values: dict[str, Any] = {
            ":done": {"L": [{"S": stage} for stage in done]},
            ":next": {"S": iso(next_at)},
        }
        update = "SET reminders = :done, sweep_due_at = :next REMOVE sweep_attempts"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=payment_due_key(number),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Paid meanwhile: the payment took the reminders away.

    def mark_overdue(self, invoice: InvoiceRecord, now: datetime) -> bool:
        """payment_state overdue, `InvoiceOverdue` announced, on condition no payment moved it."""
        if invoice.due_date is None:
            return False
        balance = invoice.receivable().balance_due
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": invoice_key_item(invoice.invoice_number),
                            "UpdateExpression": "SET payment_state = :overdue, overdue_since = :now",
                            "ConditionExpression": "(attribute_not_exists(payment_version) OR "
                            "payment_version = :version) AND (attribute_not_exists(credit_version) OR "
                            "credit_version = :credits) AND attribute_not_exists(replaced_by)",
                            "ExpressionAttributeValues": {
                                ":overdue": {"S": PaymentState.OVERDUE.value},
                                ":now": {"S": iso(now)},
                                ":version": {"N": str(invoice.payment_version)},
                                ":credits": {"N": str(invoice.credit_version)},
                            },
                        }
                    },
                    outbox_put(
                        self._table,
                        f"INVOICE#{invoice.invoice_number}",
                        DetailType.INVOICE_OVERDUE,
                        InvoiceOverdue(
                            invoice_number=invoice.invoice_number,
                            order_id=invoice.order_id,
                            customer_id=invoice.customer_id,
                            currency=invoice.currency,
                            balance_due=plain_amount(balance, invoice.currency),
                            due_date=invoice.due_date.isoformat(),
                            overdue_since=now.date().isoformat(),
                        ),
                        resources=[f"invoice/{invoice.invoice_number}", f"order/{invoice.order_id}"],
                        now=now,
                    ),
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return False  # moved meanwhile: the next tick looks again
        return True

    def settle_awaiting_credit(self, invoice: InvoiceRecord, amount: Decimal, now: datetime) -> None:
        """A refund's credit note came another way (the storefront's correction): it awaits none."""
        pending = max(Decimal(0), invoice.refund_credit_pending - amount)
        after = with_payment_state(invoice.model_copy(update={"refund_credit_pending": pending}), now.date())
        self._client.update_item(
            TableName=self._table,
            Key=invoice_key_item(invoice.invoice_number),
            UpdateExpression="SET refund_credit_pending = :pending, payment_state = :state, "
            "balance_due = :balance",
            ConditionExpression="(attribute_not_exists(payment_version) OR payment_version = :version) AND "
            "(attribute_not_exists(credit_version) OR credit_version = :credits)",
            ExpressionAttributeValues={
                ":pending": {"N": str(pending)},
                ":state": {"S": str(after.payment_state)},
                ":balance": {"N": str(after.balance_due)},
                ":version": {"N": str(invoice.payment_version)},
                ":credits": {"N": str(invoice.credit_version)},
            },
        )

    def settle_refund_credit(self, pk: str, sk: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression=f"SET settled = :yes REMOVE {SWEEP_ATTRIBUTES}",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )

    def refund_credit(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None
