"""Findings of the security review, in the synthesized templates: each route its own throttle,
every log group encrypted with the data key."""

from __future__ import annotations

from typing import Any

from infra.config import EnvironmentConfig, RouteThrottle
from tests.infrastructure.test_invoicing_stack import of_type

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
            **dict.fromkeys(INVOICES_ROUTES, bucket(throttles.invoices)),
            "POST /webhooks/ses": bucket(throttles.ses_webhook),
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
            f["Properties"]["FunctionName"] for f in of_type(template, "AWS::Lambda::Function").values()
        ]
        # Each of our functions' logs, and the API's access logs.
        assert {g["Properties"]["LogGroupName"] for g in groups.values()} == {
            *(f"/aws/lambda/{name}" for name in functions),
            f"/aws/apigateway/{configs[env].resource_prefix}-invoices-access",
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
