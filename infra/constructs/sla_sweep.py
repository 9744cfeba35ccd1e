"""The SLA sweep on a schedule: stuck orders and invoices pushed through, operations told."""

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
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.service_function import ServiceFunction, dead_letter_queue
from infra.resources import INVOICE_PDF_PREFIX, SWEEP_INDEX


class SlaSweep(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        orders: dynamodb.ITableV2,
        invoices: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        bus: events.IEventBus,
        stream_failures: sqs.IQueue,
        operations_topic: sns.ITopic,
        operations_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        service = ServiceFunction(
            self,
            "Sweeper",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="sla_sweeper",
            name="sla-sweeper",
            description="Every few minutes: re-drive stuck orders and invoices, remind operations",
            memory_mb=config.generator_memory_mb,  # it may render an invoice the stream could not
            timeout=Duration.minutes(2),
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "ORDERS_TABLE_NAME": orders.table_name,
                "INVOICE_BUCKET_NAME": documents.bucket_name,
                "EVENT_BUS_NAME": bus.event_bus_name,
                "INVOICE_SERIES": config.invoice_series,
                "CREDIT_NOTE_SERIES": config.credit_note_series,
                "SELLER_JSON": json.dumps(config.seller.model_dump()),
                "PAYMENT_POLICY_JSON": json.dumps(
                    {"pay_later": {k: v.model_dump() for k, v in config.pay_later.items()}}
                ),
                "GENERATOR_ON_FAILURE_QUEUE_URL": stream_failures.queue_url,
                "OPERATIONS_TOPIC_ARN": operations_topic.topic_arn,
                "SWEEP_GRACE_SECONDS": str(config.sweep_grace_seconds),
                "SLA_WARNING_HOURS": str(config.sla_warning_hours),
                "IN_DOUBT_AFTER_SECONDS": str(config.in_doubt_after_seconds),
                "REMINDER_INTERVAL_HOURS": str(config.reminder_interval_hours),
            },
        )
        self.function = service.function
        # One sweep at a time is enough; correctness does not depend on it (conditional writes).
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.reserved_concurrent_executions = 1
        # A tick that fails is not retried (the next tick is the retry) but is kept and alarmed.
        self.failed_ticks = dead_letter_queue(
            self,
            "FailedTicks",
            name=f"{config.resource_prefix}-sla-sweeper-failed-ticks",
            holds="the SLA sweeper's schedule (ticks EventBridge could not hand to Lambda, and "
            "invocations that failed)",
        )
        service.fail_asynchronous_invocations_to(
            self.failed_ticks, retry_attempts=0, max_event_age=Duration.minutes(config.sweep_interval_minutes)
        )
        statements = [
            iam.PolicyStatement(
                sid="InvoiceRecords",
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
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
                sid="OrdersByKey", actions=["dynamodb:GetItem"], resources=[orders.table_arn]
            ),
            iam.PolicyStatement(
                sid="FailedStreamRecords",
                actions=["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"],
                resources=[orders.table_stream_arn or ""],
            ),
            iam.PolicyStatement(
                sid="FailedStreamBatches",
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                resources=[stream_failures.queue_arn],
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[data_key.key_arn],
            ),
            iam.PolicyStatement(
                sid="RemindOperations", actions=["sns:Publish"], resources=[operations_topic.topic_arn]
            ),
            iam.PolicyStatement(
                sid="OperationsTopicKey",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[operations_key.key_arn],
            ),
        ]
        for statement in statements:
            service.role.add_to_policy(statement)
        bus.grant_put_events_to(service.role)
        service.allow_invoice_pdfs(
            "StoreInvoicePdfs",
            ["s3:PutObject"],
            documents,
            INVOICE_PDF_PREFIX,
            "Write-only, only the invoices/ prefix: the PDF of an invoice the stream could not finish.",
        )
        service.allow_invoice_pdfs(
            "CustomerDocuments",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            f"{INVOICE_PDF_PREFIX}customer/",
            "Read-only, only under invoices/customer/: an order change the stream could not handle is "
            "compared with the invoice document it was issued with (corrections).",
        )
        interval = Duration.minutes(config.sweep_interval_minutes)
        self.schedule = events.Rule(
            self,
            "Schedule",
            description=f"SLA sweep every {config.sweep_interval_minutes} minutes",
            schedule=events.Schedule.rate(interval),
            targets=[
                # The next tick is the retry: a missed tick is never worth a late, overlapping one;
                # a tick EventBridge could not deliver is kept, with the failed ones, and alarmed.
                targets.LambdaFunction(
                    self.function,
                    retry_attempts=0,
                    max_event_age=Duration.minutes(1),
                    dead_letter_queue=self.failed_ticks,
                )
            ],
        )
