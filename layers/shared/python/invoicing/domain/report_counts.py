"""The counters the operations report is made from: their names, the day each belongs to, and the
histograms percentiles are read from.

The event consumer (`services/report_counting.py`) adds to per-day counters as invoicing's own
announcements arrive; a report sums the period's days. So a report reads a few items per day,
whatever the number of invoices: its cost follows the period's length, never the table.

Two kinds of day:
* an invoice's measures (issued, first send, corrected, delivered, opened, downloaded,
  undeliverable) count on the day the invoice was **issued** (UTC): a week's report is about that
  week's invoices, however late their send or correction came;
* activity (sends, bounces, complaints, downloads, rejected orders, corrections made, inquiries,
  feedback, payments) counts on the day it **happened**.

Durations go to histograms whose buckets are exact to the second up to 2 minutes, to 10 s up to
10 minutes, to the minute up to an hour, to the hour up to 48 hours and to the day beyond; a
percentile is the nearest rank over them, read as the bucket's upper edge ("p95 <= 42 s").
Means are exact (sum / count).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from invoicing.domain.events import DetailType

COUNTED_DETAIL_TYPES = (
    DetailType.INVOICE_ISSUED,
    DetailType.CREDIT_NOTE_ISSUED,
    DetailType.INVOICE_VALIDATION_FAILED,
    DetailType.INVOICE_CORRECTION_REJECTED,
    DetailType.INVOICE_SENT,
    DetailType.INVOICE_RESENT,
    DetailType.INVOICE_LISTED,
    DetailType.INVOICE_DELIVERED,
    DetailType.INVOICE_OPENED,
    DetailType.INVOICE_COMPLAINED,
    DetailType.INVOICE_DOWNLOADED,
    DetailType.INVOICE_DELIVERY_FAILED,
    DetailType.INQUIRY_OPENED,
    DetailType.INQUIRY_RESOLVED,
    DetailType.INVOICE_FEEDBACK_GIVEN,
    DetailType.INVOICE_PAYMENT_RECORDED,
    DetailType.PAYMENT_UNMATCHED,
    DetailType.INVOICE_OVERDUE,
    DetailType.RECONCILIATION_REPORT_READY,
)
"""The announcements the report counts (the counting rule's pattern, in the stack and locally)."""


class Counter:
    """The counter names (flat attributes of a day's item; `#` joins a name and its key)."""

    # An invoice's measures, on its issue day. "Invoice" is a customer invoice for a completed order
    # (not a revised invoice, a vendor invoice or a credit note, which have their own counts).
    ISSUED = "issued"
    REVISED = "revised"
    VENDOR_INVOICES = "vendor_invoices"
    ISSUE_SECONDS = "issue_s"
    ISSUE_MEASURED = "issue_n"
    ISSUE_HISTOGRAM = "h_issue"
    FIRST_SENT = "first_sent"
    FIRST_EMAILED = "first_email"
    """Of the first sends, those by email: what a delivery confirmation can follow."""
    SEND_SECONDS = "send_s"
    SEND_MEASURED = "send_n"
    SEND_HISTOGRAM = "h_send"
    SENT_WITHIN_24H = "sent_24h"
    SENT_WITHIN_MINUTE = "sent_1m"
    CORRECTED = "corrected"
    DELIVERED = "delivered"
    OPENED = "opened"
    DOWNLOADED = "downloaded"
    UNDELIVERABLE = "undeliverable"
    # Activity, on the day it happened.
    REJECTED = "rejected"
    REJECTION_CODE = "reject"
    SENDS = "sends"
    EMAILS = "emails"
    TEXTS = "texts"
    RESENDS = "resends"
    BOUNCES = "bounces"
    COMPLAINTS = "complaints"
    DOWNLOADS = "downloads"
    DOWNLOADS_REFUSED = "downloads_refused"
    CORRECTIONS = "corrections"
    CORRECTIONS_SENT = "corr_sent"
    CORRECTIONS_WITHIN_48H = "corr_48h"
    CORRECTION_HISTOGRAM = "h_corr"
    CORRECTIONS_REFUSED = "corr_refused"
    CREDIT_NOTES = "credit_notes"
    INQUIRIES = "inquiries"
    INQUIRY_CATEGORY = "inq"
    INQUIRIES_RESOLVED = "inq_resolved"
    INQUIRY_SECONDS = "inq_s"
    INQUIRY_HISTOGRAM = "h_inq"
    FEEDBACK = "feedback"
    PAYMENTS = "pay"
    RECEIVED = "received"
    REFUNDED = "refunded"
    PAYMENTS_UNMATCHED = "unmatched"
    OVERDUE = "overdue"
    RECONCILIATION = "recon"


def keyed(name: str, key: str) -> str:
    """A counter per key: `reject#TAX_MISMATCH`, `received#EUR`, `h_send#42`."""
    return f"{name}#{key}"


MINUTE, HOUR, DAY = 60, 3600, 86400
WITHIN_24H = 24 * HOUR
WITHIN_48H = 48 * HOUR


def seconds_bucket(seconds: float) -> int:
    """The histogram bucket of a duration: its upper edge in whole seconds (see the module)."""
    value = max(0.0, seconds)
    for limit, step in ((120, 1), (600, 10), (HOUR, MINUTE), (WITHIN_48H, HOUR)):
        if value <= limit:
            return math.ceil(value / step) * step
    return math.ceil(value / DAY) * DAY


def histogram_increments(name: str, seconds: float) -> dict[str, int]:
    return {keyed(name, str(seconds_bucket(seconds))): 1}


def percentile(histogram: Mapping[int, int], fraction: Decimal) -> int | None:
    """The nearest-rank percentile (`fraction` 0.5, 0.95, 0.99) as a bucket's upper edge; None if empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for edge in sorted(histogram):
        seen += histogram[edge]
        if seen >= rank:
            return edge
    return max(histogram)


class DayCounts(BaseModel):
    """One day's counters, every shard summed. A counter never written reads as zero."""

    model_config = ConfigDict(frozen=True)

    day: date
    values: dict[str, Decimal] = {}
    reconciliation: dict[str, int] = {}
    """The findings per section of the day's reconciliation report, as last made (not summed)."""

    def get(self, name: str) -> Decimal:
        return self.values.get(name, Decimal(0))

    def count(self, name: str) -> int:
        return int(self.get(name))

    def keyed(self, name: str) -> dict[str, Decimal]:
        """Every `name#key` counter, by key."""
        prefix = f"{name}#"
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}

    def histogram(self, name: str) -> dict[int, int]:
        return {int(edge): int(count) for edge, count in self.keyed(name).items()}


def sum_days(days: Iterable[DayCounts]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {}
    for day in days:
        for name, value in day.values.items():
            total[name] = total.get(name, Decimal(0)) + value
    return total


def merge_shards(day: date, shards: Iterable[Mapping[str, Decimal]]) -> DayCounts:
    values: dict[str, Decimal] = {}
    for shard in shards:
        for name, value in shard.items():
            values[name] = values.get(name, Decimal(0)) + value
    return DayCounts(day=day, values=values)
