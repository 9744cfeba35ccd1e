"""What embedded AWS "sent": SES raw emails and SNS texts, read back from moto's backends.

The local stack runs moto's server in this process, so its backends are right here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses

from infra.local.runtime import ACCOUNT_ID, REGION


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    recipients: list[str]
    subject: str
    attachment_name: str | None
    attachment_sha256: str | None
    attachment_size: int
    message: EmailMessage


def sent_emails() -> dict[str, SentEmail]:
    from moto.ses.models import ses_backends

    emails: dict[str, SentEmail] = {}
    for raw in ses_backends[ACCOUNT_ID][REGION].sent_messages:
        data = raw.raw_data.encode() if isinstance(raw.raw_data, str) else raw.raw_data
        message = message_from_bytes(data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        attachment = next(message.iter_attachments(), None)
        content = attachment.get_content() if attachment is not None else b""
        emails[raw.id] = SentEmail(
            message_id=raw.id,
            recipients=sorted({address for _, address in getaddresses(raw.destinations)}),
            subject=str(message["Subject"]),
            attachment_name=attachment.get_filename() if attachment is not None else None,
            attachment_sha256=hashlib.sha256(content).hexdigest() if attachment is not None else None,
            attachment_size=len(content),
            message=message,
        )
    return emails


def sent_texts() -> dict[str, tuple[str, str]]:
    """message id -> (phone number, text)."""
    from moto.sns.models import sns_backends

    return dict(sns_backends[ACCOUNT_ID][REGION].sms_messages)
