"""The invoices API functions in the synthesized templates: the reads' function only reads; the
corrections route has its own, with what a correction needs (the order by key, the ledger's
writes, the documents under invoices/), and nothing more."""

from __future__ import annotations

import json
from typing import Any

from infra.config import EnvironmentConfig
from infra.resources import INVOICES_TABLE, ORDERS_TABLE
from tests.infrastructure.test_invoicing_stack import (
    as_list,
    documents_bucket,
    named,
    referenced,
    role_statements,
    table,
)


def invoices_api(template: dict[str, Any]) -> dict[str, Any]:
    """The corrections route's function (it alone writes)."""
    return named(template, "AWS::Lambda::Function", "FunctionName", "-invoice-corrections")[1]["Properties"]


def reads_api(template: dict[str, Any]) -> dict[str, Any]:
    return named(template, "AWS::Lambda::Function", "FunctionName", "-invoices-api")[1]["Properties"]


def granted_actions(template: dict[str, Any], role_id: str) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    for statement in role_statements(template, role_id):
        assert statement["Effect"] == "Allow"
        actions = set(as_list(statement["Action"]))
        assert not [a for a in actions if a.endswith("*")], statement
        for resource in as_list(statement["Resource"]):
            for action in actions:
                granted.setdefault(action, set()).add(json.dumps(resource, sort_keys=True))
    return granted


def test_the_reads_function_only_reads_and_the_corrections_route_has_its_own(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        role_id = referenced(reads_api(template)["Role"]).pop()
        granted = granted_actions(template, role_id)
        dynamodb = {a for a in granted if a.startswith("dynamodb:")}
        assert dynamodb == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}, env
        batch = granted["dynamodb:BatchGetItem"]
        assert batch and all("ReportCounters" in r for r in batch), env  # the week's counters only
        # S3: the operations reports' report.json (the console's past reports), listed by prefix.
        assert {a for a in granted if a.startswith("s3:")} == {"s3:GetObject", "s3:ListBucket"}, env
        (report_documents,) = granted["s3:GetObject"]
        assert report_documents.endswith('/reports/operations/*/report.json"]]}'), report_documents
        (listing,) = [s for s in role_statements(template, role_id) if s["Action"] == "s3:ListBucket"]
        assert listing["Condition"] == {"StringLike": {"s3:prefix": ["reports/operations/OPS-*"]}}, env
        assert not {"kms:Encrypt", "kms:GenerateDataKey"} & set(granted), env
        orders_id = table(template, ORDERS_TABLE)[0]
        assert not any(orders_id in r for resources in granted.values() for r in resources), env
        routes = {
            r["Properties"]["RouteKey"]: r["Properties"]["Target"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::ApiGatewayV2::Route"
        }
        corrections = routes["POST /invoices/{invoice_number}/corrections"]
        assert corrections != routes["GET /invoices"], env
        # Support's reads go to the reads' function; its resend (a write) to the writing one.
        assert routes["GET /support/invoices"] == routes["GET /invoices"], env
        assert routes["GET /support/invoices/{invoice_number}/timeline"] == routes["GET /invoices"], env
        assert routes["POST /support/invoices/{invoice_number}/resend"] != routes["GET /invoices"], env
        authorized = [
            r["Properties"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::ApiGatewayV2::Route" and "/support/" in r["Properties"]["RouteKey"]
        ]
        assert len(authorized) == 6 and all(r["AuthorizationType"] == "JWT" for r in authorized), env
        assert routes["POST /invoices/{invoice_number}/inquiries"] != routes["GET /invoices"], env


def test_the_api_function_gets_the_series_the_seller_and_the_tables_of_a_correction(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        function = invoices_api(template)
        variables = function["Environment"]["Variables"]
        assert variables["INVOICE_SERIES"] == configs[env].invoice_series
        assert variables["CREDIT_NOTE_SERIES"] == configs[env].credit_note_series
        assert json.loads(variables["SELLER_JSON"]) == configs[env].seller.model_dump()
        assert referenced(variables["ORDERS_TABLE_NAME"]) == {table(template, ORDERS_TABLE)[0]}
        assert referenced(variables["INVOICE_BUCKET_NAME"]) == {documents_bucket(template)[0]}
        assert function["Timeout"] <= 29  # the HTTP API answers 503 after 30 seconds


def test_the_api_role_may_read_orders_by_key_write_the_ledger_and_touch_only_invoices_documents(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        role_id = referenced(invoices_api(template)["Role"]).pop()
        assert "ManagedPolicyArns" not in template["Resources"][role_id]["Properties"]
        invoices_id, orders_id = table(template, INVOICES_TABLE)[0], table(template, ORDERS_TABLE)[0]
        bucket_id = documents_bucket(template)[0]
        granted: dict[str, set[str]] = {}
        for statement in role_statements(template, role_id):
            assert statement["Effect"] == "Allow", env
            actions = set(as_list(statement["Action"]))
            assert not [a for a in actions if a.endswith("*")], statement
            for resource in as_list(statement["Resource"]):
                for action in actions:
                    granted.setdefault(action, set()).add(json.dumps(resource, sort_keys=True))
        on_orders = {a for a, resources in granted.items() if any(orders_id in r for r in resources)}
        assert on_orders == {"dynamodb:GetItem"}, env
        writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
        for action in writes:
            assert {referenced(json.loads(r)).pop() for r in granted[action]} == {invoices_id}, env
            assert not any("/index/" in r for r in granted[action]), env
        pdfs = json.dumps(
            {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/invoices/*"]]}, sort_keys=True
        )
        for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"):
            assert granted[action] == {pdfs}, env
        forbidden = {"dynamodb:Scan", "dynamodb:DeleteItem", "s3:DeleteObject", "events:PutEvents"}
        assert not forbidden & set(granted), env
        assert not {a for a in granted if a.startswith("dynamodb:Batch")}, env


def test_every_function_that_invoices_gets_its_environments_payment_policy(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    from invoicing.domain.payment_terms import PaymentPolicy

    for env, template in templates.items():
        expected = {method: terms.model_dump() for method, terms in configs[env].pay_later.items()}
        assert {"bank_transfer", "cash_on_delivery", "invoice"} <= set(expected), env
        for suffix in ("-invoice-generator", "-sla-sweeper", "-invoice-corrections"):
            function = named(template, "AWS::Lambda::Function", "FunctionName", suffix)[1]["Properties"]
            policy = PaymentPolicy.from_json(function["Environment"]["Variables"]["PAYMENT_POLICY_JSON"])
            assert {m: t.model_dump() for m, t in policy.pay_later.items()} == expected, (env, suffix)
