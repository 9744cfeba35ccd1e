"""Problems a person must act on, delivered to people: InvoiceDeliveryFailed and VendorInvoiceFailed
go from the bus to an encrypted SNS topic that customer service subscribe to (e-mail from the
environment's config, or their ticketing system's endpoint), as a readable message."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.service_function import dead_letter_queue
from infra.resources import EVENT_SOURCE


def _field(path: str) -> str:
    return events.EventField.from_path(f"$.detail.{path}")


# What a person reads: what failed, for whom, why, and where the runbook is.
MESSAGES = {
    "InvoiceDeliveryFailed": lambda: (
        f"Invoice {_field('invoice_number')} (order {_field('order_id')}, customer {_field('customer_id')}, "
        f"vendor {_field('vendor_id')}) could not be delivered. Problems: {_field('problems')}. "
        f"No channel left: {_field('undeliverable')} (true: reach the customer by hand, or correct the "
        "contact on the order and it is sent again; false: the next channel is being tried). "
        f"At {_field('failed_at')}. Runbook: README, 'Operate'."
    ),
    "VendorInvoiceFailed": lambda: (
        f"Vendor invoices of order {_field('order_id')} not issued: {_field('message')} "
        f"(code {_field('code')}, vendors {_field('vendor_ids')}, at {_field('failed_at')}). Add the vendor "
        "to the Vendors table: the SLA sweep keeps asking (every two hours at most) and issues its invoice "
        "once it can. Runbook: README, 'Operate'."
    ),
}


class CustomerServiceNotifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        bus: events.IEventBus,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{config.resource_prefix}-customer-service",
            description="Encrypts the customer-service notifications topic",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        # EventBridge encrypts what it publishes to the topic with this key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgePublishes",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{config.resource_prefix}-customer-service",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.undelivered = dead_letter_queue(
            self,
            "Undelivered",
            name=f"{config.resource_prefix}-customer-service-undelivered",
            holds="the customer-service notification rules (events the topic could not take) and of "
            "the topic's e-mail subscription (messages SNS could not deliver)",
        )
        if config.customer_service_email:
            # Either way the same person reads the queue and tells customer service by hand.
            self.topic.add_subscription(
                subscriptions.EmailSubscription(
                    config.customer_service_email, dead_letter_queue=self.undelivered
                )
            )
        self.rules = [
            events.Rule(
                self,
                f"On{detail_type}",
                event_bus=bus,
                description=f"{detail_type} -> customer service (readable message)",
                event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=[detail_type]),
                targets=[
                    targets.SnsTopic(
                        self.topic,
                        message=events.RuleTargetInput.from_text(message()),
                        dead_letter_queue=self.undelivered,
                        retry_attempts=8,
                        max_event_age=Duration.hours(24),
                    )
                ],
            )
            for detail_type, message in MESSAGES.items()
        ]
