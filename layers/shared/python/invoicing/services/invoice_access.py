"""Opening an invoice from an emailed or texted link.

The token is the credential: it must verify with the keyring, be unexpired, name this invoice,
and name the invoice's own customer or vendor. Every refusal looks the same to the caller.
A good token is answered with a fresh presigned URL of the exact stored version, and the
download is recorded as a delivery confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from invoicing.adapters.document_links import DocumentLinks
from invoicing.adapters.invoice_ledger import InvoiceLedger
from invoicing.adapters.link_keys import LinkKeySource
from invoicing.domain.invoice import InvoiceStatus
from invoicing.domain.links import InvalidLinkToken, verify_link
from invoicing.observability import logger


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
        try:
            claims = verify_link(self._keys.keyring(), token, invoice_number, now)
        except InvalidLinkToken:
            logger.info("download refused: token", invoice_number=invoice_number[:32])
            raise AccessDenied from None
        record = self._ledger.get_invoice(invoice_number)
        owners = {record.customer_id, record.vendor_id} - {None} if record else set()
        if record is None or record.status is not InvoiceStatus.ISSUED or claims.party_id not in owners:
            logger.info("download refused: invoice", invoice_number=invoice_number)
            raise AccessDenied
        if record.s3_key is None:
            raise AccessDenied
        self._record_download(invoice_number, claims.party_id, now)
        return self._links.presigned_pdf(record.s3_key, record.s3_version_id, f"{invoice_number}.pdf")
