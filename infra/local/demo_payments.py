"""The demo's money in: a bank-transfer order invoiced as unpaid when it completes; a partial
payment through the signed webhook and a forged one refused; the final payment as the payment
service's EventBridge event (status paid); an overpayment flagged to finance; a reminder sent;
last, the reconciliation report and a vendor statement, written to out/."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3

from infra.local.demo_corrections import Checks
from infra.local.demo_sla import _order
from infra.local.orders import decimals, put_order
from infra.local.outbox import sent_emails
from infra.local.pipeline import LocalPipeline
from infra.local.provisioning import LOCAL_WEBHOOK_SECRET, read_events
from infra.local.runtime import FakeLambdaContext, load_module


def _pay_later_order(order_id: str) -> dict[str, Any]:
    order = _order(order_id)
    order["payment"] = {"method": "bank_transfer", "amount_captured": Decimal(0), "status": "PENDING"}
    return order


def show_pay_later(outcome: Checks, pipeline: LocalPipeline, ledger: Any, names: dict[str, str]) -> Any:
    out = outcome.lines.append
    out("\nPay later: a bank-transfer order, invoiced when it completes (dev's payment policy)")
    order = _pay_later_order("ORD-DEMO-BANK-TRANSFER")
    emails_before = set(sent_emails())
    put_order(names["ORDERS_TABLE_NAME"], decimals(order))
    pipeline.run_until_quiet()
    record = ledger.find_by_order(order["order_id"])
    if record is None:
        outcome.check(False, "the bank-transfer order was not invoiced")
        return None
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
    return record


def post_payment(
    api_url: str, body: dict[str, Any], secret: str = LOCAL_WEBHOOK_SECRET
) -> tuple[int, dict[str, Any]]:
    """The provider's webhook as it signs it: HMAC-SHA256 over `<t>.<body>` (domain/webhook_signatures.py)."""
    from invoicing.domain.webhook_signatures import sign

    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(  # noqa: S310 (our own loopback endpoint)
        f"{api_url}/webhooks/payments",
        data=raw,
        headers={
            "Content-Type": "application/json",
            "SayPro-Signature": sign(secret.encode(), int(time.time()), raw),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def put_payment_service_event(names: dict[str, str], detail_type: str, detail: dict[str, Any]) -> None:
    """What the payment service inside AWS puts on the invoicing bus."""
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": names["EVENT_BUS_NAME"],
                "Source": "saypro.payments",
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
            }
        ]
    )


def _payment(event_id: str, kind: str, amount: Decimal, record: Any, **more: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "kind": kind,
        "occurred_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "amount": f"{amount:.2f}",
        "currency": record.currency,
        "invoice_reference": record.invoice_number,
        **more,
    }


