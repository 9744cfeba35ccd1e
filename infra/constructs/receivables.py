"""The receivables tick: every 15 minutes, payment reminders asked for, overdue invoices marked,
refunds nobody credited credited by amount (functions/receivables/)."""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.service_function import ServiceFunction, dead_letter_queue
from infra.resources import INVOICE_PDF_PREFIX, RECONCILIATION_PREFIX, SWEEP_INDEX, VENDOR_STATEMENTS_PREFIX

TICK_MINUTES = 15
"""Reminders go out at the policy's hour; refunds wait their grace (30 minutes by default)."""


class Receivables(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        invoices: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        bus: events.IEventBus,
        link_keys: secretsmanager.ISecret,
        download_base_url: str,
        vendors: dynamodb.ITableV2,
    ) -> None:
        super().__init__(scope, construct_id)
        service = ServiceFunction(
            self,
            "Tick",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="receivables",
            name="receivables",
            description="Every 15 minutes: payment reminders, overdue invoices, refunds awaiting credit",
            memory_mb=config.generator_memory_mb,  # it may render a refund's credit note
            timeout=Duration.minutes(2),
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "INVOICE_BUCKET_NAME": documents.bucket_name,
                "EVENT_BUS_NAME": bus.event_bus_name,
                "INVOICE_SERIES": config.invoice_series,
                "CREDIT_NOTE_SERIES": config.credit_note_series,
                "SELLER_JSON": json.dumps(config.seller.model_dump()),
                "PAYMENT_POLICY_JSON": json.dumps(
                    {"pay_later": {k: v.model_dump() for k, v in config.pay_later.items()}}
                ),
                "REMINDERS_JSON": json.dumps(config.reminders.model_dump()),
                "LINK_KEYS_SECRET_ID": link_keys.secret_arn,
                "DOWNLOAD_BASE_URL": download_base_url,
                "LINK_LIFETIME_DAYS": str(config.link_lifetime_days),
                "VENDORS_TABLE_NAME": vendors.table_name,
            },
        )
        self.function = service.function
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.reserved_concurrent_executions = 1  # one tick at a time is enough
        self.failed_ticks = dead_letter_queue(
            self,
            "FailedTicks",
            name=f"{config.resource_prefix}-receivables-failed-ticks",
            holds="the receivables tick's schedule (ticks not delivered, and invocations that failed)",
        )
        service.fail_asynchronous_invocations_to(
            self.failed_ticks, retry_attempts=0, max_event_age=Duration.minutes(TICK_MINUTES)
        )
        for statement in (
            iam.PolicyStatement(
                sid="ReceivableRecords",
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:Query",
                ],
                resources=[invoices.table_arn],
            ),
            iam.PolicyStatement(
                sid="SweepIndex",
                actions=["dynamodb:Query"],
                resources=[f"{invoices.table_arn}/index/{SWEEP_INDEX}"],
            ),
            iam.PolicyStatement(
                sid="VendorsForStatements", actions=["dynamodb:GetItem"], resources=[vendors.table_arn]
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[data_key.key_arn],
            ),
        ):
            service.role.add_to_policy(statement)
        bus.grant_put_events_to(service.role)
        link_keys.grant_read(service.role)  # signs the report's links for finance
        service.allow_invoice_pdfs(
            "ReconciliationReports",
            ["s3:PutObject"],
            documents,
            RECONCILIATION_PREFIX,
            "PutObject only, only under reports/reconciliation/: the day's findings and ageing files.",
        )
        service.allow_invoice_pdfs(
            "VendorStatements",
            ["s3:PutObject"],
            documents,
            VENDOR_STATEMENTS_PREFIX,
            "PutObject only, only under reports/vendor-statements/: the month's statement PDFs.",
        )
        service.allow_invoice_pdfs(
            "CustomerDocuments",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            f"{INVOICE_PDF_PREFIX}customer/",
            "Read-only, only under invoices/customer/: the invoice document a refund's credit note credits.",
        )
        service.allow_invoice_pdfs(
            "CreditNotePdfs",
            ["s3:PutObject"],
            documents,
            f"{INVOICE_PDF_PREFIX}credit_note/",
            "PutObject only, only under invoices/credit_note/: the refund's credit note and its PDF.",
        )
        self.schedule = events.Rule(
            self,
            "Schedule",
            description=f"Receivables tick every {TICK_MINUTES} minutes",
            schedule=events.Schedule.rate(Duration.minutes(TICK_MINUTES)),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    retry_attempts=0,
                    max_event_age=Duration.minutes(1),
                    dead_letter_queue=self.failed_ticks,
                )
            ],
        )
        # Last month's vendor statements, on the first of the month; any month's on demand (README).
        self.monthly_statements = events.Rule(
            self,
            "MonthlyVendorStatements",
            description="Last month's vendor statements, emailed to the vendors",
            schedule=events.Schedule.cron(minute="0", hour="1", day="1"),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    event=events.RuleTargetInput.from_object({"task": "vendor-statements"}),
                    retry_attempts=0,
                    max_event_age=Duration.hours(1),
                    dead_letter_queue=self.failed_ticks,
                )
            ],
        )
        # Yesterday's reconciliation report for finance, every night; any day's on demand (README).
        self.daily_report = events.Rule(
            self,
            "DailyReconciliation",
            description="Yesterday's reconciliation report (findings and ageing) for finance",
            schedule=events.Schedule.cron(minute="30", hour="0"),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    event=events.RuleTargetInput.from_object({"task": "reconciliation"}),
                    retry_attempts=0,
                    max_event_age=Duration.hours(1),
                    dead_letter_queue=self.failed_ticks,
                )
            ],
        )
