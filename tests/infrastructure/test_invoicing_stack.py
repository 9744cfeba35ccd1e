"""CDK assertions on the synthesized templates: what devops deploy is what the design says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.resources import INVOICES_TABLE, ORDERS_TABLE


def resources(template: Template, kind: str) -> dict[str, Any]:
    return template.find_resources(kind)  # type: ignore[no-any-return]


def table(template: Template, name_suffix: str) -> dict[str, Any]:
    for resource in resources(template, "AWS::DynamoDB::GlobalTable").values():
        if resource["Properties"]["TableName"].endswith(name_suffix):
            return resource  # type: ignore[no-any-return]
    raise AssertionError(f"no table ending in {name_suffix}")


def generator_policy(template: Template) -> list[dict[str, Any]]:
    for policy in resources(template, "AWS::IAM::Policy").values():
        if "InvoiceGenerator" in json.dumps(policy["Properties"]["Roles"]):
            return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]
    raise AssertionError("no generator policy")


def test_every_environment_synthesizes_with_its_own_names(templates: dict[str, dict[str, Any]]) -> None:
    for env, template in templates.items():
        names = {
            r["Properties"].get("TableName")
            for r in template["Resources"].values()
            if r["Type"] == "AWS::DynamoDB::GlobalTable"
        }
        assert names == {f"saypro-invoicing-{env}-{t}" for t in ("orders", "invoices", "vendors")}


def test_tables_match_the_shared_specs_with_stream_and_pitr(prod: Template) -> None:
    orders = table(prod, "-orders")["Properties"]
    assert orders["KeySchema"] == [{"AttributeName": ORDERS_TABLE.partition_key.name, "KeyType": "HASH"}]
    assert orders["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    invoices = table(prod, "-invoices")["Properties"]
    assert {i["IndexName"] for i in invoices["GlobalSecondaryIndexes"]} == {
        i.name for i in INVOICES_TABLE.indexes
    }
    for props in (orders, invoices):
        replica = props["Replicas"][0]
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert replica["DeletionProtectionEnabled"] is True
        assert props["SSESpecification"]["SSEType"] == "KMS"


def test_prod_retains_data_while_dev_can_be_destroyed(prod: Template, dev: Template) -> None:
    assert table(prod, "-orders")["DeletionPolicy"] == "Retain"
    assert table(dev, "-orders")["DeletionPolicy"] == "Delete"
    assert "DeletionProtectionEnabled" not in json.dumps(table(dev, "-orders")) or (
        table(dev, "-orders")["Properties"]["Replicas"][0].get("DeletionProtectionEnabled") is False
    )
    for bucket in resources(prod, "AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Retain"


def test_the_documents_bucket_is_private_encrypted_versioned_tls_only_and_kept_ten_years(
    prod: Template,
) -> None:
    documents = [
        b for b in resources(prod, "AWS::S3::Bucket").values() if "VersioningConfiguration" in b["Properties"]
    ]
    assert len(documents) == 1
    props = documents[0]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    lifecycle = props["LifecycleConfiguration"]["Rules"][0]
    assert lifecycle["ExpirationInDays"] == 3653
    assert [t["StorageClass"] for t in lifecycle["Transitions"]] == ["STANDARD_IA", "GLACIER_IR"]
    assert "LoggingConfiguration" in props
    prod.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


def test_the_generator_runs_on_the_newest_python_on_arm_with_its_configuration(prod: Template) -> None:
    prod.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "handler.lambda_handler",
            "TracingConfig": {"Mode": "Active"},
            "Layers": Match.any_value(),
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "INVOICES_TABLE_NAME": Match.any_value(),
                        "INVOICE_BUCKET_NAME": Match.any_value(),
                        "EVENT_BUS_NAME": Match.any_value(),
                        "INVOICE_SERIES": "INV",
                        "SELLER_JSON": Match.string_like_regexp("SayPro Online Marketplace"),
                        "POWERTOOLS_SERVICE_NAME": "invoicing",
                    }
                )
            },
        },
    )
    function = next(iter(resources(prod, "AWS::Lambda::Function").values()))
    assert len(function["Properties"]["Layers"]) == 2


def test_the_stream_mapping_bisects_retries_boundedly_filters_and_keeps_failures(prod: Template) -> None:
    prod.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "StartingPosition": "TRIM_HORIZON",
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 10,
            "MaximumRecordAgeInSeconds": 86400,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
        },
    )
    mapping = next(iter(resources(prod, "AWS::Lambda::EventSourceMapping").values()))["Properties"]
    pattern = json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"status": {"S": ["COMPLETED"]}}},
    }


def test_alarms_watch_errors_throttles_stream_lag_and_the_on_failure_queue(prod: Template) -> None:
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources(prod, "AWS::CloudWatch::Alarm").values()
    }
    assert {"Errors", "Throttles", "IteratorAge", "ApproximateNumberOfMessagesVisible"} <= set(alarms)
    assert alarms["IteratorAge"]["Threshold"] == 60_000
    assert all(a["AlarmActions"] for a in alarms.values())
    prod.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email"})
    prod.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_the_generator_role_has_no_wildcard_actions_and_table_access_only_to_invoices(prod: Template) -> None:
    statements = generator_policy(prod)
    actions = [
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not [a for a in actions if a.endswith("*") and not a.startswith("xray:")]
    ledger = next(s for s in statements if s.get("Sid") == "InvoiceLedger")
    assert "DeleteItem" not in json.dumps(ledger) and "Scan" not in json.dumps(ledger)
    assert "TablesInvoices" in json.dumps(ledger["Resource"])
    pdfs = next(s for s in statements if s.get("Sid") == "InvoicePdfs")
    assert pdfs["Action"] == "s3:PutObject"
    assert json.dumps(pdfs["Resource"]).endswith('"/invoices/*"]]}')
    role = next(iter(r for k, r in resources(prod, "AWS::IAM::Role").items() if "InvoiceGenerator" in k))
    assert "ManagedPolicyArns" not in role["Properties"]


def test_cdk_nag_fails_the_synth_on_an_unacknowledged_finding() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App()
    stack = cdk.Stack(app, "Careless")
    s3.Bucket(stack, "Open")  # no TLS enforcement, no access logs
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="AwsSolutions-S10"):
        app.synth()
