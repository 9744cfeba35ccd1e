from typing import Any

from invoicing.domain.delivery import choose_channel
from invoicing.domain.order import Channel, Customer
from tests.conftest import make_order


def customer(**overrides: Any) -> Customer:
    data = make_order()["customer"]
    data.update(overrides)
    return Customer.model_validate(data)


def test_the_preferred_channel_is_used_when_it_works() -> None:
    choice = choose_channel(customer(preferred_channels=["sms", "email"]))
    assert (choice.channel, choice.recipient, choice.passed_over) == (Channel.SMS, "+48501234567", [])


def test_an_impossible_preference_falls_back_and_says_why() -> None:
    choice = choose_channel(customer(preferred_channels=["sms"], phone="0501 234 567"))
    assert choice.channel is Channel.EMAIL
    assert [(p.channel, p.reason) for p in choice.passed_over] == [
        (Channel.SMS, "the phone number is not in E.164 form")
    ]


def test_portal_only_customers_are_sent_nothing() -> None:
    choice = choose_channel(customer(preferred_channels=["portal"]))
    assert choice.channel is Channel.PORTAL
    assert choice.recipient is None


def test_a_bounced_address_moves_the_invoice_to_the_next_channel() -> None:
    choice = choose_channel(customer(), exclude=[Channel.EMAIL])
    assert choice.channel is Channel.SMS
    suppressed = choose_channel(customer(), suppressed={"zoe@example.com"})
    assert suppressed.channel is Channel.SMS
    assert "suppressed" in suppressed.passed_over[0].reason


def test_no_usable_channel_makes_the_invoice_undeliverable() -> None:
    choice = choose_channel(customer(email=None, phone=None))
    assert choice.undeliverable
    assert {p.channel for p in choice.passed_over} == {Channel.EMAIL, Channel.SMS}
