"""CDK assertions on the synthesized templates: what devops deploy is what the design says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.config import EnvironmentConfig
from infra.resources import GENERATOR_ENV, INVOICES_TABLE, ORDERS_TABLE, TABLES, TableSpec

Resources = dict[str, dict[str, Any]]


# --- reading templates ------------------------------------------------------------------------


def of_type(template: dict[str, Any], kind: str) -> Resources:
    return {key: r for key, r in template["Resources"].items() if r["Type"] == kind}


def named(template: dict[str, Any], kind: str, name_property: str, suffix: str) -> tuple[str, dict[str, Any]]:
    found = [
        (key, r)
        for key, r in of_type(template, kind).items()
        if str(r["Properties"].get(name_property, "")).endswith(suffix)
    ]
    assert len(found) == 1, f"expected one {kind} named *{suffix}, found {[k for k, _ in found]}"
    return found[0]


def table(template: dict[str, Any], spec: TableSpec) -> tuple[str, dict[str, Any]]:
    return named(template, "AWS::DynamoDB::GlobalTable", "TableName", f"-{spec.logical_id.lower()}")


def generator(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return named(template, "AWS::Lambda::Function", "FunctionName", "-invoice-generator")


def documents_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    found = [(k, r) for k, r in of_type(template, "AWS::S3::Bucket").items() if k.startswith("Documents")]
    versioned = [(k, r) for k, r in found if "VersioningConfiguration" in r["Properties"]]
    assert len(versioned) == 1
    return versioned[0]


def referenced(value: Any) -> set[str]:
    """Logical ids a property refers to (Ref / Fn::GetAtt, at any depth)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value:
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for inner in value.values():
            found |= referenced(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= referenced(inner)
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict[str, Any], role_id: str) -> Iterator[dict[str, Any]]:
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            yield from policy["Properties"]["PolicyDocument"]["Statement"]


def bucket_policy(template: dict[str, Any], bucket_id: str) -> list[dict[str, Any]]:
    for policy in of_type(template, "AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}:
            return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]
    raise AssertionError(f"no policy on bucket {bucket_id}")


def denies_insecure_transport(statements: list[dict[str, Any]]) -> bool:
    return any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


# --- environments -----------------------------------------------------------------------------


def test_every_environment_synthesizes_its_own_stack_and_names(templates: dict[str, dict[str, Any]]) -> None:
    assert set(templates) == {"dev", "staging", "prod"}
    for env, template in templates.items():
        names = {
            r["Properties"]["TableName"] for r in of_type(template, "AWS::DynamoDB::GlobalTable").values()
        }
        assert names == {f"saypro-invoicing-{env}-{spec.logical_id.lower()}" for spec in TABLES}


def test_a_context_env_builds_only_that_environment() -> None:
    from infra.app import build_app, create_app

    app = build_app(create_app(context={"env": "staging", "aws:cdk:bundling-stacks": []}))
    assert [child.node.id for child in app.node.children] == ["SayProInvoicing-staging"]


# --- tables -----------------------------------------------------------------------------------


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    return [{"AttributeName": partition, "KeyType": "HASH"}] + (
        [{"AttributeName": sort, "KeyType": "RANGE"}] if sort else []
    )


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.logical_id)
def test_each_table_has_the_keys_stream_and_indexes_of_its_shared_spec(
    templates: dict[str, dict[str, Any]], spec: TableSpec
) -> None:
    for template in templates.values():
        props = table(template, spec)[1]["Properties"]
        assert props["KeySchema"] == _key_schema(
            spec.partition_key.name, spec.sort_key.name if spec.sort_key else None
        )
        if spec.stream_view_type:
            assert props["StreamSpecification"] == {"StreamViewType": spec.stream_view_type}
        else:
            assert "StreamSpecification" not in props
        indexes = {i["IndexName"]: i["KeySchema"] for i in props.get("GlobalSecondaryIndexes", [])}
        assert indexes == {
            i.name: _key_schema(i.partition_key.name, i.sort_key.name if i.sort_key else None)
            for i in spec.indexes
        }
        keys = [
            spec.partition_key,
            spec.sort_key,
            *(k for i in spec.indexes for k in (i.partition_key, i.sort_key)),
        ]
        expected = {k.name: k.type for k in keys if k is not None}
        assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == expected


def test_orders_stream_carries_new_and_old_images_for_the_generator() -> None:
    assert ORDERS_TABLE.stream_view_type == "NEW_AND_OLD_IMAGES"


def test_every_table_has_pitr_and_customer_managed_encryption(templates: dict[str, dict[str, Any]]) -> None:
    for template in templates.values():
        key_ids = set(of_type(template, "AWS::KMS::Key"))
        for spec in TABLES:
            props = table(template, spec)[1]["Properties"]
            replica = props["Replicas"][0]
            assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
            assert props["SSESpecification"]["SSEType"] == "KMS"
            assert referenced(replica["SSESpecification"]) & key_ids


