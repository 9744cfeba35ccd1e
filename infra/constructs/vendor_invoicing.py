"""The vendor invoicer: a customer's InvoiceIssued -> one invoice per vendor of the order."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.service_function import ServiceFunction, dead_letter_queue
from infra.resources import EVENT_SOURCE, INVOICE_PDF_PREFIX


class VendorInvoicing(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        invoices: dynamodb.ITableV2,
        vendors: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        service = ServiceFunction(
            self,
            "Invoicer",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="vendor_invoicer",
            name="vendor-invoicer",
            description="Customer InvoiceIssued/CreditNoteIssued -> vendor invoices and vendor credit notes",
            memory_mb=config.generator_memory_mb,
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "VENDORS_TABLE_NAME": vendors.table_name,
                "INVOICE_BUCKET_NAME": documents.bucket_name,
                "VENDOR_INVOICE_SERIES": config.vendor_invoice_series,
                "VENDOR_CREDIT_NOTE_SERIES": config.vendor_credit_note_series,
            },
        )
        self.function = service.function
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetters",
            name=f"{config.resource_prefix}-vendor-invoicer-dlq",
            holds="the vendor invoicer (its EventBridge target; invocations failed after Lambda's retries)",
        )
        service.fail_asynchronous_invocations_to(self.dead_letter_queue)
        events.Rule(
            self,
            "OnCustomerInvoiceIssued",
            event_bus=bus,
            event_pattern=events.EventPattern(
                # VendorInvoicesDue: the SLA sweep asks again for a vendor invoice left unfinished.
                source=[EVENT_SOURCE],
                detail_type=["InvoiceIssued", "VendorInvoicesDue"],
                detail={"kind": ["CUSTOMER"]},
            ),
            targets=[self._target()],
        )
        events.Rule(
            self,
            "OnCustomerCreditNoteIssued",
            event_bus=bus,
            event_pattern=events.EventPattern(
                # A cancellation, refund or return (a credit note on its own) concerns the vendors of
                # the lines credited; one issued with a revised invoice is handled on that invoice.
                source=[EVENT_SOURCE],
                detail_type=["CreditNoteIssued"],
                detail={"kind": ["CREDIT_NOTE"], "replaced_by": events.Match.null_value()},
            ),
            targets=[self._target()],
        )
        for statement in (
            iam.PolicyStatement(
                sid="VendorInvoiceLedger",
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
                sid="ReadVendors", actions=["dynamodb:GetItem"], resources=[vendors.table_arn]
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[data_key.key_arn],
            ),
        ):
            service.role.add_to_policy(statement)
        service.allow_invoice_pdfs(
            "CustomerDocuments",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            f"{INVOICE_PDF_PREFIX}customer/",
            "Read-only, only under invoices/customer/: the customer invoice document vendor invoices use.",
        )
        service.allow_invoice_pdfs(
            "CustomerCreditNotes",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            f"{INVOICE_PDF_PREFIX}credit_note/",
            "Read-only, only under invoices/credit_note/: why a vendor's part was corrected.",
        )
        service.allow_invoice_pdfs(
            "VendorDocuments",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            f"{INVOICE_PDF_PREFIX}vendor/",
            "Read-only, only under invoices/vendor/: the vendor invoice a correction credits.",
        )
        for prefix, sid in (("vendor/", "VendorPdfs"), ("vendor_credit_note/", "VendorCreditNotePdfs")):
            service.allow_invoice_pdfs(
                sid,
                ["s3:PutObject"],
                documents,
                f"{INVOICE_PDF_PREFIX}{prefix}",
                f"PutObject only, only under invoices/{prefix}: document and PDF keys per number.",
            )

    def _target(self) -> targets.LambdaFunction:
        return targets.LambdaFunction(
            self.function,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=8,
            max_event_age=Duration.hours(24),
        )
