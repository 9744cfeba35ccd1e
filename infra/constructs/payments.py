"""Money in: the payment provider's signed webhook, the payment service's EventBridge events, and
the finance topic that people read unmatched payments, overpayments and overdue invoices from."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.service_function import ServiceFunction, dead_letter_queue
from infra.nag import acknowledge
from infra.resources import EVENT_SOURCE, INVOICE_PDF_PREFIX, RENDITIONS_PREFIX

WEBHOOK_PATH = "/webhooks/payments"
PAYMENT_SOURCE = "saypro.payments"
"""What the payment service inside AWS puts its events on the invoicing bus as (detail-type PaymentEvent)."""
BY_CUSTOMER_INDEX = "by-customer"


def _field(path: str) -> str:
    return events.EventField.from_path(f"$.detail.{path}")


# What finance reads: what happened, what is known, and what to do.
FINANCE_MESSAGES = {
    "PaymentUnmatched": (
        {},
        lambda: (
            f"Payment event {_field('event_id')} ({_field('kind')}, {_field('amount')} "
            f"{_field('currency')}, via {_field('door')}) could not be applied to an invoice. Reasons: "
            f"{_field('reasons')}. It quoted invoice {_field('invoice_reference')}, transaction "
            f"{_field('transaction_reference')}, order {_field('order_id')}, customer "
            f"{_field('customer_id')}; occurred {_field('occurred_at')}. "
            "Find the invoice it pays, or return the money. Runbook: README, 'Payments'."
        ),
    ),
    "InvoicePaymentRecorded": (
        {"outcome": ["overpaid"]},
        lambda: (
            f"Invoice {_field('invoice_number')} (order {_field('order_id')}) was overpaid: balance "
            f"{_field('balance_due')} {_field('currency')} after {_field('amount')} received "
            f"({_field('findings')}). Refund the excess or keep it as the customer's credit."
        ),
    ),
    "ReconciliationReportReady": (
        {},
        lambda: (
            f"Reconciliation report {_field('report_id')} for {_field('day')}: {_field('findings')} findings "
            f"({_field('counts')}), {_field('payments_recorded')} payment events recorded, outstanding "
            f"{_field('outstanding')}. Findings: {_field('findings_url')} Ageing: {_field('ageing_url')} "
            "(links valid 90 days). Columns: README, 'Payments'."
        ),
    ),
    "OperationsReportReady": (
        {},
        lambda: (
            f"Operations report {_field('report_id')} ({_field('title')}): {_field('invoices_issued')} "
            f"invoices issued, {_field('deviation_count')} figures off target: {_field('deviations')}. "
            f"PDF: {_field('pdf_url')} Figures: {_field('figures_url')} Daily: {_field('daily_url')} "
            "(links valid 90 days). Definitions: README, 'Reports'."
        ),
    ),
    "InvoiceOverdue": (
        {},
        lambda: (
            f"Invoice {_field('invoice_number')} (order {_field('order_id')}, customer "
            f"{_field('customer_id')}) is overdue: {_field('balance_due')} {_field('currency')} was due "
            f"on {_field('due_date')}."
        ),
    ),
}


class Payments(Construct):
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
        api: apigw.HttpApi,
        api_url: str,
        removal_policy: RemovalPolicy,
        documents: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        # The provider gives the signing secret; the stack makes a placeholder devops replace with it.
        self.webhook_secret = secretsmanager.Secret(
            self,
            "WebhookSecret",
            secret_name=f"{config.resource_prefix}-payment-webhook",
            description="The payment provider's webhook signing secret(s): signing_secret, and "
            "previous_signing_secret during a rotation (README, 'Payments')",
            encryption_key=data_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}",  # noqa: S106 (an empty JSON object: the value is generated)
                generate_string_key="signing_secret",
                password_length=48,
                exclude_punctuation=True,
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.webhook_secret,
            "AwsSolutions::AwsSolutions-SMG4",
            "The provider issues and rotates its signing secret: devops put the new one in as "
            "signing_secret and keep the old as previous_signing_secret until it stops signing.",
        )
        environment = {
            "INVOICES_TABLE_NAME": invoices.table_name,
            "REFUND_GRACE_MINUTES": str(config.refund_grace_minutes),
        }
        webhook = ServiceFunction(
            self,
            "Webhook",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="payment_webhook",
            name="payment-webhook",
            description="POST /webhooks/payments <- the payment provider (HMAC-SHA256 signed), applied once",
            timeout=Duration.seconds(10),
            environment={**environment, "PAYMENT_WEBHOOK_SECRET_ID": self.webhook_secret.secret_arn},
        )
        webhook.no_dead_letter_config(
            "Invoked synchronously by the HTTP API: a failure is answered 5xx and the provider delivers "
            "the event again under its own retry policy; a DeadLetterConfig would never receive anything."
        )
        self.webhook_secret.grant_read(webhook.role)
        self.webhook_function = webhook.function

        consumer = ServiceFunction(
            self,
            "Events",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="payment_events",
            name="payment-events",
            description="PaymentEvent from the payment service (EventBridge) -> applied once",
            timeout=Duration.seconds(30),
            environment=environment,
        )
        self.events_function = consumer.function
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetters",
            name=f"{config.resource_prefix}-payment-events-dlq",
            holds="the payment-events function (payment events it could not take: invalid or failing)",
        )
        consumer.fail_asynchronous_invocations_to(self.dead_letter_queue)
        self.rule = events.Rule(
            self,
            "OnPaymentEvent",
            event_bus=bus,
            description="The payment service's events -> payment-events",
            event_pattern=events.EventPattern(source=[PAYMENT_SOURCE], detail_type=["PaymentEvent"]),
            targets=[
                targets.LambdaFunction(
                    self.events_function,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=8,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
        for service in (webhook, consumer):
            for statement in (
                iam.PolicyStatement(
                    sid="PaymentRecords",
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
                    sid="OpenInvoicesOfACustomer",
                    actions=["dynamodb:Query"],
                    resources=[f"{invoices.table_arn}/index/{BY_CUSTOMER_INDEX}"],
                ),
                iam.PolicyStatement(
                    sid="DataKey",
                    actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[data_key.key_arn],
                ),
            ):
                service.role.add_to_policy(statement)

        self.routes = routes = api.add_routes(
            path=WEBHOOK_PATH,
            methods=[apigw.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration(
                "PaymentWebhookIntegration", self.webhook_function
            ),
        )
        for route in routes:
            acknowledge(
                route,
                "AwsSolutions::AwsSolutions-APIG4",
                "The provider cannot present a token: every request's HMAC-SHA256 signature over its "
                "timestamp and raw body (secret in Secrets Manager, 5-minute tolerance) is verified in "
                "code before anything is read; the rest get 401.",
            )
            acknowledge(
                route,
                "AwsSolutions::AwsSolutions-COG4",
                "Not a user-facing API: the caller is the payment provider, authenticated by its signature.",
            )
        self.url = f"{api_url}{WEBHOOK_PATH}"
        self._renditions(config, layers, invoices, data_key, bus, documents)
        self._finance(config, bus, removal_policy)

    def _renditions(  # noqa: PLR0917 (what the function is given)
        self,
        config: EnvironmentConfig,
        layers: SharedLayers,
        invoices: dynamodb.ITableV2,
        data_key: kms.IKey,
        bus: events.IEventBus,
        documents: s3.IBucket,
    ) -> None:
        """InvoicePaymentRecorded -> the invoice's next rendition (what has been paid), its own
        function: the only writer under renditions/."""
        service = ServiceFunction(
            self,
            "Renditions",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="payment_renditions",
            name="payment-renditions",
            description="InvoicePaymentRecorded -> the PDF's next rendition, saying what has been paid",
            memory_mb=config.generator_memory_mb,
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "INVOICE_BUCKET_NAME": documents.bucket_name,
            },
        )
        self.renditions_function = service.function
        self.renditions_dead_letters = dead_letter_queue(
            self,
            "RenditionsDeadLetters",
            name=f"{config.resource_prefix}-payment-renditions-dlq",
            holds="the payment-renditions function (renditions that failed after Lambda's retries)",
        )
        service.fail_asynchronous_invocations_to(self.renditions_dead_letters)
        events.Rule(
            self,
            "OnInvoicePaymentRecorded",
            event_bus=bus,
            description="A payment moved an invoice's balance: its PDF's next rendition says so",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=["InvoicePaymentRecorded"]),
            targets=[
                targets.LambdaFunction(
                    self.renditions_function,
                    dead_letter_queue=self.renditions_dead_letters,
                    retry_attempts=8,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
        for statement in (
            iam.PolicyStatement(
                sid="InvoiceRecords",
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[invoices.table_arn],
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[data_key.key_arn],
            ),
        ):
            service.role.add_to_policy(statement)
        service.allow_invoice_pdfs(
            "CustomerDocuments",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            f"{INVOICE_PDF_PREFIX}customer/",
            "Read-only, only under invoices/customer/: the invoice document the rendition is made from.",
        )
        service.allow_invoice_pdfs(
            "Renditions",
            ["s3:PutObject"],
            documents,
            RENDITIONS_PREFIX,
            "PutObject only, only under renditions/: one rendition per invoice and payment version.",
        )

    def _finance(
        self, config: EnvironmentConfig, bus: events.IEventBus, removal_policy: RemovalPolicy
    ) -> None:
        self.finance_key = kms.Key(
            self,
            "FinanceKey",
            alias=f"alias/{config.resource_prefix}-finance",
            description="Encrypts the finance notifications topic",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.finance_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgePublishes",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.finance_topic = sns.Topic(
            self,
            "FinanceTopic",
            topic_name=f"{config.resource_prefix}-finance",
            master_key=self.finance_key,
            enforce_ssl=True,
        )
        self.finance_undelivered = dead_letter_queue(
            self,
            "FinanceUndelivered",
            name=f"{config.resource_prefix}-finance-undelivered",
            holds="the finance notification rules and the finance topic's e-mail subscription",
        )
        if config.finance_email:
            self.finance_topic.add_subscription(
                subscriptions.EmailSubscription(
                    config.finance_email, dead_letter_queue=self.finance_undelivered
                )
            )
        self.finance_rules = [
            events.Rule(
                self,
                f"Finance{detail_type}",
                event_bus=bus,
                description=f"{detail_type} -> finance (readable message)",
                event_pattern=events.EventPattern(
                    source=[EVENT_SOURCE], detail_type=[detail_type], detail=detail or None
                ),
                targets=[
                    targets.SnsTopic(
                        self.finance_topic,
                        message=events.RuleTargetInput.from_text(message()),
                        dead_letter_queue=self.finance_undelivered,
                        retry_attempts=8,
                        max_event_age=Duration.hours(24),
                    )
                ],
            )
            for detail_type, (detail, message) in FINANCE_MESSAGES.items()
        ]
