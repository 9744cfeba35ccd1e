"""The sweep's rules: when to push an item again, when to tell a person, when to warn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from invoicing.domain.ses_notifications import MAX_SOFT_BOUNCES, soft_bounce_retry_at, statuses_before
from invoicing.domain.sla import (
    MAX_REDRIVES,
    BacklogEntry,
    SweepKind,
    backoff,
    should_redrive,
    should_remind,
    should_warn,
    sla_at_risk,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=2)
DAY = timedelta(hours=24)


def entry(kind: SweepKind, age: timedelta, **fields: object) -> BacklogEntry:
    since = NOW - age
    return BacklogEntry(
        kind=kind, pk="INVOICE#INV-2026-000001", sk="INVOICE", since=since, due_at=since, **fields
    )


def test_the_normal_path_gets_the_grace_period_before_the_sweep_steps_in() -> None:
    assert not should_redrive(entry(SweepKind.INVOICE_UNSENT, timedelta(seconds=90)), NOW, GRACE)
    assert should_redrive(entry(SweepKind.INVOICE_UNSENT, timedelta(minutes=3)), NOW, GRACE)


def test_re_drives_back_off_and_stop_after_the_limit_then_remind() -> None:
    assert [backoff(n) for n in range(4)] == [timedelta(minutes=m) for m in (2, 4, 8, 16)]
    assert backoff(30) == timedelta(hours=2)
    exhausted = entry(SweepKind.INVOICE_UNSENT, timedelta(hours=3), attempts=MAX_REDRIVES)
    assert not should_redrive(exhausted, NOW, GRACE)
    assert should_remind(exhausted, NOW, GRACE, DAY)


def test_people_are_reminded_of_what_needs_them_once_per_interval() -> None:
    failure = entry(SweepKind.VALIDATION_FAILURE, timedelta(hours=1))
    assert not should_redrive(failure, NOW, GRACE) and should_remind(failure, NOW, GRACE, DAY)
    reminded = entry(SweepKind.VALIDATION_FAILURE, timedelta(hours=30), reminded_at=NOW - timedelta(hours=5))
    assert not should_remind(reminded, NOW, GRACE, timedelta(hours=6))
    assert should_remind(reminded, NOW + timedelta(hours=1), GRACE, timedelta(hours=6))
    assert not should_remind(entry(SweepKind.INVOICE_UNSENT, timedelta(hours=1)), NOW, GRACE, DAY)


def test_an_invoice_late_against_the_24_hours_is_warned_once_before_the_breach() -> None:
    completed = NOW - timedelta(hours=21)
    late = entry(SweepKind.INVOICE_UNSENT, timedelta(minutes=5), order_completed_at=completed)
    assert sla_at_risk(late, NOW, timedelta(hours=20)) and should_warn(late, NOW, timedelta(hours=20))
    warned = late.model_copy(update={"warned_at": NOW})
    assert sla_at_risk(warned, NOW, timedelta(hours=20)) and not should_warn(warned, NOW, timedelta(hours=20))
    failure = entry(SweepKind.VALIDATION_FAILURE, timedelta(hours=23))
    assert not sla_at_risk(failure, NOW, timedelta(hours=20))  # not a delivery: reminded instead


def test_soft_bounces_are_retried_later_then_given_up() -> None:
    assert soft_bounce_retry_at(0, NOW) == NOW + timedelta(minutes=30)
    assert soft_bounce_retry_at(1, NOW) == NOW + timedelta(hours=2)
    assert soft_bounce_retry_at(MAX_SOFT_BOUNCES - 1, NOW) is None


def test_a_bounce_may_follow_a_send_or_a_delivery_but_nothing_follows_a_bounce() -> None:
    assert statuses_before("BOUNCED") >= {"SENT", "DELIVERED", "DEFERRED"}
    assert "BOUNCED" not in statuses_before("DELIVERED") and "COMPLAINED" not in statuses_before("BOUNCED")


def test_announcements_and_vendor_invoices_are_never_given_up_but_people_hear_of_them() -> None:
    for kind in (SweepKind.EVENT_UNPUBLISHED, SweepKind.VENDOR_INVOICES_DUE):
        stuck = entry(kind, timedelta(hours=3), attempts=MAX_REDRIVES + 5)
        assert should_redrive(stuck, NOW, GRACE)  # still pushed, every two hours at most
        assert should_remind(stuck, NOW, GRACE, DAY)  # and operations are told
        assert backoff(stuck.attempts) == timedelta(hours=2)
