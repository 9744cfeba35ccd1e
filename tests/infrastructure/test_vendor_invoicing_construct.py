"""The vendor invoicer in the synthesized templates of every environment: it hears the customer's
credit notes issued on their own, issues in the environment's vendor credit-note series, and may
write vendor credit notes and read what a vendor correction follows from, and nothing else."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from infra.config import EnvironmentConfig
from infra.resources import INVOICES_TABLE
from tests.infrastructure.test_invoicing_stack import (
    as_list,
    documents_bucket,
    named,
    of_type,
    referenced,
    role_statements,
    table,
)

SERIES = {"dev": "DVCN", "staging": "SVCN", "prod": "VCN"}


def vendor_invoicer(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    function_id, function = named(template, "AWS::Lambda::Function", "FunctionName", "-vendor-invoicer")
    return function_id, function["Properties"]


def rules_of(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    return [
        rule["Properties"]
        for rule in of_type(template, "AWS::Events::Rule").values()
        if any(function_id in referenced(t.get("Arn")) for t in rule["Properties"].get("Targets", []))
    ]


def rendered(value: Any) -> str:
    """A resource ARN of the template, a logical id's ARN written `<Id.Arn>`."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(rendered(part) for part in parts)
    raise AssertionError(f"cannot render {value}")


def may(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether the statements allow `action` on `resource` (and no statement denies it)."""

    def matches(statement: dict[str, Any]) -> bool:
        actions = as_list(statement.get("Action", []))
        resources = [rendered(r) for r in as_list(statement.get("Resource", []))]
        return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        )

    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s) for s in statements)


@pytest.fixture(scope="module")
def invoicers(
    templates: dict[str, dict[str, Any]],
) -> dict[str, tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """Per environment: the function's logical id, its properties, its role's statements."""
    found = {}
    for env, template in templates.items():
        function_id, function = vendor_invoicer(template)
        [role_id] = referenced(function["Role"])
        role = template["Resources"][role_id]["Properties"]
        assert "ManagedPolicyArns" not in role and "Policies" not in role, env
        found[env] = (function_id, function, list(role_statements(template, role_id)))
    return found


def test_the_vendor_invoicer_hears_customer_credit_notes_issued_on_their_own(
    templates: dict[str, dict[str, Any]], invoicers: dict[str, Any]
) -> None:
    for env, template in templates.items():
        function_id = invoicers[env][0]
        patterns = {
            tuple(rule["EventPattern"]["detail-type"]): rule["EventPattern"]
            for rule in rules_of(template, function_id)
        }
        assert set(patterns) == {("InvoiceIssued", "VendorInvoicesDue"), ("CreditNoteIssued",)}, env
        credit_notes = patterns[("CreditNoteIssued",)]
        assert credit_notes == {
            "source": ["saypro.invoicing"],
            "detail-type": ["CreditNoteIssued"],
            # Issued with a revised invoice, it is handled on that invoice's InvoiceIssued.
            "detail": {"kind": ["CREDIT_NOTE"], "replaced_by": [None]},
        }, env
        for rule in rules_of(template, function_id):
            [target] = rule["Targets"]
            assert function_id in referenced(target["Arn"])
            assert "Arn" in target["DeadLetterConfig"], env  # what Lambda cannot take is kept
            assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8, env


def test_the_vendor_invoicer_issues_in_the_environments_vendor_credit_note_series(
    configs: dict[str, EnvironmentConfig], invoicers: dict[str, Any]
) -> None:
    assert {env: config.vendor_credit_note_series for env, config in configs.items()} == SERIES
    for env, (_, function, _) in invoicers.items():
        variables = function["Environment"]["Variables"]
        assert variables["VENDOR_CREDIT_NOTE_SERIES"] == configs[env].vendor_credit_note_series, env
        assert variables["VENDOR_INVOICE_SERIES"] == configs[env].vendor_invoice_series, env
        # Its own series: never one of the customer's, nor the vendor invoices'.
        assert (
            len(
                {
                    configs[env].invoice_series,
                    configs[env].credit_note_series,
                    configs[env].vendor_invoice_series,
                    configs[env].vendor_credit_note_series,
                }
            )
            == 4
        ), env


def test_the_vendor_invoicer_may_put_vendor_credit_notes_and_read_what_a_correction_needs_only(
    templates: dict[str, dict[str, Any]], invoicers: dict[str, Any]
) -> None:
    for env, template in templates.items():
        _, _, statements = invoicers[env]
        bucket = f"<{documents_bucket(template)[0]}.Arn>"
        invoices = f"<{table(template, INVOICES_TABLE)[0]}.Arn>"

        def key(prefix: str) -> str:
            return f"{bucket}/invoices/{prefix}/X-2026-000001.pdf"

        # Writes: its own documents only.
        for prefix in ("vendor_credit_note", "vendor"):
            assert may(statements, "s3:PutObject", key(prefix)), (env, prefix)
        for prefix in ("customer", "credit_note"):
            assert not may(statements, "s3:PutObject", key(prefix)), (env, prefix)
        assert not may(statements, "s3:PutObject", f"{bucket}/elsewhere/X.pdf"), env
        for action in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl"):
            assert not may(statements, action, key("vendor_credit_note")), (env, action)
        # Reads: the customer's invoice and credit note a correction follows from, the vendor
        # invoice it credits (every version: documents are read by version id).
        for prefix in ("customer", "credit_note", "vendor"):
            for action in ("s3:GetObject", "s3:GetObjectVersion"):
                assert may(statements, action, key(prefix)), (env, prefix, action)
        assert not may(statements, "s3:GetObject", f"{bucket}/elsewhere/X.pdf"), env
        # The ledger: the vendor invoices of an order are queried; nothing is ever deleted.
        for action in ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"):
            assert may(statements, action, invoices), (env, action)
        assert not may(statements, "dynamodb:DeleteItem", invoices), env
        assert not may(statements, "dynamodb:Scan", invoices), env


def test_the_policy_evaluation_above_can_refuse() -> None:
    """`may` is what the tests above rest on: it must say no to what is not granted."""
    bucket = {"Fn::GetAtt": ["Documents1", "Arn"]}
    statements = [
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": {"Fn::Join": ["", [bucket, "/invoices/vendor/*"]]},
        }
    ]
    assert may(statements, "s3:PutObject", "<Documents1.Arn>/invoices/vendor/VND-2026-000001.pdf")
    assert not may(statements, "s3:PutObject", "<Documents1.Arn>/invoices/vendor_credit_note/V.pdf")
    assert not may(statements, "s3:GetObject", "<Documents1.Arn>/invoices/vendor/VND-2026-000001.pdf")
    assert not may(statements, "s3:PutObject", "<Documents2.Arn>/invoices/vendor/VND-2026-000001.pdf")
    denied = [*statements, {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]
    assert not may(denied, "s3:PutObject", "<Documents1.Arn>/invoices/vendor/VND-2026-000001.pdf")
