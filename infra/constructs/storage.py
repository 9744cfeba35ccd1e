"""The tables (from infra/resources.py) and the invoice documents bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.resources import (
    INVOICES_TABLE,
    ORDERS_TABLE,
    REPORT_COUNTERS_TABLE,
    VENDORS_TABLE,
    KeySpec,
    TableSpec,
)

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attribute(key: KeySpec) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def removal_policy(config: EnvironmentConfig) -> RemovalPolicy:
    return RemovalPolicy.RETAIN if config.removal_policy == "retain" else RemovalPolicy.DESTROY


def _object_lock(config: EnvironmentConfig) -> s3.ObjectLockRetention | None:
    """Every PDF version locked for the legal retention: governance mode lets a break-glass role
    (s3:BypassGovernanceRetention) correct a mistake, compliance mode lets nobody, not even root."""
    if config.document_lock_mode == "none" or config.document_lock_days is None:
        return None
    duration = Duration.days(config.document_lock_days)
    if config.document_lock_mode == "compliance":
        return s3.ObjectLockRetention.compliance(duration)
    return s3.ObjectLockRetention.governance(duration)


class Tables(Construct):
    """Orders (the storefront's contract table, with its stream), Invoices (ours) and Vendors
    (the marketplace's vendor master data: name, email, commission rate, payment terms) and
    ReportCounters (the operations report's daily counters)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        self.orders = self._table(ORDERS_TABLE, f"{config.resource_prefix}-orders", config, key)
        self.invoices = self._table(INVOICES_TABLE, f"{config.resource_prefix}-invoices", config, key)
        self.vendors = self._table(VENDORS_TABLE, f"{config.resource_prefix}-vendors", config, key)
        self.report_counters = self._table(
            REPORT_COUNTERS_TABLE, f"{config.resource_prefix}-reportcounters", config, key
        )

    def _table(
        self, spec: TableSpec, name: str, config: EnvironmentConfig, key: kms.IKey
    ) -> dynamodb.TableV2:
        table = dynamodb.TableV2(
            self,
            spec.logical_id,
            table_name=name,
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
            billing=dynamodb.Billing.on_demand(),
            dynamo_stream=dynamodb.StreamViewType[spec.stream_view_type] if spec.stream_view_type else None,
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=config.deletion_protection,
            removal_policy=removal_policy(config),
            time_to_live_attribute=spec.time_to_live_attribute,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=_attribute(index.partition_key),
                    sort_key=_attribute(index.sort_key) if index.sort_key else None,
                    projection_type=dynamodb.ProjectionType.INCLUDE
                    if index.include
                    else dynamodb.ProjectionType.ALL,
                    non_key_attributes=list(index.include) if index.include else None,
                )
                for index in spec.indexes
            ]
            or None,
        )
        return table


class DocumentBucket(Construct):
    """Invoice PDFs: private, TLS only, versioned, KMS-encrypted, kept (and optionally locked) for
    the legal retention, moving to cheaper storage classes as they age; access logged."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        policy = removal_policy(config)
        # S3 server access logs: SSE-S3 (log delivery cannot write with a KMS key), delivered under a
        # bucket policy (ACLs disabled). cdk-nag's S1 exempts a bucket that is a log destination.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(max(config.log_retention_days, 90)))],
            removal_policy=policy,
        )
        retention = config.document_retention_days
        transitions = [
            s3.Transition(storage_class=storage_class, transition_after=Duration.days(days))
            for storage_class, days in (
                (s3.StorageClass.INFREQUENT_ACCESS, config.documents_to_infrequent_access_days),
                (s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, config.documents_to_glacier_days),
            )
            if days < retention
        ]
        lock = _object_lock(config)
        self.bucket = s3.Bucket(
            self,
            "Documents",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,
            object_lock_enabled=lock is not None or None,
            object_lock_default_retention=lock,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="documents/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="invoice-retention",
                    transitions=transitions or None,
                    expiration=Duration.days(retention),
                    noncurrent_version_expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=policy,
        )
