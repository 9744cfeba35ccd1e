import pytest

from invoicing.adapters.message_senders import PermanentSendError
from invoicing.domain.events import ChannelProblem
from invoicing.domain.order import Channel
from invoicing.domain.personal_data import MAX_TEXT, mask_email, mask_personal_data
from invoicing.domain.ses_notifications import parse_ses_notification


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "smtp; 550 5.1.1 <jane@example.com>: Recipient address rejected",
            "smtp; 550 5.1.1 <j***@example.com>: Recipient address rejected",
        ),
        (
            "550-5.1.1 jane.doe+invoices@mail.example.co.uk does not exist",
            "550-5.1.1 j***@mail.example.co.uk does not exist",
        ),
        ('"jane doe"@example.com, rfc822;zoe@example.com', "j***@example.com, rfc822;z***@example.com"),
        ("call +44 20 7946 0958 or (555) 123-4567", "call ***958 or ***567"),
        ("sms 07700900123, 555.123.4567, +48501234567.", "sms ***123, ***567, ***567."),
        ("5551234567@sms.example.com", "5***@sms.example.com"),
        # What makes a diagnostic useful stays: codes, a server's IPv4 address, times, short numbers.
        (
            "421 4.7.0 [TSS04] Messages from 54.240.8.12 deferred at 2026-11-22 12:00:01, try in 300 s",
            "421 4.7.0 [TSS04] Messages from 54.240.8.12 deferred at 2026-11-22 12:00:01, try in 300 s",
        ),
        ("452 4.2.2 mailbox full", "452 4.2.2 mailbox full"),
        ("message 0102018c-abcd1234ef5678 refused", "message 0102018c-abcd1234ef5678 refused"),
        ("", ""),
    ],
)
def test_addresses_and_phone_numbers_are_masked_and_smtp_codes_kept(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked
    assert mask_personal_data(masked) == masked  # masking twice changes nothing


def test_overlong_text_is_cut_without_leaving_the_head_of_a_split_number() -> None:
    text = "x" * (MAX_TEXT - 6) + " +44 20 7946 0958"
    masked = mask_personal_data(text)
    assert len(masked) <= MAX_TEXT and masked.endswith("x…") and "44" not in masked


def test_mask_email_keeps_its_old_shape() -> None:
    assert mask_email("zoe@example.com") == "z***@example.com"
    assert (mask_email(""), mask_email(None), mask_email("nobody")) == (None, None, "***")


def test_a_bounce_notification_carries_a_masked_reason_but_the_real_recipient() -> None:
    note = parse_ses_notification(
        '{"eventType": "Bounce", "mail": {"messageId": "m-1"}, "bounce": {"bounceType": "Permanent",'
        ' "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": "jane@example.com",'
        ' "diagnosticCode": "smtp; 550 5.1.1 <jane@example.com>: no such user, tel. 020 7946 0958"}]}}'
    )
    assert note.recipients == ["jane@example.com"]  # needed to suppress the address
    assert note.reason == "Permanent/General: smtp; 550 5.1.1 <j***@example.com>: no such user, tel. ***958"


def test_provider_refusals_and_announced_problems_are_masked_whoever_writes_them() -> None:
    refusal = PermanentSendError(
        "MessageRejected",
        "Email address is not verified. The following identities failed the check: jane@example.com",
    )
    assert str(refusal).endswith("failed the check: j***@example.com")
    problem = ChannelProblem(channel=Channel.SMS, reason="refused: +48 501 234 567 opted out")
    assert problem.reason == "refused: ***567 opted out"