def test_prod_retains_and_protects_its_data_while_dev_can_be_destroyed(
    templates: dict[str, dict[str, Any]],
) -> None:
    prod, dev = templates["prod"], templates["dev"]
    for spec in TABLES:
        prod_table, dev_table = table(prod, spec)[1], table(dev, spec)[1]
        assert prod_table["DeletionPolicy"] == prod_table["UpdateReplacePolicy"] == "Retain"
        assert prod_table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is True
        assert dev_table["DeletionPolicy"] == "Delete"
        assert dev_table["Properties"]["Replicas"][0].get("DeletionProtectionEnabled", False) is False
    for kind in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup"):
        assert {r["DeletionPolicy"] for r in of_type(prod, kind).values()} == {"Retain"}, kind
    assert documents_bucket(dev)[1]["DeletionPolicy"] == "Delete"


# --- documents bucket -------------------------------------------------------------------------


def test_the_documents_bucket_is_private_kms_encrypted_versioned_and_tls_only(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        bucket_id, bucket = documents_bucket(template)
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
            ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
        )
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert referenced(encryption) & set(of_type(template, "AWS::KMS::Key"))
        assert encryption["BucketKeyEnabled"] is True
        assert denies_insecure_transport(bucket_policy(template, bucket_id))


def test_invoices_are_kept_for_the_legal_retention_and_age_into_cheaper_storage(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    prod_rule = documents_bucket(templates["prod"])[1]["Properties"]["LifecycleConfiguration"]["Rules"][0]
    assert prod_rule["ExpirationInDays"] == 3653  # ten years
    assert prod_rule["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 90},
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 365},
    ]
    for env, template in templates.items():
        rule = documents_bucket(template)[1]["Properties"]["LifecycleConfiguration"]["Rules"][0]
        assert rule["Status"] == "Enabled"
        assert rule["ExpirationInDays"] == configs[env].document_retention_days
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_prod_locks_every_invoice_version_for_ten_years_and_dev_does_not(
    templates: dict[str, dict[str, Any]],
) -> None:
    prod = documents_bucket(templates["prod"])[1]["Properties"]
    assert prod["ObjectLockEnabled"] is True
    assert prod["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3653}},
    }
    dev = documents_bucket(templates["dev"])[1]["Properties"]
    assert "ObjectLockEnabled" not in dev and "ObjectLockConfiguration" not in dev


