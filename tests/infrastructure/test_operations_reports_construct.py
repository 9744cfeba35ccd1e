"""The operations report in the stack: its counters table, the counting rule (the same
announcements the counting knows), the three schedules, and each function's narrow grants."""

from __future__ import annotations

import json
from typing import Any

from infra.config import EnvironmentConfig
from infra.resources import REPORT_COUNTED_DETAIL_TYPES
from invoicing.domain.operations_report import ReportTargets
from invoicing.domain.report_counts import COUNTED_DETAIL_TYPES
from tests.infrastructure.test_invoicing_stack import named, of_type, role_statements
from tests.infrastructure.test_sla_and_webhook import function_named, role_of


def actions_of(template: dict[str, Any], suffix: str) -> tuple[set[str], list[dict[str, Any]]]:
    _, function = function_named(template, suffix)
    statements = list(role_statements(template, role_of(function)))
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    return actions, statements


def test_the_stack_counts_exactly_what_the_counting_knows() -> None:
    assert list(REPORT_COUNTED_DETAIL_TYPES) == [str(t) for t in COUNTED_DETAIL_TYPES]


def test_the_counters_table_is_encrypted_recoverable_and_expires_its_guards(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        _, table = named(template, "AWS::DynamoDB::GlobalTable", "TableName", "-reportcounters")
        properties = table["Properties"]
        assert properties["SSESpecification"]["SSEType"] == "KMS", env
        assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
        (replica,) = properties["Replicas"]
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_the_counter_hears_every_counted_announcement_and_keeps_what_it_cannot_count(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        function_id, _ = function_named(template, "-report-counter")
        (rule,) = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if function_id in json.dumps(r["Properties"].get("Targets", []))
        ]
        assert rule["EventPattern"] == {
            "source": ["saypro.invoicing"],
            "detail-type": list(REPORT_COUNTED_DETAIL_TYPES),
        }
        (target,) = rule["Targets"]
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 8
        actions, statements = actions_of(template, "-report-counter")
        dynamodb = {a for a in actions if a.startswith("dynamodb:")}
        assert dynamodb == {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:ConditionCheckItem",
        }
        assert not any(a.startswith(("s3:", "sns:", "events:")) for a in actions)
        table_statements = [s for s in statements if any(str(a).startswith("dynamodb:") for a in s["Action"])]
        assert all("ReportCounters" in json.dumps(s["Resource"]) for s in table_statements)


def test_three_schedules_ask_for_last_week_month_and_quarter(templates: dict[str, dict[str, Any]]) -> None:
    for template in templates.values():
        function_id, _ = function_named(template, "-operations-reports")
        schedules = {
            json.loads(target["Input"])["period"]: r["Properties"]["ScheduleExpression"]
            for r in of_type(template, "AWS::Events::Rule").values()
            for target in r["Properties"].get("Targets", [])
            if function_id in json.dumps(target) and "ScheduleExpression" in r["Properties"]
        }
        assert schedules == {
            "week": "cron(0 2 ? * MON *)",
            "month": "cron(15 2 1 * ? *)",
            "quarter": "cron(30 2 1 1,4,7,10 ? *)",
        }


def test_the_report_function_reads_counters_writes_only_its_prefix_and_tells_operations(
    templates: dict[str, dict[str, Any]],
) -> None:
    template = templates["prod"]
    actions, statements = actions_of(template, "-operations-reports")
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:BatchGetItem"}
    assert {a for a in actions if a.startswith("s3:")} == {"s3:PutObject"}
    (put,) = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert "reports/operations/*" in json.dumps(put["Resource"])
    (publish,) = [s for s in statements if s["Action"] == "sns:Publish"]
    assert "Alarms" in json.dumps(publish["Resource"])
    _, download_statements = actions_of(template, "-invoice-download")
    (count,) = [s for s in download_statements if "ReportCounters" in json.dumps(s["Resource"])]
    assert count["Action"] == "dynamodb:UpdateItem"


def test_each_environments_targets_are_ones_the_report_knows(configs: dict[str, EnvironmentConfig]) -> None:
    for config in configs.values():
        ReportTargets.model_validate(config.report_targets)


def test_the_dashboard_shows_inquiries_feedback_and_the_counter(templates: dict[str, dict[str, Any]]) -> None:
    (dashboard,) = of_type(templates["dev"], "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "Inquiries opened and resolved",
        "Inquiry time to resolve",
        "Feedback: clear and correct?",
        "Report counter and refused downloads",
    ):
        assert title in body, title
