"""The outbox publisher: the Invoices table's stream -> every new announcement onto the bus.

Every state change that others must hear about writes an OUTBOX# item in its own transaction; this
function, on the table's stream (new images, filtered to new OUTBOX# items), publishes each one and
marks it published. A record that keeps failing lands in the on-failure queue (alarmed), and the
SLA sweep publishes the entry from the sweep index anyway: nothing announced can be lost.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.service_function import ServiceFunction, dead_letter_queue
from infra.resources import OUTBOX_SORT_KEY_PREFIX


class OutboxPublisher(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        invoices: dynamodb.ITableV2,
        data_key: kms.IKey,
        bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        service = ServiceFunction(
            self,
            "Publisher",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="outbox_publisher",
            name="outbox-publisher",
            description="Invoices table stream -> each new outbox entry onto the bus, then marked published",
            memory_mb=256,
            timeout=Duration.seconds(30),
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "EVENT_BUS_NAME": bus.event_bus_name,
            },
        )
        self.function = service.function
        self.on_failure_queue = dead_letter_queue(
            self,
            "OnFailure",
            name=f"{config.resource_prefix}-outbox-on-failure",
            holds="the outbox stream mapping (shard and sequence numbers of records it gave up on)",
        )
        service.no_dead_letter_config(
            "Invoked synchronously by its DynamoDB stream's event source mapping, to which a "
            "DeadLetterConfig never applies (it is for asynchronous invocations only): records that "
            "exhaust their retries go to the mapping's on-failure destination, "
            "the OnFailure queue (shard and sequence numbers of the entries)."
        )
        self.function.add_event_source(
            sources.DynamoEventSource(
                invoices,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                max_batching_window=Duration.seconds(0),
                # One slow shard must not hold back the others' announcements.
                parallelization_factor=4,
                bisect_batch_on_error=True,
                retry_attempts=config.stream_retry_attempts,
                max_record_age=Duration.hours(config.stream_max_record_age_hours),
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.on_failure_queue),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.is_equal("INSERT"),
                            "dynamodb": {
                                "Keys": {"sk": {"S": lambda_.FilterRule.begins_with(OUTBOX_SORT_KEY_PREFIX)}}
                            },
                        }
                    )
                ],
            )
        )
        for statement in (
            iam.PolicyStatement(
                # Whether an entry is published yet, and marking it; the entry itself is in the record.
                sid="MarkPublished",
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[invoices.table_arn],
            ),
            iam.PolicyStatement(
                sid="DataKey",  # the CMK-encrypted table and its stream
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[data_key.key_arn],
            ),
        ):
            service.role.add_to_policy(statement)
        bus.grant_put_events_to(service.role)
