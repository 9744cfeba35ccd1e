"""Payments in the synthesized templates: the signed webhook's route and secret, the payment
service's rule, least privilege, and the finance topic."""

from __future__ import annotations

import json
from typing import Any

from tests.infrastructure.test_invoicing_stack import of_type, role_statements
from tests.infrastructure.test_sla_and_webhook import function_named, role_of


def test_the_payment_webhook_route_has_no_authorizer_but_its_signing_secret_from_secrets_manager(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        (route,) = [
            r["Properties"]
            for r in of_type(template, "AWS::ApiGatewayV2::Route").values()
            if r["Properties"]["RouteKey"] == "POST /webhooks/payments"
        ]
        assert route.get("AuthorizationType", "NONE") == "NONE"
        function_id, function = function_named(template, "-payment-webhook")
        environment = function["Properties"]["Environment"]["Variables"]
        (secret_id,) = [
            sid
            for sid, s in of_type(template, "AWS::SecretsManager::Secret").items()
            if str(s["Properties"].get("Name", "")).endswith("-payment-webhook")
        ]
        assert environment["PAYMENT_WEBHOOK_SECRET_ID"] == {"Ref": secret_id}
        secret = template["Resources"][secret_id]["Properties"]
        assert secret["GenerateSecretString"]["GenerateStringKey"] == "signing_secret"
        assert "KmsKeyId" in secret
        statements = list(role_statements(template, role_of(function)))
        reads_secret = [s for s in statements if "secretsmanager:GetSecretValue" in json.dumps(s["Action"])]
        assert reads_secret and all(
            json.dumps(s["Resource"]) == json.dumps({"Ref": secret_id}) for s in reads_secret
        )
        integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
        assert function_id in json.dumps(
            template["Resources"][integration_id]["Properties"]["IntegrationUri"]
        )


def test_only_the_payment_services_events_reach_the_payment_events_function_with_a_dead_letter_queue(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        function_id, _ = function_named(template, "-payment-events")
        rules = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if function_id in json.dumps(r["Properties"].get("Targets", []))
        ]
        assert len(rules) == 1
        (rule,) = rules
        assert rule["EventPattern"] == {"source": ["saypro.payments"], "detail-type": ["PaymentEvent"]}
        (target,) = rule["Targets"]
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 8


def test_the_payment_functions_may_touch_only_the_invoices_table_and_its_customer_index(
    templates: dict[str, dict[str, Any]],
) -> None:
    template = templates["prod"]
    for suffix in ("-payment-webhook", "-payment-events"):
        _, function = function_named(template, suffix)
        statements = list(role_statements(template, role_of(function)))
        actions = {
            a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert not any(a.endswith("*") for a in actions), actions
        assert "dynamodb:Scan" not in actions and "s3:GetObject" not in actions
        assert "dynamodb:DeleteItem" in actions  # a settled invoice's reminders go
        index = [s for s in statements if "index/by-customer" in json.dumps(s["Resource"])]
        assert index and all(s["Action"] == "dynamodb:Query" for s in index)


def test_finance_hears_of_unmatched_payments_overpayments_and_overdue_invoices_on_an_encrypted_topic(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        (topic_id,) = [
            tid
            for tid, t in of_type(template, "AWS::SNS::Topic").items()
            if str(t["Properties"].get("TopicName", "")).endswith("-finance")
        ]
        assert "KmsMasterKeyId" in template["Resources"][topic_id]["Properties"]
        patterns = [
            r["Properties"]["EventPattern"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if topic_id in json.dumps(r["Properties"].get("Targets", []))
        ]
        assert sorted(p["detail-type"][0] for p in patterns) == [
            "InvoiceOverdue",
            "InvoicePaymentRecorded",
            "OperationsReportReady",
            "PaymentUnmatched",
            "ReconciliationReportReady",
        ]
        (overpaid,) = [p for p in patterns if p["detail-type"] == ["InvoicePaymentRecorded"]]
        assert overpaid["detail"] == {"outcome": ["overpaid"]}


def test_the_receivables_tick_runs_every_15_minutes_one_at_a_time_with_the_reminder_policy(
    templates: dict[str, dict[str, Any]], configs: dict[str, Any]
) -> None:
    for env, template in templates.items():
        function_id, function = function_named(template, "-receivables")
        rules = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"]
            and function_id in json.dumps(r["Properties"]["Targets"])
        ]
        (tick,) = [r for r in rules if "Input" not in r["Targets"][0]]
        tasks = {
            json.loads(r["Targets"][0]["Input"])["task"]: r["ScheduleExpression"]
            for r in rules
            if "Input" in r["Targets"][0]
        }
        assert tasks == {"reconciliation": "cron(30 0 * * ? *)", "vendor-statements": "cron(0 1 1 * ? *)"}
        rule = tick
        assert rule["ScheduleExpression"] == "rate(15 minutes)"
        assert function["Properties"]["ReservedConcurrentExecutions"] == 1
        variables = function["Properties"]["Environment"]["Variables"]
        assert json.loads(variables["REMINDERS_JSON"]) == configs[env].reminders.model_dump()
        statements = list(role_statements(template, role_of(function)))
        puts = sorted(
            json.dumps(s["Resource"]) for s in statements if "s3:PutObject" in json.dumps(s["Action"])
        )
        assert [p.split('"')[-2] for p in puts] == [
            "/invoices/credit_note/*",
            "/reports/reconciliation/*",
            "/reports/vendor-statements/*",
        ]


def test_only_the_renditions_function_writes_renditions_and_only_there(
    templates: dict[str, dict[str, Any]],
) -> None:
    template = templates["prod"]
    writers = []
    for policy in of_type(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "s3:PutObject" in actions and "/renditions/*" in json.dumps(statement["Resource"]):
                writers.append(json.dumps(policy["Properties"]["Roles"]))
    (writer,) = writers
    assert "Renditions" in writer
