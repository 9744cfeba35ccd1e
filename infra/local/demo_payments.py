"""The demo's money in: a bank-transfer order invoiced as unpaid when it completes, with its due
date and how to pay on the PDF and in the email."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from infra.local.demo_corrections import Checks
from infra.local.demo_sla import _order
from infra.local.orders import decimals, put_order
from infra.local.outbox import sent_emails
from infra.local.pipeline import LocalPipeline


def show_pay_later(outcome: Checks, pipeline: LocalPipeline, ledger: Any, names: dict[str, str]) -> None:
    out = outcome.lines.append
    out("\nPay later: a bank-transfer order, invoiced when it completes (dev's payment policy)")
    order = _order("ORD-DEMO-BANK-TRANSFER")
    order["payment"] = {"method": "bank_transfer", "amount_captured": Decimal(0), "status": "PENDING"}
    emails_before = set(sent_emails())
    put_order(names["ORDERS_TABLE_NAME"], decimals(order))
    pipeline.run_until_quiet()
    record = ledger.find_by_order(order["order_id"])
    if record is None:
        outcome.check(False, "the bank-transfer order was not invoiced")
        return
    [email] = [
        e for k, e in sent_emails().items() if k not in emails_before and "Order Invoice" in e.subject
    ] or [None]
    body = email.message.get_body(preferencelist=("plain",)).get_content() if email else ""
    due = next((line for line in body.splitlines() if line.startswith("Payment due:")), "")
    out(f"  {record.invoice_number} {record.grand_total} {record.currency}, payment {record.payment_status}")
    out(f"  the email says: {due}")
    outcome.check(
        record.payment_status == "PENDING" and "quoting " + record.invoice_number in due,
        "the bank-transfer invoice does not say it is unpaid, by when and what to quote",
    )
