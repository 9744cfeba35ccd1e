"""CloudWatch Logs retention from the configured number of days."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from infra.config import LOG_RETENTION_DAYS

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
