"""A vendor's statement to the vendor: one email with the PDF attached, once per statement.

The PDF is the one stored (checked against the SHA-256 the statement was recorded with); the
vendor's address is the Vendors table's now. Claimed before it is sent (adapters/reminder_log.py),
so a redelivered announcement never sends a second email.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from invoicing.adapters.message_senders import PermanentSendError, SesEmailSender, TransientSendError
from invoicing.adapters.reminder_log import ReminderLog
from invoicing.adapters.report_store import ReportStore
from invoicing.domain.documents import DocumentIntegrityError
from invoicing.domain.events import DetailType, VendorStatementIssued, VendorStatementSent
from invoicing.domain.invoice import Seller
from invoicing.domain.vendors import Vendor
from invoicing.messages.compose import compose_vendor_statement_email
from invoicing.observability import logger, mask_email
from invoicing.rendering.presentation import format_date

STATEMENT_SENT = "statement"


class StatementDelivery(BaseModel):
    model_config = ConfigDict(frozen=True)

    statement_id: str
    outcome: str
    """SENT, ALREADY_SENT, REFUSED or NO_VENDOR."""
    message_id: str | None = None


class StatementSender:
    def __init__(
        self,
        *,
        notices: ReminderLog,
        reports: ReportStore,
        email: SesEmailSender,
        load_vendor: Callable[[str], Vendor | None],
        seller: Seller,
        sender_address: str,
        statement_link: Callable[[str, str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._notices = notices
        self._reports = reports
        self._email = email
        self._load_vendor = load_vendor
        self._seller = seller
        self._sender = sender_address
        self._statement_link = statement_link
        self._clock = clock

    def send(self, issued: VendorStatementIssued) -> StatementDelivery:
        vendor = self._load_vendor(issued.vendor_id)
        if vendor is None:
            logger.warning("statement not sent: vendor unknown", statement_id=issued.statement_id)
            return StatementDelivery(statement_id=issued.statement_id, outcome="NO_VENDOR")
        pdf = self._reports.get(issued.s3_key)
        if pdf is None or hashlib.sha256(pdf).hexdigest() != issued.sha256:
            raise DocumentIntegrityError(f"{issued.s3_key} is not the statement recorded")
        now = self._clock()
        if not self._notices.claim(issued.statement_id, STATEMENT_SENT, "email", now):
            return StatementDelivery(statement_id=issued.statement_id, outcome="ALREADY_SENT")
        start, end = date.fromisoformat(issued.period_start), date.fromisoformat(issued.period_end)
        period = f"{format_date(start)} to {format_date(end)}"
        message = compose_vendor_statement_email(
            vendor,
            self._seller,
            pdf,
            statement_id=issued.statement_id,
            period=period,
            currency=issued.currency,
            opening=Decimal(issued.opening_balance),
            closing=Decimal(issued.closing_balance),
            sender=self._sender,
            download_url=self._statement_link(issued.statement_id, issued.vendor_id),
        )
        try:
            message_id = self._email.send(message, vendor.email, {"purpose": "vendor-statement"})
        except PermanentSendError as refused:
            self._notices.mark_failed(issued.statement_id, STATEMENT_SENT, str(refused), now)
            logger.warning("statement refused", statement_id=issued.statement_id, code=refused.code)
            return StatementDelivery(statement_id=issued.statement_id, outcome="REFUSED")
        except TransientSendError:
            self._notices.release(issued.statement_id, STATEMENT_SENT)
            raise
        sent_at = self._clock()
        self._notices.mark_notice_sent(
            issued.statement_id,
            STATEMENT_SENT,
            message_id,
            sent_at,
            DetailType.VENDOR_STATEMENT_SENT,
            VendorStatementSent(
                statement_id=issued.statement_id,
                vendor_id=issued.vendor_id,
                provider_message_id=message_id,
                sent_at=sent_at,
            ),
            [f"vendor/{issued.vendor_id}", f"statement/{issued.statement_id}"],
        )
        logger.info("statement sent", statement_id=issued.statement_id, recipient=mask_email(vendor.email))
        return StatementDelivery(statement_id=issued.statement_id, outcome="SENT", message_id=message_id)
