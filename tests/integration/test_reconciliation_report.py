"""The reconciliation report against a seeded set of invoices and payments with known answers:
each section's rows, the ageing buckets per currency, the files in S3, the signed links finance
opens (and a forged one refused), and the figures announced."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from infra.local.api_server import http_api_event
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_module
from invoicing.adapters.event_publisher import EventPublisher
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.payment_ledger import PaymentLedger
from invoicing.adapters.report_store import ReportStore
from invoicing.adapters.sweep_index import SweepIndex
from invoicing.domain.reconciliation import ageing_bucket
from invoicing.services.download_links import DownloadLinks
from invoicing.services.reconciliation import Reconciliation
from tests.conftest import make_order
from tests.integration.test_payment_intake import event, intake, issue
from tests.integration.test_receivables import at, tick
from tests.unit.test_payment_terms import bank_transfer

DAY = date(2026, 12, 10)
BASE_URL = "https://invoices.saypro.example"


def reconciliation(aws: dict[str, str]) -> Reconciliation:
    table = aws["INVOICES_TABLE_NAME"]
    links = DownloadLinks(LinkKeySource(aws["LINK_KEYS_SECRET_ID"]), BASE_URL, timedelta(days=30))
    return Reconciliation(
        index=SweepIndex(table),
        ledger=InvoiceLedger(table),
        payments=PaymentLedger(table),
        reports=ReportStore(aws["INVOICE_BUCKET_NAME"]),
        events=EventPublisher(aws["EVENT_BUS_NAME"]),
        link_for=links.report_link,
        clock=lambda: at(11, 2),
    )


def completed(day: str, order_id: str) -> dict[str, Any]:
    return bank_transfer(order_id=order_id, completed_at=f"{day}T12:00:00Z")


@pytest.fixture
def seeded(aws: dict[str, str]) -> dict[str, str]:
    numbers = {
        "unpaid": issue(aws, bank_transfer(order_id="ORD-UNPAID")),  # due 5 Dec: 5 days late
        "partly": issue(aws, bank_transfer(order_id="ORD-PARTLY")),
        "paid": issue(aws, bank_transfer(order_id="ORD-PAID")),
        "not_due": issue(aws, completed("2026-12-01", "ORD-NOT-DUE")),  # due 15 Dec
        "late_56": issue(aws, completed("2026-10-01", "ORD-OCT")),  # due 15 Oct: 56 days
        "late_117": issue(aws, completed("2026-08-01", "ORD-AUG")),  # due 15 Aug: 117 days
        "card": issue(aws, make_order(order_id="ORD-CARD")),
    }
    on_day = intake(aws, at(10))
    on_day.receive(event("e-partial", "20.00", invoice_reference=numbers["partly"]), door="webhook")
    on_day.receive(
        event("e-paid", "52.73", kind="payment.succeeded", invoice_reference=numbers["paid"]), door="w"
    )
    on_day.receive(
        event("e-again", "52.73", kind="payment.succeeded", invoice_reference=numbers["paid"]), door="w"
    )
    on_day.receive(event("e-unknown", "10.00", invoice_reference="INV-2026-999999"), door="webhook")
    on_day.receive(event("e-usd", "52.73", invoice_reference=numbers["unpaid"], currency="USD"), door="w")
    on_day.receive(
        event("e-refund", "5.00", kind="payment.refunded", transaction_reference="pi_3Nx"), door="w"
    )
    intake(aws, at(9)).receive(event("e-yesterday", "1.00", invoice_reference="INV-2026-888888"), door="w")
    return numbers


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_each_section_holds_exactly_what_the_seeded_day_calls_for(
    aws: dict[str, str], seeded: dict[str, str]
) -> None:
    report = reconciliation(aws).build(DAY)
    sections = {(f.section.value, f.invoice_number or f.event_id) for f in report.findings}
    assert (
        sections
        == {
            ("invoice_without_payment", seeded["unpaid"]),
            ("invoice_without_payment", seeded["late_56"]),
            ("invoice_without_payment", seeded["late_117"]),
            ("amount_difference", seeded["partly"]),  # overdue, partly paid
            ("amount_difference", seeded["partly"]),  # the day's partial payment
            ("duplicate", seeded["paid"]),
            ("payment_without_invoice", "e-unknown"),
            ("currency_difference", seeded["unpaid"]),
            ("refund_without_credit_note", seeded["card"]),
        }
        and len(report.findings) == 9
    )
    assert report.payments_recorded == 6  # the day's, not yesterday's
    (eur,) = report.ageing
    assert eur.currency == "EUR" and (eur.open_invoices, eur.overdue_invoices) == (5, 4)
    assert {k: str(v) for k, v in eur.buckets.items()} == {
        "current": "52.73",
        "1-30": "85.46",  # 52.73 unpaid + 32.73 still owed of the partly paid one
        "31-60": "52.73",
        "61-90": "0",
        "over-90": "52.73",
    }
    (late,) = [f for f in report.findings if f.invoice_number == seeded["late_117"]]
    assert late.days_past_due == 117 and late.due_date == date(2026, 8, 15)


def test_the_files_are_stored_linked_and_announced_and_only_a_signed_link_opens_them(
    aws: dict[str, str], seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    report = reconciliation(aws).publish(DAY)
    s3 = boto3.client("s3")
    stored = s3.get_object(
        Bucket=aws["INVOICE_BUCKET_NAME"], Key="reports/reconciliation/RECON-2026-12-10/findings.csv"
    )
    findings = rows(stored["Body"].read().decode())
    assert len(findings) == 9 and set(findings[0]) >= {"section", "invoice_number", "reason_codes", "detail"}
    (unknown,) = [r for r in findings if r["event_id"] == "e-unknown"]
    assert unknown["reason_codes"] == "UNKNOWN_INVOICE_REFERENCE" and unknown["amount"] == "10.00"
    assert (unknown["invoice_number"], unknown["due_date"], unknown["days_past_due"]) == ("", "", "")
    ageing = rows(
        s3.get_object(
            Bucket=aws["INVOICE_BUCKET_NAME"], Key="reports/reconciliation/RECON-2026-12-10/ageing.csv"
        )["Body"]
        .read()
        .decode()
    )
    assert ageing == [
        {
            "currency": "EUR",
            "current": "52.73",
            "1-30": "85.46",
            "31-60": "52.73",
            "61-90": "0.00",
            "over-90": "52.73",
            "total": "243.65",
            "open_invoices": "5",
            "overdue_invoices": "4",
        }
    ]
    (ready,) = [
        e["detail"]
        for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
        if e["detail-type"] == "ReconciliationReportReady"
    ]
    assert (
        ready["report_id"] == report.report_id
        and ready["findings"] == 9
        and ready["outstanding"] == {"EUR": "243.65"}
    )
    assert ready["counts"]["invoice_without_payment"] == 3

    from invoicing.settings import download_settings

    download_settings.cache_clear()
    download = load_module("invoice_download")

    def get(url: str) -> dict[str, Any]:
        path = url.removeprefix(BASE_URL)
        route_path, _, query = path.partition("?")
        parts = route_path.split("/")
        event = http_api_event(
            "GET",
            path,
            {},
            "/reports/{report_id}/{file_name}",
            {"report_id": parts[2], "file_name": parts[3]},
        )
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&")) if query else None
        answer: dict[str, Any] = download.lambda_handler(event, FakeLambdaContext(function_name="download"))
        return answer

    opened = get(ready["findings_url"])
    assert (
        opened["statusCode"] == 302
        and "reports/reconciliation/RECON-2026-12-10/findings.csv" in opened["headers"]["Location"]
    )
    token = ready["findings_url"].partition("token=")[2]
    for forged in (
        ready["findings_url"].replace("findings.csv", "ageing.csv"),  # another file, same token
        ready["findings_url"].replace("RECON-2026-12-10", "RECON-2026-12-09"),
        ready["findings_url"].replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        f"{BASE_URL}/reports/RECON-2026-12-10/findings.csv",
    ):
        assert get(forged)["statusCode"] == 403, forged


def test_the_daily_task_reports_yesterday_through_the_function(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from invoicing.settings import receivables_settings

    monkeypatch.setenv("DOWNLOAD_BASE_URL", BASE_URL)
    receivables_settings.cache_clear()
    function = load_module("receivables")
    answer = function.lambda_handler(
        {"task": "reconciliation", "day": "2026-12-10"}, FakeLambdaContext(function_name="receivables")
    )
    assert answer["report_id"] == "RECON-2026-12-10" and sum(answer["counts"].values()) == 0
    assert tick(aws, at(10)).failed == 0


@pytest.mark.parametrize(
    ("due", "bucket"),
    [
        (10, "current"),
        (9, "1-30"),
        (-20, "1-30"),
        (-21, "31-60"),
        (-50, "31-60"),
        (-51, "61-90"),
        (-80, "61-90"),
        (-81, "over-90"),
    ],
)
def test_ageing_buckets_at_their_edges(due: int, bucket: str) -> None:
    assert ageing_bucket(DAY + timedelta(days=due - 10), DAY) == bucket


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text() -> None:
    from invoicing.domain.reconciliation import Finding, ReconciliationReport, Section

    finding = Finding(
        section=Section.PAYMENT_WITHOUT_INVOICE,
        currency="EUR",
        customer_id='=HYPERLINK("http://x")',
        event_id="@SUM(A1)",
        amount="-5.00",
        detail="+1",
        order_id="-2+3",
    )
    report = ReconciliationReport(
        report_id="RECON-2026-12-10",
        day=DAY,
        generated_at=at(11),
        findings=[finding],
        ageing=[],
        payments_recorded=1,
    )
    (row,) = rows(report.findings_csv())
    assert row["customer_id"] == '\'=HYPERLINK("http://x")' and row["event_id"] == "'@SUM(A1)"
    assert row["detail"] == "'+1" and row["amount"] == "-5.00" and row["invoice_number"] == ""
    assert row["order_id"] == "'-2+3"
