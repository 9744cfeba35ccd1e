"""`make local`: keep the embedded stack running so a person can write orders and open invoices.

Starts moto on 127.0.0.1:4566 (override with --port) and the local API (download links, the
invoices API, the SES webhook) on 127.0.0.1:8787 (override with --api-port), creates the
resources, optionally writes the sample orders, and keeps delivering the Orders stream to the real
generator, printing each new invoice with a presigned link that opens the PDF. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import sys
import time
from pathlib import Path

from infra.local import ROOT
from infra.local.api_server import AWS_LOCK, start_api_server
from infra.local.demo_sla import read_operations_inbox, scheduled_tick
from infra.local.orders import load_order, put_order
from infra.local.outbox import clear_previous_run, sent_emails, sent_texts, write_sent_messages
from infra.local.pipeline import LocalPipeline
from infra.local.progress import configure_function_output
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler, presigning_s3_client, start_local_stack
from infra.local.sns_signer import LocalSns
from infra.local.vendors import load_vendors, put_vendors

PREFIX = "saypro-local"
OUT = ROOT / "out"
DEFAULT_PORT = 4566
DEFAULT_API_PORT = 8787
REPORT_EVERY_SECONDS = 3600


def serve(  # noqa: PLR0917 (the command line's options, one call site)
    port: int,
    with_samples: bool,
    poll_seconds: float,
    sweep_seconds: float = 60.0,
    verbose: bool = False,
    api_port: int = DEFAULT_API_PORT,
    out_dir: Path = OUT,
) -> None:
    configure_function_output(verbose)  # the functions' JSON logs and metrics only with --verbose
    stack = start_local_stack(port=port, prefix=PREFIX, api_port=api_port)
    names = stack.names
    put_vendors(names["VENDORS_TABLE_NAME"], load_vendors(ROOT / "events" / "vendors" / "vendors.json"))
    pipeline = LocalPipeline.start(names)
    sns = LocalSns.create(names["NOTIFICATION_TOPIC_ARNS"])
    _, api_url = start_api_server(int(names["API_PORT"]), sns)
    sweeper = load_handler("sla_sweeper")
    reports = load_handler("operations_reports")
    last_sweep = last_report = float("-inf")
    s3 = presigning_s3_client()
    _print_addresses(stack.endpoint, names, api_url, sweep_seconds)
    if with_samples:
        for path in sorted((ROOT / "events" / "orders").glob("*.json")):
            if path.name != "manifest.json":
                put_order(names["ORDERS_TABLE_NAME"], load_order(path))
    reported: set[str] = set()
    clear_previous_run(out_dir)  # out/emails/ and out/texts/ hold this run's messages
    try:
        while True:
            with AWS_LOCK:
                pipeline.run_until_quiet()
            if time.monotonic() - last_sweep >= sweep_seconds:
                with AWS_LOCK:
                    sweeper(scheduled_tick(), FakeLambdaContext(function_name="sla-sweeper"))
                    pipeline.run_until_quiet()
                last_sweep = time.monotonic()
                for digest in read_operations_inbox(names["OPERATIONS_INBOX_QUEUE_URL"]):
                    print(f"Operations digest:\n{digest}")
            if time.monotonic() - last_report >= REPORT_EVERY_SECONDS:
                # This week's operations report to date, as the schedule makes last week's: the
                # console's Reports tab lists it.
                with AWS_LOCK:
                    made = reports(
                        {"period": "week"} | {"day": time.strftime("%Y-%m-%d", time.gmtime())},
                        FakeLambdaContext(function_name="operations-reports"),
                    )
                last_report = time.monotonic()
                print(f"Operations report {made.get('report_id')} made: the console's Reports tab shows it.")
            for event in read_events(names["EVENTS_OBSERVER_QUEUE_URL"]):
                _announce(event, s3)
            _report_sent(reported, out_dir)
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        print("\nStopping the local stack.")
    finally:
        stack.stop()


def _print_addresses(endpoint: str, names: dict[str, str], api_url: str, sweep_seconds: float) -> None:
    print(f"Embedded AWS is up at {endpoint} (region eu-west-1, any credentials).")
    print(
        f"  Orders table {names['ORDERS_TABLE_NAME']}, bucket {names['INVOICE_BUCKET_NAME']}, "
        f"bus {names['EVENT_BUS_NAME']}"
    )
    print("Write an order as the storefront would, from another terminal:")
    print(
        f"  .venv/bin/python -m infra.local.put_order events/orders/jpy-zero-decimals.json "
        f"--endpoint {endpoint} --order-id ORD-MINE-1"
    )
    print(f"Download links in emails and texts are served by the local API at {api_url}: a browser gets")
    print("the invoice page, anything else the PDF.")
    print(f"The account's Invoices section (sign in as a sample customer): {api_url}/account/")
    print(f"The back-office console (customer service, operations, finance): {api_url}/console/")
    print("Both sign in through the local identity provider: choose a test account on its page.")
    print("List that customer's invoices (Yuki Tanaka's) with a local test token:")
    print(
        f'  curl -H "Authorization: Bearer $(.venv/bin/python -m infra.local.tokens --sub CUST-YUKI)" '
        f"{api_url}/invoices"
    )
    print(f"SES notifications (signed as SNS) are taken at {api_url}/webhooks/ses; the SLA sweep ticks every")
    print(f"{sweep_seconds:.0f} s, and operations' digests are printed here.")
    print(
        f"Payment events are taken at {api_url}/webhooks/payments, signed with the local secret "
        "whsec_local_test_only (README, 'Payments')."
    )
    print("Invoices appear below with a link that opens the PDF. Ctrl-C stops.\n")


def _report_sent(reported: set[str], out_dir: Path) -> None:
    """Each new email and text: printed, and written as sent to out/emails/ and out/texts/."""
    emails, texts = sent_emails(), sent_texts()
    if not (set(emails) | set(texts)) - reported:
        return
    written = write_sent_messages(out_dir)
    for message_id in [m for m in emails if m not in reported]:
        email = emails[message_id]
        print(
            f"  emailed {', '.join(email.recipients)}: {email.subject!r} with {email.attachment_name}"
            f" -> {_shown(written[message_id])}"
        )
        reported.add(message_id)
    for message_id, (phone, text) in texts.items():
        if message_id not in reported:
            print(f"  texted {phone}: {text} -> {_shown(written[message_id])}")
            reported.add(message_id)


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _announce(event: dict, s3: object) -> None:  # type: ignore[type-arg]
    detail = event["detail"]
    if event["detail-type"] == "InvoiceIssued":
        link = s3.generate_presigned_url(  # type: ignore[attr-defined]
            "get_object",
            Params={
                "Bucket": detail["s3_bucket"],
                "Key": detail["s3_key"],
                "ResponseContentDisposition": f'inline; filename="{detail["invoice_number"]}.pdf"',
            },
            ExpiresIn=3600,
        )
        print(
            f"InvoiceIssued  {detail['order_id']} -> {detail['invoice_number']}  "
            f"{detail['grand_total']} {detail['currency']}\n  {link}"
        )
    else:
        print(f"{event['detail-type']}  {json.dumps(detail, ensure_ascii=False)}")


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound (LocalStack's default, 4566, often is not)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="embedded AWS; 0 picks a free one")
    parser.add_argument(
        "--api-port", type=int, default=DEFAULT_API_PORT, help="the local API; 0 picks a free one"
    )
    parser.add_argument("--with-samples", action="store_true", help="write every sample order at start")
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    parser.add_argument("--sweep-seconds", type=float, default=60.0, help="how often the SLA sweep ticks")
    parser.add_argument(
        "--verbose", action="store_true", help="also print the functions' JSON logs and EMF metrics"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the emails and texts as sent")
    args = parser.parse_args()
    if isinstance(sys.stdout, io.TextIOWrapper):  # each line as it happens, when piped too
        sys.stdout.reconfigure(line_buffering=True)
    if args.port and not port_is_free(args.port):
        print(
            f"make local: port {args.port} on 127.0.0.1 is already taken (LocalStack uses 4566). "
            "Stop whatever holds it, or pick another: .venv/bin/python -m infra.local.serve --port 4567 "
            "(or --port 0 for any free one; the address is printed).",
            file=sys.stderr,
        )
        sys.exit(2)
    if args.api_port and (args.api_port == args.port or not port_is_free(args.api_port)):
        print(
            f"make local: port {args.api_port} on 127.0.0.1, for the local API, is already taken "
            "(an earlier make local still running?). Stop whatever holds it, or pick another: "
            ".venv/bin/python -m infra.local.serve --api-port 8788 (or --api-port 0 for any free one; "
            "the address is printed).",
            file=sys.stderr,
        )
        sys.exit(2)
    serve(
        args.port,
        args.with_samples,
        args.poll_seconds,
        args.sweep_seconds,
        verbose=args.verbose,
        api_port=args.api_port,
        out_dir=args.out,
    )


if __name__ == "__main__":
    main()
