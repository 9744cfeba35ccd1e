"""The bounce webhook's plumbing and the SLA sweep in the synthesized templates."""

from __future__ import annotations

import json
from typing import Any

from infra.config import EnvironmentConfig
from tests.infrastructure.test_invoicing_stack import (
    alarm_topic,
    as_list,
    denies_insecure_transport,
    of_type,
    referenced,
    role_statements,
)


def function_named(template: dict[str, Any], suffix: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (function_id, function)
        for function_id, function in of_type(template, "AWS::Lambda::Function").items()
        if str(function["Properties"].get("FunctionName", "")).endswith(suffix)
    ]
    return found


def role_of(function: dict[str, Any]) -> str:
    (role_id,) = referenced(function["Properties"]["Role"])
    return role_id


def notifications_topic(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (topic_id, topic)
        for topic_id, topic in of_type(template, "AWS::SNS::Topic").items()
        if str(topic["Properties"].get("TopicName", "")).endswith("-ses-notifications")
    ]
    return found


def test_the_webhook_route_takes_posts_without_an_authorizer(templates: dict[str, dict[str, Any]]) -> None:
    for template in templates.values():
        (route,) = [
            r["Properties"]
            for r in of_type(template, "AWS::ApiGatewayV2::Route").values()
            if r["Properties"]["RouteKey"] == "POST /webhooks/ses"
        ]
        assert route.get("AuthorizationType", "NONE") == "NONE"
        function_id, function = function_named(template, "-delivery-webhook")
        environment = function["Properties"]["Environment"]["Variables"]
        topic_id, _ = notifications_topic(template)
        assert environment["NOTIFICATION_TOPIC_ARNS"] == {"Ref": topic_id}
        assert "INVOICES_TABLE_NAME" in environment and "EVENT_BUS_NAME" not in environment  # outbox
        integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
        integration = template["Resources"][integration_id]["Properties"]
        assert function_id in json.dumps(integration["IntegrationUri"])


def test_ses_events_reach_an_encrypted_tls_only_topic_that_only_our_configuration_set_may_use(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        topic_id, topic = notifications_topic(template)
        assert referenced(topic["Properties"]["KmsMasterKeyId"])
        (policy,) = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in of_type(template, "AWS::SNS::TopicPolicy").values()
            if {"Ref": topic_id} in p["Properties"]["Topics"]
        ]
        assert denies_insecure_transport(policy)
        ses_statements = [s for s in policy if s.get("Principal") == {"Service": "ses.amazonaws.com"}]
        assert ses_statements
        for statement in ses_statements:
            conditions = json.dumps(statement["Condition"]).lower()
            assert statement["Action"] == "sns:Publish"
            assert "aws:sourceaccount" in conditions and ":configuration-set/" in conditions
        (destination,) = of_type(template, "AWS::SES::ConfigurationSetEventDestination").values()
        spec = destination["Properties"]["EventDestination"]
        assert spec["SnsDestination"]["TopicARN"] == {"Ref": topic_id}
        assert {"bounce", "complaint", "delivery", "open", "click"} <= set(spec["MatchingEventTypes"])
        (subscription,) = [
            s["Properties"]
            for s in of_type(template, "AWS::SNS::Subscription").values()
            if s["Properties"]["Protocol"] == "https"
        ]
        assert subscription["TopicArn"] == {"Ref": topic_id}
        assert json.dumps(subscription["Endpoint"]).endswith('/webhooks/ses"]]}')
        assert "deadLetterTargetArn" in json.dumps(subscription["RedrivePolicy"])


