"""Opening an invoice from an emailed or texted link.

The token is the credential: it must verify with the keyring, be unexpired, and be signed for
this invoice and the invoice's own party (its customer for a customer invoice, its vendor for a
vendor invoice, read from the record: a v2 token does not carry it). Every refusal looks the same
to the caller. A token not even shaped like one of ours is refused before the record is read.
A good token is answered with a fresh presigned URL of the exact stored version, and the
download is recorded as a delivery confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from invoicing.adapters.document_links import DocumentLinks
from invoicing.adapters.invoice_ledger import InvoiceLedger, InvoiceRecord
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.adapters.report_store import operations_key, reconciliation_key
from invoicing.adapters.vendor_accounts import VendorAccounts
from invoicing.domain.invoice import InvoiceStatus
from invoicing.domain.links import InvalidLinkToken, check_link_shape, verify_link
from invoicing.observability import logger
from invoicing.services.download_links import FINANCE, OPERATIONS, report_subject

# What `domain/numbering.py` issues (INV-2026-000042), bounded: anything else in the path is
# refused before a read (a DynamoDB key over 2 KB would be an error, not a miss).
_INVOICE_NUMBER = re.compile(r"[A-Z]{2,8}-[0-9]{4}-[0-9]{6,12}")


class AccessDenied(Exception):
    """The caller learns nothing more than this."""


class InvoiceAccess:
    def __init__(
        self,
        *,
        ledger: InvoiceLedger,
        keys: LinkKeySource,
        links: DocumentLinks,
        record_download: Callable[[str, str, datetime], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._keys = keys
        self._links = links
        self._record_download = record_download
        self._clock = clock

    def open_with_token(self, invoice_number: str, token: str) -> str:
        now = self._clock()
        keyring = self._keys.keyring()
        try:
            check_link_shape(keyring, token)
            if not isinstance(invoice_number, str) or not _INVOICE_NUMBER.fullmatch(invoice_number):
                raise InvalidLinkToken
        except InvalidLinkToken:
            logger.info("download refused: token", invoice_number=invoice_number[:32])
            raise AccessDenied from None
        record = self._ledger.get_invoice(invoice_number)
        party = owner(record) if record is not None else None
        if record is None or record.status is not InvoiceStatus.ISSUED or party is None:
            logger.info("download refused: invoice", invoice_number=invoice_number[:32])
            raise AccessDenied
        try:
            claims = verify_link(keyring, token, invoice_number, now, party_id=party)
        except InvalidLinkToken:
            logger.info("download refused: token", invoice_number=invoice_number[:32])
            raise AccessDenied from None
        # The newest rendition (the same document, and what has been paid), else the PDF as issued.
        key, version = (
            (record.rendition_key, None) if record.rendition_key else (record.s3_key, record.s3_version_id)
        )
        if key is None:
            raise AccessDenied
        self._record_download(invoice_number, claims.party_id, now)
        return self._links.presigned_pdf(key, version, f"{invoice_number}.pdf")


_STATEMENT_ID = re.compile(r"STMT-[0-9]{4}-[0-9]{2}-[A-Z]{3}-[A-Za-z0-9_-]{1,64}")
_REPORT_ID = re.compile(r"RECON-[0-9]{4}-[0-9]{2}-[0-9]{2}")
REPORT_FILES = {"findings.csv": "text/csv", "ageing.csv": "text/csv"}
_OPERATIONS_REPORT_ID = re.compile(
    r"OPS-[0-9]{4}-(W[0-9]{2}|Q[1-4]|[0-9]{2}|[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{4}-[0-9]{2}-[0-9]{2})"
)
OPERATIONS_REPORT_FILES = {
    "report.pdf": "application/pdf",
    "figures.csv": "text/csv",
    "daily.csv": "text/csv",
}


def open_report(
    keys: LinkKeySource,
    links: DocumentLinks,
    *,
    report_id: str,
    file_name: str,
    token: str,
    now: datetime,
) -> str:
    """A report's file from its signed link, else AccessDenied: a reconciliation report's
    (finance's) or an operations report's (operations and finance's)."""
    keyring = keys.keyring()
    operations = bool(_OPERATIONS_REPORT_ID.fullmatch(report_id))
    files = OPERATIONS_REPORT_FILES if operations else REPORT_FILES
    try:
        check_link_shape(keyring, token)
        if not (operations or _REPORT_ID.fullmatch(report_id)) or file_name not in files:
            raise InvalidLinkToken
        party = OPERATIONS if operations else FINANCE
        verify_link(keyring, token, report_subject(report_id, file_name), now, party_id=party)
    except InvalidLinkToken:
        logger.info("report download refused", report_id=report_id[:32])
        raise AccessDenied from None
    key = operations_key(report_id, file_name) if operations else reconciliation_key(report_id, file_name)
    return links.presigned_file(key, file_name, files[file_name])


def open_statement(
    keys: LinkKeySource,
    links: DocumentLinks,
    statements: VendorAccounts,
    *,
    statement_id: str,
    token: str,
    now: datetime,
) -> str:
    """A vendor statement's PDF from its signed link (its vendor's), else AccessDenied."""
    keyring = keys.keyring()
    try:
        check_link_shape(keyring, token)
        if not _STATEMENT_ID.fullmatch(statement_id):
            raise InvalidLinkToken
        record = statements.statement(statement_id)
        if record is None:
            raise InvalidLinkToken
        verify_link(keyring, token, statement_id, now, party_id=record.vendor_id)
    except InvalidLinkToken:
        logger.info("statement download refused", statement_id=statement_id[:48])
        raise AccessDenied from None
    return links.presigned_file(record.s3_key, f"{statement_id}.pdf", "application/pdf")


def owner(record: InvoiceRecord) -> str | None:
    """The one party a link to this invoice is for: its customer, or its vendor."""
    return record.vendor_id if record.kind.is_vendors else record.customer_id
