"""The demo's corrections: an issued invoice is never edited; it is credited and, when what was sold
changed, replaced, and the customer gets both documents in one email."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Protocol

from infra.local.orders import decimals, put_order
from infra.local.outbox import sent_emails
from infra.local.pipeline import LocalPipeline
from infra.local.provisioning import read_events


class Checks(Protocol):
    lines: list[str]

    def check(self, condition: bool, problem: str) -> None: ...


def _copy(order: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(order, default=str), parse_float=Decimal)
    return copied


def _with_derived_totals(order: dict[str, Any]) -> dict[str, Any]:
    from invoicing.domain.order import Order
    from invoicing.domain.pricing import price_order

    totals = price_order(Order.model_validate(decimals(order))).totals
    order["totals"] = {
        name: getattr(totals, name)
        for name in ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total")
    }
    order["payment"]["amount_captured"] = totals.grand_total
    return order


def show_corrections(  # noqa: PLR0917 (one call site, each argument a different kind of thing)
    outcome: Checks,
    pipeline: LocalPipeline,
    ledger: Any,
    repriced: dict[str, Any],
    cancelled: dict[str, Any],
    names: dict[str, str],
) -> None:
    out = outcome.lines.append
    order_id = repriced["order_id"]
    original = ledger.find_by_order(order_id)
    vendors_before = ledger.vendor_invoices_of(order_id)
    emails_before = set(sent_emails())
    read_events(names["EVENTS_OBSERVER_QUEUE_URL"])  # only what the corrections announce from here

    # 1. An edit whose totals no longer add up: refused with its problems, the invoice stands.
    broken = _copy(repriced)
    broken["items"][0]["unit_price"] = Decimal("99.99")
    put_order(names["ORDERS_TABLE_NAME"], decimals(broken))
    pipeline.run_until_quiet()
    still = ledger.find_by_order(order_id)
    rejected = [
        e
        for e in read_events(names["EVENTS_OBSERVER_QUEUE_URL"])
        if e["detail-type"] == "InvoiceCorrectionRejected"
    ]
    stands = still is not None and original is not None and still.document_sha256 == original.document_sha256
    out("\nCorrections (an issued invoice is never edited)")
    codes = sorted({i["code"] for e in rejected for i in e["detail"]["issues"]})
    out(
        f"  an edit whose totals do not add up: refused ({', '.join(codes)}); "
        f"{original.invoice_number} stands"
    )
    outcome.check(
        stands and len(rejected) == 1, "an invalid edit changed the invoice or was not announced once"
    )

    # 2. The storefront corrects a price (and its totals): a credit note and a revised invoice.
    fixed = _copy(repriced)
    fixed["items"][0]["unit_price"] = Decimal(str(fixed["items"][0]["unit_price"])) + Decimal("1.00")
    put_order(names["ORDERS_TABLE_NAME"], decimals(_with_derived_totals(fixed)))
    pipeline.run_until_quiet()
    pipeline.run_until_quiet()  # a redelivery of the same write makes no second correction
    revised = ledger.find_by_order(order_id)
    before = ledger.get_invoice(original.invoice_number)
    credit_note = ledger.get_invoice(before.credit_notes[-1]) if before and before.credit_notes else None
    corrected = [e for e in _customer_emails(emails_before) if "corrected" in e.subject]
    ok = (
        revised is not None
        and credit_note is not None
        and revised.replaces == original.invoice_number
        and before.replaced_by == revised.invoice_number
        and credit_note.grand_total == original.grand_total
        and len(corrected) == 1
    )
    if revised is not None and credit_note is not None:
        out(
            f"  a price corrected: {credit_note.invoice_number} credits {original.invoice_number} "
            f"({credit_note.grand_total} {credit_note.currency}), {revised.invoice_number} replaces it "
            f"({revised.grand_total} {revised.currency}); one email with both PDFs: "
            f'"{corrected[0].subject if corrected else "-"}"'
        )
    outcome.check(ok, "a price correction did not give one credit note, one revised invoice and one email")
    _show_vendors(outcome, ledger, order_id, vendors_before, emails_before)

    # 3. An order cancelled after its invoice: a credit note on its own, emailed.
    invoice = ledger.find_by_order(cancelled["order_id"])
    vendors_before = ledger.vendor_invoices_of(cancelled["order_id"])
    emails_before = set(sent_emails())
    put_order(names["ORDERS_TABLE_NAME"], decimals({**_copy(cancelled), "status": "CANCELLED"}))
    pipeline.run_until_quiet()
    record = ledger.get_invoice(invoice.invoice_number) if invoice else None
    notes = record.credit_notes if record else []
    mailed = [e for e in _customer_emails(emails_before) if "credit note" in e.subject]
    if notes:
        out(
            f"  cancelled after issue: {notes[-1]} credits {invoice.invoice_number} in full; "
            f"emailed: {len(mailed)}"
        )
    outcome.check(
        len(notes) == 1 and len(mailed) == 1, "a cancellation did not give one credit note, emailed once"
    )
    _show_vendors(outcome, ledger, cancelled["order_id"], vendors_before, emails_before)


def show_return(
    outcome: Checks, pipeline: LocalPipeline, ledger: Any, returned: dict[str, Any], names: dict[str, str]
) -> None:
    """A return: 2 of the 7 boxes of dates sent back and refunded: a credit note for them only."""
    out = outcome.lines.append
    invoice = ledger.find_by_order(returned["order_id"])
    vendors_before = ledger.vendor_invoices_of(returned["order_id"])
    emails_before = set(sent_emails())
    returning = _copy(returned)
    returning["items"][0]["refunded_quantity"] = 2
    put_order(names["ORDERS_TABLE_NAME"], decimals(returning))
    pipeline.run_until_quiet()
    record = ledger.get_invoice(invoice.invoice_number) if invoice else None
    note = ledger.get_invoice(record.credit_notes[-1]) if record and record.credit_notes else None
    mailed = [e for e in _customer_emails(emails_before) if "credit note" in e.subject]
    if note is not None and invoice is not None:
        out(
            f"  2 of 7 {returning['items'][0]['sku']} returned: {note.invoice_number} credits "
            f"{note.grand_total} {note.currency} of {invoice.invoice_number} ({invoice.grand_total}); "
            f"emailed: {len(mailed)}"
        )
    partial = note is not None and invoice is not None and 0 < note.grand_total < invoice.grand_total
    outcome.check(partial and len(mailed) == 1, "a return did not give one partial credit note, emailed once")
    _show_vendors(outcome, ledger, returned["order_id"], vendors_before, emails_before)


def _customer_emails(before: set[str]) -> list[Any]:
    """The customer emails sent since `before` (vendors' subjects name them as vendor ones)."""
    return [e for k, e in sent_emails().items() if k not in before and e.subject.startswith("Your ")]


def _show_vendors(
    outcome: Checks, ledger: Any, order_id: str, before: dict[str, Any], emails_before: set[str]
) -> None:
    """Each vendor of the order: unchanged, credited, or credited and re-invoiced; one email each
    for those whose part changed, none for the others."""
    out = outcome.lines.append
    after = ledger.vendor_invoices_of(order_id)
    vendor_mail = [e for k, e in sent_emails().items() if k not in emails_before and "vendor" in e.subject]
    changed = 0
    for vendor_id, old in sorted(before.items()):
        now = ledger.get_invoice(old.invoice_number)
        new_notes = now.credit_notes[len(old.credit_notes) :] if now else []
        current = after.get(vendor_id)
        if not new_notes:
            out(f"    vendor {vendor_id}: part unchanged, keeps {old.invoice_number}")
            continue
        changed += 1
        replaced = f", {current.invoice_number} replaces it" if current and current.replaces else ""
        out(f"    vendor {vendor_id}: {', '.join(new_notes)} credits {old.invoice_number}{replaced}")
    outcome.check(
        len(vendor_mail) == changed, f"{order_id}: {changed} vendors corrected, {len(vendor_mail)} emailed"
    )
