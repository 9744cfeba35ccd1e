"""The dispatcher: InvoiceIssued (and a credit note on its own) -> email (SES), SMS (SNS) or the
portal, with its DLQ and SES setup."""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.service_function import ServiceFunction, dead_letter_queue
from infra.resources import EVENT_SOURCE, INVOICE_PDF_PREFIX, RENDITIONS_PREFIX, VENDOR_STATEMENTS_PREFIX


class InvoiceDelivery(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        orders: dynamodb.ITableV2,
        invoices: dynamodb.ITableV2,
        vendors: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        bus: events.IEventBus,
        link_keys: secretsmanager.ISecret,
        download_base_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        sender_domain = config.sender_address.split("@", 1)[1]
        # Delivery, bounce, complaint, open and click events are tracked through this set.
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=f"{config.resource_prefix}-invoices",
            reputation_metrics=True,
            sending_enabled=True,
        )
        self.identity = ses.EmailIdentity(
            self,
            "SenderDomain",
            identity=ses.Identity.domain(sender_domain),
            configuration_set=self.configuration_set,
        )
        service = ServiceFunction(
            self,
            "Dispatcher",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="invoice_dispatcher",
            name="invoice-dispatcher",
            description="InvoiceIssued -> the customer's preferred channel, and vendors' invoices to vendors",
            wildcard_reason=(
                "SNS Publish to a phone number (SMS) has no resource ARN to scope to; "
                "X-Ray segments have no resource-level permissions either."
            ),
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "ORDERS_TABLE_NAME": orders.table_name,
                "VENDORS_TABLE_NAME": vendors.table_name,
                "INVOICE_BUCKET_NAME": documents.bucket_name,
                "SES_CONFIGURATION_SET": self.configuration_set.configuration_set_name,
                "SENDER_ADDRESS": f"{config.seller.name} <{config.sender_address}>",
                "LINK_KEYS_SECRET_ID": link_keys.secret_arn,
                "DOWNLOAD_BASE_URL": download_base_url,
                "LINK_LIFETIME_DAYS": str(config.link_lifetime_days),
                "SELLER_JSON": json.dumps(config.seller.model_dump()),
            },
        )
        self.service = service
        self.function, self.role = service.function, service.role
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetters",
            name=f"{config.resource_prefix}-dispatcher-dlq",
            holds="the dispatcher (its EventBridge target, and invocations failed after Lambda's retries)",
        )
        service.fail_asynchronous_invocations_to(self.dead_letter_queue)
        self.rule = events.Rule(
            self,
            "OnInvoiceIssued",
            event_bus=bus,
            # InvoiceDeliveryDue carries the same detail: a bounce's fallback, the SLA sweep's re-drive.
            # A revised invoice (`replaces` set) is sent with its credit note, in one message.
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=["InvoiceIssued", "InvoiceDeliveryDue"]
            ),
            targets=[self._target()],
        )
        self.resend_rule = events.Rule(
            self,
            "OnInvoiceResendRequested",
            event_bus=bus,
            description="Customer service asked for an invoice to be emailed again: sent once per request",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=["InvoiceResendRequested"]),
            targets=[self._target()],
        )
        self.statement_rule = events.Rule(
            self,
            "OnVendorStatementIssued",
            event_bus=bus,
            description="A vendor's monthly statement: emailed to the vendor once",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=["VendorStatementIssued"]),
            targets=[self._target()],
        )
        self.reminder_rule = events.Rule(
            self,
            "OnPaymentReminderDue",
            event_bus=bus,
            description="The receivables tick asks for a payment reminder: sent once per stage",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=["PaymentReminderDue"]),
            targets=[self._target()],
        )
        self.credit_note_rule = events.Rule(
            self,
            "OnCreditNoteIssued",
            event_bus=bus,
            # Only a credit note on its own (a cancellation or refund): one issued with a revised
            # invoice (`replaced_by` set) travels with that invoice. The dispatcher checks it too.
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE],
                detail_type=["CreditNoteIssued"],
                detail={"replaced_by": events.Match.null_value()},
            ),
            targets=[self._target()],
        )
        self._grant(
            config=config,
            orders=orders,
            invoices=invoices,
            vendors=vendors,
            documents=documents,
            data_key=data_key,
            link_keys=link_keys,
        )

    def _target(self) -> targets.LambdaFunction:
        return targets.LambdaFunction(
            self.function,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=8,
            max_event_age=Duration.hours(24),
        )

    def _grant(
        self,
        *,
        config: EnvironmentConfig,
        orders: dynamodb.ITableV2,
        invoices: dynamodb.ITableV2,
        vendors: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        link_keys: secretsmanager.ISecret,
    ) -> None:
        stack = Stack.of(self)
        statements = [
            iam.PolicyStatement(
                sid="DeliveryRecords",
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
                sid="ReadOrdersAndVendors",
                actions=["dynamodb:GetItem"],
                resources=[orders.table_arn, vendors.table_arn],
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[data_key.key_arn],
            ),
            iam.PolicyStatement(
                sid="SendEmail",
                actions=["ses:SendRawEmail"],
                resources=[
                    stack.format_arn(
                        service="ses", resource="identity", resource_name=config.sender_address.split("@")[1]
                    ),
                    stack.format_arn(
                        service="ses",
                        resource="configuration-set",
                        resource_name=self.configuration_set.configuration_set_name,
                    ),
                ],
            ),
            # Publish to a phone number (SMS) names no resource, so IAM can only allow it on "*";
            # topics and platform endpoints do have ARNs, and every one of them is denied: this role
            # can text a customer but cannot publish to any topic, ours or another account's.
            iam.PolicyStatement(
                sid="SendSms",
                actions=["sns:Publish"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="NoTopicPublish",
                effect=iam.Effect.DENY,
                actions=["sns:Publish"],
                resources=[f"arn:{stack.partition}:sns:*:*:*"],
            ),
        ]
        for statement in statements:
            self.role.add_to_policy(statement)
        link_keys.grant_read(self.role)
        self.service.allow_invoice_pdfs(
            "ReadInvoicePdfs",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            INVOICE_PDF_PREFIX,
            "Read-only, only the invoices/ prefix of our documents bucket: the document and its PDF.",
        )
        self.service.allow_invoice_pdfs(
            "ReadVendorStatements",
            ["s3:GetObject"],
            documents,
            VENDOR_STATEMENTS_PREFIX,
            "Read-only, only reports/vendor-statements/: the statement PDF emailed to its vendor.",
        )
        self.service.allow_invoice_pdfs(
            "PaymentRenditions",
            ["s3:GetObject"],
            documents,
            RENDITIONS_PREFIX,
            "Read-only, only renditions/: an invoice's later rendition saying what has been paid, "
            "attached to its reminders.",
        )