def test_the_webhook_may_confirm_only_its_own_topic_and_never_scan(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        _, function = function_named(template, "-delivery-webhook")
        statements = list(role_statements(template, role_of(function)))
        topic_id, _ = notifications_topic(template)
        (confirm,) = [s for s in statements if "sns:ConfirmSubscription" in as_list(s["Action"])]
        assert confirm["Resource"] == {"Ref": topic_id}
        assert not [s for s in statements if any(a.startswith("sns:Publish") for a in as_list(s["Action"]))]


def test_the_sweep_runs_on_each_environments_schedule(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        function_id, function = function_named(template, "-sla-sweeper")
        (rule,) = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"]
            and function_id in json.dumps(r["Properties"]["Targets"])
        ]
        minutes = configs[env].sweep_interval_minutes
        assert rule["ScheduleExpression"] == f"rate({minutes} minute{'s' if minutes > 1 else ''})"
        (target,) = rule["Targets"]
        assert function_id in json.dumps(target["Arn"]) and target["RetryPolicy"]["MaximumRetryAttempts"] == 0
        assert function["Properties"]["ReservedConcurrentExecutions"] == 1
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["SWEEP_GRACE_SECONDS"] == str(configs[env].sweep_grace_seconds)
        assert variables["OPERATIONS_TOPIC_ARN"] == {"Ref": alarm_topic(template)}


def test_the_sweeper_reads_by_index_and_key_only_and_publishes_only_to_operations(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        _, function = function_named(template, "-sla-sweeper")
        statements = list(role_statements(template, role_of(function)))
        queries = [json.dumps(s["Resource"]) for s in statements if "dynamodb:Query" in as_list(s["Action"])]
        assert any("/index/sweep" in q for q in queries)
        assert not any("index/*" in q for q in queries)
        (publish,) = [s for s in statements if "sns:Publish" in as_list(s["Action"])]
        assert publish["Resource"] == {"Ref": alarm_topic(template)}
        (stream,) = [s for s in statements if "dynamodb:GetRecords" in as_list(s["Action"])]
        assert "StreamArn" in json.dumps(stream["Resource"])
        (queue,) = [s for s in statements if "sqs:ReceiveMessage" in as_list(s["Action"])]
        assert "OnFailure" in json.dumps(queue["Resource"])


def test_no_policy_in_any_stack_may_scan_a_table(templates: dict[str, dict[str, Any]]) -> None:
    for template in templates.values():
        for policy in of_type(template, "AWS::IAM::Policy").values():
            actions = [
                a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in as_list(s["Action"])
            ]
            assert "dynamodb:Scan" not in actions and "dynamodb:*" not in actions


def alarms_by_name(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in of_type(template, "AWS::CloudWatch::Alarm").values()
    }


def test_sla_alarms_notify_operations(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        prefix = configs[env].resource_prefix
        alarms = alarms_by_name(template)
        topic = {"Ref": alarm_topic(template)}
        for name in (
            "sla-at-risk",
            "order-uninvoiced-backlog-age",
            "invoice-unsent-backlog-age",
            "deliveries-in-doubt",
            "sent-within-24h-rate",
            "bounce-rate",
            "notifications-refused",
            "ses-notifications-undelivered",
            "sla-sweeper-errors",
            "delivery-webhook-errors",
        ):
            alarm = alarms[f"{prefix}-{name}"]
            assert alarm["AlarmActions"] == [topic], name
        rate = alarms[f"{prefix}-sent-within-24h-rate"]
        assert (rate["MetricName"], rate["Statistic"], rate["Threshold"], rate["ComparisonOperator"]) == (
            "SentWithinTarget",
            "Average",
            0.98,
            "LessThanThreshold",
        )
        backlog = json.dumps(alarms[f"{prefix}-order-uninvoiced-backlog-age"])
        assert (
            '{"Name": "kind", "Value": "ORDER_UNINVOICED"}' in backlog
            and "BacklogOldestAgeSeconds" in backlog
        )
        assert alarms[f"{prefix}-bounce-rate"]["Threshold"] == configs[env].bounce_rate_alarm


def test_corrections_have_their_48_hour_alarm_and_dashboard(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        prefix = configs[env].resource_prefix
        alarms = alarms_by_name(template)
        rate = alarms[f"{prefix}-corrections-within-48h-rate"]
        assert rate["AlarmActions"] == [{"Ref": alarm_topic(template)}]
        assert (rate["MetricName"], rate["Statistic"], rate["Threshold"], rate["ComparisonOperator"]) == (
            "CorrectionsReissuedWithin48h",
            "Average",
            0.98,
            "LessThanThreshold",
        )
        [dashboard] = of_type(template, "AWS::CloudWatch::Dashboard").values()
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        assert "CorrectionsReissuedWithin48h" in body and "CorrectionReissueSeconds" in body
