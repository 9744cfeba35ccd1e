"""The demo's operations report: this week's, to date, made by the real function from the counters
the report counter kept while the demo ran, written to out/reports/<OPS-...>/ (PDF and CSV), and
its signed link opened as operations and finance would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import boto3

from infra.local.demo_corrections import Checks
from infra.local.demo_payments import _status_of
from infra.local.pipeline import LocalPipeline
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_module

HEADLINES = (
    "invoices_issued",
    "orders_rejected",
    "accuracy_pct",
    "send_seconds_p95",
    "sent_within_24h_pct",
    "delivery_success_pct",
    "corrections",
    "inquiries_opened",
)


def show_operations_report(
    outcome: Checks, pipeline: LocalPipeline, names: dict[str, str], api_url: str, out_dir: Path
) -> None:
    from invoicing.settings import operations_reports_settings

    out = outcome.lines.append
    pipeline.run_until_quiet()  # everything announced so far is counted
    operations_reports_settings.cache_clear()
    function = load_module("operations_reports")
    today = datetime.now(UTC).date()
    made = function.lambda_handler(
        {"period": "week", "day": today.isoformat()}, FakeLambdaContext(function_name="operations-reports")
    )
    report_id = made["report_id"]
    s3, bucket = boto3.client("s3"), names["INVOICE_BUCKET_NAME"]
    folder = out_dir / "reports" / report_id
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("report.pdf", "figures.csv", "daily.csv"):
        body = s3.get_object(Bucket=bucket, Key=f"reports/operations/{report_id}/{name}")["Body"].read()
        (folder / name).write_bytes(body)
    report = function.reports.build(function.period_of({"period": "week", "day": today.isoformat()}, today))
    out(f"\nOperations report {report_id} ({report.period.title}, to date), from the report counters:")
    for key in HEADLINES:
        figure = report.figure(key)
        target = f"  target {figure.target}: {figure.status.value}" if figure.target else ""
        out(f"  {figure.label:<32} {figure.shown:>10}{target}")
    deviations = ", ".join(f.label for f in report.deviations) or "none"
    out(f"  deviations flagged: {deviations}")
    if report.figure("delivery_success_pct").value == 0:
        out("  (embedded SES sends no Delivery notifications, so no email is confirmed delivered here)")
    ready = [
        e["detail"]
        for e in read_events(names["FINANCE_INBOX_QUEUE_URL"])
        if e["detail-type"] == "OperationsReportReady"
    ]
    status = (
        _status_of(ready[-1]["pdf_url"].replace("https://invoices.saypro.example", api_url)) if ready else 0
    )
    out(
        f"  the signed link operations and finance get to report.pdf -> {status}; "
        f"files in out/reports/{report_id}/"
    )
    issued = report.figure("invoices_issued").value or 0
    outcome.check(issued >= 6, f"the operations report counted {issued} invoices this week")
    outcome.check(status == 302, "the operations report's signed link did not open")
    outcome.check(
        (folder / "report.pdf").read_bytes().startswith(b"%PDF-"), "the operations report is not a PDF"
    )
