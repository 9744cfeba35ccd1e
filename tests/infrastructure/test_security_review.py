"""Findings of the security review, in the synthesized templates: each route its own throttle,
every log group encrypted with the data key, and cdk-nag's Serverless pack satisfied in earnest
(its DLQ acknowledgements hold: every queue is somebody's dead-letter queue, every function's
failures are kept or answered)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import EnvironmentConfig, RouteThrottle
from tests.infrastructure.test_invoicing_stack import of_type, referenced

INVOICES_ROUTES = (
    "GET /invoices",
    "GET /invoices/{invoice_number}",
    "GET /invoices/{invoice_number}/download-link",
)


def the_stage(template: dict[str, Any]) -> dict[str, Any]:
    (stage,) = of_type(template, "AWS::ApiGatewayV2::Stage").values()
    return stage


def bucket(limits: RouteThrottle) -> dict[str, float]:
    return {"ThrottlingRateLimit": limits.rate_limit, "ThrottlingBurstLimit": limits.burst_limit}


# --- per-route throttles ----------------------------------------------------------------------


def test_each_route_has_its_own_throttle_with_the_environments_limits(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        throttles = configs[env].api_throttles
        settings = the_stage(template)["Properties"]["RouteSettings"]
        assert settings == {
            "GET /download/{invoice_number}": bucket(throttles.download),
            "POST /download/{invoice_number}/fresh-link": bucket(throttles.download),
            "POST /download/{invoice_number}/problem": bucket(throttles.download),
            "GET /reports/{report_id}/{file_name}": bucket(throttles.download),
            "GET /statements/{statement_id}": bucket(throttles.download),
            "GET /feedback/{invoice_number}": bucket(throttles.download),
            "GET /statements": bucket(throttles.invoices),
            "GET /support/invoices": bucket(throttles.invoices),
            "GET /support/invoices/{invoice_number}/timeline": bucket(throttles.invoices),
            "POST /support/invoices/{invoice_number}/resend": bucket(throttles.corrections),
            "POST /support/inquiries/{inquiry_id}/actions": bucket(throttles.corrections),
            "POST /invoices/{invoice_number}/inquiries": bucket(throttles.corrections),
            "GET /support/inquiries": bucket(throttles.invoices),
            "GET /support/inquiries/{inquiry_id}": bucket(throttles.invoices),
            "GET /operations/overview": bucket(throttles.invoices),
            "GET /operations/reports": bucket(throttles.invoices),
            "GET /operations/reports/{report_id}": bucket(throttles.invoices),
            **dict.fromkeys(INVOICES_ROUTES, bucket(throttles.invoices)),
            "POST /invoices/{invoice_number}/corrections": bucket(throttles.corrections),
            "POST /webhooks/ses": bucket(throttles.ses_webhook),
            "POST /webhooks/payments": bucket(throttles.payment_webhook),
        }, env


def test_every_route_of_the_api_is_throttled_on_its_own_and_created_before_the_stage(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        routes = of_type(template, "AWS::ApiGatewayV2::Route")
        stage = the_stage(template)
        # A route added later without its limits would share the stage default again.
        assert set(stage["Properties"]["RouteSettings"]) == {
            r["Properties"]["RouteKey"] for r in routes.values()
        }, env
        # CloudFormation refuses RouteSettings naming a route key that does not exist yet.
        assert set(routes) <= set(stage["DependsOn"]), env


# --- log groups encrypted with the data key ---------------------------------------------------


def data_key(template: dict[str, Any], config: EnvironmentConfig) -> tuple[str, dict[str, Any]]:
    (alias,) = [
        a["Properties"]
        for a in of_type(template, "AWS::KMS::Alias").values()
        if a["Properties"]["AliasName"] == f"alias/{config.resource_prefix}-data"
    ]
    key_id = alias["TargetKeyId"]["Fn::GetAtt"][0]
    return key_id, template["Resources"][key_id]


def rendered(value: Any) -> str:
    """An ARN of the template with the account left as a wildcard (it is the deploying account)."""
    if isinstance(value, str):
        return value
    if value == {"Ref": "AWS::AccountId"}:
        return "*"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(rendered(part) for part in parts)
    raise AssertionError(f"cannot render {value}")


def test_every_log_group_is_encrypted_with_the_data_key(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        key_id, _ = data_key(template, configs[env])
        groups = of_type(template, "AWS::Logs::LogGroup")
        functions = [
            f["Properties"]["FunctionName"]
            for f in of_type(template, "AWS::Lambda::Function").values()
            if "FunctionName" in f["Properties"]  # CDK's pages-deployment handler is named by CDK
        ]
        # Each of our functions' logs, the API's access logs, and the pages' deployment handler's.
        assert {g["Properties"]["LogGroupName"] for g in groups.values()} == {
            *(f"/aws/lambda/{name}" for name in functions),
            f"/aws/apigateway/{configs[env].resource_prefix}-invoices-access",
            f"/aws/lambda/{configs[env].resource_prefix}-pages-deployment",
        }, env
        for group_id, group in groups.items():
            assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}, (env, group_id)


def test_the_data_key_lets_cloudwatch_logs_use_it_for_this_stacks_log_groups_only(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    import fnmatch

    for env, template in templates.items():
        config = configs[env]
        statements = data_key(template, config)[1]["Properties"]["KeyPolicy"]["Statement"]
        (logs,) = [
            s for s in statements if s["Principal"].get("Service") == f"logs.{config.region}.amazonaws.com"
        ]
        assert logs["Effect"] == "Allow"
        assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"} <= set(logs["Action"])
        assert set(logs["Condition"]) == {"ArnLike"}
        patterns = [rendered(p) for p in logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]]
        assert all(
            p.startswith(f"arn:aws:logs:{config.region}:*:log-group:/aws/")
            and p.endswith(f"/{config.resource_prefix}-*")
            for p in patterns
        ), patterns
        # Every log group of the stack is admitted (CloudWatch Logs refuses a key it cannot use)...
        for group in of_type(template, "AWS::Logs::LogGroup").values():
            arn = f"arn:aws:logs:{config.region}:123456789012:log-group:{group['Properties']['LogGroupName']}"
            assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), arn
        # ... and another environment's are not.
        other = f"arn:aws:logs:{config.region}:123456789012:log-group:/aws/lambda/someone-else"
        assert not any(fnmatch.fnmatchcase(other, p) for p in patterns)


# --- cdk-nag's Serverless pack ----------------------------------------------------------------


def dead_letter_targets(template: dict[str, Any]) -> dict[str, set[str]]:
    """For each resource that sends what gave up somewhere, the logical ids it sends it to."""
    targets: dict[str, set[str]] = {}
    for resource_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"):
            targets[resource_id] = referenced(props.get("DestinationConfig", {}).get("OnFailure"))
        elif kind == "AWS::Events::Rule":
            targets[resource_id] = referenced([t.get("DeadLetterConfig") for t in props.get("Targets", [])])
        elif kind == "AWS::SNS::Subscription":
            targets[resource_id] = referenced(props.get("RedrivePolicy"))
    return targets


def test_every_queue_is_a_dead_letter_queue_so_needs_no_redrive_of_its_own(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        queues = set(of_type(template, "AWS::SQS::Queue"))
        kept_in = set().union(*dead_letter_targets(template).values())
        assert queues <= kept_in, (env, queues - kept_in)


def test_whatever_gives_up_is_kept_rules_schedules_and_subscriptions_included(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        targets = dead_letter_targets(template)
        for kind in ("AWS::Events::Rule", "AWS::SNS::Subscription"):
            for resource_id in of_type(template, kind):
                assert targets[resource_id], (env, resource_id)  # a DLQ on each target / subscription


def test_the_schedules_keep_ticks_they_could_not_deliver_with_the_failed_ones(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        schedules = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"]
        ]
        kept_in = []
        for schedule in schedules:
            (target,) = schedule["Targets"]
            (queue_id,) = referenced(target["DeadLetterConfig"])
            kept_in.append(template["Resources"][queue_id]["Properties"]["QueueName"].split("-", 3)[-1])
            assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0, env
        # the receivables tick, its nightly report and monthly statements, the SLA sweep, and the
        # weekly, monthly and quarterly operations reports
        assert sorted(kept_in) == [
            *["operations-reports-failed-runs"] * 3,
            *["receivables-failed-ticks"] * 3,
            "sla-sweeper-failed-ticks",
        ], env


def test_e_mail_subscriptions_keep_what_sns_could_not_deliver_and_it_is_alarmed(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        emails = {
            s["Properties"]["Endpoint"]: s["Properties"]
            for s in of_type(template, "AWS::SNS::Subscription").values()
            if s["Properties"]["Protocol"] == "email"
        }
        config = configs[env]
        assert set(emails) == {e for e in (config.alarm_email, config.customer_service_email) if e}
        alarmed = {
            queue_id
            for alarm in of_type(template, "AWS::CloudWatch::Alarm").values()
            for queue_id in referenced(alarm["Properties"].get("Dimensions"))
        }
        for subscription in emails.values():
            (queue_id,) = referenced(subscription["RedrivePolicy"])
            assert queue_id in alarmed, (env, queue_id)


def test_functions_without_a_dead_letter_config_keep_their_failures_or_answer_them(
    templates: dict[str, dict[str, Any]],
) -> None:
    """What the Serverless-LambdaDLQ acknowledgements say, checked: asynchronously invoked
    functions have an on-failure destination, stream consumers one on their mapping, and the
    rest are invoked only by the HTTP API, which answers the caller."""
    for env, template in templates.items():
        resources = template["Resources"]
        for function_id in of_type(template, "AWS::Lambda::Function"):

            def about(kind: str, key: str, fid: str = function_id) -> list[dict[str, Any]]:
                return [
                    r["Properties"]
                    for r in of_type(template, kind).values()
                    if fid in referenced(r["Properties"][key])
                ]

            invokers = {p["Principal"] for p in about("AWS::Lambda::Permission", "FunctionName")}
            deploys = [
                r
                for r in resources.values()
                if r["Type"] == "Custom::CDKBucketDeployment"
                and function_id in referenced(r["Properties"]["ServiceToken"])
            ]
            if deploys:  # CDK's pages-deployment handler: CloudFormation invokes it and reports failures
                continue
            mappings = about("AWS::Lambda::EventSourceMapping", "FunctionName")
            async_configs = about("AWS::Lambda::EventInvokeConfig", "FunctionName")
            if "events.amazonaws.com" in invokers:
                assert [c["DestinationConfig"]["OnFailure"] for c in async_configs], (env, function_id)
            elif mappings:
                assert all(m["DestinationConfig"]["OnFailure"] for m in mappings), (env, function_id)
            else:
                assert invokers == {"apigateway.amazonaws.com"}, (env, function_id)
            assert "DeadLetterConfig" not in resources[function_id]["Properties"]


def test_the_api_access_log_is_one_json_object_per_request_without_the_link_token(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        log_format = the_stage(template)["Properties"]["AccessLogSettings"]["Format"]
        fields = json.loads(log_format)
        assert {"requestId", "ip", "routeKey", "status", "error"} <= set(fields)
        assert fields["routeKey"] == "$context.routeKey"
        # The path of a download link names the invoice; its query string carries the token.
        assert not any("path" in value.lower() or "querystring" in value.lower() for value in fields.values())


def test_the_serverless_findings_left_are_only_the_dead_letter_questions_answered_above(synth: Any) -> None:
    (report,) = [r for r in synth.validation_report["pluginReports"] if r["pluginName"] == "Serverless"]
    assert {f["ruleName"] for f in report["suppressedViolations"]} == {
        "Serverless-LambdaDLQ",  # functions: see test_functions_without_a_dead_letter_config_...
        "Serverless-SQSRedrivePolicy",  # queues: see test_every_queue_is_a_dead_letter_queue_...
        # CDK's own pages-deployment handler (web_pages.py): its runtime and tracing are CDK's.
        "Serverless-LambdaLatestVersion",
        "Serverless-LambdaTracing",
    }
    pinned = [
        f
        for f in report["suppressedViolations"]
        if f["ruleName"] in ("Serverless-LambdaLatestVersion", "Serverless-LambdaTracing")
    ]
    assert pinned and all("Custom::CDKBucketDeployment" in f["acknowledgedAt"] for f in pinned)


def test_the_serverless_pack_fails_the_synth_on_an_unacknowledged_finding() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    from infra.app import add_nag_packs

    app = cdk.App()
    stack = cdk.Stack(app, "Careless")
    sqs.Queue(stack, "Work", enforce_ssl=True)  # no dead-letter queue for what keeps failing
    add_nag_packs(app)
    with pytest.raises(RuntimeError, match="Serverless-SQSRedrivePolicy"):
        app.synth()
