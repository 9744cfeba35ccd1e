"""The dispatcher Lambda with a real EventBridge envelope, a real keyring secret, on moto."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import boto3
import pytest

from infra.local.event_runner import eventbridge_event
from infra.local.orders import put_order
from infra.local.provisioning import read_events
from infra.local.runtime import FakeLambdaContext, load_handler
from invoicing.adapters.document_store import DocumentStore
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.domain.invoice import Seller
from invoicing.domain.links import Keyring, verify_link
from invoicing.services.invoice_issuing import InvoiceIssuer
from tests.conftest import make_order


@pytest.fixture
def keyring(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Keyring:
    """The keyring provisioning put in Secrets Manager; the handler must sign with it."""
    monkeypatch.setenv("DOWNLOAD_BASE_URL", "https://invoices.saypro.example")
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=aws["LINK_KEYS_SECRET_ID"])
    return Keyring.model_validate_json(secret["SecretString"])


def issued_event(aws: dict[str, str], publish_outbox: Callable[[], int]) -> dict[str, Any]:
    order = make_order()
    put_order(aws["ORDERS_TABLE_NAME"], order)
    InvoiceIssuer(
        ledger=InvoiceLedger(aws["INVOICES_TABLE_NAME"]),
        documents=DocumentStore(aws["INVOICE_BUCKET_NAME"]),
        renderer=lambda document: b"%PDF-1.7 " + document.invoice_number.encode(),
        series="INV",
        seller=Seller(),
    ).issue(order["order_id"], order)
    publish_outbox()
    [event] = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert event["detail-type"] == "InvoiceIssued"
    return eventbridge_event(event)


def test_the_dispatcher_emails_a_link_that_verifies_and_ignores_a_redelivery(
    aws: dict[str, str], keyring: Keyring, publish_outbox: Callable[[], int]
) -> None:
    from invoicing.settings import dispatcher_settings

    dispatcher_settings.cache_clear()
    handler = load_handler("invoice_dispatcher")
    event = issued_event(aws, publish_outbox)

    result = handler(event, FakeLambdaContext(function_name="invoice-dispatcher"))
    again = handler(event, FakeLambdaContext(function_name="invoice-dispatcher"))

    assert (result["outcome"], result["channel"]) == ("SENT", "email")
    assert again["outcome"] == "ALREADY_SENT"
    from moto.ses.models import ses_backends

    [raw] = [m.raw_data for m in ses_backends["123456789012"]["eu-west-1"].sent_messages]
    email = message_from_bytes(raw.encode(), policy=policy.default)
    body = email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https://invoices\.saypro\.example/download/(\S+)\?token=(\S+)", body)
    assert link is not None
    number, token = link.groups()
    assert token.startswith("v2.") and len(token) <= 40  # short enough for one SMS segment
    claims = verify_link(keyring, token, number, datetime.now(UTC), party_id="CUST-42")
    assert (claims.invoice_number, claims.party_id) == (event["detail"]["invoice_number"], "CUST-42")
    assert json.loads(json.dumps(result))["message_id"]
    # Announced once, through the outbox: the redelivery sent nothing and announced nothing.
    publish_outbox()
    [sent] = read_events(aws["EVENTS_OBSERVER_QUEUE_URL"])
    assert sent["detail-type"] == "InvoiceSent"
    assert (sent["detail"]["invoice_number"], sent["detail"]["channel"]) == (number, "email")
    assert sent["detail"]["provider_message_id"] == result["message_id"]