def show_payments(  # noqa: PLR0917 (one call site, each argument a different kind of thing)
    outcome: Checks,
    pipeline: LocalPipeline,
    ledger: Any,
    names: dict[str, str],
    api_url: str,
    record: Any,
    out_dir: Path,
) -> None:
    out = outcome.lines.append
    out("\nPayments in: the provider's signed webhook and the payment service's events")
    number, total = record.invoice_number, record.grand_total
    status, answer = post_payment(
        api_url, _payment("evt_demo_partial", "payment.partial", Decimal("20.00"), record)
    )
    out(
        f"  webhook, 20.00 quoting {number} -> {status}: {answer.get('outcome')}, "
        f"balance due {answer.get('balance_due')}"
    )
    outcome.check(
        status == 200 and answer.get("payment_state") == "partially_paid",
        "the partial payment was not applied",
    )
    status, again = post_payment(
        api_url, _payment("evt_demo_partial", "payment.partial", Decimal("20.00"), record)
    )
    out(f"  the same event delivered again -> {status}, duplicate {again.get('duplicate')} (applied once)")
    outcome.check(status == 200 and again.get("duplicate") is True, "a redelivered payment was applied again")
    status, forged = post_payment(
        api_url,
        _payment("evt_demo_forged", "payment.succeeded", total, record),
        secret="whsec_not_ours",  # noqa: S106 (a forgery, on purpose)
    )
    out(f"  a webhook signed with another secret -> {status}: {forged.get('message')}")
    outcome.check(status == 401, "a forged webhook was not refused")

    rest = total - Decimal("20.00")
    put_payment_service_event(
        names, "PaymentEvent", _payment("evt_demo_final", "payment.succeeded", rest, record)
    )
    pipeline.run_until_quiet()
    paid = ledger.get_invoice(number)
    out(
        f"  EventBridge: the payment service's {rest} for {number} settles it: {paid.payment_state}, "
        f"balance {paid.balance_due}"
    )
    outcome.check(
        paid.payment_state == "paid" and paid.balance_due == 0, "the final payment did not settle the invoice"
    )
    if paid.rendition_key:
        pdf = boto3.client("s3").get_object(Bucket=names["INVOICE_BUCKET_NAME"], Key=paid.rendition_key)[
            "Body"
        ]
        saved = out_dir / "invoices" / f"{number}-as-paid.pdf"
        saved.write_bytes(pdf.read())
        out(f"  its links now open the PDF's next rendition, saying PAID: {paid.rendition_key}")
        out(f"  (saved as {saved.name})")
    outcome.check(bool(paid.rendition_key), "no rendition of the paid invoice was made")

    over_invoice = show_pay_later_quietly(pipeline, ledger, names, "ORD-DEMO-OVERPAID")
    status, over = post_payment(
        api_url,
        _payment(
            "evt_demo_over", "payment.succeeded", over_invoice.grand_total + Decimal("10.00"), over_invoice
        ),
    )
    pipeline.run_until_quiet()
    finance = [e for e in read_events(names["FINANCE_INBOX_QUEUE_URL"])]
    flagged = [e for e in finance if e["detail-type"] == "InvoicePaymentRecorded"]
    out(
        f"  {over_invoice.invoice_number} paid 10.00 too much -> {over.get('outcome')}, balance "
        f"{over.get('balance_due')}; finance told: {', '.join(r['code'] for r in over.get('reasons', []))}"
    )
    outcome.check(
        over.get("outcome") == "overpaid" and bool(flagged), "the overpayment was not flagged to finance"
    )
    status, unknown = post_payment(
        api_url,
        {
            **_payment("evt_demo_unknown", "payment.succeeded", Decimal("15.00"), record),
            "invoice_reference": "INV-1999-000001",
        },
    )
    out(
        f"  a payment quoting an invoice we never issued -> {unknown.get('outcome')}: "
        f"{unknown['reasons'][0]['code']}"
    )
    outcome.check(unknown.get("outcome") == "unmatched", "an unknown reference was applied")


def show_pay_later_quietly(pipeline: LocalPipeline, ledger: Any, names: dict[str, str], order_id: str) -> Any:
    put_order(names["ORDERS_TABLE_NAME"], decimals(_pay_later_order(order_id)))
    pipeline.run_until_quiet()
    return ledger.find_by_order(order_id)


def show_reminder(outcome: Checks, pipeline: LocalPipeline, ledger: Any, names: dict[str, str]) -> None:
    """An unpaid invoice three days before its due date: the receivables tick asks, the dispatcher sends."""
    from invoicing.adapters.correction_ledger import CorrectionLedger
    from invoicing.adapters.document_store import DocumentStore
    from invoicing.adapters.event_publisher import EventPublisher
    from invoicing.adapters.payment_ledger import PaymentLedger
    from invoicing.adapters.sweep_index import SweepIndex
    from invoicing.domain.payment_reminders import ReminderPolicy
    from invoicing.rendering.pdf import render_document_pdf
    from invoicing.services.invoice_corrections import InvoiceCorrector
    from invoicing.services.receivables import ReceivablesTick
    from invoicing.settings import receivables_settings

    out = outcome.lines.append
    unpaid = show_pay_later_quietly(pipeline, ledger, names, "ORD-DEMO-REMIND")
    policy = ReminderPolicy()
    moment = policy.schedule(unpaid.due_date)[0][1] + timedelta(minutes=5)
    settings = receivables_settings()
    table = names["INVOICES_TABLE_NAME"]
    tick = ReceivablesTick(
        index=SweepIndex(table),
        ledger=ledger,
        payments=PaymentLedger(table),
        events=EventPublisher(names["EVENT_BUS_NAME"]),
        corrector=InvoiceCorrector(
            ledger=ledger,
            corrections=CorrectionLedger(table, ledger),
            documents=DocumentStore(names["INVOICE_BUCKET_NAME"]),
            renderer=render_document_pdf,
            invoice_series=settings.invoice_series,
            credit_note_series=settings.credit_note_series,
            seller=settings.seller,
            clock=lambda: moment,
            policy=settings.payment_policy,
        ),
        policy=policy,
        clock=lambda: moment,
    )
    before = set(sent_emails())
    report = tick.tick()
    pipeline.run_until_quiet()
    tick.tick()  # the next tick: nothing more for this stage
    pipeline.run_until_quiet()
    reminders = [
        e for k, e in sent_emails().items() if k not in before and e.subject.startswith("Payment reminder")
    ]
    out(f"\nReminders: {unpaid.invoice_number} due {unpaid.due_date}, the tick of {moment:%d %b %H:%M} UTC")
    for email in reminders:
        out(f'  sent once: "{email.subject}" to {email.recipients[0]}, the PDF attached')
    outcome.check(
        report.reminders_requested == 1 and len(reminders) == 1, "the reminder was not sent exactly once"
    )


