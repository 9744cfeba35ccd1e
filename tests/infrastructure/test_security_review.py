"""Findings of the security review, in the synthesized templates: each route its own throttle."""

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
