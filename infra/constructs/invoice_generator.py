"""The generator Lambda on the Orders stream, with its layers, mapping and on-failure queue."""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.bundling import dependency_layer_code, shared_layer_code
from infra.config import EnvironmentConfig
from infra.constructs.service_function import RUNTIME, ServiceFunction, dead_letter_queue
from infra.resources import INVOICE_PDF_PREFIX, INVOICES_TABLE


class SharedLayers(Construct):
    """The `invoicing` package and the third-party dependencies, shared by every function."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.shared = lambda_.LayerVersion(
            self,
            "Shared",
            code=shared_layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="invoicing: domain, rendering (with its font), adapters, services",
        )
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=dependency_layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Locked runtime dependencies (uv.lock), built for arm64 / CPython 3.14",
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.shared]


class InvoiceGenerator(Construct):
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
    ) -> None:
        super().__init__(scope, construct_id)
        service = ServiceFunction(
            self,
            "Generator",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="invoice_generator",
            name="invoice-generator",
            description="Orders stream -> validated, numbered, rendered, stored, announced invoices",
            memory_mb=config.generator_memory_mb,
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "INVOICE_BUCKET_NAME": documents.bucket_name,
                "INVOICE_SERIES": config.invoice_series,
                "CREDIT_NOTE_SERIES": config.credit_note_series,
                "SELLER_JSON": json.dumps(config.seller.model_dump()),
                "PAYMENT_POLICY_JSON": json.dumps(
                    {"pay_later": {k: v.model_dump() for k, v in config.pay_later.items()}}
                ),
            },
        )
        self.service = service
        self.function, self.role, self.log_group = service.function, service.role, service.log_group
        self._grant_least_privilege(invoices, documents, data_key)

        # Where a record goes after its retries: only shard/sequence metadata, see the README runbook.
        self.on_failure_queue = dead_letter_queue(
            self,
            "OnFailure",
            name=f"{config.resource_prefix}-generator-on-failure",
            holds="the stream mapping (it receives the shard and sequence numbers of exhausted records)",
        )
        service.no_dead_letter_config(
            "Invoked synchronously by its DynamoDB stream's event source mapping, to which a "
            "DeadLetterConfig never applies (it is for asynchronous invocations only): records that "
            "exhaust their retries go to the mapping's on-failure destination, "
            "the OnFailure queue (shard and sequence numbers, see the README runbook)."
        )
        self.function.add_event_source(
            sources.DynamoEventSource(
                orders,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=config.stream_batch_size,
                bisect_batch_on_error=True,
                retry_attempts=config.stream_retry_attempts,
                max_record_age=Duration.hours(config.stream_max_record_age_hours),
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.on_failure_queue),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
                            "dynamodb": {
                                "NewImage": {"status": {"S": lambda_.FilterRule.is_equal("COMPLETED")}}
                            },
                        }
                    )
                ],
            )
        )

    def _grant_least_privilege(
        self, invoices: dynamodb.ITableV2, documents: s3.IBucket, data_key: kms.IKey
    ) -> None:
        self.role.add_to_policy(
            iam.PolicyStatement(
                # TransactWriteItems has no action of its own: each item is authorised as the
                # PutItem / UpdateItem / ConditionCheckItem it is.
                sid="InvoiceLedger",
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:ConditionCheckItem",
                ],
                resources=[invoices.table_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="InvoiceLedgerQueries",  # the table and each named index, no index/* wildcard
                actions=["dynamodb:Query"],
                resources=[
                    invoices.table_arn,
                    *(f"{invoices.table_arn}/index/{index.name}" for index in INVOICES_TABLE.indexes),
                ],
            )
        )
        self.service.allow_invoice_pdfs(
            "InvoicePdfs",
            ["s3:PutObject"],
            documents,
            INVOICE_PDF_PREFIX,
            "s3:PutObject only, only under the invoices/ prefix of this stack's documents bucket: the keys "
            "are per invoice number (invoices/<kind>/<year>/<number>.pdf), so no fixed ARN list exists.",
        )
        self.service.allow_invoice_pdfs(
            "CustomerDocuments",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            f"{INVOICE_PDF_PREFIX}customer/",
            "Read-only, only under invoices/customer/: a change to an invoiced order is compared with "
            "the invoice document it was issued with (corrections).",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="DataKey",  # SSE-KMS PDFs, the CMK-encrypted tables and their stream
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[data_key.key_arn],
            )
        )
