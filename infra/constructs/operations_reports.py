"""The operations report: the report counter (invoicing's announcements -> the daily counters)
and the report function (weekly, monthly, quarterly on a schedule, any period on demand), with
the messages that bring its signed links to operations and finance."""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.service_function import ServiceFunction, dead_letter_queue
from infra.resources import EVENT_SOURCE, OPERATIONS_REPORTS_PREFIX, REPORT_COUNTED_DETAIL_TYPES

SCHEDULES = {
    # period: (cron, description). Each runs after the day's reconciliation report (00:30 UTC).
    "week": (events.Schedule.cron(minute="0", hour="2", week_day="MON"), "Last week's operations report"),
    "month": (events.Schedule.cron(minute="15", hour="2", day="1"), "Last month's operations report"),
    "quarter": (
        events.Schedule.cron(minute="30", hour="2", day="1", month="1,4,7,10"),
        "Last quarter's operations report",
    ),
}


class OperationsReports(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        counters: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        bus: events.IEventBus,
        link_keys: secretsmanager.ISecret,
        download_base_url: str,
        operations_topic: sns.ITopic,
        operations_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        counter_env = {
            "REPORT_COUNTERS_TABLE_NAME": counters.table_name,
            "REPORT_COUNTER_SHARDS": str(config.report_counter_shards),
        }
        self._counter(config, layers, counters, data_key, bus, counter_env)
        self._reports(
            config, layers, counters, documents, data_key, bus, link_keys, download_base_url, counter_env
        )
        # Operations read the ready report on their topic (the function publishes it); finance on
        # theirs, through the finance rules (infra/constructs/payments.py, FINANCE_MESSAGES).
        self.reports_role.add_to_policy(
            iam.PolicyStatement(
                sid="TellOperations", actions=["sns:Publish"], resources=[operations_topic.topic_arn]
            )
        )
        self.reports_role.add_to_policy(
            iam.PolicyStatement(
                sid="OperationsTopicKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[operations_key.key_arn],
            )
        )
        self.reports_function.add_environment("OPERATIONS_TOPIC_ARN", operations_topic.topic_arn)

    def _counter(  # noqa: PLR0917 (private: one call, each argument a different kind of thing)
        self,
        config: EnvironmentConfig,
        layers: SharedLayers,
        counters: dynamodb.ITableV2,
        data_key: kms.IKey,
        bus: events.IEventBus,
        environment: dict[str, str],
    ) -> None:
        service = ServiceFunction(
            self,
            "Counter",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="report_counter",
            name="report-counter",
            description="Invoicing's announcements -> the operations report's daily counters, each once",
            memory_mb=256,
            timeout=Duration.seconds(10),
            environment=environment,
        )
        self.counter_function = service.function
        self.counter_dead_letters = dead_letter_queue(
            self,
            "CounterDeadLetters",
            name=f"{config.resource_prefix}-report-counter-dlq",
            holds="the report counter (announcements it could not count: redrive them, they count once)",
        )
        service.fail_asynchronous_invocations_to(self.counter_dead_letters)
        self.counting_rule = events.Rule(
            self,
            "OnCountedEvent",
            event_bus=bus,
            description="The announcements the operations report counts -> report-counter",
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=list(REPORT_COUNTED_DETAIL_TYPES)
            ),
            targets=[
                targets.LambdaFunction(
                    self.counter_function,
                    dead_letter_queue=self.counter_dead_letters,
                    retry_attempts=8,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
        for statement in (
            iam.PolicyStatement(
                sid="Counters",
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:ConditionCheckItem",
                ],
                resources=[counters.table_arn],
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[data_key.key_arn],
            ),
        ):
            service.role.add_to_policy(statement)

    def _reports(  # noqa: PLR0917 (private: one call, each argument a different kind of thing)
        self,
        config: EnvironmentConfig,
        layers: SharedLayers,
        counters: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        bus: events.IEventBus,
        link_keys: secretsmanager.ISecret,
        download_base_url: str,
        environment: dict[str, str],
    ) -> None:
        service = ServiceFunction(
            self,
            "Reports",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="operations_reports",
            name="operations-reports",
            description="Weekly, monthly, quarterly (and on demand) operations report: PDF and CSV in S3",
            memory_mb=512,
            timeout=Duration.minutes(2),
            environment={
                **environment,
                "INVOICE_BUCKET_NAME": documents.bucket_name,
                "EVENT_BUS_NAME": bus.event_bus_name,
                "LINK_KEYS_SECRET_ID": link_keys.secret_arn,
                "DOWNLOAD_BASE_URL": download_base_url,
                "LINK_LIFETIME_DAYS": str(config.link_lifetime_days),
                "REPORT_TARGETS_JSON": json.dumps(config.report_targets),
            },
        )
        self.reports_function = service.function
        self.reports_role = service.role
        self.failed_runs = dead_letter_queue(
            self,
            "FailedRuns",
            name=f"{config.resource_prefix}-operations-reports-failed-runs",
            holds="the operations reports' schedules (runs not delivered, and runs that failed)",
        )
        service.fail_asynchronous_invocations_to(
            self.failed_runs, retry_attempts=0, max_event_age=Duration.hours(6)
        )
        for statement in (
            iam.PolicyStatement(
                sid="ReadCounters", actions=["dynamodb:BatchGetItem"], resources=[counters.table_arn]
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[data_key.key_arn],
            ),
        ):
            service.role.add_to_policy(statement)
        bus.grant_put_events_to(service.role)
        link_keys.grant_read(service.role)  # signs the report's links
        service.allow_invoice_pdfs(
            "OperationsReports",
            ["s3:PutObject"],
            documents,
            OPERATIONS_REPORTS_PREFIX,
            "PutObject only, only under reports/operations/: the period's report.pdf and CSV files.",
        )
        self.schedules = {
            period: events.Rule(
                self,
                f"Schedule{period.capitalize()}",
                description=description,
                schedule=schedule,
                targets=[
                    targets.LambdaFunction(
                        self.reports_function,
                        event=events.RuleTargetInput.from_object({"period": period}),
                        retry_attempts=0,
                        max_event_age=Duration.hours(1),
                        dead_letter_queue=self.failed_runs,
                    )
                ],
            )
            for period, (schedule, description) in SCHEDULES.items()
        }
