"""Plain-data description of the stateful resources, shared by the CDK stack and the local stack.

Both `infra/constructs/` (CDK) and `infra/local/` (moto) build tables, bucket and bus from these
specs, so the local demo runs against the same keys, indexes and streams that are deployed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str = "S"  # DynamoDB attribute type: S, N or B


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: KeySpec
    sort_key: KeySpec | None = None
    include: tuple[str, ...] | None = None
    """Project only the keys and these attributes (an index read to find, not to show); None: all."""


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    partition_key: KeySpec
    sort_key: KeySpec | None = None
    stream_view_type: str | None = None  # e.g. NEW_AND_OLD_IMAGES
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)
    time_to_live_attribute: str | None = None


# No index here on purpose: an index key rejects a write whose attribute is null, and the
# storefront writes `"completed_at": null` until an order completes. An order whose stream record
# failed is found through the stream's on-failure queue instead (see services/sla_sweep.py).
ORDERS_TABLE = TableSpec(
    logical_id="Orders",
    partition_key=KeySpec("order_id"),
    stream_view_type="NEW_AND_OLD_IMAGES",
)

# Single table for everything invoicing owns (see adapters/invoice_ledger.py for the item shapes):
#   INVOICE#<number> / INVOICE              the invoice record
#   ORDER#<order_id> / CUSTOMER_INVOICE     the claim that makes one order -> one invoice
#   ORDER#<order_id> / VENDOR_INVOICE#<v>   the same for vendor v's invoice of that order
#   ORDER#<order_id> / VALIDATION_FAILURE   why an order could not be invoiced
#   ORDER#<order_id> / VENDOR_INVOICES      the vendor invoices the order is due
#   COUNTER#<series>#<year> / COUNTER       the gapless number sequence
#   <partition> / OUTBOX#...                an announcement, published from the table's stream
# `sweep` is sparse: an item is in it only while it needs the SLA sweep (an invoice not yet sent, a
# send in doubt, an email retry, an open validation failure, an undeliverable invoice, an
# unpublished announcement, vendor invoices due), keyed by kind and the moment the sweep should
# next act on it. Leaving the state removes the attributes. It projects only what the sweep reads.
# The stream (new images) is the outbox's: its publisher takes the new OUTBOX# items.
SWEEP_INDEX = "sweep"  # the same name in invoicing/adapters/sweep_index.py, which the Lambdas ship
SWEEP_INDEX_ATTRIBUTES = (
    "sweep_since",
    "sweep_attempts",
    "reminded_at",
    "warned_at",
    "order_completed_at",
    "invoice_number",
    "order_id",
    "status",
)
INVOICES_TABLE = TableSpec(
    logical_id="Invoices",
    partition_key=KeySpec("pk"),
    sort_key=KeySpec("sk"),
    stream_view_type="NEW_IMAGE",
    indexes=(
        IndexSpec("by-customer", KeySpec("customer_id"), KeySpec("issued_at")),
        IndexSpec("by-vendor", KeySpec("vendor_id"), KeySpec("issued_at")),
        IndexSpec("by-order", KeySpec("order_id"), KeySpec("sk")),
        IndexSpec(
            SWEEP_INDEX, KeySpec("sweep_kind"), KeySpec("sweep_due_at"), include=SWEEP_INDEX_ATTRIBUTES
        ),
    ),
    # Published outbox entries expire a while after publication (see adapters/outbox.py).
    time_to_live_attribute="expires_at",
)
OUTBOX_SORT_KEY_PREFIX = "OUTBOX#"

VENDORS_TABLE = TableSpec(logical_id="Vendors", partition_key=KeySpec("vendor_id"))

# The operations report's counters (see invoicing/adapters/report_counters.py for the item shapes):
#   DAY#<day> / SHARD#<nn> and RECONCILIATION, FACT#<invoice or order> / FACT, COUNTED#<id>.
# Facts and COUNTED guards expire by TTL; a day's counters are kept.
REPORT_COUNTERS_TABLE = TableSpec(
    logical_id="ReportCounters",
    partition_key=KeySpec("pk"),
    sort_key=KeySpec("sk"),
    time_to_live_attribute="expires_at",
)

TABLES = (ORDERS_TABLE, INVOICES_TABLE, VENDORS_TABLE, REPORT_COUNTERS_TABLE)

EVENT_SOURCE = "saypro.invoicing"
# The announcements the operations report counts: the same as COUNTED_DETAIL_TYPES in
# invoicing/domain/report_counts.py, which the Lambdas ship (a test keeps them equal).
REPORT_COUNTED_DETAIL_TYPES = (
    "InvoiceIssued",
    "CreditNoteIssued",
    "InvoiceValidationFailed",
    "InvoiceCorrectionRejected",
    "InvoiceSent",
    "InvoiceResent",
    "InvoiceListed",
    "InvoiceDelivered",
    "InvoiceOpened",
    "InvoiceComplaintReceived",
    "InvoiceDownloaded",
    "InvoiceDeliveryFailed",
    "InquiryOpened",
    "InquiryResolved",
    "InvoiceFeedbackGiven",
    "InvoicePaymentRecorded",
    "PaymentUnmatched",
    "InvoiceOverdue",
    "ReconciliationReportReady",
)
INVOICE_PDF_PREFIX = "invoices/"
# The same prefixes as invoicing/adapters/report_store.py, which the Lambdas ship.
RECONCILIATION_PREFIX = "reports/reconciliation/"
VENDOR_STATEMENTS_PREFIX = "reports/vendor-statements/"
OPERATIONS_REPORTS_PREFIX = "reports/operations/"
OPERATIONS_REPORT_DOCUMENT = "report.json"  # invoicing/services/operations_reports.py REPORT_DOCUMENT
RENDITIONS_PREFIX = "renditions/"  # invoicing/services/payment_renditions.py

# Environment variables the invoice generator reads (see invoicing/settings.py).
GENERATOR_ENV = (
    "INVOICES_TABLE_NAME",
    "INVOICE_BUCKET_NAME",
    "INVOICE_SERIES",
    "CREDIT_NOTE_SERIES",
    "SELLER_JSON",
)
