"""One of our Lambda functions: its own encrypted log group and role, arm64, Python 3.14, traced, with layers.

Every function gets the same shape, so a new one only says what is particular to it: its code,
its environment and, through `role`, exactly the permissions it needs (no managed policies).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.bundling import function_code
from infra.config import EnvironmentConfig
from infra.constructs.log_retention import FUNCTION_LOG_GROUP_PREFIX, log_retention
from infra.constructs.storage import removal_policy
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_14
TRACING_WILDCARD = (
    "Only X-Ray's PutTraceSegments/PutTelemetryRecords (active tracing) use Resource *: they have no "
    "resource-level permissions."
)


class ServiceFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        log_key: kms.IKey,
        layers: list[lambda_.ILayerVersion],
        code_folder: str,
        name: str,
        description: str,
        environment: dict[str, str],
        memory_mb: int = 512,
        timeout: Duration | None = None,
        wildcard_reason: str = TRACING_WILDCARD,
    ) -> None:
        super().__init__(scope, construct_id)
        function_name = f"{config.resource_prefix}-{name}"
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"{FUNCTION_LOG_GROUP_PREFIX}{function_name}",
            # Logs carry order and invoice identifiers: encrypted with the stack's data key.
            encryption_key=log_key,
            retention=log_retention(config.log_retention_days),
            removal_policy=removal_policy(config),
        )
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.lambda_handler",
            code=function_code(code_folder),
            layers=layers,
            memory_size=memory_mb,
            timeout=timeout or Duration.seconds(60),
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": "invoicing",
                "POWERTOOLS_METRICS_NAMESPACE": "SayProInvoicing",
                "POWERTOOLS_LOG_LEVEL": config.log_level,
                # Traces keep timings and errors, not return values (which carry customer data).
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            },
            description=description,
        )
        # Active tracing gives every role X-Ray's Resource * (a caller may name more, e.g. SMS).
        acknowledge(self.role, "AwsSolutions::AwsSolutions-IAM5[Resource::*]", wildcard_reason)

    def fail_asynchronous_invocations_to(
        self, queue: sqs.IQueue, *, retry_attempts: int = 2, max_event_age: Duration | None = None
    ) -> None:
        """An asynchronous invocation (EventBridge, a schedule) that still fails after Lambda's own
        retries, or waited longer than `max_event_age`, lands in `queue` (alarmed) instead of being
        discarded. The rule target's retries and DLQ only cover handing the event to Lambda."""
        max_event_age = max_event_age or Duration.hours(6)
        self.function.configure_async_invoke(
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            on_failure=destinations.SqsDestination(queue),
        )
        self.no_dead_letter_config(
            f"Asynchronous invocations that fail after {retry_attempts} Lambda retries, or wait longer "
            f"than {max_event_age.to_human_string()}, go to the on-failure destination "
            f"{queue.node.path} (EventInvokeConfig): the successor of DeadLetterConfig, which also keeps "
            "the error and the request; a DeadLetterConfig as well would split them over two queues."
        )

    def no_dead_letter_config(self, reason: str) -> None:
        """Acknowledge cdk-nag's Serverless-LambdaDLQ (a DeadLetterConfig) with why this function's
        failures are kept elsewhere, or are its caller's to see."""
        acknowledge(self.function, "Serverless::Serverless-LambdaDLQ", reason)

    def allow(self, sid: str, actions: list[str], resources: list[str]) -> None:
        self.role.add_to_policy(iam.PolicyStatement(sid=sid, actions=actions, resources=resources))

    def allow_invoice_pdfs(
        self, sid: str, actions: list[str], documents: s3.IBucket, prefix: str, reason: str
    ) -> None:
        """Objects under one prefix of the documents bucket: keys are per invoice, so a wildcard."""
        self.allow(sid, actions, [documents.arn_for_objects(f"{prefix}*")])
        bucket_id = Stack.of(self).get_logical_id(documents.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            self.role, f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]", reason
        )


def dead_letter_queue(scope: Construct, construct_id: str, *, name: str, holds: str) -> sqs.Queue:
    """Encrypted, TLS-only, 14 days: where something that exhausted its retries waits for a person."""
    queue = sqs.Queue(
        scope,
        construct_id,
        queue_name=name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    acknowledge(
        queue,
        "AwsSolutions::AwsSolutions-SQS3",
        f"This queue is itself the dead-letter destination of {holds}; "
        "a DLQ of a DLQ would only move the alarm.",
    )
    acknowledge(
        queue,
        "Serverless::Serverless-SQSRedrivePolicy",
        f"This queue is itself the dead-letter destination of {holds}: what lands here has exhausted "
        "its retries and waits 14 days, alarmed, for the SLA sweep or a person; a redrive policy would "
        "move it to a second queue, and the alarm with it.",
    )
    return queue
