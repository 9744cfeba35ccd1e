"""Plays SNS for the local stack: wraps SES events in SNS messages signed as SNS signs them.

A throwaway RSA key and self-signed certificate are made per run. The certificate is "published"
at an SNS-looking SigningCertURL by preloading it into the webhook's certificate cache (nothing
is fetched from the internet); the webhook then verifies the signature for real.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from invoicing.domain.sns_messages import string_to_sign

# The shape SNS uses (a 32-hex name on the region's endpoint), pinned in the webhook's cache locally.
CERTIFICATE_URL = (
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-10ca1000000000000000000000000000.pem"
)


def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class LocalSns:
    topic_arn: str
    key: rsa.RSAPrivateKey
    certificate_pem: bytes
    certificate_url: str = CERTIFICATE_URL

    @classmethod
    def create(cls, topic_arn: str) -> LocalSns:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(topic_arn=topic_arn, key=key, certificate_pem=_certificate(key))

    def sign(self, message: dict[str, Any], version: str = "2") -> dict[str, Any]:
        message = {**message, "SignatureVersion": version, "SigningCertURL": self.certificate_url}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 (SNS's version 1)
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        return {**message, "Signature": base64.b64encode(signature).decode()}

    def notification(self, ses_event: dict[str, Any], version: str = "2") -> dict[str, Any]:
        """An SES event as SNS delivers it to an HTTPS subscriber."""
        return self.sign(
            {
                "Type": "Notification",
                "MessageId": str(uuid.uuid4()),
                "TopicArn": self.topic_arn,
                "Subject": "Amazon SES Email Event Notification",
                "Message": json.dumps(ses_event),
                "Timestamp": _now(),
                "UnsubscribeURL": f"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={self.topic_arn}:local",
            },
            version,
        )

    def subscription_confirmation(self, token: str, version: str = "2") -> dict[str, Any]:
        return self.sign(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": str(uuid.uuid4()),
                "Token": token,
                "TopicArn": self.topic_arn,
                "Message": f"You have chosen to subscribe to the topic {self.topic_arn}.",
                "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"
                f"&TopicArn={self.topic_arn}&Token={token}",
                "Timestamp": _now(),
            },
            version,
        )


def ses_bounce(
    message_id: str, recipient: str, *, permanent: bool = True, tags: dict[str, str] | None = None
) -> dict[str, Any]:
    """What SES publishes for a bounce, e.g. to bounce@simulator.amazonses.com (hard) or a full mailbox."""
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent" if permanent else "Transient",
            "bounceSubType": "General" if permanent else "MailboxFull",
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "action": "failed",
                    "status": "5.1.1" if permanent else "4.2.2",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown"
                    if permanent
                    else "smtp; 452 4.2.2 mailbox full",
                }
            ],
            "timestamp": _now(),
            "feedbackId": f"{uuid.uuid4()}-000000",
            "reportingMTA": "dns; email.example.com",
        },
        "mail": _mail(message_id, recipient, tags),
    }


def ses_delivery(message_id: str, recipient: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "eventType": "Delivery",
        "delivery": {
            "timestamp": _now(),
            "processingTimeMillis": 546,
            "recipients": [recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        },
        "mail": _mail(message_id, recipient, tags),
    }


def ses_complaint(message_id: str, recipient: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "eventType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": _now(),
            "feedbackId": f"{uuid.uuid4()}-000000",
            "complaintFeedbackType": "abuse",
        },
        "mail": _mail(message_id, recipient, tags),
    }


def ses_open(message_id: str, recipient: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "eventType": "Open",
        "open": {"timestamp": _now(), "userAgent": "Mozilla/5.0", "ipAddress": "192.0.2.1"},
        "mail": _mail(message_id, recipient, tags),
    }


def ses_send(message_id: str, recipient: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """SES's Send event: it accepted the message (the configuration set publishes it first)."""
    return {"eventType": "Send", "send": {}, "mail": _mail(message_id, recipient, tags)}


def _mail(message_id: str, recipient: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """`tags`: the message tags the email was sent with, echoed by SES as lists of values."""
    return {
        "timestamp": _now(),
        "source": "invoices@saypro.example",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": [recipient],
        "tags": {
            "ses:configuration-set": ["saypro-local-invoices"],
            **{name: [value] for name, value in (tags or {}).items()},
        },
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
