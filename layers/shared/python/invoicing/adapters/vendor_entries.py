"""A vendor's account in the Invoices table (domain/vendor_accounts.py):

    VENDOR#<vendor_id> / BALANCE#<currency>                      the balance (owed to the vendor)
    VENDOR#<vendor_id> / ENTRY#<currency>#<at>#<reference>       one entry: invoice, credit note, payout
    VENDOR#<vendor_id> / STATEMENT#<yyyy-mm>#<currency>          a statement issued
    PAYOUT#<payout_id> / PAYOUT                                  a payout recorded (once per id)
    VENDOR_ACCOUNTS    / <vendor_id>#<currency>                  every account there is (the statement
                                                                 run reads this, never a table scan)
    STATEMENT#<statement_id> / STATEMENT                         where a statement is (its links)

An entry and the balance it moves are written in the same transaction as what makes them: a vendor
invoice or credit note marked ISSUED (`vendor_entry_items`, in `InvoiceLedger.mark_issued`, which
happens once), or a payout's record (conditional on its id): so each counts exactly once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from invoicing.domain.invoice import InvoiceKind
from invoicing.domain.vendor_accounts import AccountEntry, EntryKind

if TYPE_CHECKING:
    from invoicing.adapters.invoice_ledger import InvoiceRecord


ACCOUNTS_PARTITION = "VENDOR_ACCOUNTS"


def vendor_pk(vendor_id: str) -> str:
    return f"VENDOR#{vendor_id}"


def entry_sk(entry: AccountEntry) -> str:
    return f"ENTRY#{entry.currency}#{entry.at.isoformat()}#{entry.reference}"


def account_items(table: str, vendor_id: str, entry: AccountEntry) -> list[dict[str, Any]]:
    """The entry, and the balance it moves."""
    item: dict[str, Any] = {
        "pk": {"S": vendor_pk(vendor_id)},
        "sk": {"S": entry_sk(entry)},
        "kind": {"S": entry.kind.value},
        "reference": {"S": entry.reference},
        "at": {"S": entry.at.isoformat()},
        "currency": {"S": entry.currency},
        "amount": {"N": str(entry.amount)},
    }
    if entry.order_id:
        item["order_id"] = {"S": entry.order_id}
    if entry.note:
        item["note"] = {"S": entry.note}
    return [
        {"Put": {"TableName": table, "Item": item}},
        {
            "Put": {
                "TableName": table,
                "Item": {
                    "pk": {"S": ACCOUNTS_PARTITION},
                    "sk": {"S": f"{vendor_id}#{entry.currency}"},
                    "vendor_id": {"S": vendor_id},
                    "currency": {"S": entry.currency},
                },
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": vendor_pk(vendor_id)}, "sk": {"S": f"BALANCE#{entry.currency}"}},
                "UpdateExpression": "SET vendor_id = :vendor, currency = :currency, updated_at = :at "
                "ADD balance :amount",
                "ExpressionAttributeValues": {
                    ":vendor": {"S": vendor_id},
                    ":currency": {"S": entry.currency},
                    ":at": {"S": entry.at.isoformat()},
                    ":amount": {"N": str(entry.amount)},
                },
            }
        },
    ]


def vendor_entry_items(table: str, record: InvoiceRecord, now: datetime) -> list[dict[str, Any]]:
    """A vendor invoice or credit note being issued enters the vendor's account."""
    if record.kind not in (InvoiceKind.VENDOR, InvoiceKind.VENDOR_CREDIT_NOTE) or record.amount_owed is None:
        return []
    if not record.vendor_id:
        return []
    credit = record.kind is InvoiceKind.VENDOR_CREDIT_NOTE
    entry = AccountEntry(
        kind=EntryKind.VENDOR_CREDIT_NOTE if credit else EntryKind.VENDOR_INVOICE,
        reference=record.invoice_number,
        at=now,
        currency=record.currency,
        amount=-record.amount_owed if credit else record.amount_owed,
        order_id=record.order_id,
        note=f"credits {record.credits_invoice_number}" if credit and record.credits_invoice_number else None,
    )
    return account_items(table, record.vendor_id, entry)


def entry_from_item(item: dict[str, Any]) -> AccountEntry:
    return AccountEntry(
        kind=EntryKind(item["kind"]["S"]),
        reference=item["reference"]["S"],
        at=datetime.fromisoformat(item["at"]["S"]),
        currency=item["currency"]["S"],
        amount=Decimal(item["amount"]["N"]),
        order_id=item.get("order_id", {}).get("S"),
        note=item.get("note", {}).get("S"),
    )
