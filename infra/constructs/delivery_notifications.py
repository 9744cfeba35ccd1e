"""SES events -> an encrypted SNS topic -> HTTPS -> the bounce webhook (POST /webhooks/ses)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.service_function import ServiceFunction, dead_letter_queue
from infra.constructs.storage import removal_policy
from infra.nag import acknowledge

WEBHOOK_PATH = "/webhooks/ses"
TRACKED_EVENTS = (
    # SEND: SES accepted the message; with the message's tags it settles a send whose record was lost.
    ses.EmailSendingEvent.SEND,
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.DELIVERY,
    ses.EmailSendingEvent.REJECT,
    ses.EmailSendingEvent.OPEN,
    ses.EmailSendingEvent.CLICK,
    ses.EmailSendingEvent.RENDERING_FAILURE,
    ses.EmailSendingEvent.DELIVERY_DELAY,
)


class DeliveryNotifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        invoices: dynamodb.ITableV2,
        data_key: kms.IKey,
        configuration_set: ses.ConfigurationSet,
        api: apigw.HttpApi,
        api_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        ses_service = iam.ServicePrincipal("ses.amazonaws.com")
        # Its own key: SES must be able to use it to publish, and it should not reach the data key.
        self.key = kms.Key(
            self,
            "TopicKey",
            alias=f"alias/{config.resource_prefix}-ses-notifications",
            description="Encrypts SES delivery notifications (bounces, complaints) at rest in SNS",
            enable_key_rotation=True,
            removal_policy=removal_policy(config),
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SesPublishesEncrypted",
                principals=[ses_service],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{config.resource_prefix}-ses-notifications",
            master_key=self.key,
            enforce_ssl=True,
        )
        # The event destination adds SES's publish permission, conditioned on this account and
        # this configuration set (aws:SourceAccount, aws:SourceArn): no other sender can publish.
        ses.ConfigurationSetEventDestination(
            self,
            "ToTopic",
            configuration_set=configuration_set,
            configuration_set_event_destination_name="delivery-webhook",
            destination=ses.EventDestination.sns_topic(self.topic),
            events=list(TRACKED_EVENTS),
        )

        service = ServiceFunction(
            self,
            "Webhook",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="delivery_webhook",
            name="delivery-webhook",
            description="POST /webhooks/ses <- SNS: verified SES bounces, complaints, deliveries, opens",
            timeout=Duration.seconds(10),
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "NOTIFICATION_TOPIC_ARNS": self.topic.topic_arn,
            },
        )
        self.function = service.function
        service.no_dead_letter_config(
            "Invoked synchronously by the HTTP API for SNS: a failure is answered 5xx, SNS delivers the "
            "message again under its retry policy and, when that is spent, to the subscription's "
            "dead-letter queue (Undelivered, alarmed); a DeadLetterConfig would never receive anything."
        )
        for statement in (
            iam.PolicyStatement(
                sid="DeliveryRecords",
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:ConditionCheckItem",
                ],
                resources=[invoices.table_arn],
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[data_key.key_arn],
            ),
            iam.PolicyStatement(
                sid="ConfirmOwnSubscription",
                actions=["sns:ConfirmSubscription"],
                resources=[self.topic.topic_arn],
            ),
        ):
            service.role.add_to_policy(statement)

        self.routes = routes = api.add_routes(
            path=WEBHOOK_PATH,
            methods=[apigw.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration("WebhookIntegration", self.function),
        )
        for route in routes:
            acknowledge(
                route,
                "AwsSolutions::AwsSolutions-APIG4",
                "SNS cannot present a token: every message's SNS signature (certificate from an SNS host, "
                "our topic only) is verified in code before anything is read; the rest get 403.",
            )
            acknowledge(
                route,
                "AwsSolutions::AwsSolutions-COG4",
                "Not a user-facing API: the caller is SNS, authenticated by its message signature.",
            )

        # Notifications SNS could not deliver (webhook down for its whole retry policy) wait here.
        self.undelivered = dead_letter_queue(
            self,
            "Undelivered",
            name=f"{config.resource_prefix}-ses-notifications-dlq",
            holds="the SES notifications topic's HTTPS subscription",
        )
        self.url = f"{api_url}{WEBHOOK_PATH}"
        self.topic.add_subscription(
            subscriptions.UrlSubscription(
                self.url,
                protocol=sns.SubscriptionProtocol.HTTPS,
                raw_message_delivery=False,
                dead_letter_queue=self.undelivered,
            )
        )