def test_documents_access_is_logged_to_a_private_log_bucket_written_under_a_bucket_policy(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        logging = documents_bucket(template)[1]["Properties"]["LoggingConfiguration"]
        (logs_id,) = referenced(logging["DestinationBucketName"])
        logs = template["Resources"][logs_id]["Properties"]
        # cdk.json's @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy applies: no ACL.
        assert "AccessControl" not in logs
        assert logs["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        assert logs["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ] == {"SSEAlgorithm": "AES256"}
        statements = bucket_policy(template, logs_id)
        assert denies_insecure_transport(statements)
        assert any(s.get("Principal") == {"Service": "logging.s3.amazonaws.com"} for s in statements)


# --- the generator function -------------------------------------------------------------------


def test_the_generator_runs_python_3_14_on_arm_with_tracing_and_its_configuration(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        config = configs[env]
        props = generator(template)[1]["Properties"]
        assert props["Runtime"] == "python3.14"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "handler.lambda_handler"
        assert props["MemorySize"] == config.generator_memory_mb == 1024
        assert props["Timeout"] == 60
        assert props["TracingConfig"] == {"Mode": "Active"}
        variables = props["Environment"]["Variables"]
        assert set(GENERATOR_ENV) <= set(variables)
        assert referenced(variables["INVOICES_TABLE_NAME"]) == {table(template, INVOICES_TABLE)[0]}
        assert referenced(variables["INVOICE_BUCKET_NAME"]) == {documents_bucket(template)[0]}
        assert "EVENT_BUS_NAME" not in variables  # it announces through the outbox, never the bus
        assert variables["INVOICE_SERIES"] == config.invoice_series
        assert json.loads(variables["SELLER_JSON"]) == config.seller.model_dump()
        assert variables["POWERTOOLS_SERVICE_NAME"] == "invoicing"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "SayProInvoicing"
        assert variables["POWERTOOLS_LOG_LEVEL"] == config.log_level
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"


def test_the_generator_has_the_shared_and_dependency_layers_for_its_runtime(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        layers = of_type(template, "AWS::Lambda::LayerVersion")
        used = [referenced(layer) for layer in generator(template)[1]["Properties"]["Layers"]]
        assert len(used) == 2
        for (layer_id,) in used:
            assert layers[layer_id]["Properties"]["CompatibleRuntimes"] == ["python3.14"]
            assert layers[layer_id]["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert {next(iter(ids)).split("Layers")[1][:6] for ids in used} == {"Shared", "Depend"}


def test_the_generator_logs_to_its_own_group_for_the_configured_retention(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        (group_id,) = referenced(generator(template)[1]["Properties"]["LoggingConfig"])
        group = template["Resources"][group_id]["Properties"]
        assert group["RetentionInDays"] == configs[env].log_retention_days
        assert group["LogGroupName"] == f"/aws/lambda/{configs[env].resource_prefix}-invoice-generator"


# --- the stream mapping -----------------------------------------------------------------------


def test_the_stream_mapping_bisects_retries_boundedly_reports_items_and_keeps_failures(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        config = configs[env]
        function_id = generator(template)[0]
        (mapping,) = [
            m["Properties"]
            for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
            if referenced(m["Properties"]["FunctionName"]) == {function_id}
        ]
        assert referenced(mapping["EventSourceArn"]) == {table(template, ORDERS_TABLE)[0]}
        assert mapping["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn"
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        assert mapping["BatchSize"] == config.stream_batch_size
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["MaximumRetryAttempts"] == config.stream_retry_attempts
        assert 0 < mapping["MaximumRetryAttempts"] <= 10
        assert mapping["MaximumRecordAgeInSeconds"] == config.stream_max_record_age_hours * 3600
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        (queue_id,) = referenced(mapping["DestinationConfig"]["OnFailure"]["Destination"])
        assert template["Resources"][queue_id]["Type"] == "AWS::SQS::Queue"


def test_only_completed_orders_inserted_or_modified_invoke_the_generator(prod: Template) -> None:
    mapping = next(iter(prod.find_resources("AWS::Lambda::EventSourceMapping").values()))["Properties"]
    (only,) = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"status": {"S": ["COMPLETED"]}}},
    }


def test_the_on_failure_queue_is_encrypted_tls_only_and_keeps_records_two_weeks(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        queue_id, queue = named(template, "AWS::SQS::Queue", "QueueName", "-generator-on-failure")
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
        (policy,) = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in of_type(template, "AWS::SQS::QueuePolicy").values()
            if {"Ref": queue_id} in p["Properties"]["Queues"]
        ]
        assert denies_insecure_transport(policy)


# --- least privilege --------------------------------------------------------------------------

STREAM_READ = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}
LEDGER = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
}


def test_the_generator_role_grants_only_what_the_generator_calls(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        role_id = referenced(generator(template)[1]["Properties"]["Role"]).pop()
        assert "ManagedPolicyArns" not in template["Resources"][role_id]["Properties"]
        invoices_id = table(template, INVOICES_TABLE)[0]
        orders_id = table(template, ORDERS_TABLE)[0]
        bucket_id = documents_bucket(template)[0]
        statements = list(role_statements(template, role_id))
        assert statements
        for statement in statements:
            assert statement["Effect"] == "Allow"
            actions = set(as_list(statement["Action"]))
            resources = as_list(statement["Resource"])
            assert not [a for a in actions if "*" in a], statement
            if resources == ["*"]:
                assert actions <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, statement
            dynamodb = {a for a in actions if a.startswith("dynamodb:")}
            if dynamodb & STREAM_READ:
                assert dynamodb <= STREAM_READ
                assert resources == [{"Fn::GetAtt": [orders_id, "StreamArn"]}]
            elif dynamodb:
                assert dynamodb <= LEDGER, statement
                for resource in resources:
                    assert referenced(resource) == {invoices_id}
                    text = json.dumps(resource)
                    assert "/index/" not in text or any(
                        f'"/index/{i.name}"' in text for i in INVOICES_TABLE.indexes
                    )
                    assert "*" not in text
            if any(a.startswith("s3:") for a in actions):
                # Write under invoices/; read only the customer invoice documents (corrections).
                prefix = {frozenset({"s3:PutObject"}): "/invoices/*"}.get(
                    frozenset(actions), "/invoices/customer/*"
                )
                assert actions in ({"s3:PutObject"}, {"s3:GetObject", "s3:GetObjectVersion"}), statement
                assert resources == [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, prefix]]}]
        granted = {a for s in statements for a in as_list(s["Action"])}
        assert LEDGER | STREAM_READ | {"s3:PutObject", "s3:GetObject"} <= granted
        # No bus: its announcements are outbox items in its own transactions.
        forbidden = {"dynamodb:Scan", "dynamodb:DeleteItem", "s3:DeleteObject", "events:PutEvents"}
        assert not forbidden & granted


