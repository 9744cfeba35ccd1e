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


def trusted_certificate_url(url: str, partition: str = "aws") -> bool:
    parts = urlsplit(url)
    domain = re.escape(PARTITION_DOMAINS.get(partition, "amazonaws.com"))
    return (
        parts.scheme == "https"
        and parts.port in {None, 443}
        and not parts.username
        and re.fullmatch(rf"sns\.[a-z0-9-]+\.{domain}", parts.hostname or "") is not None
        and parts.path.endswith(".pem")
    )


def verify_sns_message(
    message: Mapping[str, Any],
    *,
    fetch_certificate: CertificateFetcher,
    allowed_topics: Collection[str],
    partition: str = "aws",
) -> None:
    """Raises UntrustedMessage unless the message is authentic and from one of `allowed_topics`."""
    if message.get("TopicArn") not in allowed_topics:
        raise UntrustedMessage("not one of our topics")
    hash_factory = _HASHES.get(str(message.get("SignatureVersion")))
    if hash_factory is None:
        raise UntrustedMessage("unsupported signature version")
    url = str(message.get("SigningCertURL", ""))
    if not trusted_certificate_url(url, partition):
        raise UntrustedMessage("certificate URL is not an SNS host")
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
