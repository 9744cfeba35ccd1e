"""The outbox publisher, asynchronous failures kept and alarmed, and problems routed to people."""

from __future__ import annotations

import json
from typing import Any

from infra.resources import INVOICES_TABLE, SWEEP_INDEX, SWEEP_INDEX_ATTRIBUTES
from tests.infrastructure.test_invoicing_stack import as_list, of_type, referenced, role_statements, table
from tests.infrastructure.test_sla_and_webhook import function_named, role_of

ASYNC_FUNCTIONS = ("-invoice-dispatcher", "-vendor-invoicer", "-sla-sweeper")


def _alarmed_queues(template: dict[str, Any]) -> set[str]:
    return {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in of_type(template, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"].get("Dimensions", [])
        if dimension["Name"] == "QueueName" and isinstance(dimension["Value"], dict)
    }


def test_the_invoices_table_streams_new_images_expires_published_entries_and_projects_a_lean_sweep_index(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        props = table(template, INVOICES_TABLE)[1]["Properties"]
        assert props["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
        assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
        (sweep,) = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == SWEEP_INDEX]
        assert sweep["Projection"] == {
            "ProjectionType": "INCLUDE",
            "NonKeyAttributes": list(SWEEP_INDEX_ATTRIBUTES),
        }


def test_the_outbox_publisher_takes_only_new_outbox_items_with_bisecting_bounded_retries(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        function_id, _ = function_named(template, "-outbox-publisher")
        invoices_id = table(template, INVOICES_TABLE)[0]
        (mapping,) = [
            m["Properties"]
            for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
            if m["Properties"]["FunctionName"] == {"Ref": function_id}
        ]
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [invoices_id, "StreamArn"]}
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["MaximumRetryAttempts"] >= 1
        assert "OnFailure" in mapping["DestinationConfig"]
        (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
        assert pattern == {
            "eventName": ["INSERT"],
            "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "OUTBOX#"}]}}},
        }
        on_failure = referenced(mapping["DestinationConfig"]["OnFailure"]["Destination"])
        assert on_failure <= _alarmed_queues(template)


def test_the_outbox_publisher_may_mark_entries_and_put_events_and_nothing_else(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        _, function = function_named(template, "-outbox-publisher")
        invoices_id = table(template, INVOICES_TABLE)[0]
        granted: dict[str, list[Any]] = {}
        for statement in role_statements(template, role_of(function)):
            for action in as_list(statement["Action"]):
                granted.setdefault(action, []).extend(as_list(statement["Resource"]))
        dynamodb = {a for a in granted if a.startswith("dynamodb:")}
        assert dynamodb == {
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        }
        assert {referenced(r).pop() for r in granted["dynamodb:UpdateItem"]} == {invoices_id}
        assert referenced(granted["events:PutEvents"]) == set(of_type(template, "AWS::Events::EventBus"))
        assert not [a for a in granted if a.startswith("s3:") or a.startswith("sns:")]


def test_producers_announce_through_the_outbox_and_never_put_events_themselves(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        for suffix in ("-invoice-generator", "-vendor-invoicer", "-invoice-dispatcher", "-delivery-webhook"):
            _, function = function_named(template, suffix)
            actions = {a for s in role_statements(template, role_of(function)) for a in as_list(s["Action"])}
            assert "events:PutEvents" not in actions, suffix
            assert "EVENT_BUS_NAME" not in function["Properties"]["Environment"]["Variables"], suffix


def test_every_asynchronously_invoked_function_keeps_its_failures_in_an_alarmed_queue(
    templates: dict[str, dict[str, Any]],
) -> None:
    for template in templates.values():
        configs = {
            json.dumps(c["Properties"]["FunctionName"]): c["Properties"]
            for c in of_type(template, "AWS::Lambda::EventInvokeConfig").values()
        }
        for suffix in ASYNC_FUNCTIONS:
            function_id, _ = function_named(template, suffix)
            config = configs[json.dumps({"Ref": function_id})]
            assert config["MaximumRetryAttempts"] <= 2
            assert 60 <= config["MaximumEventAgeInSeconds"] <= 6 * 3600
            destination = config["DestinationConfig"]["OnFailure"]["Destination"]
            (queue_id,) = {v[0] for v in [destination.get("Fn::GetAtt", [None])] if v[0]}
            assert template["Resources"][queue_id]["Type"] == "AWS::SQS::Queue"
            assert queue_id in _alarmed_queues(template), suffix


def test_delivery_and_vendor_failures_reach_customer_service_as_readable_messages(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        (topic_id,) = [
            t
            for t, topic in of_type(template, "AWS::SNS::Topic").items()
            if str(topic["Properties"].get("TopicName", "")).endswith("-customer-service")
        ]
        topic = template["Resources"][topic_id]["Properties"]
        (key_id,) = referenced(topic["KmsMasterKeyId"])
        key_statements = template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
        assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in key_statements)
        routed = {}
        for rule in of_type(template, "AWS::Events::Rule").values():
            for target in rule["Properties"].get("Targets", []):
                if target["Arn"] == {"Ref": topic_id}:
                    (detail_type,) = rule["Properties"]["EventPattern"]["detail-type"]
                    routed[detail_type] = target
        assert set(routed) == {"InvoiceDeliveryFailed", "VendorInvoiceFailed"}
        for target in routed.values():
            assert "InputTransformer" in target and "DeadLetterConfig" in target
        assert "<detail-invoice_number>" in json.dumps(routed["InvoiceDeliveryFailed"]["InputTransformer"])
        subscriptions = [
            s["Properties"]
            for s in of_type(template, "AWS::SNS::Subscription").values()
            if s["Properties"]["TopicArn"] == {"Ref": topic_id}
        ]
        assert (env == "dev") == (not subscriptions)
