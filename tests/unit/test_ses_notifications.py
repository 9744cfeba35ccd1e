import json

import pytest

from invoicing.domain.ses_notifications import (
    DeliveryEvent,
    needs_fallback,
    next_status,
    parse_ses_notification,
    suppresses_address,
)

MAIL = {"messageId": "0102018c-abc", "destination": ["bounce@simulator.amazonses.com"]}


def ses(kind: str, **body: object) -> str:
    return json.dumps({"eventType": kind, "mail": MAIL, **body})


def test_a_permanent_bounce_suppresses_the_address_and_falls_back_once() -> None:
    note = parse_ses_notification(
        ses(
            "Bounce",
            bounce={
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "timestamp": "2026-11-22T12:00:01Z",
                "bouncedRecipients": [
                    {"emailAddress": "bounce@simulator.amazonses.com", "diagnosticCode": "smtp; 550 5.1.1"}
                ],
            },
        )
    )
    assert note.event is DeliveryEvent.PERMANENT_BOUNCE
    assert note.message_id == "0102018c-abc" and note.recipients == ["bounce@simulator.amazonses.com"]
    assert "550 5.1.1" in note.reason
    assert suppresses_address(note.event)
    assert needs_fallback("SENT", note.event)
    assert next_status("SENT", note.event) == "BOUNCED"
    # A repeated bounce changes nothing, so it cannot trigger a second fallback.
    assert next_status("BOUNCED", note.event) is None and not needs_fallback("BOUNCED", note.event)


def test_a_transient_bounce_is_retried_later_not_failed() -> None:
    note = parse_ses_notification(ses("Bounce", bounce={"bounceType": "Transient", "bouncedRecipients": []}))
    assert note.event is DeliveryEvent.TRANSIENT_BOUNCE
    assert next_status("SENT", note.event) is None and not suppresses_address(note.event)


def test_out_of_order_delivery_does_not_resurrect_a_bounced_address() -> None:
    assert next_status("BOUNCED", DeliveryEvent.DELIVERED) is None
    assert next_status("SENT", DeliveryEvent.DELIVERED) == "DELIVERED"
    assert next_status("DELIVERED", DeliveryEvent.COMPLAINT) == "COMPLAINED"
    assert next_status("COMPLAINED", DeliveryEvent.OPENED) is None


@pytest.mark.parametrize(
    ("kind", "event"),
    [
        ("Complaint", DeliveryEvent.COMPLAINT),
        ("Delivery", DeliveryEvent.DELIVERED),
        ("Open", DeliveryEvent.OPENED),
        ("Click", DeliveryEvent.CLICKED),
        ("Send", DeliveryEvent.SENT),
        ("DeliveryDelay", DeliveryEvent.IGNORED),
    ],
)
def test_each_event_type_is_understood(kind: str, event: DeliveryEvent) -> None:
    assert parse_ses_notification(ses(kind)).event is event


def test_something_that_is_not_an_ses_event_is_refused() -> None:
    with pytest.raises(ValueError, match="messageId"):
        parse_ses_notification(json.dumps({"hello": "world"}))


def test_the_delivery_claim_travels_in_the_message_tags_ses_echoes() -> None:
    tags = {
        "invoice_number": ["INV-2026-000001"],
        "delivery": ["EMAIL-3e693cf7e5b67880"],
        "ses:from-domain": ["x"],
    }
    note = parse_ses_notification(ses("Delivery", mail={"messageId": "m-1", "tags": tags}))
    assert note.claim == ("INV-2026-000001", "EMAIL-3e693cf7e5b67880")
    assert parse_ses_notification(ses("Delivery")).claim is None
    garbled = parse_ses_notification(ses("Send", mail={"messageId": "m-2", "tags": {"invoice_number": "x"}}))
    assert garbled.claim is None and garbled.event is DeliveryEvent.SENT
