from typing import Any

import pytest

from invoicing.domain.contact import email_problem
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


def test_an_internationalized_domain_is_sent_to_in_its_ascii_form() -> None:
    choice = choose_channel(customer(email="zoe@Bücher.de"))
    assert (choice.channel, choice.recipient) == (Channel.EMAIL, "zoe@xn--bcher-kva.de")


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("zoë@example.com", "non-ASCII characters before the @"),
        ("注文@例え.テスト", "non-ASCII characters before the @"),
        ("zoe@" + "a" * 64 + ".de", "not a valid internet domain name"),
        ("zoe@exa..mple.com", "not a valid internet domain name"),
        ("zoe\x00@example.com", "not valid"),
    ],
)
def test_an_address_no_provider_can_send_to_passes_the_channel_over_with_its_reason(
    email: str, reason: str
) -> None:
    """These used to pass validation and make composing the email raise in the dispatcher."""
    choice = choose_channel(customer(email=email))
    assert choice.channel is Channel.SMS
    assert choice.passed_over[0].channel is Channel.EMAIL
    assert reason in choice.passed_over[0].reason


def test_a_suppressed_idn_address_is_recognised_in_its_ascii_form() -> None:
    choice = choose_channel(customer(email="zoe@bücher.de"), suppressed={"zoe@xn--bcher-kva.de"})
    assert choice.channel is Channel.SMS
    assert "suppressed" in choice.passed_over[0].reason


def test_an_address_longer_than_a_mail_server_takes_is_not_valid() -> None:
    assert email_problem("z" * 243 + "@example.com") == "the email address is not valid"
    assert email_problem("z" * 242 + "@example.com") is None