def show_reports(
    outcome: Checks, pipeline: LocalPipeline, names: dict[str, str], api_url: str, out_dir: Path
) -> None:
    """Today's reconciliation report and this month's vendor statements, through the function."""
    from invoicing.settings import receivables_settings

    out = outcome.lines.append
    put_payment_service_event(
        names,
        "VendorPayout",
        {
            "payout_id": "po_demo_1",
            "vendor_id": "V-BOOKS",
            "amount": "10.00",
            "currency": "EUR",
            "paid_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "reference": "SEPA demo batch",
        },
    )
    pipeline.run_until_quiet()
    receivables_settings.cache_clear()
    function = load_module("receivables")
    context = FakeLambdaContext(function_name="receivables")
    today = datetime.now(UTC).date()
    report = function.lambda_handler({"task": "reconciliation", "day": today.isoformat()}, context)
    statements = function.lambda_handler({"task": "vendor-statements", "month": f"{today:%Y-%m}"}, context)
    pipeline.run_until_quiet()  # the statements' emails

    s3, bucket = boto3.client("s3"), names["INVOICE_BUCKET_NAME"]
    reports_dir = out_dir / "reports" / report["report_id"]
    reports_dir.mkdir(parents=True, exist_ok=True)
    for name in ("findings.csv", "ageing.csv"):
        key = f"reports/reconciliation/{report['report_id']}/{name}"
        (reports_dir / name).write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    counts = {k: v for k, v in report["counts"].items() if v}
    out(
        f"\nReconciliation report {report['report_id']}: {report['payments_recorded']} payment events, "
        f"findings {counts}"
    )
    ready = [
        e["detail"]
        for e in read_events(names["FINANCE_INBOX_QUEUE_URL"])
        if e["detail-type"] == "ReconciliationReportReady"
    ]
    if ready:
        status = _status_of(ready[-1]["findings_url"].replace("https://invoices.saypro.example", api_url))
        out(
            f"  finance's signed link to findings.csv -> {status}; outstanding per currency: "
            f"{ready[-1]['outstanding']}"
        )
        outcome.check(status == 302, "the report's signed link did not open")
    outcome.check(
        bool(ready) and counts.get("payment_without_invoice", 0) >= 1,
        "the report missed the unmatched payment",
    )

    statements_dir = out_dir / "vendor-statements"
    statements_dir.mkdir(parents=True, exist_ok=True)
    from invoicing.adapters.vendor_accounts import VendorAccounts

    accounts = VendorAccounts(names["INVOICES_TABLE_NAME"])
    written = 0
    for statement_id in statements["statements"]:
        record = accounts.statement(statement_id)
        if record is not None:
            (statements_dir / f"{statement_id}.pdf").write_bytes(
                s3.get_object(Bucket=bucket, Key=record.s3_key)["Body"].read()
            )
            written += 1
    books = next((accounts.statement(s) for s in statements["statements"] if s.endswith("-V-BOOKS")), None)
    emailed = [e for e in sent_emails().values() if e.subject.startswith("SayPro vendor statement")]
    out(
        f"Vendor statements for {today:%B %Y}: {written} (one per vendor and currency), "
        f"{len(emailed)} emailed"
    )
    if books is not None:
        out(
            f"  {books.statement_id}: opening {books.opening_balance}, closing {books.closing_balance} "
            f"{books.currency} after a 10.00 payout"
        )
    outcome.check(
        books is not None and written == len(emailed) > 0, "the vendor statements were not issued and emailed"
    )


def _status_of(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as answer:
        return int(answer.code)
