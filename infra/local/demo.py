"""`make demo`: the whole pipeline end to end on embedded AWS, checked against expectations.

Writes every sample in events/orders/ as the storefront would, delivers the Orders stream to the
real generator handler in Lambda's event shape, then checks each order against
events/orders/manifest.json, redelivers the whole stream to prove nothing is issued twice, and
prints a summary. Exits 1 if anything differs from what was expected.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.local import ROOT
from infra.local.api_server import start_api_server
from infra.local.demo_corrections import show_corrections, show_return
from infra.local.demo_payments import show_pay_later, show_payments, show_reminder, show_reports
from infra.local.demo_reports import show_operations_report
from infra.local.demo_sla import show_bounce, show_sweep
from infra.local.demo_support import show_support
from infra.local.event_runner import eventbridge_event
from infra.local.orders import complete_order, load_order, put_order
from infra.local.outbox import clear_previous_run, sent_emails, sent_texts, write_sent_messages
from infra.local.pipeline import LocalPipeline
from infra.local.progress import Progress, configure_function_output
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, LocalStack, presigning_s3_client, start_local_stack
from infra.local.sns_signer import LocalSns
from infra.local.tokens import issue_token
from infra.local.vendors import load_vendors, put_vendors

SAMPLES = ROOT / "events" / "orders"
VENDORS = ROOT / "events" / "vendors" / "vendors.json"
LINK_LIFETIME_SECONDS = 3600


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def check(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


def run_demo(out_dir: Path, keep_running: bool = False, verbose: bool = False) -> int:
    started = time.perf_counter()
    # The functions' structured logs and EMF metrics would bury the summary: off unless --verbose.
    configure_function_output(verbose)
    os.environ.setdefault("SWEEP_GRACE_SECONDS", "0")  # the demo's sweep acts on anything open at once
    progress = Progress(inline=not verbose)
    with progress.step("starting embedded AWS (moto on 127.0.0.1): tables, streams, bucket, bus, queues"):
        stack = start_local_stack()
    try:
        outcome = _run(stack, out_dir, progress)
        elapsed = time.perf_counter() - started
        print()
        print("\n".join(outcome.lines))
        print(f"\nDemo finished in {elapsed:.1f} s against embedded AWS at {stack.endpoint}.")
        if outcome.problems:
            print("\nFAILED expectations:")
            for problem in outcome.problems:
                print(f"  - {problem}")
            if not verbose:
                print("Run it again with --verbose to see the functions' own logs.")
            return 1
        print("All expectations met.")
        if keep_running:
            input("The local stack stays up; links above work until you press Enter. ")
        return 0
    finally:
        stack.stop()


def _run(stack: LocalStack, out_dir: Path, progress: Progress) -> Outcome:
    from invoicing.adapters.invoice_ledger import InvoiceLedger

    names = stack.names
    manifest = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))["orders"]
    with progress.step("loading the vendors, the functions and the local API"):
        put_vendors(names["VENDORS_TABLE_NAME"], load_vendors(VENDORS))
        pipeline = LocalPipeline.start(names)
        sns = LocalSns.create(names["NOTIFICATION_TOPIC_ARNS"])
        api, api_url = start_api_server(int(names["API_PORT"]), sns)
    runner = pipeline.generator
    outcome = Outcome()
    out = outcome.lines.append

    orders = {entry["file"]: load_order(SAMPLES / entry["file"]) for entry in manifest}
    for order in orders.values():  # completed just now, as the storefront would stamp it
        if order.get("status") == "COMPLETED":
            order["completed_at"] = _now_iso()
    with progress.step(f"writing {len(manifest)} sample orders to the Orders table"):
        for entry in manifest:
            put_order(names["ORDERS_TABLE_NAME"], orders[entry["file"]])
    with progress.step("delivering the Orders stream to the generator, then the events it announces"):
        delivered = pipeline.run_until_quiet()
    later = [entry for entry in manifest if entry["write"] == "insert-then-complete"]
    with progress.step(f"completing {len(later)} order(s) later (a MODIFY each) and delivering again"):
        for entry in later:  # the storefront completes these later: a MODIFY record each
            complete_order(names["ORDERS_TABLE_NAME"], orders[entry["file"]]["order_id"])
        delivered += pipeline.run_until_quiet()

    ledger = InvoiceLedger(names["INVOICES_TABLE_NAME"])
    access = PdfAccess(presigning_s3_client(), names["INVOICE_BUCKET_NAME"], out_dir / "invoices")
    for folder in (access.out_dir, access.vendor_out_dir):
        folder.mkdir(parents=True, exist_ok=True)
    clear_previous_run(
        out_dir, ("invoices", "vendor-invoices", "emails", "texts", "reports", "vendor-statements")
    )
    out("SayPro invoicing demo: storefront writes -> Orders stream -> invoice generator (real handler)")
    out(
        f"{len(manifest)} sample orders written; {delivered} stream records and events delivered "
        f"({runner.stats.invocations} generator invocations).\n"
    )

    with progress.step("checking each order: its invoice's PDF and document, or its problems"):
        numbers = _report_orders(
            outcome, manifest, orders, ledger, access, table_name=names["INVOICES_TABLE_NAME"]
        )
        events = read_events(names["EVENTS_OBSERVER_QUEUE_URL"])
        _report_events(outcome, events, manifest, access)
        _report_numbering(outcome, numbers)
    with progress.step("redelivering the whole stream and every InvoiceIssued event"):
        _check_redelivery(outcome, pipeline, ledger, events, _year(numbers), names)
    with progress.step("correcting invoiced orders: a bad edit, a price fix, a cancellation, a return"):
        _show_corrections(outcome, pipeline, ledger, manifest, orders, names)
    with progress.step("opening the first email's download link through the local API"):
        _check_durable_link(outcome, ledger)
    with progress.step("listing customers' invoices through the invoices API with test tokens"):
        _check_invoices_api(outcome, api_url, orders)
    _show_later_journeys(outcome, progress, pipeline, ledger, names, api_url, sns, out_dir)
    api.shutdown()
    with progress.step(f"writing every invoice, email and text to {_relative(out_dir)}/"):
        access.save_every_invoice()
        written = write_sent_messages(out_dir)
    _report_files(outcome, out_dir, access, written)
    return outcome


def _report_files(outcome: Outcome, out_dir: Path, access: PdfAccess, written: dict[str, Path]) -> None:
    """Where a person finds what the demo issued and sent, to open them."""
    emails = sum(path.suffix == ".eml" for path in written.values())
    texts = sum(path.suffix == ".txt" for path in written.values())
    outcome.check(emails == len(sent_emails()), f"{len(sent_emails())} emails sent, {emails} written")
    outcome.check(texts == len(sent_texts()), f"{len(sent_texts())} texts sent, {texts} written")
    invoices = len(list(access.out_dir.glob("*.pdf")))
    vendor_invoices = len(list(access.vendor_out_dir.glob("*.pdf")))
    rows = [
        (
            access.out_dir,
            f"{invoices} customer invoices and credit notes: the PDF and its document of record (.json)",
        ),
        (
            access.vendor_out_dir,
            f"{vendor_invoices} vendor invoices and vendor credit notes: the PDF and its document of record",
        ),
        (out_dir / "emails", f"{emails} emails as SES got them (.eml: raw MIME, the PDF attached)"),
        (out_dir / "texts", f"{texts} texts as SNS got them (.txt)"),
        (
            out_dir / "reports",
            "the reconciliation report (findings.csv, ageing.csv) and this week's operations report "
            "(report.pdf, figures.csv, daily.csv), as the signed links open them",
        ),
        (
            out_dir / "vendor-statements",
            f"{len(list((out_dir / 'vendor-statements').glob('*.pdf')))} vendor statements (PDF)",
        ),
    ]
    outcome.lines.append(f"\nWritten under {_relative(out_dir)}/, to open as the customer or vendor would:")
    width = max(len(_relative(folder)) for folder, _ in rows) + 3
    outcome.lines.extend(f"  {_relative(folder) + '/':<{width}}{what}" for folder, what in rows)


def _report_orders(
    outcome: Outcome,
    manifest: list[dict[str, Any]],
    orders: dict[str, dict[str, Any]],
    ledger: Any,
    access: PdfAccess,
    *,
    table_name: str,
) -> list[str]:
    """Each sample as the manifest expects it: an invoice (fetched, saved, delivered) or its problems."""
    from invoicing.adapters.delivery_log import DeliveryLog

    deliveries = DeliveryLog(table_name)
    numbers: list[str] = []
    for entry in manifest:
        order_id = orders[entry["file"]]["order_id"]
        record = ledger.find_by_order(order_id)
        if entry["expect"] == "invoice":
            numbers += _report_invoice(outcome, entry, order_id, record, access)
            if record is not None:
                _report_delivery(outcome, entry, record, deliveries)
        else:
            _report_rejection(outcome, entry, order_id, record, ledger)
    return numbers


@dataclass
class PdfAccess:
    """Where the demo fetches each invoice from (a presigned link) and where it saves it."""

    s3: Any
    bucket: str
    out_dir: Path

    @property
    def vendor_out_dir(self) -> Path:
        return self.out_dir.parent / "vendor-invoices"

    def save_every_invoice(self) -> None:
        """Every customer and vendor invoice in the bucket (PDF and document), as stored."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="invoices/")
        for obj in (obj for page in pages for obj in page.get("Contents", [])):
            kind, name = obj["Key"].split("/")[1], obj["Key"].rsplit("/", 1)[-1]
            folder = {
                "customer": self.out_dir,
                "credit_note": self.out_dir,
                "vendor": self.vendor_out_dir,
                "vendor_credit_note": self.vendor_out_dir,
            }.get(kind)
            if folder is not None:
                body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                (folder / name).write_bytes(body)


