"""Payment events in: the webhook's HMAC-SHA256 signature (genuine, fresh, rotated secrets) and the
event shape both doors deliver, checked on the samples in events/payments/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from invoicing.domain.payment_events import PaymentEvent, PaymentEventKind
from invoicing.domain.webhook_signatures import SIGNATURE_HEADER, InvalidSignature, sign, verify

SAMPLES = Path(__file__).parents[2] / "events" / "payments"
SECRET = b"whsec_local_test_only"
SIGNED_AT = datetime.fromtimestamp(1795342500, UTC)


def sample(name: str) -> tuple[str, bytes]:
    webhook = json.loads((SAMPLES / f"webhook-{name}.json").read_text())
    return webhook["headers"][SIGNATURE_HEADER], webhook["body"].encode()


def test_every_sample_is_signed_with_the_test_secret_and_parses_on_both_doors() -> None:
    kinds = set()
    for path in sorted(SAMPLES.glob("webhook-*.json")):
        name = path.name.removeprefix("webhook-").removesuffix(".json")
        header, body = sample(name)
        assert verify(header, body, [SECRET], SIGNED_AT) == 1795342500
        event = PaymentEvent.model_validate_json(body)
        bus = json.loads((SAMPLES / f"eventbridge-{name}.json").read_text())
        assert PaymentEvent.model_validate(bus["detail"]) == event
        assert (bus["source"], bus["detail-type"]) == ("saypro.payments", "PaymentEvent")
        kinds.add(event.kind)
    assert kinds == set(PaymentEventKind)  # a sample of each kind


def test_a_forged_tampered_stale_future_or_malformed_request_is_refused() -> None:
    header, body = sample("succeeded")
    with pytest.raises(InvalidSignature, match="no v1 signature matches"):
        verify(header, body, [b"another secret"], SIGNED_AT)
    with pytest.raises(InvalidSignature, match="no v1 signature matches"):
        verify(header, body.replace(b"52.73", b"5273.00"), [SECRET], SIGNED_AT)
    with pytest.raises(InvalidSignature, match="outside"):
        verify(header, body, [SECRET], SIGNED_AT + timedelta(minutes=5, seconds=1))
    with pytest.raises(InvalidSignature, match="outside"):
        verify(header, body, [SECRET], SIGNED_AT - timedelta(minutes=6))
    assert verify(header, body, [SECRET], SIGNED_AT + timedelta(minutes=5)) == 1795342500
    for bad in (None, "", "t=1795342500", "v1=" + "0" * 64, "t=abc,v1=" + "0" * 64, "x" * 2000):
        with pytest.raises(InvalidSignature):
            verify(bad, body, [SECRET], SIGNED_AT)
    with pytest.raises(InvalidSignature, match="no secret"):
        verify(header, body, [], SIGNED_AT)


def test_a_rotation_accepts_either_secret_and_any_of_several_signatures() -> None:
    body = b'{"event_id":"evt_1"}'
    old, new = b"old secret", b"new secret"
    header = sign(new, 1795342500, body)
    assert verify(header, body, [old, new], SIGNED_AT) == 1795342500
    both = f"{sign(old, 1795342500, body)},{header.split(',')[1]}"
    assert verify(both, body, [new], SIGNED_AT) == 1795342500
    assert verify(both, body, [old], SIGNED_AT) == 1795342500


def test_an_amount_with_more_decimals_than_its_currency_parses_but_is_never_taken_as_money() -> None:
    _, body = sample("unmatched-too-many-decimals")
    event = PaymentEvent.model_validate_json(body)
    assert event.amount == "52.735"
    with pytest.raises(ValueError, match="more decimals than EUR"):
        event.money()
    succeeded = PaymentEvent.model_validate_json(sample("succeeded")[1])
    assert str(succeeded.money()) == "52.73"
    for field, value in (
        ("amount", "-1.00"),
        ("amount", "1e3"),
        ("currency", "XXY"),
        ("kind", "payment.maybe"),
    ):
        data = {**json.loads(sample("succeeded")[1]), field: value}
        with pytest.raises(ValidationError):
            PaymentEvent.model_validate(data)
    with pytest.raises(ValidationError):
        PaymentEvent.model_validate({**json.loads(sample("succeeded")[1]), "surprise": 1})
