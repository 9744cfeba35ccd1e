"""One stack per environment, composing the constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.customer_service import CustomerServiceNotifications
from infra.constructs.delivery_notifications import DeliveryNotifications
from infra.constructs.download_api import DownloadApi
from infra.constructs.events import InvoicingBus
from infra.constructs.invoice_delivery import InvoiceDelivery
from infra.constructs.invoice_generator import InvoiceGenerator, SharedLayers
from infra.constructs.log_retention import allow_log_encryption
from infra.constructs.monitoring import Monitoring
from infra.constructs.operations_reports import OperationsReports
from infra.constructs.outbox_publisher import OutboxPublisher
from infra.constructs.payments import Payments
from infra.constructs.receivables import Receivables
from infra.constructs.sla_sweep import SlaSweep
from infra.constructs.storage import DocumentBucket, Tables, removal_policy
from infra.constructs.vendor_invoicing import VendorInvoicing
from infra.constructs.web_pages import WebPages


class InvoicingStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("project", "saypro-invoicing")
        Tags.of(self).add("environment", config.env_name)

        self.data_key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/{config.resource_prefix}-data",
            description="Encrypts invoice PDFs, the tables and their streams, and the stack's logs",
            enable_key_rotation=True,
            removal_policy=removal_policy(config),
        )
        allow_log_encryption(self.data_key, config)
        self.tables = Tables(self, "Tables", config=config, key=self.data_key)
        self.documents = DocumentBucket(self, "Documents", config=config, key=self.data_key)
        self.bus = InvoicingBus(self, "Events", config=config)
        self.layers = SharedLayers(self, "Layers")
        self.generator = InvoiceGenerator(
            self,
            "InvoiceGenerator",
            config=config,
            layers=self.layers,
            orders=self.tables.orders,
            invoices=self.tables.invoices,
            documents=self.documents.bucket,
            data_key=self.data_key,
        )
        self.outbox = OutboxPublisher(
            self,
            "Outbox",
            config=config,
            layers=self.layers,
            invoices=self.tables.invoices,
            data_key=self.data_key,
            bus=self.bus.bus,
        )
        self.vendor_invoicing = VendorInvoicing(
            self,
            "VendorInvoicing",
            config=config,
            layers=self.layers,
            invoices=self.tables.invoices,
            vendors=self.tables.vendors,
            documents=self.documents.bucket,
            data_key=self.data_key,
            bus=self.bus.bus,
        )
        self.downloads = DownloadApi(
            self,
            "Downloads",
            config=config,
            layers=self.layers,
            invoices=self.tables.invoices,
            orders=self.tables.orders,
            documents=self.documents.bucket,
            data_key=self.data_key,
            report_counters=self.tables.report_counters,
        )
        self.delivery = InvoiceDelivery(
            self,
            "Delivery",
            config=config,
            layers=self.layers,
            orders=self.tables.orders,
            invoices=self.tables.invoices,
            vendors=self.tables.vendors,
            documents=self.documents.bucket,
            data_key=self.data_key,
            bus=self.bus.bus,
            link_keys=self.downloads.link_keys,
            download_base_url=self.downloads.url,
        )
        self.notifications = DeliveryNotifications(
            self,
            "DeliveryNotifications",
            config=config,
            layers=self.layers,
            invoices=self.tables.invoices,
            data_key=self.data_key,
            configuration_set=self.delivery.configuration_set,
            api=self.downloads.api,
            api_url=self.downloads.url,
        )
        # The webhook's own bucket: a flood on /download cannot starve SES's notifications.
        self.downloads.throttle_routes(self.notifications.routes, config.api_throttles.ses_webhook)
        self.payments = Payments(
            self,
            "Payments",
            config=config,
            layers=self.layers,
            invoices=self.tables.invoices,
            data_key=self.data_key,
            bus=self.bus.bus,
            api=self.downloads.api,
            api_url=self.downloads.url,
            removal_policy=removal_policy(config),
            documents=self.documents.bucket,
        )
        self.downloads.throttle_routes(self.payments.routes, config.api_throttles.payment_webhook)
        self.receivables = Receivables(
            self,
            "Receivables",
            config=config,
            layers=self.layers,
            invoices=self.tables.invoices,
            documents=self.documents.bucket,
            data_key=self.data_key,
            bus=self.bus.bus,
            link_keys=self.downloads.link_keys,
            download_base_url=self.downloads.url,
            vendors=self.tables.vendors,
        )
        self.monitoring = Monitoring(self, "Monitoring", config=config, removal_policy=removal_policy(config))
        self.customer_service = CustomerServiceNotifications(
            self, "CustomerService", config=config, bus=self.bus.bus, removal_policy=removal_policy(config)
        )
        self.sweep = SlaSweep(
            self,
            "SlaSweep",
            config=config,
            layers=self.layers,
            orders=self.tables.orders,
            invoices=self.tables.invoices,
            documents=self.documents.bucket,
            data_key=self.data_key,
            bus=self.bus.bus,
            stream_failures=self.generator.on_failure_queue,
            operations_topic=self.monitoring.topic,
            operations_key=self.monitoring.key,
        )
        self.reports = OperationsReports(
            self,
            "OperationsReports",
            config=config,
            layers=self.layers,
            counters=self.tables.report_counters,
            documents=self.documents.bucket,
            data_key=self.data_key,
            bus=self.bus.bus,
            link_keys=self.downloads.link_keys,
            download_base_url=self.downloads.url,
            operations_topic=self.monitoring.topic,
            operations_key=self.monitoring.key,
        )
        self.pages = WebPages(
            self,
            "WebPages",
            config=config,
            api_url=self.downloads.url,
            access_logs=self.documents.access_logs,
            removal_policy=removal_policy(config),
            log_key=self.data_key,
        )
        self._watch(config)
        self._outputs()

    def _watch(self, config: EnvironmentConfig) -> None:
        """Alarms and the dashboard: every function, queue and flow above."""
        self.monitoring.watch_stream_function(
            "invoice-generator", self.generator.function, self.generator.on_failure_queue, "Orders"
        )
        self.monitoring.watch_stream_function(
            "outbox-publisher", self.outbox.function, self.outbox.on_failure_queue, "Invoices (outbox)"
        )
        self.monitoring.watch_invoicing()

        self.monitoring.watch_event_function(
            "invoice-dispatcher", self.delivery.function, self.delivery.dead_letter_queue
        )
        self.monitoring.watch_event_function(
            "vendor-invoicer", self.vendor_invoicing.function, self.vendor_invoicing.dead_letter_queue
        )
        self.monitoring.watch_event_function(
            "payment-events", self.payments.events_function, self.payments.dead_letter_queue
        )
        self.monitoring.watch_event_function(
            "receivables", self.receivables.function, self.receivables.failed_ticks
        )
        self.monitoring.watch_event_function(
            "payment-renditions", self.payments.renditions_function, self.payments.renditions_dead_letters
        )
        self.monitoring.watch_queue(
            "finance-undelivered",
            self.payments.finance_undelivered,
            "EventBridge could not hand unmatched payments, overpayments or overdue invoices to the finance "
            "topic, or SNS could not e-mail them: read them from the queue and tell finance",
        )
        self.monitoring.watch_event_function(
            "report-counter", self.reports.counter_function, self.reports.counter_dead_letters
        )
        self.monitoring.watch_event_function(
            "operations-reports", self.reports.reports_function, self.reports.failed_runs
        )
        self.monitoring.watch_delivery()
        self.monitoring.watch_payments()
        self.monitoring.watch_customer_service()
        self.monitoring.watch_queue(
            "customer-service-undelivered",
            self.customer_service.undelivered,
            "EventBridge could not hand delivery or vendor failures to the customer-service topic, or SNS "
            "could not e-mail them: read them from the queue and tell customer service",
        )
        self.monitoring.watch_sla(
            self.sweep.function,
            self.sweep.failed_ticks,
            self.notifications.function,
            self.notifications.undelivered,
            config.bounce_rate_alarm,
        )

    def _outputs(self) -> None:
        CfnOutput(self, "DownloadBaseUrl", value=self.downloads.url)
        CfnOutput(self, "OrdersTableName", value=self.tables.orders.table_name)
        CfnOutput(self, "OrdersStreamArn", value=self.tables.orders.table_stream_arn or "")
        CfnOutput(self, "InvoicesTableName", value=self.tables.invoices.table_name)
        CfnOutput(self, "DocumentsBucketName", value=self.documents.bucket.bucket_name)
        CfnOutput(self, "EventBusName", value=self.bus.bus.event_bus_name)
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        CfnOutput(self, "CustomerServiceTopicArn", value=self.customer_service.topic.topic_arn)
        CfnOutput(self, "SesNotificationsTopicArn", value=self.notifications.topic.topic_arn)
        CfnOutput(self, "WebhookUrl", value=self.notifications.url)
        CfnOutput(self, "PaymentWebhookUrl", value=self.payments.url)
        CfnOutput(self, "PaymentWebhookSecretArn", value=self.payments.webhook_secret.secret_arn)
        CfnOutput(self, "FinanceTopicArn", value=self.payments.finance_topic.topic_arn)
        CfnOutput(self, "OperationsReportsFunctionName", value=self.reports.reports_function.function_name)
        CfnOutput(self, "PagesUrl", value=self.pages.url)
        CfnOutput(
            self,
            "PagesRedirectUris",
            value=f"{self.pages.url}/account/ {self.pages.url}/console/",
            description="register them with the identity provider for the pages' client (pages_sign_in)",
        )
