"""Configuration of the functions, read once from the environment at cold start.

A missing variable fails the init with a clear message instead of failing mid-request. Each
function's settings are composed from the groups of variables it shares with the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, Json

from invoicing.domain.invoice import Seller
from invoicing.domain.operations_report import ReportTargets
from invoicing.domain.payment_reminders import ReminderPolicy
from invoicing.domain.payment_terms import CAPTURE_ONLY, PaymentPolicy

Settings = TypeVar("Settings", bound=BaseModel)


def _loader(model: type[Settings]) -> Callable[[], Settings]:
    """Environment variables by lower-cased name, validated once per process (`.cache_clear()` in tests)."""

    @lru_cache(maxsize=1)
    def load() -> Settings:
        return model.model_validate({key.lower(): value for key, value in os.environ.items()})

    return load


class _Invoices(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoices_table_name: str = Field(min_length=1)


class _Documents(_Invoices):
    invoice_bucket_name: str = Field(min_length=1)


class _Bus(BaseModel):
    event_bus_name: str = Field(min_length=1)


class _Selling(BaseModel):
    seller_json: Json[Seller] | None = None
    payment_policy_json: Json[PaymentPolicy] | None = None
    """The payment methods invoiced on completion, unpaid (`domain/payment_terms.py`)."""

    @property
    def seller(self) -> Seller:
        return self.seller_json or Seller()

    @property
    def payment_policy(self) -> PaymentPolicy:
        return self.payment_policy_json or CAPTURE_ONLY


class _Parties(BaseModel):
    orders_table_name: str = Field(min_length=1)
    vendors_table_name: str = Field(min_length=1)


class _SignedLinks(BaseModel):
    link_keys_secret_id: str = Field(min_length=1)
    download_base_url: str = Field(pattern=r"^https?://")
    link_lifetime_days: int = Field(default=30, ge=1, le=365)


class GeneratorSettings(_Documents, _Selling):
    invoice_series: str = Field(default="INV", pattern=r"^[A-Z]{2,8}$")
    credit_note_series: str = Field(default="CN", pattern=r"^[A-Z]{2,8}$")


class VendorInvoicerSettings(_Documents):
    vendors_table_name: str = Field(min_length=1)
    vendor_invoice_series: str = Field(default="VND", pattern=r"^[A-Z]{2,8}$")
    vendor_credit_note_series: str = Field(default="VCN", pattern=r"^[A-Z]{2,8}$")


class DispatcherSettings(_Documents, _Parties, _SignedLinks, _Selling):
    ses_configuration_set: str = Field(min_length=1)
    sender_address: str = Field(min_length=3)


class _ReportCounters(BaseModel):
    report_counters_table_name: str = Field(min_length=1)
    report_counter_shards: int = Field(default=8, ge=1, le=100, description="a day's counter items")


class DownloadSettings(_Documents, _ReportCounters):
    link_keys_secret_id: str = Field(min_length=1)
    link_lifetime_days: int = Field(default=30, ge=1, le=365, description="of the links the page signs")


class ApiSettings(_Documents, _SignedLinks, _Selling, _ReportCounters):
    """The invoices API; support's corrections also read the Orders table and issue in both series;
    the console's operations picture reads the sweep index, the payments and the report counters."""

    report_targets_json: Json[ReportTargets] | None = None

    @property
    def report_targets(self) -> ReportTargets:
        return self.report_targets_json or ReportTargets()

    orders_table_name: str = Field(min_length=1)
    invoice_series: str = Field(default="INV", pattern=r"^[A-Z]{2,8}$")
    credit_note_series: str = Field(default="CN", pattern=r"^[A-Z]{2,8}$")


class WebhookSettings(_Invoices):
    notification_topic_arns: str = Field(
        pattern=r"^arn:[a-z-]+:sns:[^,]+(,arn:[a-z-]+:sns:[^,]+)*$",
        description="comma-separated: the topics whose messages the webhook accepts",
    )

    @property
    def allowed_topics(self) -> list[str]:
        return [arn.strip() for arn in self.notification_topic_arns.split(",")]


class OutboxPublisherSettings(_Invoices, _Bus):
    pass


class SweeperSettings(_Documents, _Selling, _Bus):
    orders_table_name: str = Field(min_length=1)
    generator_on_failure_queue_url: str = Field(pattern=r"^https?://")
    invoice_series: str = Field(default="INV", pattern=r"^[A-Z]{2,8}$")
    credit_note_series: str = Field(default="CN", pattern=r"^[A-Z]{2,8}$")
    operations_topic_arn: str = Field(pattern=r"^arn:[a-z-]+:sns:")
    sweep_grace_seconds: int = Field(default=120, ge=0, le=3600)
    sla_warning_hours: int = Field(default=20, ge=1, le=23)
    in_doubt_after_seconds: int = Field(default=600, ge=60)
    reminder_interval_hours: int = Field(default=24, ge=1, le=168)
    digest_max_items: int = Field(default=100, ge=10, le=500, description="listed one by one per digest")


class PaymentEventsSettings(_Invoices):
    """Both doors of payment events in (the webhook and the EventBridge consumer)."""

    refund_grace_minutes: int = Field(
        default=30, ge=0, le=1440, description="how long a refund waits for the storefront's credit note"
    )


class PaymentWebhookSettings(PaymentEventsSettings):
    payment_webhook_secret_id: str = Field(min_length=1)


class ReceivablesSettings(_Documents, _Selling, _Bus, _SignedLinks):
    """The receivables tick: reminders asked for, overdue marked, uncredited refunds credited."""

    invoice_series: str = Field(default="INV", pattern=r"^[A-Z]{2,8}$")
    credit_note_series: str = Field(default="CN", pattern=r"^[A-Z]{2,8}$")
    reminders_json: Json[ReminderPolicy] | None = None
    vendors_table_name: str = Field(min_length=1)

    @property
    def reminder_policy(self) -> ReminderPolicy:
        return self.reminders_json or ReminderPolicy()


class RenditionsSettings(_Documents):
    pass


class ReportCountingSettings(_ReportCounters):
    """The report counter: invoicing's announcements -> the daily counters."""


class OperationsReportsSettings(_ReportCounters, _Bus, _SignedLinks):
    """The operations report: weekly, monthly, quarterly and on demand."""

    invoice_bucket_name: str = Field(min_length=1)
    operations_topic_arn: str = Field(pattern=r"^arn:[a-z-]+:sns:")
    report_targets_json: Json[ReportTargets] | None = None

    @property
    def report_targets(self) -> ReportTargets:
        return self.report_targets_json or ReportTargets()


generator_settings = _loader(GeneratorSettings)
vendor_invoicer_settings = _loader(VendorInvoicerSettings)
dispatcher_settings = _loader(DispatcherSettings)
download_settings = _loader(DownloadSettings)
api_settings = _loader(ApiSettings)
webhook_settings = _loader(WebhookSettings)
sweeper_settings = _loader(SweeperSettings)
outbox_publisher_settings = _loader(OutboxPublisherSettings)
payment_events_settings = _loader(PaymentEventsSettings)
payment_webhook_settings = _loader(PaymentWebhookSettings)
receivables_settings = _loader(ReceivablesSettings)
renditions_settings = _loader(RenditionsSettings)
report_counting_settings = _loader(ReportCountingSettings)
operations_reports_settings = _loader(OperationsReportsSettings)
