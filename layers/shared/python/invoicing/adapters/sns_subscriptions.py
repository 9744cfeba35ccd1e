"""Confirms an SNS subscription through the SNS API (not by fetching the SubscribeURL)."""

from __future__ import annotations

import boto3


class SnsSubscriptions:
    def confirm(self, topic_arn: str, token: str) -> str:
        """ConfirmSubscription in the topic's region; unsubscribing then needs AWS credentials."""
        region = topic_arn.split(":")[3]
        response = boto3.client("sns", region_name=region).confirm_subscription(
            TopicArn=topic_arn, Token=token, AuthenticateOnUnsubscribe="true"
        )
        arn: str = response["SubscriptionArn"]
        return arn
