"""The operations report's counting, against a seeded week of announcements with known answers.

Every event is delivered twice (and some a third time under another announcement id, as the sweep
or a retried attempt would): the figures must be those of one delivery. The answers below were
worked out by hand from the seeded set, not by running the code.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from invoicing.adapters.report_counters import ReportCounters
from invoicing.domain.events import (
    ChannelProblem,
    DetailType,
    InquiryChanged,
    InvoiceDeliveryFailed,
    InvoiceDeliveryOutcome,
    InvoiceDownloaded,
    InvoiceFeedbackGiven,
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaymentRecorded,
    InvoiceSent,
    InvoiceValidationFailed,
    PaymentUnmatched,
)
from invoicing.domain.operations_report import (
    OperationsReport,
    ReportPeriod,
    ReportTargets,
    Status,
    build_report,
)
from invoicing.domain.order import Channel
from invoicing.domain.report_counts import Counter
from invoicing.domain.validation import IssueCode, ValidationIssue
from invoicing.services.report_counting import CountOutcome, NotYetCounted, ReportCounting

WEEK = ReportPeriod.week_of(date(2026, 11, 25))  # Monday 23 to Sunday 29 November 2026
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SEND_SECONDS = [5, 8, 12, 30, 45, 59, 61, 200, 90000]  # invoices 1..9; invoice 10 is never sent


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def envelope(
    detail_type: DetailType, detail: BaseModel, *, announcement: str | None = None
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type.value,
        "source": "saypro.invoicing",
        "time": NOW.isoformat(),
        "resources": [f"announcement/{announcement or uuid.uuid4().hex[:16]}"],
        "detail": detail.model_dump(mode="json"),
    }


def issued(
    number: str, *, at_: datetime, completed: datetime | None, kind: str = "CUSTOMER", **more: Any
) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_number=number,
        kind=kind,
        order_id=f"ORD-{number}",
        customer_id="CUST-1",
        customer_name="Ada",
        currency="EUR",
        grand_total="10.00",
        tax_total="1.00",
        payment_status="CAPTURED",
        preferred_channels=[Channel.EMAIL],
        s3_bucket="b",
        s3_key=f"invoices/{number}.pdf",
        s3_version_id=None,
        sha256="0" * 64,
        document_key=f"invoices/{number}.json",
        document_version_id=None,
        document_sha256="0" * 64,
        issued_at=at_,
        order_completed_at=completed,
        **more,
    )


def sent(
    number: str,
    *,
    at_: datetime,
    seconds: float | None,
    channel: Channel = Channel.EMAIL,
    kind: str = "CUSTOMER",
) -> InvoiceSent:
    return InvoiceSent(
        invoice_number=number,
        kind=kind,
        order_id=f"ORD-{number}",
        customer_id="CUST-1",
        channel=channel,
        provider_message_id=uuid.uuid4().hex,
        sent_at=at_,
        seconds_since_completion=seconds,
    )


def outcome(number: str, when: datetime) -> InvoiceDeliveryOutcome:
    return InvoiceDeliveryOutcome(
        invoice_number=number, channel=Channel.EMAIL, provider_message_id="m", occurred_at=when
    )


def inquiry(category: str, opened: datetime, seconds: float | None = None) -> InquiryChanged:
    return InquiryChanged(
        inquiry_id=uuid.uuid4().hex,
        invoice_number="INV-1",
        order_id="ORD-INV-1",
        category=category,
        status="resolved" if seconds else "open",
        tier=1,
        opened_by_role="customer",
        opened_at=opened,
        resolution="explained" if seconds else None,
        seconds_to_resolve=seconds,
    )


def payment(kind: str, outcome_: str, amount: str, when: datetime) -> InvoicePaymentRecorded:
    return InvoicePaymentRecorded(
        event_id=uuid.uuid4().hex,
        kind=kind,
        outcome=outcome_,
        invoice_number="INV-1",
        order_id="ORD-INV-1",
        customer_id="CUST-1",
        currency="EUR",
        amount=amount,
        matched_by="invoice_number",
        amount_received="0",
        amount_refunded="0",
        balance_due="0",
        payment_state_before="unpaid",
        payment_state="paid",
        occurred_at=when,
        recorded_at=when,
    )


def rejected(order_id: str, codes: list[IssueCode], attempt: int) -> InvoiceValidationFailed:
    return InvoiceValidationFailed(
        order_id=order_id,
        customer_id="CUST-9",
        issues=[ValidationIssue(code=code, field="totals", message="wrong") for code in codes],
        issue_count=len(codes),
        attempts=attempt,
        failed_at=at(24, 10, attempt),
    )


def seeded_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for n in range(1, 11):
        day = 23 + (n - 1) % 5  # Monday to Friday
        completed = at(day, 10)
        events.append(
            envelope(
                DetailType.INVOICE_ISSUED,
                issued(f"INV-{n}", at_=completed + timedelta(seconds=n), completed=completed),
            )
        )
    for n, seconds in enumerate(SEND_SECONDS, start=1):
        day = 23 + (n - 1) % 5
        channel = Channel.SMS if n == 9 else Channel.EMAIL
        events.append(
            envelope(
                DetailType.INVOICE_SENT,
                sent(
                    f"INV-{n}", at_=at(day, 10) + timedelta(seconds=seconds), seconds=seconds, channel=channel
                ),
            )
        )
    # A fallback send of INV-1 (after a bounce) is a send, not a first send.
    events.append(
        envelope(DetailType.INVOICE_SENT, sent("INV-1", at_=at(23, 11), seconds=3600, channel=Channel.SMS))
    )
    # Corrections: INV-2 credited and revised on the 25th (revised invoice sent 1 h later);
    # INV-3 credited on its own on the 25th, the credit note sent 50 h later.
    events.append(
        envelope(
            DetailType.CREDIT_NOTE_ISSUED,
            issued(
                "CN-1",
                at_=at(25, 9),
                completed=None,
                kind="CREDIT_NOTE",
                credits_invoice_number="INV-2",
                replaced_by="INV-11",
            ),
        )
    )
    events.append(
        envelope(
            DetailType.INVOICE_ISSUED,
            issued(
                "INV-11", at_=at(25, 9), completed=at(24, 10), replaces="INV-2", credit_note_number="CN-1"
            ),
        )
    )
    events.append(envelope(DetailType.INVOICE_SENT, sent("INV-11", at_=at(25, 10), seconds=90000)))
    events.append(
        envelope(
            DetailType.CREDIT_NOTE_ISSUED,
            issued("CN-2", at_=at(25, 9), completed=None, kind="CREDIT_NOTE", credits_invoice_number="INV-3"),
        )
    )
    events.append(
        envelope(DetailType.INVOICE_SENT, sent("CN-2", at_=at(27, 11), seconds=None, kind="CREDIT_NOTE"))
    )
    # Vendor invoice: its own count, not an invoice of the period.
    events.append(
        envelope(
            DetailType.INVOICE_ISSUED,
            issued("VINV-1", at_=at(23, 10, 1), completed=at(23, 10), kind="VENDOR", vendor_id="V-1"),
        )
    )
    # Delivery: 7 of the 8 first emails delivered (one twice), 3 opened, a bounce and a complaint.
    for n in (1, 2, 3, 4, 5, 6, 7):
        events.append(envelope(DetailType.INVOICE_DELIVERED, outcome(f"INV-{n}", at(26))))
    events.append(envelope(DetailType.INVOICE_DELIVERED, outcome("INV-1", at(26, 13))))
    for n in (1, 2, 3):
        events.append(envelope(DetailType.INVOICE_OPENED, outcome(f"INV-{n}", at(26, 14))))
    problem = ChannelProblem(channel=Channel.EMAIL, reason="550 5.1.1 user unknown")
    events.append(
        envelope(
            DetailType.INVOICE_DELIVERY_FAILED,
            InvoiceDeliveryFailed(
                invoice_number="INV-8",
                order_id="ORD-INV-8",
                customer_id="CUST-1",
                problems=[problem],
                failed_at=at(26),
                undeliverable=True,
            ),
        )
    )
    events.append(envelope(DetailType.INVOICE_COMPLAINED, outcome("INV-7", at(27))))
    # Downloads: INV-1 three times, INV-2 once.
    for number in ("INV-1", "INV-1", "INV-1", "INV-2"):
        events.append(
            envelope(
                DetailType.INVOICE_DOWNLOADED,
                InvoiceDownloaded(invoice_number=number, party_id="CUST-1", downloaded_at=at(27)),
            )
        )
    # Rejected orders: ORD-BAD-A failed twice (two attempts, two announcements), ORD-BAD-B once.
    events.append(
        envelope(
            DetailType.INVOICE_VALIDATION_FAILED,
            rejected("ORD-BAD-A", [IssueCode.TOTAL_MISMATCH, IssueCode.PAYMENT_AMOUNT_MISMATCH], 1),
        )
    )
    events.append(
        envelope(
            DetailType.INVOICE_VALIDATION_FAILED,
            rejected("ORD-BAD-A", [IssueCode.TOTAL_MISMATCH, IssueCode.PAYMENT_AMOUNT_MISMATCH], 2),
        )
    )
    events.append(
        envelope(DetailType.INVOICE_VALIDATION_FAILED, rejected("ORD-BAD-B", [IssueCode.TOTAL_MISMATCH], 1))
    )
    # Inquiries: charges twice and tax once; two resolved, in 1 h and 2 h.
    events.append(envelope(DetailType.INQUIRY_OPENED, inquiry("charges", at(24))))
    events.append(envelope(DetailType.INQUIRY_OPENED, inquiry("charges", at(25))))
    events.append(envelope(DetailType.INQUIRY_OPENED, inquiry("tax", at(26))))
    events.append(envelope(DetailType.INQUIRY_RESOLVED, inquiry("charges", at(24), 3600)))
    events.append(envelope(DetailType.INQUIRY_RESOLVED, inquiry("tax", at(26), 7200)))
    for answer in ("yes", "yes", "yes", "no"):
        events.append(
            envelope(
                DetailType.INVOICE_FEEDBACK_GIVEN,
                InvoiceFeedbackGiven(
                    invoice_number="INV-1", order_id="ORD-INV-1", answer=answer, answered_at=at(27)
                ),
            )
        )
    events.append(
        envelope(
            DetailType.INVOICE_PAYMENT_RECORDED, payment("payment.succeeded", "matched", "10.00", at(24))
        )
    )
    events.append(
        envelope(DetailType.INVOICE_PAYMENT_RECORDED, payment("payment.succeeded", "matched", "5.55", at(25)))
    )
    events.append(
        envelope(DetailType.INVOICE_PAYMENT_RECORDED, payment("payment.partial", "partial", "1.01", at(25)))
    )
    events.append(
        envelope(DetailType.INVOICE_PAYMENT_RECORDED, payment("payment.refunded", "matched", "2.00", at(26)))
    )
    events.append(
        envelope(
            DetailType.PAYMENT_UNMATCHED,
            PaymentUnmatched(
                event_id="e",
                kind="payment.succeeded",
                amount="3.00",
                currency="EUR",
                invoice_reference=None,
                transaction_reference=None,
                order_id=None,
                customer_id=None,
                invoice_number=None,
                reasons=[],
                occurred_at=at(26),
                recorded_at=at(26),
                door="webhook",
            ),
        )
    )
    events.append(
        envelope(
            DetailType.INVOICE_OVERDUE,
            InvoiceOverdue(
                invoice_number="INV-4",
                order_id="ORD-INV-4",
                customer_id="CUST-1",
                currency="EUR",
                balance_due="10.00",
                due_date="2026-11-24",
                overdue_since="2026-11-25",
            ),
        )
    )
    # Outside the period: counted on its own day, not in the week.
    events.append(
        envelope(
            DetailType.INVOICE_ISSUED,
            issued(
                "INV-99",
                at_=datetime(2026, 11, 30, 1, tzinfo=UTC),
                completed=datetime(2026, 11, 30, tzinfo=UTC),
            ),
        )
    )
    return events


@pytest.fixture
def counters(aws: dict[str, str]) -> ReportCounters:
    return ReportCounters(aws["REPORT_COUNTERS_TABLE_NAME"], shards=4)


def weekly_report(counters: ReportCounters) -> OperationsReport:
    return build_report(WEEK, counters.days(WEEK.days()), ReportTargets(), NOW)


def test_the_seeded_week_gives_the_known_answers_once_however_often_each_event_arrives(
    counters: ReportCounters,
) -> None:
    counting = ReportCounting(counters, clock=lambda: NOW)
    events = seeded_events()
    outcomes = [counting.count(e).outcome for e in events]
    again = [counting.count(e).outcome for e in events]  # every copy delivered again
    assert CountOutcome.COUNTED in outcomes
    assert set(again) <= {CountOutcome.DUPLICATE, CountOutcome.IGNORED}
    counters.add_now(date(2026, 11, 27), {Counter.DOWNLOADS_REFUSED: 3})
    counters.set_reconciliation(date(2026, 11, 24), {"payment_without_invoice": 1, "duplicate": 0})
    counters.set_reconciliation(date(2026, 11, 25), {"payment_without_invoice": 2})

    report = weekly_report(counters)
    value = {f.key: f.value for f in report.figures}
    assert value["invoices_issued"] == 10
    assert value["orders_rejected"] == 2
    assert value["revised_invoices_issued"] == 1
    assert value["credit_notes_issued"] == 2
    assert value["vendor_invoices_issued"] == 1
    assert value["invoices_corrected"] == 2
    assert value["accuracy_pct"] == 80
    assert value["issue_seconds_mean"] == Decimal("5.5")  # 1..10 seconds
    assert (value["issue_seconds_p50"], value["issue_seconds_p95"], value["issue_seconds_p99"]) == (5, 10, 10)
    assert value["send_seconds_mean"] == Decimal(sum(SEND_SECONDS)) / 9
    assert (value["send_seconds_p50"], value["send_seconds_p95"], value["send_seconds_p99"]) == (
        45,
        90000,
        90000,
    )
    assert value["sent_within_24h_pct"] == 80  # 8 of 10: one took 25 h, one was never sent
    assert value["sent_within_1min_pct"] == 60
    assert value["invoices_not_yet_sent"] == 1
    assert value["delivery_success_pct"] == Decimal("87.5")  # 7 of the 8 first sent by email
    assert value["sends"] == 12  # 9 first sends, the fallback, the revised invoice, the credit note
    assert (value["emails_sent"], value["texts_sent"]) == (10, 2)
    assert (value["bounces"], value["complaints"]) == (1, 1)
    assert value["bounce_rate_pct"] == 10
    assert value["invoices_opened"] == 3
    assert (value["downloads"], value["invoices_downloaded"], value["downloads_refused"]) == (4, 2, 3)
    assert value["invoices_undeliverable"] == 1
    assert value["corrections"] == 2
    assert value["corrections_within_48h_pct"] == 50  # the revised invoice in 1 h; the credit note in 50 h
    assert (value["inquiries_opened"], value["inquiries_resolved"]) == (3, 2)
    assert value["inquiry_seconds_mean"] == 5400
    assert value["inquiry_seconds_p95"] == 7200
    assert (value["feedback_yes"], value["feedback_no"], value["feedback_negative_pct"]) == (3, 1, 25)
    assert (value["payments_matched"], value["payments_partial"], value["payments_overpaid"]) == (2, 1, 0)
    assert value["payments_unmatched"] == 1
    assert value["invoices_overdue"] == 1
    assert value["received_EUR"] == Decimal("16.56")
    assert value["refunded_EUR"] == Decimal("2.00")
    assert value["reconciliation_payment_without_invoice"] == 3
    assert report.rejections_by_code == {"TOTAL_MISMATCH": 2, "PAYMENT_AMOUNT_MISMATCH": 1}
    assert report.inquiries_by_category == {"charges": 2, "tax": 1}
    assert report.send_distribution == [
        ("<= 10 s", 2),
        ("<= 30 s", 2),
        ("<= 1 min", 2),
        ("<= 5 min", 2),
        ("<= 1 h", 0),
        ("<= 24 h", 0),
        ("> 24 h", 1),
    ]
    assert [row.issued for row in report.daily] == [2, 2, 2, 2, 2, 0, 0]
    assert [row.rejected for row in report.daily] == [0, 2, 0, 0, 0, 0, 0]
    deviations = {f.key for f in report.deviations}
    assert deviations == {
        "accuracy_pct",
        "send_seconds_p95",
        "sent_within_24h_pct",
        "delivery_success_pct",
        "bounce_rate_pct",
        "complaint_rate_pct",
        "corrections_within_48h_pct",
        "feedback_negative_pct",
    }
    assert report.figure("texts_sent").status is Status.NONE


def test_an_event_about_an_invoice_not_yet_counted_is_retried_then_counted(counters: ReportCounters) -> None:
    counting = ReportCounting(counters, clock=lambda: NOW)
    early = envelope(DetailType.INVOICE_SENT, sent("INV-7", at_=at(29, 10, 0, 30), seconds=30))
    with pytest.raises(NotYetCounted):
        counting.count(early)
    counting.count(
        envelope(DetailType.INVOICE_ISSUED, issued("INV-7", at_=at(29, 10, 0, 2), completed=at(29, 10)))
    )
    assert counting.count(early).outcome is CountOutcome.COUNTED
    report = weekly_report(counters)
    assert report.figure("sent_within_1min_pct").value == 100


def test_a_late_event_about_an_invoice_never_counted_is_activity_only(counters: ReportCounters) -> None:
    later = ReportCounting(counters, clock=lambda: NOW + timedelta(hours=1))
    assert (
        later.count(envelope(DetailType.INVOICE_SENT, sent("INV-OLD", at_=at(29), seconds=30))).outcome
        is CountOutcome.COUNTED
    )
    report = weekly_report(counters)
    assert (report.figure("sends").value, report.figure("invoices_issued").value) == (1, 0)
    assert report.figure("sent_within_24h_pct").status is Status.NO_DATA


def test_an_empty_period_has_no_data_rather_than_perfect_figures(counters: ReportCounters) -> None:
    report = weekly_report(counters)
    assert report.figure("accuracy_pct").value is None
    assert report.figure("accuracy_pct").status is Status.NO_DATA
    assert report.deviations == []


def test_an_event_that_races_another_about_the_same_invoice_is_counted_again_from_fresh_facts(
    counters: ReportCounters,
) -> None:
    counting = ReportCounting(counters, clock=lambda: NOW)
    counting.count(
        envelope(DetailType.INVOICE_ISSUED, issued("INV-R", at_=at(24, 10, 0, 1), completed=at(24, 10)))
    )
    email = envelope(DetailType.INVOICE_SENT, sent("INV-R", at_=at(24, 10, 0, 5), seconds=5))
    text = envelope(
        DetailType.INVOICE_SENT, sent("INV-R", at_=at(24, 10, 0, 6), seconds=6, channel=Channel.SMS)
    )
    real_record = counters.record
    raced = []

    def record_after_the_other(counted_id: str, tally: Any, now: datetime) -> bool:
        if not raced:  # the text's first-send fact lands between this event's read and its write
            raced.append(text)
            counting.count(text)
        return real_record(counted_id, tally, now)

    counters.record = record_after_the_other  # type: ignore[method-assign]
    assert counting.count(email).outcome is CountOutcome.COUNTED
    report = weekly_report(counters)
    assert (report.figure("sends").value, report.figure("invoices_issued").value) == (2, 1)
    assert report.figure("send_seconds_mean").value == 6  # the text was first; the email is a second send
    assert (report.figure("emails_sent").value, report.figure("texts_sent").value) == (1, 1)


def test_an_invoice_listed_in_the_account_by_choice_counts_as_sent_without_a_message(
    counters: ReportCounters,
) -> None:
    from invoicing.domain.events import InvoiceListed

    counting = ReportCounting(counters, clock=lambda: NOW)
    counting.count(
        envelope(DetailType.INVOICE_ISSUED, issued("INV-P", at_=at(26, 10, 0, 1), completed=at(26, 10)))
    )
    listed = InvoiceListed(
        invoice_number="INV-P",
        kind="CUSTOMER",
        order_id="ORD-P",
        customer_id="C",
        listed_at=at(26, 10, 0, 2),
        seconds_since_completion=2,
    )
    assert counting.count(envelope(DetailType.INVOICE_LISTED, listed)).outcome is CountOutcome.COUNTED
    report = weekly_report(counters)
    assert (
        report.figure("sent_within_1min_pct").value == 100
        and report.figure("invoices_not_yet_sent").value == 0
    )
    assert report.figure("sends").value == 0 and report.figure("delivery_success_pct").value is None
