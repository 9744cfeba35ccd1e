"""Is this SNS message really from one of our topics? (SES bounce/complaint webhooks, issue 4)

Verification follows AWS's documented procedure: the certificate must come from an HTTPS URL on
an SNS host of the expected partition, the string to sign is built from exactly the fields of the
message type in their fixed order, and the RSA signature is PKCS#1 v1.5 over SHA-1
(SignatureVersion 1) or SHA-256 (SignatureVersion 2). The topic must be one of ours. Anything
else is rejected without detail. The cryptography is the `cryptography` package's.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
PARTITION_DOMAINS = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}

CertificateFetcher = Callable[[str], bytes]
"""SigningCertURL -> PEM bytes (cached by the adapter)."""


class UntrustedMessage(Exception):
    """Forged, tampered, unsigned, from another topic or signed by a certificate we do not trust."""


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    fields = _SIGNED_FIELDS.get(str(message.get("Type")))
    if fields is None:
        raise UntrustedMessage("unknown message type")
    lines = []
    for name in fields:
        if name == "Subject" and "Subject" not in message:
            continue  # only signed when present
        value = message.get(name)
        if not isinstance(value, str):
            raise UntrustedMessage(f"missing {name}")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode()


# A real region's shape: us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1, cn-north-1 ...
REGION_PATTERN = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
# What SNS signs with: /SimpleNotificationService-<32 hex>.pem on the region's SNS endpoint.
_CERTIFICATE_PATH = re.compile(r"/SimpleNotificationService-[0-9a-f]{32}\.pem")


def sns_endpoint(topic_arn: str) -> str | None:
    """The SNS host of the topic's own region and partition (sns.eu-west-1.amazonaws.com), or None
    for a string that is not a topic ARN of a known partition and real-looking region."""
    parts = topic_arn.split(":") if isinstance(topic_arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sns":
        return None
    partition, region = parts[1], parts[3]
    domain = PARTITION_DOMAINS.get(partition)
    if domain is None or REGION_PATTERN.fullmatch(region) is None:
        return None
    return f"sns.{region}.{domain}"


def trusted_certificate_url(url: str, topic_arn: str) -> bool:
    """HTTPS on port 443 of exactly the topic's own regional SNS endpoint, SNS's certificate path,
    nothing else (no user info, query or fragment). `sns.<anything>.amazonaws.com` is not enough:
    S3's virtual-hosted names (a bucket called `sns`) and other services match that."""
    host = sns_endpoint(topic_arn)
    if host is None or not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.port in {None, 443}
        and not parts.username
        and not parts.password
        and not parts.query
        and not parts.fragment
        and parts.hostname == host
        and parts.netloc in {host, f"{host}:443"}
        and _CERTIFICATE_PATH.fullmatch(parts.path) is not None
    )


def verify_sns_message(
    message: Mapping[str, Any],
    *,
    fetch_certificate: CertificateFetcher,
    allowed_topics: Collection[str],
) -> None:
    """Raises UntrustedMessage unless the message is authentic and from one of `allowed_topics`."""
    topic = message.get("TopicArn")
    if not isinstance(topic, str) or topic not in allowed_topics:
        raise UntrustedMessage("not one of our topics")
    hash_factory = _HASHES.get(str(message.get("SignatureVersion")))
    if hash_factory is None:
        raise UntrustedMessage("unsupported signature version")
    url = message.get("SigningCertURL")
    if not isinstance(url, str) or not trusted_certificate_url(url, topic):
        raise UntrustedMessage("certificate URL is not the topic's SNS endpoint")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise UntrustedMessage("signature is not base64") from None
    try:
        certificate = x509.load_pem_x509_certificate(fetch_certificate(url))
    except ValueError:
        raise UntrustedMessage("certificate is not readable") from None
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise UntrustedMessage("certificate key is not RSA")
    try:
        public_key.verify(signature, string_to_sign(message), padding.PKCS1v15(), hash_factory())
    except InvalidSignature:
        raise UntrustedMessage("signature does not match") from None