def _show_later_journeys(  # noqa: PLR0917 (one call site, each argument a different kind of thing)
    outcome: Outcome,
    progress: Progress,
    pipeline: LocalPipeline,
    ledger: Any,
    names: dict[str, str],
    api_url: str,
    sns: Any,
    out_dir: Path,
) -> None:
    """After the sample orders: a bounce, an outage the sweep recovers from, money in."""
    with progress.step("bouncing an email: SES's Bounce event, signed as SNS, posted to the webhook"):
        show_bounce(outcome, pipeline, names, api_url, sns)
    with progress.step("writing an order during a generator outage, then ticking the SLA sweep"):
        show_sweep(outcome, pipeline, names)
    with progress.step("a bank-transfer order: invoiced when it completes, unpaid, with its due date"):
        unpaid = show_pay_later(outcome, pipeline, ledger, names)
    if unpaid is not None:
        with progress.step("payments in: a partial and a forged webhook, the final payment, an overpayment"):
            show_payments(outcome, pipeline, ledger, names, api_url, unpaid, out_dir)
    with progress.step("a payment reminder three days before the due date, sent once"):
        show_reminder(outcome, pipeline, ledger, names)
    with progress.step("the reconciliation report and this month's vendor statements"):
        show_reports(outcome, pipeline, names, api_url, out_dir)
    with progress.step("customer service: find by email, a timeline, an inquiry worked, a resend"):
        show_support(outcome, pipeline, api_url)
    with progress.step("this week's operations report (PDF and CSV), from the report counters"):
        show_operations_report(outcome, pipeline, names, api_url, out_dir)


