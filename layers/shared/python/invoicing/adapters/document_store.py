"""Invoice files in S3: the document (JSON) and its PDF, side by side under a stable key.

    invoices/<kind>/<year>/<number>.json   the document of record (what everything is derived from)
    invoices/<kind>/<year>/<number>.pdf    its rendition

Both get the same protection: the bucket's KMS key, versioning, the lifecycle and (in prod)
Object Lock retention. A retry overwrites the same key, never adds another.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote

import boto3
from pydantic import BaseModel, ConfigDict

from invoicing.domain.documents import DocumentIntegrityError
from invoicing.domain.invoice import InvoiceKind
from invoicing.domain.numbering import InvoiceNumber

PDF_PREFIX = "invoices/"


class StoredDocument(BaseModel):
    """Where one file of an invoice is, and the SHA-256 of its bytes."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    version_id: str | None
    sha256: str
    size: int


def invoice_key(number: str, kind: InvoiceKind = InvoiceKind.CUSTOMER, extension: str = "pdf") -> str:
    """invoices/customer/2026/INV-2026-000042.pdf: stable, so a retry overwrites, never adds."""
    year = InvoiceNumber.parse(number).year
    return f"{PDF_PREFIX}{kind.value.lower()}/{year}/{number}.{extension}"


class DocumentStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self._bucket = bucket
        self._client = client or boto3.client("s3")

    @property
    def bucket(self) -> str:
        return self._bucket

    def put_invoice_pdf(
        self, number: str, order_id: str, pdf: bytes, kind: InvoiceKind = InvoiceKind.CUSTOMER
    ) -> StoredDocument:
        return self._put(
            invoice_key(number, kind),
            pdf,
            number,
            order_id,
            kind,
            content_type="application/pdf",
            disposition=f'inline; filename="{number}.pdf"',
        )

    def put_invoice_document(
        self, number: str, order_id: str, document: bytes, kind: InvoiceKind = InvoiceKind.CUSTOMER
    ) -> StoredDocument:
        return self._put(
            invoice_key(number, kind, "json"),
            document,
            number,
            order_id,
            kind,
            content_type="application/json",
            disposition=f'attachment; filename="{number}.json"',
        )

    def _put(
        self,
        key: str,
        body: bytes,
        number: str,
        order_id: str,
        kind: InvoiceKind,
        *,
        content_type: str,
        disposition: str,
    ) -> StoredDocument:
        digest = hashlib.sha256(body)
        response = self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ContentDisposition=disposition,
            # S3 verifies the upload against this checksum and rejects a corrupted body.
            ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
            Metadata={
                "invoice-number": number,
                # S3 metadata is ASCII: an id in any script travels percent-encoded (RFC 3986).
                "order-id": quote(order_id, safe=""),
                "sha256": digest.hexdigest(),
                "kind": kind.value,
            },
        )
        return StoredDocument(
            bucket=self._bucket,
            key=key,
            version_id=response.get("VersionId"),
            sha256=digest.hexdigest(),
            size=len(body),
        )

    def get_pdf(self, key: str, version_id: str | None = None) -> bytes:
        extra = {"VersionId": version_id} if version_id else {}
        body: bytes = self._client.get_object(Bucket=self._bucket, Key=key, **extra)["Body"].read()
        return body

    def get_verified(self, key: str, version_id: str | None, sha256: str) -> bytes:
        """The exact stored bytes, refused unless they hash to what was recorded at issue."""
        body = self.get_pdf(key, version_id)
        if hashlib.sha256(body).hexdigest() != sha256:
            raise DocumentIntegrityError(f"{key} does not match its recorded SHA-256")
        return body
