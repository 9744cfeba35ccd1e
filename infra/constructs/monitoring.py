"""Alarms to an encrypted SNS topic, and a dashboard of the pipeline at a glance."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.service_function import dead_letter_queue

NAMESPACE = "SayProInvoicing"


class Monitoring(Construct):
    """Every alarm notifies (and reports recovery to) one topic; `watch_*` add alarms and widgets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        stack = Stack.of(self)
        # Its own key: CloudWatch must be able to use it, and it should not be able to use the data key.
        self.key = kms.Key(
            self,
            "AlarmsKey",
            alias=f"alias/{config.resource_prefix}-alarms",
            description="Encrypts the alarm notifications topic",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        # No conditions here: whether CloudWatch's KMS request carries aws:SourceArn is not
        # documented, and a mismatch would silently drop every notification. The topic policy below
        # does carry them, so only our alarms can publish; the key protects nothing else.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsEncrypt",
                principals=[cloudwatch_service],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "Alarms",
            topic_name=f"{config.resource_prefix}-alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        # A topic policy replaces SNS's default one, so CloudWatch needs an explicit Allow.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch_service],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"{self.alarm_name_prefix}*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{config.resource_prefix}-pipeline"
        )
        self.alarms: list[cloudwatch.Alarm] = []
        self.undelivered: sqs.Queue | None = None
        if config.alarm_email:
            # Notifications SNS could not deliver to the address are kept, not dropped; the alarm on
            # them shows on the console and the dashboard even when e-mail is what is broken.
            self.undelivered = dead_letter_queue(
                self,
                "Undelivered",
                name=f"{config.resource_prefix}-alarms-undelivered",
                holds="the alarm topic's e-mail subscription (notifications SNS could not deliver)",
            )
            self.topic.add_subscription(
                subscriptions.EmailSubscription(config.alarm_email, dead_letter_queue=self.undelivered)
            )
            self.watch_queue(
                "alarms-undelivered",
                self.undelivered,
                "SNS could not deliver alarm notifications to the operations address: read them from the "
                "queue, check the subscription, and look at the alarms in the console",
            )

    @property
    def alarm_name_prefix(self) -> str:
        """Every alarm's name starts with this; the topic policy admits only these alarms."""
        return f"{self._config.resource_prefix}-"

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=f"{self.alarm_name_prefix}{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)

    def watch_stream_function(
        self, label: str, function: lambda_.IFunction, on_failure: sqs.IQueue, stream: str
    ) -> None:
        five_minutes = Duration.minutes(5)
        errors = function.metric_errors(period=five_minutes, statistic="Sum")
        throttles = function.metric_throttles(period=five_minutes, statistic="Sum")
        iterator_age = cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name="IteratorAge",
            dimensions_map={"FunctionName": function.function_name},
            statistic="Maximum",
            period=Duration.minutes(1),
        )
        dead_letters = on_failure.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        )
        self._alarm(f"{label}-errors", errors, 0, f"{label} raised errors: records are being retried")
        self._alarm(f"{label}-throttles", throttles, 0, f"{label} is throttled: invoices will be late")
        self._alarm(
            f"{label}-iterator-age",
            iterator_age,
            self._config.iterator_age_alarm_seconds * 1000,
            f"{label} lags the {stream} stream by more than {self._config.iterator_age_alarm_seconds} s: "
            "invoices miss the one-minute target",
        )
        self._alarm(
            f"{label}-on-failure",
            dead_letters,
            0,
            f"A {stream} stream record exhausted its retries ({on_failure.queue_name}): the SLA sweep "
            "re-drives it; see the README runbook.",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title=f"{label}: errors, throttles", left=[errors, throttles], width=8),
            cloudwatch.GraphWidget(title=f"{label}: stream lag (ms)", left=[iterator_age], width=8),
            cloudwatch.GraphWidget(title=f"{label}: on-failure queue", left=[dead_letters], width=8),
        )

    def watch_invoicing(self) -> None:
        """Business figures of the generator (Powertools EMF metrics)."""
        five_minutes = Duration.minutes(5)
        business = {
            name: cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map={"service": "invoicing"},
                statistic="Sum",
                period=five_minutes,
            )
            for name in ("InvoicesIssued", "ValidationFailures", "DuplicateDeliveriesIgnored")
        }
        latency = cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name="CompletionToInvoiceSeconds",
            dimensions_map={"service": "invoicing"},
            statistic="p99",
            period=five_minutes,
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Invoices issued / rejected", left=list(business.values()), width=12
            ),
            cloudwatch.GraphWidget(
                title="Order completed -> invoice issued (p99, s)", left=[latency], width=12
            ),
        )

    def watch_queue(self, name: str, queue: sqs.IQueue, description: str) -> None:
        """Any message in a queue that only holds what gave up."""
        waiting = queue.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        )
        self._alarm(name, waiting, 0, f"{description} ({queue.queue_name})")

    def watch_event_function(self, label: str, function: lambda_.IFunction, dead_letters: sqs.IQueue) -> None:
        """An EventBridge-triggered function: its errors and its DLQ (an event that gave up)."""
        five_minutes = Duration.minutes(5)
        errors = function.metric_errors(period=five_minutes, statistic="Sum")
        dead = dead_letters.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        )
        self._alarm(f"{label}-errors", errors, 0, f"{label} raised errors: events are being retried")
        self._alarm(
            f"{label}-dlq",
            dead,
            0,
            f"An event gave up ({dead_letters.queue_name}): EventBridge could not hand it to {label}, or "
            f"{label} failed after Lambda's own retries. The SLA sweep re-drives the work from its index; "
            "inspect the message for the cause.",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title=f"{label}: errors", left=[errors], width=12),
            cloudwatch.GraphWidget(title=f"{label}: dead letters", left=[dead], width=12),
        )

    def watch_delivery(self) -> None:
        """Business outcomes of dispatch (Powertools EMF metrics of the dispatcher)."""

        def metric(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map={"service": "invoicing"},
                statistic=statistic,
                period=Duration.minutes(5),
            )

        self._alarm(
            "invoices-undeliverable",
            metric("DispatchUndeliverable"),
            0,
            "An invoice could not be delivered on any channel: customer service must contact the customer "
            "(InvoiceDeliveryFailed carries the reasons).",
        )
        self._alarm(
            "sends-in-doubt",
            metric("DispatchInDoubt"),
            0,
            "A send may have reached the provider without being recorded; it is not retried automatically.",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Dispatch outcomes",
                left=[
                    metric(n)
                    for n in ("DispatchSent", "DispatchListed", "DispatchUndeliverable", "ChannelFallbacks")
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Order completed -> first send (p99, s)",
                left=[metric("CompletionToSendSeconds", "p99")],
                width=12,
            ),
        )

    def watch_payments(self) -> None:
        """Money in: payment events applied or not, refused webhooks, reminders, the receivables."""

        def metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map={"service": "invoicing"},
                statistic="Sum",
                period=Duration.minutes(5),
            )

        self._alarm(
            "payment-webhooks-refused",
            metric("PaymentWebhooksRefused"),
            10,
            "More than 10 payment webhooks refused in 5 minutes: a rotated signing secret not put in "
            "Secrets Manager (README, 'Payments'), or someone probing the endpoint.",
        )
        self._alarm(
            "payment-events-rejected",
            metric("PaymentEventsRejected"),
            0,
            "A signed payment event that is not a payment event: the provider's or the payment service's "
            "contract changed (the logs say which field).",
        )
        day = Duration.days(1)
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Payment events",
                left=[
                    metric(n)
                    for n in (
                        "PaymentEventsApplied",
                        "PaymentsUnmatched",
                        "PaymentsOverpaid",
                        "PaymentEventsRedelivered",
                        "PaymentWebhooksRefused",
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Reminders and overdue",
                left=[
                    metric(n)
                    for n in (
                        "RemindersRequested",
                        "ReminderSent",
                        "InvoicesMarkedOverdue",
                        "RefundsCredited",
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Receivables outstanding by currency and age (nightly)",
                left=[
                    cloudwatch.MathExpression(
                        expression=f"SEARCH('{{{NAMESPACE},bucket,currency,service}} "
                        "MetricName=\"ReceivablesOutstanding\"', 'Maximum', 86400)",
                        label="",
                        period=day,
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Reconciliation findings by section (nightly)",
                left=[
                    cloudwatch.MathExpression(
                        expression=f"SEARCH('{{{NAMESPACE},section,service}} "
                        "MetricName=\"ReconciliationFindings\"', 'Maximum', 86400)",
                        label="",
                        period=day,
                    )
                ],
                width=24,
            ),
        )

    def watch_customer_service(self) -> None:
        """Inquiries and their time to resolve, the one-click feedback, refused downloads, and the
        report counter's progress."""

        def metric(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map={"service": "invoicing"},
                statistic=statistic,
                period=Duration.hours(1),
            )

        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Inquiries opened and resolved (hourly)",
                left=[metric("InquiriesOpened"), metric("InquiriesResolved")],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Inquiry time to resolve (s): p50, p95",
                left=[metric("InquirySecondsToResolve", "p50"), metric("InquirySecondsToResolve", "p95")],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Feedback: clear and correct? (hourly)",
                left=[metric("FeedbackYes"), metric("FeedbackNo")],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Report counter and refused downloads (hourly)",
                left=[
                    metric("ReportEventsCounted"),
                    metric("ReportEventsDuplicate"),
                    metric("DownloadsRefused"),
                ],
                right=[metric("OperationsReportDeviations", "Maximum")],
                width=6,
            ),
        )

    def watch_sla(
        self,
        sweeper: lambda_.IFunction,
        failed_ticks: sqs.IQueue,
        webhook: lambda_.IFunction,
        undelivered_notifications: sqs.IQueue,
        bounce_rate_alarm: float,
    ) -> None:
        """The SLA sweep's backlog, the 24-hour rate, delivery outcomes, and the webhook's health."""
        five_minutes, hour = Duration.minutes(5), Duration.hours(1)

        def metric(name: str, statistic: str = "Sum", period: Duration = five_minutes) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map={"service": "invoicing"},
                statistic=statistic,
                period=period,
            )

        def backlog(name: str, kind: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map={"service": "invoicing", "kind": kind},
                statistic="Maximum",
                period=five_minutes,
                label=kind,
            )

        for label, function in (("sla-sweeper", sweeper), ("delivery-webhook", webhook)):
            self._alarm(
                f"{label}-errors",
                function.metric_errors(period=five_minutes, statistic="Sum"),
                0,
                f"{label} raised errors (see its logs): the sweep or the bounce handling is not running",
            )
        self._alarm(
            "sla-sweeper-failed-ticks",
            failed_ticks.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            0,
            f"A sweep tick failed as a whole ({failed_ticks.queue_name}): read the sweeper's logs; the next "
            "tick tries again.",
        )
        self._alarm(
            "operations-digest-failed",
            metric("DigestFailed", "Maximum"),
            0,
            "The sweep could not publish the operations digest: nothing was marked reminded, the next tick "
            "publishes it again; check the topic (KMS key, policy).",
        )
        self._alarm(
            "sla-at-risk",
            metric("SlaAtRisk", "Maximum"),
            0,
            "An order or invoice is still not delivered 20 h after completion: the 24-hour target is about "
            "to be missed. The sweep's digest names it; see the README runbook.",
        )
        for kind in ("ORDER_UNINVOICED", "INVOICE_UNSENT", "EVENT_UNPUBLISHED", "VENDOR_INVOICES_DUE"):
            self._alarm(
                f"{kind.lower().replace('_', '-')}-backlog-age",
                backlog("BacklogOldestAgeSeconds", kind),
                600,
                f"{kind}: the oldest item has waited more than 10 minutes (our target is one minute); "
                "the sweep is re-driving it, look at why the normal path failed.",
            )
        self._alarm(
            "deliveries-in-doubt",
            backlog("BacklogCount", "DELIVERY_IN_DOUBT"),
            0,
            "A send was claimed and never recorded as sent: check SES/SNS before sending by hand.",
        )
        self._alarm(
            "sent-within-24h-rate",
            metric("SentWithinTarget", "Average", hour),
            0.98,
            "Less than 98 % of the invoices sent in the last hour went out within 24 h of completion.",
            cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        )
        self._alarm(
            "corrections-within-48h-rate",
            metric("CorrectionsReissuedWithin48h", "Average", Duration.hours(6)),
            0.98,
            "Less than 98 % of the corrections sent in the last 6 hours were re-issued and sent within "
            "48 h of their discovery.",
            cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        )
        bounce_rate = cloudwatch.MathExpression(
            expression="IF(delivered + bounced > 0, bounced / (delivered + bounced), 0)",
            using_metrics={
                "delivered": metric("EmailDelivered", period=hour),
                "bounced": metric("EmailBounced", period=hour),
            },
            label="bounce rate",
            period=hour,
        )
        self._alarm(
            "bounce-rate",
            bounce_rate,
            bounce_rate_alarm,
            f"More than {bounce_rate_alarm:.0%} of invoice emails bounced in the last hour: bad addresses "
            "from the storefront, or the sender's reputation is at risk.",
        )
        self._alarm(
            "notifications-refused",
            metric("NotificationsRefused"),
            0,
            "Posts to the bounce webhook failed SNS signature verification: forged traffic, or SNS rotated "
            "its certificate host.",
        )
        self._alarm(
            "ses-notifications-undelivered",
            undelivered_notifications.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            0,
            "SNS could not deliver SES notifications to the webhook "
            f"({undelivered_notifications.queue_name}): bounces are not being handled.",
        )
        kinds = (
            "ORDER_UNINVOICED",
            "INVOICE_UNSENT",
            "DELIVERY_IN_DOUBT",
            "EMAIL_RETRY",
            "EVENT_UNPUBLISHED",
            "VENDOR_INVOICES_DUE",
        )
        people = ("VALIDATION_FAILURE", "UNDELIVERABLE")
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="## SLA: backlog, 24-hour rate, delivery", width=24, height=1)
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Backlog being pushed through (count)",
                left=[backlog("BacklogCount", k) for k in kinds],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Oldest item per kind (s)",
                left=[backlog("BacklogOldestAgeSeconds", k) for k in (*kinds, *people)],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Needs a person (count)", left=[backlog("BacklogCount", k) for k in people], width=8
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Sent within 24 h (rolling, share)",
                left=[metric("SentWithinTarget", "Average", Duration.hours(24))],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=1),
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Email outcomes",
                left=[
                    metric(n)
                    for n in (
                        "EmailDelivered",
                        "EmailBounced",
                        "EmailSoftBounced",
                        "EmailComplained",
                        "EmailOpened",
                    )
                ],
                right=[bounce_rate],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Sweep: re-driven, failed, reminders, at risk",
                left=[
                    metric(n) for n in ("Redriven", "RedriveFailed", "RemindersSent", "ValidationFailures")
                ],
                right=[metric("SlaAtRisk", "Maximum")],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Corrections re-issued within 48 h (share)",
                left=[metric("CorrectionsReissuedWithin48h", "Average", Duration.hours(24))],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=1),
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Correction: discovery to sent (s)",
                left=[
                    metric("CorrectionReissueSeconds", stat, Duration.hours(1))
                    for stat in ("p50", "p95", "Maximum")
                ],
                right=[metric("InvoicesCorrected"), metric("CorrectionsRejected")],
                width=8,
            ),
        )