def _relative(path: Path) -> str:
    """out/invoices rather than /home/.../out/invoices when it is under the project."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _report_invoice(
    outcome: Outcome, entry: dict[str, Any], order_id: str, record: Any, access: PdfAccess
) -> list[str]:
    out = outcome.lines.append
    if record is None or record.status != "ISSUED":
        outcome.check(False, f"{order_id} ({entry['file']}): expected an issued invoice, got {record}")
        out(f"[MISSING] {order_id}: no invoice")
        return []
    link = access.s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": access.bucket,
            "Key": record.s3_key,
            "ResponseContentDisposition": f'inline; filename="{record.invoice_number}.pdf"',
        },
        ExpiresIn=LINK_LIFETIME_SECONDS,
    )
    with urllib.request.urlopen(link, timeout=10) as response:  # noqa: S310 (our own loopback endpoint)
        pdf = response.read()
    outcome.check(pdf.startswith(b"%PDF-"), f"{record.invoice_number}: the link did not return a PDF")
    latency = (record.announced_at - record.order_completed_at).total_seconds()
    outcome.check(
        latency < 60, f"{record.invoice_number}: issued {latency:.1f} s after completion (target 60 s)"
    )
    (access.out_dir / f"{record.invoice_number}.pdf").write_bytes(pdf)
    out(
        f"[INVOICE] {order_id} -> {record.invoice_number}  {record.grand_total} {record.currency}  "
        f"({record.customer_name}), issued {latency:.2f} s after completion"
    )
    out(
        f"          s3://{record.s3_bucket}/{record.s3_key}  "
        f"({len(pdf):,} bytes, sha256 {record.sha256[:12]}…)"
    )
    document = access.s3.get_object(Bucket=access.bucket, Key=record.document_key)["Body"].read()
    outcome.check(
        hashlib.sha256(document).hexdigest() == record.document_sha256,
        f"{record.invoice_number}: the stored document does not match its SHA-256",
    )
    (access.out_dir / f"{record.invoice_number}.json").write_bytes(document)
    out(
        f"          document of record s3://{record.s3_bucket}/{record.document_key}  "
        f"({len(document):,} bytes, sha256 {record.document_sha256[:12]}…, "
        f"{json.loads(document)['document_schema']})"
    )
    out(f"          {link}")
    return [record.invoice_number]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _check_durable_link(outcome: Outcome, ledger: Any) -> None:
    """Open the link from the first email as a person would: our endpoint, then the PDF."""
    out = outcome.lines.append
    email = next(iter(sent_emails().values()), None)
    if email is None:
        outcome.check(False, "no email was sent, so no link to open")
        return
    body = email.message.get_body(preferencelist=("plain",))
    match = re.search(
        r"(http://127\.0\.0\.1:\d+/download/(\S+)\?token=\S+)", body.get_content() if body else ""
    )
    if match is None:
        outcome.check(False, "the email carries no download link")
        return
    link, number = match.groups()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(link, timeout=10)
        status, location = 200, ""
    except urllib.error.HTTPError as response:
        status, location = response.code, response.headers.get("Location", "")
    with urllib.request.urlopen(location, timeout=10) as pdf_response:  # noqa: S310 (loopback)
        pdf = pdf_response.read()
    record = ledger.get_invoice(number)
    identical = hashlib.sha256(pdf).hexdigest() == record.sha256
    try:
        opener.open(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"), timeout=10)
        tampered = 200
    except urllib.error.HTTPError as response:
        tampered = response.code
    out("\nDurable link from the first email, opened as a person would")
    out(f"  {link[:90]}…")
    out(
        f"  -> {status} to a fresh presigned URL -> {len(pdf):,} bytes, "
        f"identical to the issued PDF: {identical}"
    )
    out(f"  the same link with a tampered token -> {tampered}")
    outcome.check(status == 302 and identical, f"the emailed link did not lead to the issued PDF ({status})")
    outcome.check(tampered == 403, f"a tampered link got {tampered}, not 403")


def _check_invoices_api(outcome: Outcome, api_url: str, orders: dict[str, dict[str, Any]]) -> None:
    """Each customer, with a locally issued token, lists exactly its own invoices."""
    out = outcome.lines.append
    out("\nInvoices API with locally issued test tokens (python -m infra.local.tokens)")
    for customer in ("CUST-ZOE", "CUST-JOSE"):
        request = urllib.request.Request(  # noqa: S310 (our own loopback endpoint)
            f"{api_url}/invoices", headers={"Authorization": f"Bearer {issue_token(customer, 'customer')}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            items = json.loads(response.read())["items"]
        own = sorted(
            o["order_id"] for o in orders.values() if o.get("customer", {}).get("customer_id") == customer
        )
        listed = sorted({item["order_id"] for item in items})  # a corrected order lists its chain
        out(
            f"  {customer}: "
            + ", ".join(
                f"{i['invoice_number']} {i['grand_total']} {i['currency']}"
                + (f" ({i['correction_status']})" if i.get("correction_status") else "")
                for i in items
            )
        )
        outcome.check(listed == own, f"{customer} listed {listed}, owns {own}")
    try:
        urllib.request.urlopen(f"{api_url}/invoices", timeout=10)  # noqa: S310
        anonymous = 200
    except urllib.error.HTTPError as response:
        anonymous = response.code
    out(f"  without a token -> {anonymous}")
    outcome.check(anonymous == 401, f"an anonymous listing got {anonymous}")


def _check_redelivery(  # noqa: PLR0917 (one call site, each argument a different kind of thing)
    outcome: Outcome,
    pipeline: LocalPipeline,
    ledger: Any,
    events: list[dict[str, Any]],
    year: int,
    names: dict[str, str],
) -> None:
    """Deliver the whole stream and every announcement again: nothing may happen twice."""
    out = outcome.lines.append
    issued_before = ledger.last_sequence("INV", year)
    emails_before, texts_before = len(sent_emails()), len(sent_texts())
    pipeline.generator.redeliver_everything()
    for event in events:
        if event["detail-type"] == "InvoiceIssued":
            # The stages whose rules take InvoiceIssued (not the payment events' consumer).
            for stage in (
                s for s in pipeline.event_stages if s.function_name in {"vendor-invoicer", "dispatcher"}
            ):
                stage.handler(eventbridge_event(event), FakeLambdaContext(function_name=stage.function_name))
    pipeline.run_until_quiet()
    replayed = [
        e for e in read_events(names["EVENTS_OBSERVER_QUEUE_URL"]) if e["detail-type"] == "InvoiceIssued"
    ]
    issued_after = ledger.last_sequence("INV", year)
    resent = len(sent_emails()) - emails_before + len(sent_texts()) - texts_before
    out("\nRedelivery: the whole stream and every InvoiceIssued event delivered again")
    out(
        f"  invoice numbers allocated before {issued_before}, after {issued_after}; "
        f"new InvoiceIssued events {len(replayed)}; emails and texts sent again {resent}"
    )
    ok = issued_after == issued_before and not replayed and resent == 0
    outcome.check(issued_after == issued_before, "redelivery allocated new invoice numbers")
    outcome.check(not replayed, "redelivery announced invoices again")
    outcome.check(resent == 0, f"redelivery sent {resent} emails or texts again")
    outcome.check(not pipeline.dead_letters, f"events or records were dead-lettered: {pipeline.dead_letters}")
    out(f"  -> no second invoice, number, event, email or text {'(OK)' if ok else '(WRONG)'}")


def _show_corrections(  # noqa: PLR0917 (one call site, each argument a different kind of thing)
    outcome: Outcome,
    pipeline: LocalPipeline,
    ledger: Any,
    manifest: list[dict[str, Any]],
    orders: dict[str, dict[str, Any]],
    names: dict[str, str],
) -> None:
    by_email = [e for e in manifest if e["expect"] == "invoice" and e.get("delivered_by") == "email"]
    repriced, cancelled, returned = (orders[entry["file"]] for entry in by_email[:3])
    show_corrections(outcome, pipeline, ledger, repriced, cancelled, names)
    show_return(outcome, pipeline, ledger, returned, names)


def _report_delivery(outcome: Outcome, entry: dict[str, Any], record: Any, deliveries: Any) -> None:
    out = outcome.lines.append
    expected = entry.get("delivered_by")
    emails, texts = sent_emails(), sent_texts()
    sent = [d for d in deliveries.deliveries(record.invoice_number) if d["status"] == "SENT"]
    if expected == "portal":
        outcome.check(not sent, f"{record.invoice_number}: a portal-only customer was sent {sent}")
        out("          delivered: listed in the customer's account (prefers the portal; nothing sent)")
        return
    channels = [d["channel"] for d in sent]
    outcome.check(
        channels == [expected], f"{record.invoice_number}: expected one {expected} send, got {channels}"
    )
    for delivery in sent:
        message_id = delivery["provider_message_id"]
        if delivery["channel"] == "email" and message_id in emails:
            email = emails[message_id]
            outcome.check(
                email.attachment_sha256 == record.sha256,
                f"{record.invoice_number}: the emailed PDF is not the stored one",
            )
            out(
                f"          emailed: {email.subject!r} to {', '.join(email.recipients)}, "
                f"{email.attachment_name} ({email.attachment_size:,} bytes, identical to S3), id {message_id}"
            )
        elif delivery["channel"] == "sms" and message_id in texts:
            phone, text = texts[message_id]
            out(f"          texted {phone}: {text}")
        else:
            outcome.check(
                False, f"{record.invoice_number}: {delivery['channel']} {message_id} not in the outbox"
            )


def _report_rejection(
    outcome: Outcome, entry: dict[str, Any], order_id: str, record: Any, ledger: Any
) -> None:
    out = outcome.lines.append
    failure = ledger.get_validation_failure(order_id)
    outcome.check(record is None, f"{order_id}: expected no invoice, got {record and record.invoice_number}")
    if failure is None:
        outcome.check(False, f"{order_id}: expected a recorded validation failure")
        return
    codes = {issue.code.value for issue in failure.issues}
    missing = set(entry.get("codes", [])) - codes
    outcome.check(not missing, f"{order_id}: expected codes {sorted(missing)} not reported")
    out(f"[REJECTED] {order_id}: {len(failure.issues)} problems, no invoice, no number spent")
    for issue in failure.issues:
        out(f"          {issue.code.value:<28} {issue.field:<26} {issue.message}")


def _report_events(
    outcome: Outcome, events: list[dict[str, Any]], manifest: list[dict[str, Any]], access: PdfAccess
) -> None:
    issued = [e for e in events if e["detail-type"] == "InvoiceIssued" and e["detail"]["kind"] == "CUSTOMER"]
    vendor = [e for e in events if e["detail-type"] == "InvoiceIssued" and e["detail"]["kind"] == "VENDOR"]
    failed = [e for e in events if e["detail-type"] == "InvoiceValidationFailed"]
    _report_vendor_invoices(outcome, vendor, access)
    outcome.lines.append(
        f"\nEvents on the bus: {len(issued)} customer and {len(vendor)} vendor InvoiceIssued, "
        f"{len(failed)} InvoiceValidationFailed"
    )
    expected_invoices = sum(entry["expect"] == "invoice" for entry in manifest)
    outcome.check(
        len(issued) == expected_invoices, f"expected {expected_invoices} InvoiceIssued, saw {len(issued)}"
    )
    outcome.check(
        len(failed) == len(manifest) - expected_invoices, f"expected rejections announced, saw {len(failed)}"
    )


def _report_vendor_invoices(outcome: Outcome, vendor_events: list[dict[str, Any]], access: PdfAccess) -> None:
    """Every vendor of every invoiced order gets its own invoice, numbered in its own series."""
    out = outcome.lines.append
    emails = list(sent_emails().values())
    out("\nVendor invoices (own series, one per vendor of each order, emailed to the vendor)")
    numbers = []
    for event in sorted(vendor_events, key=lambda e: e["detail"]["invoice_number"]):
        detail = event["detail"]
        numbers.append(detail["invoice_number"])
        sent_to = [
            r for email in emails if detail["invoice_number"] in email.subject for r in email.recipients
        ]
        out(
            f"  {detail['invoice_number']}  order {detail['order_id']}  {detail['customer_name']}: "
            f"gross sales {detail['grand_total']} {detail['currency']}, "
            f"emailed to {', '.join(sent_to) or 'nobody'}"
        )
        outcome.check(bool(sent_to), f"{detail['invoice_number']} was not emailed to its vendor")
    sequences = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    outcome.check(sequences == list(range(1, len(numbers) + 1)), f"vendor numbers not gapless: {numbers}")
    outcome.check(len(numbers) == 12, f"expected 12 vendor invoices for the six orders, saw {len(numbers)}")


def _report_numbering(outcome: Outcome, numbers: list[str]) -> None:
    sequences = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    gapless = sequences == list(range(1, len(sequences) + 1))
    outcome.lines.append(
        f"Invoice numbers {numbers[0] if numbers else '-'} .. {numbers[-1] if numbers else '-'}: "
        f"{'gapless and unique' if gapless else 'NOT gapless'}"
    )
    outcome.check(gapless, f"invoice numbers are not gapless: {numbers}")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _year(numbers: list[str]) -> int:
    return int(numbers[0].split("-")[1]) if numbers else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "out",
        help="where to write the invoices (invoices/, vendor-invoices/) and what was sent (emails/, texts/)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="keep the stack up until Enter, to open the links"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also print the functions' JSON logs and EMF metrics"
    )
    args = parser.parse_args()
    sys.exit(run_demo(args.out, keep_running=args.wait, verbose=args.verbose))


if __name__ == "__main__":
    main()
