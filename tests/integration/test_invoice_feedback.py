"""The invoice email's one-click feedback: signed for the invoice's own party, single-use, announced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.event_runner import eventbridge_event
from infra.local.outbox import sent_emails
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.domain.links import Keyring, sign_link
from invoicing.services.download_links import feedback_subject
from tests.integration.test_invoice_download import http_event
from tests.integration.test_payment_intake import issue
from tests.unit.test_payment_terms import bank_transfer


@pytest.fixture
def download(aws: dict[str, str]) -> Callable[[str, dict[str, str]], dict[str, Any]]:
    from invoicing.settings import download_settings

    download_settings.cache_clear()
    handler = load_handler("invoice_download")

    def get(number: str, query: dict[str, str]) -> dict[str, Any]:
        event = http_event(f"/feedback/{number}", query)
        event["routeKey"] = event["requestContext"]["routeKey"] = "GET /feedback/{invoice_number}"
        answer: dict[str, Any] = handler(event, FakeLambdaContext(function_name="invoice-download"))
        return answer

    return get


def keyring(aws: dict[str, str]) -> Keyring:
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=aws["LINK_KEYS_SECRET_ID"])
    return Keyring.model_validate_json(secret["SecretString"])


def test_the_invoice_email_carries_the_feedback_link_and_the_first_answer_is_kept(
    aws: dict[str, str],
    download: Callable[[str, dict[str, str]], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    publish_outbox: Callable[[], int],
) -> None:
    from invoicing.settings import dispatcher_settings

    number = issue(aws, bank_transfer())
    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    dispatcher_settings.cache_clear()
    dispatcher = load_handler("invoice_dispatcher")
    publish_outbox()
    for body in read_events(aws["DISPATCHER_QUEUE_URL"]):
        dispatcher(eventbridge_event(body), FakeLambdaContext(function_name="dispatcher"))
    (email,) = sent_emails().values()
    text = email.message.get_body(preferencelist=("plain",)).get_content()
    yes = next(line.split(": ", 1)[1] for line in text.splitlines() if line.strip().startswith("Yes:"))
    assert yes.startswith(f"https://invoices.saypro.example/feedback/{number}?token=v2.") and yes.endswith(
        "&answer=yes"
    )
    token = yes.split("token=", 1)[1].split("&")[0]

    first = download(number, {"token": token, "answer": "yes"})
    again = download(number, {"token": token, "answer": "no"})
    assert first["statusCode"] == again["statusCode"] == 200
    assert "Your answer is recorded" in first["body"] and "already recorded" in again["body"]
    assert first["headers"]["Content-Type"].startswith("text/html")
    item = boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"], Key={"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "FEEDBACK"}}
    )["Item"]
    assert item["answer"]["S"] == "yes"
    publish_outbox()
    given = [
        e["detail"]
        for e in read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
        if e["detail-type"] == "InvoiceFeedbackGiven"
    ]
    assert [g["answer"] for g in given] == ["yes"]


def test_a_download_token_another_partys_or_a_bad_answer_records_nothing(
    aws: dict[str, str], download: Callable[[str, dict[str, str]], dict[str, Any]]
) -> None:
    number = issue(aws, bank_transfer())
    ring, now = keyring(aws), datetime.now(UTC)
    download_token = sign_link(ring, number, "CUST-42", now, timedelta(days=1))
    theirs = sign_link(ring, feedback_subject(number), "CUST-9", now, timedelta(days=1))
    good = sign_link(ring, feedback_subject(number), "CUST-42", now, timedelta(days=1))
    for query in (
        {"token": download_token, "answer": "yes"},
        {"token": theirs, "answer": "yes"},
        {"token": good, "answer": "maybe"},
        {"answer": "yes"},
    ):
        answer = download(number, query)
        assert answer["statusCode"] == 403 and "does not work" in answer["body"], query
    assert "Item" not in boto3.client("dynamodb").get_item(
        TableName=aws["INVOICES_TABLE_NAME"], Key={"pk": {"S": f"INVOICE#{number}"}, "sk": {"S": "FEEDBACK"}}
    )
