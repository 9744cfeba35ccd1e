"""Per-environment configuration as data: infra/config/<env>.json, validated at synth."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONFIG_DIR = Path(__file__).parent
ENVIRONMENTS = ("dev", "staging", "prod")
# The retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545),
    *(731, 1096, 1827, 2192, 2557, 2922, 3288, 3653),
)


class SellerConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    address_lines: list[str]
    tax_id: str
    email: str
    phone: str
    website: str


class PayLaterConfig(BaseModel):
    """A payment method invoiced on completion, unpaid (the shared package's `PayLaterTerms`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    due_days: int = Field(ge=0, le=365, description="days after the order's completion")
    instructions: str = Field(min_length=1, max_length=300, description="how to pay, on the invoice")


class RouteThrottle(BaseModel):
    """One token bucket of the HTTP API: a steady rate and the burst it may absorb at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # API Gateway refuses route limits above the account's (10,000 requests/s, burst 5,000).
    rate_limit: float = Field(gt=0, le=10000, description="steady requests per second")
    burst_limit: int = Field(ge=1, le=5000, description="requests the bucket holds at once")

    @model_validator(mode="after")
    def _burst_holds_a_second(self) -> RouteThrottle:
        if self.burst_limit < self.rate_limit:
            raise ValueError(
                f"burst_limit {self.burst_limit} is below rate_limit {self.rate_limit}: "
                "the bucket could not hold one second of the steady rate"
            )
        return self


class ApiThrottles(BaseModel):
    """Each route its own bucket, so a flood on one (say /download) cannot starve another (the
    SES webhook). Every route is named here: a route without its limits fails validation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage_default: RouteThrottle = Field(description="any route not given its own limits below")
    download: RouteThrottle = Field(description="GET /download/{invoice_number}")
    invoices: RouteThrottle = Field(description="each GET /invoices... route, a bucket each")
    corrections: RouteThrottle = Field(
        description="POST /invoices/{invoice_number}/corrections (support: issues credit notes)"
    )
    ses_webhook: RouteThrottle = Field(description="POST /webhooks/ses (SNS delivering SES events)")
    payment_webhook: RouteThrottle = Field(description="POST /webhooks/payments (the payment provider)")


class PagesSignIn(BaseModel):
    """How the console and the account page sign people in (web/sign-in/oidc.js): the authorization
    code flow with PKCE at the identity provider the API trusts (`jwt_issuer`), as a public client
    (no secret). Register `<PagesUrl>/account/` and `<PagesUrl>/console/` as its redirect URIs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1, max_length=256, description="the pages' public client at the issuer")
    scopes: str = Field(default="openid", pattern=r"^openid( [A-Za-z0-9:/._-]+)*$")
    send_to_api: Literal["access_token", "id_token"] = Field(
        default="access_token",
        description="the token the pages send to the API; with id_token the API's authorizer also "
        "accepts the client id as an audience",
    )
    identity_provider_origins: list[str] = Field(
        default_factory=list,
        description="origins the pages call besides the issuer's (a token endpoint on another domain, "
        "as Cognito's hosted UI), allowed in the pages' Content-Security-Policy connect-src",
    )

    @field_validator("identity_provider_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
                raise ValueError(f"{origin!r} is not an https origin (scheme and host, no path)")
        return origins


class RemindersConfig(BaseModel):
    """When pay-later invoices are reminded (domain/payment_reminders.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days_before: int = Field(default=3, ge=1, le=60)
    days_after: int = Field(default=7, ge=1, le=120)
    send_at_hour: int = Field(default=8, ge=0, le=23, description="UTC")


class EnvironmentConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    env_name: Literal["dev", "staging", "prod"]
    resource_prefix: str = Field(pattern=r"^[a-z][a-z0-9-]{2,40}$")
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str = "eu-west-1"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    log_retention_days: int = Field(description=f"one of CloudWatch's periods: {LOG_RETENTION_DAYS}")
    removal_policy: Literal["destroy", "retain"]
    deletion_protection: bool
    alarm_email: str | None
    customer_service_email: str | None = Field(
        default=None, description="receives InvoiceDeliveryFailed and VendorInvoiceFailed as readable e-mail"
    )
    finance_email: str | None = Field(
        default=None,
        description="receives unmatched payments, overpayments and overdue invoices as readable e-mail",
    )
    invoice_series: str = Field(pattern=r"^[A-Z]{2,8}$")
    credit_note_series: str = Field(
        default="CN", pattern=r"^[A-Z]{2,8}$", description="the gapless series of credit notes"
    )
    seller: SellerConfig
    document_retention_days: int = Field(ge=1, description="how long invoice PDFs are kept")
    documents_to_infrequent_access_days: int = Field(ge=30)
    documents_to_glacier_days: int = Field(ge=90)
    document_lock_mode: Literal["none", "governance", "compliance"] = Field(
        default="none", description="S3 Object Lock default retention of every invoice PDF version"
    )
    document_lock_days: int | None = Field(default=None, ge=1)
    generator_memory_mb: int = Field(ge=256, le=10240)
    stream_batch_size: int = Field(ge=1, le=1000)
    stream_retry_attempts: int = Field(ge=0, le=10000)
    stream_max_record_age_hours: int = Field(
        ge=1,
        le=20,
        description="a record older than this goes to the on-failure queue; under the stream's 24 hours, "
        "so that the SLA sweep can still read it back",
    )
    iterator_age_alarm_seconds: int = Field(ge=1, description="stream lag that breaks the one-minute target")
    sender_address: str = Field(description="From: of invoice emails; its domain is verified in SES")
    link_lifetime_days: int = Field(ge=1, le=365, description="how long emailed and texted links work")
    vendor_invoice_series: str = Field(pattern=r"^[A-Z]{2,8}$")
    pay_later: dict[str, PayLaterConfig] = Field(
        default_factory=dict,
        description="payment method -> terms: invoiced when the order completes, as unpaid with a due "
        "date; every other method is invoiced once its payment is captured",
    )
    vendor_credit_note_series: str = Field(
        default="VCN", pattern=r"^[A-Z]{2,8}$", description="the gapless series of vendor credit notes"
    )
    jwt_issuer: str = Field(pattern=r"^https://", description="the identity provider the API trusts")
    jwt_audience: str = Field(min_length=1)
    pages_sign_in: PagesSignIn = Field(description="the console's and account page's sign-in")
    sweep_interval_minutes: int = Field(default=5, ge=1, le=60, description="how often the SLA sweep runs")
    sweep_grace_seconds: int = Field(
        default=120, ge=30, le=3600, description="how long the normal path gets before the sweep steps in"
    )
    sla_warning_hours: int = Field(
        default=20, ge=1, le=23, description="warn operations when an invoice is still unsent this late"
    )
    in_doubt_after_seconds: int = Field(
        default=600, ge=60, le=86400, description="a claimed send not marked sent after this is in doubt"
    )
    reminder_interval_hours: int = Field(
        default=24, ge=1, le=168, description="how often an open problem is reminded to operations"
    )
    api_throttles: ApiThrottles = Field(description="the HTTP API's per-route throttles")
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    report_targets: dict[str, float] = Field(
        default_factory=dict,
        description="what the operations report holds figures to, over the defaults of "
        "ReportTargets in invoicing/domain/operations_report.py (a test checks the names)",
    )
    report_counter_shards: int = Field(
        default=8, ge=1, le=100, description="counter items per day: writes spread over them, reads sum them"
    )
    refund_grace_minutes: int = Field(
        default=30,
        ge=0,
        le=1440,
        description="how long a refund waits for the storefront's own credit note before one is "
        "issued by amount",
    )
    bounce_rate_alarm: float = Field(
        default=0.05, gt=0, lt=1, description="share of bounced invoice emails that raises the alarm"
    )

    @model_validator(mode="after")
    def _consistent(self) -> EnvironmentConfig:
        problems = []
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(
                f"log_retention_days {self.log_retention_days} is not one of {LOG_RETENTION_DAYS}"
            )
        if self.documents_to_glacier_days < self.documents_to_infrequent_access_days + 30:
            problems.append("documents stay in Standard-IA at least 30 days before Glacier Instant Retrieval")
        if self.document_lock_mode != "none":
            if self.document_lock_days is None or self.document_lock_days > self.document_retention_days:
                problems.append("document_lock_days is required and at most document_retention_days")
            if self.removal_policy != "retain":
                problems.append(
                    "locked documents cannot be destroyed with the stack: use removal_policy retain"
                )
        if self.env_name == "prod" and (self.removal_policy != "retain" or not self.deletion_protection):
            problems.append("prod keeps its data: removal_policy retain and deletion_protection true")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def load_config(env_name: str) -> EnvironmentConfig:
    if env_name not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env_name!r}; expected one of {', '.join(ENVIRONMENTS)}")
    data = json.loads((CONFIG_DIR / f"{env_name}.json").read_text(encoding="utf-8"))
    return EnvironmentConfig.model_validate(data)
