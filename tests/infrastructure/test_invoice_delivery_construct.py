"""The dispatcher construct in a stack of its own, with cdk-nag: rule, DLQ, SES, least privilege."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


@pytest.fixture(scope="module")
def template() -> Template:
    import aws_cdk as cdk
    from aws_cdk import aws_events as events
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_secretsmanager as secretsmanager
    from cdk_nag import AwsSolutionsChecks

    from infra.app import create_app
    from infra.config import load_config
    from infra.constructs.invoice_delivery import InvoiceDelivery
    from infra.constructs.invoice_generator import SharedLayers
    from infra.constructs.storage import DocumentBucket, Tables
    from infra.nag import acknowledge

    config = load_config("prod")
    app = create_app(context=NO_BUNDLING)
    stack = cdk.Stack(app, "DeliveryUnderTest", env=cdk.Environment(region="eu-west-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    tables = Tables(stack, "Tables", config=config, key=key)
    documents = DocumentBucket(stack, "Documents", config=config, key=key)
    bus = events.EventBus(stack, "Bus")
    secret = secretsmanager.Secret(stack, "LinkKeys")
    acknowledge(
        secret,
        "AwsSolutions::AwsSolutions-SMG4",
        "Test scaffolding: the real secret is rotated by procedure.",
    )
    InvoiceDelivery(
        stack,
        "Delivery",
        config=config,
        layers=SharedLayers(stack, "Layers"),
        orders=tables.orders,
        invoices=tables.invoices,
        vendors=tables.vendors,
        documents=documents.bucket,
        data_key=key,
        bus=bus,
        link_keys=secret,
        download_base_url="https://invoices.saypro.example",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises on any unacknowledged cdk-nag finding
    return Template.from_stack(stack)


def dispatcher_statements(template: Template) -> list[dict[str, Any]]:
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if "DeliveryDispatcherRole" in json.dumps(policy["Properties"]["Roles"]):
            return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]
    raise AssertionError("no dispatcher policy")


def test_invoice_issued_events_reach_the_dispatcher_with_retries_and_a_dead_letter_queue(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["saypro.invoicing"],
                "detail-type": ["InvoiceIssued", "InvoiceDeliveryDue"],
            },
            "Targets": [
                Match.object_like(
                    {
                        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400},
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                    }
                )
            ],
        },
    )


def test_payment_reminders_asked_for_reach_the_dispatcher_with_retries(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {"source": ["saypro.invoicing"], "detail-type": ["PaymentReminderDue"]},
            "Targets": [
                Match.object_like(
                    {
                        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400},
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                    }
                )
            ],
        },
    )


def test_credit_notes_on_their_own_reach_the_dispatcher_and_those_with_a_revised_invoice_do_not(
    template: Template,
) -> None:
    rules = template.find_resources(
        "AWS::Events::Rule", {"Properties": {"EventPattern": {"detail-type": ["CreditNoteIssued"]}}}
    )
    [rule] = rules.values()
    # null: no revised invoice; one with a revised invoice is sent with it (as InvoiceIssued).
    assert rule["Properties"]["EventPattern"] == {
        "source": ["saypro.invoicing"],
        "detail-type": ["CreditNoteIssued"],
        "detail": {"replaced_by": [None]},
    }
    [target] = rule["Properties"]["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400}
    assert "Arn" in target["DeadLetterConfig"]
    dispatcher = [
        name
        for name, function in template.find_resources("AWS::Lambda::Function").items()
        if "invoice-dispatcher" in json.dumps(function["Properties"].get("FunctionName", ""))
    ]
    assert dispatcher and target["Arn"] == {"Fn::GetAtt": [dispatcher[0], "Arn"]}


def test_email_goes_through_a_configuration_set_from_the_verified_sender_domain(template: Template) -> None:
    template.has_resource_properties("AWS::SES::ConfigurationSet", {"Name": "saypro-invoicing-prod-invoices"})
    template.has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": "saypro.example"})
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "SES_CONFIGURATION_SET": Match.any_value(),
                        "SENDER_ADDRESS": Match.string_like_regexp("<invoices@saypro.example>"),
                        "DOWNLOAD_BASE_URL": "https://invoices.saypro.example",
                        "LINK_LIFETIME_DAYS": "90",
                    }
                )
            },
        },
    )


def test_the_dispatcher_may_send_and_read_only_what_delivery_needs(template: Template) -> None:
    statements = dispatcher_statements(template)
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "ses:SendRawEmail" in actions and "sns:Publish" in actions
    assert not {a for a in actions if a.endswith("*") and not a.startswith(("xray:", "secretsmanager:"))}
    assert not {"dynamodb:Scan", "dynamodb:BatchWriteItem", "s3:PutObject", "s3:DeleteObject"} & actions
    send = next(s for s in statements if s.get("Sid") == "SendEmail")
    assert "identity/saypro.example" in json.dumps(send["Resource"])


def _rendered(value: Any) -> str:
    """An ARN of the template as IAM sees it in the aws partition (Fn::Join of strings and Refs)."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return {"AWS::Partition": "aws", "AWS::Region": "eu-west-1"}.get(value["Ref"], value["Ref"])
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_rendered(part) for part in parts)
    raise AssertionError(f"cannot render {value}")


