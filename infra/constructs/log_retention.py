"""CloudWatch Logs: retention from the configured number of days, and encryption with our key."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from infra.config import LOG_RETENTION_DAYS, EnvironmentConfig

# Every log group of the stack is named under one of these and then the resource prefix, so the
# data key's policy can admit exactly these log groups.
FUNCTION_LOG_GROUP_PREFIX = "/aws/lambda/"
API_LOG_GROUP_PREFIX = "/aws/apigateway/"

# jsii enums carry names, not day counts: pair the periods in CDK's order (tests check the result).
_BY_DAYS = dict(
    zip(
        LOG_RETENTION_DAYS,
        [r for r in logs.RetentionDays if r is not logs.RetentionDays.INFINITE],
        strict=True,
    )
)


def log_retention(days: int) -> logs.RetentionDays:
    try:
        return _BY_DAYS[days]
    except KeyError:
        raise ValueError(
            f"CloudWatch Logs cannot keep logs {days} days; one of {LOG_RETENTION_DAYS}"
        ) from None


def allow_log_encryption(key: kms.Key, config: EnvironmentConfig) -> None:
    """Let CloudWatch Logs in this region use `key` for this stack's log groups only.

    CloudWatch Logs puts the log group's ARN in the encryption context of every request it makes
    with the key (kms:EncryptionContext:aws:logs:arn), so the key works for no other log group,
    of this account or any other.
    """
    stack = Stack.of(key)
    log_groups = [
        stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{prefix}{config.resource_prefix}-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for prefix in (FUNCTION_LOG_GROUP_PREFIX, API_LOG_GROUP_PREFIX)
    ]
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchLogsEncryptOurLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
        )
    )
