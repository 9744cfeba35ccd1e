"""SNS signature verification, for real: a test CA-less certificate and key made here, offline."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from invoicing.domain.sns_messages import (
    UntrustedMessage,
    string_to_sign,
    trusted_certificate_url,
    verify_sns_message,
)

TOPIC = "arn:aws:sns:eu-west-1:123456789012:saypro-invoicing-prod-ses-events"
CERT_URL = (
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem"
)


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


KEY, CERT = _key_and_cert()
OTHER_KEY, _ = _key_and_cert()


def signed(message: dict[str, Any], version: str = "1", key: rsa.RSAPrivateKey = KEY) -> dict[str, Any]:
    message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
    return {**message, "Signature": base64.b64encode(signature).decode()}


def notification(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": '{"notificationType":"Bounce","mail":{"messageId":"0100018c-abc"}}',
        "Timestamp": "2026-11-22T12:00:00.000Z",
        **extra,
    }


def verify(message: dict[str, Any]) -> None:
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return CERT

    verify_sns_message(message, fetch_certificate=fetch, allowed_topics={TOPIC})


@pytest.mark.parametrize("version", ["1", "2"])
def test_signature_versions_one_and_two_verify(version: str) -> None:
    verify(signed(notification(), version))
    verify(signed(notification(Subject="Amazon SES Email Event Notification"), version))


def test_subscription_confirmations_sign_their_own_fields() -> None:
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e2425",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic...",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336",
        "Timestamp": "2026-11-22T12:00:00.000Z",
    }
    verify(signed(confirmation, "2"))
    assert b"SubscribeURL\n" in string_to_sign(confirmation) and b"Subject" not in string_to_sign(
        confirmation
    )


def test_a_tampered_message_is_refused() -> None:
    message = signed(notification())
    message["Message"] = message["Message"].replace("Bounce", "Delivery")
    with pytest.raises(UntrustedMessage):
        verify(message)


def test_a_message_signed_by_another_key_is_refused() -> None:
    with pytest.raises(UntrustedMessage):
        verify(signed(notification(), "2", key=OTHER_KEY))


def test_another_topic_is_refused_even_when_validly_signed() -> None:
    with pytest.raises(UntrustedMessage, match="topics"):
        verify(signed(notification(TopicArn="arn:aws:sns:eu-west-1:999999999999:theirs")))


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem",
        "https://sns.eu-west-1.amazonaws.com@evil.example/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.txt",
        "https://sqs.eu-west-1.amazonaws.com/cert.pem",
        # Shaped like sns.<x>.amazonaws.com, but S3 virtual-hosted names (a bucket called "sns") and
        # other services: the review signed a forged bounce with a certificate served from one.
        "https://sns.s3.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        "https://sns.s3-eu-west-1.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        "https://sns.s3-external-1.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        "https://sns.s3-accelerate.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        "https://sns.execute-api.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        "https://sns.nonexistent-region-1.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        # Another real region than the topic's, a path that is not SNS's, a query string.
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        "https://sns.eu-west-1.amazonaws.com/other/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-7e57000000000000000000000000cafe.pem?x=1",
    ],
)
def test_certificates_come_only_from_the_topics_own_sns_endpoint(url: str) -> None:
    assert not trusted_certificate_url(url, TOPIC)
    message = signed(notification())
    message["SigningCertURL"] = url
    with pytest.raises(UntrustedMessage):
        verify(message)


def test_unsigned_and_unknown_version_messages_are_refused() -> None:
    unsigned = notification(SignatureVersion="1", SigningCertURL=CERT_URL)
    with pytest.raises(UntrustedMessage):
        verify(unsigned)
    with pytest.raises(UntrustedMessage, match="version"):
        verify({**signed(notification()), "SignatureVersion": "3"})
    assert trusted_certificate_url(CERT_URL, TOPIC)
    assert trusted_certificate_url(CERT_URL.replace(".amazonaws.com/", ".amazonaws.com:443/"), TOPIC)
    china = "arn:aws-cn:sns:cn-north-1:123456789012:topic"
    assert trusted_certificate_url(
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-7e57000000000000000000000000cafe.pem",
        china,
    )


def test_the_string_to_sign_is_exactly_what_aws_signs() -> None:
    # AWS docs: each field name and value on its own line, in this order, Subject only if present.
    assert string_to_sign(notification(Subject="S")) == (
        b"Message\n"
        b'{"notificationType":"Bounce","mail":{"messageId":"0100018c-abc"}}\n'
        b"MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
        b"Subject\nS\n"
        b"Timestamp\n2026-11-22T12:00:00.000Z\n"
        b"TopicArn\narn:aws:sns:eu-west-1:123456789012:saypro-invoicing-prod-ses-events\n"
        b"Type\nNotification\n"
    )