# --- monitoring -------------------------------------------------------------------------------


def alarm_topic(template: dict[str, Any]) -> str:
    (topic_id,) = [
        topic_id
        for topic_id, topic in of_type(template, "AWS::SNS::Topic").items()
        if str(topic["Properties"].get("TopicName", "")).endswith("-alarms")
    ]
    return topic_id


def test_alarms_watch_errors_throttles_stream_lag_and_any_record_on_the_failure_queue(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig]
) -> None:
    for env, template in templates.items():
        prefix = configs[env].resource_prefix
        alarms = {
            a["Properties"]["AlarmName"]: a["Properties"]
            for a in of_type(template, "AWS::CloudWatch::Alarm").values()
        }
        function_id = generator(template)[0]
        expected = {
            "errors": ("AWS/Lambda", "Errors", 0),
            "throttles": ("AWS/Lambda", "Throttles", 0),
            "iterator-age": ("AWS/Lambda", "IteratorAge", configs[env].iterator_age_alarm_seconds * 1000),
            "on-failure": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", 0),
        }
        topic_id = alarm_topic(template)
        for suffix, (namespace, metric, threshold) in expected.items():
            alarm = alarms[f"{prefix}-invoice-generator-{suffix}"]
            assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == (
                namespace,
                metric,
                threshold,
            )
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
            assert alarm["AlarmActions"] == [{"Ref": topic_id}] and alarm["OKActions"] == [{"Ref": topic_id}]
            dimension = referenced(alarm["Dimensions"])
            if namespace == "AWS/Lambda":
                assert dimension == {function_id}
            else:
                assert template["Resources"][dimension.pop()]["Properties"]["QueueName"].endswith(
                    "-on-failure"
                )
        assert alarms[f"{prefix}-invoice-generator-iterator-age"]["Statistic"] == "Maximum"
    assert len(of_type(templates["prod"], "AWS::CloudWatch::Dashboard")) == 1


def test_cloudwatch_can_publish_alarms_to_the_encrypted_topic(templates: dict[str, dict[str, Any]]) -> None:
    for template in templates.values():
        topic_id = alarm_topic(template)
        topic = template["Resources"][topic_id]
        (key_id,) = referenced(topic["Properties"]["KmsMasterKeyId"])
        key_policy = template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
        assert any(
            s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
            and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(as_list(s["Action"]))
            for s in key_policy
        )
        (topic_policy,) = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in of_type(template, "AWS::SNS::TopicPolicy").values()
            if {"Ref": topic_id} in p["Properties"]["Topics"]
        ]
        assert denies_insecure_transport(topic_policy)
        (publish,) = [s for s in topic_policy if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
        assert publish["Action"] == "sns:Publish"
        assert "aws:SourceArn" in publish["Condition"]["ArnLike"]
        # The data key that protects invoices is not usable by CloudWatch.
        data_keys = set(of_type(template, "AWS::KMS::Key")) - {key_id}
        for data_key in data_keys:
            assert "cloudwatch" not in json.dumps(template["Resources"][data_key]["Properties"]["KeyPolicy"])


def test_alarms_are_emailed_where_an_address_is_configured(
    prod: Template, dev: Template, configs: dict[str, EnvironmentConfig]
) -> None:
    prod.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": configs["prod"].alarm_email}
    )
    assert configs["dev"].alarm_email is None
    dev.resource_count_is("AWS::SNS::Subscription", 1)  # the bounce webhook's HTTPS subscription only
    dev.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "https"})


# --- the bus ----------------------------------------------------------------------------------


def test_invoicing_events_are_archived_for_replay(prod: Template) -> None:
    prod.has_resource_properties(
        "AWS::Events::Archive",
        {"EventPattern": {"source": ["saypro.invoicing"]}, "RetentionDays": Match.any_value()},
    )


# --- cdk-nag ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pack", ["AwsSolutions", "Serverless"])
def test_cdk_nag_ran_and_every_finding_is_fixed_or_acknowledged_with_a_reason(synth: Any, pack: str) -> None:
    (nag,) = [r for r in synth.validation_report["pluginReports"] if r["pluginName"] == pack]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    assert nag["suppressedViolations"], "the report lists acknowledged findings"
    # The pack ran on every environment's stack.
    stacks = {finding["acknowledgedAt"].split("/")[0] for finding in nag["suppressedViolations"]}
    assert stacks == {"SayProInvoicing-dev", "SayProInvoicing-staging", "SayProInvoicing-prod"}
    for finding in nag["suppressedViolations"]:
        assert len(finding["reason"]) >= 40, finding["ruleName"]
        # Acknowledged on the construct concerned, never for a whole stack.
        assert "/" in finding["acknowledgedAt"], finding


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
