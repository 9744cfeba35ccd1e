"""Creates the stack's stateful resources, from `infra/resources.py`, on whatever boto3 points at.

Used by the local stack (moto server) and by the tests (moto in process).
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from infra.resources import (
    INVOICES_TABLE,
    ORDERS_TABLE,
    REPORT_COUNTED_DETAIL_TYPES,
    REPORT_COUNTERS_TABLE,
    VENDORS_TABLE,
    TableSpec,
)


def _create_table(client: Any, name: str, spec: TableSpec) -> None:
    keys = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])
    attributes = {k.name: k.type for k in keys}
    for index in spec.indexes:
        attributes[index.partition_key.name] = index.partition_key.type
        if index.sort_key:
            attributes[index.sort_key.name] = index.sort_key.type
    params: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
        + ([{"AttributeName": spec.sort_key.name, "KeyType": "RANGE"}] if spec.sort_key else []),
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
    }
    if spec.indexes:
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
                + ([{"AttributeName": index.sort_key.name, "KeyType": "RANGE"}] if index.sort_key else []),
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.include)}
                if index.include
                else {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    if spec.stream_view_type:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
    client.create_table(**params)
    if spec.time_to_live_attribute:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.time_to_live_attribute},
        )


LOCAL_WEBHOOK_SECRET = "whsec_local_test_only"  # noqa: S105 (a test secret, only ever on moto)


def provision(prefix: str) -> dict[str, str]:
    dynamodb = boto3.client("dynamodb")
    specs = {
        "ORDERS_TABLE_NAME": ORDERS_TABLE,
        "INVOICES_TABLE_NAME": INVOICES_TABLE,
        "VENDORS_TABLE_NAME": VENDORS_TABLE,
        "REPORT_COUNTERS_TABLE_NAME": REPORT_COUNTERS_TABLE,
    }
    names = {env_name: f"{prefix}-{spec.logical_id.lower()}" for env_name, spec in specs.items()}
    for env_name, spec in specs.items():
        _create_table(dynamodb, names[env_name], spec)
    bucket = f"{prefix}-invoice-documents"
    s3 = boto3.client("s3")
    region = s3.meta.region_name
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}
            ]
        },
    )
    bus = f"{prefix}-invoicing"
    boto3.client("events").create_event_bus(Name=bus)
    observer = _observe_bus(bus, f"{prefix}-events-observer")
    targets = {
        # The same patterns as the stack's rules; locally a queue stands in for the Lambda target.
        "DISPATCHER_QUEUE_URL": _route(
            bus,
            f"{prefix}-dispatcher",
            {
                "detail-type": [
                    "InvoiceIssued",
                    "InvoiceDeliveryDue",
                    "PaymentReminderDue",
                    "VendorStatementIssued",
                    "InvoiceResendRequested",
                ]
            },
            # A credit note on its own; one with a revised invoice is sent with that invoice.
            {"detail-type": ["CreditNoteIssued"], "detail": {"replaced_by": [None]}},
        ),
        "VENDOR_INVOICER_QUEUE_URL": _route(
            bus,
            f"{prefix}-vendor-invoicer",
            {"detail-type": ["InvoiceIssued", "VendorInvoicesDue"], "detail": {"kind": ["CUSTOMER"]}},
            # A customer credit note on its own concerns the vendors of the lines it credits.
            {"detail-type": ["CreditNoteIssued"], "detail": {"kind": ["CREDIT_NOTE"], "replaced_by": [None]}},
        ),
        # The payment service's events, delivered to the payment-events function.
        "PAYMENT_EVENTS_QUEUE_URL": _route(
            bus,
            f"{prefix}-payment-events",
            {"source": ["saypro.payments"], "detail-type": ["PaymentEvent", "VendorPayout"]},
        ),
        "RENDITIONS_QUEUE_URL": _route(
            bus, f"{prefix}-payment-renditions", {"detail-type": ["InvoicePaymentRecorded"]}
        ),
        # Invoicing's own announcements that the operations report counts.
        "REPORT_COUNTING_QUEUE_URL": _route(
            bus, f"{prefix}-report-counting", {"detail-type": list(REPORT_COUNTED_DETAIL_TYPES)}
        ),
        # Stands in for the finance topic: money that needs a person.
        "FINANCE_INBOX_QUEUE_URL": _route(
            bus,
            f"{prefix}-finance-inbox",
            {
                "detail-type": [
                    "PaymentUnmatched",
                    "InvoiceOverdue",
                    "ReconciliationReportReady",
                    "OperationsReportReady",
                ]
            },
            {"detail-type": ["InvoicePaymentRecorded"], "detail": {"outcome": ["overpaid"]}},
        ),
        # Stands in for the customer-service topic and the people subscribed to it.
        "CUSTOMER_SERVICE_INBOX_QUEUE_URL": _route(
            bus,
            f"{prefix}-customer-service-inbox",
            {"detail-type": ["InvoiceDeliveryFailed", "VendorInvoiceFailed"]},
        ),
    }
    on_failure = boto3.client("sqs").create_queue(QueueName=f"{prefix}-generator-on-failure")["QueueUrl"]
    sender, configuration_set = _provision_email(prefix)
    link_keys = _provision_link_keys(prefix)
    webhook_secret = boto3.client("secretsmanager").create_secret(
        Name=f"{prefix}-payment-webhook",
        # The secret the signed samples in events/payments/ were made with; the stack generates its own.
        SecretString=json.dumps({"signing_secret": LOCAL_WEBHOOK_SECRET}),
    )["ARN"]
    notifications = _provision_notifications(prefix, configuration_set)
    return {
        **targets,
        **notifications,
        "LINK_KEYS_SECRET_ID": link_keys,
        "PAYMENT_WEBHOOK_SECRET_ID": webhook_secret,
        "SENDER_ADDRESS": sender,
        "SES_CONFIGURATION_SET": configuration_set,
        **names,
        "INVOICE_BUCKET_NAME": bucket,
        "EVENT_BUS_NAME": bus,
        "EVENTS_OBSERVER_QUEUE_URL": observer,
        "GENERATOR_ON_FAILURE_QUEUE_URL": on_failure,
    }


def _provision_link_keys(prefix: str) -> str:
    """A fresh keyring for signing download links (the stack keeps it in Secrets Manager too)."""
    import base64
    import secrets

    keyring = {"current": "local-1", "keys": {"local-1": base64.b64encode(secrets.token_bytes(32)).decode()}}
    secret = boto3.client("secretsmanager").create_secret(
        Name=f"{prefix}-link-keys", SecretString=json.dumps(keyring)
    )
    arn: str = secret["ARN"]
    return arn


def _provision_email(prefix: str) -> tuple[str, str]:
    """A verified sender identity and the configuration set that tracks delivery events."""
    ses = boto3.client("ses")
    address = "invoices@saypro.example"
    ses.verify_email_identity(EmailAddress=address)
    configuration_set = f"{prefix}-invoices"
    ses.create_configuration_set(ConfigurationSet={"Name": configuration_set})
    return f"SayPro Invoices <{address}>", configuration_set


def _provision_notifications(prefix: str, configuration_set: str) -> dict[str, str]:
    """SES events -> an SNS topic (the webhook's), and the operations topic the sweep reminds on.

    A queue subscribed to the operations topic stands in for the people reading it.
    """
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    ses_topic = sns.create_topic(Name=f"{prefix}-ses-notifications")["TopicArn"]
    boto3.client("ses").create_configuration_set_event_destination(
        ConfigurationSetName=configuration_set,
        EventDestination={
            "Name": "delivery-webhook",
            "Enabled": True,
            "MatchingEventTypes": ["send", "bounce", "complaint", "delivery", "open", "click", "reject"],
            "SNSDestination": {"TopicARN": ses_topic},
        },
    )
    operations = sns.create_topic(Name=f"{prefix}-alarms")["TopicArn"]
    inbox = sqs.create_queue(QueueName=f"{prefix}-operations-inbox")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]
    inbox_arn = attributes["QueueArn"]
    sns.subscribe(
        TopicArn=operations, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"}
    )
    return {
        "NOTIFICATION_TOPIC_ARNS": ses_topic,
        "OPERATIONS_TOPIC_ARN": operations,
        "OPERATIONS_INBOX_QUEUE_URL": inbox,
    }


def _observe_bus(bus: str, queue_name: str) -> str:
    """Route every invoicing event to an SQS queue so tests can read what was announced."""
    return _route(bus, queue_name, {})


def _route(bus: str, queue_name: str, pattern: dict[str, Any], *more: dict[str, Any]) -> str:
    """A rule on the bus (source saypro.invoicing plus `pattern`) delivering to a new SQS queue, and
    one more rule to the same queue for each of `more` (as the stack has two rules on one function)."""
    sqs = boto3.client("sqs")
    queue_url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events")
    for index, each in enumerate((pattern, *more)):
        rule = f"{queue_name}-rule" if index == 0 else f"{queue_name}-rule-{index + 1}"
        events.put_rule(
            Name=rule,
            EventBusName=bus,
            EventPattern=json.dumps({"source": ["saypro.invoicing"], **each}),
        )
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "observer", "Arn": queue_arn}])
    return queue_url


def read_events(queue_url: str) -> list[dict[str, Any]]:
    """Drain the observer queue: every event the pipeline put on the bus, oldest first."""
    import json

    sqs = boto3.client("sqs")
    events: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return events
        for message in batch:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
