"""What embedded AWS "sent": SES raw emails and SNS texts, read back from moto's backends.

The local stack runs moto's server in this process, so its backends are right here.
`write_sent_messages` puts them where a person can open them: each email as the raw MIME SES was
given (`emails/<invoice>-<n>.eml`, any mail client opens it, the PDF attached) and each text as
`texts/<invoice>-<n>.txt`, n counting the sends of that invoice in the order they happened.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from infra.local.runtime import ACCOUNT_ID, REGION
from invoicing.messages.sms import sms_segments

_INVOICE_IN_LINK = re.compile(r"/download/([A-Za-z0-9-]+)\?")


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    recipients: list[str]
    subject: str
    attachment_name: str | None
    attachment_sha256: str | None
    attachment_size: int
    message: EmailMessage
    raw: bytes
    """The MIME message exactly as SES received it."""

    @property
    def invoice_number(self) -> str:
        """The invoice it carries (its PDF is named after it), else the SES message id."""
        if self.attachment_name and self.attachment_name.lower().endswith(".pdf"):
            return self.attachment_name[: -len(".pdf")]
        return self.message_id


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
            # A long subject is folded onto the next line, which parses with a leading space.
            subject=" ".join(str(message["Subject"]).split()),
            attachment_name=attachment.get_filename() if attachment is not None else None,
            attachment_sha256=hashlib.sha256(content).hexdigest() if attachment is not None else None,
            attachment_size=len(content),
            message=message,
            raw=data,
        )
    return emails


def sent_texts() -> dict[str, tuple[str, str]]:
    """message id -> (phone number, text)."""
    from moto.sns.models import sns_backends

    return dict(sns_backends[ACCOUNT_ID][REGION].sms_messages)


def write_sent_messages(out_dir: Path) -> dict[str, Path]:
    """Every email and text sent so far, as files under out_dir; message id -> the file written.

    Names follow the send order, so calling it again rewrites the same files and adds the new ones.
    """
    written: dict[str, Path] = {}
    emails_dir, texts_dir = out_dir / "emails", out_dir / "texts"
    sends: Counter[str] = Counter()
    for message_id, email in sent_emails().items():
        sends[email.invoice_number] += 1
        path = emails_dir / f"{email.invoice_number}-{sends[email.invoice_number]}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(email.raw)
        written[message_id] = path
    sends.clear()
    for message_id, (phone, text) in sent_texts().items():
        match = _INVOICE_IN_LINK.search(text)
        number = match.group(1) if match else message_id
        sends[number] += 1
        path = texts_dir / f"{number}-{sends[number]}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        cost = sms_segments(text)
        path.write_text(
            f"To: {phone}\nSegments: {cost.segments} ({cost.encoding}, {cost.units} characters)\n\n{text}\n",
            encoding="utf-8",
        )
        written[message_id] = path
    return written


def clear_previous_run(out_dir: Path, folders: tuple[str, ...] = ("emails", "texts")) -> None:
    """Remove the files a previous run wrote there, so what is found is this run's."""
    for folder in folders:
        for path in (out_dir / folder).glob("*"):
            if path.is_file() and path.suffix in {".eml", ".txt", ".pdf", ".json"}:
                path.unlink()