def _matches(pattern: str, resource: str) -> bool:
    # IAM's ARN wildcards: * is any run of characters, ? one character.
    return (
        re.fullmatch(".*".join(".".join(map(re.escape, p.split("?"))) for p in pattern.split("*")), resource)
        is not None
    )


def may_publish(statements: list[dict[str, Any]], resource: str) -> bool:
    """IAM's verdict for sns:Publish on `resource`: an explicit Deny wins over any Allow."""
    verdicts = {
        s["Effect"]
        for s in statements
        if "sns:Publish" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        and any(
            _matches(_rendered(r), resource)
            for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        )
    }
    return "Allow" in verdicts and "Deny" not in verdicts


def test_the_dispatcher_may_text_a_phone_number_but_publish_to_no_topic(template: Template) -> None:
    statements = dispatcher_statements(template)
    # Publish with PhoneNumber names no resource: IAM evaluates it against "*".
    assert may_publish(statements, "*")
    for topic in (
        "arn:aws:sns:eu-west-1:123456789012:saypro-invoicing-prod-alarms",
        "arn:aws:sns:us-east-1:999999999999:someone-elses-topic",
        "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/app/0f1e2d3c",
    ):
        assert not may_publish(statements, topic), topic
    deny = next(s for s in statements if s.get("Sid") == "NoTopicPublish")
    assert deny["Effect"] == "Deny" and _rendered(deny["Resource"]) == "arn:aws:sns:*:*:*"


def test_the_stack_serves_download_links_and_dispatches_with_their_keys(prod: Template) -> None:
    prod.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": "GET /download/{invoice_number}"})
    prod.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()}),
            "DefaultRouteSettings": Match.object_like({"ThrottlingRateLimit": 50}),
        },
    )
    prod.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "GenerateSecretString": Match.object_like({"GenerateStringKey": "k1_secret"}),
            "KmsKeyId": Match.any_value(),
        },
    )
    functions = {
        f["Properties"]["FunctionName"]: f["Properties"]
        for f in prod.find_resources("AWS::Lambda::Function").values()
        if "FunctionName" in f["Properties"]
    }
    dispatcher = functions["saypro-invoicing-prod-invoice-dispatcher"]
    assert "DOWNLOAD_BASE_URL" in dispatcher["Environment"]["Variables"]
    assert functions["saypro-invoicing-prod-invoice-download"]["Timeout"] == 10


def test_the_invoices_routes_require_a_jwt_from_the_configured_issuer(prod: Template) -> None:
    prod.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "JwtConfiguration": {
                "Issuer": "https://auth.saypro.example/",
                "Audience": ["saypro-invoices-prod"],
            },
            "IdentitySource": ["$request.header.Authorization"],
        },
    )
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in prod.find_resources("AWS::ApiGatewayV2::Route").values()
    }
    for key in (
        "GET /invoices",
        "GET /invoices/{invoice_number}",
        "GET /invoices/{invoice_number}/download-link",
        "POST /invoices/{invoice_number}/corrections",
    ):
        assert routes[key]["AuthorizationType"] == "JWT"
    assert routes["GET /download/{invoice_number}"].get("AuthorizationType", "NONE") == "NONE"


def test_vendor_invoices_are_made_from_customer_invoices_only_with_their_own_series(prod: Template) -> None:
    prod.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["saypro.invoicing"],
                "detail-type": ["InvoiceIssued", "VendorInvoicesDue"],
                "detail": {"kind": ["CUSTOMER"]},
            },
            "Targets": [Match.object_like({"DeadLetterConfig": {"Arn": Match.any_value()}})],
        },
    )
    prod.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "saypro-invoicing-prod-vendor-invoicer",
            "Environment": {"Variables": Match.object_like({"VENDOR_INVOICE_SERIES": "VND"})},
        },
    )
